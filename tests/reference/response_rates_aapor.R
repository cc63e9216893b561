# Reference for toolkit.analysis.response_rates.response_rates: the AAPOR Standard Definitions
# (9th edition, 2016) outcome rates, written out by hand in R because the `outcomerate` package is
# not a Debian package. e = "estimate" is the proportional allocation
# (I+P+R+NC+O) / (I+P+R+NC+O+NE), as outcomerate::eligibility_rate.
# Run: Rscript tests/reference/response_rates_aapor.R
library(jsonlite)
out_path <- file.path(dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE))),
                      "response_rates_aapor.json")

aapor <- function(d, e) {
  I <- d[["I"]]; P <- d[["P"]]; R <- d[["R"]]; NC <- d[["NC"]]; O <- d[["O"]]
  UH <- d[["UH"]]; UO <- d[["UO"]]; NE <- d[["NE"]]
  if (identical(e, "estimate")) e <- (I + P + R + NC + O) / (I + P + R + NC + O + NE)
  list(
    RR1 = I / ((I + P) + (R + NC + O) + (UH + UO)),
    RR2 = (I + P) / ((I + P) + (R + NC + O) + (UH + UO)),
    RR3 = I / ((I + P) + (R + NC + O) + e * (UH + UO)),
    RR4 = (I + P) / ((I + P) + (R + NC + O) + e * (UH + UO)),
    RR5 = I / ((I + P) + (R + NC + O)),
    RR6 = (I + P) / ((I + P) + (R + NC + O)),
    COOP1 = I / ((I + P) + R + O),
    COOP2 = (I + P) / ((I + P) + R + O),
    COOP3 = I / ((I + P) + R),
    COOP4 = (I + P) / ((I + P) + R),
    REF1 = R / ((I + P) + (R + NC + O) + (UH + UO)),
    REF2 = R / ((I + P) + (R + NC + O) + e * (UH + UO)),
    REF3 = R / ((I + P) + (R + NC + O)),
    CON1 = ((I + P) + R + O) / ((I + P) + R + O + NC + (UH + UO)),
    CON2 = ((I + P) + R + O) / ((I + P) + R + O + NC + e * (UH + UO)),
    CON3 = ((I + P) + R + O) / ((I + P) + R + O + NC),
    e = e
  )
}

samples <- list(
  # a household survey of two 居民区 around an elevator hearing
  list(name = "juminqu_a", counts = c(I = 412, P = 23, R = 96, NC = 141, O = 17, UH = 38, UO = 12,
                                        NE = 61)),
  list(name = "juminqu_b", counts = c(I = 188, P = 9, R = 70, NC = 55, O = 4, UH = 0, UO = 21,
                                        NE = 30)),
  # the outcomerate README example
  list(name = "outcomerate_readme", counts = c(I = 4, P = 2, R = 1, NC = 1, O = 1, UH = 1, UO = 1,
                                                 NE = 1))
)
results <- list()
for (s in samples) {
  for (e in list("estimate", 0.5, 0, 1)) {
    results[[length(results) + 1]] <- list(name = s$name, counts = as.list(s$counts),
                                           e_given = e, rates = aapor(as.list(s$counts), e))
  }
}
write_json(list(source = "AAPOR Standard Definitions (2016, 9th ed.) formulas evaluated in R",
                r_version = R.version.string, results = results),
           out_path, digits = NA, auto_unbox = TRUE, pretty = TRUE)
