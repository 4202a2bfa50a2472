# Reference values for rmstudy.stats.multiplicity: R's p.adjust (stats package).
# Regenerate from the repo root: Rscript tests/reference/p_adjust.R > tests/reference/p_adjust.json
p <- c(0.01, 0.04, 0.03, 0.5, 0.02, 0.0001, 0.2, 0.049, 0.9, 0.03)
cat(jsonlite::toJSON(list(p = p, holm = p.adjust(p, "holm"), BH = p.adjust(p, "BH"),
                          note = "R: p.adjust(p, method) with method holm and BH; R 4.2.2",
                          generated_by = "tests/reference/p_adjust.R"),
                     digits = NA, auto_unbox = TRUE, pretty = TRUE))
