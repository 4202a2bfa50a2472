"""Planning: simulation-based power, sample size and minimum detectable effects for a planned cohort or a finished run.

``rmstudy power PLANNING.yaml`` and ``rmstudy power --from-run RUN_DIR`` (docs/planning.md). Simulated cohorts are
analysed with the run's primary estimators, multiplicity rule and decision rule, so power is the probability that the
plan's decision says *supported*. Modules: ``spec`` (the planning file), ``draws`` (simulated cohorts), ``fastlmm``
and ``cox`` (the run's tests for a batch of cohorts at once), ``analytic`` (closed forms the simulation is checked
against), ``engine`` (simulate, decide, aggregate; parallel), ``search`` (sample size and MDE with Monte-Carlo
uncertainty), ``from_run``, ``figures``, ``output`` (JSON and a text summary) and ``cli``.

May import: ``rmstudy.contract``, ``rmstudy.stats``, ``rmstudy.simulate``, ``rmstudy.errors``, ``rmstudy._version``.
Importing the package is cheap; the modules load numpy and scipy.
"""

import importlib

_EXPORTS = {
    "spec": ["Plan", "PlanningError", "load_plan", "parse_plan"],
    "engine": ["simulate_power"],
    "search": ["sample_size", "minimum_detectable_effect"],
    "from_run": ["plan_from_run", "power_from_run"],
    "figures": ["plot_power_curves", "curve_table"],
    "output": ["write_json", "summary_lines"],
}
_WHERE = {name: mod for mod, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name):
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
