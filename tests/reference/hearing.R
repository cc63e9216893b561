# Reference values for toolkit.analysis.hearing (tests/test_hearing.py).
# Run: Rscript tests/reference/hearing.R  (writes hearing.json beside this file)
# Position shares: Wilson intervals from stats::prop.test(correct = FALSE).
# Positions by group: stats::chisq.test(correct = FALSE), vcd::assocstats (Cramer's V),
# stats::fisher.test for 2x2 tables. Concern co-occurrence: phi = stats::cor of 0/1 indicators.
library(jsonlite)
library(vcd)
out_dir <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))

# a hearing panel of 34: position on option 1 by floor band of the directly affected
floor <- c(rep("1-3", 12), rep("4-6", 10), rep("7+", 12))
option_1 <- c(
  rep("support", 2), rep("conditional", 3), rep("oppose", 6), "dont_know",
  rep("support", 5), rep("conditional", 3), rep("oppose", 2),
  rep("support", 10), rep("conditional", 1), rep("oppose", 1)
)
affected <- c(rep("directly", 20), rep("indirectly", 14))
option_2 <- c(rep("support", 15), rep("oppose", 19))
cost <- c(rep(1, 14), rep(0, 20))
noise <- c(rep(1, 8), rep(0, 10), rep(1, 6), rep(0, 10))
daylight <- c(rep(1, 10), rep(0, 24))

shares <- list()
for (level in c("support", "conditional", "oppose", "dont_know")) {
  x <- sum(option_1 == level)
  ci <- as.numeric(suppressWarnings(prop.test(x, length(option_1), correct = FALSE))$conf.int)
  shares[[length(shares) + 1]] <- list(level = level, count = x, n = length(option_1),
                                       ci_low = ci[1], ci_high = ci[2])
}

assoc <- function(x, g) {
  keep <- x != "dont_know"
  tab <- table(g[keep], x[keep])
  test <- suppressWarnings(chisq.test(tab, correct = FALSE))
  list(statistic = unname(test$statistic), df = unname(test$parameter),
       p_value = test$p.value, cramers_v = assocstats(tab)$cramer,
       min_expected = min(test$expected),
       fisher_p_value = if (all(dim(tab) == 2)) fisher.test(tab)$p.value else NULL)
}

out <- list(
  data = list(floor_band = floor, option_1 = option_1, affected = affected, option_2 = option_2,
              cost = cost, noise = noise, daylight = daylight),
  shares = shares,
  by_floor = assoc(option_1, floor),
  by_affected = assoc(option_1, affected),
  option_2_by_affected = assoc(option_2, affected),
  phi = list(cost_noise = cor(cost, noise), cost_daylight = cor(cost, daylight),
             daylight_noise = cor(daylight, noise))
)
write_json(out, file.path(out_dir, "hearing.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
