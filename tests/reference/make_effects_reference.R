#!/usr/bin/env Rscript
# =============================================================================
# make_effects_reference.R -- R reference values for the quantities derived
# from the primary models: the effect size d_ppc2 and its CI, the TOST
# equivalence p-value and the minimum detectable effect (MDE), for every
# hypothesis of the demo cohort.
#
# Run from the repository root:
#
#     Rscript tests/reference/make_effects_reference.R
#
# Inputs (read-only):  data/demo/{participants,responses,employment}.csv,
#                      data/demo/{codebook,study}.yaml
# Output (this dir):   effects_demo.json
#
# Scoring, population filters and the analysed data are those of
# make_reference.R (section 2) and make_moderation_reference.R: read_demo() and
# analysed_data() come from common.R.  The retention data follow make_survival_reference.R.  Nothing
# about the demo study is hard-coded: hypotheses, contrast waves, SESOIs and
# their units, alpha and populations all come from the YAML files.  The only
# constant is the power of the MDE (0.8, fixed by the notebooks).
#
# Every quantity is computed here from R's own output with R's own functions
# (sd(), pt(), qt(), pnorm(), qnorm()); nothing is taken from rmstudy.
#
# Survey hypotheses (outcome is a scale):
#   * model   lmerTest::lmer(score ~ arm * wave + (1 | participant_id), REML = TRUE)
#   * Delta   lmerTest::contest(m, L, joint = FALSE, level = 1 - alpha): L = +1 on
#             armprogram:wave<later> and -1 on armprogram:wave<base> (when that
#             term exists); estimate, SE, Satterthwaite df and the (1 - alpha) CI
#   * SD_pre  sqrt(((n_T - 1) sd_T^2 + (n_C - 1) sd_C^2) / (n_T + n_C - 2)), sd()
#             of the non-NA scores at the contrast's baseline wave per arm;
#             n_T, n_C the numbers of those scores
#   * c       1 - 3 / (4 (n_T + n_C - 2) - 1)
#   * d_ppc2  c * Delta / SD_pre; CI = c * (CI of Delta) / SD_pre
#   * b       sesoi_units d: sesoi * SD_pre / c;  raw: sesoi
#   * p_TOST  max(pt((Delta + b) / SE, df, lower.tail = FALSE), pt((Delta - b) / SE, df))
#   * MDE     (qt(1 - alpha / 2, df) + qt(0.8, df)) * SE = mde_raw;
#             mde_d = mde_raw * c / SD_pre; n_factor_for_sesoi = (mde_raw / b)^2
# Retention hypotheses (outcome retention):
#   * model   survival::coxph(Surv(time, event) ~ arm, ties = "efron") -- the
#             model whose estimate, SE and p-value the hypothesis row reports
#   * b       |log(sesoi)| (sesoi_units hazard_ratio)
#   * p_TOST  max(pnorm((beta + b) / SE, lower.tail = FALSE), pnorm((beta - b) / SE))
#   * MDE     (qnorm(1 - alpha / 2) + qnorm(0.8)) * SE = mde_log_hr;
#             mde_hazard_ratio = exp(-mde_log_hr); n_factor = (mde_log_hr / b)^2
#
# Numbers are written with jsonlite `digits = NA` (15 significant digits);
# NA/NaN -> null.  Two runs give byte-identical files.
# =============================================================================

source(file.path("tests", "reference", "common.R"))   # check_repo_root, read_demo, analysed_data, ref_writer, with_notes, select_population, ref_versions
suppressPackageStartupMessages({
  library(yaml)
  library(jsonlite)
  library(lme4)
  library(lmerTest)   # masks lme4::lmer so that lmer() fits carry Satterthwaite df
  library(survival)
})

t_start <- proc.time()

# ---- paths -----------------------------------------------------------------
script <- "tests/reference/make_effects_reference.R"
data_dir <- file.path("data", "demo")
out_dir  <- file.path("tests", "reference")
check_repo_root(script, c(data_dir, out_dir))   # common.R

# ---- versions and the JSON writer (common.R, same conventions as make_reference.R) ----
pkgs_used <- c("lme4", "lmerTest", "Matrix", "nloptr", "survival", "yaml", "jsonlite")
versions <- ref_versions(pkgs_used)
write_ref <- ref_writer(out_dir, script, versions)

# ---- the demo cohort, scored (common.R: read_demo, as make_reference.R) --------
demo <- read_demo(data_dir)
study <- demo$study; participants <- demo$participants; employment <- demo$employment
arm_levels <- demo$arm_levels                     # reference level = control
alpha <- if (is.null(study$alpha)) 0.05 else study$alpha
power <- 0.8                                      # fixed by notebooks 03 and 04

sesoi_units <- function(h) {
  if (!is.null(h$sesoi_units)) return(h$sesoi_units)
  if (identical(h$outcome, "retention")) "hazard_ratio" else "d"
}

# =============================================================================
# 1. Survey hypotheses
# =============================================================================
survey <- list()
for (h in study$hypotheses) {
  if (identical(h$outcome, "retention")) next
  base <- h$contrast[[1]]
  later <- h$contrast[[2]]
  d <- analysed_data(h, demo)                     # common.R, as make_reference.R section 2
  stopifnot(all(arm_levels %in% as.character(d$arm)))   # d_ppc2 needs both arms

  fit <- with_notes(lmerTest::lmer(score ~ arm * wave + (1 | participant_id), data = d, REML = TRUE))
  m <- fit$value
  beta_names <- names(lme4::fixef(m))
  L <- setNames(numeric(length(beta_names)), beta_names)
  for (w in c(later, base)) {
    term <- paste0("armprogram:wave", w)
    if (term %in% beta_names) L[term] <- L[term] + if (w == later) 1 else -1
  }
  stopifnot(any(L != 0))
  ct <- lmerTest::contest(m, L, joint = FALSE, level = 1 - alpha)
  ct90 <- lmerTest::contest(m, L, joint = FALSE, level = 1 - 2 * alpha)
  delta <- ct$Estimate
  se <- ct$`Std. Error`
  df <- ct$df

  # pooled baseline SD of the scored scores, by hand from sd()
  b0 <- d[d$wave == base, ]
  x_t <- b0$score[b0$arm == "program"]
  x_c <- b0$score[b0$arm == "control"]
  n_t <- length(x_t)
  n_c <- length(x_c)
  sd_t <- sd(x_t)
  sd_c <- sd(x_c)
  sd_pre <- sqrt(((n_t - 1) * sd_t^2 + (n_c - 1) * sd_c^2) / (n_t + n_c - 2))
  c_corr <- 1 - 3 / (4 * (n_t + n_c - 2) - 1)
  per_raw <- c_corr / sd_pre                       # d_ppc2 units per scale point

  units <- sesoi_units(h)
  tost <- NULL
  mde <- NULL
  k <- qt(1 - alpha / 2, df) + qt(power, df)
  mde_raw <- k * se
  bound <- NA_real_
  if (!is.null(h$sesoi)) {
    bound <- if (units == "d") h$sesoi * sd_pre / c_corr else if (units == "raw") h$sesoi else
      stop(h$id, ": unexpected sesoi_units ", units)
    p_low  <- pt((delta + bound) / se, df, lower.tail = FALSE)   # H0: effect <= -b
    p_high <- pt((delta - bound) / se, df)                       # H0: effect >= +b
    tost <- list(sesoi = h$sesoi, sesoi_units = units, bound_raw = bound,
                 bound_d = bound * per_raw,
                 t_lower = (delta + bound) / se, t_upper = (delta - bound) / se,
                 p_lower = p_low, p_upper = p_high, p_value = max(p_low, p_high),
                 ci_level = 1 - 2 * alpha, ci_lower = ct90$lower, ci_upper = ct90$upper,
                 ci_inside_bounds = ct90$lower > -bound && ct90$upper < bound)
  }
  mde <- list(alpha = alpha, power = power, q_alpha = qt(1 - alpha / 2, df), q_power = qt(power, df),
              mde_raw = mde_raw, mde_d = abs(mde_raw * per_raw),
              n_factor_for_sesoi = if (is.na(bound)) NA_real_ else (mde_raw / bound)^2)

  survey[[h$id]] <- list(
    outcome = h$outcome, population = h$population, contrast = c(base, later),
    n_obs = nobs(m), n_participants = length(unique(d$participant_id)),
    contrast_L = unname(L), L_names = beta_names,
    delta = list(estimate = delta, se = se, df = df, t = ct$`t value`, p = ct$`Pr(>|t|)`,
                 level = 1 - alpha, lower = ct$lower, upper = ct$upper),
    baseline = list(wave = base, n_t = n_t, n_c = n_c, mean_t = mean(x_t), mean_c = mean(x_c),
                    sd_t = sd_t, sd_c = sd_c, sd_pre = sd_pre),
    c = c_corr,
    d_ppc2 = list(value = delta * per_raw, ci_low = ct$lower * per_raw, ci_high = ct$upper * per_raw),
    tost = tost,
    mde = mde,
    notes = fit$notes
  )
}

# =============================================================================
# 2. Retention hypotheses (data as make_survival_reference.R)
# =============================================================================
start_date  <- as.Date(study$programme_start)
censor_date <- as.Date(study$censor_date)

retention <- list()
for (h in study$hypotheses) {
  if (!identical(h$outcome, "retention")) next
  pop <- select_population(participants, h$population)
  keep_cols <- intersect(c("participant_id", "arm", unlist(h$covariates)), names(pop))
  d <- merge(pop[keep_cols], employment, by = "participant_id")
  d$hire <- as.Date(d$hire_date)
  d$exit <- as.Date(d$exit_date)
  end <- pmin(d$exit, censor_date, na.rm = TRUE)            # NA exit -> censor date
  d$time <- as.numeric(end - start_date)
  d$entry <- pmax(0, as.numeric(d$hire - start_date))
  d$event <- as.integer(!is.na(d$exit) & d$exit <= censor_date &
                          !is.na(d$exit_reason) & d$exit_reason == "voluntary")
  excluded <- (!is.na(d$exit) & d$exit <= start_date) | d$entry >= d$time
  n_excluded <- sum(excluded)
  d <- d[!excluded, ]
  d$arm <- factor(d$arm, levels = arm_levels)
  late_entry <- any(d$entry > 0)
  lhs <- if (late_entry) "Surv(entry, time, event)" else "Surv(time, event)"

  fit <- with_notes(coxph(as.formula(paste(lhs, "~ arm")), data = d, ties = "efron"))
  s <- summary(fit$value)$coefficients
  beta <- unname(s["armprogram", "coef"])
  se <- unname(s["armprogram", "se(coef)"])

  units <- sesoi_units(h)
  stopifnot(units == "hazard_ratio")
  bound <- abs(log(h$sesoi))
  p_low  <- pnorm((beta + bound) / se, lower.tail = FALSE)
  p_high <- pnorm((beta - bound) / se)
  k <- qnorm(1 - alpha / 2) + qnorm(power)
  mde_log_hr <- k * se

  # For information only (not what the hypothesis row reports): the same TOST on
  # the arm coefficient of the covariate-adjusted model of the detail table.
  adjusted <- NULL
  if (length(h$covariates)) {
    da <- d
    for (cv in unlist(h$covariates)) if (is.character(da[[cv]])) da[[cv]] <- factor(da[[cv]])
    fa <- with_notes(coxph(as.formula(paste(lhs, "~", paste(c("arm", unlist(h$covariates)), collapse = " + "))),
                           data = da, ties = "efron"))
    sa <- summary(fa$value)$coefficients
    ba <- unname(sa["armprogram", "coef"])
    sea <- unname(sa["armprogram", "se(coef)"])
    adjusted <- list(
      note = paste("Not compared: the hypothesis row, its TOST and its MDE use the arm-only model;",
                   "study.yaml covariates enter only the adjusted Cox table of the detail."),
      covariates = unlist(h$covariates), coef = ba, se = sea,
      tost_p = max(pnorm((ba + bound) / sea, lower.tail = FALSE), pnorm((ba - bound) / sea)),
      notes = fa$notes)
  }

  retention[[h$id]] <- list(
    population = h$population,
    n_analysed = nrow(d), n_excluded = n_excluded, n_by_arm = as.list(table(d$arm)),
    events_by_arm = as.list(tapply(d$event, d$arm, sum)),
    left_truncation = late_entry, surv = lhs,
    model = paste(lhs, "~ arm, ties = 'efron'"),
    cox = list(coef = beta, se = se, z = unname(s["armprogram", "z"]),
               p = unname(s["armprogram", "Pr(>|z|)"]), hr = exp(beta)),
    tost = list(sesoi = h$sesoi, sesoi_units = units, bound_log_hr = bound,
                z_lower = (beta + bound) / se, z_upper = (beta - bound) / se,
                p_lower = p_low, p_upper = p_high, p_value = max(p_low, p_high)),
    mde = list(alpha = alpha, power = power, q_alpha = qnorm(1 - alpha / 2), q_power = qnorm(power),
               mde_log_hr = mde_log_hr, mde_hazard_ratio = exp(-mde_log_hr),
               n_factor_for_sesoi = (mde_log_hr / bound)^2),
    adjusted_for_information = adjusted,
    notes = fit$notes
  )
}

write_ref(list(
  method = list(
    alpha = alpha, power = power,
    survey_model = "lmerTest::lmer(score ~ arm * wave + (1 | participant_id), REML = TRUE) on the population's non-NA scores",
    delta = "lmerTest::contest(m, L, joint = FALSE, level = 1 - alpha): L = +1 armprogram:wave<later>, -1 armprogram:wave<base> if present; Satterthwaite df",
    sd_pre = "sqrt(((n_t - 1) sd_t^2 + (n_c - 1) sd_c^2) / (n_t + n_c - 2)), sd() of the non-NA scores at the baseline wave per arm",
    c = "1 - 3 / (4 (n_t + n_c - 2) - 1)",
    d_ppc2 = "c * delta / sd_pre; CI = c * (lower, upper) / sd_pre",
    bound = "sesoi_units d: sesoi * sd_pre / c (scale points); raw: sesoi; hazard_ratio: |log(sesoi)| (log HR)",
    tost = "max(pt((est + b) / se, df, lower.tail = FALSE), pt((est - b) / se, df)); pnorm for Cox rows",
    tost_ci = "ci_lower/ci_upper: contest(level = 1 - 2 alpha); p_TOST < alpha iff that CI lies inside (-b, b)",
    mde = "(qt(1 - alpha/2, df) + qt(power, df)) * se (qnorm for Cox); mde_d = mde_raw * c / sd_pre; mde_hazard_ratio = exp(-mde_log_hr); n_factor_for_sesoi = (mde / b)^2",
    retention_model = "coxph(Surv(time, event) ~ arm, ties = 'efron'), arm levels control, program; time origin programme_start, censor censor_date, event = voluntary exit; exit on or before the start, or hire on or after the end of follow-up, excluded"),
  survey = survey,
  retention = retention),
  "effects_demo.json",
  "Effect size d_ppc2 (with CI), TOST p-value and minimum detectable effect for every hypothesis of the demo cohort")

elapsed <- (proc.time() - t_start)[["elapsed"]]
message(sprintf("done in %.1f s", elapsed))
