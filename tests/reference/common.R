# Helpers shared by the reference scripts in tests/reference/ (sourced, never run alone).
# They are the single copy of the rules every script must apply the same way: how warnings are kept,
# how the cohort CSVs are read (empty cell = missing; `data_dir` comes from the sourcing script), the
# scoring rules (reverse key = min + max - x; scale score = mean of answered items when the answered share
# reaches min_answered) and the population filter of study.yaml.

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

read_csv_chr <- function(f) {
  read.csv(file.path(data_dir, f), stringsAsFactors = FALSE, na.strings = c("", "NA"),
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

# R, platform, BLAS/LAPACK and the versions of the packages a script used (written into every JSON file).
ref_versions <- function(pkgs_used) {
  si <- sessionInfo()
  all_pkgs <- c(si$otherPkgs, si$loadedOnly)
  list(
    R = si$R.version$version.string,
    platform = si$platform,
    blas = if (!is.null(si$BLAS)) si$BLAS else NA,
    lapack = if (!is.null(si$LAPACK)) si$LAPACK else NA,
    packages = lapply(setNames(pkgs_used, pkgs_used), function(p) {
      if (!is.null(all_pkgs[[p]])) all_pkgs[[p]]$Version else as.character(packageVersion(p))
    })
  )
}
