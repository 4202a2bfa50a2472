"""Property-based tests (hypothesis) of the mixed model: what must not change when the data are relabelled,
shifted, rescaled or reordered (issue #17).

``rmstudy.mixed_model`` fits ``score ~ arm * wave + (1 | participant_id)`` by REML. The fixed-effects design spans
the same space whichever arm is the reference, so the REML fit is the same model: relabelling the arms flips the
sign of the interaction and leaves its SE, df and p alone. Adding a constant moves only the intercept; multiplying
the outcome by a scales every estimate and SE by a (|a|) and leaves t (up to sign), p and the Satterthwaite df alone;
the order of the rows is irrelevant. The data are small and generated from a drawn seed; few examples.
"""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from conftest import examples
from rmstudy.stats.models.mixed import mixed_model

COLS = ["estimate", "se", "df", "t", "p_value"]
RTOL = 1e-5   # the REML optimiser's tolerance shows in the 6th digit at most


@st.composite
def cohorts(draw):
    """A long table of 2-3 waves, two arms, random intercepts, some answers missing."""
    seed = draw(st.integers(0, 2**32 - 1))
    n_per_arm = draw(st.integers(5, 14))
    n_waves = draw(st.sampled_from([2, 3]))
    tau, sigma = draw(st.floats(0.4, 2.0)), draw(st.floats(0.3, 1.2))
    effect = draw(st.floats(-1.0, 1.0))
    missing = draw(st.floats(0.0, 0.2))
    rng = np.random.default_rng(seed)
    n = 2 * n_per_arm
    pid = np.repeat([f"p{i:03d}" for i in range(n)], n_waves)
    arm = np.repeat(np.where(np.arange(n) < n_per_arm, "program", "control"), n_waves)
    wave_i = np.tile(np.arange(n_waves), n)
    u = np.repeat(rng.normal(0, tau, n), n_waves)
    y = 3 + u + 0.2 * wave_i + effect * (arm == "program") * (wave_i > 0) + rng.normal(0, sigma, n * n_waves)
    d = pd.DataFrame({"participant_id": pid, "arm": arm, "wave": [f"w{i}" for i in wave_i], "score": y})
    drop = rng.random(len(d)) < missing
    drop &= wave_i > 0                      # everyone keeps a baseline answer
    d.loc[drop, "score"] = np.nan
    return d


def fit(d, **kw):
    return mixed_model(d, "score", between_ref="control", **kw).set_index("term")


def _interaction_terms(tab):
    return [t for t in tab.index if ":" in t]


@settings(max_examples=examples(20), deadline=None)
@given(cohorts())
def test_relabelling_the_arms_flips_the_interaction(d):
    a = fit(d)
    swapped = d.assign(arm=d["arm"].map({"program": "control", "control": "program"}))
    b = fit(swapped)
    for term in _interaction_terms(a):
        assert_allclose(b.loc[term, "estimate"], -a.loc[term, "estimate"], rtol=RTOL, atol=1e-8)
        assert_allclose(b.loc[term, ["se", "df", "p_value"]].to_numpy(float),
                        a.loc[term, ["se", "df", "p_value"]].to_numpy(float), rtol=1e-4, atol=1e-8)
        assert_allclose(b.loc[term, "t"], -a.loc[term, "t"], rtol=1e-4, atol=1e-8)
    assert_allclose(b.loc["arm[program]", "estimate"], -a.loc["arm[program]", "estimate"], rtol=RTOL, atol=1e-8)
    assert_allclose(b.attrs["sigma2"], a.attrs["sigma2"], rtol=1e-4)


@settings(max_examples=examples(20), deadline=None)
@given(cohorts(), st.floats(-50, 50).filter(lambda c: abs(c) > 1e-3))
def test_adding_a_constant_moves_only_the_intercept(d, c):
    a = fit(d)
    b = fit(d.assign(score=d["score"] + c))
    assert_allclose(b.loc["Intercept", "estimate"], a.loc["Intercept", "estimate"] + c, rtol=RTOL, atol=1e-6)
    assert_allclose(b.loc["Intercept", "se"], a.loc["Intercept", "se"], rtol=1e-4)
    rest = [t for t in a.index if t != "Intercept"]
    assert_allclose(b.loc[rest, COLS].to_numpy(float), a.loc[rest, COLS].to_numpy(float), rtol=1e-4, atol=1e-7)


@settings(max_examples=examples(20), deadline=None)
@given(cohorts(), st.sampled_from([-3.0, -1.0, 0.1, 2.5, 1000.0]))
def test_scaling_the_outcome_scales_estimates_and_ses_only(d, a_):
    a = fit(d)
    b = fit(d.assign(score=d["score"] * a_))
    assert_allclose(b["estimate"].to_numpy(), a_ * a["estimate"].to_numpy(), rtol=RTOL, atol=1e-7 * abs(a_))
    assert_allclose(b["se"].to_numpy(), abs(a_) * a["se"].to_numpy(), rtol=1e-4)
    assert_allclose(b["t"].to_numpy(), np.sign(a_) * a["t"].to_numpy(), rtol=1e-4, atol=1e-6)
    assert_allclose(b[["df", "p_value"]].to_numpy(float), a[["df", "p_value"]].to_numpy(float), rtol=1e-4, atol=1e-8)


@settings(max_examples=examples(20), deadline=None)
@given(cohorts(), st.randoms(use_true_random=False))
def test_the_order_of_the_rows_changes_nothing(d, rnd):
    a = fit(d)
    idx = list(d.index)
    rnd.shuffle(idx)
    b = fit(d.loc[idx].reset_index(drop=True))
    assert list(b.index) == list(a.index)
    assert_allclose(b[COLS].to_numpy(float), a[COLS].to_numpy(float), rtol=1e-5, atol=1e-8)


@settings(max_examples=examples(10), deadline=None)
@given(cohorts())
def test_ci_is_estimate_plus_minus_t_times_se(d):
    from scipy import stats

    a = fit(d)
    q = stats.t.ppf(0.975, a["df"].to_numpy(float))
    assert_allclose(a["ci_low"], a["estimate"] - q * a["se"], rtol=1e-9)
    assert_allclose(a["ci_high"], a["estimate"] + q * a["se"], rtol=1e-9)
    assert_allclose(a["t"], a["estimate"] / a["se"], rtol=1e-9)
    assert_allclose(a["p_value"], 2 * stats.t.sf(np.abs(a["t"]), a["df"].to_numpy(float)), rtol=1e-7)
