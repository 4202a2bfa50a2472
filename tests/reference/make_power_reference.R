#!/usr/bin/env Rscript
# =============================================================================
# make_power_reference.R -- R reference values for rmstudy.planning (rmstudy power).
#
# Run from the repository root:
#
#     Rscript tests/reference/make_power_reference.R
#
# Needs: pwr, lme4, lmerTest, jsonlite (Debian: r-cran-pwr r-cran-lme4 r-cran-lmertest r-cran-jsonlite).
# Outputs (this dir): power_reference.json, power_equivalence_ds.csv
#
# 1. Exact power of the difference in change for complete two-wave data. The primary LMM's arm x wave test is
#    the pooled two-sample t-test on change scores (rmstudy/planning/fastlmm.py), so with n per arm, an effect d
#    on the baseline SD and a pre-post correlation r it is a t-test with the standardised effect
#        d_change = d / sqrt(2 (1 - r))          (the change score's SD is sqrt(2 (1 - r)) baseline SDs)
#    pwr::pwr.t.test(n, d_change) gives its two-sided power; the power to decide "supported" (significant in the
#    expected direction) leaves out the lower tail: pt(qt(1 - alpha/2, df), df, ncp, lower.tail = FALSE),
#    df = 2n - 2, ncp = d_change sqrt(n / 2).
# 2. Schoenfeld (1983) power for retention: exponential hazards as rmstudy/planning/draws.py simulates them
#    (voluntary h_v = -log(1 - exit_rate) / T, times HR in the programme; involuntary h_i likewise; follow-up T),
#    expected events D = n (P(HR) + P(1)) with P(h) = h h_v / (h h_v + h_i) (1 - exp(-(h h_v + h_i) T)), and
#    power = pnorm(|log HR| sqrt(D / 4) - qnorm(1 - alpha/2)).
# 3. The equivalence itself, in R: two seeded data sets (two and three complete waves) fitted with
#    lmerTest::lmer(score ~ arm * wave + (1 | participant_id)) (Satterthwaite df) and, for two waves, with
#    t.test(change ~ arm, var.equal = TRUE). The data are written to power_equivalence_ds.csv so that the Python
#    test fits exactly the same numbers.
# =============================================================================

source("tests/reference/common.R")
check_repo_root("tests/reference/make_power_reference.R", c("tests/reference"))
suppressPackageStartupMessages({ library(pwr); library(lmerTest) })
out_dir <- "tests/reference"
write_ref <- ref_writer(out_dir, "tests/reference/make_power_reference.R",
                        ref_versions(c("pwr", "lme4", "lmerTest", "jsonlite")))
alpha <- 0.05

# ---- 1. noncentral t grid ----------------------------------------------------------------------------------
grid <- expand.grid(n = c(50, 100, 200), d = c(0.2, 0.3, 0.5), r = c(0.3, 0.5, 0.7))
grid$d_change <- grid$d / sqrt(2 * (1 - grid$r))
grid$pwr_two_sided <- mapply(function(n, dc) pwr.t.test(n = n, d = dc, sig.level = alpha)$power, grid$n, grid$d_change)
grid$power_supported <- mapply(function(n, dc) {
  df <- 2 * n - 2
  pt(qt(1 - alpha / 2, df), df, ncp = dc * sqrt(n / 2), lower.tail = FALSE)
}, grid$n, grid$d_change)
grid$n_for_80 <- mapply(function(d, r) pwr.t.test(d = d / sqrt(2 * (1 - r)), sig.level = alpha, power = 0.8)$n,
                        grid$d, grid$r)

# ---- 2. Schoenfeld -------------------------------------------------------------------------------------------
exit_prob <- function(h, exit_rate, inv_rate, T) {
  hv <- -log(1 - exit_rate) / T * h
  hi <- -log(1 - inv_rate) / T
  hv / (hv + hi) * (1 - exp(-(hv + hi) * T))
}
sch <- expand.grid(n = c(300, 500), hazard_ratio = c(0.6, 0.75), exit_rate = 0.2, involuntary_rate = 0.04,
                   follow_up_days = 365)
sch$events <- with(sch, n * (exit_prob(hazard_ratio, exit_rate, involuntary_rate, follow_up_days) +
                             exit_prob(1, exit_rate, involuntary_rate, follow_up_days)))
sch$power <- with(sch, pnorm(abs(log(hazard_ratio)) * sqrt(events / 4) - qnorm(1 - alpha / 2)))
sch$events_for_80 <- with(sch, (qnorm(1 - alpha / 2) + qnorm(0.8))^2 / (0.25 * log(hazard_ratio)^2))

# ---- 3. the LMM test equals the change-score t-test ------------------------------------------------------------
set.seed(20260514)
make_ds <- function(name, n, waves, r, d) {
  b <- rnorm(2 * n, sd = sqrt(r))
  arm <- rep(c("program", "control"), each = n)
  rows <- lapply(seq_along(waves), function(k) {
    data.frame(dataset = name, participant_id = sprintf("%s_%03d", name, seq_len(2 * n)), arm = arm, wave = waves[k],
               score = round(b + rnorm(2 * n, sd = sqrt(1 - r)) + (k > 1) * d * (arm == "program"), 6))
  })
  do.call(rbind, rows)
}
ds <- rbind(make_ds("two_waves", 60, c("pre", "post"), 0.5, 0.3),
            make_ds("three_waves", 50, c("pre", "post", "follow_up"), 0.6, 0.4))
write.csv(ds, file.path(out_dir, "power_equivalence_ds.csv"), row.names = FALSE)
fit_one <- function(name, waves, later) {
  d <- ds[ds$dataset == name, ]
  d$arm <- factor(d$arm, levels = c("control", "program"))
  d$wave <- factor(d$wave, levels = waves)
  m <- lmer(score ~ arm * wave + (1 | participant_id), data = d, REML = TRUE)
  co <- summary(m)$coefficients[paste0("armprogram:wave", later), ]
  list(dataset = name, term = paste0("armprogram:wave", later), estimate = unname(co["Estimate"]),
       se = unname(co["Std. Error"]), df = unname(co["df"]), t = unname(co["t value"]),
       p_value = unname(co["Pr(>|t|)"]), singular = isSingular(m))
}
lmm <- list(fit_one("two_waves", c("pre", "post"), "post"),
            fit_one("three_waves", c("pre", "post", "follow_up"), "post"),
            fit_one("three_waves", c("pre", "post", "follow_up"), "follow_up"))
two <- ds[ds$dataset == "two_waves", ]
wide <- merge(two[two$wave == "pre", c("participant_id", "arm", "score")],
              two[two$wave == "post", c("participant_id", "score")], by = "participant_id", suffixes = c("_pre", "_post"))
wide$change <- wide$score_post - wide$score_pre
wide$arm <- factor(wide$arm, levels = c("program", "control"))
tt <- t.test(change ~ arm, data = wide, var.equal = TRUE)
ttest <- list(estimate = unname(diff(rev(tt$estimate))), t = unname(tt$statistic), df = unname(tt$parameter),
              p_value = tt$p.value)

write_ref(list(alpha = alpha, noncentral_t = grid, schoenfeld = sch, lmm = lmm, change_t_test = ttest),
          "power_reference.json",
          paste("Power of the difference in change for complete two-wave data (pwr::pwr.t.test on d / sqrt(2(1 - r))",
                "and the one-tailed noncentral t), Schoenfeld power for retention under the simulation's exponential",
                "hazards, and lmerTest vs t.test on power_equivalence_ds.csv"))
