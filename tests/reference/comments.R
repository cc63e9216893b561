# Reference values for toolkit.analysis.comments (tests/test_comments.py).
# Run: Rscript tests/reference/comments.R  (writes comments.json beside this file)
# Per code, each coder's yes/no on every comment; agreement by Fleiss' kappa (irr::kappam.fleiss
# written out from irr 0.84.1's source, as in agreement.R: irr is not a Debian package) and by
# Krippendorff's alpha, nominal, from its coincidence matrix (Krippendorff 2011, section C), in base
# R. Themes by satisfaction level with table().
library(jsonlite)
out_dir <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
set.seed(2026)

kappam_fleiss <- function(ratings) {
  ratings <- as.matrix(na.omit(ratings)); ns <- nrow(ratings); nr <- ncol(ratings)
  lev <- levels(as.factor(ratings))
  ttab <- t(apply(ratings, 1, function(r) as.numeric(table(factor(r, levels = lev)))))
  agreeP <- sum((apply(ttab^2, 1, sum) - nr) / (nr * (nr - 1)) / ns)
  chanceP <- sum(apply(ttab, 2, sum)^2) / (ns * nr)^2
  (agreeP - chanceP) / (1 - chanceP)
}

kripp_nominal <- function(ratings) {
  vals <- sort(unique(na.omit(as.vector(ratings))))
  o <- matrix(0, length(vals), length(vals))
  for (u in seq_len(nrow(ratings))) {
    v <- na.omit(ratings[u, ]); m <- length(v)
    if (m < 2) next
    tab <- table(factor(v, levels = vals))
    pairs <- outer(as.numeric(tab), as.numeric(tab)) - diag(as.numeric(tab))
    o <- o + pairs / (m - 1)
  }
  nc <- rowSums(o); n <- sum(nc)
  off <- 1 - diag(length(vals))
  1 - (n - 1) * sum(o * off) / sum(outer(nc, nc) * off)
}

n_units <- 60
codes <- c("noise", "cost", "attitude")
truth <- sapply(c(0.35, 0.2, 0.15), function(p) rbinom(n_units, 1, p))
colnames(truth) <- codes
coder_view <- function(flip) {
  x <- truth
  x[] <- ifelse(runif(length(x)) < flip, 1 - x, x)
  x
}
coders <- list(A = coder_view(0.05), B = coder_view(0.12), C = coder_view(0.2))
# coder C skipped 6 comments (missing for alpha; left out of Fleiss' kappa)
skipped <- c(3, 11, 19, 27, 42, 55)

results <- list()
for (k in codes) {
  two <- cbind(A = coders$A[, k], B = coders$B[, k])
  three <- cbind(two, C = coders$C[, k]); three[skipped, "C"] <- NA
  results[[k]] <- list(
    alpha_two = kripp_nominal(two), kappa_two = kappam_fleiss(two),
    alpha_three = kripp_nominal(three), kappa_three = kappam_fleiss(three),
    agreement_two = mean(two[, 1] == two[, 2])
  )
}

levels_sat <- c("满意", "基本满意", "不满意")
level <- factor(sample(levels_sat, n_units, replace = TRUE, prob = c(0.4, 0.35, 0.25)),
                levels = levels_sat)
long_level <- rep(level, times = rowSums(coders$A))
long_code <- unlist(lapply(seq_len(n_units), function(u) codes[coders$A[u, ] == 1]))
crosstab <- table(level = long_level, code = factor(long_code, levels = sort(codes)))

out <- list(
  codes = codes,
  A = coders$A, B = coders$B, C = coders$C, skipped = skipped,
  results = results,
  level = as.character(level),
  crosstab = list(level = rep(levels_sat, times = length(codes)),
                  code = rep(sort(codes), each = length(levels_sat)),
                  count = as.vector(crosstab),
                  n = rep(as.vector(table(level)), times = length(codes)))
)
write_json(out, file.path(out_dir, "comments.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
