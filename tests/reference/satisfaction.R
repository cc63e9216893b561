# Reference values for toolkit.analysis.satisfaction (tests/test_satisfaction.py).
# Run: Rscript tests/reference/satisfaction.R  (writes satisfaction.json beside this file)
# Base R only. Rates: counts with table(); intervals: prop.test(correct = FALSE) (Wilson),
# binom.test (Clopper-Pearson); Agresti-Coull, Jeffreys, Wald written out from Brown, Cai &
# DasGupta (2001), Statistical Science 16(2), 101-133. Index: t.test of per-respondent means.
# Verdicts: the rules of docs/domain.md with integer arithmetic (2 * S > M is S / M > 1/2).
# The ballots are synthetic (set.seed below) and are written to the JSON with the results; values
# are ballot codes (satisfied, basically_satisfied, dissatisfied, dont_know), NA = blank.
library(jsonlite)
out_dir <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
set.seed(20260115)

codes <- c("satisfied", "basically_satisfied", "dissatisfied", "dont_know")
role <- rep(c("resident_rep", "party_member", "deputy"), c(22, 13, 5))
N <- length(role)
draw <- function(p, blank = 0) {
  x <- sample(codes, N, TRUE, prob = p)
  x[sample(N, blank)] <- NA
  x
}
ballots <- data.frame(
  role = role,
  attitude = draw(c(.55, .3, .1, .05), blank = 2),
  efficiency = draw(c(.3, .35, .25, .1), blank = 3),
  overall = draw(c(.5, .35, .15, 0)),
  all_satisfied = rep("satisfied", N),
  none_satisfied = draw(c(0, .5, .4, .1)),
  nobody = sample(c("dont_know", NA), N, TRUE),
  score10 = sample(c(0:10, NA), N, TRUE, prob = c(rep(.03, 5), rep(.1, 6), .05)),
  stringsAsFactors = FALSE
)
items <- c("attitude", "efficiency", "overall", "all_satisfied", "none_satisfied", "nobody")
members_all <- 45
members_role <- c(resident_rep = 25, party_member = 15, deputy = 5)

ci <- function(x, n, method, conf = 0.95) {
  if (n == 0) return(c(NA, NA))
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

rates <- list()
add_rates <- function(x, group, members) {
  S <- sum(x == "satisfied", na.rm = TRUE)
  B <- sum(x == "basically_satisfied", na.rm = TRUE)
  D <- sum(x == "dissatisfied", na.rm = TRUE)
  dens <- list(valid = S + B + D, all = length(x), members = members)
  nums <- list(strict = S, broad = S + B, dissatisfied = D)
  for (den in names(dens)) for (meas in names(nums)) for (m in c("wilson", "exact", "agresti-coull", "jeffreys", "wald")) {
    n <- dens[[den]]
    b <- ci(nums[[meas]], n, m)
    rates[[length(rates) + 1]] <<- list(
      group = group, measure = meas, denominator = den, method = m,
      count = nums[[meas]], n = n, estimate = if (n > 0) nums[[meas]] / n else NA,
      ci_low = b[1], ci_high = b[2]
    )
  }
}
by_item <- list()
for (it in items) {
  rates <- list()
  add_rates(ballots[[it]], NA, members_all)
  for (r in names(members_role)) add_rates(ballots[[it]][ballots$role == r], r, members_role[[r]])
  by_item[[it]] <- rates
}

# verdicts
verdicts <- list()
for (it in items) {
  x <- ballots[[it]]
  S <- sum(x == "satisfied", na.rm = TRUE); B <- sum(x == "basically_satisfied", na.rm = TRUE)
  D <- sum(x == "dissatisfied", na.rm = TRUE)
  K <- sum(x == "dont_know", na.rm = TRUE); E <- sum(is.na(x))
  maj <- if (2 * S > members_all) "satisfied" else if (2 * (S + B) > members_all) "basically_satisfied" else "dissatisfied"
  v <- c(S, B, D)
  plur <- if (sum(v) == 0) NA else if (sum(v == max(v)) > 1) "tie" else codes[which.max(v)]
  score <- if (S + B + D > 0) (100 * S + 60 * B) / (S + B + D) else NA
  band <- if (is.na(score)) NA else if (score >= 80) "satisfied" else if (score >= 60) "basically_satisfied" else "dissatisfied"
  verdicts[[it]] <- list(S = S, B = B, D = D, K = K, E = E, majority = maj, plurality = plur,
                         score = score, score_band = band, broad_rate = if (S + B + D > 0) (S + B) / (S + B + D) else NA)
}

# satisfaction index: points 100 / 60 / 0, weights attitude 2, efficiency 1, overall 1;
# don't know and blanks skipped, weights renormalised over the answered items
pts <- c(satisfied = 100, basically_satisfied = 60, dissatisfied = 0, dont_know = NA)
w <- c(attitude = 2, efficiency = 1, overall = 1)
P <- sapply(names(w), function(it) unname(pts[ballots[[it]]]))
idx <- apply(P, 1, function(p) { ok <- !is.na(p); if (!any(ok)) NA else sum(w[ok] * p[ok]) / sum(w[ok]) })
idx <- idx[!is.na(idx)]
tt <- t.test(idx)
tt90 <- t.test(idx, conf.level = 0.9)
# numeric 0-10 item rescaled to 0-100
s10 <- ballots$score10[!is.na(ballots$score10)] * 10
ts <- t.test(s10)

out <- list(
  source = paste("R", R.version$major, R.version$minor, "table, prop.test, binom.test, qbeta, qnorm, t.test"),
  ballots = ballots,
  members_all = members_all,
  members_role = as.list(members_role),
  rates = by_item,
  verdicts = verdicts,
  index = list(n = length(idx), estimate = mean(idx), sd = sd(idx), se = sd(idx) / sqrt(length(idx)),
               ci_low = tt$conf.int[1], ci_high = tt$conf.int[2],
               ci_low_90 = tt90$conf.int[1], ci_high_90 = tt90$conf.int[2]),
  index_score10 = list(n = length(s10), estimate = mean(s10), sd = sd(s10),
                       ci_low = ts$conf.int[1], ci_high = ts$conf.int[2])
)
write_json(out, file.path(out_dir, "satisfaction.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null", dataframe = "columns")
