# Reference values for toolkit.analysis.ordinal (tests/test_ordinal.py).
# Run: Rscript tests/reference/ordinal.R  (writes ordinal.json beside this file)
# ordinal::clm (logit, probit), MASS::polr, ordinal::nominal_test and clm(nominal = ~ ...).
library(jsonlite)
suppressPackageStartupMessages({library(ordinal); library(MASS)})
out_dir <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
set.seed(42)
n <- 300
lv <- c("不满意", "基本满意", "满意")
roles <- c("居民", "党员", "楼组长")
d <- data.frame(
  age = round(runif(n, 25, 85)),
  role = factor(sample(roles, n, TRUE, prob = c(.6, .25, .15)), levels = roles),
  floor = sample(1:7, n, TRUE)
)
lat <- 0.03 * (d$age - 55) + 0.6 * (d$role == "党员") + 0.9 * (d$role == "楼组长") - 0.1 * d$floor +
  rlogis(n)
d$overall <- factor(lv[cut(lat, c(-Inf, -1.2, 0.4, Inf), labels = FALSE)], levels = lv, ordered = TRUE)
# a four-level score with a non-proportional age effect for the test of proportional odds
lat4 <- rnorm(n) + 0.5 * (d$role == "党员")
cuts <- cbind(-0.8 + 0.02 * (d$age - 55), 0.2, 1.0 - 0.02 * (d$age - 55))
d$score <- 1 + (lat4 > cuts[, 1]) + (lat4 > cuts[, 2]) + (lat4 > cuts[, 3])
d$score <- factor(d$score, levels = 1:4, ordered = TRUE)

tab <- function(fit) {
  s <- coef(summary(fit))
  list(term = rownames(s), estimate = unname(s[, 1]), se = unname(s[, 2]), z = unname(s[, 3]),
       p = unname(s[, 4]), logLik = as.numeric(logLik(fit)), AIC = AIC(fit), BIC = BIC(fit),
       nobs = nobs(fit))
}
f1 <- clm(overall ~ age + role + floor, data = d, link = "logit")
f2 <- clm(overall ~ age + role + floor, data = d, link = "probit")
f3 <- clm(score ~ age + role, data = d, link = "logit")
p1 <- polr(overall ~ age + role + floor, data = d, Hess = TRUE)
ci1 <- confint.default(f1)
nt <- nominal_test(f3)
all3 <- clm(score ~ 1, nominal = ~ age + role, data = d)
nt_probit <- nominal_test(clm(score ~ age + role, data = d, link = "probit"))

write_json(list(
  data = list(age = d$age, role = as.character(d$role), floor = d$floor,
              overall = as.character(d$overall), score = as.integer(d$score)),
  levels = lv, roles = roles,
  clm_logit = tab(f1), clm_probit = tab(f2), clm_score = tab(f3),
  wald_ci = list(term = rownames(ci1), low = unname(ci1[, 1]), high = unname(ci1[, 2])),
  polr = list(coef = as.list(coef(p1)), zeta = as.list(p1$zeta), se = as.list(sqrt(diag(vcov(p1)))),
              logLik = as.numeric(logLik(p1))),
  nominal_test = list(term = rownames(nt), df = nt$Df, logLik = nt$logLik, AIC = nt$AIC, LRT = nt$LRT,
                      p = nt[["Pr(>Chi)"]]),
  nominal_test_probit = list(term = rownames(nt_probit), LRT = nt_probit$LRT, p = nt_probit[["Pr(>Chi)"]]),
  all_nominal = list(logLik = as.numeric(logLik(all3)), AIC = AIC(all3)),
  r_version = R.version.string, ordinal = as.character(packageVersion("ordinal"))
), file.path(out_dir, "ordinal.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
