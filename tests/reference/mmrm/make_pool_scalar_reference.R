# Rubin's rules as mice pools a scalar (pool.scalar): estimate, total variance, Barnard-Rubin df and the fraction of
# missing information, for tests/test_mmrm_tipping.py::test_pool_rubin_equals_mice_pool_scalar.
# Run: Rscript tests/reference/mmrm/make_pool_scalar_reference.R  (writes pool_scalar.json beside it)
library(mice); library(jsonlite)
q <- c(1, 1.2, 0.8, 1.1); u <- c(0.04, 0.05, 0.045, 0.05)
r <- pool.scalar(q, u, n = 52, k = 2)
out <- list(q = q, u = u, dfcom = 50, qbar = r$qbar, t = r$t, df = r$df, fmi = r$fmi,
            mice = as.character(packageVersion("mice")), R = R.version.string)
write_json(out, file.path(dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE))),
                          "pool_scalar.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
