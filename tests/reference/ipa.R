# Reference values for toolkit.analysis.ipa (tests/test_ipa.py).
# Run: Rscript tests/reference/ipa.R  (writes ipa.json beside this file)
# Performance: broad rates (满意 + 基本满意 over valid answers) with prop.test(correct = FALSE)
# (Wilson) intervals; importance: cor(use = "pairwise.complete.obs") of the scores, and Johnson's
# relative weights (eigen()) on the ballots that answer everything, as shares of R^2;
# quadrants split at the means (Martilla & James 1977).
library(jsonlite)
out_dir <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
set.seed(1977)
n <- 250
f <- rnorm(n)
items <- c("attitude", "efficiency", "transparency", "responsiveness", "results")
lab <- c("不满意", "基本满意", "满意")
cut3 <- function(x) as.integer(cut(x, c(-Inf, -0.6, 0.5, Inf)))
sc <- sapply(c(0.8, 0.2, -0.1, 0.0, -0.5), function(s) cut3(0.8 * f + s + rnorm(n, 0, 0.8)))
colnames(sc) <- items
y <- cut3(sc %*% c(0.1, 0.1, 0.05, 0.3, 0.45) - 2 + rnorm(n, 0, 0.5))
txt <- as.data.frame(apply(sc, 2, function(v) lab[v]))
for (it in items) txt[[it]][sample(n, 12)] <- "不了解"
txt$overall <- lab[y]
score <- function(v) match(v, lab)
S <- sapply(items, function(it) score(txt[[it]]))
Y <- score(txt$overall)
ok <- complete.cases(S)
R <- cor(cbind(S[ok, ], Y[ok]))
p <- length(items)
e <- eigen(R[1:p, 1:p], symmetric = TRUE)
lam <- e$vectors %*% diag(sqrt(e$values)) %*% t(e$vectors)
rw <- drop(lam^2 %*% solve(lam, R[1:p, p + 1])^2)
corr <- sapply(items, function(it) cor(S[, it], Y, use = "pairwise.complete.obs"))
perf <- t(sapply(items, function(it) {
  v <- txt[[it]][txt[[it]] != "不了解"]
  x <- sum(v %in% c("满意", "基本满意"))
  c(x, length(v), x / length(v), prop.test(x, length(v), correct = FALSE)$conf.int)
}))
quad <- function(imp, perf) {
  hi_i <- imp >= mean(imp); hi_p <- perf >= mean(perf)
  ifelse(hi_i & !hi_p, "concentrate_here", ifelse(hi_i & hi_p, "keep_up",
         ifelse(!hi_i & !hi_p, "low_priority", "possible_overkill")))
}
write_json(list(data = txt, items = items,
                count = perf[, 1], n = perf[, 2], estimate = perf[, 3], ci_low = perf[, 4],
                ci_high = perf[, 5], share_rw = rw / sum(rw), correlation = unname(corr),
                quadrant_rw = quad(rw / sum(rw), perf[, 3]), quadrant_cor = quad(corr, perf[, 3]),
                r_version = R.version.string),
           file.path(out_dir, "ipa.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
