# Log-rank test with late entry, written out by hand in R, for the ties fixture
# (survival::survdiff does not take counting-process data). At each distinct event
# time t the risk set is entry < t <= time (R's counting-process convention); the
# statistic is (O - E)^2 / V for the programme arm with the hypergeometric variance.
# Run from the repo root: Rscript tests/reference/logrank_late_entry.R
d <- read.csv("tests/fixtures/retention_ties/retention_ties.csv")
ev <- d$status == 1
g <- d$arm == "program"
O <- 0; E <- 0; V <- 0
for (t in sort(unique(d$time[ev]))) {
  risk <- d$entry < t & d$time >= t
  dead <- risk & d$time == t & ev
  n <- sum(risk); n1 <- sum(risk & g); dd <- sum(dead)
  O <- O + sum(dead & g)
  E <- E + dd * n1 / n
  if (n > 1) V <- V + dd * (n1 / n) * (1 - n1 / n) * (n - dd) / (n - 1)
}
chisq <- (O - E)^2 / V
out <- list(description = "Log-rank test with late entry for tests/fixtures/retention_ties (hand-written, hypergeometric variance)",
            generated_by = "tests/reference/logrank_late_entry.R", R = R.version.string,
            observed_program = O, expected_program = E, variance = V, chisq = chisq,
            p = pchisq(chisq, 1, lower.tail = FALSE))
jsonlite::write_json(out, "tests/reference/logrank_late_entry.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
