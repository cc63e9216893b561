# Reference values for toolkit.analysis.compare (tests/test_compare.py).
# Run: Rscript tests/reference/compare_groups.R  (writes compare_groups.json beside this file)
# Base R only: wilcox.test, kruskal.test, chisq.test, fisher.test, p.adjust. Dunn's test (dunn.test /
# FSA::dunnTest are not Debian packages) is written out from Dunn (1964) as dunn.test computes it.
library(jsonlite)
out_dir <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
set.seed(20240601)
lv <- c("不满意", "基本满意", "满意")

# 1. ordinal answer, two groups (party members vs others)
g2 <- rep(c("党员", "群众"), c(23, 31))
y2 <- c(sample(1:3, 23, TRUE, prob = c(.1, .3, .6)), sample(1:3, 31, TRUE, prob = c(.3, .4, .3)))
mw <- lapply(c("two.sided", "greater", "less"), function(a) {
  t <- wilcox.test(y2[g2 == "党员"], y2[g2 == "群众"], exact = FALSE, correct = TRUE, alternative = a)
  list(alternative = a, W = unname(t$statistic), p = t$p.value)
})
mw_nc <- wilcox.test(y2[g2 == "党员"], y2[g2 == "群众"], exact = FALSE, correct = FALSE)

# 2. 0-10 scores, four communities: Kruskal-Wallis and Dunn
g4 <- rep(c("A", "B", "C", "D"), c(15, 22, 18, 25))
y4 <- c(sample(4:10, 15, TRUE), sample(2:9, 22, TRUE), sample(5:10, 18, TRUE), sample(0:10, 25, TRUE))
kw <- kruskal.test(y4, factor(g4))
dunn <- function(x, g) {
  g <- factor(g); N <- length(x); r <- rank(x); n <- tabulate(g); mr <- tapply(r, g, mean)
  ties <- table(x); s2 <- N * (N + 1) / 12 - sum(ties^3 - ties) / (12 * (N - 1))
  res <- list(); k <- nlevels(g)
  for (i in 1:(k - 1)) for (j in (i + 1):k) {
    z <- (mr[i] - mr[j]) / sqrt(s2 * (1 / n[i] + 1 / n[j]))
    res[[length(res) + 1]] <- data.frame(group1 = levels(g)[i], group2 = levels(g)[j],
                                         z = unname(z), p = 2 * pnorm(-abs(unname(z))))
  }
  res <- do.call(rbind, res)
  res$p_holm <- p.adjust(res$p, "holm"); res$p_bh <- p.adjust(res$p, "BH")
  res$p_bonferroni <- p.adjust(res$p, "bonferroni")
  res
}
dn <- dunn(y4, g4)
# pairwise rank-biserial from wilcox.test's W of each pair
dn$rank_biserial <- mapply(function(a, b) {
  x <- y4[g4 == a]; y <- y4[g4 == b]
  2 * unname(suppressWarnings(wilcox.test(x, y, exact = FALSE))$statistic) / (length(x) * length(y)) - 1
}, dn$group1, dn$group2)

# 3. categorical answer (with 不了解), three groups: chi-square
g3 <- rep(c("楼组长", "居民", "业委会"), c(40, 60, 30))
c3 <- sample(c(lv, "不了解"), 130, TRUE, prob = c(.2, .3, .4, .1))
tab3 <- table(factor(g3, levels = c("居民", "业委会", "楼组长")), factor(c3, levels = c("不了解", lv)))
chi3 <- suppressWarnings(chisq.test(tab3))

# 4. 2 x 2 with small counts: Yates chi-square and Fisher
g22 <- rep(c("a", "b"), c(9, 11))
y22 <- c(rep(c("no", "yes"), c(2, 7)), rep(c("no", "yes"), c(8, 3)))
tab22 <- table(g22, y22)
chi22 <- suppressWarnings(chisq.test(tab22))
chi22u <- suppressWarnings(chisq.test(tab22, correct = FALSE))
fi <- lapply(c("two.sided", "greater", "less"), function(a) {
  t <- fisher.test(tab22, alternative = a, conf.level = 0.9)
  list(alternative = a, p = t$p.value, or = unname(t$estimate), low = t$conf.int[1], high = t$conf.int[2])
})

# fisher.test finds the conditional MLE and its interval with uniroot's default tolerance
# (about 1e-4); the same equations solved to 1e-14 (R's own code, tighter tolerance) for the test:
fisher_precise <- function(x, alternative, conf.level) {
  m <- sum(x[, 1L]); n <- sum(x[, 2L]); k <- sum(x[1L, ]); x <- x[1L, 1L]
  lo <- max(0L, k - n); hi <- min(k, m); support <- lo:hi
  logdc <- dhyper(support, m, n, k, log = TRUE)
  dnhyper <- function(ncp) { d <- logdc + log(ncp) * support; d <- exp(d - max(d)); d / sum(d) }
  mnhyper <- function(ncp) if (ncp == 0) lo else if (ncp == Inf) hi else sum(support * dnhyper(ncp))
  pnhyper <- function(q, ncp, upper.tail = FALSE) {
    if (ncp == 1) return(if (upper.tail) phyper(x - 1, m, n, k, lower.tail = FALSE) else phyper(x, m, n, k))
    if (ncp == 0) return(as.numeric(if (upper.tail) q <= lo else q >= lo))
    if (ncp == Inf) return(as.numeric(if (upper.tail) q <= hi else q >= hi))
    sum(dnhyper(ncp)[if (upper.tail) support >= q else support <= q])
  }
  tol <- 1e-14
  mle <- if (x == lo) 0 else if (x == hi) Inf else {
    mu <- mnhyper(1)
    if (mu > x) uniroot(function(t) mnhyper(t) - x, c(0, 1), tol = tol)$root
    else if (mu < x) 1 / uniroot(function(t) mnhyper(1 / t) - x, c(.Machine$double.eps, 1), tol = tol)$root
    else 1
  }
  ncp.U <- function(x, alpha) {
    if (x == hi) return(Inf); p <- pnhyper(x, 1)
    if (p < alpha) uniroot(function(t) pnhyper(x, t) - alpha, c(0, 1), tol = tol)$root
    else if (p > alpha) 1 / uniroot(function(t) pnhyper(x, 1 / t) - alpha, c(.Machine$double.eps, 1), tol = tol)$root
    else 1
  }
  ncp.L <- function(x, alpha) {
    if (x == lo) return(0); p <- pnhyper(x, 1, upper.tail = TRUE)
    if (p > alpha) uniroot(function(t) pnhyper(x, t, upper.tail = TRUE) - alpha, c(0, 1), tol = tol)$root
    else if (p < alpha) 1 / uniroot(function(t) pnhyper(x, 1 / t, upper.tail = TRUE) - alpha, c(.Machine$double.eps, 1), tol = tol)$root
    else 1
  }
  ci <- switch(alternative, less = c(0, ncp.U(x, 1 - conf.level)), greater = c(ncp.L(x, 1 - conf.level), Inf),
               two.sided = { alpha <- (1 - conf.level) / 2; c(ncp.L(x, alpha), ncp.U(x, alpha)) })
  list(or = mle, low = ci[1], high = ci[2])
}
for (i in seq_along(fi)) {
  pr <- fisher_precise(tab22, fi[[i]]$alternative, 0.9)
  fi[[i]]$or_precise <- pr$or; fi[[i]]$low_precise <- pr$low; fi[[i]]$high_precise <- pr$high
}

write_json(list(
  two = list(g = g2, y = y2, levels = lv, mw = mw, p_nocorrect = mw_nc$p.value),
  four = list(g = g4, y = y4, H = unname(kw$statistic), df = unname(kw$parameter), p = kw$p.value, dunn = dn),
  cat3 = list(g = g3, y = c3, X2 = unname(chi3$statistic), df = unname(chi3$parameter), p = chi3$p.value,
              min_expected = min(chi3$expected), n = sum(tab3)),
  cat22 = list(g = g22, y = y22, X2 = unname(chi22$statistic), X2_plain = unname(chi22u$statistic),
               p = chi22$p.value, p_plain = chi22u$p.value, fisher = fi),
  r_version = R.version.string
), file.path(out_dir, "compare_groups.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
