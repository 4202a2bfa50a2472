"""rmstudy: evaluate reverse-mentoring programmes with preregistered, reproducible analyses.

``import rmstudy as rm`` is cheap: public functions are loaded from their
modules on first use, so a report notebook does not pay for statsmodels.
"""

__version__ = "0.1.0"

import importlib

_EXPORTS = {
    "errors": ["CohortError", "Problem"],
    "codebook": ["Codebook", "Scale", "load_codebook"],
    "study": ["Hypothesis", "Study", "load_study"],
    "cohort": ["Cohort", "load_cohort", "analysis_cohort", "save_cohort", "select_population"],
    "scoring": ["reverse_key", "score_scales", "long_scores"],
    "reliability": ["cronbach_alpha", "omega_total", "reliability_table", "item_statistics", "omega_hierarchical",
                    "reliability_flags", "reliable_change", "percent_favourable", "item_distributions", "psychometrics"],
    "models.mixed": ["fit_random_intercept", "mixed_model", "conditional_residuals", "design_arm_wave"],
    "models.survival": ["retention_data", "cox_ph", "km_horizons"],
    "effects": ["d_ppc2", "pooled_baseline_sd"],
    "analysis": ["analyse_survey_hypothesis", "analyse_retention_hypothesis",
                 "minimum_detectable_effect", "cell_means"],
    "decisions": ["decide", "finalise_hypotheses"],
    "multiplicity": ["holm", "benjamini_hochberg"],
    "quality": ["participant_flow", "response_rates", "baseline_table", "attrition"],
    "results": ["record", "assemble_results", "load_results", "load_or_assemble", "validate_results"],
    "privacy": ["suppress_counts", "suppress_by_n", "suppressed_retention"],
    "simulate": ["simulate_cohort", "write_demo"],
    "paths": ["find_path"],
    "sensitivity": ["sensitivity_analyses"],
    "moderation": ["moderator_values", "partner_values", "moderation_analysis", "moderation_for_hypothesis"],
    "models.nested": ["fit_nested_intercepts"],
}
_WHERE = {name: mod for mod, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name):
    if name in _WHERE:
        mod = importlib.import_module(f".{_WHERE[name]}", __name__)
        return getattr(mod, name)
    raise AttributeError(f"module 'rmstudy' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
