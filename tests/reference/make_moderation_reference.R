#!/usr/bin/env Rscript
# =============================================================================
# make_moderation_reference.R -- R reference values for moderation /
# dose-response models of the demo cohort (rmstudy.stats.moderation).
#
# Run from the repository root:
#
#     Rscript tests/reference/make_moderation_reference.R
#
# Inputs (read-only):  data/demo/{participants,responses}.csv,
#                      data/demo/{codebook,study}.yaml (read_demo() also reads
#                      employment.csv, which this script does not use)
# Output (this dir):   moderation_demo.json
#
# Scoring, population filters, wave/arm factor levels and the analysed data
# are exactly those of make_reference.R: both take read_demo() and
# analysed_data() from common.R (sourced), so the rules cannot drift apart.
# Nothing about the demo study is hard-coded: hypotheses, moderators, contrast
# waves, scales and populations all come from the YAML files.
#
# For each hypothesis with `moderators` and each moderator name:
#   * moderator value per participant: a codebook scale -> the participant's
#     score at the first wave, from the contrast's baseline wave on, at which
#     anyone in the cohort has a non-NA score on that scale; otherwise the
#     numeric participants.csv column of that name;
#   * rows of participants without a moderator value are dropped;
#   * both arms left -> "moderation": m centred at the mean over participants,
#       lmer(score ~ arm * wave * m + (1 | participant_id), REML = TRUE);
#     otherwise -> "dose_response": programme arm only, m centred likewise,
#       lmer(score ~ wave * m + (1 | participant_id), REML = TRUE);
#   * simple slopes of the programme effect at m = -sd, 0, +sd (centred) with
#     lmerTest::contest(fit, L, joint = FALSE) (Satterthwaite df).
# =============================================================================

source(file.path("tests", "reference", "common.R"))   # check_repo_root, read_demo, analysed_data, ref_writer, with_notes, coef_rows
suppressPackageStartupMessages({
  library(yaml)
  library(jsonlite)
  library(lme4)
  library(lmerTest)   # masks lme4::lmer so that lmer() fits carry Satterthwaite df
})

t_start <- proc.time()

# ---- paths -----------------------------------------------------------------
script <- "tests/reference/make_moderation_reference.R"
data_dir <- file.path("data", "demo")
out_dir  <- file.path("tests", "reference")
check_repo_root(script, c(data_dir, out_dir))   # common.R

# ---- versions ----------------------------------------------------------------
pkgs_used <- c("lme4", "lmerTest", "Matrix", "nloptr", "yaml", "jsonlite")
versions <- ref_versions(pkgs_used)
write_ref <- ref_writer(out_dir, script, versions)

# ---- the demo cohort, scored (common.R: read_demo, as make_reference.R) --------
demo <- read_demo(data_dir)
study <- demo$study; participants <- demo$participants; scored <- demo$scored
waves <- demo$waves; arm_levels <- demo$arm_levels; scales <- demo$scales

# ---- moderator value per participant --------------------------------------------
# Returns a named numeric vector (names = participant_id, NA dropped) and a
# description of its source.
moderator_values <- function(name, base_wave) {
  if (name %in% names(scales)) {
    for (w in waves[match(base_wave, waves):length(waves)]) {
      rows <- scored[scored$wave == w, c("participant_id", name)]
      if (any(!is.na(rows[[name]]))) {
        rows <- rows[!is.na(rows[[name]]), ]
        return(list(values = setNames(rows[[name]], rows$participant_id),
                    source = "scale", wave = w))
      }
    }
    return(list(values = setNames(numeric(0), character(0)), source = "scale", wave = NA))
  }
  if (!name %in% names(participants)) stop("moderator is neither a scale nor a participants.csv column: ", name)
  v <- suppressWarnings(as.numeric(participants[[name]]))
  keep <- !is.na(v)
  list(values = setNames(v[keep], participants$participant_id[keep]),
       source = "participants.csv", wave = NA)
}

# =============================================================================
# Fits
# =============================================================================
out <- list()
for (h in study$hypotheses) {
  if (is.null(h$moderators)) next
  base_wave <- h$contrast[[1]]
  later_wave <- h$contrast[[2]]
  d0 <- analysed_data(h, demo)                  # common.R, as make_reference.R section 2
  for (mod in unlist(h$moderators)) {
    mv <- moderator_values(mod, base_wave)
    d <- d0
    d$m_raw <- unname(mv$values[d$participant_id])
    d <- d[!is.na(d$m_raw), ]
    kind <- if (all(arm_levels %in% unique(as.character(d$arm)))) "moderation" else "dose_response"
    if (kind == "dose_response") d <- d[d$arm == "program", ]
    people <- d[!duplicated(d$participant_id), ]          # one row per participant
    m_mean <- mean(people$m_raw)
    m_sd <- sd(people$m_raw)
    d$m <- d$m_raw - m_mean

    if (kind == "moderation") {
      formula <- score ~ arm * wave * m + (1 | participant_id)
      effect <- paste0("armprogram:wave", later_wave)
    } else {
      formula <- score ~ wave * m + (1 | participant_id)
      effect <- paste0("wave", later_wave)
    }
    effect_m <- paste0(effect, ":m")
    fit <- with_notes(lmerTest::lmer(formula, data = d, REML = TRUE))
    fm <- fit$value
    beta_names <- names(lme4::fixef(fm))
    stopifnot(effect %in% beta_names, effect_m %in% beta_names)

    slopes <- list()
    for (lab in c("-1 SD", "mean", "+1 SD")) {
      v <- switch(lab, "-1 SD" = -m_sd, "mean" = 0, "+1 SD" = m_sd)
      L <- setNames(numeric(length(beta_names)), beta_names)
      L[effect] <- 1
      L[effect_m] <- v
      ct <- lmerTest::contest(fm, L, joint = FALSE)
      slopes[[length(slopes) + 1]] <- list(
        at = lab, v_centred = v, moderator_value = m_mean + v,
        L = unname(L),
        estimate = ct$Estimate, se = ct$`Std. Error`, df = ct$df,
        t = ct$`t value`, p = ct$`Pr(>|t|)`, lower = ct$lower, upper = ct$upper)
    }

    vc <- as.data.frame(VarCorr(fm))
    n_by_arm <- tapply(people$participant_id, factor(people$arm, levels = arm_levels), length)
    n_by_arm[is.na(n_by_arm)] <- 0L
    out[[paste0(h$id, "/", mod)]] <- list(
      hypothesis = h$id, outcome = h$outcome, moderator = mod,
      moderator_source = mv$source,
      moderator_wave = mv$wave,
      population = h$population,
      kind = kind,
      formula = paste(deparse(formula), collapse = ""),
      interaction_term = effect_m,
      effect_term = effect,
      n_participants = nrow(people),
      n_participants_by_arm = as.list(n_by_arm),
      n_obs = nobs(fm),
      n_obs_by_wave = as.list(table(d$wave)),
      mean = m_mean, sd = m_sd,
      terms = coef_rows(fm),
      L_names = beta_names,
      simple_slopes = slopes,
      tau2 = vc$vcov[vc$grp == "participant_id" & vc$var1 == "(Intercept)" & is.na(vc$var2)],
      sigma2 = sigma(fm)^2,
      reml_criterion = unname(lme4::REMLcrit(fm)),
      theta = unname(lme4::getME(fm, "theta")),
      is_singular = lme4::isSingular(fm),
      notes = fit$notes
    )
  }
}

write_ref(list(
  method = list(
    data = paste("as lmm_demo.json: hypothesis population, outcome scale scores, NA scores dropped,",
                 "wave levels from study.yaml, arm levels control/program"),
    moderator = paste("codebook scale: the participant's score at the first wave (from the contrast's",
                      "baseline wave on) where anyone in the cohort has a non-NA score; otherwise the",
                      "numeric participants.csv column. Rows of participants without a value dropped."),
    kind = paste("moderation if both arms remain: lmerTest::lmer(score ~ arm * wave * m + (1 | participant_id),",
                 "REML = TRUE); otherwise dose_response: programme arm only,",
                 "lmer(score ~ wave * m + (1 | participant_id), REML = TRUE)"),
    centring = "m = value - mean over the remaining participants (one value each); sd = sd() over the same participants",
    simple_slopes = paste("lmerTest::contest(fit, L, joint = FALSE) with L = effect + v * effect:m at v = -sd, 0, +sd;",
                          "effect = armprogram:wave<later> (moderation) or wave<later> (dose_response)")),
  models = out),
  "moderation_demo.json",
  "Moderation (arm x wave x m) and dose-response (wave x m) mixed models for the demo moderators")
message(sprintf("done in %.1f s", (proc.time() - t_start)[["elapsed"]]))
