#!/usr/bin/env Rscript
# =============================================================================
# make_reference.R -- lmerTest reference values for rmstudy.pool.lmm (the pooled
# linear mixed model with a cohort random effect, `rmstudy pool --raw`).
#
# Run from the repository root (after make_data.py wrote the CSV files):
#
#     Rscript tests/reference/pool_lmm/make_reference.R
#
# Output (this dir):   pool_lmm_reference.json
# Needs:               lme4, lmerTest, jsonlite (Debian: r-cran-lme4 r-cran-lmertest r-cran-jsonlite)
#
# Model, per data set (columns cohort, participant, arm, wave, score):
#     score ~ arm * wave + (1 | cohort) + (1 | participant)     REML
# with arm's reference "control" and wave's "base"; participant ids carry their
# cohort, so (1 | participant) is (1 | cohort:participant). Reported: the
# arm:wave coefficient with its SE, Satterthwaite df, t, p and 95% CI
# (t-based, as lmerTest's contest), the variance components and REMLcrit.
# =============================================================================
suppressPackageStartupMessages({library(lme4); library(lmerTest); library(jsonlite)})

here <- "tests/reference/pool_lmm"
fit_one <- function(file) {
  d <- read.csv(file.path(here, file), stringsAsFactors = FALSE)
  d$arm <- factor(d$arm, levels = c("control", "program"))
  d$wave <- factor(d$wave, levels = c("base", "later"))
  m <- lmerTest::lmer(score ~ arm * wave + (1 | cohort) + (1 | participant), data = d, REML = TRUE,
                      control = lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))
  L <- c(0, 0, 0, 1)
  ct <- lmerTest::contest(m, L, joint = FALSE, ddf = "Satterthwaite", confint = TRUE, level = 0.95)
  vc <- as.data.frame(VarCorr(m))
  list(file = file, n_obs = nrow(d), n_participants = length(unique(d$participant)),
       n_cohorts = length(unique(d$cohort)),
       estimate = ct$Estimate, se = ct$`Std. Error`, df = ct$df, t = ct$`t value`, p_value = ct$`Pr(>|t|)`,
       ci_low = ct$lower, ci_high = ct$upper,
       tau2_cohort = vc$vcov[vc$grp == "cohort"], tau2_participant = vc$vcov[vc$grp == "participant"],
       sigma2 = vc$vcov[vc$grp == "Residual"], reml_criterion = unname(lme4::REMLcrit(m)),
       singular = lme4::isSingular(m), beta = unname(fixef(m)))
}

out <- list(
  versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                  lmerTest = as.character(packageVersion("lmerTest"))),
  model = "score ~ arm * wave + (1 | cohort) + (1 | participant); REML; Satterthwaite df (lmerTest::contest)",
  fits = list(demo_spring_H2 = fit_one("demo_spring_H2.csv"), five_cohorts = fit_one("five_cohorts.csv")))
jsonlite::write_json(out, file.path(here, "pool_lmm_reference.json"), digits = NA, auto_unbox = TRUE,
                     pretty = TRUE, na = "null")
