# Reference values for toolkit.analysis.small_area (tests/test_small_area.py).
# Run: Rscript tests/reference/small_area.R  (writes small_area.json beside this file)
# glmm: lme4::glmer(cbind(x, n - x) ~ 1 + (1 | community), binomial) (Laplace, nAGQ = 1) with a
# tight bobyqa and PIRLS (tolPwrss) tolerance, without which the optimum is found only to ~1e-4; fixef, vcov (finite-difference Hessian, lme4's default), ranef with
# condVar. beta_binomial: maximum marginal likelihood by optim (BFGS, then Nelder-Mead), posterior
# means and qbeta limits.
library(jsonlite)
suppressPackageStartupMessages(library(lme4))
out_dir <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
set.seed(1983)
k <- 15
sizes <- sample(c(5:12, 20:40), k)
p <- plogis(1.0 + rnorm(k, 0, 0.7))
lv <- c("满意", "基本满意", "不满意", "不了解")
d <- do.call(rbind, lapply(seq_len(k), function(i) {
  sat <- rbinom(sizes[i], 1, p[i])
  other <- sample(c("基本满意", "不满意", "不了解"), sizes[i], TRUE, prob = c(0.5, 0.4, 0.1))
  data.frame(community = sprintf("社区%02d", i), overall = ifelse(sat == 1, "满意", other))
}))
valid <- d[d$overall != "不了解", ]
agg <- aggregate(cbind(x = overall == "满意", n = 1) ~ community, valid, sum)
fit <- glmer(cbind(x, n - x) ~ 1 + (1 | community), data = agg, family = binomial,
             control = glmerControl(optimizer = "bobyqa", tolPwrss = 1e-13,
                                   optCtrl = list(rhobeg = 0.2, rhoend = 1e-12)))
re <- ranef(fit, condVar = TRUE)$community
eta <- fixef(fit)[1] + re[, 1]
se <- sqrt(vcov(fit)[1, 1] + attr(re, "postVar")[1, 1, ])
z <- qnorm(0.975)

nll <- function(par) { a <- exp(par[1]); b <- exp(par[2]); -sum(lbeta(agg$x + a, agg$n - agg$x + b) - lbeta(a, b)) }
o <- optim(c(0, 0), nll, method = "BFGS", control = list(reltol = 1e-15, maxit = 1000))
o <- optim(o$par, nll, method = "Nelder-Mead", control = list(reltol = 1e-16, maxit = 5000))
a <- exp(o$par[1]); b <- exp(o$par[2])

write_json(list(
  data = d,
  glmm = list(community = agg$community, x = agg$x, n = agg$n, beta0 = unname(fixef(fit)),
              se_beta0 = sqrt(vcov(fit)[1, 1]), sigma = unname(attr(VarCorr(fit)$community, "stddev")),
              u = re[, 1], cond_var = attr(re, "postVar")[1, 1, ],
              estimate = plogis(eta), ci_low = plogis(eta - z * se), ci_high = plogis(eta + z * se),
              deviance = deviance(fit)),
  beta_binomial = list(alpha = a, beta = b, estimate = (a + agg$x) / (a + b + agg$n),
                       ci_low = qbeta(0.025, a + agg$x, b + agg$n - agg$x),
                       ci_high = qbeta(0.975, a + agg$x, b + agg$n - agg$x)),
  r_version = R.version.string, lme4 = as.character(packageVersion("lme4"))
), file.path(out_dir, "small_area.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
