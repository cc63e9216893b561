# Reference for toolkit.analysis.participation.representativeness: chisq.test(x, p = q) and the
# dissimilarity index D = 1/2 sum |p - q|. Run: Rscript tests/reference/participation_representativeness.R
library(jsonlite)
out_path <- file.path(dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE))),
                      "participation_representativeness.json")

case <- function(name, categories, x, q) {
  q <- q / sum(q)
  test <- suppressWarnings(chisq.test(x, p = q))
  p <- x / sum(x)
  list(name = name, categories = categories, count = x, population_share = q,
       sample_share = p, ratio = p / q, expected = unname(test$expected),
       dissimilarity = sum(abs(p - q)) / 2,
       statistic = unname(test$statistic), df = unname(test$parameter), p_value = test$p.value)
}

cases <- list(
  # age bands of 40 hearing participants against a neighbourhood's adult population shares
  case("age", c("18-29", "30-49", "50-69", "70+"), c(2, 8, 18, 12), c(0.18, 0.34, 0.31, 0.17)),
  # gender, population given as counts (rescaled to shares)
  case("gender", c("female", "male"), c(27, 13), c(5120, 4880)),
  # a building with no participant in one category (sample share 0)
  case("building", c("1", "2", "3", "5"), c(11, 0, 9, 20), c(0.25, 0.25, 0.2, 0.3))
)

write_json(list(source = "R stats::chisq.test(x, p = q)", r_version = R.version.string,
                cases = cases),
           out_path, digits = NA, auto_unbox = TRUE, pretty = TRUE)
