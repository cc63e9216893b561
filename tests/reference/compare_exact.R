# Reference values for the exact Mann-Whitney p-values of toolkit.analysis.compare (tests/test_compare.py).
# Run: Rscript tests/reference/compare_exact.R  (writes compare_exact.json beside this file)
# wilcox.test(exact = TRUE) on small samples without ties, all three alternatives.
library(jsonlite)
out_dir <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
set.seed(1947)
cases <- lapply(list(c(5, 7), c(12, 9), c(3, 20), c(30, 41), c(1, 8)), function(nn) {
  v <- sample(1000, sum(nn)) / 10 + rep(c(0, 15), nn)
  x <- v[seq_len(nn[1])]; y <- v[-seq_len(nn[1])]
  p <- sapply(c("two.sided", "greater", "less"), function(a) wilcox.test(x, y, exact = TRUE, alternative = a)$p.value)
  list(x = x, y = y, W = unname(wilcox.test(x, y, exact = TRUE)$statistic), p = unname(p))
})
write_json(list(cases = cases, r_version = R.version.string),
           file.path(out_dir, "compare_exact.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
