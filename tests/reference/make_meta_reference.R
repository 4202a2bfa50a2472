#!/usr/bin/env Rscript
# =============================================================================
# make_meta_reference.R -- metafor reference values for rmstudy.stats.meta
# (random-effects pooling, `rmstudy pool`).
#
# Run from the repository root:
#
#     Rscript tests/reference/make_meta_reference.R
#
# Output (this dir):   meta_reference.json
# Needs:               metafor, jsonlite (Debian: r-cran-metafor r-cran-jsonlite)
#
# Data sets (each stored with its inputs, so the Python tests read exactly the
# numbers R fitted; yi and vi are rounded to 12 significant digits BEFORE the fit):
#   bcg        metafor's dat.bcg (13 BCG vaccine trials), escalc(measure = "RR"):
#              log risk ratios; `year` orders the cumulative meta-analysis
#   k2         two studies
#   k3_zero    three nearly identical studies: REML/DL tau^2 = 0 (the boundary),
#              and Q below the lower chi^2 quantile, so the Q-profile CI is {0}
#   k3_low     three studies with Q < k - 1 but above that quantile: tau^2 = 0,
#              Q-profile CI [0, upper]
#   hetero     eight studies with large between-study variance (simulated, seed 15)
#   unequal    seven studies whose SEs range from 0.02 to 1.2 (variance ratio 3600)
#   cohorts    six simulated reverse-mentoring cohorts: difference in change in
#              scale points with the SE a cohort of 40-200 people gives (seed 2026)
#   oscillating eight studies (from rmstudy's coverage simulation) on which metafor's
#              default REML Fisher scoring oscillates and stops with "did not converge";
#              stored: that error, and the REML fit with step halving
#              (control = list(stepadj = 0.5, threshold = 1e-12, maxiter = 1000)), which
#              converges to the REML maximum
#
# For each data set x method (REML, DL, FE) x test (z, knha):
#   fit        rma(yi, vi, method, test): estimate (beta), se, zval, pval, ci.lb, ci.ub,
#              tau2, se.tau2, I2, H2, QE, QEp, ddf, s2w, weights (weights(): percent)
#   predict    predict(fit) (pi.type "default": the test's distribution, KH-scaled SE
#              for knha) and predict(fit, pi.type = "riley") (t with k - 2 df); FE fits
#              have no prediction interval (null)
#   confint    confint(fit) (Q-profile tau^2 CI, uniroot tol = .Machine$double.eps^0.25)
#              and confint(fit, control = list(tol = 1e-12)) (the same, solved tightly);
#              random-effects fits only
#   leave1out  leave1out(fit): estimate, se, zval, pval, ci.lb, ci.ub, Q, Qp, tau2, I2, H2
#   cumul      cumul(fit, order = year) where the data have a year, else in row order
#   reml_tight REML only: rma(..., control = list(threshold = 1e-12)), so the tests can
#              see how far metafor's default convergence (change in tau^2 < 1e-5) is
#              from the REML maximum
# =============================================================================

script <- "tests/reference/make_meta_reference.R"
source(file.path("tests", "reference", "common.R"))   # check_repo_root, with_notes, ref_versions, ref_writer
check_repo_root(script, c("tests/reference"))
suppressPackageStartupMessages(library(metafor))

out_dir <- file.path("tests", "reference")
versions <- ref_versions(c("metafor", "jsonlite"))
write_ref <- ref_writer(out_dir, script, versions)

sig <- function(x) signif(x, 12)

# ---- data sets -------------------------------------------------------------------------------------
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
datasets <- list()
datasets$bcg <- data.frame(study = paste(dat.bcg$author, dat.bcg$year), yi = sig(as.numeric(bcg$yi)),
                           vi = sig(as.numeric(bcg$vi)), year = dat.bcg$year, stringsAsFactors = FALSE)
datasets$k2 <- data.frame(study = c("A", "B"), yi = c(0.30, 0.05), vi = c(0.010, 0.020), year = c(2021, 2023))
datasets$k3_zero <- data.frame(study = c("A", "B", "C"), yi = c(0.100, 0.102, 0.101), vi = c(0.04, 0.05, 0.03),
                               year = c(2020, 2021, 2022))
datasets$k3_low <- data.frame(study = c("A", "B", "C"), yi = c(0.10, 0.25, 0.05), vi = c(0.04, 0.05, 0.03),
                              year = c(2020, 2021, 2022))
set.seed(15)
k <- 8
vi <- sig(runif(k, 0.01, 0.06))
datasets$hetero <- data.frame(study = sprintf("S%02d", 1:k), yi = sig(rnorm(k, 0.3, 0.45) + rnorm(k, 0, sqrt(vi))),
                              vi = vi, year = 2010 + sample(0:12, k, replace = TRUE), stringsAsFactors = FALSE)
sei <- c(0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.2)
set.seed(16)
datasets$unequal <- data.frame(study = sprintf("U%d", seq_along(sei)), yi = sig(rnorm(7, 0.2, 0.1) + rnorm(7, 0, sei)),
                               vi = sig(sei^2), year = 2000 + seq_along(sei), stringsAsFactors = FALSE)
# simulated cohorts: difference in change on a 1-5 scale, SD 0.7, pre/post correlation 0.5; the SE of the
# difference in change is about SD * sqrt(2 (1 - r)) * sqrt(1 / n_t + 1 / n_c)
set.seed(2026)
n <- c(40, 60, 90, 120, 150, 200)
se_c <- 0.7 * sqrt(2 * (1 - 0.5)) * sqrt(2 / n)
datasets$cohorts <- data.frame(study = sprintf("cohort_%d", seq_along(n)),
                               yi = sig(rnorm(length(n), -0.15, 0.08) + rnorm(length(n), 0, se_c)),
                               vi = sig(se_c^2), year = 2020 + seq_along(n), n = n, stringsAsFactors = FALSE)

# ---- one fit ---------------------------------------------------------------------------------------
fit_fields <- function(m) {
  list(estimate = as.numeric(m$beta), se = m$se, zval = m$zval, pval = m$pval, ci_lb = m$ci.lb, ci_ub = m$ci.ub,
       tau2 = m$tau2, se_tau2 = m$se.tau2, I2 = m$I2, H2 = m$H2, QE = m$QE, QEp = m$QEp,
       ddf = if (is.na(m$ddf)) NA else m$ddf, s2w = m$s2w, k = m$k,
       weights = as.numeric(weights(m)))
}
list_fields <- function(l) {
  l <- unclass(l)                                    # list.rma has a row-subsetting `[` method
  if (!is.null(l$pvals)) { l$pval <- l$pvals; l$pvals <- NULL }   # cumul() names it pvals under knha
  keep <- intersect(c("estimate", "se", "zval", "tval", "pval", "ci.lb", "ci.ub", "Q", "Qp", "tau2", "I2", "H2"),
                    names(l))
  out <- lapply(l[keep], as.numeric)
  names(out) <- sub(".", "_", names(out), fixed = TRUE)
  if (!is.null(out$tval)) { out$zval <- out$tval; out$tval <- NULL }
  out
}
nul <- function(x) if (is.null(x)) NA else x        # predict() gives no PI for FE models
pred_fields <- function(p) list(pred = p$pred, se = p$se, ci_lb = p$ci.lb, ci_ub = p$ci.ub,
                                pi_lb = nul(p$pi.lb), pi_ub = nul(p$pi.ub))
ci_fields <- function(ci) {
  r <- ci$random
  list(tau2 = r["tau^2", "estimate"], tau2_lb = r["tau^2", "ci.lb"], tau2_ub = r["tau^2", "ci.ub"],
       I2_lb = r["I^2(%)", "ci.lb"], I2_ub = r["I^2(%)", "ci.ub"], H2_lb = r["H^2", "ci.lb"], H2_ub = r["H^2", "ci.ub"])
}

one <- function(d, method, test) {
  f <- with_notes(rma(yi = d$yi, vi = d$vi, method = method, test = test, slab = d$study))
  m <- f$value
  out <- list(method = method, test = test, fit = fit_fields(m), notes = f$notes)
  out$predict <- pred_fields(predict(m))
  out$predict_riley <- pred_fields(predict(m, pi.type = "riley"))
  if (method != "FE") {
    ci <- with_notes(confint(m))
    out$confint <- ci_fields(ci$value)
    out$confint_notes <- ci$notes
    out$confint_tight <- ci_fields(suppressWarnings(confint(m, control = list(tol = 1e-12))))
  }
  out$leave1out <- list_fields(leave1out(m))
  ord <- if (!is.null(d$year)) d$year else seq_len(nrow(d))
  cm <- cumul(m, order = ord)
  out$cumul <- c(list(order = as.character(cm$slab)), list_fields(cm))
  if (method == "REML") {
    mt <- rma(yi = d$yi, vi = d$vi, method = method, test = test, control = list(threshold = 1e-12))
    out$reml_tight <- list(tau2 = mt$tau2, estimate = as.numeric(mt$beta), se = mt$se)
  }
  out
}

# ---- REML where Fisher scoring oscillates ----------------------------------------------------------
osc_yi <- c(0.10684446178493318, 0.25022325941547885, 0.24403256897528505, 0.480773388397327, 0.2880963125371844,
            0.28227435462585726, 0.4596934949808585, 0.16000308187792764)
osc_sei <- c(0.32341440136896504, 0.22304096201418339, 0.24846896899189008, 0.058830636537117814,
             0.3315592765602041, 0.20694055607170486, 0.3782738756157618, 0.38481514849116805)
osc_default <- tryCatch({ rma(yi = osc_yi, sei = osc_sei, method = "REML"); "converged" },
                        error = function(e) conditionMessage(e))
osc <- lapply(c(z = "z", knha = "knha"), function(test) {
  m <- rma(yi = osc_yi, sei = osc_sei, method = "REML", test = test,
           control = list(stepadj = 0.5, threshold = 1e-12, maxiter = 1000))
  c(fit_fields(m), list(predict = pred_fields(predict(m))))
})

ref <- list(
  method = paste("metafor::rma(yi, vi, method, test) for method in REML, DL, FE and test in z, knha (defaults",
                 "otherwise: REML by Fisher scoring from the HE estimate, threshold 1e-5, maxiter 100); predict(),",
                 "predict(pi.type = 'riley'), confint() (Q-profile), leave1out(), cumul(order = year).",
                 "weights are weights(fit), in percent. I2 in percent (metafor)."),
  datasets = list()
)
for (nm in names(datasets)) {
  d <- datasets[[nm]]
  fits <- list()
  for (method in c("REML", "DL", "FE")) for (test in c("z", "knha"))
    fits[[paste(method, test, sep = "_")]] <- one(d, method, test)
  ref$datasets[[nm]] <- list(data = as.list(d), fits = fits)
}
ref$oscillating <- list(data = list(yi = osc_yi, sei = osc_sei), default_error = osc_default, fits = osc)
write_ref(ref, "meta_reference.json",
          "metafor reference values for rmstudy.stats.meta: rma (REML, DL, FE; z and Knapp-Hartung tests), predict, confint (Q-profile), leave1out and cumul on seven data sets")
