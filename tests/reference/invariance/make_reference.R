#!/usr/bin/env Rscript
# =============================================================================
# make_reference.R -- lavaan measurement-invariance reference values for
# rmstudy.stats.invariance (one-factor CFA, ML, configural / metric / scalar).
#
# Run from the repository root:
#
#     Rscript tests/reference/invariance/make_reference.R
#
# Outputs (beside this script):
#   noninvariant.csv       seeded fixture: 5 items, two groups, two waves, with
#                          planted non-invariant intercepts (see section 2)
#   invariance_demo.json   lavaan fits on every >= 3-item scale of data/demo
#   invariance_fixture.json lavaan fits on noninvariant.csv (as read back)
#
# Models (lavaan defaults otherwise: estimator ML, likelihood "normal",
# missing "listwise", marker variable = first item, meanstructure):
#   multi-group: cfa("f =~ x1 + ... + xk", group = g,
#                    group.equal = NULL | "loadings" | c("loadings", "intercepts"))
#                at the first wave of study.yaml, across `role` and across `arm`
#   longitudinal: one factor per wave on the wide data (x_wave columns), factor
#                covariances free, residual covariance of the same item across
#                waves; metric = loadings labelled equal across waves; scalar =
#                also intercepts labelled equal, first factor mean 0, later free.
# Items are reverse-keyed as in the codebook (min + max - x; this changes no fit).
# Numbers: jsonlite digits = NA (15 significant digits). Two runs give
# byte-identical files.
# =============================================================================

source(file.path("tests", "reference", "common.R"))   # check_repo_root, with_notes, ref_versions, ref_writer
suppressPackageStartupMessages({
  library(yaml)
  library(jsonlite)
  library(lavaan)
})

script <- "tests/reference/invariance/make_reference.R"
out_dir <- file.path("tests", "reference", "invariance")
check_repo_root(script, c(out_dir, "data/demo"))
versions <- ref_versions(c("lavaan", "yaml", "jsonlite"))
write_ref <- ref_writer(out_dir, script, versions)

LEVELS <- list(configural = character(0), metric = "loadings", scalar = c("loadings", "intercepts"))

fit_row <- function(fit, notes) {
  fm <- fitMeasures(fit, c("chisq", "df", "cfi", "rmsea", "baseline.chisq", "baseline.df", "ntotal"))
  list(chisq = unname(fm["chisq"]), df = unname(fm["df"]), cfi = unname(fm["cfi"]),
       rmsea = unname(fm["rmsea"]), baseline_chisq = unname(fm["baseline.chisq"]),
       baseline_df = unname(fm["baseline.df"]), n = unname(fm["ntotal"]),
       converged = lavInspect(fit, "converged"), notes = notes)
}

try_fit <- function(expr) {
  r <- tryCatch(with_notes(expr), error = function(e) list(value = NULL, notes = paste("error:", conditionMessage(e))))
  if (is.null(r$value)) list(chisq = NA, df = NA, cfi = NA, rmsea = NA, n = NA, converged = FALSE,
                             notes = r$notes)
  else fit_row(r$value, r$notes)
}

multigroup <- function(d, items, group) {
  model <- paste("f =~", paste(items, collapse = " + "))
  lapply(LEVELS, function(eq) try_fit(
    if (length(eq)) cfa(model, data = d, group = group, group.equal = eq) else cfa(model, data = d, group = group)))
}

long_model <- function(items, waves, level) {
  k <- length(items)
  lines <- character(0)
  for (w in seq_along(waves)) {
    v <- paste0(items, "_", waves[w])
    lab <- if (level == "configural") "" else paste0("l", seq_len(k), "*")
    lab[1] <- ""                                  # marker: loading fixed to 1 by lavaan
    lines <- c(lines, paste0("f", w, " =~ ", paste0(lab, v, collapse = " + ")))
    if (level == "scalar") {
      lines <- c(lines, paste0(v, " ~ i", seq_len(k), "*1"))
      lines <- c(lines, paste0("f", w, if (w == 1) " ~ 0*1" else " ~ NA*1"))
    }
  }
  for (w in seq_along(waves)) for (u in seq_len(w - 1)) {
    lines <- c(lines, paste0(items, "_", waves[u], " ~~ ", items, "_", waves[w]))
  }
  paste(lines, collapse = "\n")
}

longitudinal <- function(d, items, waves, id = "participant_id", wave = "wave") {
  wide <- NULL
  for (w in waves) {
    x <- d[d[[wave]] == w, c(id, items)]
    names(x) <- c(id, paste0(items, "_", w))
    wide <- if (is.null(wide)) x else merge(wide, x, by = id)
  }
  lapply(setNames(names(LEVELS), names(LEVELS)), function(level)
    try_fit(cfa(long_model(items, waves, level), data = wide, meanstructure = TRUE)))
}

# =============================================================================
# 1. The demo cohort: every scale with at least three items
# =============================================================================
demo <- read_demo("data/demo")                             # common.R
first_wave <- demo$waves[1]
keyed <- demo$responses[c("participant_id", "wave")]
for (s in names(demo$scales)) keyed <- cbind(keyed, reverse_key(demo$responses, demo$scales[[s]]))
keyed <- merge(keyed, demo$participants[c("participant_id", "arm", "role")], by = "participant_id")
keyed <- keyed[order(keyed$participant_id, match(keyed$wave, demo$waves)), ]
demo_rows <- list()
for (s in names(demo$scales)) {
  items <- unlist(demo$scales[[s]]$items)
  if (length(items) < 3) next
  base <- keyed[keyed$wave == first_wave, ]
  demo_rows[[s]] <- list(role = multigroup(base, items, "role"), arm = multigroup(base, items, "arm"),
                         wave = longitudinal(keyed, items, demo$waves))
}
demo_files <- file.path("data/demo", c("participants.csv", "responses.csv"))
md5 <- as.list(setNames(unname(tools::md5sum(demo_files)), basename(demo_files)))   # the test checks the data still match
write_ref(list(md5 = md5, first_wave = first_wave, waves = demo$waves, scales = demo_rows), "invariance_demo.json",
          "lavaan::cfa invariance fits (configural, metric, scalar) of every >= 3-item scale of data/demo")

# =============================================================================
# 2. Fixture with planted non-invariance
# =============================================================================
# One factor, 5 items, loadings (1, .9, .8, .8, .7), residual sd .6; groups a and b (250 each), waves t1, t2.
# Planted: item q4's intercept is 0.8 higher in group b (both waves): scalar invariance across group fails.
#          item q3's intercept is 0.8 higher at t2 (both groups): scalar invariance across wave fails.
# Factor: mean 0 (a) / 0.2 (b) at t1, +0.3 at t2; variance 1; correlation of t1 and t2 factors 0.6.
# The order of the random draws is part of the fixture: do not reorder.
set.seed(1812)
n_per <- 250L
lam <- c(1, 0.9, 0.8, 0.8, 0.7)
nu <- c(3, 3.2, 2.8, 3.1, 2.9)
ids <- sprintf("F%04d", seq_len(2 * n_per))
grp <- rep(c("a", "b"), each = n_per)
f1 <- rnorm(2 * n_per) + ifelse(grp == "b", 0.2, 0)
f2 <- 0.6 * (f1 - ifelse(grp == "b", 0.2, 0)) + sqrt(1 - 0.6^2) * rnorm(2 * n_per) + ifelse(grp == "b", 0.2, 0) + 0.3
spec <- rnorm(2 * n_per * 5, sd = 0.3)                     # item-specific part shared across waves
fixture <- NULL
for (w in c("t1", "t2")) {
  f <- if (w == "t1") f1 else f2
  x <- sapply(1:5, function(j) nu[j] + lam[j] * f + spec[(j - 1) * 2 * n_per + seq_len(2 * n_per)] +
                                rnorm(2 * n_per, sd = 0.5))
  x[grp == "b", 4] <- x[grp == "b", 4] + 0.8
  if (w == "t2") x[, 3] <- x[, 3] + 0.8
  colnames(x) <- paste0("q", 1:5)
  fixture <- rbind(fixture, data.frame(participant_id = ids, wave = w, group = grp, round(x, 4)))
}
fixture$q2[c(7, 260, 611)] <- NA                             # a few missing answers (listwise deletion)
write.csv(fixture, file.path(out_dir, "noninvariant.csv"), row.names = FALSE, na = "")
fx <- read.csv(file.path(out_dir, "noninvariant.csv"), stringsAsFactors = FALSE, na.strings = "")
items <- paste0("q", 1:5)
write_ref(list(group = multigroup(fx[fx$wave == "t1", ], items, "group"),
               wave = longitudinal(fx, items, c("t1", "t2"))),
          "invariance_fixture.json",
          "lavaan::cfa invariance fits of noninvariant.csv: across group at t1 and across waves t1, t2")
