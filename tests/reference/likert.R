# Reference values for toolkit.analysis.likert (tests/test_likert.py).
# Run: Rscript tests/reference/likert.R  (writes likert.json beside this file)
# Base R only: table(factor(x, levels)), mean, sd, median, t.test(x)$conf.int on the level codes
# 1..k. The answers are synthetic (set.seed below) and are written to the JSON with the results.
# Level values are ASCII codes here; the tests also feed them as Chinese labels.
library(jsonlite)
out_dir <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
set.seed(20260116)

sat_levels <- c("dissatisfied", "basically_satisfied", "satisfied")   # lowest first
five_levels <- c("1", "2", "3", "4", "5")
N <- 46
building <- rep(c("b01", "b02", "b03"), c(20, 24, 2))
overall <- sample(c(sat_levels, "dont_know"), N, TRUE, prob = c(.15, .35, .45, .05))
overall[c(3, 17)] <- NA
# 'dissatisfied' never used
attitude <- sample(c("basically_satisfied", "satisfied"), N, TRUE, prob = c(.4, .6))
quality <- sample(five_levels, N, TRUE, prob = c(.05, .1, .2, .4, .25))
quality[building == "b03"] <- NA   # nobody in b03 answered
answers <- data.frame(building = building, overall = overall, attitude = attitude,
                      quality = quality, stringsAsFactors = FALSE)

summ <- function(x, levels) {
  x <- x[!is.na(x) & x %in% levels]
  codes <- match(x, levels)
  n <- length(codes)
  k <- length(levels)
  counts <- as.integer(table(factor(x, levels = levels)))
  res <- list(n = n, counts = counts)
  if (n > 0) {
    res$mean <- mean(codes)
    res$median <- median(codes)
    res$top_box <- counts[k] / n
    res$top2_box <- sum(counts[(k - 1):k]) / n
    res$bottom2_box <- sum(counts[1:2]) / n
  }
  if (n > 1) {
    res$sd <- sd(codes)
    res$se <- sd(codes) / sqrt(n)
    ci <- if (length(unique(codes)) > 1) t.test(codes)$conf.int else c(mean(codes), mean(codes))
    res$ci_low <- ci[1]
    res$ci_high <- ci[2]
    ci90 <- if (length(unique(codes)) > 1) t.test(codes, conf.level = 0.9)$conf.int else c(mean(codes), mean(codes))
    res$ci_low_90 <- ci90[1]
    res$ci_high_90 <- ci90[2]
  }
  res
}
lv <- list(overall = sat_levels, attitude = sat_levels, quality = five_levels)
results <- list()
for (it in names(lv)) {
  results[[it]] <- list(all = summ(answers[[it]], lv[[it]]))
  for (b in unique(building)) results[[it]][[b]] <- summ(answers[[it]][building == b], lv[[it]])
}
out <- list(
  source = paste("R", R.version$major, R.version$minor, "table, mean, sd, median, t.test"),
  answers = answers,
  levels = lv,
  results = results
)
write_json(out, file.path(out_dir, "likert.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null", dataframe = "columns")
