# Reference values for toolkit.report.meeting (tests/test_report_meeting.py).
# Run: Rscript tests/reference/report_meeting.R  (writes report_meeting.json beside this file)
# The counts are those of the demo meeting S01-C01-M02 (toolkit.demo, seed 17), as the test
# re-derives them from the store: Residents' committee overall item, 满意 + 基本满意 = 39 of 41 valid
# answers; turnout 43 attended of 75 invited. Wilson intervals: prop.test(x, n, correct = FALSE).
library(jsonlite)
out_dir <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
wilson <- function(x, n) {
  ci <- prop.test(x, n, correct = FALSE)$conf.int
  list(count = x, n = n, estimate = x / n, ci_low = ci[1], ci_high = ci[2])
}
out <- list(
  meeting_id = "S01-C01-M02",
  juweihui_overall_broad = wilson(39, 41),
  turnout_all = wilson(43, 75)
)
write_json(out, file.path(out_dir, "report_meeting.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
