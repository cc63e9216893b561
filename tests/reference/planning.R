# Reference values for toolkit.analysis.planning (tests/test_planning.py).
# Run: Rscript tests/reference/planning.R  (writes planning.json beside this file)
# Intervals: prop.test(correct = FALSE) (Wilson), qbeta (Clopper-Pearson, as binom.test), Newcombe's
# method 10 from two prop.test intervals; power: pwr::pwr.p.test and pwr::pwr.2p.test.
# Sample sizes: the smallest whole n found by brute force over n = 1, 2, ... with the effective size
# n / deff * (N - 1) / (N - n) (unlimited N: n / deff).
library(jsonlite)
suppressPackageStartupMessages(library(pwr))
out_dir <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))

lim <- function(p, n, conf, method) {
  if (method == "wilson") return(as.numeric(prop.test(p * n, n, conf.level = conf, correct = FALSE)$conf.int))
  if (method == "exact") {
    a <- 1 - conf; x <- p * n
    return(c(if (x <= 0) 0 else qbeta(a / 2, x, n - x + 1), if (x >= n) 1 else qbeta(1 - a / 2, x + 1, n - x)))
  }
  z <- qnorm(0.5 + conf / 2); h <- z * sqrt(p * (1 - p) / n); c(p - h, p + h)
}
diff_lim <- function(p1, p2, n, conf, method) {
  d <- p1 - p2
  if (method == "wald") { h <- qnorm(0.5 + conf / 2) * sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / n); return(c(d - h, d + h)) }
  a <- lim(p1, n, conf, "wilson"); b <- lim(p2, n, conf, "wilson")
  c(d - sqrt((p1 - a[1])^2 + (b[2] - p2)^2), d + sqrt((a[2] - p1)^2 + (p2 - b[1])^2))
}
neff <- function(n, N, deff) if (is.na(N)) n / deff else if (n >= N) Inf else n / deff * (N - 1) / (N - n)
hw <- function(ne, cs) {
  if (!is.finite(ne)) return(0)
  l <- if (is.na(cs$rate2)) lim(cs$rate, ne, cs$confidence, cs$method) else diff_lim(cs$rate, cs$rate2, ne, cs$confidence, cs$method)
  (l[2] - l[1]) / 2
}
brute <- function(cs) { n <- 1; while (hw(neff(n, cs$population, cs$deff), cs) > cs$half_width) n <- n + 1; n }
n_srs <- function(cs) uniroot(function(n) hw(n, cs) - cs$half_width, c(0.5, 1e7), tol = 1e-13)$root

cases <- list(
  list(rate = 0.5, rate2 = NA, method = "wilson", half_width = 0.10, confidence = 0.95, population = NA, deff = 1),
  list(rate = 0.5, rate2 = NA, method = "wilson", half_width = 0.10, confidence = 0.95, population = 40, deff = 1),
  list(rate = 0.85, rate2 = NA, method = "wilson", half_width = 0.05, confidence = 0.95, population = NA, deff = 1.8),
  list(rate = 0.85, rate2 = NA, method = "exact", half_width = 0.05, confidence = 0.95, population = NA, deff = 1),
  list(rate = 0.7, rate2 = NA, method = "exact", half_width = 0.08, confidence = 0.9, population = 300, deff = 1.3),
  list(rate = 0.9, rate2 = NA, method = "wald", half_width = 0.03, confidence = 0.95, population = 2000, deff = 1),
  list(rate = 0.8, rate2 = 0.7, method = "wilson", half_width = 0.10, confidence = 0.95, population = NA, deff = 1),
  list(rate = 0.8, rate2 = 0.7, method = "wilson", half_width = 0.15, confidence = 0.95, population = 60, deff = 1),
  list(rate = 0.8, rate2 = 0.7, method = "wald", half_width = 0.10, confidence = 0.99, population = NA, deff = 2)
)
intervals <- lapply(cases, function(cs) {
  cs$n_srs <- n_srs(cs)
  cs$n <- brute(cs)
  cs
})
# precision at a given n
prec <- lapply(list(
  list(n = 29, rate = 0.5, rate2 = NA, method = "wilson", confidence = 0.95, population = 40, deff = 1),
  list(n = 120, rate = 0.85, rate2 = NA, method = "exact", confidence = 0.95, population = NA, deff = 1.5),
  list(n = 17, rate = 11 / 17, rate2 = NA, method = "exact", confidence = 0.95, population = NA, deff = 1),
  list(n = 150, rate = 0.8, rate2 = 0.7, method = "wilson", confidence = 0.95, population = NA, deff = 1)
), function(cs) {
  ne <- neff(cs$n, cs$population, cs$deff)
  l <- if (is.na(cs$rate2)) lim(cs$rate, ne, cs$confidence, cs$method) else diff_lim(cs$rate, cs$rate2, ne, cs$confidence, cs$method)
  cs$ci_low <- l[1]; cs$ci_high <- l[2]
  if (!is.na(cs$rate2)) cs$power <- pwr.2p.test(h = ES.h(cs$rate, cs$rate2), n = ne, sig.level = 1 - cs$confidence)$power
  cs
})
bt <- binom.test(11, 17)$conf.int
power <- list(
  two = list(rate = 0.8, rate2 = 0.7, power = 0.8, confidence = 0.95,
             n_srs = pwr.2p.test(h = ES.h(0.8, 0.7), power = 0.8)$n),
  one = list(rate = 0.7, benchmark = 0.6, power = 0.9, confidence = 0.95,
             n_srs = pwr.p.test(h = ES.h(0.7, 0.6), power = 0.9)$n),
  one_power = list(rate = 0.7, benchmark = 0.6, n = 100, confidence = 0.95,
                   power = pwr.p.test(h = ES.h(0.7, 0.6), n = 100)$power)
)
write_json(list(intervals = intervals, precision = prec, binom_test_11_17 = as.numeric(bt),
                power = power, r_version = R.version.string,
                pwr = as.character(packageVersion("pwr"))),
           file.path(out_dir, "planning.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
