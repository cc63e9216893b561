# Reference values for toolkit.analysis.agreement (tests/test_agreement.py).
# Run: Rscript tests/reference/agreement.R  (writes agreement.json beside this file)
# psych::ICC(lmer = FALSE) for the six ICCs. irr is not a Debian package, so irr::kappam.fleiss and
# irr::kendall(correct = TRUE) are written out below line by line from irr 0.84.1's source
# (Fleiss 1971; Fleiss, Nee & Landis 1979; Siegel & Castellan 1988 eq. 9.16).
library(jsonlite)
suppressPackageStartupMessages(library(psych))
out_dir <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
set.seed(7)

# ICC: 25 units (projects) x 5 raters, 0-10 scores with a rater effect; plus Shrout & Fleiss (1979)
true <- rnorm(25, 6, 1.5); bias <- c(-1, 0, 0.5, 1, 0)
scores <- sapply(bias, function(b) pmin(10, pmax(0, round(true + b + rnorm(25, 0, 1)))))
colnames(scores) <- paste0("r", 1:5)
icc_res <- function(x, alpha = 0.05) {
  r <- psych::ICC(x, lmer = FALSE, alpha = alpha)$results
  list(type = r$type, ICC = r$ICC, F = r$F, df1 = r$df1, df2 = r$df2, p = r$p,
       lower = r[["lower bound"]], upper = r[["upper bound"]])
}
sf <- cbind(j1 = c(9, 6, 8, 7, 10, 6), j2 = c(2, 1, 4, 1, 5, 2), j3 = c(5, 3, 6, 2, 6, 4), j4 = c(8, 2, 8, 6, 9, 7))

# irr::kappam.fleiss (exact = FALSE), as in irr 0.84.1
kappam_fleiss <- function(ratings) {
  ratings <- as.matrix(na.omit(ratings)); ns <- nrow(ratings); nr <- ncol(ratings)
  lev <- levels(as.factor(ratings))
  ttab <- t(apply(ratings, 1, function(r) as.numeric(table(factor(r, levels = lev)))))
  agreeP <- sum((apply(ttab^2, 1, sum) - nr) / (nr * (nr - 1)) / ns)
  chanceP <- sum(apply(ttab, 2, sum)^2) / (ns * nr)^2
  value <- (agreeP - chanceP) / (1 - chanceP)
  pj <- apply(ttab, 2, sum) / (ns * nr); qj <- 1 - pj
  varkappa <- (2 / (sum(pj * qj)^2 * (ns * nr * (nr - 1)))) * (sum(pj * qj)^2 - sum(pj * qj * (qj - pj)))
  u <- value / sqrt(varkappa)
  list(kappa = value, z = u, p = 2 * (1 - pnorm(abs(u))), n = ns)
}
# irr::kendall, as in irr 0.84.1
kendall <- function(ratings, correct = FALSE) {
  ratings <- as.matrix(na.omit(ratings)); ns <- nrow(ratings); nr <- ncol(ratings)
  ratings.rank <- apply(ratings, 2, rank)
  if (!correct) {
    coeff <- (12 * var(apply(ratings.rank, 1, sum)) * (ns - 1)) / (nr^2 * (ns^3 - ns))
  } else {
    Tj <- 0
    for (i in 1:nr) { rater <- table(ratings[, i]); ties <- rater[rater > 1]; l <- as.numeric(ties); Tj <- Tj + sum(l^3 - l) }
    coeff <- (12 * var(apply(ratings.rank, 1, sum)) * (ns - 1)) / (nr^2 * (ns^3 - ns) - nr * Tj)
  }
  statistic <- nr * (ns - 1) * coeff
  list(W = coeff, chisq = statistic, df = ns - 1, p = pchisq(statistic, ns - 1, lower.tail = FALSE), n = ns)
}

# nominal ballots: 40 items x 8 members, 3 answers + some blanks
lv <- c("不满意", "基本满意", "满意")
truth <- sample(1:3, 40, TRUE, prob = c(.2, .3, .5))
ballots <- sapply(1:8, function(j) ifelse(runif(40) < 0.7, truth, sample(1:3, 40, TRUE)))
ballots_na <- ballots; ballots_na[sample(length(ballots_na), 15)] <- NA

write_json(list(
  icc = list(data = scores, res = icc_res(scores), res90 = icc_res(scores, alpha = 0.10)),
  shrout_fleiss = list(data = sf, res = icc_res(sf)),
  fleiss = list(levels = lv, data = ballots, res = kappam_fleiss(ballots),
                data_na = ballots_na, res_na = kappam_fleiss(ballots_na)),
  kendall = list(data = scores, res = kendall(scores, correct = TRUE), res_plain = kendall(scores, correct = FALSE)),
  r_version = R.version.string, psych = as.character(packageVersion("psych"))
), file.path(out_dir, "agreement.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
