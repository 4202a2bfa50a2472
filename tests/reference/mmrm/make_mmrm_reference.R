#!/usr/bin/env Rscript
# make_mmrm_reference.R -- R reference values for rmstudy's MMRM (stats/models/mmrm.py) on the trial fixture.
#
# Run from the repository root:   Rscript tests/reference/mmrm/make_mmrm_reference.R
# Input:  tests/fixtures/trial_cohort (study.yaml, codebook.yaml, participants.csv, responses.csv)
# Output: tests/reference/mmrm/mmrm_trial.json, one entry per survey hypothesis of the plan:
#   coef         nlme::gls(score ~ arm * wave, correlation = corSymm(form = ~ t | id),
#                weights = varIdent(form = ~ 1 | wave), method = "REML") estimates and SEs
#   covariance   the fitted unstructured covariance over the waves (getVarCov of a subject seen at every wave)
#   model_means  emmeans(~ arm * wave, mode = "satterthwaite"): emmean, SE, df per arm x wave
#   trajectory   programme - control difference in change from the first wave at every later wave (emmeans
#                contrast with its Satterthwaite df)
#   joint_test   test(those contrasts, joint = TRUE): F, df1, df2 (emmeans: the smallest Satterthwaite df over
#                an orthonormal basis of the contrasts)
#   (df2_exact: the smallest df_exact over the same orthonormal basis of the contrasts emmeans uses)
#   logLik       the REML log-likelihood nlme reports
# df / df2 are emmeans' printed Satterthwaite df for a fit whose apVar (the approximate covariance of the
# variance parameters, emmeans' "A") is the inverse of numDeriv::hessian of nlme's own REML log-likelihood
# (nlme:::glsApVar.fullGlsLogLik, in nlme's parameters) instead of nlme's fdHess (steps of 6e-6 x |parameter|,
# which leave up to 4% of noise in the df). df_fdhess / df2_fdhess are emmeans' df for the same fit with nlme's
# stock apVar (the values this file held before; kept for comparison, not what rmstudy is held to).
#   df_exact     the same Satterthwaite df (emmeans' formula 2 (c'Vc)^2 / (g'Ag)) with A the inverse of an accurate
#                numerical Hessian (numDeriv::hessian) of the REML log-likelihood, written out below in the
#                parameters (correlations, log SD ratios, log SD of the first wave), instead of nlme's apVar
#                (fdHess, whose steps of 6e-6 x |parameter| leave a few per cent of noise in the df); and g the
#                numDeriv::jacobian of Var(beta) at the fitted residual scale, as emmeans' gls_grad
# The fit uses glsControl(natural = FALSE): with nlme's default (natural = TRUE) apVar is in other parameters
# than the model's coefficients and emmeans falls back to its approximate ("appx-satterthwaite") method.
source(file.path("tests", "reference", "common.R"))
suppressPackageStartupMessages({ library(nlme); library(emmeans); library(jsonlite); library(yaml) })
check_repo_root("tests/reference/mmrm/make_mmrm_reference.R", c("tests/fixtures/trial_cohort"))
data_dir <- file.path("tests", "fixtures", "trial_cohort")
out_dir <- file.path("tests", "reference", "mmrm")

codebook <- yaml::read_yaml(file.path(data_dir, "codebook.yaml"))
study <- yaml::read_yaml(file.path(data_dir, "study.yaml"))
participants <- read_csv_chr("participants.csv")
responses <- read_csv_chr("responses.csv")
waves <- unlist(study$waves)

# Sigma from phi = (correlations r_ij, i < j row by row; log SD ratios of waves 2..T to wave 1; log SD of wave 1)
nat_sigma <- function(phi, T) {
  m <- T * (T - 1) / 2
  R <- diag(T)
  k <- 0
  for (i in 1:(T - 1)) for (j in (i + 1):T) { k <- k + 1; R[i, j] <- R[j, i] <- phi[k] }
  sd <- exp(phi[length(phi)]) * exp(c(0, phi[(m + 1):(m + T - 1)]))
  R * outer(sd, sd)
}

gls_parts <- function(Sigma, blocks, p) {
  A <- matrix(0, p, p); b <- numeric(p); yy <- 0; ld <- 0
  for (bl in blocks) {
    Si <- solve(Sigma[bl$t, bl$t, drop = FALSE])
    A <- A + t(bl$X) %*% Si %*% bl$X
    b <- b + t(bl$X) %*% Si %*% bl$y
    yy <- yy + sum(bl$y * (Si %*% bl$y))
    ld <- ld + as.numeric(determinant(Sigma[bl$t, bl$t, drop = FALSE])$modulus)
  }
  list(A = A, b = b, yy = yy, ld = ld)
}

reml_loglik <- function(phi, T, blocks, p, N) {
  g <- gls_parts(nat_sigma(phi, T), blocks, p)
  beta <- solve(g$A, g$b)
  -0.5 * (g$ld + as.numeric(determinant(g$A)$modulus) + g$yy - sum(g$b * beta) + (N - p) * log(2 * pi))
}

exact_df <- function(m, d, waves, Ls) {
  X <- model.matrix(~ arm * wave, d)
  T <- length(waves); p <- ncol(X); N <- nrow(d)
  blocks <- lapply(split(seq_len(N), d$id, drop = TRUE),
                   function(i) list(t = as.integer(d$wave[i]), X = X[i, , drop = FALSE], y = d$score[i]))
  full <- names(which(table(d$id) == T))[1]
  S <- unclass(getVarCov(m, individual = full))[1:T, 1:T]
  sd <- sqrt(diag(S)); R <- S / outer(sd, sd)
  phi <- c(t(R)[lower.tri(R)], log(sd[-1] / sd[1]), log(sd[1]))      # t(R)[lower.tri]: r_ij, i < j, row by row
  A <- solve(-numDeriv::hessian(reml_loglik, phi, T = T, blocks = blocks, p = p, N = N))
  th <- phi[-length(phi)]
  vc <- function(th) solve(gls_parts(nat_sigma(c(th, phi[length(phi)]), T), blocks, p)$A)
  V <- vc(th)
  J <- numDeriv::jacobian(function(th) as.vector(vc(th)), th)
  G <- c(lapply(seq_along(th), function(j) matrix(J[, j], p, p)), list(2 * V))
  sapply(Ls, function(L) { g <- sapply(G, function(M) sum(L * (M %*% L)))
                           2 * sum(L * (V %*% L))^2 / sum(g * (A %*% g)) })
}

# nlme:::glsApVar with fdHess replaced by numDeriv::hessian (Richardson extrapolation) of the same function,
# nlme's REML log-likelihood in nlme's parameters (corSymm's unconstrained coefficients, varIdent's log ratios,
# log sigma), so that attr(apVar, "Pars") and emmeans' gls_grad use the parameters they always do.
numderiv_apvar <- function(glsSt, sigma, conLin = attr(glsSt, "conLin"), .relStep, minAbsPar, natural) {
  stopifnot(!natural, !attr(glsSt, "fixedSigma"))
  dims <- conLin$dims
  conLin[["logLik"]] <- 0
  Pars <- c(coef(glsSt), lSigma = log(sigma))
  H <- numDeriv::hessian(nlme:::glsApVar.fullGlsLogLik, Pars, object = glsSt, conLin = conLin, dims = dims,
                         N = dims$N - dims$REML * dims$p)
  if (any(eigen(H, symmetric = TRUE, only.values = TRUE)$values >= 0)) stop("REML Hessian not negative definite")
  val <- solve(-H)
  dimnames(val) <- list(names(Pars), names(Pars))
  attr(val, "Pars") <- Pars
  attr(val, "natural") <- natural
  val
}

# The MMRM fit; accurate_apvar = TRUE swaps numderiv_apvar in for nlme:::glsApVar during this one call.
fit_gls <- function(d, accurate_apvar = FALSE) {
  if (accurate_apvar) {
    stock <- nlme:::glsApVar
    assignInNamespace("glsApVar", numderiv_apvar, "nlme")
    on.exit(assignInNamespace("glsApVar", stock, "nlme"))
  }
  gls(score ~ arm * wave, data = d, correlation = corSymm(form = ~ t | id),
      weights = varIdent(form = ~ 1 | wave), method = "REML",
      control = glsControl(natural = FALSE, tolerance = 1e-10, msTol = 1e-10, maxIter = 500, msMaxIter = 500))
}

basis <- function(Ls) { Q <- qr.Q(qr(do.call(cbind, Ls))); lapply(seq_len(ncol(Q)), function(k) Q[, k]) }

fit_one <- function(h) {
  pop <- select_population(participants, if (is.null(h$population)) list() else h$population)
  sc <- responses[c("participant_id", "wave")]
  sc$score <- score_scale(responses, codebook$scales[[h$outcome]])
  d <- merge(sc, pop[c("participant_id", "arm")], by = "participant_id")
  d <- d[!is.na(d$score), ]
  d$wave <- factor(d$wave, levels = waves)
  d$arm <- factor(d$arm, levels = c("control", "program"))
  d$id <- factor(d$participant_id)
  d$t <- as.integer(d$wave)
  d <- d[order(d$id, d$wave), ]
  m0 <- fit_gls(d)                                   # nlme's stock apVar (fdHess)
  m <- fit_gls(d, accurate_apvar = TRUE)             # the same fit, apVar from numDeriv's Hessian
  stopifnot(isTRUE(all.equal(coef(m0), coef(m), tolerance = 0)),
            isTRUE(all.equal(coef(m0$modelStruct), coef(m$modelStruct), tolerance = 0)))
  ct <- summary(m)$tTable
  em <- emmeans(m, ~ arm * wave, mode = "satterthwaite", data = d)
  em0 <- emmeans(m0, ~ arm * wave, mode = "satterthwaite", data = d)
  g <- as.data.frame(em@grid)
  cell <- function(a, w) as.numeric(g$arm == a & g$wave == w)
  later <- waves[-1]
  cons <- setNames(lapply(later, function(w) cell("program", w) - cell("control", w) -
                                   cell("program", waves[1]) + cell("control", waves[1])), later)
  tr <- summary(contrast(em, cons), infer = TRUE)
  jt <- test(contrast(em, cons), joint = TRUE)
  mm <- summary(em)
  tr0 <- summary(contrast(em0, cons), infer = TRUE)
  jt0 <- test(contrast(em0, cons), joint = TRUE)
  mm0 <- summary(em0)
  full <- names(which(table(d$id) == length(waves)))[1]
  V <- getVarCov(m, individual = full)
  Lmm <- lapply(seq_len(nrow(g)), function(k) as.numeric(em@linfct[k, ]))
  Ltr <- lapply(cons, function(cc) as.numeric(cc %*% em@linfct))
  list(id = h$id, contrast = unlist(h$contrast), n_obs = nrow(d), n_participants = nlevels(droplevels(d$id)),
       coef = data.frame(term = rownames(ct), estimate = unname(ct[, "Value"]), se = unname(ct[, "Std.Error"])),
       covariance = unname(unclass(V)[seq_along(waves), seq_along(waves)]),
       model_means = data.frame(arm = as.character(mm$arm), wave = as.character(mm$wave), estimate = mm$emmean,
                                se = mm$SE, df = mm$df, df_exact = exact_df(m, d, waves, Lmm), df_fdhess = mm0$df),
       trajectory = data.frame(wave = later, estimate = tr$estimate, se = tr$SE, df = tr$df,
                               df_exact = exact_df(m, d, waves, Ltr), df_fdhess = tr0$df),
       joint_test = list(df1 = jt$df1, df2 = jt$df2, F = jt$F.ratio,
                         df2_exact = min(exact_df(m, d, waves, basis(Ltr))), df2_fdhess = jt0$df2),
       logLik = as.numeric(logLik(m)))
}

hyps <- Filter(function(h) h$outcome != "retention", study$hypotheses)
write_ref <- ref_writer(out_dir, "tests/reference/mmrm/make_mmrm_reference.R",
                        ref_versions(c("nlme", "emmeans", "numDeriv", "jsonlite", "yaml")))
write_ref(list(fits = lapply(hyps, fit_one)), "mmrm_trial.json",
          "MMRM (nlme::gls corSymm + varIdent, REML) and emmeans Satterthwaite on tests/fixtures/trial_cohort")
