# Reference values for toolkit.analysis.drivers (tests/test_drivers.py).
# Run: Rscript tests/reference/drivers.R  (writes drivers.json beside this file)
# relaimpo and domir are not Debian packages, so both measures are computed here from their
# definitions with base R:
# - general dominance = LMG (Lindeman, Merenda & Gold 1980; Groemping 2006, the type = "lmg" of
#   relaimpo::calc.relimp): brute force over all subsets with lm(), each increment weighted by
#   |S|! (p - |S| - 1)! / p! (the share of the p! orders of entry in which S precedes j);
# - relative weights: Johnson (2000), eigen() of the predictor correlation matrix;
# - ordinal coefficients: ordinal::clm on the item scores.
# Frequency weights: lm(weights = w) and clm(weights = w).
library(jsonlite)
suppressPackageStartupMessages(library(ordinal))
out_dir <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
set.seed(2000)
n <- 400
f <- rnorm(n)
cut3 <- function(x) as.integer(cut(x, c(-Inf, -0.6, 0.5, Inf)))
x <- sapply(c(0.3, 0.0, -0.2, 0.1, -0.4), function(s) cut3(0.8 * f + s + rnorm(n, 0, 0.8)))
colnames(x) <- c("attitude", "efficiency", "transparency", "responsiveness", "results")
y <- cut3(0.15 * x[, 1] + 0.1 * x[, 2] + 0.05 * x[, 3] + 0.25 * x[, 4] + 0.45 * x[, 5] - 1.7 + rnorm(n, 0, 0.5))
d <- data.frame(x, overall = y, w = sample(1:4, n, TRUE))
items <- colnames(x)

lmg <- function(d, wt = NULL) {
  p <- length(items)
  r2 <- function(s) {
    if (length(s) == 0) return(0)
    fit <- if (is.null(wt)) lm(reformulate(items[s], "overall"), d) else lm(reformulate(items[s], "overall"), d, weights = wt)
    summary(fit)$r.squared
  }
  out <- numeric(p)
  for (j in 1:p) {
    others <- setdiff(1:p, j)
    for (k in 0:(p - 1)) {
      subsets <- if (k == 0) list(integer(0)) else combn(others, k, simplify = FALSE)
      wk <- factorial(k) * factorial(p - k - 1) / factorial(p)
      for (s in subsets) out[j] <- out[j] + wk * (r2(c(s, j)) - r2(s))
    }
  }
  out
}
wcor <- function(m, wt) cov.wt(m, wt = wt / sum(wt), cor = TRUE)$cor
rw <- function(R) {
  p <- nrow(R) - 1
  rxx <- R[1:p, 1:p]; rxy <- R[1:p, p + 1]
  e <- eigen(rxx, symmetric = TRUE)
  lam <- e$vectors %*% diag(sqrt(e$values)) %*% t(e$vectors)
  beta <- solve(lam, rxy)
  drop(lam^2 %*% beta^2)
}
m <- as.matrix(d[, c(items, "overall")])
full_r2 <- summary(lm(reformulate(items, "overall"), d))$r.squared
full_r2_w <- summary(lm(reformulate(items, "overall"), d, weights = w))$r.squared
fit <- clm(factor(overall, ordered = TRUE) ~ attitude + efficiency + transparency + responsiveness + results, data = d)
fit_w <- clm(factor(overall, ordered = TRUE) ~ attitude + efficiency + transparency + responsiveness + results,
             data = d, weights = w)
r3 <- matrix(c(1, 0.5, 0.6, 0.5, 1, 0.4, 0.6, 0.4, 1), 3)
write_json(list(
  data = d, items = items,
  lmg = lmg(d), r_squared = full_r2, rw = rw(cor(m)),
  lmg_w = lmg(d, d$w), r_squared_w = full_r2_w, rw_w = rw(wcor(m, d$w)),
  clm = list(estimate = unname(coef(fit)[items]), se = unname(sqrt(diag(vcov(fit)))[items])),
  clm_w = list(estimate = unname(coef(fit_w)[items]), se = unname(sqrt(diag(vcov(fit_w)))[items])),
  small = list(rw = rw(r3)),
  r_version = R.version.string
), file.path(out_dir, "drivers.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
