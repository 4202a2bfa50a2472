"""stats/models/survival.py details the R comparisons do not reach (issue #17 mutation run): cox_model's default
interval is the 95% one (z = 1.959964), and alpha sets it."""

import math

import pytest

from rmstudy.analysis.hypotheses import analyse_retention_hypothesis
from rmstudy.stats.models.survival import cox_model


def test_cox_model_interval_follows_alpha(demo_cohort):
    data = analyse_retention_hypothesis(demo_cohort, demo_cohort.study.hypothesis("H3"))[2]
    for kw, z in (({}, 1.959963984540054), ({"alpha": 0.1}, 1.6448536269514722)):
        tab, _ = cox_model(data, **kw)
        r = tab.iloc[0]                                    # the arm term comes first
        assert r["hr_ci_low"] == pytest.approx(math.exp(r["coef"] - z * r["se"]), rel=1e-9)
        assert r["hr_ci_high"] == pytest.approx(math.exp(r["coef"] + z * r["se"]), rel=1e-9)
        assert r["hazard_ratio"] == pytest.approx(math.exp(r["coef"]), rel=1e-12)
