# Helpers shared by the reference scripts in tests/reference/ (sourced, never run alone).
# They are the single copy of the rules every script must apply the same way: how warnings are kept,
# how the cohort CSVs are read (empty cell = missing), the scoring rules (reverse key = min + max - x;
# scale score = mean of answered items when the answered share reaches min_answered), the population
# filter of study.yaml, how the demo cohort is read and checked (read_demo), the analysed data of a survey
# hypothesis (analysed_data) and how a reference JSON file is written (write_ref_json, ref_writer).

with_notes <- function(expr) {
  notes <- character(0)
  value <- withCallingHandlers(
    expr,
    warning = function(w) { notes <<- c(notes, paste("warning:", conditionMessage(w)))
                            invokeRestart("muffleWarning") },
    message = function(m) { notes <<- c(notes, paste("message:", trimws(conditionMessage(m))))
                            invokeRestart("muffleMessage") }
  )
  list(value = value, notes = notes)
}

# Stops unless every one of `dirs` exists: the scripts use paths relative to the repository root.
check_repo_root <- function(script, dirs) {
  if (!all(dir.exists(dirs))) stop("Run this script from the repository root: Rscript ", script)
}

# `dir` defaults to the sourcing script's `data_dir`.
read_csv_chr <- function(f, dir = data_dir) {
  read.csv(file.path(dir, f), stringsAsFactors = FALSE, na.strings = c("", "NA"),
           check.names = FALSE)
}

reverse_key <- function(df, scale) {
  items <- unlist(scale$items)
  x <- as.data.frame(lapply(df[items], as.numeric), check.names = FALSE)
  for (it in unlist(scale$reverse)) x[[it]] <- scale$min + scale$max - x[[it]]
  x
}

score_scale <- function(df, scale) {
  x <- reverse_key(df, scale)
  n_items <- ncol(x)
  answered <- rowSums(!is.na(x))
  score <- rowMeans(x, na.rm = TRUE)              # NaN if nothing answered
  score[answered / n_items < scale$min_answered] <- NA_real_
  score
}

select_population <- function(p, population) {
  keep <- rep(TRUE, nrow(p))
  for (col in names(population)) {
    if (!col %in% names(p)) stop("population column not in participants.csv: ", col)
    rule <- population[[col]]
    if (is.list(rule) && !is.null(names(rule)) && all(names(rule) %in% c("min", "max"))) {
      v <- as.numeric(p[[col]])
      if (!is.null(rule$min)) keep <- keep & !is.na(v) & v >= rule$min
      if (!is.null(rule$max)) keep <- keep & !is.na(v) & v <= rule$max
    } else {
      keep <- keep & !is.na(p[[col]]) & as.character(p[[col]]) %in% as.character(unlist(rule))
    }
  }
  p[keep, , drop = FALSE]
}

coef_rows <- function(m) {
  ct <- summary(m)$coefficients                  # lmerTest: Satterthwaite df
  data.frame(term = rownames(ct),
             estimate = unname(ct[, "Estimate"]),
             se = unname(ct[, "Std. Error"]),
             df = unname(ct[, "df"]),
             t = unname(ct[, "t value"]),
             p = unname(ct[, "Pr(>|t|)"]),
             stringsAsFactors = FALSE)
}

# Version of package `p`: from sessionInfo() if it is loaded, else from its installed DESCRIPTION.
pkg_version <- function(p, si = sessionInfo()) {
  all_pkgs <- c(si$otherPkgs, si$loadedOnly)
  if (!is.null(all_pkgs[[p]])) all_pkgs[[p]]$Version else as.character(packageVersion(p))
}

# R, platform, BLAS/LAPACK and the versions of the packages a script used (written into every JSON file).
ref_versions <- function(pkgs_used) {
  si <- sessionInfo()
  list(
    R = si$R.version$version.string,
    platform = si$platform,
    blas = if (!is.null(si$BLAS)) si$BLAS else NA,
    lapack = if (!is.null(si$LAPACK)) si$LAPACK else NA,
    packages = lapply(setNames(pkgs_used, pkgs_used), pkg_version, si = si)
  )
}

# ---- JSON writer -------------------------------------------------------------------------------------
# Every reference file starts with `description`, `generated_by` (the script) and `versions`, then `x`.
# digits = NA  -> maximum precision jsonlite offers (15 significant digits)
# auto_unbox   -> length-1 vectors become scalars
# na = "null"  -> NA / NaN become JSON null (jsonlite's default for numbers would be the *string* "NA")
write_ref_json <- function(x, file, description, out_dir, generated_by, versions) {
  x <- c(list(description = description, generated_by = generated_by, versions = versions), x)
  path <- file.path(out_dir, file)
  jsonlite::write_json(x, path, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
  message("wrote ", path)
  invisible(path)
}

# write_ref_json() with a script's out_dir, generated_by and versions fixed; every script does
#   write_ref <- ref_writer(out_dir, "tests/reference/<script>.R", versions)
# and then calls write_ref(x, file, description).
ref_writer <- function(out_dir, generated_by, versions) {
  force(out_dir); force(generated_by); force(versions)
  function(x, file, description) write_ref_json(x, file, description, out_dir, generated_by, versions)
}

# ---- the demo cohort -----------------------------------------------------------------------------------
# Reads codebook.yaml, study.yaml and the three cohort CSVs of `data_dir` (empty cells missing,
# participant_id etc. character), checks the keys, and scores every codebook scale for every row of
# responses.csv (reverse_key() and score_scale() above).  wave levels = study.yaml `waves` order; arm levels
# (control, program), so control is the reference level.
read_demo <- function(data_dir) {
  codebook <- yaml::read_yaml(file.path(data_dir, "codebook.yaml"))
  study    <- yaml::read_yaml(file.path(data_dir, "study.yaml"))
  participants <- read_csv_chr("participants.csv", data_dir)
  responses    <- read_csv_chr("responses.csv", data_dir)
  employment   <- read_csv_chr("employment.csv", data_dir)
  waves <- unlist(study$waves)
  arm_levels <- c("control", "program")
  scales <- codebook$scales

  stopifnot(!anyDuplicated(participants$participant_id),
            !anyDuplicated(responses[c("participant_id", "wave")]),
            all(responses$participant_id %in% participants$participant_id),
            all(participants$arm %in% arm_levels))

  scored <- responses[c("participant_id", "wave")]
  for (s in names(scales)) scored[[s]] <- score_scale(responses, scales[[s]])

  list(codebook = codebook, study = study, participants = participants, responses = responses,
       employment = employment, waves = waves, arm_levels = arm_levels, scales = scales, scored = scored)
}

# ---- analysed data of a survey hypothesis (lmm_demo, moderation_demo, effects_demo) ----------------------
# population_rows(): the scored rows (one per participant x wave of responses.csv) of the hypothesis
# population with its arm, the outcome renamed to `score`; NA scores still in.
population_rows <- function(h, demo) {
  pop <- select_population(demo$participants, h$population)
  d <- merge(demo$scored[c("participant_id", "wave", h$outcome)],
             demo$participants[c("participant_id", "arm")], by = "participant_id")
  d <- d[d$participant_id %in% pop$participant_id, ]
  names(d)[names(d) == h$outcome] <- "score"
  d
}

# analysed_data(): those rows with NA scores (and waves not in study.yaml) dropped, wave and arm as factors
# with the levels of read_demo(), sorted by participant and wave.
analysed_data <- function(h, demo, rows = population_rows(h, demo)) {
  d <- rows[!is.na(rows$score) & rows$wave %in% demo$waves, ]
  d$wave <- factor(d$wave, levels = demo$waves)
  d$arm  <- factor(d$arm, levels = demo$arm_levels)
  d[order(d$participant_id, d$wave), ]
}
