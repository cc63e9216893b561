# Reference values for toolkit.analysis.rectification (tests/test_rectification.py).
# Run: Rscript tests/reference/rectification.R  (writes rectification.json beside this file)
# Newcombe's hybrid score interval (Newcombe 1998, method 10) written out from the Wilson limits
# of stats::prop.test(correct = FALSE); the test is stats::prop.test(correct = FALSE) on the two
# samples; rectified vs other items: stats::wilcox.test (exact without ties, else normal with
# continuity correction).
library(jsonlite)
out_dir <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))

wilson <- function(x, n, conf) {
  as.numeric(suppressWarnings(prop.test(x, n, conf.level = conf, correct = FALSE))$conf.int)
}

pairs <- list(
  c(48, 80, 56, 70), c(3, 10, 9, 10), c(20, 40, 31, 41), c(25, 32, 30, 33), c(10, 18, 10, 18),
  c(0, 16, 5, 20), c(16, 16, 14, 20), c(30, 45, 29, 38)
)
diffs <- list()
for (conf in c(0.95, 0.9)) {
  for (p in pairs) {
    x1 <- p[1]; n1 <- p[2]; x2 <- p[3]; n2 <- p[4]
    p1 <- x1 / n1; p2 <- x2 / n2
    w1 <- wilson(x1, n1, conf); w2 <- wilson(x2, n2, conf)
    d <- p2 - p1
    test <- suppressWarnings(prop.test(c(x2, x1), c(n2, n1), correct = FALSE))
    diffs[[length(diffs) + 1]] <- list(
      count_before = x1, n_before = n1, count_after = x2, n_after = n2, confidence = conf,
      estimate = d,
      ci_low = d - sqrt((p2 - w2[1])^2 + (w1[2] - p1)^2),
      ci_high = d + sqrt((w2[2] - p2)^2 + (p1 - w1[1])^2),
      statistic = unname(test$statistic), p_value = test$p.value
    )
  }
}

rect_a <- c(0.31, 0.22, 0.18, 0.27)
other_a <- c(0.02, -0.04, 0.05, 0.11, -0.01, 0.07)
rect_b <- c(0.25, 0.10, 0.10, 0.30)
other_b <- c(0.10, 0.00, -0.05, 0.05, 0.10)
wt <- function(x, y) {
  test <- suppressWarnings(wilcox.test(x, y))
  list(rectified = x, other = y, statistic = unname(test$statistic), p_value = test$p.value)
}

out <- list(differences = diffs, wilcox_exact = wt(rect_a, other_a),
            wilcox_ties = wt(rect_b, other_b))
write_json(out, file.path(out_dir, "rectification.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
