"""The ``Examples`` sections of the docstrings run, and give what they say (as pingouin's and lifelines' do).

Every module of the two bottom layers (``rmstudy.contract``, ``rmstudy.stats``), the errors, the typed result rows
and the data-quality helpers is doctest-run; the examples use only the numbers they show or the demo cohort.
"""

import doctest
import importlib

import pytest

from conftest import ROOT

SRC = ROOT / "src" / "rmstudy"
PACKAGES = ("contract", "stats")
EXTRA = ("rmstudy.errors", "rmstudy.analysis.rows", "rmstudy.checks.quality", "rmstudy.analysis.hypotheses")


def _modules():
    names = []
    for pkg in PACKAGES:
        for p in sorted((SRC / pkg).rglob("*.py")):
            parts = p.relative_to(SRC).with_suffix("").parts
            names.append(".".join(("rmstudy",) + (parts[:-1] if parts[-1] == "__init__" else parts)))
    return names + list(EXTRA)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name, monkeypatch):
    monkeypatch.chdir(ROOT)                       # examples name the demo cohort as data/demo
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} fail (python -m doctest)"


def test_the_public_functions_of_the_bottom_layers_show_an_example():
    """The functions a researcher calls first carry a runnable example (the rest: issue #16's follow-up)."""
    wanted = {
        "rmstudy.contract.rows": ["spreadsheet_row", "data_index"],
        "rmstudy.contract.population": ["select_population", "population_mask", "unmatched_values", "near_misses"],
        "rmstudy.contract.coding": ["arm_indicator", "covariate_columns"],
        "rmstudy.contract.jsonio": ["to_jsonable", "write_json"],
        "rmstudy.contract.cohort": ["load_cohort"],
        "rmstudy.contract.study": ["parse_study"],
        "rmstudy.stats.effects": ["d_ppc2", "pooled_baseline_sd", "hedges_correction", "d_per_raw", "sesoi_bound"],
        "rmstudy.stats.decisions": ["decide", "finalise_hypotheses"],
        "rmstudy.stats.multiplicity": ["holm", "benjamini_hochberg"],
        "rmstudy.stats.scoring": ["reverse_key", "score_scales"],
        "rmstudy.stats.reliability": ["cronbach_alpha"],
        "rmstudy.stats.models.mixed": ["mixed_model"],
    }
    bare = [f"{m}.{f}" for m, fs in wanted.items() for f in fs
            if ">>>" not in (getattr(importlib.import_module(m), f).__doc__ or "")]
    assert not bare, f"no runnable example: {bare}"
