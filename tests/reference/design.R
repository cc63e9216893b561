# Reference values for tests/test_design.py and tests/test_weighting.py (R package `survey`).
# Run from the repository root:  Rscript tests/reference/design.R
# Writes tests/reference/data/{apistrat,apiclus1,apiclus2,own}.csv and tests/reference/design.json.
suppressPackageStartupMessages({library(survey); library(jsonlite)})
here <- "tests/reference"
dir.create(file.path(here, "data"), showWarnings = FALSE)
data(api)
cols <- c("cds", "stype", "dnum", "snum", "api00", "api99", "enroll", "meals", "avg.ed",
          "sch.wide", "comp.imp", "awards", "pw")
apistrat_out <- apistrat[, c(cols, "fpc")]
apiclus1_out <- apiclus1[, c(cols, "fpc")]
apiclus1_out$fpcfrac <- 15 / apiclus1$fpc           # the same fpc as a sampling fraction
apiclus2_out <- apiclus2[, c(cols, "fpc1", "fpc2")]
write.csv(apistrat_out, file.path(here, "data", "apistrat.csv"), row.names = FALSE)
write.csv(apiclus1_out, file.path(here, "data", "apiclus1.csv"), row.names = FALSE)
write.csv(apiclus2_out, file.path(here, "data", "apiclus2.csv"), row.names = FALSE)

# ---- our own data: six strata (one with a single PSU, one sampled with certainty), PSU ids
# repeating across strata (nest=TRUE), two stages with one single-SSU PSU, zero weights,
# missing values, a domain where every case says yes, an unused domain level.
set.seed(20240611)
psus_per_stratum <- c(h1 = 3, h2 = 4, h3 = 2, h4 = 1, h5 = 5, h6 = 3)
rows <- list()
for (h in names(psus_per_stratum)) {
  k <- psus_per_stratum[[h]]
  popk <- if (h == "h3") 2 else k * 4 + 3            # h3: all its PSUs sampled (certainty)
  for (p in seq_len(k)) {
    nssu <- if (h == "h2" && p == 1) 1 else sample(2:3, 1)
    for (s in seq_len(nssu)) {
      m <- sample(2:4, 1)
      rows[[length(rows) + 1]] <- data.frame(stratum = h, psu = p, ssu = s, fpc1 = popk,
                                             fpc2 = nssu + sample(0:4, 1) * (nssu > 1) + 2 * (nssu == 1),
                                             case = seq_len(m))
    }
  }
}
own <- do.call(rbind, rows)
# fpc2 must be constant within a PSU
own$fpc2 <- ave(own$fpc2, own$stratum, own$psu, FUN = function(v) v[1])
n <- nrow(own)
own$role <- factor(sample(c("resident", "cadre", "party"), n, replace = TRUE, prob = c(.6, .2, .2)),
                   levels = c("cadre", "deputy", "party", "resident"))
own$band <- sample(c("low", "mid", "high"), n, replace = TRUE)
own$w <- round(runif(n, 5, 40), 1)
own$w[c(3, 17)] <- 0
own$x <- round(runif(n, 1, 5), 2)
own$y <- round(60 + 10 * (own$role == "party") + rnorm(n, 0, 12), 1)
own$y[c(5, 11, 30)] <- NA
own$sat <- sample(c("sat", "basic", "unsat"), n, replace = TRUE, prob = c(.5, .3, .2))
own$sat[c(8, 21)] <- NA
own$yes <- as.integer(runif(n) < 0.6)
own$yes[own$role == "cadre"] <- 1L
own$frac1 <- ave(own$psu, own$stratum, FUN = function(v) length(unique(v))) / own$fpc1
write.csv(own, file.path(here, "data", "own.csv"), row.names = FALSE)

# ---- helpers -----------------------------------------------------------------------------------
out <- list()
rec <- function(name, expr) {
  val <- tryCatch(expr, error = function(e) list(error = conditionMessage(e)))
  out[[name]] <<- val
}
tidy <- function(x, deff = TRUE) {
  ci <- confint(x)
  d <- data.frame(estimate = unname(coef(x)), se = unname(SE(x)), ci_low = unname(ci[, 1]),
                  ci_high = unname(ci[, 2]))
  if (deff) d$deff <- unname(diag(as.matrix(deff(x))))
  d
}
tidy_by <- function(b, by, deff = TRUE) {
  ci <- confint(b)
  d <- data.frame(key = as.character(b[[by]]), estimate = unname(coef(b)), se = unname(SE(b)),
                  ci_low = unname(ci[, 1]), ci_high = unname(ci[, 2]))
  if (deff) d$deff <- unname(deff(b))
  d
}
tidy_ratio <- function(r) {
  ci <- confint(r)
  data.frame(estimate = unname(as.vector(coef(r))), se = unname(as.vector(SE(r))),
             ci_low = unname(ci[, 1]), ci_high = unname(ci[, 2]), deff = unname(as.vector(attr(r, "deff"))))
}
tidy_ratio_by <- function(b, by) {
  ci <- confint(b)
  data.frame(key = as.character(b[[by]]), estimate = unname(coef(b)), se = unname(SE(b)),
             ci_low = unname(ci[, 1]), ci_high = unname(ci[, 2]))
}
tidy_ciprop <- function(x) {
  ci <- as.vector(attr(x, "ci"))
  data.frame(estimate = as.vector(unclass(x))[1], se = as.vector(sqrt(attr(x, "var")))[1],
             ci_low = ci[1], ci_high = ci[2])
}
tidy_ciprop_by <- function(b, by) {
  data.frame(key = as.character(b[[by]]), estimate = unname(coef(b)), se = unname(SE(b)),
             ci_low = b$ci_l, ci_high = b$ci_u)
}
tidy_chisq <- function(t) {
  data.frame(statistic = unname(t$statistic), df1 = unname(t$parameter[1]),
             df2 = if (length(t$parameter) > 1) unname(t$parameter[2]) else NA,
             p_value = t$p.value)
}
methods <- c("logit", "likelihood", "beta", "mean")

# ---- api designs -------------------------------------------------------------------------------
options(survey.lonely.psu = "fail")
designs <- list(
  strat = svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc),
  strat_nofpc = svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat),
  clus1 = svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc),
  clus1_frac = svydesign(id = ~dnum, weights = ~pw, data = apiclus1_out, fpc = ~fpcfrac),
  clus2 = svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2),
  clus2_nofpc = svydesign(id = ~dnum + snum, weights = ~pw, data = apiclus2)
)
pop.types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop.schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
designs$clus1_post <- postStratify(designs$clus1, ~stype, pop.types)
designs$clus1_rake <- rake(designs$clus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide))
designs$strat_rake <- rake(designs$strat_nofpc, list(~stype, ~sch.wide), list(pop.types, pop.schwide))
designs$clus2_post <- postStratify(designs$clus2, ~stype, pop.types)
out$weights_clus1_post <- unname(weights(designs$clus1_post))
out$weights_clus1_rake <- unname(weights(designs$clus1_rake))
out$weights_strat_rake <- unname(weights(designs$strat_rake))
out$weights_trim <- unname(weights(trimWeights(designs$clus2, upper = 60, lower = 20)))
out$weights_trim_strict <- unname(weights(trimWeights(designs$clus2, upper = 45, strict = TRUE)))
out$degf <- lapply(designs, degf)

for (dn in names(designs)) {
  d <- designs[[dn]]
  rec(paste(dn, "mean_api00", sep = "/"), tidy(svymean(~api00, d, deff = TRUE)))
  rec(paste(dn, "mean_avged", sep = "/"), tidy(svymean(~avg.ed, d, deff = TRUE, na.rm = TRUE)))
  rec(paste(dn, "total_enroll", sep = "/"), tidy(svytotal(~enroll, d, deff = TRUE, na.rm = TRUE)))
  rec(paste(dn, "by_mean_api00_stype", sep = "/"),
      tidy_by(svyby(~api00, ~stype, d, svymean, deff = TRUE), "stype"))
  rec(paste(dn, "by_mean_avged_stype", sep = "/"),
      tidy_by(svyby(~avg.ed, ~stype, d, svymean, deff = TRUE, na.rm = TRUE), "stype"))
  rec(paste(dn, "by_total_enroll_schwide", sep = "/"),
      tidy_by(svyby(~enroll, ~sch.wide, d, svytotal, deff = TRUE, na.rm = TRUE), "sch.wide"))
  rec(paste(dn, "ratio_api00_api99", sep = "/"), tidy_ratio(svyratio(~api00, ~api99, d, deff = TRUE)))
  rec(paste(dn, "by_ratio_api00_api99_stype", sep = "/"),
      tidy_ratio_by(svyby(~api00, ~stype, d, svyratio, denominator = ~api99), "stype"))
  for (m in methods) {
    rec(paste(dn, "ciprop_schwide", m, sep = "/"),
        tidy_ciprop(svyciprop(~I(sch.wide == "Yes"), d, method = m)))
    rec(paste(dn, "by_ciprop_schwide_stype", m, sep = "/"),
        tidy_ciprop_by(svyby(~I(sch.wide == "Yes"), ~stype, d, svyciprop, vartype = c("se", "ci"), method = m),
                       "stype"))
  }
  rec(paste(dn, "by_mean_awards_stype", sep = "/"),   # proportion of each level, as svymean of a factor
      {b <- svyby(~awards, ~stype, d, svymean, deff = TRUE)
       data.frame(key = rep(as.character(b$stype), 2), level = rep(c("No", "Yes"), each = nrow(b)),
                  estimate = as.vector(as.matrix(b[, 2:3])), se = as.vector(as.matrix(b[, 4:5])),
                  deff = as.vector(as.matrix(b[, 6:7])))})
  rec(paste(dn, "chisq_schwide_stype_F", sep = "/"), tidy_chisq(svychisq(~sch.wide + stype, d)))
  rec(paste(dn, "chisq_schwide_stype_Chisq", sep = "/"),
      tidy_chisq(svychisq(~sch.wide + stype, d, statistic = "Chisq")))
  rec(paste(dn, "chisq_awards_compimp_F", sep = "/"), tidy_chisq(svychisq(~awards + comp.imp, d)))
}
# a subset keeps the design (R: subset.survey.design)
rec("clus1/subset_mean_api00_E", tidy(svymean(~api00, subset(designs$clus1, stype == "E"), deff = TRUE)))
rec("clus1_rake/subset_mean_api00_E",
    tidy(svymean(~api00, subset(designs$clus1_rake, stype == "E"), deff = TRUE)))
rec("clus2/subset_total_enroll_H",
    tidy(svytotal(~enroll, subset(designs$clus2, stype == "H"), deff = TRUE, na.rm = TRUE)))

# ---- own data under every lonely-PSU option ---------------------------------------------------
for (opt in c("fail", "remove", "certainty", "adjust", "average")) {
  options(survey.lonely.psu = opt)
  own_designs <- list(
    own1 = svydesign(id = ~psu, strata = ~stratum, weights = ~w, fpc = ~fpc1, data = own, nest = TRUE),
    own1_frac = svydesign(id = ~psu, strata = ~stratum, weights = ~w, fpc = ~frac1, data = own,
                          nest = TRUE),
    own1_nofpc = svydesign(id = ~psu, strata = ~stratum, weights = ~w, data = own, nest = TRUE),
    own2 = svydesign(id = ~psu + ssu, strata = ~stratum, weights = ~w, fpc = ~fpc1 + fpc2, data = own,
                     nest = TRUE),
    own2_noweights = svydesign(id = ~psu + ssu, strata = ~stratum, fpc = ~fpc1 + fpc2, data = own,
                               nest = TRUE)
  )
  for (dn in names(own_designs)) {
    d <- own_designs[[dn]]
    key <- paste(opt, dn, sep = "/")
    rec(paste(key, "mean_y", sep = "/"), tidy(svymean(~y, d, deff = TRUE, na.rm = TRUE)))
    rec(paste(key, "total_y", sep = "/"), tidy(svytotal(~y, d, deff = TRUE, na.rm = TRUE)))
    rec(paste(key, "by_mean_y_role", sep = "/"),
        tidy_by(svyby(~y, ~role, d, svymean, deff = TRUE, na.rm = TRUE), "role"))
    rec(paste(key, "by_mean_y_band", sep = "/"),
        tidy_by(svyby(~y, ~band, d, svymean, deff = TRUE, na.rm = TRUE), "band"))
    rec(paste(key, "by_total_y_role", sep = "/"),
        tidy_by(svyby(~y, ~role, d, svytotal, deff = TRUE, na.rm = TRUE), "role"))
    rec(paste(key, "ratio_y_x", sep = "/"), tidy_ratio(svyratio(~y, ~x, d, deff = TRUE, na.rm = TRUE)))
    rec(paste(key, "by_ratio_y_x_role", sep = "/"),
        tidy_ratio_by(svyby(~y, ~role, d, svyratio, denominator = ~x, na.rm = TRUE), "role"))
    for (m in methods) {
      rec(paste(key, "ciprop_sat", m, sep = "/"),
          tidy_ciprop(svyciprop(~I(sat == "sat"), d, method = m, na.rm = TRUE)))
      rec(paste(key, "by_ciprop_yes_role", m, sep = "/"),
          tidy_ciprop_by(svyby(~I(yes == 1), ~role, d, svyciprop, vartype = c("se", "ci"), method = m), "role"))
      rec(paste(key, "by_ciprop_y60_role", m, sep = "/"),
          tidy_ciprop_by(svyby(~I(y > 60), ~role, d, svyciprop, vartype = c("se", "ci"), method = m,
                               na.rm = TRUE), "role"))
      rec(paste(key, "by_ciprop_sat_band", m, sep = "/"),
          tidy_ciprop_by(svyby(~I(sat == "sat"), ~band, d, svyciprop, vartype = c("se", "ci"), method = m,
                               na.rm = TRUE), "band"))
    }
    rec(paste(key, "by_se_sat_band", sep = "/"),
        tidy_by(svyby(~as.numeric(sat == "sat"), ~band, d, svymean, deff = TRUE, na.rm = TRUE), "band"))
    rec(paste(key, "chisq_sat_band_F", sep = "/"), tidy_chisq(svychisq(~sat + band, d)))
    rec(paste(key, "chisq_sat_band_Chisq", sep = "/"),
        tidy_chisq(svychisq(~sat + band, d, statistic = "Chisq")))
    pop_band <- data.frame(band = c("high", "low", "mid"), Freq = c(900, 1200, 1500))
    pop_role <- data.frame(role = c("cadre", "party", "resident"), Freq = c(500, 700, 2400))
    rec(paste(key, "post_by_mean_y_role", sep = "/"),
        tidy_by(svyby(~y, ~role, postStratify(d, ~band, pop_band), svymean, deff = TRUE, na.rm = TRUE),
                "role"))
    # R's raking variance divides by the weights: zero weights give NaN (or 0); the same design
    # without the zero-weight rows is what ours reproduces on the full data
    dz <- subset(d, w > 0)
    rec(paste(key, "rake_mean_y_nozero", sep = "/"),
        tidy(svymean(~y, rake(dz, list(~band, ~role), list(pop_band, pop_role)), deff = TRUE,
                     na.rm = TRUE)))
    rec(paste(key, "rake_mean_y", sep = "/"),
        tidy(svymean(~y, rake(d, list(~band, ~role), list(pop_band, pop_role)), deff = TRUE,
                     na.rm = TRUE)))
  }
}
options(survey.lonely.psu = "fail")
d <- svydesign(id = ~psu, strata = ~stratum, weights = ~w, fpc = ~fpc1, data = own, nest = TRUE)
pop_band <- data.frame(band = c("high", "low", "mid"), Freq = c(900, 1200, 1500))
pop_role <- data.frame(role = c("cadre", "party", "resident"), Freq = c(500, 700, 2400))
out$weights_own_rake <- unname(weights(rake(d, list(~band, ~role), list(pop_band, pop_role))))
out$weights_own_post <- unname(weights(postStratify(d, ~band, pop_band)))

write_json(out, file.path(here, "design.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE,
           na = "string")
cat("wrote", length(out), "entries\n")
