# Reference values for toolkit.analysis.trends (tests/test_trends.py).
# Run: Rscript tests/reference/trends.R  (writes trends.json beside this file)
# Rates: prop.test(correct = FALSE) (Wilson); change: Newcombe (1998) method 10 from the two
# prop.test intervals; trend: prop.trend.test(x, n, score = year) and the slope of
# lm(x / n ~ year, weights = n).
library(jsonlite)
out_dir <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
set.seed(17)
lv <- c("满意", "基本满意", "不满意", "不了解")
years <- 2021:2025
d <- do.call(rbind, lapply(c("康乐", "长寿", "曹杨"), function(cm) do.call(rbind, lapply(years, function(y) {
  n <- sample(8:30, 1)
  p_sat <- plogis(-0.5 + 0.25 * (y - 2021) + (cm == "长寿") * 0.6)
  data.frame(community = cm, year = y,
             overall = sample(lv, n, TRUE, prob = c(p_sat, (1 - p_sat) * 0.6, (1 - p_sat) * 0.3, (1 - p_sat) * 0.1)))
}))))
wilson <- function(x, n) as.numeric(prop.test(x, n, correct = FALSE)$conf.int)
res <- lapply(split(d, d$community), function(g) {
  valid <- g[g$overall != "不了解", ]
  x <- sapply(years, function(y) sum(valid$overall[valid$year == y] %in% c("满意", "基本满意")))
  n <- sapply(years, function(y) sum(valid$year == y))
  ci <- t(mapply(wilson, x, n))
  p <- x / n
  lo <- hi <- numeric(length(years) - 1)
  for (i in 2:length(years)) {
    a <- ci[i, ]; b <- ci[i - 1, ]; dd <- p[i] - p[i - 1]
    lo[i - 1] <- dd - sqrt((p[i] - a[1])^2 + (b[2] - p[i - 1])^2)
    hi[i - 1] <- dd + sqrt((a[2] - p[i])^2 + (p[i - 1] - b[1])^2)
  }
  tt <- prop.trend.test(x, n, score = years)
  list(community = g$community[1], count = x, n = n, estimate = p, ci_low = ci[, 1], ci_high = ci[, 2],
       change = diff(p), change_low = lo, change_high = hi,
       statistic = unname(tt$statistic), p_value = tt$p.value,
       slope = unname(coef(lm(I(x / n) ~ years, weights = n))[2]))
})
smokers <- prop.trend.test(c(83, 90, 129, 70), c(86, 93, 136, 82))
write_json(list(data = d, years = years, communities = unname(res),
                smokers = list(statistic = unname(smokers$statistic), p_value = smokers$p.value),
                r_version = R.version.string),
           file.path(out_dir, "trends.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
