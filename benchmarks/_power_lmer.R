# Timing child for benchmarks/power.py: the equivalent R loop of a simulation-based power analysis.
#
#     Rscript benchmarks/_power_lmer.R N_PER_ARM N_SIMS RHO D ATTRITION SEED
#
# For each of N_SIMS cohorts: simulate N_PER_ARM participants per arm at waves pre and post (random intercept with
# pre-post correlation RHO, residual variance 1 - RHO, effect D on the baseline SD at post in the programme, a share
# ATTRITION missing at post completely at random), fit lmerTest::lmer(score ~ arm * wave + (1 | participant_id))
# (REML) and take summary()'s Satterthwaite p-value of armprogram:wavepost. The whole loop is timed with
# system.time (elapsed). Prints one JSON object: seconds, power (share with p < .05 and a positive estimate),
# n_sims; or {"status": "not available", "reason": ...} when lmerTest or jsonlite is missing.
args <- commandArgs(trailingOnly = TRUE)
n <- as.integer(args[1]); n_sims <- as.integer(args[2]); rho <- as.numeric(args[3]); d <- as.numeric(args[4])
attrition <- as.numeric(args[5]); set.seed(as.integer(args[6]))
for (p in c("lmerTest", "jsonlite")) {
  if (!requireNamespace(p, quietly = TRUE)) {
    cat(sprintf('{"status": "not available", "reason": "R package %s is not installed"}\n', p))
    quit(status = 0)
  }
}
suppressPackageStartupMessages(library(lmerTest))
id <- factor(rep(seq_len(2 * n), 2))
arm <- factor(rep(rep(c("program", "control"), each = n), 2), levels = c("control", "program"))
wave <- factor(rep(c("pre", "post"), each = 2 * n), levels = c("pre", "post"))
one <- function() {
  b <- rnorm(2 * n, sd = sqrt(rho))
  score <- rep(b, 2) + rnorm(4 * n, sd = sqrt(1 - rho)) + d * (arm == "program") * (wave == "post")
  keep <- !(wave == "post" & rep(runif(2 * n) < attrition, 2))
  dat <- data.frame(score = score, arm = arm, wave = wave, participant_id = id)[keep, ]
  m <- suppressMessages(lmer(score ~ arm * wave + (1 | participant_id), data = dat, REML = TRUE))
  co <- summary(m)$coefficients["armprogram:wavepost", ]
  co[["Pr(>|t|)"]] < 0.05 && co[["Estimate"]] > 0
}
t <- system.time(hits <- vapply(seq_len(n_sims), function(i) one(), logical(1)))[["elapsed"]]
cat(jsonlite::toJSON(list(seconds = t, power = mean(hits), n_sims = n_sims), auto_unbox = TRUE, digits = NA), "\n")
