"""Retention: Cox PH and Kaplan-Meier against R survival (tests/reference/cox_demo.json)."""

import pandas as pd
import pytest
from numpy.testing import assert_allclose

import rmstudy as rm
from rmstudy.analysis.hypotheses import analyse_retention_hypothesis, select_population
from conftest import load_ref

REF = load_ref("cox_demo.json")["hypotheses"]["H3"]


@pytest.fixture(scope="module")
def h3(demo_cohort):
    return analyse_retention_hypothesis(demo_cohort, demo_cohort.study.hypothesis("H3"))


def test_retention_data_counts(h3):
    row, detail, data = h3
    assert len(data) == REF["n_analysed"]
    assert data.groupby("arm")["event"].sum().to_dict() == REF["events_by_arm"]
    assert sum(e["count"] for e in detail["excluded"]) == REF["n_excluded_exit_on_or_before_start"]


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_cox_matches_coxph(h3, ties):
    d = h3[1][f"cox_{ties}"]
    r = REF[ties]
    assert_allclose(d["estimate"], r["coef"], atol=1e-4)
    assert_allclose(d["se"], r["se"], rtol=1e-4)
    assert_allclose(d["hazard_ratio"], r["hr"], atol=1e-4)
    assert_allclose([d["hr_ci_low"], d["hr_ci_high"]], [r["hr_lower"], r["hr_upper"]], atol=1e-4)
    assert_allclose(d["p_value"], r["p"], atol=1e-4)
    assert d["events"] == r["nevent"] and d["n"] == r["n"]


def test_km_horizons_match_survfit(h3):
    km = pd.DataFrame(h3[1]["km"]).set_index(["group", "horizon_days"])
    for r in REF["km"]["rows"]:
        got = km.loc[(r["arm"], r["time"])]
        assert_allclose(got["retention"], r["surv"], atol=1e-6)
        assert_allclose([got["ci_low"], got["ci_high"]], [r["lower"], r["upper"]], atol=1e-6)
        assert got["n_at_risk"] == r["n_risk"]


def test_hypothesis_row_uses_efron_on_log_scale(h3):
    row = h3[0]
    assert_allclose(row["estimate"], REF["efron"]["coef"], atol=1e-4)
    assert row["df"] is None and row["effect_size"]["name"] == "hazard_ratio"


def test_late_entry_and_exclusions():
    parts = pd.DataFrame({"participant_id": ["a", "b", "c", "d"], "arm": ["program", "control", "program", "control"],
                          "role": "junior"})
    emp = pd.DataFrame({"participant_id": ["a", "b", "c", "d"],
                        "hire_date": pd.to_datetime(["2020-01-01", "2025-03-01", "2020-01-01", "2026-02-01"]),
                        "exit_date": pd.to_datetime(["2024-12-01", "2025-06-01", None, None]),
                        "exit_reason": ["voluntary", "involuntary", None, None]})
    data, excl = rm.retention_data(parts, emp, "2025-01-01", "2025-12-31")
    assert set(excl["participant_id"]) == {"a", "d"}
    b = data.set_index("participant_id").loc["b"]
    assert b["entry"] == 59 and b["event"] == 0 and b["time"] == 151      # late entry, censored at involuntary exit
    c = data.set_index("participant_id").loc["c"]
    assert c["time"] == 364 and c["event"] == 0


def test_population_filter_by_age(demo_cohort):
    pop = select_population(demo_cohort.participants, {"role": "junior", "age": {"max": 25}})
    assert len(pop) > 0 and (pop["age"] <= 25).all() and (pop["role"] == "junior").all()


def test_numbers_at_risk_at_origin(h3):
    row, detail, data = h3
    at0 = rm.km_horizons(data, [0]).set_index("group")["n_at_risk"]
    assert at0.to_dict() == REF["n_by_arm"]
