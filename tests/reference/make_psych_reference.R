#!/usr/bin/env Rscript
# =============================================================================
# make_psych_reference.R -- psych::alpha / psych::omega reference values for a
# synthetic BIFACTOR item set, for the rmstudy Python psychometrics tests.
#
# Run from the repository root:
#
#     Rscript tests/reference/make_psych_reference.R
#
# Outputs:
#   tests/fixtures/psychometrics/items.csv      raw responses (it03 stored reverse-keyed)
#   tests/fixtures/psychometrics/codebook.yaml  scale definition (reverse key, subscales)
#   tests/reference/psych_fixture.json          alpha / omega reference values
#
# Read-only input (section 6 only, a consistency check that writes nothing):
#   data/demo/responses.csv, data/demo/codebook.yaml, tests/reference/alpha_demo.json
#
# The analysis in sections 3-5 uses the CSV and the codebook *as read back from
# disk*, so the JSON holds exactly what R computed from the fixture files.
#
# JSON conventions are the same as make_reference.R: keys `description`,
# `generated_by`, `versions`; numbers via jsonlite `digits = NA` (15 significant
# digits); NA/NaN -> JSON null; warnings/messages of each fit in `notes`.
# Two runs give byte-identical files.
# =============================================================================

source(file.path("tests", "reference", "common.R"))   # check_repo_root, with_notes, ref_versions, ref_writer
suppressPackageStartupMessages({
  library(yaml)
  library(jsonlite)
  library(psych)
  library(GPArotation)
})

# ---- paths -----------------------------------------------------------------
script <- "tests/reference/make_psych_reference.R"
out_dir <- file.path("tests", "reference")
fix_dir <- file.path("tests", "fixtures", "psychometrics")
check_repo_root(script, out_dir)   # common.R
dir.create(fix_dir, showWarnings = FALSE, recursive = TRUE)

# ---- versions ------------------------------------------------------------------
pkgs_used <- c("psych", "GPArotation", "yaml", "jsonlite")
versions <- ref_versions(pkgs_used)
write_ref <- ref_writer(out_dir, script, versions)   # common.R

# ---- helpers -------------------------------------------------------------------
# (with_notes() in common.R collects and muffles the warnings and messages of a fit
# so that they can be stored next to the numbers they concern.)

# A numeric matrix as JSON: row names, column names and the values row by row
# (a list of rows), so that the orientation can never be ambiguous.
mat_json <- function(m) {
  m <- unclass(as.matrix(m))
  list(rows = rownames(m), cols = colnames(m),
       values = lapply(seq_len(nrow(m)), function(i) unname(m[i, ])))
}

# =============================================================================
# 1. Simulate the bifactor item set
# =============================================================================
# Continuous model for item j in subscale s(j):
#     y*_ij = lg_j * G_i + ls_j * S_{i,s(j)} + sqrt(1 - lg_j^2 - ls_j^2) * e_ij
# with G, S_A, S_B, S_C, e all independent N(0, 1), so var(y*) = 1.
# y* is cut at thresholds tau_j = base_tau + shift_j into categories 1..5.
# The order of the random draws below is part of the fixture: do not reorder.
set.seed(77)
n <- 500L
items <- sprintf("it%02d", 1:12)
subscale_of <- setNames(rep(c("A", "B", "C"), each = 4), items)
subscales <- split(items, subscale_of)               # A = it01-04, B = it05-08, C = it09-12

lambda_g <- round(runif(12, 0.55, 0.65), 3)          # general-factor loadings
lambda_s <- round(runif(12, 0.35, 0.50), 3)          # group-factor loadings
base_tau <- c(-1.5, -0.6, 0.3, 1.2)                  # thresholds for categories 1|2, 2|3, 3|4, 4|5
tau_shift <- round(runif(12, -0.3, 0.3), 3)          # item-specific shift of all 4 thresholds
names(lambda_g) <- names(lambda_s) <- names(tau_shift) <- items

G <- rnorm(n)                                        # general factor scores
S <- matrix(rnorm(n * 3), n, 3, dimnames = list(NULL, c("A", "B", "C")))   # group factors
E <- matrix(rnorm(n * 12), n, 12)                    # item-specific errors
ystar <- sapply(seq_along(items), function(j) {
  lambda_g[j] * G + lambda_s[j] * S[, subscale_of[j]] +
    sqrt(1 - lambda_g[j]^2 - lambda_s[j]^2) * E[, j]
})
resp <- sapply(seq_along(items), function(j) findInterval(ystar[, j], base_tau + tau_shift[j]) + 1L)
colnames(resp) <- items                               # integers 1..5, all keyed positively

# Stored keying: it03 is written to the file reverse-keyed (6 - x).
reverse_items <- "it03"
stored <- resp
stored[, reverse_items] <- 6L - stored[, reverse_items]

# ~5% of cells missing completely at random (independent of everything above).
miss <- matrix(runif(n * 12) < 0.05, n, 12)
stored[miss] <- NA_integer_

# ---- write the fixture files ----------------------------------------------------
items_df <- data.frame(id = sprintf("R%03d", seq_len(n)), stored, check.names = FALSE)
items_csv <- file.path(fix_dir, "items.csv")
write.csv(items_df, items_csv, row.names = FALSE, na = "", quote = FALSE)
message("wrote ", items_csv)

flow <- function(v) paste0("[", paste(v, collapse = ", "), "]")
codebook_yaml <- file.path(fix_dir, "codebook.yaml")
writeLines(c(
  "# Synthetic bifactor fixture written by tests/reference/make_psych_reference.R.",
  "# it03 is stored reverse-keyed in items.csv (6 - x); reverse-key it before analysis.",
  "scales:",
  "  climate:",
  "    label: Synthetic bifactor scale",
  paste0("    items: ", flow(items)),
  "    min: 1",
  "    max: 5",
  paste0("    reverse: ", flow(reverse_items)),
  paste0("    subscales: {", paste0(names(subscales), ": ", sapply(subscales, flow), collapse = ", "), "}")
), codebook_yaml)
message("wrote ", codebook_yaml)

# =============================================================================
# 2. Read the fixture back and build the analysis matrices
# =============================================================================
cb <- yaml::read_yaml(codebook_yaml)$scales$climate
raw <- read.csv(items_csv, stringsAsFactors = FALSE, na.strings = c("", "NA"), check.names = FALSE)
stopifnot(identical(raw$id, items_df$id),
          identical(unname(as.matrix(raw[unlist(cb$items)])), unname(stored)))

cb_items <- unlist(cb$items)
x_stored <- as.data.frame(lapply(raw[cb_items], as.numeric), check.names = FALSE)
keep <- rowSums(!is.na(x_stored)) >= 1               # rows with >= 1 answered item
x_stored <- x_stored[keep, , drop = FALSE]
rownames(x_stored) <- NULL

# Reverse keying as in the codebook: x -> min + max - x for the items in `reverse`.
x <- x_stored
for (it in unlist(cb$reverse)) x[[it]] <- cb$min + cb$max - x[[it]]
cb_sub <- lapply(cb$subscales, unlist)

# =============================================================================
# 3. psych::alpha  (defaults: use = "pairwise", check.keys = FALSE)
# =============================================================================
# Everything comes from C <- cov(x, use = "pairwise"); nsub = nrow(x) (every row
# passed in, complete or not) is the n of the Feldt interval and of ase.
# psych::alpha also cat()s a line naming negatively correlated items; it is
# captured and stored in `notes` as "printed: ...".
alpha_block <- function(x) {
  printed <- capture.output(a <- with_notes(psych::alpha(x)))
  printed <- paste(printed[nzchar(trimws(printed))], collapse = " ")
  if (nzchar(printed)) a$notes <- c(a$notes, paste("printed:", printed))
  av <- a$value
  list(
    n_rows = nrow(x),
    n_complete_rows = sum(complete.cases(x)),
    n_items = ncol(x),
    raw_alpha = av$total$raw_alpha,
    std_alpha = av$total$std.alpha,
    average_r = av$total$average_r,
    ase = av$total$ase,
    feldt = list(lower = unname(av$feldt$lower.ci[[1]]),
                 alpha = unname(av$feldt$alpha[[1]]),
                 upper = unname(av$feldt$upper.ci[[1]]),
                 n_obs_used = nrow(x)),
    items = data.frame(item = colnames(x),
                       n = unname(av$item.stats$n),
                       r_drop = unname(av$item.stats$r.drop),
                       r_cor = unname(av$item.stats$r.cor),
                       raw_alpha_if_dropped = unname(av$alpha.drop$raw_alpha),
                       std_alpha_if_dropped = unname(av$alpha.drop$std.alpha),
                       stringsAsFactors = FALSE),
    notes = I(a$notes)                           # I(): always a JSON array
  )
}

alpha_full <- alpha_block(x)
alpha_sub <- lapply(cb_sub, function(v) c(list(subscale_items = v), alpha_block(x[v])))
# Same, on the matrix as stored (it03 NOT reverse-keyed back): it03 gets a
# negative r.drop and psych warns that some items should be reversed.
alpha_unrev <- alpha_block(x_stored)

# =============================================================================
# 4. psych::omega with 1 and 3 factors
# =============================================================================
# omega() on raw data (poly = FALSE): R <- cor(x, use = "pairwise"), n.obs = nrow(x).
# schmid(): fa(R, nfactors, fm = "minres", rotate = "varimax") -> loadings
# (orthog), then GPArotation::oblimin(orthog) with its defaults -> pattern
# (oblique) and Phi; for >= 3 factors g loadings of the factors = fa(Phi, 1,
# fm = "minres"), sl[, "g"] = oblique %*% gloading.  omegah() then flips items
# with negative g (flip = TRUE; none here) and computes
#   omega_h = (sum g)^2 / sum(R),  omega.tot = (sum(R) - sum(u2)) / sum(R).
R <- cor(x, use = "pairwise")

om1 <- with_notes(psych::omega(x, nfactors = 1, plot = FALSE))
om3 <- with_notes(psych::omega(x, nfactors = 3, plot = FALSE))
o3 <- om3$value
sch <- o3$schmid

# Unrotated minres loadings as psych::fa gives them (fa on raw data also uses
# cor(x, use = "pairwise")).  psych reflects each column so its sum is >= 0.
fa_none <- with_notes(psych::fa(x, nfactors = 3, fm = "minres", rotate = "none"))
unrot <- unclass(fa_none$value$loadings)

# The varimax step inside schmid: stats::varimax(unrot) (normalize = TRUE,
# eps = 1e-5), then psych reflects columns to a positive sum and sorts them by
# their sum of squared loadings.  Reproduce it to confirm the chain.
vm <- stats::varimax(unrot)
vl <- unclass(vm$loadings)
vl <- vl %*% diag(ifelse(colSums(vl) < 0, -1, 1))
vl <- vl[, order(colSums(vl^2), decreasing = TRUE)]
orthog <- unclass(sch$orthog)
varimax_check <- max(abs(vl - orthog))

# The oblimin step: GPArotation::oblimin(orthog) with its defaults, exactly as
# schmid() calls it.  Re-run it here to read the convergence record.
ob <- GPArotation::oblimin(orthog)
oblimin_check <- max(abs(unclass(ob$loadings) - unclass(sch$oblique)))
ob_formals <- formals(GPArotation::oblimin)

# Which subscale each oblimin factor represents (largest summed |pattern|).
factor_subscale <- sapply(colnames(sch$oblique), function(f)
  names(cb_sub)[which.max(sapply(cb_sub, function(v) sum(abs(sch$oblique[v, f]))))])

# g loadings of the 3 first-order factors: fa(Phi, 1, fm = "minres") in psych.
# With 3 factors the one-factor model for Phi is just identified, so the exact
# solution is g_i = sqrt(phi_ij * phi_ik / phi_jk).
phi <- unclass(sch$phi)
g_closed <- sqrt(c(phi[1, 2] * phi[1, 3] / phi[2, 3],
                   phi[1, 2] * phi[2, 3] / phi[1, 3],
                   phi[1, 3] * phi[2, 3] / phi[1, 2]))

# ---- how tightly did psych converge? ------------------------------------------
# psych's minres (optim L-BFGS-B, default factr), stats::varimax (eps = 1e-5),
# GPArotation::oblimin (eps = 1e-5) and the minres fit of Phi all stop early.
# Redo the chain tightly to give the tests a realistic tolerance.  The values
# below are only for that purpose; the reference values are psych's.
minres_obj <- function(psi, S, nf) {           # psych's fit.residuals, fm = "minres"
  diag(S) <- 1 - psi
  e <- eigen(S, symmetric = TRUE)
  L <- e$vectors[, 1:nf, drop = FALSE] %*% diag(sqrt(pmax(e$values[1:nf], 100 * .Machine$double.eps)), nf)
  r <- (S - L %*% t(L))[lower.tri(S)]
  sum(r^2)
}
minres_grad <- function(psi, S, nf) {          # psych's FAgr.minres
  Ss <- S - diag(psi)
  e <- eigen(Ss, symmetric = TRUE)
  L <- e$vectors[, 1:nf, drop = FALSE] %*% diag(sqrt(pmax(e$values[1:nf], 0)), nf)
  diag(L %*% t(L) + diag(psi) - S)
}
psi0 <- 1 - rowSums(unrot^2)
tight <- optim(psi0, minres_obj, minres_grad, S = R, nf = 3, method = "L-BFGS-B",
               lower = 0.005, upper = 1, control = list(factr = 0, pgtol = 0, maxit = 10000))
tight_u2 <- tight$par
tight_omega_tot <- (sum(R) - sum(tight_u2)) / sum(R)
e_t <- eigen(R - diag(tight_u2), symmetric = TRUE)
L_t <- e_t$vectors[, 1:3] %*% diag(sqrt(pmax(e_t$values[1:3], 0)))
# Rotate the tight loadings the same way (varimax, reflect, sort, oblimin), tightly.
vt <- unclass(stats::varimax(L_t, eps = 1e-14)$loadings)
vt <- vt %*% diag(ifelse(colSums(vt) < 0, -1, 1))
vt <- vt[, order(colSums(vt^2), decreasing = TRUE)]
# (eps = 1e-8 is about as tight as GPFoblq gets: at 1e-9 it stalls on rounding.)
ob_t <- GPArotation::oblimin(vt, eps = 1e-8, maxit = 10000)
stopifnot(ob_t$convergence)
phi_t <- ob_t$Phi
g_t <- sqrt(c(phi_t[1, 2] * phi_t[1, 3] / phi_t[2, 3],
              phi_t[1, 2] * phi_t[2, 3] / phi_t[1, 3],
              phi_t[1, 3] * phi_t[2, 3] / phi_t[1, 2]))
tight_omega_h <- sum(unclass(ob_t$loadings) %*% g_t)^2 / sum(R)
tight_check <- list(
  note = paste("Same chain redone with tight convergence (own minres optim with factr = 0,",
               "varimax eps 1e-14, oblimin eps 1e-8, closed-form g).  Not reference values:",
               "the differences show how far psych's own stopping rules leave its numbers from",
               "the exact optimum, i.e. the tolerance a tightly-converged port needs."),
  minres_objective_psych = minres_obj(1 - rowSums(unrot^2), R, 3),
  minres_objective_tight = tight$value,
  omega_tot_tight = tight_omega_tot,
  omega_h_tight = tight_omega_h,
  abs_diff_omega_tot = abs(tight_omega_tot - o3$omega.tot),
  abs_diff_omega_h = abs(tight_omega_h - o3$omega_h),
  max_abs_diff_u2 = max(abs(tight_u2 - sch$sl[, "u2"])),
  max_abs_diff_oblique = max(abs(unclass(ob_t$loadings) - unclass(sch$oblique))),
  max_abs_diff_phi = max(abs(phi_t - phi)),
  max_abs_diff_g = max(abs(unclass(ob_t$loadings) %*% g_t - sch$sl[, "g"]))
)

omega_tot_1f_tight <- local({
  o <- optim(1 - om1$value$schmid$sl[, "h2"], minres_obj, minres_grad, S = R, nf = 1,
             method = "L-BFGS-B", lower = 0.005, upper = 1,
             control = list(factr = 0, pgtol = 0, maxit = 10000))
  (sum(R) - sum(o$par)) / sum(R)
})

omega3 <- list(
  call = "psych::omega(x, nfactors = 3, plot = FALSE)",
  correlation = "Pearson cor(x, use = 'pairwise') of the reverse-keyed items (poly = FALSE); no listwise deletion, no imputation",
  n_obs = o3$stats$n.obs,
  fm = "minres",
  rotate = "oblimin (GPArotation::oblimin, default arguments, applied to the varimax-rotated minres loadings)",
  omega_h = o3$omega_h,
  omega_tot = o3$omega.tot,
  omega_lim = o3$omega.lim,
  alpha = o3$alpha,
  ecv = unname(o3$ECV),
  flip_key = unname(o3$key),
  g_loadings = setNames(as.list(unname(sch$sl[, "g"])), rownames(sch$sl)),
  sl = mat_json(sch$sl),
  unrotated_minres = mat_json(unrot),
  varimax = mat_json(orthog),
  varimax_reproduced_max_abs_diff = varimax_check,
  oblique_pattern = mat_json(sch$oblique),
  phi = mat_json(phi),
  factor_subscale = as.list(factor_subscale),
  g_of_factors = unname(c(sch$gloading)),
  g_of_factors_closed_form = g_closed,
  oblimin = list(
    gam = eval(ob_formals$gam), normalize = eval(ob_formals$normalize),
    eps = eval(ob_formals$eps), maxit = eval(ob_formals$maxit),
    start = "Tmat = diag(3): the varimax solution is the starting point; no random starts",
    converged = ob$convergence,
    iterations = unname(ob$Table[nrow(ob$Table), 1]),
    criterion = unname(ob$Table[nrow(ob$Table), 2]),
    log10_gradient_norm = unname(ob$Table[nrow(ob$Table), 3]),
    reproduced_max_abs_diff = oblimin_check
  ),
  omega_group = list(rows = rownames(o3$omega.group),
                     total = unname(o3$omega.group$total),
                     general = unname(o3$omega.group$general),
                     group = unname(o3$omega.group$group)),
  correlation_matrix = mat_json(R),
  tight_convergence_check = tight_check,
  notes = I(c(om3$notes, fa_none$notes))
)

# =============================================================================
# 5. Write psych_fixture.json
# =============================================================================
# write_ref() (common.R) puts description, generated_by and versions first.
write_ref(list(
  fixture = list(items_csv = items_csv, codebook = codebook_yaml, scale = "climate",
                 n_rows_file = nrow(raw), n_rows_used = nrow(x),
                 n_complete_rows = sum(complete.cases(x)),
                 n_missing_cells = sum(is.na(x)), share_missing_cells = mean(is.na(x)),
                 items = cb_items, reverse = I(unlist(cb$reverse)), subscales = cb_sub),
  simulation = list(
    seed = 77, n = n,
    model = "y*_j = lg_j G + ls_j S_sub(j) + sqrt(1 - lg_j^2 - ls_j^2) e_j, all N(0,1); x_j = 1 + #{thresholds < y*_j}",
    lambda_general = as.list(lambda_g), lambda_group = as.list(lambda_s),
    base_thresholds = base_tau, threshold_shift = as.list(tau_shift),
    stored_reverse = "it03 written as 6 - x", mcar_cell_probability = 0.05,
    draw_order = "runif(12) lg, runif(12) ls, runif(12) shift, rnorm(n) G, rnorm(3n) S, rnorm(12n) e, runif(12n) missing mask"
  ),
  method = list(
    items = "items.csv read back; rows with >= 1 answered item; reverse items recoded min + max - x (codebook)",
    alpha = "psych::alpha(x) defaults: use = 'pairwise' covariances, check.keys = FALSE, na.rm = TRUE",
    feldt = "psych alpha.ci(raw_alpha, n.obs = nrow(x), n.var, p.val = 0.05) -> result$feldt; n = nrow(x), every row passed in",
    r_drop = "item.stats$r.drop: item vs sum of the other items (pairwise covariances)",
    r_cor = "item.stats$r.cor: item-total r corrected for item overlap and scale reliability",
    alpha_if_dropped = "alpha.drop$raw_alpha and alpha.drop$std.alpha",
    omega_1f = "psych::omega(x, nfactors = 1, plot = FALSE)$omega.tot (Pearson pairwise R, minres, no rotation)",
    omega_3f = "psych::omega(x, nfactors = 3, plot = FALSE): see omega_3f.* for each step",
    matrices = "matrices as {rows, cols, values}; values is a list of rows"
  ),
  alpha = alpha_full,
  alpha_subscales = alpha_sub,
  alpha_not_reverse_keyed = c(list(note = "it03 left as stored (reverse-keyed); psych::alpha defaults"),
                              alpha_unrev),
  omega_1f = list(omega_tot = om1$value$omega.tot, n_obs = om1$value$stats$n.obs,
                  omega_tot_tight_minres = omega_tot_1f_tight, notes = I(om1$notes)),
  omega_3f = omega3),
  "psych_fixture.json",
  "psych::alpha and psych::omega on a synthetic 12-item bifactor scale (tests/fixtures/psychometrics)")

# =============================================================================
# 6. Consistency check (writes nothing): demo engagement omega vs alpha_demo.json
# =============================================================================
# psych::omega(x, nfactors = 3, plot = FALSE) on the demo cohort's engagement
# items at wave pre, all participants, rows with >= 1 item answered (the
# engagement scale has no reverse keys).  make_reference.R stores the same
# numbers under alpha_demo.json "omega_subscales"; report whether they agree.
demo_cb <- yaml::read_yaml(file.path("data", "demo", "codebook.yaml"))$scales$engagement
demo <- read.csv(file.path("data", "demo", "responses.csv"), stringsAsFactors = FALSE,
                 na.strings = c("", "NA"), check.names = FALSE)
xe <- as.data.frame(lapply(demo[demo$wave == "pre", unlist(demo_cb$items)], as.numeric))
stopifnot(length(unlist(demo_cb$reverse)) == 0)
xe <- xe[rowSums(!is.na(xe)) >= 1, , drop = FALSE]
oe <- suppressMessages(suppressWarnings(psych::omega(xe, nfactors = 3, plot = FALSE)))
stored_demo <- jsonlite::read_json(file.path(out_dir, "alpha_demo.json"))$omega_subscales$engagement
message(sprintf("demo engagement (pre, all, n = %d): omega_h = %.15g (alpha_demo.json %.15g), omega.tot = %.15g (alpha_demo.json %.15g) -> %s",
                nrow(xe), oe$omega_h, stored_demo$omega_h, oe$omega.tot, stored_demo$omega_tot,
                if (isTRUE(all.equal(c(oe$omega_h, oe$omega.tot),
                                     c(stored_demo$omega_h, stored_demo$omega_tot), tolerance = 1e-12)))
                  "MATCH" else "MISMATCH"))
