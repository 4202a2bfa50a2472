#!/usr/bin/env Rscript
# =============================================================================
# make_survival_reference.R -- R reference values for the survival part of the
# rmstudy Python test-suite (ties, heavy censoring, late entry, competing risk).
#
# Run from the repository root:
#
#     Rscript tests/reference/make_survival_reference.R
#
# Inputs (read-only):  data/demo/{participants,employment}.csv, data/demo/study.yaml
# Outputs:             tests/fixtures/retention_ties/retention_ties.csv  (simulated)
#                      tests/reference/survival_ties.json   (for that fixture)
#                      tests/reference/survival_demo.json   (demo cohort, hypothesis H3)
#
# Part A simulates a small retention data set that is deliberately awkward for
# a Cox / Kaplan-Meier implementation:
#   * TIES:   exit days are rounded up to whole weeks (multiples of 7), so many
#             people leave on the same day;
#   * HEAVY CENSORING: about 70% are still employed at day 365;
#   * LATE ENTRY: about 15% were hired after the programme start (entry > 0),
#             so risk sets must be left-truncated (counting-process data);
#   * COMPETING RISK: involuntary exits (status 2) stop follow-up for the
#             voluntary-exit event (status 1).
# Part B computes the same set of R results for the fixture and for the demo
# cohort's retention hypothesis (built with exactly the rules of
# make_reference.R, section 5).
#
# Every JSON file carries `versions` (R and package versions from
# sessionInfo()), `generated_by` and a `method` entry per block.  Numbers are
# written with jsonlite `digits = NA` (15 significant digits); NA/NaN -> null.
# The output is deterministic: two runs give byte-identical files.
# =============================================================================

source(file.path("tests", "reference", "common.R"))   # check_repo_root, ref_writer, with_notes, read_csv_chr, select_population
suppressPackageStartupMessages({
  library(yaml)
  library(jsonlite)
  library(survival)
})

# ---- paths -----------------------------------------------------------------
script <- "tests/reference/make_survival_reference.R"
data_dir    <- file.path("data", "demo")
out_dir     <- file.path("tests", "reference")
fixture_dir <- file.path("tests", "fixtures", "retention_ties")
check_repo_root(script, c(data_dir, out_dir))   # common.R
dir.create(fixture_dir, showWarnings = FALSE, recursive = TRUE)

# ---- versions and the JSON writer (common.R, same conventions as make_reference.R) ----
# digits = NA  -> 15 significant digits; auto_unbox -> length-1 vectors become
# scalars; na = "null" -> NA / NaN become JSON null (not the string "NA").
pkgs_used <- c("survival", "yaml", "jsonlite")
versions <- ref_versions(pkgs_used)
write_ref <- ref_writer(out_dir, script, versions)

arm_levels <- c("control", "program")            # reference level = control
status_labels <- c("censor", "voluntary", "involuntary")   # status 0 / 1 / 2
times_out <- c(91, 182, 273, 365)                # KM / cumulative incidence times

# =============================================================================
# A. Simulated fixture: tests/fixtures/retention_ties/retention_ties.csv
# =============================================================================
# Time scale: days since the programme start (day 0).  Each person is at risk
# from `entry` (0, or the hire day for late entrants) until `time`.
#
# Latent times are exponential (constant cause-specific hazards per day),
# counted from entry (memoryless, so this is the same as left-truncating a
# process that started at day 0):
#   voluntary   (status 1): h1 = base1 * HR_program^program * exp(b_ten1 * (tenure - 5)) * dept1
#   involuntary (status 2): h2 = base2 * exp(b_ten2 * (tenure - 5))
#   other loss to follow-up (transfer out, status 0): constant h0
# Administrative censoring at day 365.
#
# The earliest latent time decides what happens.  Ties: the two exit types
# are recorded at the END OF THEIR WEEK, i.e. the latent day is rounded UP to
# the next multiple of 7 (7 * ceiling(t / 7)); this keeps time > entry.  If
# that week ends after day 365 the person is censored at 365 (status 0).
# Transfers out are recorded on their (integer, ceiling) day, so some
# censorings fall on event days -- a second kind of tie.
set.seed(2024)
n <- 400
sim <- list(
  seed = 2024, n = n,
  hr_program_voluntary = 0.7,
  base_hazard_voluntary_per_day = 0.00085,
  base_hazard_involuntary_per_day = 0.0003,
  hazard_transfer_out_per_day = 0.0002,
  tenure_log_hr_per_year_voluntary = -0.04,   # longer tenure -> fewer voluntary exits
  tenure_log_hr_per_year_involuntary = 0.02,
  tenure_centre_years = 5,
  tenure_years_distribution = "round(min(0.1 + Gamma(shape 1.6, rate 1.6 / 5.5), 35), 1)",
  department_hr_voluntary = list(Finance = 1, Ops = 0.9, Sales = 1.3, Tech = 1.1),
  late_entry_share = 0.15, late_entry_days = "integer 1-120, uniform",
  week_days = 7, admin_censor_day = 365
)
fx <- data.frame(id = sprintf("T%03d", seq_len(n)), stringsAsFactors = FALSE)
fx$arm <- sample(c("program", "control"), n, replace = TRUE)            # about half each
# tenure: right-skewed, 0.1 to ~30 years, one decimal
fx$tenure_years <- round(pmin(0.1 + rgamma(n, shape = 1.6, rate = 1.6 / 5.5), 35), 1)
fx$department <- sample(c("Finance", "Ops", "Sales", "Tech"), n, replace = TRUE)
late <- runif(n) < sim$late_entry_share
fx$entry <- ifelse(late, sample.int(120, n, replace = TRUE), 0L)

prog <- fx$arm == "program"
tc <- fx$tenure_years - sim$tenure_centre_years
h1 <- sim$base_hazard_voluntary_per_day * sim$hr_program_voluntary^prog *
  exp(sim$tenure_log_hr_per_year_voluntary * tc) *
  unlist(sim$department_hr_voluntary)[fx$department]
h2 <- sim$base_hazard_involuntary_per_day * exp(sim$tenure_log_hr_per_year_involuntary * tc)
t1 <- fx$entry + rexp(n, h1)                                    # latent voluntary exit
t2 <- fx$entry + rexp(n, h2)                                    # latent involuntary exit
t0 <- fx$entry + rexp(n, sim$hazard_transfer_out_per_day)       # latent transfer out
w1 <- sim$week_days * ceiling(t1 / sim$week_days)               # week-end recording
w2 <- sim$week_days * ceiling(t2 / sim$week_days)
d0 <- ceiling(t0)                                               # day recording (> entry)
# The first LATENT event decides the outcome; it is recorded on its own
# recording day (week end for exits, ceiling day for transfers).
cause <- ifelse(t1 <= t2 & t1 <= t0, 1L, ifelse(t2 <= t0, 2L, 0L))
first <- ifelse(cause == 1L, w1, ifelse(cause == 2L, w2, d0))
fx$status <- ifelse(first > sim$admin_censor_day, 0L, cause)   # after day 365: censored
fx$time <- as.integer(pmin(first, sim$admin_censor_day))
stopifnot(all(fx$time > fx$entry), all(fx$time <= 365))
fx <- fx[c("id", "arm", "tenure_years", "department", "entry", "time", "status")]
fixture_csv <- file.path(fixture_dir, "retention_ties.csv")
write.csv(fx, fixture_csv, row.names = FALSE, quote = FALSE)
message("wrote ", fixture_csv)

# read back what was written so that every fit uses the CSV exactly
fx <- read.csv(fixture_csv, stringsAsFactors = FALSE)

# =============================================================================
# Demo cohort: H3 analysis data, same rules as make_reference.R section 5
# =============================================================================
study <- yaml::read_yaml(file.path(data_dir, "study.yaml"))
participants <- read_csv_chr("participants.csv")
employment   <- read_csv_chr("employment.csv")

# Population filter: select_population() in common.R, as make_reference.R: each
# participants.csv column must match a value / list of values; a mapping with
# min/max is an inclusive numeric range; empty population = everyone.

retention_h <- Filter(function(h) identical(h$outcome, "retention"), study$hypotheses)
stopifnot(length(retention_h) == 1)              # H3
h3 <- retention_h[[1]]
start_date  <- as.Date(study$programme_start)
censor_date <- as.Date(study$censor_date)

pop <- select_population(participants, h3$population)
dm <- merge(pop[c("participant_id", "arm", "tenure_years", "department")], employment,
            by = "participant_id")
dm$hire <- as.Date(dm$hire_date)
dm$exit <- as.Date(dm$exit_date)
excluded <- !is.na(dm$exit) & dm$exit <= start_date     # gone on or before the start
n_excluded_demo <- sum(excluded)
dm <- dm[!excluded, ]
end <- pmin(dm$exit, censor_date, na.rm = TRUE)         # NA exit -> censor date
dm$time <- as.numeric(end - start_date)
exited  <- !is.na(dm$exit) & dm$exit <= censor_date
dm$status <- ifelse(exited & !is.na(dm$exit_reason) & dm$exit_reason == "voluntary", 1L,
              ifelse(exited & !is.na(dm$exit_reason) & dm$exit_reason == "involuntary", 2L, 0L))
dm$entry <- pmax(0, as.numeric(dm$hire - start_date))
n_exit_after_censor_demo <- sum(!is.na(dm$exit) & dm$exit > censor_date)   # censored at censor_date
dm <- dm[order(dm$participant_id), c("participant_id", "arm", "tenure_years", "department",
                                     "entry", "time", "status")]
rownames(dm) <- NULL
demo_data_info <- list(
  hypothesis = h3$id, population = h3$population,
  origin = as.character(start_date), censor_date = as.character(censor_date),
  n_participants_in_population = nrow(pop),
  n_excluded_exit_on_or_before_start = n_excluded_demo,
  exits_after_censor_date = n_exit_after_censor_demo,
  rules = list(
    exclusion = "exit_date <= programme_start",
    time = "days from programme_start to min(exit_date, censor_date)",
    status = paste("1 = exit_reason 'voluntary' and exit_date <= censor_date;",
                   "2 = exit_reason 'involuntary' and exit_date <= censor_date (time = exit date);",
                   "0 = otherwise (censored at censor_date)"),
    entry = "max(0, hire_date - programme_start) days",
    covariates = "tenure_years and department from participants.csv"))

# =============================================================================
# B. Analyses (identical for both data sets)
# =============================================================================
cox_row <- function(m, term = "armprogram") {
  s <- summary(m)
  list(coef = unname(s$coefficients[term, "coef"]),
       se = unname(s$coefficients[term, "se(coef)"]),
       hr = unname(s$coefficients[term, "exp(coef)"]),
       hr_lower = unname(s$conf.int[term, "lower .95"]),
       hr_upper = unname(s$conf.int[term, "upper .95"]),
       z = unname(s$coefficients[term, "z"]),
       p = unname(s$coefficients[term, "Pr(>|z|)"]),
       loglik = unname(m$loglik),                # c(null model, fitted model)
       n = m$n, nevent = m$nevent,
       iter = m$iter)
}

coef_table <- function(m) {
  s <- summary(m)
  ct <- s$coefficients
  data.frame(term = rownames(ct),
             coef = unname(ct[, "coef"]), se = unname(ct[, "se(coef)"]),
             z = unname(ct[, "z"]), p = unname(ct[, "Pr(>|z|)"]),
             hr = unname(ct[, "exp(coef)"]),
             lower = unname(s$conf.int[, "lower .95"]),
             upper = unname(s$conf.int[, "upper .95"]),
             stringsAsFactors = FALSE)
}

sctest_list <- function(m) {
  sc <- summary(m)$sctest
  list(chisq = unname(sc["test"]), df = unname(sc["df"]), p = unname(sc["pvalue"]))
}

zph_table <- function(z) {
  data.frame(term = rownames(z$table), chisq = unname(z$table[, "chisq"]),
             df = unname(z$table[, "df"]), p = unname(z$table[, "p"]),
             stringsAsFactors = FALSE)
}

# The "km" transform of cox.zph, recomputed by hand so that the JSON can show
# exactly what R used (checked against cox.zph()$x below):
#   g(t_i) = 1 - S(t_i-)   where S is the Kaplan-Meier of the POOLED data
#   (no strata, no covariates) computed from the model's own Surv object, i.e.
#   the left-truncated (entry, time] KM when there is late entry, and
#   S(t-) is the left limit (the KM just before t_i).
#   centred: g(t_i) - mean(g(t_j) over all event rows j) (ties counted once per event)
km_transform <- function(y) {
  km <- survival:::survfitKM(factor(rep(1L, nrow(y))), y, se.fit = FALSE)
  stop_time <- y[, ncol(y) - 1]
  indx <- findInterval(stop_time, km$time, left.open = TRUE)
  1 - c(1, km$surv)[indx + 1]
}

analyse <- function(d, id_col) {
  d$arm <- factor(d$arm, levels = arm_levels)
  d$event <- as.integer(d$status == 1)            # voluntary exit; status 2 censored
  d$department <- factor(d$department)            # alphabetical levels, first = reference
  late_entry <- any(d$entry > 0)
  # Counting-process (left-truncated) data only if somebody entered late.
  lhs <- if (late_entry) "Surv(entry, time, event)" else "Surv(time, event)"
  f_arm <- as.formula(paste(lhs, "~ arm"))
  f_adj <- as.formula(paste(lhs, "~ arm + tenure_years + department"))
  surv_note <- if (late_entry)
    "late entry present: counting-process Surv(entry, time, event) (left truncation)" else
    "all entry == 0: fitted with Surv(time, event) (no left truncation needed)"

  # ---- data summary -----------------------------------------------------------
  ev_times <- d$time[d$event == 1]
  tab_ev <- table(ev_times)
  info <- list(
    n = nrow(d),
    n_by_arm = as.list(table(d$arm)),
    status_counts = as.list(setNames(as.integer(table(factor(d$status, 0:2))),
                                     paste0("status_", 0:2))),
    status_share = as.list(setNames(as.numeric(table(factor(d$status, 0:2))) / nrow(d),
                                    paste0("status_", 0:2))),
    events_by_arm = as.list(tapply(d$event, d$arm, sum)),
    n_late_entry = sum(d$entry > 0),
    left_truncation = late_entry,
    surv_used = lhs,
    surv_note = surv_note,
    n_distinct_event_times = length(tab_ev),
    n_tied_event_times = sum(tab_ev > 1),           # distinct times with >= 2 events
    n_events_at_tied_times = sum(tab_ev[tab_ev > 1]),
    max_events_at_one_time = max(tab_ev),
    n_censored_at_an_event_time = sum(d$event == 0 & d$time %in% ev_times),
    department_levels = levels(d$department),
    arm_levels = arm_levels
  )

  # ---- 1. Cox, arm only, Efron and Breslow -----------------------------------
  efron   <- with_notes(coxph(f_arm, data = d, ties = "efron", x = TRUE, model = TRUE))
  breslow <- with_notes(coxph(f_arm, data = d, ties = "breslow", x = TRUE, model = TRUE))
  # ---- 2. adjusted Cox ---------------------------------------------------------
  adj <- with_notes(coxph(f_adj, data = d, ties = "efron", x = TRUE, model = TRUE))

  # ---- 3. log-rank ----------------------------------------------------------------
  # survdiff() does not take (entry, time] data; the score test of the Cox
  # model is the counting-process analogue.  survdiff is also run on
  # Surv(time, event), which IGNORES entry when there is late entry.
  lr <- survdiff(Surv(time, event) ~ arm, data = d)
  lr_df <- length(lr$n) - 1
  logrank <- list(
    score_test_efron = sctest_list(efron$value),
    score_test_breslow = sctest_list(breslow$value),
    survdiff = list(chisq = lr$chisq, df = lr_df,
                    p = pchisq(lr$chisq, lr_df, lower.tail = FALSE),
                    observed = as.list(setNames(lr$obs, arm_levels)),
                    expected = as.list(setNames(lr$exp, arm_levels)),
                    variance_program = lr$var[2, 2],
                    ignores_entry = late_entry,
                    note = if (late_entry)
                      "survdiff(Surv(time, event) ~ arm) IGNORING entry (survdiff cannot take counting-process data); for comparison only" else
                      "survdiff(Surv(time, event) ~ arm); entry is 0 for everybody so nothing is ignored")
  )

  # ---- 4. proportional hazards tests ---------------------------------------------
  zph <- list()
  for (tr in c("km", "identity", "rank")) {
    z <- cox.zph(efron$value, transform = tr)
    zph[[tr]] <- c(list(transform = tr), as.list(zph_table(z)[1, c("chisq", "df", "p")]))
  }
  # expose the km transform so the port can be checked step by step
  zk <- cox.zph(efron$value, transform = "km")
  y_fit <- efron$value$y
  g <- km_transform(y_fit)
  is_event <- y_fit[, ncol(y_fit)] == 1
  # cox.zph()$x holds g(t) at the event rows (uncentred), in its own order
  stopifnot(isTRUE(all.equal(sort(zk$x), sort(g[is_event]), tolerance = 1e-14)))
  gt <- unique(data.frame(time = y_fit[is_event, ncol(y_fit) - 1], g = g[is_event]))
  gt <- gt[order(gt$time), ]
  rownames(gt) <- NULL
  zph$km$transformed_times <- gt                  # one row per distinct event time
  zph$km$centre <- mean(g[is_event])              # subtracted from g before the test
  zph$adjusted_km <- zph_table(cox.zph(adj$value, transform = "km"))

  # ---- 5. Kaplan-Meier by arm ------------------------------------------------------
  km <- survfit(f_arm, data = d, conf.type = "log")
  ks <- summary(km, times = times_out, extend = TRUE)
  km_rows <- data.frame(arm = sub("^arm=", "", as.character(ks$strata)), time = ks$time,
                        surv = ks$surv, lower = ks$lower, upper = ks$upper,
                        std_err = ks$std.err, n_risk = ks$n.risk, n_event = ks$n.event,
                        stringsAsFactors = FALSE)

  # ---- 6. Aalen-Johansen cumulative incidence ----------------------------------------
  d$state <- factor(d$status, levels = 0:2, labels = status_labels)
  f_ms <- as.formula(paste(if (late_entry) "Surv(entry, time, state)" else "Surv(time, state)",
                           "~ arm"))
  # one row per person: id = the person's id (required by R for (entry, time] data)
  d$pid <- d[[id_col]]
  aj <- with_notes(survfit(f_ms, data = d, id = pid))
  ajf <- aj$value
  as_ <- summary(ajf, times = times_out, extend = TRUE)
  # summary() drops the column names of pstate; the state names live in
  # fit$states: "(s0)" (the initial state, "still employed" -- the first factor
  # level "censor" marks censoring and is NOT a state), "voluntary", "involuntary".
  st <- ajf$states
  stopifnot(ncol(as_$pstate) == length(st))
  aj_rows <- do.call(rbind, lapply(c("voluntary", "involuntary"), function(s) {
    j <- match(s, st)
    data.frame(arm = sub("^arm=", "", as.character(as_$strata)), time = as_$time, state = s,
               pstate = as_$pstate[, j], lower = as_$lower[, j], upper = as_$upper[, j],
               std_err = as_$std.err[, j], n_risk = as_$n.risk[, 1],
               stringsAsFactors = FALSE)
  }))
  aj_rows <- aj_rows[order(aj_rows$arm, aj_rows$state, aj_rows$time), ]
  rownames(aj_rows) <- NULL
  # check the CI really is the log type: p * exp(-/+ z * se / p), upper capped at 1
  zq <- qnorm(0.975)
  ok <- aj_rows$pstate > 0
  stopifnot(sum(ok) > 0, identical(ajf$conf.type, "log"),
            isTRUE(all.equal(aj_rows$lower[ok],
                             aj_rows$pstate[ok] * exp(-zq * aj_rows$std_err[ok] / aj_rows$pstate[ok]),
                             tolerance = 1e-12)),
            isTRUE(all.equal(aj_rows$upper[ok],
                             pmin(1, aj_rows$pstate[ok] * exp(zq * aj_rows$std_err[ok] / aj_rows$pstate[ok])),
                             tolerance = 1e-12)))

  list(
    data = info,
    cox_efron = c(list(formula = deparse(f_arm), ties = "efron"), cox_row(efron$value),
                  list(notes = efron$notes)),
    cox_breslow = c(list(formula = deparse(f_arm), ties = "breslow"), cox_row(breslow$value),
                    list(notes = breslow$notes)),
    cox_adjusted = list(formula = deparse(f_adj), ties = "efron",
                        terms = coef_table(adj$value),
                        loglik = unname(adj$value$loglik),
                        n = adj$value$n, nevent = adj$value$nevent,
                        score_test = sctest_list(adj$value),
                        notes = adj$notes),
    logrank = logrank,
    cox_zph = zph,
    km = list(formula = deparse(f_arm), conf_type = "log", conf_int = 0.95,
              times = times_out, rows = km_rows),
    cumulative_incidence = list(formula = deparse(f_ms), conf_type = ajf$conf.type,
                                conf_int = 0.95, times = times_out,
                                states = st, rows = aj_rows, notes = aj$notes)
  )
}

method <- list(
  event = "event = (status == 1), voluntary exit; status 2 (involuntary exit) is censored for Cox, log-rank and KM",
  surv = paste("Surv(entry, time, event) (left truncation, counting process) when any entry > 0;",
               "otherwise Surv(time, event). data$surv_used says which."),
  cox = paste("coxph(<Surv> ~ arm, ties = 'efron' | 'breslow'), arm levels control (reference), program.",
              "coef = log HR program vs control, se, hr = exp(coef), 95% Wald CI exp(coef -/+ qnorm(0.975) se),",
              "Wald z = coef / se, two-sided p; loglik = c(null, fitted); n = rows; nevent = events."),
  cox_adjusted = paste("coxph(<Surv> ~ arm + tenure_years + department, ties = 'efron').",
                       "department is a factor with alphabetical levels, the first is the reference;",
                       "term names are R's (armprogram, tenure_years, department<level>)."),
  logrank = paste("score_test_efron / score_test_breslow: summary(coxph(<Surv> ~ arm))$sctest",
                  "(Cox score test at beta = 0; works with (entry, time] data).",
                  "survdiff: survdiff(Surv(time, event) ~ arm), rho = 0 (hypergeometric variance);",
                  "with late entry it IGNORES entry (survdiff does not accept counting-process data)."),
  cox_zph = paste("cox.zph(efron unadjusted fit, transform = 'km' | 'identity' | 'rank'), terms = TRUE,",
                  "survival >= 3.0 algorithm: a score test (u' I^-1 u) for adding x * g(t) to the model,",
                  "at (beta_hat, 0), with the fit's ties method, using the full 2p x 2p information.",
                  "g(t) is computed from the STOP times of all rows; then centred:",
                  "g - mean(g over event rows). km: g = 1 - S(t-) with S the pooled KM from the",
                  "model's Surv object (left-truncated when Surv(entry, time, .)); identity: g = stop time;",
                  "rank: g = rank(stop time) over ALL rows (censored too), ties averaged.",
                  "km$transformed_times lists g for each distinct event time; km$centre is the mean",
                  "subtracted. adjusted_km: cox.zph(adjusted fit, transform = 'km'), one row per term",
                  "(department has df = number of levels - 1) plus GLOBAL."),
  km = paste("survfit(<Surv> ~ arm, conf.type = 'log'); summary(fit, times = c(91, 182, 273, 365), extend = TRUE).",
             "std_err is the Greenwood SE of S(t) on the survival scale; CI = S exp(-/+ 1.96 * std_err / S);",
             "n_risk = number at risk at the time (left-truncated risk set with late entry);",
             "n_event = events since the previous listed time."),
  cumulative_incidence = paste("Aalen-Johansen: survfit(Surv([entry,] time, factor(status, 0:2,",
                               "c('censor','voluntary','involuntary'))) ~ arm, id = <person id>) (one row per person;",
                               "everyone starts in the initial state at entry; R requires id for (entry, time] data).",
                               "pstate = probability of being in the state (cumulative incidence) at the time;",
                               "std_err = infinitesimal-jackknife (robust) SE, the only variance R offers for",
                               "multi-state curves; CI type 'log' (R's default, survfit_confint with logse = FALSE):",
                               "lower = p exp(-qnorm(0.975) se / p), upper = min(1, p exp(+qnorm(0.975) se / p)).",
                               "n_risk = number at risk in the initial state. summary(..., times, extend = TRUE).")
)

# ---- fixture ----------------------------------------------------------------------
res_fx <- analyse(fx, "id")
write_ref(c(list(
  data_file = "tests/fixtures/retention_ties/retention_ties.csv",
  simulation = c(sim, list(note = paste(
    "Exponential cause-specific hazards from entry; the earliest latent time (voluntary,",
    "involuntary, transfer out) decides the status; voluntary/involuntary exits are recorded at the",
    "end of their week (7 * ceiling(day / 7)), transfers out (status 0) on their ceiling day;",
    "censored at 365 (status 0) if the recorded day is after 365. Fitted from the CSV as read back in."))),
  method = method),
  res_fx),
  "survival_ties.json",
  "Survival reference for the simulated fixture with tied times, heavy censoring, late entry and a competing risk")

# ---- demo -------------------------------------------------------------------------
res_dm <- analyse(dm, "participant_id")
write_ref(c(list(analysis_data = demo_data_info, method = method), res_dm),
          "survival_demo.json",
          "Survival reference for the demo cohort retention hypothesis (H3), with tenure/department and the competing risk")
