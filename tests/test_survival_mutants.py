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


def _demo():
    import rmstudy as rm
    from conftest import ROOT, load_ref

    c = rm.load_cohort(ROOT / "data" / "demo")
    pop = rm.select_population(c.participants, c.study.hypothesis("H3").population)
    data, _ = rm.retention_data(pop, c.employment, c.study.programme_start, c.study.censor_date)
    return data, load_ref("survival_demo.json")


def test_logrank_p_cox_counts_and_incidence_intervals_match_r():
    # R survival on the demo's H3 data (tests/reference/make_survival_reference.R; no late entry there)
    from rmstudy.stats.models.survival import cox_ph, cumulative_incidence, logrank

    data, ref = _demo()
    assert not ref["data"]["left_truncation"]
    lr = logrank(data)
    assert lr["p_value"] == pytest.approx(ref["logrank"]["survdiff"]["p"], rel=1e-4)
    assert lr["df"] == 1
    for ties in ("efron", "breslow"):
        r = cox_ph(data, ties=ties)
        assert (r["n"], r["events"], r["ties"]) == (ref[f"cox_{ties}"]["n"], ref[f"cox_{ties}"]["nevent"], ties)
    ci = cumulative_incidence(data, ref["cumulative_incidence"]["times"], cause=1).set_index(["group", "horizon_days"])
    rows = [r for r in ref["cumulative_incidence"]["rows"] if r["state"] == "voluntary"]
    assert rows
    for r in rows:
        g = ci.loc[(r["arm"], r["time"])]
        assert g["ci_low"] == pytest.approx(r["lower"], rel=1e-4)
        assert g["ci_high"] == pytest.approx(r["upper"], rel=1e-4)
