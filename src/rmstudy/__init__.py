"""rmstudy: evaluate reverse-mentoring programmes with preregistered, reproducible analyses.

``import rmstudy as rm`` is cheap: public functions are loaded from their
modules on first use, so a report notebook does not pay for statsmodels.
"""

from rmstudy._version import __version__ as __version__

import importlib

_EXPORTS = {
    "errors": ["RmstudyError", "CohortError", "ModelError", "ResultsError", "InvariantError", "Problem"],
    "contract.codebook": ["Codebook", "Scale", "load_codebook"],
    "contract.study": ["Hypothesis", "Study", "load_study"],
    "contract.cohort": ["Cohort", "load_cohort", "analysis_cohort", "save_cohort"],
    "contract.population": ["select_population"],
    "stats.scoring": ["reverse_key", "score_scales", "long_scores"],
    "stats.reliability": ["cronbach_alpha", "omega_total", "reliability_table", "item_statistics", "omega_hierarchical",
                    "reliability_flags", "reliable_change", "percent_favourable", "item_distributions"],
    "analysis.measurement": ["psychometrics", "measurement_invariance"],
    "stats.invariance": ["multigroup_invariance", "longitudinal_invariance"],
    "stats.models.mixed": ["fit_random_intercept", "mixed_model", "conditional_residuals", "design_arm_wave"],
    "stats.models.survival": ["retention_data", "cox_ph", "km_horizons"],
    "stats.effects": ["d_ppc2", "pooled_baseline_sd"],
    "analysis.rows": ["HypothesisRow"],
    "analysis.hypotheses": ["analyse_survey_hypothesis", "analyse_retention_hypothesis", "analyse_survey",
                            "analyse_retention", "SurveyAnalysis", "RetentionAnalysis",
                 "minimum_detectable_effect", "cell_means"],
    "stats.decisions": ["decide", "finalise_hypotheses"],
    "stats.multiplicity": ["holm", "benjamini_hochberg"],
    "checks.quality": ["participant_flow", "response_rates", "baseline_table", "attrition"],
    "results.assemble": ["record", "assemble_results", "load_results", "load_or_assemble", "validate_results"],
    "report.privacy": ["suppress_counts", "suppress_by_n", "suppressed_retention"],
    "simulate.cohort": ["simulate_cohort", "write_demo"],
    "contract.paths": ["find_path"],
    "stats.sensitivity": ["sensitivity_analyses"],
    "stats.moderation": ["partner_values", "moderation_analysis", "partner_means", "actor_partner_analysis"],
    "analysis.moderators": ["moderator_values", "moderation_for_hypothesis", "actor_partner_for"],
    "stats.models.nested": ["fit_nested_intercepts"],
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
