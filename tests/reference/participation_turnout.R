# Reference for toolkit.analysis.participation.turnout: Wilson score intervals from
# stats::prop.test(x, n, correct = FALSE). Run: Rscript tests/reference/participation_turnout.R
library(jsonlite)
out_path <- file.path(dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE))),
                      "participation_turnout.json")

wilson <- function(x, n, conf) {
  ci <- prop.test(x, n, correct = FALSE, conf.level = conf)$conf.int
  list(count = x, n = n, confidence = conf, estimate = x / n,
       ci_low = ci[1], ci_high = ci[2])
}

# single (x, n) pairs, including the edges x = 0 and x = n and a small meeting
pairs <- list(c(13, 20), c(0, 16), c(16, 16), c(1, 30), c(29, 30), c(37, 50), c(138, 1000),
              c(557, 1000), c(777, 1000), c(651, 1000), c(484, 1000))
single <- list()
for (conf in c(0.95, 0.90)) {
  for (p in pairs) single[[length(single) + 1]] <- wilson(p[1], p[2], conf)
}

# a grouped roster: role x attended counts; the Python test rebuilds the roster from these
groups <- data.frame(role = c("cadre", "resident", "volunteer"),
                     attended = c(9, 21, 4), invited = c(10, 48, 7))
grouped <- list(overall = wilson(sum(groups$attended), sum(groups$invited), 0.95), by_role = list())
for (i in seq_len(nrow(groups))) {
  r <- wilson(groups$attended[i], groups$invited[i], 0.95)
  r$role <- groups$role[i]
  grouped$by_role[[i]] <- r
}

write_json(list(source = "R stats::prop.test(x, n, correct = FALSE)$conf.int",
                r_version = R.version.string, single = single, grouped = grouped),
           out_path, digits = NA, auto_unbox = TRUE, pretty = TRUE)
