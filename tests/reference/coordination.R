# Reference values for toolkit.analysis.coordination (tests/test_coordination.py).
# Run: Rscript tests/reference/coordination.R  (writes coordination.json beside this file)
# Kaplan-Meier: survival::survfit(Surv(days, event) ~ 1, conf.type = "log-log").
# Agreement rates: Wilson intervals from stats::prop.test(correct = FALSE).
library(jsonlite)
library(survival)
out_dir <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))

# days from hearing to agreement for 16 cases; event 0 = still no agreement (censored)
days <- c(21, 35, 35, 42, 56, 60, 60, 75, 90, 94, 120, 150, 150, 181, 200, 240)
event <- c(1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0)
kind <- rep(c("elevator", "property"), each = 8)

curve <- function(d, e) {
  fit <- survfit(Surv(d, e) ~ 1, conf.type = "log-log")
  list(time = fit$time, n_risk = fit$n.risk, events = fit$n.event, censored = fit$n.censor,
       estimate = fit$surv, ci_low = fit$lower, ci_high = fit$upper)
}

rates <- list()
agreement <- c("reached", "reached", "partial", "none", "reached", "partial", "reached")
for (conf in c(0.95, 0.9)) {
  x <- sum(agreement == "reached")
  ci <- as.numeric(suppressWarnings(prop.test(x, length(agreement), conf.level = conf,
                                              correct = FALSE))$conf.int)
  rates[[length(rates) + 1]] <- list(confidence = conf, count = x, n = length(agreement),
                                     ci_low = ci[1], ci_high = ci[2])
}

out <- list(
  data = list(days = days, event = event, kind = kind, agreement = agreement),
  all = curve(days, event),
  elevator = curve(days[kind == "elevator"], event[kind == "elevator"]),
  property = curve(days[kind == "property"], event[kind == "property"]),
  rates = rates
)
write_json(out, file.path(out_dir, "coordination.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
