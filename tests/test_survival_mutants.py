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


DOC = dict(arm=["program"] * 4 + ["control"] * 4, entry=0.0, time=[5.0, 8.0, 12.0, 20.0, 3.0, 6.0, 9.0, 15.0],
           event=[1, 0, 1, 0, 1, 1, 1, 0], status=[1, 2, 1, 0, 1, 1, 1, 0])


def test_without_tied_times_breslow_and_efron_give_the_same_ph_test():
    # Efron's and Breslow's partial likelihoods differ only at tied event times: with every event time distinct
    # (the docstring data) the fits and cox.zph's score test are the same
    import pandas as pd

    from rmstudy.stats.models.survival import cox_zph

    d = pd.DataFrame(DOC)
    efron, breslow = (cox_zph(d, cox_model(d, ties=t)[1]) for t in ("efron", "breslow"))
    assert breslow["chisq"].to_numpy() == pytest.approx(efron["chisq"].to_numpy(), rel=1e-9)
    assert efron.loc[0, "chisq"] == pytest.approx(0.2736, abs=1e-4)


def test_risk_set_at_a_horizon_is_entry_before_it_and_time_at_or_after_it():
    # counting-process risk sets (entry, time], as R's survfit n.risk: whoever enters on the horizon day is not yet
    # at risk there, whoever leaves on it still is
    import pandas as pd

    from rmstudy.stats.models.survival import km_horizons

    d = pd.DataFrame({"arm": ["program"] * 4, "entry": [0.0, 30.0, 91.0, 0.0], "time": [200.0, 150.0, 120.0, 91.0],
                      "event": [0, 1, 0, 1]})
    r = km_horizons(d, [0, 30, 91]).set_index("horizon_days")["n_at_risk"]
    assert r.to_dict() == {0: 2, 30: 2, 91: 3}


def test_incidence_before_the_first_exit_has_the_interval_zero_to_zero():
    import pandas as pd

    from rmstudy.stats.models.survival import cumulative_incidence

    ci = cumulative_incidence(pd.DataFrame(DOC), [2, 10]).set_index(["group", "horizon_days"])
    for g in ("control", "program"):
        assert ci.loc[(g, 2), ["incidence", "ci_low", "ci_high"]].tolist() == [0.0, 0.0, 0.0]
    assert ci.loc[("control", 10), "incidence"] == 0.75
    assert 0 < ci.loc[("control", 10), "ci_low"] < 0.75 < ci.loc[("control", 10), "ci_high"] <= 1
