# Reference values for toolkit.analysis.satisfaction.satisfaction_rates_from_counts
# (tests/test_satisfaction.py). Run: Rscript tests/reference/satisfaction_counts.R
# (writes satisfaction_counts.json beside this file). Base R only.
# A counts table as Store.rating_counts returns it: street x item x value -> count, blanks as
# NA values, one street label missing (NA). Per street and item the counts are summed
# (S, B, D, K, E) and the rates computed as in satisfaction.R: prop.test(correct = FALSE)
# (Wilson), binom.test (Clopper-Pearson); Agresti-Coull, Jeffreys, Wald written out from Brown,
# Cai & DasGupta (2001), Statistical Science 16(2), 101-133.
library(jsonlite)
out_dir <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
set.seed(20260301)

codes <- c("satisfied", "basically_satisfied", "dissatisfied", "dont_know")
streets <- c("五里桥街道", "南京东路街道", "豫园街道", NA)
ballots <- c(173, 41, 9, 25)  # ballots per street
members <- c(180, 45, 12, 30)
items <- c("wuye__overall", "juweihui__overall", "wuye__attitude")
probs <- list(c(.5, .3, .1, .05, .05), c(.2, .4, .3, .1, 0), c(0, .6, .3, .1, 0))

counts <- list()
for (s in seq_along(streets)) for (i in seq_along(items)) {
  x <- sample(c(codes, NA), ballots[s], TRUE, prob = probs[[i]])
  tab <- table(factor(x, levels = codes, exclude = NULL), useNA = "ifany")
  for (k in seq_along(tab)) if (tab[[k]] > 0) {
    counts[[length(counts) + 1]] <- list(street = streets[s], variable = items[i],
                                         value = names(tab)[k], count = tab[[k]])
  }
}
# a results sheet may list one cell in two rows: they add up
counts[[length(counts) + 1]] <- list(street = streets[1], variable = items[1], value = "satisfied",
                                     count = 3)
counts[[1]]$count <- counts[[1]]$count - 3
counts_df <- do.call(rbind, lapply(counts, as.data.frame, stringsAsFactors = FALSE))

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
for (i in items) for (s in seq_along(streets)) {
  rows <- counts_df[counts_df$variable == i & ((is.na(streets[s]) & is.na(counts_df$street)) |
                                                 (!is.na(counts_df$street) & counts_df$street %in% streets[s])), ]
  total <- function(v) sum(rows$count[!is.na(rows$value) & rows$value == v])
  S <- total("satisfied"); B <- total("basically_satisfied"); D <- total("dissatisfied")
  N <- sum(rows$count)
  dens <- list(valid = S + B + D, all = N, members = members[s])
  nums <- list(strict = S, broad = S + B, dissatisfied = D)
  for (den in names(dens)) for (meas in names(nums)) for (m in c("wilson", "exact", "agresti-coull", "jeffreys", "wald")) {
    n <- dens[[den]]
    b <- ci(nums[[meas]], n, m)
    rates[[length(rates) + 1]] <- list(
      item = i, street = streets[s], measure = meas, denominator = den, method = m,
      count = nums[[meas]], n = n, estimate = if (n > 0) nums[[meas]] / n else NA,
      ci_low = b[1], ci_high = b[2]
    )
  }
}

out <- list(
  source = paste("R", R.version$major, R.version$minor, "prop.test, binom.test, qbeta, qnorm"),
  counts = counts_df,
  members = lapply(seq_along(streets), function(s) list(street = streets[s], members = members[s])),
  rates = rates
)
write_json(out, file.path(out_dir, "satisfaction_counts.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null", dataframe = "columns")
