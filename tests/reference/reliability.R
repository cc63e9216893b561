# Reference values for toolkit.analysis.reliability (tests/test_reliability.py).
# Run: Rscript tests/reference/reliability.R  (writes reliability.json beside this file)
# psych::alpha (raw_alpha, std.alpha, ase, Feldt interval via psych::alpha.ci, item.stats r.drop,
# mean, sd, alpha.drop), psych::fa(fm = "ml") and stats::factanal for the one-factor model of omega.
# factanal is run with a tight optimiser tolerance (factr = 10) so that the uniquenesses are the
# converged maximum-likelihood estimates; psych::fa stops earlier (its default tolerance).
# The responses are synthetic (set.seed below) and are written to the JSON with the results.
suppressMessages(library(psych))
library(jsonlite)
out_dir <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
set.seed(20260117)

n <- 80
f <- rnorm(n)
lik <- function(loading, mean = 3) pmin(5, pmax(1, round(mean + loading * f + rnorm(n, sd = 0.9))))
d1 <- data.frame(a = lik(1.0), b = lik(0.8), c = lik(0.9), d = lik(0.6), e = lik(0.7),
                 f = lik(-0.8))                      # f is reverse keyed
stopifnot(min(d1) == 1, max(d1) == 5)              # psych reverses with min + max of the data
d2 <- d1[, 1:5]
for (j in 1:5) d2[sample(n, 6), j] <- NA           # about 8 % missing, no row left empty
stopifnot(all(rowSums(!is.na(d2)) > 0))

alpha_ref <- function(x, ..., conf = 0.95) {
  a <- suppressWarnings(psych::alpha(x, check.keys = FALSE, warnings = FALSE, ...))
  nsub <- nrow(x); k <- ncol(x)
  raw_ci <- psych::alpha.ci(a$total$raw_alpha, nsub, k, p.val = 1 - conf)
  std_ci <- psych::alpha.ci(a$total$std.alpha, nsub, k, p.val = 1 - conf)
  list(
    n = nsub, k = k,
    raw = a$total$raw_alpha, std = a$total$std.alpha, ase = a$total$ase,
    raw_ci = c(raw_ci$lower.ci, raw_ci$upper.ci), std_ci = c(std_ci$lower.ci, std_ci$upper.ci),
    feldt = c(a$feldt$lower.ci, a$feldt$upper.ci),
    items = rownames(a$item.stats),
    item_n = as.numeric(a$item.stats$n),
    r_drop = a$item.stats$r.drop, mean = a$item.stats$mean, sd = a$item.stats$sd,
    drop_raw = a$alpha.drop$raw_alpha, drop_std = a$alpha.drop$std.alpha
  )
}

omega_ref <- function(r, n.obs) {
  fit <- NULL
  for (factr in c(10, 1e3, 1e5)) {
    fit <- tryCatch(factanal(covmat = r, factors = 1, n.obs = n.obs,
                             control = list(opt = list(factr = factr, pgtol = 0, maxit = 10000))),
                    error = function(e) NULL)
    if (!is.null(fit)) break
  }
  l <- as.numeric(fit$loadings[, 1]); if (sum(l) < 0) l <- -l
  u <- as.numeric(fit$uniquenesses)
  fa_ml <- suppressWarnings(psych::fa(r, nfactors = 1, fm = "ml", n.obs = n.obs))
  lp <- as.numeric(fa_ml$loadings[, 1]); if (sum(lp) < 0) lp <- -lp
  up <- as.numeric(fa_ml$uniquenesses)
  om <- suppressWarnings(psych::omega(r, nfactors = 1, fm = "ml", n.obs = n.obs, plot = FALSE))
  list(
    factr = factr, loadings = l, uniquenesses = u,
    omega_total = sum(l)^2 / (sum(l)^2 + sum(u)),
    psych_fa_loadings = lp, psych_fa_uniquenesses = up,
    psych_fa_omega_total = sum(lp)^2 / (sum(lp)^2 + sum(up)),
    psych_omega_tot = om$omega.tot
  )
}

d1r <- d1; d1r$f <- 6 - d1r$f
out <- list(
  source = paste("R", R.version$major, R.version$minor, "psych", as.character(packageVersion("psych")),
                 "alpha, alpha.ci, fa(fm = 'ml'), omega; stats::factanal"),
  d1 = d1,
  d2 = d2,
  alpha_d1_reversed = alpha_ref(d1, keys = c("f")),
  alpha_d1_abcde = alpha_ref(d1[, 1:5]),
  alpha_d1_abcde_90 = alpha_ref(d1[, 1:5], conf = 0.9),
  alpha_two_items = alpha_ref(d1[, c("a", "b")]),
  alpha_d2_pairwise = alpha_ref(d2, use = "pairwise"),
  alpha_d2_listwise = alpha_ref(na.omit(d2)),
  omega_d1_reversed = omega_ref(cor(d1r), n),
  omega_d2_listwise = omega_ref(cor(na.omit(d2)), nrow(na.omit(d2))),
  omega_d2_pairwise = omega_ref(cov2cor(cov(d2, use = "pairwise")), n)
)
write_json(out, file.path(out_dir, "reliability.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null", dataframe = "columns")
