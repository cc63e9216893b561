# Reference values for the weights of toolkit.analysis.ordinal (tests/test_ordinal.py).
# Run: Rscript tests/reference/ordinal_weights.R  (writes ordinal_weights.json beside this file)
# Frequency weights: MASS housing, ordinal::clm(weights = Freq) (exact) and MASS::polr(weights = Freq).
# Sampling weights: survey::svyolr on the one-stage cluster sample apiclus1, and the same
# linearisation variance computed exactly: clm estimates, analytic scores, survey::svyrecvar.
library(jsonlite)
suppressPackageStartupMessages({library(ordinal); library(MASS); library(survey)})
out_dir <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))

tab <- function(fit) {
  s <- coef(summary(fit))
  list(term = rownames(s), estimate = unname(s[, 1]), se = unname(s[, 2]), z = unname(s[, 3]),
       p = unname(s[, 4]), logLik = as.numeric(logLik(fit)), AIC = AIC(fit), BIC = BIC(fit),
       nobs = nobs(fit))
}
hf <- clm(Sat ~ Infl + Type + Cont, weights = Freq, data = housing)
hp <- polr(Sat ~ Infl + Type + Cont, weights = Freq, data = housing, Hess = TRUE)
# the same fit on the table expanded row by row
expanded <- housing[rep(seq_len(nrow(housing)), housing$Freq), ]
he <- clm(Sat ~ Infl + Type + Cont, data = expanded)

data(api)
d <- apiclus1
d$mealcat <- cut(d$meals, c(0, 25, 50, 75, 100), include.lowest = TRUE, ordered_result = TRUE)
d <- d[!is.na(d$avg.ed), ]
des <- svydesign(id = ~dnum, weights = ~pw, data = d, fpc = ~fpc)
so <- svyolr(mealcat ~ avg.ed + stype, design = des)
# exact: weighted clm, its analytic Hessian, per-row scores, svyrecvar
cf <- clm(mealcat ~ avg.ed + stype, weights = pw, data = d)
X <- model.matrix(~ avg.ed + stype, d)[, -1]
th <- c(-Inf, cf$alpha, Inf)
y <- as.integer(d$mealcat)
eta <- drop(X %*% cf$beta)
eu <- th[y + 1] - eta
el <- th[y] - eta
pr <- plogis(eu) - plogis(el)
du <- dlogis(eu); dl <- dlogis(el)
q <- length(cf$alpha)
S <- matrix(0, nrow(d), q + ncol(X))
for (j in 1:q) S[, j] <- ((y == j) * du - (y == j + 1) * dl) / pr
S[, q + seq_len(ncol(X))] <- -X * (du - dl) / pr
S <- S * d$pw
V <- svyrecvar(S %*% vcov(cf), des$cluster, des$strata, des$fpc, postStrata = NULL)
svy_names <- c(names(so$zeta), names(so$coefficients))
svy_se <- sqrt(diag(vcov(so)))

write_json(list(
  housing = list(Sat = as.character(housing$Sat), Infl = as.character(housing$Infl),
                 Type = as.character(housing$Type), Cont = as.character(housing$Cont),
                 Freq = housing$Freq),
  clm_freq = tab(hf), clm_expanded = tab(he),
  polr_freq = list(coef = as.list(coef(hp)), zeta = as.list(hp$zeta),
                   se = as.list(sqrt(diag(vcov(hp)))), logLik = as.numeric(logLik(hp))),
  api = list(mealcat = as.character(d$mealcat), mealcat_levels = levels(d$mealcat),
             avg_ed = d$avg.ed, stype = as.character(d$stype), dnum = d$dnum, pw = d$pw,
             fpc = d$fpc),
  svy_exact = list(term = names(coef(cf)), estimate = unname(coef(cf)),
                   se = unname(sqrt(diag(V)))),
  svyolr = list(term = svy_names, estimate = unname(c(so$zeta, so$coefficients)),
                se = unname(svy_se[svy_names])),
  r_version = R.version.string, ordinal = as.character(packageVersion("ordinal")),
  survey = as.character(packageVersion("survey"))
), file.path(out_dir, "ordinal_weights.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
