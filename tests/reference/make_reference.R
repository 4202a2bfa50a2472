#!/usr/bin/env Rscript
# =============================================================================
# make_reference.R -- R reference values for the rmstudy Python test-suite.
#
# Run from the repository root:
#
#     Rscript tests/reference/make_reference.R
#
# Inputs (read-only):  data/demo/{participants,responses,employment}.csv,
#                      data/demo/{codebook,study}.yaml
# Outputs (this dir):  lmm_demo.json, lmm_ds01.json, lmm_ds01.csv,
#                      alpha_demo.json, cox_demo.json
#
# Nothing about the demo study is hard-coded here: scale names, items,
# reverse keys, ranges, min_answered, waves, hypotheses, populations, dates and
# retention horizons all come from the two YAML files.  The only hard-coded
# numbers are the simulation settings of the synthetic LMM data set ds01
# (section 3), which is independent of the demo cohort.
#
# Every JSON file carries a `versions` key (R and package versions taken from
# sessionInfo()) and a `generated_by` key.  Numbers are written with
# jsonlite `digits = NA` (15 significant digits); NA/NaN become JSON null.
# =============================================================================

source(file.path("tests", "reference", "common.R"))   # check_repo_root, read_demo, analysed_data, ref_writer, with_notes, reverse_key, select_population, coef_rows
suppressPackageStartupMessages({
  library(yaml)
  library(jsonlite)
  library(lme4)
  library(lmerTest)   # masks lme4::lmer so that lmer() fits carry Satterthwaite df
  library(psych)
  library(GPArotation)
  library(survival)
})

t_start <- proc.time()

# ---- paths -----------------------------------------------------------------
script <- "tests/reference/make_reference.R"
data_dir <- file.path("data", "demo")
out_dir  <- file.path("tests", "reference")
check_repo_root(script, c(data_dir, out_dir))   # common.R

# ---- versions (written into every JSON file) ---------------------------------
pkgs_used <- c("lme4", "lmerTest", "psych", "GPArotation", "survival",
               "Matrix", "nloptr", "yaml", "jsonlite")
versions <- ref_versions(pkgs_used)

# ---- JSON writer: write_ref() in common.R (15 significant digits, NA -> null) ---
write_ref <- ref_writer(out_dir, script, versions)

# =============================================================================
# 1. Read the demo cohort and score it
# =============================================================================
# read_demo() in common.R: YAML files and CSVs (empty cells missing), key checks,
# wave levels in study.yaml order, arm levels (control, program), and the scale
# scores (reverse_key() / score_scale(): x -> min + max - x; mean of answered items
# when answered / items >= min_answered, else NA).
demo <- read_demo(data_dir)
study <- demo$study; participants <- demo$participants; responses <- demo$responses
employment <- demo$employment; waves <- demo$waves; arm_levels <- demo$arm_levels
scales <- demo$scales

# ---- population filter (shared by sections 2 and 5) ---------------------------
# select_population() in common.R: participants.csv column -> value or list of values; a value with
# `min`/`max` keys (age) is an inclusive range; an empty population is everyone.

# ---- helpers for lmer output -------------------------------------------------

lmm_common <- function(m, group) {
  vc <- as.data.frame(VarCorr(m))
  list(
    terms = coef_rows(m),
    tau2 = vc$vcov[vc$grp == group & vc$var1 == "(Intercept)" & is.na(vc$var2)],
    sigma2 = sigma(m)^2,
    reml_criterion = unname(lme4::REMLcrit(m)),
    theta = unname(lme4::getME(m, "theta")),     # tau / sigma
    n_obs = nobs(m),
    n_groups = unname(lme4::ngrps(m)[group]),
    optimizer = m@optinfo$optimizer,
    converged_messages = as.character(unlist(m@optinfo$conv$lme4$messages))
  )
}

# =============================================================================
# 2. Mixed models on the demo cohort -> lmm_demo.json
# =============================================================================
lmm_demo <- list()
for (h in study$hypotheses) {
  if (identical(h$outcome, "retention")) next
  pop <- select_population(participants, h$population)
  pop_rows <- population_rows(h, demo)            # common.R: NA scores still in
  n_rows_population <- nrow(pop_rows)
  d <- analysed_data(h, demo, pop_rows)           # NA scores dropped, factors, sorted

  fit <- with_notes(lmerTest::lmer(score ~ arm * wave + (1 | participant_id),
                                   data = d, REML = TRUE))
  m <- fit$value

  # n / mean / sd of the score by arm x wave (a check on the scoring step)
  cells <- expand.grid(wave = waves, arm = arm_levels, stringsAsFactors = FALSE)[, 2:1]
  score_summary <- do.call(rbind, lapply(seq_len(nrow(cells)), function(i) {
    v <- d$score[d$arm == cells$arm[i] & d$wave == cells$wave[i]]
    data.frame(arm = cells$arm[i], wave = cells$wave[i], n = length(v),
               mean = if (length(v)) mean(v) else NA_real_,
               sd = if (length(v) > 1) sd(v) else NA_real_)
  }))

  lmm_demo[[h$id]] <- c(
    list(outcome = h$outcome,
         population = h$population,
         n_participants_in_population = nrow(pop),
         n_rows_in_population = n_rows_population,
         n_rows_dropped_na_score = n_rows_population - nrow(d),
         formula = "score ~ arm * wave + (1 | participant_id)",
         wave_levels = waves, arm_levels = arm_levels),
    lmm_common(m, "participant_id"),
    list(score_summary = score_summary, notes = fit$notes)
  )
}

write_ref(list(
  method = paste("lmerTest::lmer(score ~ arm * wave + (1 | participant_id), REML = TRUE);",
                 "Satterthwaite df from summary(); tau2 = participant intercept variance,",
                 "sigma2 = residual variance, reml_criterion = lme4::REMLcrit()."),
  hypotheses = lmm_demo),
  "lmm_demo.json", "Linear mixed models for every non-retention hypothesis of the demo cohort")

# =============================================================================
# 3. Synthetic unbalanced LMM case ds01 -> lmm_ds01.csv, lmm_ds01.json
# =============================================================================
set.seed(101)
n_subj <- 300
sim_waves <- c("w1", "w2", "w3")
subj <- data.frame(subject = sprintf("S%03d", seq_len(n_subj)),
                   arm = sample(arm_levels, n_subj, replace = TRUE),
                   u = rnorm(n_subj, 0, 0.8),        # random intercept, SD 0.8
                   stringsAsFactors = FALSE)
ds <- merge(subj, data.frame(wave = sim_waves, stringsAsFactors = FALSE), by = NULL)
ds <- ds[order(ds$subject, ds$wave), ]
ds$x <- rnorm(nrow(ds))                           # row-level numeric covariate
# true fixed effects
b <- c(int = 3, prog = 0.2, w2 = 0.3, w3 = 0.4, prog_w2 = -0.25, prog_w3 = -0.6, x = 0.5)
prog <- ds$arm == "program"
ds$y <- b["int"] + b["prog"] * prog + b["w2"] * (ds$wave == "w2") + b["w3"] * (ds$wave == "w3") +
  b["prog_w2"] * prog * (ds$wave == "w2") + b["prog_w3"] * prog * (ds$wave == "w3") +
  b["x"] * ds$x + ds$u + rnorm(nrow(ds), 0, 1)   # residual SD 1
# Missing completely at random but unbalanced by wave: drop probabilities
# 0.10 / 0.25 / 0.40 for w1 / w2 / w3 (about 25% of rows overall), so cells
# are unequal and some subjects keep a single row.
p_drop <- c(w1 = 0.10, w2 = 0.25, w3 = 0.40)[ds$wave]
ds <- ds[runif(nrow(ds)) >= p_drop, c("subject", "wave", "arm", "x", "y")]
# Round to 6 decimals *before* fitting so that the CSV holds exactly the
# numbers R fitted (decimal text parses to the same doubles in Python).
ds$x <- round(ds$x, 6)
ds$y <- round(ds$y, 6)
rownames(ds) <- NULL
write.csv(ds, file.path(out_dir, "lmm_ds01.csv"), row.names = FALSE, quote = FALSE)
message("wrote ", file.path(out_dir, "lmm_ds01.csv"))

# read back what was written, so the fit uses the CSV exactly
ds <- read.csv(file.path(out_dir, "lmm_ds01.csv"), stringsAsFactors = FALSE)
ds$wave <- factor(ds$wave, levels = sim_waves)
ds$arm  <- factor(ds$arm, levels = arm_levels)
rows_per_subject <- table(table(ds$subject))

fit_ds <- with_notes(lmerTest::lmer(y ~ arm * wave + x + (1 | subject), data = ds, REML = TRUE))
m_ds <- fit_ds$value
beta_names <- names(lme4::fixef(m_ds))
L <- setNames(numeric(length(beta_names)), beta_names)
L["armprogram:wavew3"] <-  1
L["armprogram:wavew2"] <- -1
ct <- lmerTest::contest(m_ds, L, joint = FALSE)  # t-test, Satterthwaite df
contrast <- list(label = "armprogram:wavew3 - armprogram:wavew2",
                 L = unname(L), L_names = beta_names,
                 estimate = ct$Estimate, se = ct$`Std. Error`, df = ct$df,
                 t = ct$`t value`, p = ct$`Pr(>|t|)`,
                 lower = ct$lower, upper = ct$upper)

fit_single <- with_notes(lmerTest::lmer(y ~ wave + (1 | subject), data = ds, REML = TRUE))

write_ref(list(
  data = "lmm_ds01.csv",
  simulation = list(seed = 101, n_subjects_generated = n_subj, waves = sim_waves,
                    random_intercept_sd = 0.8, residual_sd = 1,
                    true_fixed_effects = as.list(b),
                    drop_probability_by_wave = list(w1 = 0.10, w2 = 0.25, w3 = 0.40),
                    n_rows = nrow(ds),
                    n_subjects_observed = length(unique(ds$subject)),
                    subjects_by_rows_observed = as.list(setNames(as.integer(rows_per_subject),
                                                                 names(rows_per_subject))),
                    rows_by_arm_wave = as.data.frame(table(arm = ds$arm, wave = ds$wave),
                                                     responseName = "n", stringsAsFactors = FALSE)),
  model = c(list(formula = "y ~ arm * wave + x + (1 | subject)"),
            lmm_common(m_ds, "subject"), list(notes = fit_ds$notes)),
  contrast = contrast,
  single_arm = c(list(formula = "y ~ wave + (1 | subject)"),
                 lmm_common(fit_single$value, "subject"), list(notes = fit_single$notes))),
  "lmm_ds01.json", "Synthetic unbalanced LMM (ds01): fit, a contest() contrast, and a no-arm model")

# =============================================================================
# 4. Reliability -> alpha_demo.json
# =============================================================================
# psych::alpha(x) defaults: use = "pairwise" (cov(x, use = "pairwise")), so
# alpha, std.alpha, average_r, alpha-if-dropped and r.drop all come from the
# pairwise-complete covariance / correlation matrix.  nsub = nrow(x) (all rows
# handed in, complete or not) is the n used for
#   * the Feldt interval: psych::alpha.ci(raw_alpha, n.obs = nrow(x), n.var,
#     p.val = .05), i.e. 1 - (1 - alpha) * qF(.975 / .025, n - 1, (n - 1)(k - 1));
#   * ase = sqrt(Q / nrow(x)) (Duhachek & Iacobucci asymptotic SE); the
#     "Duhachek" bounds printed by print.psych are raw_alpha -/+ 1.96 * ase and
#     are NOT stored in the object, so we compute them exactly as the printer does.
# psych::omega(x) on raw data: Pearson cor(x, use = "pairwise"), n.obs = nrow(x),
# fm = "minres", factors rotated with oblimin (GPArotation), Schmid-Leiman.
roles <- c(sort(unique(participants$role)), "all")
feldt_n_note <- "nrow(x): every row passed to alpha(), including rows with missing items"

alpha_one <- function(x) {
  a <- with_notes(psych::alpha(x))
  av <- a$value
  o <- with_notes(psych::omega(x, nfactors = 1, plot = FALSE))
  list(
    n_rows = nrow(x),
    n_complete_rows = sum(complete.cases(x)),
    n_items = ncol(x),
    raw_alpha = av$total$raw_alpha,
    std_alpha = av$total$std.alpha,
    average_r = av$total$average_r,
    ase = av$total$ase,
    feldt = list(lower = unname(av$feldt$lower.ci[[1]]), upper = unname(av$feldt$upper.ci[[1]]),
                 n_obs_used = nrow(x)),
    duhachek = list(lower = av$total$raw_alpha - 1.96 * av$total$ase,
                    upper = av$total$raw_alpha + 1.96 * av$total$ase,
                    n_obs_used = nrow(x)),
    items = data.frame(item = colnames(x),
                       n = unname(av$item.stats$n),
                       r_drop = unname(av$item.stats$r.drop),
                       raw_alpha_if_dropped = unname(av$alpha.drop$raw_alpha),
                       stringsAsFactors = FALSE),
    omega_tot = o$value$omega.tot,
    omega_n_obs = o$value$stats$n.obs,
    notes = c(a$notes, o$notes)
  )
}

reliability <- list()
subscale_omega <- list()
resp_role <- participants$role[match(responses$participant_id, participants$participant_id)]
for (s in names(scales)) {
  sc <- scales[[s]]
  for (w in waves) {
    for (r in roles) {
      rows <- responses$wave == w & (r == "all" | resp_role == r)
      x <- reverse_key(responses[rows, , drop = FALSE], sc)
      x <- x[rowSums(!is.na(x)) >= 1, , drop = FALSE]   # at least one item answered
      rownames(x) <- NULL
      key <- paste(s, w, r, sep = "/")
      # a scale not asked at this wave, or of this group (relationship quality: programme members after the
      # programme), has no answers: nothing to compare, so no reference row
      if (nrow(x) < 3) next
      reliability[[key]] <- c(list(scale = s, wave = w, role = r), alpha_one(x))

      # Multi-factor omega for scales with subscales (wave = first wave, role all)
      if (!is.null(sc$subscales) && w == waves[1] && r == "all") {
        k <- length(sc$subscales)
        o3 <- with_notes(psych::omega(x, nfactors = k, plot = FALSE))
        subscale_omega[[s]] <- list(scale = s, wave = w, role = r, nfactors = k,
                                    subscales = sc$subscales,
                                    omega_h = o3$value$omega_h,
                                    omega_tot = o3$value$omega.tot,
                                    n_obs = o3$value$stats$n.obs,
                                    notes = o3$notes)
      }
    }
  }
}

write_ref(list(
  method = list(
    items = "reverse-keyed (min + max - x); rows of the wave's responses for the role, kept if >= 1 item answered",
    alpha = "psych::alpha(x) defaults: use = 'pairwise' covariances, check.keys = FALSE, na.rm = TRUE",
    feldt = "psych alpha.ci(raw_alpha, n.obs = nrow(x), n.var, p.val = 0.05) -> result$feldt",
    feldt_n_obs = feldt_n_note,
    duhachek = "raw_alpha -/+ 1.96 * total$ase, ase = sqrt(Q / nrow(x)); computed as print.psych does",
    r_drop = "item.stats$r.drop: item vs sum of the other items, from the pairwise covariance matrix",
    raw_alpha_if_dropped = "alpha.drop$raw_alpha",
    omega = "psych::omega(x, nfactors = 1, plot = FALSE): Pearson cor(x, use = 'pairwise'), fm = 'minres', n.obs = nrow(x)",
    omega_subscales = "psych::omega(x, nfactors = <number of subscales>, plot = FALSE), oblimin + Schmid-Leiman; exploratory, the codebook's subscale assignment is not used by psych"
  ),
  alpha = unname(reliability),
  omega_subscales = subscale_omega),
  "alpha_demo.json", "Cronbach's alpha and omega per scale x wave x role for the demo cohort")

# =============================================================================
# 5. Survival -> cox_demo.json
# =============================================================================
t0 <- as.Date(study$programme_start)
t_censor <- as.Date(study$censor_date)
horizons <- as.numeric(unlist(study$retention$horizons_days))

cox_summary <- function(m) {
  s <- summary(m)
  list(coef = unname(s$coefficients[1, "coef"]),
       se = unname(s$coefficients[1, "se(coef)"]),
       hr = unname(s$coefficients[1, "exp(coef)"]),
       hr_lower = unname(s$conf.int[1, "lower .95"]),
       hr_upper = unname(s$conf.int[1, "upper .95"]),
       z = unname(s$coefficients[1, "z"]),
       p = unname(s$coefficients[1, "Pr(>|z|)"]),
       loglik = unname(m$loglik),                # null model, fitted model
       n = m$n, nevent = m$nevent)
}

cox_out <- list()
for (h in study$hypotheses) {
  if (!identical(h$outcome, "retention")) next
  pop <- select_population(participants, h$population)
  d <- merge(pop[c("participant_id", "arm")], employment, by = "participant_id")
  d$hire <- as.Date(d$hire_date)
  d$exit <- as.Date(d$exit_date)
  excluded <- !is.na(d$exit) & d$exit <= t0       # gone on or before programme start
  n_excluded <- sum(excluded)
  d <- d[!excluded, ]
  end <- pmin(d$exit, t_censor, na.rm = TRUE)     # NA exit -> censor date
  d$time  <- as.numeric(end - t0)
  d$event <- as.integer(!is.na(d$exit) & d$exit <= t_censor &
                          !is.na(d$exit_reason) & d$exit_reason == "voluntary")
  d$entry <- pmax(0, as.numeric(d$hire - t0))
  d$arm <- factor(d$arm, levels = arm_levels)
  late_entry <- any(d$entry > 0)
  # Left truncation only if somebody was hired after the programme start.
  surv_formula <- if (late_entry) Surv(entry, time, event) ~ arm else Surv(time, event) ~ arm

  efron   <- coxph(surv_formula, data = d, ties = "efron")
  breslow <- coxph(surv_formula, data = d, ties = "breslow")
  zph <- cox.zph(efron)                           # default transform = "km"
  lr <- if (late_entry) NULL else survdiff(Surv(time, event) ~ arm, data = d)
  km <- survfit(surv_formula, data = d, conf.type = "log")
  ks <- summary(km, times = horizons)
  km_rows <- data.frame(arm = sub("^arm=", "", as.character(ks$strata)),
                        time = ks$time, surv = ks$surv, lower = ks$lower,
                        upper = ks$upper, std_err = ks$std.err,
                        n_risk = ks$n.risk, n_event = ks$n.event,
                        stringsAsFactors = FALSE)

  cox_out[[h$id]] <- list(
    population = h$population,
    n_participants_in_population = nrow(pop),
    n_excluded_exit_on_or_before_start = n_excluded,
    n_analysed = nrow(d),
    n_by_arm = as.list(table(d$arm)),
    events_by_arm = as.list(tapply(d$event, d$arm, sum)),
    involuntary_exits_censored = sum(!is.na(d$exit) & d$exit <= t_censor &
                                       d$exit_reason == "involuntary"),
    exits_after_censor_date = sum(!is.na(d$exit) & d$exit > t_censor),
    max_time = max(d$time),
    left_truncation = late_entry,
    left_truncation_note = if (late_entry) "Surv(entry, time, event)" else
      "nobody was hired after programme_start (all entry = 0); fitted with Surv(time, event)",
    efron = cox_summary(efron),
    breslow = cox_summary(breslow),
    logrank = if (is.null(lr)) NULL else
      list(chisq = lr$chisq, df = length(lr$n) - 1,
           p = pchisq(lr$chisq, df = length(lr$n) - 1, lower.tail = FALSE),
           observed = as.list(setNames(lr$obs, arm_levels)),
           expected = as.list(setNames(lr$exp, arm_levels))),
    cox_zph = list(transform = "km",
                   chisq = unname(zph$table["arm", "chisq"]),
                   df = unname(zph$table["arm", "df"]),
                   p = unname(zph$table["arm", "p"]),
                   global_chisq = unname(zph$table["GLOBAL", "chisq"]),
                   global_p = unname(zph$table["GLOBAL", "p"])),
    km = list(conf_type = "log", conf_int = 0.95, times = horizons, rows = km_rows)
  )
}

write_ref(list(
  method = list(
    origin = as.character(t0), censor_date = as.character(t_censor),
    exclusion = "exit_date <= programme_start",
    time = "days from programme_start to min(exit_date, censor_date)",
    event = "exit_reason == 'voluntary' and exit_date <= censor_date; involuntary exits censored at exit date",
    entry = "max(0, hire_date - programme_start) days",
    cox = "coxph(Surv(time, event) ~ arm), arm levels control, program; ties efron and breslow; Wald z, 95% CI",
    logrank = "survdiff(Surv(time, event) ~ arm), rho = 0",
    cox_zph = "cox.zph(efron fit), default transform 'km', terms = TRUE",
    km = "survfit(..., conf.type = 'log'); summary(fit, times = horizons)"),
  hypotheses = cox_out),
  "cox_demo.json", "Cox models, log-rank, PH test and Kaplan-Meier for the demo retention hypotheses")

elapsed <- (proc.time() - t_start)[["elapsed"]]
message(sprintf("done in %.1f s", elapsed))
