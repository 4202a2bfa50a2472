#!/usr/bin/env Rscript
# =============================================================================
# make_lmm_reference.R -- R reference values for rmstudy's linear mixed-model
# estimator on three simulated fixtures (attrition, single arm, dyads).
#
# Run from the repository root:
#
#     Rscript tests/reference/make_lmm_reference.R
#
# Inputs:   none (all data are simulated here)
# Outputs:  tests/fixtures/lmm/three_wave.csv   600 participants, pre/post/follow_up,
#                                               monotone attrition (partly MAR)
#           tests/fixtures/lmm/single_arm.csv   250 programme participants, pre/post
#           tests/fixtures/lmm/dyad.csv         150 programme pairs (junior + senior)
#                                               and 300 unpaired controls, pre/post
#           tests/reference/lmm_fixtures.json   lmerTest fits of all three
#
# Conventions (the same as make_reference.R):
#   * every simulated score is rounded to 6 decimals BEFORE it is written, and
#     every model is fitted to the CSV as read back in, so the CSV holds exactly
#     the numbers R fitted;
#   * missing observations are absent rows (no NA scores in the CSVs);
#   * factor levels: arm (control, program), wave in time order, so the
#     reference cells are control and pre;
#   * fits use lmerTest::lmer(REML = TRUE) with lme4's default optimizer; the
#     fixed-effect table comes from summary() (Satterthwaite df);
#   * warnings and messages raised by a fit are caught and stored in `notes`
#     next to that fit, together with lme4::isSingular() and lme4's
#     convergence messages;
#   * JSON: jsonlite::write_json(digits = NA, auto_unbox = TRUE, pretty = TRUE,
#     na = "null") -> 15 significant digits, NA/NaN -> null.
#
# Determinism: the RNG kind is fixed explicitly and each data set has its own
# seed, so changing one simulation does not change the others.  Two runs give
# byte-identical CSV and JSON files.
# =============================================================================

source(file.path("tests", "reference", "common.R"))   # check_repo_root, with_notes, coef_rows, pkg_version, ref_writer
suppressPackageStartupMessages({
  library(jsonlite)
  library(lme4)
  library(lmerTest)   # masks lme4::lmer so that fits carry Satterthwaite df
})

# ---- paths -------------------------------------------------------------------
script <- "tests/reference/make_lmm_reference.R"
ref_dir     <- file.path("tests", "reference")
fixture_dir <- file.path("tests", "fixtures", "lmm")
check_repo_root(script, ref_dir)   # common.R
dir.create(fixture_dir, showWarnings = FALSE, recursive = TRUE)

# Fix the RNG algorithms (R >= 3.6 defaults) so the draws do not depend on a
# user's RNGkind() setting.
RNGkind(kind = "Mersenne-Twister", normal.kind = "Inversion", sample.kind = "Rejection")

arm_levels <- c("control", "program")   # reference level = control

# ---- versions (flat, unlike ref_versions(); pkg_version() in common.R) --------
si <- sessionInfo()
versions <- list(
  R        = si$R.version$version.string,
  lme4     = pkg_version("lme4", si),
  lmerTest = pkg_version("lmerTest", si),
  Matrix   = pkg_version("Matrix", si),
  nloptr   = pkg_version("nloptr", si),
  jsonlite = pkg_version("jsonlite", si),
  platform = si$platform,
  blas     = if (!is.null(si$BLAS)) si$BLAS else NA,
  lapack   = if (!is.null(si$LAPACK)) si$LAPACK else NA
)
write_ref <- ref_writer(ref_dir, script, versions)   # common.R

# ---- helpers -----------------------------------------------------------------
# with_notes() (warnings and messages of a fit, stored next to it) and coef_rows()
# (fixed-effect table with Satterthwaite df, R term names) are in common.R.

inv_logit <- function(x) 1 / (1 + exp(-x))

# Round, write, and read back a fixture; returns the data frame as read.
write_fixture <- function(d, file) {
  d$score <- round(d$score, 6)
  rownames(d) <- NULL
  path <- file.path(fixture_dir, file)
  write.csv(d, path, row.names = FALSE, quote = FALSE)
  message("wrote ", path)
  read.csv(path, stringsAsFactors = FALSE)
}

# Everything stored for one fit.  `groups` are the grouping factors of the
# random intercepts, in the order wanted in `variance_components`.
fit_summary <- function(fit, formula_text, groups) {
  m  <- fit$value
  vc <- as.data.frame(VarCorr(m))
  var_of <- function(g) vc$vcov[vc$grp == g & vc$var1 == "(Intercept)" & is.na(vc$var2)]
  theta <- lme4::getME(m, "theta")
  out <- list(
    formula = formula_text,
    terms = coef_rows(m),
    variance_components = setNames(lapply(groups, var_of), groups),
    sigma2 = sigma(m)^2,
    reml_criterion = unname(lme4::REMLcrit(m)),    # -2 * REML log-likelihood
    theta = unname(theta),                          # relative SDs tau_g / sigma
    theta_names = names(theta),                     # lme4's order of the terms
    n_obs = nobs(m),
    n_groups = as.list(setNames(as.integer(lme4::ngrps(m)[groups]), groups)),
    is_singular = lme4::isSingular(m),
    optimizer = m@optinfo$optimizer,
    converged_messages = as.character(unlist(m@optinfo$conv$lme4$messages)),
    notes = fit$notes
  )
  # single random intercept: also the flat `tau2` used by the other JSON files
  if (length(groups) == 1) {
    out <- append(out, list(tau2 = var_of(groups)), after = 2)
  }
  out
}

# lmerTest::contest() t-test (Satterthwaite df) for a named contrast.
contrast_of <- function(m, plus, minus) {
  beta_names <- names(lme4::fixef(m))
  L <- setNames(numeric(length(beta_names)), beta_names)
  L[plus] <- 1
  L[minus] <- -1
  ct <- lmerTest::contest(m, L, joint = FALSE)
  list(label = paste(plus, "-", minus),
       L = unname(L), L_names = beta_names,
       estimate = ct$Estimate, se = ct$`Std. Error`, df = ct$df,
       t = ct$`t value`, p = ct$`Pr(>|t|)`,
       lower = ct$lower, upper = ct$upper)
}

# n / mean / sd of the score for each combination of the given factors.
cell_summary <- function(d, by) {
  cells <- unique(d[by])
  cells <- cells[do.call(order, unname(as.list(cells))), , drop = FALSE]
  rows <- lapply(seq_len(nrow(cells)), function(i) {
    keep <- Reduce(`&`, lapply(by, function(b) d[[b]] == cells[[b]][i]))
    v <- d$score[keep]
    cbind(data.frame(lapply(cells[i, , drop = FALSE], as.character), stringsAsFactors = FALSE),
          data.frame(n = length(v), mean = mean(v), sd = sd(v)))
  })
  out <- do.call(rbind, rows)
  rownames(out) <- NULL
  out
}

# Monotone attrition: drop probability depends on the standardised baseline
# score z (lower baseline -> more likely to leave): logit p = qlogis(p0) - b z.
# With b = 0.5 part of the drop-out is MAR on the (observed) baseline and the
# rest is random; the marginal rate is close to, not exactly, p0.
mar_dropout_b <- 0.5
drop_prob <- function(p0, z) inv_logit(qlogis(p0) - mar_dropout_b * z)

# =============================================================================
# 1. three_wave.csv -- two arms, pre / post / follow_up, monotone attrition
# =============================================================================
set.seed(20240601)
tw_waves <- c("pre", "post", "follow_up")
tw_n <- 600
tw_beta <- c("(Intercept)" = 3.5, armprogram = 0, wavepost = 0.10, wavefollow_up = 0.05,
             "armprogram:wavepost" = 0.30, "armprogram:wavefollow_up" = 0.25)
tw_sd_u <- 0.7; tw_sd_e <- 0.6
tw_p_post <- 0.20       # P(leave before post); those leavers also miss follow_up
tw_p_fu   <- 0.25       # P(leave before follow_up | present at post): 1 - .8 * .75 = .40

# Draw order: arm (exactly 300/300, shuffled), random intercepts, residuals
# (participant-major, wave-minor), then one uniform per participant for each
# drop-out step.
tw_p <- data.frame(participant_id = sprintf("P%03d", seq_len(tw_n)),
                   arm = sample(rep(arm_levels, each = tw_n / 2)),
                   stringsAsFactors = FALSE)
tw_u <- rnorm(tw_n, 0, tw_sd_u)
tw_e <- matrix(rnorm(tw_n * 3, 0, tw_sd_e), nrow = tw_n, byrow = TRUE)
prog <- tw_p$arm == "program"
tw_mu <- cbind(
  pre       = tw_beta[["(Intercept)"]] + tw_beta[["armprogram"]] * prog,
  post      = tw_beta[["(Intercept)"]] + tw_beta[["armprogram"]] * prog + tw_beta[["wavepost"]] +
              tw_beta[["armprogram:wavepost"]] * prog,
  follow_up = tw_beta[["(Intercept)"]] + tw_beta[["armprogram"]] * prog + tw_beta[["wavefollow_up"]] +
              tw_beta[["armprogram:wavefollow_up"]] * prog)
tw_y <- tw_mu + tw_u + tw_e
z_pre <- as.vector(scale(tw_y[, "pre"]))
left_by_post <- runif(tw_n) < drop_prob(tw_p_post, z_pre)
left_by_fu   <- left_by_post | (runif(tw_n) < drop_prob(tw_p_fu, z_pre))
tw_obs <- cbind(pre = TRUE, post = !left_by_post, follow_up = !left_by_fu)

tw <- data.frame(participant_id = rep(tw_p$participant_id, each = 3),
                 arm = rep(tw_p$arm, each = 3),
                 wave = rep(tw_waves, times = tw_n),
                 score = as.vector(t(tw_y)),
                 stringsAsFactors = FALSE)
tw <- tw[as.vector(t(tw_obs)), ]
tw <- write_fixture(tw, "three_wave.csv")
tw$wave <- factor(tw$wave, levels = tw_waves)
tw$arm  <- factor(tw$arm, levels = arm_levels)

tw_fit <- with_notes(lmerTest::lmer(score ~ arm * wave + (1 | participant_id),
                                    data = tw, REML = TRUE))
three_wave <- list(
  data = "tests/fixtures/lmm/three_wave.csv",
  columns = names(tw),
  wave_levels = tw_waves, arm_levels = arm_levels,
  simulation = list(
    seed = 20240601, n_participants = tw_n,
    n_by_arm = as.list(table(tw_p$arm)),
    true_fixed_effects = as.list(tw_beta),
    random_intercept_sd = tw_sd_u, residual_sd = tw_sd_e,
    attrition = paste("monotone; logit P(leave before post) = qlogis(0.20) - 0.5 z,",
                      "logit P(leave before follow_up | at post) = qlogis(0.25) - 0.5 z,",
                      "z = standardised simulated pre score (observed for everyone)"),
    missing_share = list(pre = 0, post = mean(!tw_obs[, "post"]),
                         follow_up = mean(!tw_obs[, "follow_up"]))),
  n_rows = nrow(tw),
  rows_by_arm_wave = cell_summary(tw, c("arm", "wave")),
  model = fit_summary(tw_fit, "score ~ arm * wave + (1 | participant_id)", "participant_id"),
  contrast = contrast_of(tw_fit$value, "armprogram:wavefollow_up", "armprogram:wavepost")
)

# =============================================================================
# 2. single_arm.csv -- programme arm only, pre / post
# =============================================================================
set.seed(20240602)
sa_waves <- c("pre", "post")
sa_n <- 250
sa_beta <- c("(Intercept)" = 3.5, wavepost = 0.35)
sa_sd_u <- 0.7; sa_sd_e <- 0.6
sa_p_post <- 0.25

# Draw order: random intercepts, residuals (participant-major), drop-out uniforms.
sa_ids <- sprintf("S%03d", seq_len(sa_n))
sa_u <- rnorm(sa_n, 0, sa_sd_u)
sa_e <- matrix(rnorm(sa_n * 2, 0, sa_sd_e), nrow = sa_n, byrow = TRUE)
sa_y <- cbind(pre  = rep(sa_beta[["(Intercept)"]], sa_n),
              post = rep(sa_beta[["(Intercept)"]] + sa_beta[["wavepost"]], sa_n)) + sa_u + sa_e
sa_left <- runif(sa_n) < drop_prob(sa_p_post, as.vector(scale(sa_y[, "pre"])))

sa <- data.frame(participant_id = rep(sa_ids, each = 2),
                 arm = "program",
                 wave = rep(sa_waves, times = sa_n),
                 score = as.vector(t(sa_y)),
                 stringsAsFactors = FALSE)
sa <- sa[as.vector(rbind(TRUE, !sa_left)), ]
sa <- write_fixture(sa, "single_arm.csv")
sa$wave <- factor(sa$wave, levels = sa_waves)

sa_fit <- with_notes(lmerTest::lmer(score ~ wave + (1 | participant_id), data = sa, REML = TRUE))
single_arm <- list(
  data = "tests/fixtures/lmm/single_arm.csv",
  columns = names(sa),
  wave_levels = sa_waves,
  simulation = list(
    seed = 20240602, n_participants = sa_n,
    true_fixed_effects = as.list(sa_beta),
    random_intercept_sd = sa_sd_u, residual_sd = sa_sd_e,
    attrition = "logit P(missing post) = qlogis(0.25) - 0.5 z, z = standardised pre score",
    missing_share = list(pre = 0, post = mean(sa_left))),
  n_rows = nrow(sa),
  rows_by_wave = cell_summary(sa, "wave"),
  model = fit_summary(sa_fit, "score ~ wave + (1 | participant_id)", "participant_id")
)

# =============================================================================
# 3. dyad.csv -- programme pairs (junior + senior) and unpaired controls
# =============================================================================
set.seed(20240603)
dy_waves <- c("pre", "post")
dy_n_pairs <- 150     # programme pairs R001..R150, each one junior + one senior
dy_n_ctrl  <- 150     # control juniors and, separately, control seniors
dy_beta <- c("(Intercept)" = 3.5, armprogram = 0, wavepost = 0.10, "armprogram:wavepost" = 0.30)
dy_sd_pair <- 0.5; dy_sd_u <- 0.6; dy_sd_e <- 0.6
dy_p_post <- 0.15

# Participants.  Controls are their own (singleton) pair: pair_id = participant_id.
pair_ids <- sprintf("R%03d", seq_len(dy_n_pairs))
dy_p <- rbind(
  data.frame(participant_id = sprintf("PJ%03d", seq_len(dy_n_pairs)), pair_id = pair_ids,
             arm = "program", role = "junior", stringsAsFactors = FALSE),
  data.frame(participant_id = sprintf("PS%03d", seq_len(dy_n_pairs)), pair_id = pair_ids,
             arm = "program", role = "senior", stringsAsFactors = FALSE),
  data.frame(participant_id = sprintf("CJ%03d", seq_len(dy_n_ctrl)), pair_id = NA,
             arm = "control", role = "junior", stringsAsFactors = FALSE),
  data.frame(participant_id = sprintf("CS%03d", seq_len(dy_n_ctrl)), pair_id = NA,
             arm = "control", role = "senior", stringsAsFactors = FALSE))
dy_p$pair_id[dy_p$arm == "control"] <- dy_p$participant_id[dy_p$arm == "control"]
# Sort so that the two members of a pair are adjacent (R001: PJ001, PS001, ...),
# then the controls.
dy_p <- dy_p[order(dy_p$arm != "program", dy_p$pair_id, dy_p$role), ]
rownames(dy_p) <- NULL
n_dy <- nrow(dy_p)

# Draw order: pair intercepts (one per distinct pair_id, in order of first
# appearance), participant intercepts, residuals (participant-major), drop-out
# uniforms.  Controls get a pair intercept too (their singleton pair), so
# every participant's intercept variance is 0.5^2 + 0.6^2 as the model assumes.
pairs_all <- unique(dy_p$pair_id)
v_pair <- setNames(rnorm(length(pairs_all), 0, dy_sd_pair), pairs_all)
dy_u <- rnorm(n_dy, 0, dy_sd_u)
dy_e <- matrix(rnorm(n_dy * 2, 0, dy_sd_e), nrow = n_dy, byrow = TRUE)
prog <- dy_p$arm == "program"
dy_mu <- cbind(pre  = dy_beta[["(Intercept)"]] + dy_beta[["armprogram"]] * prog,
               post = dy_beta[["(Intercept)"]] + dy_beta[["armprogram"]] * prog +
                      dy_beta[["wavepost"]] + dy_beta[["armprogram:wavepost"]] * prog)
dy_y <- dy_mu + unname(v_pair[dy_p$pair_id]) + dy_u + dy_e
dy_left <- runif(n_dy) < drop_prob(dy_p_post, as.vector(scale(dy_y[, "pre"])))

dy <- data.frame(participant_id = rep(dy_p$participant_id, each = 2),
                 pair_id = rep(dy_p$pair_id, each = 2),
                 arm = rep(dy_p$arm, each = 2),
                 role = rep(dy_p$role, each = 2),
                 wave = rep(dy_waves, times = n_dy),
                 score = as.vector(t(dy_y)),
                 stringsAsFactors = FALSE)
dy <- dy[as.vector(rbind(TRUE, !dy_left)), ]
dy <- write_fixture(dy, "dyad.csv")
dy$wave <- factor(dy$wave, levels = dy_waves)
dy$arm  <- factor(dy$arm, levels = arm_levels)

dy_fit <- with_notes(lmerTest::lmer(score ~ arm * wave + (1 | pair_id) + (1 | participant_id),
                                    data = dy, REML = TRUE))
# The same two-component model refitted to a tight optimum (bobyqa, rhoend =
# 1e-12).  lme4's default nloptwrap stops this two-parameter problem about
# 1e-5 (relative) short of the optimum in theta; this block lets a port that
# converges tightly compare at tighter tolerances.  It is a convergence check,
# not what `lmer()` reports by default.
tight_control <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5))
dy_fit_tight <- with_notes(lmerTest::lmer(score ~ arm * wave + (1 | pair_id) + (1 | participant_id),
                                          data = dy, REML = TRUE, control = tight_control))
dy_fit_p <- with_notes(lmerTest::lmer(score ~ arm * wave + (1 | participant_id),
                                      data = dy, REML = TRUE))
icc_pair <- dy_sd_pair^2 / (dy_sd_pair^2 + dy_sd_u^2 + dy_sd_e^2)
dyad <- list(
  data = "tests/fixtures/lmm/dyad.csv",
  columns = names(dy),
  wave_levels = dy_waves, arm_levels = arm_levels,
  simulation = list(
    seed = 20240603, n_program_pairs = dy_n_pairs,
    n_control_juniors = dy_n_ctrl, n_control_seniors = dy_n_ctrl,
    n_participants = n_dy, n_pair_ids = length(pairs_all),
    control_pair_id = "equal to the participant's own participant_id (singleton pair)",
    true_fixed_effects = as.list(dy_beta),
    pair_intercept_sd = dy_sd_pair, participant_intercept_sd = dy_sd_u, residual_sd = dy_sd_e,
    icc_within_pair_single_observation = icc_pair,
    icc_within_pair_participant_means = dy_sd_pair^2 / (dy_sd_pair^2 + dy_sd_u^2),
    role_effect = 0,
    attrition = "logit P(missing post) = qlogis(0.15) - 0.5 z, z = standardised pre score",
    missing_share = list(pre = 0, post = mean(dy_left))),
  n_rows = nrow(dy),
  rows_by_arm_role_wave = cell_summary(dy, c("arm", "role", "wave")),
  # variance_components = pair then participant intercept variance; theta is
  # in lme4's order (terms with more levels first: participant_id, pair_id).
  model = fit_summary(dy_fit, "score ~ arm * wave + (1 | pair_id) + (1 | participant_id)",
                      c("pair_id", "participant_id")),
  model_tight_bobyqa = c(
    fit_summary(dy_fit_tight, "score ~ arm * wave + (1 | pair_id) + (1 | participant_id)",
                c("pair_id", "participant_id")),
    list(control = "lmerControl(optimizer = 'bobyqa', optCtrl = list(rhoend = 1e-12, maxfun = 1e5))",
         purpose = "convergence check: same model as `model`, fitted to a tight optimum")),
  model_participant_only = fit_summary(dy_fit_p, "score ~ arm * wave + (1 | participant_id)",
                                       "participant_id")
)

# =============================================================================
# Write the JSON
# =============================================================================
# write_ref() (common.R) puts description, generated_by and versions first.
write_ref(list(
  method = paste("lmerTest::lmer(..., REML = TRUE), lme4 default optimizer; terms from",
                 "summary() with Satterthwaite df; variance_components / tau2 = random",
                 "intercept variances, sigma2 = residual variance, reml_criterion =",
                 "lme4::REMLcrit() (-2 REML log-likelihood), theta = lme4::getME(m, 'theta');",
                 "contrast = lmerTest::contest(m, L, joint = FALSE). Fits use the CSVs as",
                 "read back in."),
  three_wave = three_wave,
  single_arm = single_arm,
  dyad = dyad),
  "lmm_fixtures.json",
  paste("lmerTest reference fits for three simulated LMM fixtures in",
        "tests/fixtures/lmm/: three waves with monotone attrition,",
        "single arm, and dyads (pair + participant random intercepts)"))
