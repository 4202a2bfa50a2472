"""Simulated power against its truth (slow tier): exact noncentral-t power (R), Schoenfeld's formula, type I error and
familywise error within binomial bands at alpha = .001, unbiased estimates under MAR dropout, and the sample-size
search against pwr. Each check uses a fixed seed and at least 1,000 simulated cohorts, so a correct method fails by
chance about once in a thousand runs (the 3-MC-SE checks about three in a thousand)."""

import numpy as np
import pytest
from scipy import stats

from conftest import load_ref
from rmstudy.planning.analytic import change_n_for_power
from rmstudy.planning.draws import draw_survey
from rmstudy.planning.engine import simulate_power
from rmstudy.planning.search import minimum_detectable_effect, sample_size
from rmstudy.planning.spec import EXAMPLE, parse_plan

pytestmark = pytest.mark.slow
R = load_ref("power_reference.json")


def in_band(k: int, n: int, p: float, level: float = 0.999) -> bool:
    lo, hi = stats.binom.interval(level, n, p)
    return lo <= k <= hi


def ref_row(n, d, r):
    return next(x for x in R["noncentral_t"] if (x["n"], x["d"], x["r"]) == (n, d, r))


def test_minimal_example_power_is_the_exact_noncentral_t_power():
    row = simulate_power(parse_plan(EXAMPLE))["power"][0]
    exact = ref_row(200, 0.3, 0.5)["power_supported"]
    assert row["n_sims"] == 1000 and row["analysis"] == {"closed_form": 1000}
    assert row["analytic_power"] == pytest.approx(exact, rel=1e-9)
    assert in_band(round(row["power"] * 1000), 1000, exact), (row["power"], exact)
    assert in_band(round(row["type_i_error"] * 1000), 1000, 0.05)


@pytest.mark.parametrize("n, d, r", [(50, 0.5, 0.3), (100, 0.3, 0.7), (200, 0.2, 0.5), (100, 0.5, 0.5)])
def test_complete_two_wave_power_within_3_mc_se_of_r(n, d, r):
    plan = parse_plan({**EXAMPLE, "n_per_arm": n, "effect_d": d, "pre_post_correlation": r, "seed": 17,
                       "null_scenario": False})
    row = simulate_power(plan)["power"][0]
    exact = ref_row(n, d, r)["power_supported"]
    assert abs(row["power"] - exact) <= 3 * np.sqrt(exact * (1 - exact) / 1000), (row["power"], exact)


@pytest.mark.parametrize("case", ["complete_3_waves", "mar_dropout", "retention"])
def test_type_i_error_within_the_binomial_band(case):
    if case == "retention":
        raw = {"n_per_arm": 300, "hypotheses": [{"id": "R", "outcome": "retention", "hazard_ratio": 1.0}]}
    else:
        raw = {"waves": ["pre", "post", "follow_up"], "n_per_arm": 120, "pre_post_correlation": 0.6, "effect_d": 0.0,
               "attrition": 0.0 if case == "complete_3_waves" else {"post": 0.2, "follow_up": 0.4},
               "attrition_mechanism": "mar", "mar_log_odds_per_sd": -0.8}
    row = simulate_power(parse_plan({**raw, "n_sims": 2000, "seed": 23, "null_scenario": False}))["power"][0]
    rejected = row["decisions"]["supported"] + row["decisions"]["opposite"]
    assert in_band(round(rejected * 2000), 2000, 0.05), rejected


def test_holm_keeps_the_familywise_error_at_alpha():
    raw = {"waves": ["pre", "post"], "n_per_arm": 80, "pre_post_correlation": 0.5, "attrition": 0.0, "n_sims": 2000,
           "seed": 29, "hypotheses": [{"id": f"H{k}", "effect_d": 0.0} for k in range(3)]}
    out = simulate_power(parse_plan(raw))
    assert [r["type_i_error"] for r in out["power"]] == pytest.approx([0.05 / 3 * 1.0] * 3, abs=0.012)
    from rmstudy.planning import engine

    plan = parse_plan(raw)
    results = engine.run_chunk(plan, 80, np.arange(2000))["results"]
    adj, _ = engine.decisions(plan, results, "null")
    fwer = (adj < 0.05).any(axis=1).mean()
    assert in_band(round(fwer * 2000), 2000, 0.05) or fwer < 0.05, fwer


def test_retention_power_within_3_mc_se_of_schoenfeld():
    for hr, n in ((0.7, 300), (0.75, 500)):
        plan = parse_plan({"n_per_arm": n, "n_sims": 2000, "seed": 31, "null_scenario": False,
                           "hypotheses": [{"id": "R", "outcome": "retention", "hazard_ratio": hr}]})
        row = simulate_power(plan)["power"][0]
        s = row["analytic_power"]
        assert abs(row["power"] - s) <= 3 * np.sqrt(s * (1 - s) / 2000), (hr, n, row["power"], s)


def test_mar_dropout_lmm_is_unbiased_and_loses_power():
    raw = {**EXAMPLE, "n_per_arm": 150, "effect_d": 0.3, "attrition": 0.3, "attrition_mechanism": "mar",
           "mar_log_odds_per_sd": -1.0, "n_sims": 1500, "seed": 37, "null_scenario": False}
    row = simulate_power(parse_plan(raw))["power"][0]
    assert row["analysis"] == {"reml": 1500}
    se_mean = np.sqrt(2 * 0.5 * 2 / 150 / 0.7) / np.sqrt(1500)        # generous: the completers' SE of the mean
    assert abs(row["mean_estimate"] - 0.3) < 4 * se_mean
    complete = simulate_power(parse_plan({**raw, "attrition": 0.0}))["power"][0]
    assert row["power"] < complete["power"]


def test_sample_size_search_finds_pwr_n_within_its_mc_interval():
    res = sample_size(parse_plan(EXAMPLE), "H1")
    n_r = ref_row(200, 0.3, 0.5)["n_for_80"]                        # pwr.t.test(d = 0.3 / sqrt(2 (1 - 0.5)), power = .8)
    half = (res["n_per_arm_ci_high"] - res["n_per_arm_ci_low"]) / 2
    assert abs(res["n_per_arm"] - n_r) <= 1.6 * half + 1, res     # ~3 MC SE
    assert abs(res["power_at_n"] - 0.8) <= 3 * res["power_at_n_mc_se"]
    assert change_n_for_power(0.3, 0.5) == pytest.approx(n_r, rel=2e-3)


def test_mde_search_finds_the_exact_mde():
    from scipy import optimize

    from rmstudy.planning.analytic import change_power

    res = minimum_detectable_effect(parse_plan(EXAMPLE), "H1")
    exact = optimize.brentq(lambda d: change_power(d, 0.5, 200) - 0.8, 0.01, 2)
    half = (res["mde_d_ci_high"] - res["mde_d_ci_low"]) / 2
    assert abs(res["mde_d"] - exact) <= 1.6 * half, (res["mde_d"], exact)


def test_draws_have_the_planned_correlations_and_attrition():
    plan = parse_plan({"waves": ["pre", "post", "fu"], "n_per_arm": 400, "pre_post_correlation": 0.6, "n_sims": 10,
                       "design": {"mentoring": "pairs", "icc": 0.2, "icc_change": 0.3},
                       "attrition": {"post": 0.2, "fu": 0.35}, "attrition_mechanism": "mar",
                       "mar_log_odds_per_sd": -0.7, "hypotheses": [{"id": "H", "effect_d": 0.0}]})
    h = plan.hypotheses[0]
    draw = draw_survey(h, 400, 3, 41, range(60))
    y = draw.y0
    assert y.var() == pytest.approx(1.0, abs=0.02)
    assert np.corrcoef(y[:, :, 0].ravel(), y[:, :, 1].ravel())[0, 1] == pytest.approx(0.6, abs=0.02)
    change = y[:, :400, 1] - y[:, :400, 0]                            # programme members, in pairs (0, 1), (2, 3), ...
    assert np.corrcoef(change[:, 0::2].ravel(), change[:, 1::2].ravel())[0, 1] == pytest.approx(0.3, abs=0.03)
    assert np.corrcoef(y[:, :400:2, 0].ravel(), y[:, 1:400:2, 0].ravel())[0, 1] == \
        pytest.approx(0.2 + 0.3 * 0.4, abs=0.03)
    missing = 1 - draw.observed[:, 400:].mean(axis=(0, 1))           # comparison arm: baseline N(0, 1)
    assert missing == pytest.approx([0.0, 0.2, 0.35], abs=0.01)
    gone = ~draw.observed[:, :, 1]
    assert (~draw.observed[:, :, 2] | draw.observed[:, :, 1]).all()      # monotone: gone at post, gone later
    assert y[:, :, 0][gone].mean() < y[:, :, 0][~gone].mean()       # slope -0.7: higher baselines stay
