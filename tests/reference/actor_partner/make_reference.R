#!/usr/bin/env Rscript
# =============================================================================
# make_reference.R -- lme4/lmerTest reference values for the actor-partner
# moderation models of rmstudy.stats.moderation.actor_partner_analysis (#18).
#
# Run from the repository root:
#
#     Rscript tests/reference/actor_partner/make_reference.R
#
# Inputs (read-only): data/demo/ and tests/fixtures/other_cohort/ (CSVs and
# YAML). Output (this folder): actor_partner_reference.json
#
# Models (programme arm, the hypothesis population, the contrast's two waves):
#   a = the participant's own moderator value; p = the partner's: the mean of
#   the other members of the participant's pair (pair_id) or group, over the
#   participants.csv rows of that group with a value; rows without a, p or a
#   score dropped; a and p standardised over the remaining participants (one
#   value each, sd with n - 1); w = 1 at the contrast's later wave, else 0;
#     lmerTest::lmer(score ~ w * (za + zp) + (1 | g) + (1 | participant_id))
#   by REML when some group keeps two analysed members, else without (1 | g).
#   Moderator values as make_moderation_reference.R: a codebook scale's score
#   at the first wave (from the contrast's baseline wave on) where anyone has a
#   score; otherwise the numeric participants.csv column.
# Cases:
#   demo: every hypothesis with moderators x every moderator (study.yaml);
#   other_cohort: hypothesis A1 with moderators voice and tenure_years (its
#     plan names none: the names are chosen here, so that nothing is the demo's);
#   other_cohort_groups: the same with groups of two pairs:
#     group = "G" + ceiling(pair number / 2) (R001, R002 -> G1; R003, R004 -> G2 ...).
# =============================================================================

source(file.path("tests", "reference", "common.R"))
suppressPackageStartupMessages({
  library(yaml)
  library(jsonlite)
  library(lme4)
  library(lmerTest)
})

script <- "tests/reference/actor_partner/make_reference.R"
out_dir <- file.path("tests", "reference", "actor_partner")
check_repo_root(script, c(file.path("data", "demo"), file.path("tests", "fixtures", "other_cohort"), out_dir))
versions <- ref_versions(c("lme4", "lmerTest", "Matrix", "yaml", "jsonlite"))
write_ref <- ref_writer(out_dir, script, versions)

moderator_values <- function(cohort, name, base_wave) {
  if (name %in% names(cohort$scales)) {
    for (w in cohort$waves[match(base_wave, cohort$waves):length(cohort$waves)]) {
      rows <- cohort$scored[cohort$scored$wave == w, c("participant_id", name)]
      rows <- rows[!is.na(rows[[name]]), ]
      if (nrow(rows) > 0) return(setNames(rows[[name]], rows$participant_id))
    }
    return(setNames(numeric(0), character(0)))
  }
  v <- suppressWarnings(as.numeric(cohort$participants[[name]]))
  keep <- !is.na(v)
  setNames(v[keep], cohort$participants$participant_id[keep])
}

partner_mean <- function(values, groups) {
  # groups: named character (participant -> group), grouped participants only
  ids <- intersect(names(groups), names(values))
  g <- groups[ids]; v <- values[ids]
  tot <- tapply(v, g, sum); cnt <- tapply(v, g, length)
  out <- setNames(as.numeric((tot[g] - v) / (cnt[g] - 1)), ids)
  out[as.numeric(cnt[g]) > 1]
}

fit_case <- function(cohort, h, mod, groups) {
  base_wave <- h$contrast[[1]]; later_wave <- h$contrast[[2]]
  d <- analysed_data(h, cohort)
  d <- d[d$arm == "program" & as.character(d$wave) %in% c(base_wave, later_wave), ]
  mv <- moderator_values(cohort, mod, base_wave)
  pm <- partner_mean(mv, groups)
  d$a <- unname(mv[d$participant_id]); d$p <- unname(pm[d$participant_id]); d$g <- unname(groups[d$participant_id])
  d <- d[!is.na(d$a) & !is.na(d$p) & !is.na(d$g), ]
  people <- d[!duplicated(d$participant_id), ]
  sc <- list(actor = list(mean = mean(people$a), sd = sd(people$a)),
             partner = list(mean = mean(people$p), sd = sd(people$p)))
  d$za <- (d$a - sc$actor$mean) / sc$actor$sd
  d$zp <- (d$p - sc$partner$mean) / sc$partner$sd
  d$w <- as.numeric(as.character(d$wave) == later_wave)
  shared <- any(table(people$g) > 1)
  f <- if (shared) score ~ w * (za + zp) + (1 | g) + (1 | participant_id) else score ~ w * (za + zp) + (1 | participant_id)
  fit <- with_notes(lmerTest::lmer(f, data = d, REML = TRUE))
  fm <- fit$value
  rows <- coef_rows(fm)
  list(hypothesis = h$id, moderator = mod, formula = paste(deparse(f), collapse = ""), shared_group = shared,
       n_participants = nrow(people), n_groups = length(unique(people$g)), n_obs = nobs(fm),
       scale = sc, terms = rows,
       actor = as.list(rows[rows$term == "w:za", c("estimate", "se", "df")]),
       partner = as.list(rows[rows$term == "w:zp", c("estimate", "se", "df")]),
       reml_criterion = unname(lme4::REMLcrit(fm)), theta = unname(lme4::getME(fm, "theta")),
       is_singular = lme4::isSingular(fm), notes = fit$notes)
}

pair_groups <- function(participants) {
  pr <- participants[!is.na(participants$pair_id) & participants$pair_id != "", ]
  setNames(as.character(pr$pair_id), pr$participant_id)
}

out <- list()
demo <- read_demo(file.path("data", "demo"))
groups <- pair_groups(demo$participants)
for (h in demo$study$hypotheses) {
  for (mod in unlist(h$moderators)) out[[paste0("demo/", h$id, "/", mod)]] <- fit_case(demo, h, mod, groups)
}

other <- read_demo(file.path("tests", "fixtures", "other_cohort"))
h_a1 <- Filter(function(h) h$id == "A1", other$study$hypotheses)[[1]]
pg <- pair_groups(other$participants)
merged <- setNames(paste0("G", ceiling(as.integer(sub("^R", "", pg)) / 2)), names(pg))
for (mod in c("voice", "tenure_years")) {
  out[[paste0("other_cohort/A1/", mod)]] <- fit_case(other, h_a1, mod, pg)
  out[[paste0("other_cohort_groups/A1/", mod)]] <- fit_case(other, h_a1, mod, merged)
}

write_ref(list(method = paste("lmerTest::lmer(score ~ w * (za + zp) + (1 | g) + (1 | participant_id), REML = TRUE),",
                              "programme arm; (1 | g) left out when no group keeps two analysed members;",
                              "actor = w:za, partner = w:zp (Satterthwaite df)"),
               models = out),
          "actor_partner_reference.json",
          "Actor-partner moderation models (demo and other_cohort, pairs and groups of two pairs)")
