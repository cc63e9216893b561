# Reference values for toolkit.analysis.proportions.proportion_ci (tests/test_proportions.py).
# Run: Rscript tests/reference/proportions.R  (writes proportions.json beside this file)
# Wilson: stats::prop.test(correct = FALSE); exact (Clopper-Pearson): stats::binom.test.
# Agresti-Coull, Jeffreys and Wald are written out from Brown, Cai & DasGupta (2001),
# "Interval estimation for a binomial proportion", Statistical Science 16(2), 101-133:
#   Agresti-Coull (their eq. 4.1-4.2), Jeffreys (section 4.1.2, with lower = 0 at x = 0 and
#   upper = 1 at x = n), Wald (eq. 1.1); Agresti-Coull and Wald clipped to [0, 1].
library(jsonlite)
out_dir <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))

ci <- function(x, n, method, conf) {
  a <- 1 - conf
  z <- qnorm(1 - a / 2)
  p <- x / n
  switch(method,
    wilson = as.numeric(suppressWarnings(prop.test(x, n, conf.level = conf, correct = FALSE))$conf.int),
    exact = as.numeric(binom.test(x, n, conf.level = conf)$conf.int),
    "agresti-coull" = {
      nt <- n + z^2
      pt <- (x + z^2 / 2) / nt
      h <- z * sqrt(pt * (1 - pt) / nt)
      c(max(0, pt - h), min(1, pt + h))
    },
    jeffreys = c(
      if (x == 0) 0 else qbeta(a / 2, x + 0.5, n - x + 0.5),
      if (x == n) 1 else qbeta(1 - a / 2, x + 0.5, n - x + 0.5)
    ),
    wald = {
      h <- z * sqrt(p * (1 - p) / n)
      c(max(0, p - h), min(1, p + h))
    }
  )
}

rows <- list()
for (conf in c(0.95, 0.9, 0.99)) {
  for (n in c(1, 2, 5, 16, 24, 37, 50, 1000)) {
    xs <- unique(c(0, 1, floor(n / 3), floor(n / 2), n - 1, n))
    xs <- xs[xs >= 0 & xs <= n]
    for (x in xs) {
      for (m in c("wilson", "exact", "agresti-coull", "jeffreys", "wald")) {
        b <- ci(x, n, m, conf)
        rows[[length(rows) + 1]] <- list(
          count = x, n = n, method = m, confidence = conf,
          estimate = x / n, ci_low = b[1], ci_high = b[2]
        )
      }
    }
  }
}
out <- list(
  source = paste("R", R.version$major, R.version$minor, "stats::prop.test, stats::binom.test, qbeta, qnorm"),
  rows = rows
)
write_json(out, file.path(out_dir, "proportions.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
