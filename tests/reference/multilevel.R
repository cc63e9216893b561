# Reference values for toolkit.analysis.multilevel (tests/test_multilevel.py).
# Run: Rscript tests/reference/multilevel.R  (writes multilevel.json beside this file)
# lme4::lmer random-intercept fits (REML and ML): fixed effects, vcov, VarCorr, logLik, AIC, BIC,
# REMLcrit, theta. The ICC interval: the profile-likelihood interval for theta found with uniroot on
# lme4's own deviance function (lmer(..., devFunOnly = TRUE)), mapped to ICC = theta^2/(1+theta^2).
library(jsonlite)
suppressPackageStartupMessages(library(lme4))
out_dir <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
set.seed(99)
G <- 40
sizes <- sample(8:40, G, TRUE)
community <- rep(sprintf("社区%02d", 1:G), sizes)
n <- length(community)
roles <- c("居民", "党员", "楼组长")
d <- data.frame(community = community, age = round(runif(n, 20, 85)),
                role = factor(sample(roles, n, TRUE, prob = c(.6, .3, .1)), levels = roles))
u <- rnorm(G, 0, 0.7)
d$score <- 6 + 0.02 * (d$age - 50) + 0.4 * (d$role == "党员") + 0.3 * (d$role == "楼组长") +
  u[match(d$community, sprintf("社区%02d", 1:G))] + rnorm(n, 0, 1.6)
# a data set with no between-community variance (singular fit)
d$flat <- 5 + rnorm(n, 0, 1)

ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhobeg = 1e-3, rhoend = 1e-12))
fit_one <- function(formula, REML) {
  f <- lmer(formula, data = d, REML = REML, control = ctrl)
  vc <- as.data.frame(VarCorr(f))
  theta_hat <- unname(getME(f, "theta"))
  dev <- lmer(formula, data = d, REML = REML, devFunOnly = TRUE)
  crit <- qchisq(0.95, 1)
  g <- function(t) dev(t) - dev(theta_hat) - crit
  low <- if (theta_hat == 0 || g(0) <= 0) 0 else uniroot(g, c(0, theta_hat), tol = 1e-14)$root
  high <- uniroot(g, c(theta_hat, 20), tol = 1e-14)$root
  icc <- function(t) t^2 / (1 + t^2)
  list(term = names(fixef(f)), estimate = unname(fixef(f)), se = unname(sqrt(diag(as.matrix(vcov(f))))),
       t = unname(coef(summary(f))[, "t value"]),
       var_group = vc$vcov[1], var_resid = vc$vcov[2], theta = theta_hat, sigma = sigma(f),
       logLik = as.numeric(logLik(f)), AIC = AIC(f), BIC = BIC(f),
       deviance = if (REML) REMLcrit(f) else deviance(f), nobs = nobs(f),
       icc = icc(theta_hat), icc_low = icc(low), icc_high = icc(high), theta_low = low, theta_high = high)
}
write_json(list(
  data = list(community = d$community, age = d$age, role = as.character(d$role), score = d$score,
              flat = d$flat),
  roles = roles,
  reml = fit_one(score ~ age + role + (1 | community), TRUE),
  ml = fit_one(score ~ age + role + (1 | community), FALSE),
  empty = fit_one(score ~ 1 + (1 | community), TRUE),
  flat = suppressMessages(fit_one(flat ~ age + (1 | community), TRUE)),
  r_version = R.version.string, lme4 = as.character(packageVersion("lme4"))
), file.path(out_dir, "multilevel.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
