# Timing child for benchmarks/lmm.py: lme4::lmer and lmerTest::lmer + summary().
#
#     Rscript benchmarks/_lmm_lme4.R DATA.csv REPEAT
#
# Reads the CSV once and converts arm (control, program), wave (pre, post) and
# participant_id to factors once (untimed). Then times, REPEAT times each with
# system.time (elapsed):
#   lme4      lme4::lmer(score ~ arm * wave + (1 | participant_id), REML = TRUE)
#   lmerTest  lmerTest::lmer(same) followed by summary() (Satterthwaite df),
#             because rmstudy.mixed_model's time includes Satterthwaite df.
# Prints one JSON object on stdout: per row the times, their median, the fixed
# effects (Intercept, arm, wave, interaction), tau2, sigma2 and any warnings;
# the lmerTest row also has the Satterthwaite df. A package that is missing
# gives {"status": "not available", "reason": ...}.

args <- commandArgs(trailingOnly = TRUE)
csv <- args[1]
n_rep <- as.integer(args[2])

if (!requireNamespace("jsonlite", quietly = TRUE)) {
  # No JSON writer: say so in the one format lmm.py reads.
  cat('{"lme4": {"status": "not available", "reason": "R package jsonlite is not installed"},',
      '"lmerTest": {"status": "not available", "reason": "R package jsonlite is not installed"}}\n')
  quit(status = 0)
}

d <- read.csv(csv, colClasses = c(participant_id = "character", arm = "character",
                                  wave = "character", score = "numeric"))
d$arm <- factor(d$arm, levels = c("control", "program"))
d$wave <- factor(d$wave, levels = c("pre", "post"))
d$participant_id <- factor(d$participant_id)
form <- score ~ arm * wave + (1 | participant_id)

time_rows <- function(pkg, fit_once, extract) {
  if (!requireNamespace(pkg, quietly = TRUE))
    return(list(status = "not available", reason = paste("R package", pkg, "is not installed")))
  suppressPackageStartupMessages(loadNamespace(pkg))
  times <- numeric(0)
  warns <- character(0)
  res <- NULL
  for (i in seq_len(n_rep)) {
    el <- system.time(
      res <- withCallingHandlers(fit_once(), warning = function(w) {
        warns <<- c(warns, conditionMessage(w))
        invokeRestart("muffleWarning")
      }, message = function(m) invokeRestart("muffleMessage"))
    )[["elapsed"]]
    times <- c(times, el)
  }
  out <- extract(res)
  out$status <- "ok"
  out$version <- as.character(utils::packageVersion(pkg))
  out$times <- times
  out$median <- stats::median(times)
  out$warnings <- unique(warns)
  out
}

vc <- function(m) {
  v <- as.data.frame(lme4::VarCorr(m))
  list(tau2 = v$vcov[v$grp == "participant_id"], sigma2 = v$vcov[v$grp == "Residual"])
}

r_lme4 <- time_rows("lme4",
  function() lme4::lmer(form, data = d, REML = TRUE),
  function(m) c(list(terms = names(lme4::fixef(m)), beta = unname(lme4::fixef(m))), vc(m)))

r_lmertest <- time_rows("lmerTest",
  function() {
    m <- lmerTest::lmer(form, data = d, REML = TRUE)
    list(model = m, summary = summary(m))
  },
  function(r) {
    co <- r$summary$coefficients
    c(list(terms = rownames(co), beta = unname(co[, "Estimate"]), df = unname(co[, "df"])), vc(r$model))
  })

cat(jsonlite::toJSON(list(lme4 = r_lme4, lmerTest = r_lmertest), auto_unbox = TRUE, digits = NA), "\n")
