#!/usr/bin/env Rscript
# make_group_reference.R -- lme4 reference for the group (reverse-mentoring circle) random effect of rmstudy's
# sensitivity model under design.mentoring: groups.
#
# Run from the repository root:   Rscript tests/reference/mmrm/make_group_reference.R
# Input:  tests/fixtures/trial_cohort, made into the 1 junior : 3 seniors group design that
#         tests/test_designs_groups.py builds (and tests/test_trial_cohort.py): in participants.csv order, the
#         k-th programme participant (k = 0, 1, ...) is in group G(k %/% 4 + 1), a junior when k %% 4 == 0, else
#         a senior; controls have no group and are singleton groups of their own.
# Output: tests/reference/mmrm/group_trial.json: for hypothesis T1 (symptoms, everyone),
#   lmerTest::lmer(score ~ arm * wave + (1 | group) + (1 | participant_id), REML) on
#   "all_waves" (every scored row) and on "contrast_waves" (the scored rows at the contrast's two waves, the data
#   of the sensitivity row): fixed effects with Satterthwaite df, the two variance components and the residual.
source(file.path("tests", "reference", "common.R"))
suppressPackageStartupMessages({ library(lme4); library(lmerTest); library(jsonlite); library(yaml) })
check_repo_root("tests/reference/mmrm/make_group_reference.R", c("tests/fixtures/trial_cohort"))
data_dir <- file.path("tests", "fixtures", "trial_cohort")
out_dir <- file.path("tests", "reference", "mmrm")
codebook <- yaml::read_yaml(file.path(data_dir, "codebook.yaml"))
study <- yaml::read_yaml(file.path(data_dir, "study.yaml"))
participants <- read_csv_chr("participants.csv")
responses <- read_csv_chr("responses.csv")
waves <- unlist(study$waves)
h <- study$hypotheses[[1]]

k <- ave(seq_len(nrow(participants)), participants$arm, FUN = seq_along) - 1
prog <- participants$arm == "program"
participants$group_id <- ifelse(prog, paste0("G", k %/% 4 + 1), NA)
participants$role <- ifelse(prog & k %% 4 == 0, "junior", "senior")

sc <- responses[c("participant_id", "wave")]
sc$score <- score_scale(responses, codebook$scales[[h$outcome]])
d <- merge(sc[!is.na(sc$score), ], participants[c("participant_id", "arm", "group_id")], by = "participant_id")
d$group <- ifelse(is.na(d$group_id), paste0("subject:", d$participant_id), d$group_id)
d$arm <- factor(d$arm, levels = c("control", "program"))

fit <- function(d, lv) {
  d$wave <- factor(d$wave, levels = lv)
  m <- lmer(score ~ arm * wave + (1 | group) + (1 | participant_id), data = d, REML = TRUE)
  vc <- as.data.frame(VarCorr(m))
  list(n_obs = nrow(d), coef = coef_rows(m), reml_criterion = as.numeric(REMLcrit(m)),
       tau2_group = vc$vcov[vc$grp == "group"], tau2_participant = vc$vcov[vc$grp == "participant_id"],
       sigma2 = sigma(m)^2, singular = isSingular(m))
}
two <- unlist(h$contrast)
write_ref <- ref_writer(out_dir, "tests/reference/mmrm/make_group_reference.R",
                        ref_versions(c("lme4", "lmerTest", "Matrix", "jsonlite", "yaml")))
write_ref(list(id = h$id, contrast = two, groups = length(unique(na.omit(participants$group_id))),
               all_waves = fit(d, waves), contrast_waves = fit(d[d$wave %in% two, ], two)),
          "group_trial.json", "lme4 group random effect on the trial fixture as 1:3 reverse-mentoring circles")
