"""rmstudy.planning's fast paths equal the project's estimators cohort by cohort, the closed forms equal R, and the
simulation is deterministic whatever the number of jobs or the chunking."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import REF, load_ref
from rmstudy.analysis.hypotheses import tost_p
from rmstudy.planning import analytic, engine
from rmstudy.planning.cox import cox_binary
from rmstudy.planning.draws import arms, draw_retention, draw_survey, retention_times, stream
from rmstudy.planning.fastlmm import closed_form, contrast_vector, lmm_contrast, pooled_baseline_sd
from rmstudy.planning.spec import EXAMPLE, parse_plan
from rmstudy.stats.effects import pooled_baseline_sd as pooled_sd_frame
from rmstudy.stats.models.mixed import fit_random_intercept
from rmstudy.stats.models.survival import cox_ph
from rmstudy.stats.multiplicity import holm

R = load_ref("power_reference.json")


def reference_lmm(y, observed, arm, contrast):
    """fit_random_intercept + contrast for each cohort of a batch (the project's own fitter)."""
    B, N, W = y.shape
    out = []
    for b in range(B):
        i, w = np.nonzero(observed[b])
        a = arm[i]
        X = np.column_stack([np.ones(len(i)), a] + [(w == k) * 1.0 for k in range(1, W)] +
                            [a * (w == k) for k in range(1, W)])
        fit = fit_random_intercept(y[b, i, w], X, i)
        c = fit.contrast(contrast_vector(W, contrast))
        out.append([c["estimate"], c["se"], c["df"], c["p_value"]])
    return np.array(out)


@pytest.mark.parametrize("n, W, rho, attrition, contrast", [
    (30, 2, 0.5, 0.0, (0, 1)),      # closed form
    (30, 2, 0.0, 0.0, (0, 1)),      # about half at the boundary: closed form and batched REML (singular fits)
    (25, 3, 0.4, 0.0, (1, 2)),      # three waves, a contrast that does not start at the first wave
    (30, 2, 0.5, 0.3, (0, 1)),      # dropouts: batched REML
    (25, 3, 0.2, 0.3, (0, 2)),      # three waves with monotone MAR dropout
])
def test_fast_lmm_equals_fit_random_intercept_cohort_by_cohort(n, W, rho, attrition, contrast):
    waves = [f"w{k}" for k in range(W)]
    plan = parse_plan({"waves": waves, "n_per_arm": n, "pre_post_correlation": rho, "attrition": attrition,
                       "attrition_mechanism": "mar", "seed": 5,
                       "hypotheses": [{"id": "H", "effect_d": 0.3, "contrast": [waves[contrast[0]], waves[contrast[1]]]}]})
    h = plan.hypotheses[0]
    draw = draw_survey(h, n, W, plan.seed, range(24))
    y = draw.with_effect(h.effect)
    got = lmm_contrast(y, draw.observed, draw.arm, contrast)
    ref = reference_lmm(y, draw.observed, draw.arm, contrast)
    np.testing.assert_allclose(got["estimate"], ref[:, 0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got["se"], ref[:, 1], rtol=1e-6)
    np.testing.assert_allclose(got["df"], ref[:, 2], rtol=1e-5)
    np.testing.assert_allclose(got["p_value"], ref[:, 3], rtol=1e-5, atol=1e-10)
    if attrition == 0 and rho > 0:
        assert set(got["route"]) == {"closed_form"}
    if rho == 0:
        assert set(got["route"]) == {"closed_form", "reml"}


def _equivalence_data(name, waves):
    ds = pd.read_csv(REF / "power_equivalence_ds.csv")
    ds = ds[ds["dataset"] == name]
    wide = ds.pivot(index="participant_id", columns="wave", values="score")[waves]
    arm = ds.drop_duplicates("participant_id").set_index("participant_id").loc[wide.index, "arm"]
    order = np.argsort(arm.to_numpy() != "program", kind="stable")          # programme first, as draws.arms
    return wide.to_numpy()[order][None], (arm.to_numpy()[order] == "program").astype(float)


def test_closed_form_equals_lmertest_and_the_change_score_t_test_in_r():
    y, arm = _equivalence_data("two_waves", ["pre", "post"])
    cf = closed_form(y, arm, (0, 1))
    ref, tt = R["lmm"][0], R["change_t_test"]
    assert cf["estimate"][0] == pytest.approx(ref["estimate"], abs=1e-8)
    assert cf["se"][0] == pytest.approx(ref["se"], rel=1e-7)
    assert cf["df"][0] == pytest.approx(ref["df"], rel=1e-7) == tt["df"] == 2 * 60 - 2
    assert cf["p_value"][0] == pytest.approx(ref["p_value"], rel=1e-6) == pytest.approx(tt["p_value"], rel=1e-6)
    assert cf["estimate"][0] / cf["se"][0] == pytest.approx(tt["t"], rel=1e-8)
    y3, arm3 = _equivalence_data("three_waves", ["pre", "post", "follow_up"])
    for k, ref in ((1, R["lmm"][1]), (2, R["lmm"][2])):
        cf = closed_form(y3, arm3, (0, k))
        assert cf["estimate"][0] == pytest.approx(ref["estimate"], abs=1e-8)
        assert cf["se"][0] == pytest.approx(ref["se"], rel=1e-7)
        assert cf["df"][0] == pytest.approx(ref["df"], rel=1e-7) == (100 - 2) * 2


def test_batched_cox_equals_cox_ph():
    plan = parse_plan({"n_per_arm": 80, "seed": 2, "hypotheses": [
        {"id": "R", "outcome": "retention", "hazard_ratio": 0.7, "exit_rate": 0.3, "involuntary_rate": 0.1}]})
    h = plan.hypotheses[0]
    time, event = retention_times(h, draw_retention(h, 80, plan.seed, range(12)), h.hazard_ratio)
    got = cox_binary(time, event, arms(80))
    for b in range(12):
        d = pd.DataFrame({"arm": np.where(arms(80) == 1, "program", "control"), "time": time[b],
                          "event": event[b].astype(int), "entry": 0.0})
        ref = cox_ph(d)
        assert got["estimate"][b] == pytest.approx(ref["estimate"], abs=1e-9)
        assert got["se"][b] == pytest.approx(ref["se"], rel=1e-9)
        assert got["p_value"][b] == pytest.approx(ref["p_value"], rel=1e-8)


def test_cox_with_all_events_in_one_arm_is_not_significant():
    time = np.array([[1.0, 2.0, 5.0, 5.0, 5.0, 5.0]])
    event = np.array([[True, True, False, False, False, False]])
    got = cox_binary(time, event, np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0]))
    assert got["p_value"][0] == 1.0 and got["estimate"][0] == 0.0


def test_baseline_sd_and_tost_bound_follow_the_run():
    rng = np.random.default_rng(1)
    y0 = rng.normal(size=(3, 40))
    arm = arms(20)
    for b in range(3):
        frame = pd.DataFrame({"score": y0[b], "arm": np.where(arm == 1, "program", "control")})
        assert pooled_baseline_sd(y0, arm)[b] == pytest.approx(pooled_sd_frame(frame)[0], rel=1e-12)
    plan = parse_plan({**EXAMPLE, "n_per_arm": 20, "n_sims": 10, "sesoi": 0.2})
    h = plan.hypotheses[0]
    res = engine.run_chunk(plan, 20, np.arange(10))["results"]["H1"]["alt"]
    draw = draw_survey(h, 20, 2, plan.seed, np.arange(10))
    sd = pooled_baseline_sd(draw.with_effect(h.effect)[:, :, 0], draw.arm)
    c = 1 - 3 / (4 * 38 - 1)
    for b in range(10):
        expected = tost_p(res["estimate"][b], res["se"][b], 0.2 * sd[b] / c, res["df"][b])
        assert res["tost_p"][b] == pytest.approx(expected, rel=1e-12)


def test_decisions_apply_the_family_rule_and_the_run_decision():
    plan = parse_plan({"waves": ["pre", "post"], "n_per_arm": 40, "pre_post_correlation": 0.5, "attrition": 0,
                       "n_sims": 30, "seed": 4, "hypotheses": [
                           {"id": "A", "effect_d": 0.5}, {"id": "B", "effect_d": -0.3},
                           {"id": "C", "effect_d": 0.2, "family": "exploratory"}]})
    results = engine.run_chunk(plan, 40, np.arange(30))["results"]
    adj, dec = engine.decisions(plan, results)
    P = np.column_stack([results[i]["alt"]["p_value"] for i in "AB"])
    np.testing.assert_allclose(adj[:, :2], np.vstack([holm(p) for p in P]))
    np.testing.assert_array_equal(adj[:, 2], results["C"]["alt"]["p_value"])
    for k, (hid, sign) in enumerate((("A", 1), ("B", -1), ("C", 1))):
        est = results[hid]["alt"]["estimate"]
        sig = adj[:, k] < 0.05
        assert list(dec[:, k]) == ["supported" if s and np.sign(e) == sign else "opposite" if s else "inconclusive"
                                   for s, e in zip(sig, est)]


def test_analytic_power_equals_r():
    for row in R["noncentral_t"]:
        p = analytic.change_power(row["d"], row["r"], row["n"], alpha=R["alpha"])
        assert p == pytest.approx(row["power_supported"], rel=1e-9)
        df, ncp = 2 * row["n"] - 2, row["d_change"] * np.sqrt(row["n"] / 2)
        lower = stats.nct.cdf(-stats.t.ppf(0.975, df), df, ncp)
        assert p + lower == pytest.approx(row["pwr_two_sided"], rel=1e-7)
        assert analytic.change_n_for_power(row["d"], row["r"]) == pytest.approx(row["n_for_80"], rel=2e-3)
    for row in R["schoenfeld"]:
        events = row["n"] * sum(analytic.voluntary_exit_probability(row["exit_rate"], row["involuntary_rate"], hr,
                                                                     row["follow_up_days"]) for hr in (row["hazard_ratio"], 1))
        assert events == pytest.approx(row["events"], rel=1e-12)
        assert analytic.schoenfeld_power(row["hazard_ratio"], events) == pytest.approx(row["power"], rel=1e-10)
        assert analytic.schoenfeld_events(row["hazard_ratio"]) == pytest.approx(row["events_for_80"], rel=1e-10)


def _strip(o):
    if isinstance(o, dict):
        return {k: _strip(v) for k, v in o.items() if k != "seconds"}
    if isinstance(o, list):
        return [_strip(v) for v in o]
    return o


SMALL = {"waves": ["pre", "post"], "n_per_arm": [30, 45], "pre_post_correlation": 0.5, "attrition": 0.2,
         "attrition_mechanism": "mar", "n_sims": 40, "seed": 11, "hypotheses": [
             {"id": "S", "effect_d": 0.4, "sesoi": 0.2},
             {"id": "R", "outcome": "retention", "hazard_ratio": 0.6}]}


def test_same_seed_same_output_whatever_jobs_and_chunks(monkeypatch):
    plan = parse_plan(SMALL)
    one = engine.simulate_power(plan, jobs=1)
    again = engine.simulate_power(plan, jobs=1)
    assert _strip(one) == _strip(again)
    assert _strip(engine.simulate_power(plan, jobs=2)) == _strip(one)
    monkeypatch.setattr(engine, "chunk_size", lambda plan, n: 7)
    assert _strip(engine.simulate_power(plan, jobs=1)) == _strip(one)
    other = engine.simulate_power(replace(plan, seed=12), jobs=1)
    assert _strip(other)["power"] != _strip(one)["power"]


def test_streams_are_keyed_by_seed_hypothesis_and_simulation():
    a = stream(1, "H1", 5).standard_normal(3)
    assert np.array_equal(a, stream(1, "H1", 5).standard_normal(3))
    ss = np.random.SeedSequence(1).spawn(1)[0]       # the same construction as SeedSequence.spawn at (crc32(id), i)
    assert ss.spawn_key == (0,)
    for other in (stream(2, "H1", 5), stream(1, "H2", 5), stream(1, "H1", 6)):
        assert not np.array_equal(a, other.standard_normal(3))


def test_retention_tost_is_the_runs():
    plan = parse_plan({"n_per_arm": 60, "n_sims": 12, "seed": 6, "hypotheses": [
        {"id": "R", "outcome": "retention", "hazard_ratio": 0.8, "sesoi": 0.9}]})
    res = engine.run_chunk(plan, 60, np.arange(12))["results"]["R"]["alt"]
    for b in range(12):
        assert res["tost_p"][b] == pytest.approx(tost_p(res["estimate"][b], res["se"][b], abs(np.log(0.9)), None),
                                                 rel=1e-12)
