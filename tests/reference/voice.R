# Reference values for toolkit.analysis.voice (tests/test_voice.py).
# Run: Rscript tests/reference/voice.R  (writes voice.json beside this file)
# ineq and DescTools are not Debian packages, so the Gini coefficient, the Lorenz curve and the top
# share are written in base R from their closed forms (ineq::Gini, ineq::Lc). The bootstrap
# resamples are drawn here and written out, so the test recomputes the percentile interval from the
# same resamples (quantile type 7).
library(jsonlite)
out_dir <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
set.seed(18)

gini_closed <- function(x) {
  x <- sort(x); n <- length(x)
  sum((2 * seq_len(n) - n - 1) * x) / (n * sum(x))
}
lorenz <- function(x) {
  x <- sort(x); n <- length(x)
  list(p = (0:n) / n, L = c(0, cumsum(x)) / sum(x))
}
top_share <- function(x, top = 0.1) {
  lc <- lorenz(x)
  1 - approx(lc$p, lc$L, xout = 1 - top)$y
}

# a 60-minute hearing: 24 people present, 17 of them spoke (seconds per seat), 7 never did
seconds <- c(412, 35, 61, 18, 240, 95, 22, 15, 130, 48, 600, 27, 74, 12, 33, 180, 55)
present <- c(seconds, rep(0, 7))
published <- c(1, 3, 2, 1, 1, 1, 4)  # phylotools::gini example, 0.3076923

B <- 200
n <- length(present)
idx <- t(replicate(B, sample.int(n, n, replace = TRUE)))
draws <- apply(idx, 1, function(i) gini_closed(present[i]))
ci <- unname(quantile(draws, c(0.025, 0.975), type = 7))

# turns in order: category and seconds
category <- c("residents_committee", "resident", "property", "resident", "party_member",
              "property", "residents_committee", "resident", "building_head", "government",
              "resident", "property", "resident", "owners_committee", "residents_committee",
              "contractor", "resident", "other", "resident", "residents_committee")
turn_seconds <- c(300, 45, 120, 60, 30, 200, 90, 25, 40, 150, 70, 85, 20, 55, 60, 110, 35, 15,
                  50, 180)
levels_all <- c("resident", "party_member", "building_head", "owners_committee", "property",
                "residents_committee", "contractor", "government", "other")
f <- factor(category, levels = levels_all)
by_cat <- data.frame(category = levels(f), count = as.integer(table(f)),
                     seconds = as.numeric(tapply(turn_seconds, f, sum, default = 0)))
by_cat <- by_cat[by_cat$count > 0, ]
by_cat$share_time <- by_cat$seconds / sum(by_cat$seconds)
by_cat$share_turns <- by_cat$count / sum(by_cat$count)
by_cat$mean_seconds <- by_cat$seconds / by_cat$count

group_of <- c(resident = "residents", party_member = "residents", building_head = "residents",
              owners_committee = "residents", residents_committee = "cadres",
              government = "cadres", property = "evaluated", contractor = "evaluated",
              other = "other")
g <- factor(group_of[category], levels = c("residents", "cadres", "evaluated", "other"))
groups <- data.frame(group = levels(g), count = as.integer(table(g)),
                     seconds = as.numeric(tapply(turn_seconds, g, sum)))
groups$share_time <- groups$seconds / sum(groups$seconds)

tab <- table(from = factor(head(category, -1), levels = levels_all),
             to = factor(tail(category, -1), levels = levels_all))
prop <- prop.table(tab, 1)
long <- as.data.frame(tab, stringsAsFactors = FALSE)
long$estimate <- as.data.frame(prop, stringsAsFactors = FALSE)$Freq
long <- long[long$Freq > 0, ]

out <- list(
  published = list(x = published, gini = gini_closed(published)),
  seconds = seconds,
  present = present,
  gini_speakers = gini_closed(seconds),
  gini_present = gini_closed(present),
  gini_present_corrected = gini_closed(present) * n / (n - 1),
  lorenz_p = lorenz(present)$p,
  lorenz_L = lorenz(present)$L,
  top10_present = top_share(present),
  top10_speakers = top_share(seconds),
  top20_present = top_share(present, 0.2),
  boot_idx = idx,
  boot_ci = ci,
  category = category,
  turn_seconds = turn_seconds,
  by_category = by_cat,
  groups = groups,
  transitions = list(from = long$from, to = long$to, count = long$Freq,
                     estimate = long$estimate)
)
write_json(out, file.path(out_dir, "voice.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
