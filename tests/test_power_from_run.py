"""rmstudy.planning.from_run on a small hand-made results.json: what is taken from where, and the answers' shape."""

import json

import pytest

from rmstudy.planning.from_run import plan_from_run, power_from_run
from rmstudy.planning.spec import PlanningError


def results(sesoi=0.2, observed_d=0.15):
    survey = {"id": "H2", "outcome": "engagement", "family": "primary", "direction": "increase", "contrast": ["pre", "post"],
              "decision": "inconclusive", "sesoi": sesoi, "sesoi_units": "d", "baseline_sd": 2.0,
              "effect_size": {"name": "d_ppc2", "value": observed_d},
              "n": {"program": {"participants": 100, "observations": 180},
                    "control": {"participants": 100, "observations": 170}}}
    retention = {"id": "H3", "outcome": "retention", "family": "primary", "direction": "increase",
                 "decision": "supported", "sesoi": None, "effect_size": {"name": "hazard_ratio", "value": 0.6},
                 "n": {"program": {"participants": 50}, "control": {"participants": 50}}}
    return {
        "cohort": "toy", "created": "2026-01-01T00:00:00Z", "plan_sha256": "0" * 64,
        "flow": {"stages": [{"stage": "enrolled", "program": 100, "control": 100},
                            {"stage": "responded_pre", "program": 100, "control": 100},
                            {"stage": "responded_post", "program": 80, "control": 75}]},
        "hypotheses": [survey, retention],
        "models": {"H2": {"variance_components": {"tau2": 0.6, "sigma2": 0.4}}},
        "attrition": {"baseline_by_completion": [{"scale": "engagement", "arm": "program", "smd": 0.5},
                                                 {"scale": "engagement", "arm": "control", "smd": 0.3}]},
        "retention": {"H3": {"km": [{"group": "control", "horizon_days": 182, "retention": 0.9},
                                    {"group": "control", "horizon_days": 365, "retention": 0.75}],
                             "cumulative_incidence": [{"group": "control", "horizon_days": 365, "cause": 2,
                                                       "incidence": 0.03}]}},
        "power": {"H2": {"alpha": 0.05}},
    }


def write(tmp_path, res):
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.json").write_text(json.dumps(res))
    return run


def test_plan_takes_each_value_from_its_documented_source(tmp_path):
    plan, sources = plan_from_run(write(tmp_path, results()))
    h2, h3 = plan.hypotheses
    assert plan.waves == ("pre", "post") and plan.n_per_arm == (100,) and plan.alpha == 0.05
    assert h2.rho == pytest.approx(0.6) and h2.share == 1.0
    assert h2.attrition == pytest.approx((0.0, 1 - 75 / 100))             # 1 - (observations - participants) / participants
    assert h2.mechanism == "mar" and h2.mar_slope == pytest.approx(-0.4)
    assert h2.effect_d == pytest.approx(0.2) and sources["H2"]["effect"] == "sesoi"
    assert h3.share == 0.5 and h3.exit_rate == pytest.approx(0.25) and h3.involuntary_rate == pytest.approx(0.03)
    assert h3.follow_up_days == 365 and h3.hazard_ratio == pytest.approx(0.6) and sources["H3"]["effect"] == "observed"


def test_an_observed_effect_against_the_expected_direction_counts_as_zero(tmp_path):
    plan, sources = plan_from_run(write(tmp_path, results(sesoi=None, observed_d=-0.1)))
    assert plan.hypotheses[0].effect_d == 0.0 and plan.hypotheses[0].direction == "increase"
    out = power_from_run(tmp_path / "run", n_sims=20)
    (s,) = out["sample_size"]
    assert s["hypothesis"] == "H2" and s["n_per_arm"] is None and "effect is 0" in s["note"]


def test_power_from_run_answers_for_inconclusive_rows_and_every_mde(tmp_path):
    out = power_from_run(write(tmp_path, results()), n_sims=40, seed=3)
    assert [r["hypothesis"] for r in out["power"]] == ["H2", "H3"]
    assert [s["hypothesis"] for s in out["sample_size"]] == ["H2"]
    s = out["sample_size"][0]
    assert s["n_per_arm_ci_low"] <= s["n_per_arm"] <= s["n_per_arm_ci_high"] and len(s["grid"]) >= 5
    assert [m["hypothesis"] for m in out["mde"]] == ["H2", "H3"]
    assert out["mde"][0]["mde_d"] > 0
    h3 = out["mde"][1]          # 50 per arm, ~12 comparison exits: the Wald test may never reach 80% (all events in one arm)
    assert (h3["mde_hazard_ratio"] is None and "no effect" in h3["note"]) or 0 < h3["mde_hazard_ratio"] < 1
    assert out["from_run"]["decisions"] == {"H2": "inconclusive", "H3": "supported"}


def test_a_folder_without_a_usable_results_json_is_a_planning_error(tmp_path):
    with pytest.raises(PlanningError, match="no results.json"):
        plan_from_run(tmp_path)
    res = results()
    del res["models"]
    with pytest.raises(PlanningError, match="models.H2.variance_components"):
        plan_from_run(write(tmp_path, res))
