#!/usr/bin/env Rscript
# make_tipping_reference.R -- R reference for rmstudy's delta-adjusted multiple imputation (stats/tipping.py).
#
# Run from the repository root:   Rscript tests/reference/mmrm/make_tipping_reference.R
# Input:  tests/fixtures/trial_cohort; hypothesis T1 (the plan's first: contrast baseline -> month12)
# Output: tests/reference/mmrm/tipping_trial.json
#   Each arm's participants (those with at least one score) as one row each, one column per wave, imputed
#   separately per arm by mice(method = "norm", m = 300, maxit = 10) (every wave regressed on all the others).
#   The imputed month12 score of the programme arm's dropouts (no month12 score) is shifted by delta (scenario
#   "programme"), or that of both arms' dropouts (scenario "both"). Each completed set is analysed by
#   lm(change ~ arm) (change = month12 - baseline) and pooled by mice::pool.scalar (Rubin's rules,
#   Barnard-Rubin df with dfcom = n - 2). tipping: the delta in [-18, 0] at which the pooled p = .05 (uniroot).
#   B (between-imputation variance) is stored so the test can allow for Monte-Carlo error.
source(file.path("tests", "reference", "common.R"))
suppressPackageStartupMessages({ library(mice); library(jsonlite); library(yaml) })
check_repo_root("tests/reference/mmrm/make_tipping_reference.R", c("tests/fixtures/trial_cohort"))
data_dir <- file.path("tests", "fixtures", "trial_cohort")
out_dir <- file.path("tests", "reference", "mmrm")
codebook <- yaml::read_yaml(file.path(data_dir, "codebook.yaml"))
study <- yaml::read_yaml(file.path(data_dir, "study.yaml"))
participants <- read_csv_chr("participants.csv")
responses <- read_csv_chr("responses.csv")
waves <- unlist(study$waves)
h <- study$hypotheses[[1]]
base <- h$contrast[[1]]; later <- h$contrast[[2]]

sc <- responses[c("participant_id", "wave")]
sc$score <- score_scale(responses, codebook$scales[[h$outcome]])
sc <- sc[!is.na(sc$score), ]
wide <- reshape(sc, idvar = "participant_id", timevar = "wave", direction = "wide")
names(wide) <- sub("^score\\.", "", names(wide))
wide <- merge(participants[c("participant_id", "arm")], wide, by = "participant_id")
wide <- wide[c("participant_id", "arm", waves)]
M <- 300
set.seed(20261203)
imp <- lapply(c("program", "control"), function(a) {
  d <- wide[wide$arm == a, waves]
  list(ids = wide$participant_id[wide$arm == a], drop = is.na(d[[later]]),
       imp = mice(d, method = "norm", m = M, maxit = 10, printFlag = FALSE, seed = if (a == "program") 1 else 2))
})
# per arm: the completed month12 and baseline scores of every imputation (participants x M) and the dropouts
filled <- lapply(imp, function(a) {
  all <- complete(a$imp, "all")
  list(later = sapply(all, `[[`, later), base = sapply(all, `[[`, base), drop = a$drop)
})
pooled <- function(delta, both) {
  ch <- lapply(seq_along(filled), function(i) {
    f <- filled[[i]]
    shift <- if (i == 1 || both) delta * f$drop else 0
    f$later + shift - f$base
  })
  # lm(change ~ arm) per completed set, in closed form: difference in means, pooled-variance SE
  np <- nrow(ch[[1]]); nc <- nrow(ch[[2]])
  est <- colMeans(ch[[1]]) - colMeans(ch[[2]])
  s2 <- ((np - 1) * apply(ch[[1]], 2, var) + (nc - 1) * apply(ch[[2]], 2, var)) / (np + nc - 2)
  u <- s2 * (1 / np + 1 / nc)
  p <- pool.scalar(est, u, n = nrow(wide), k = 2)
  list(delta = delta, estimate = p$qbar, se = sqrt(p$t), df = p$df, b = p$b,
       p_value = 2 * pt(abs(p$qbar) / sqrt(p$t), p$df, lower.tail = FALSE))
}
deltas <- seq(0, -12, length.out = 9)
grid <- list(programme = lapply(deltas, pooled, both = FALSE), both = lapply(deltas, pooled, both = TRUE))
tip <- uniroot(function(d) pooled(d, FALSE)$p_value - 0.05, c(-18, 0), tol = 1e-4)$root
write_ref <- ref_writer(out_dir, "tests/reference/mmrm/make_tipping_reference.R",
                        ref_versions(c("mice", "jsonlite", "yaml")))
write_ref(list(id = h$id, contrast = c(base, later), m = M, n = nrow(wide),
               dropouts = list(program = sum(imp[[1]]$drop), control = sum(imp[[2]]$drop)),
               grid = grid, tipping_programme = tip),
          "tipping_trial.json", "Delta-adjusted MI (mice norm per arm, Rubin's rules) on tests/fixtures/trial_cohort T1")
