"""Recovery of the planted actor–partner moderation (#18) and 95% CI coverage over 1,000 simulated cohorts.

The cohorts are programme pairs with complete data from the simulator's own vectorised generator
(:func:`rmstudy.simulate.humility.simulate_pairs`: the outcome psych_safety, whose effect applies to both roles,
moderated by openness and humility of both members, measured by the IPIP openness, self-rated honesty–humility and
partner-rated expressed humility items). The truth is the population slope of the observed change on the standardised
observed actor and partner scores, from a 400,000-pair draw of the same generator (truth.json's ``observed``).

The fit: with two waves and complete data, the REML fit of ``score ~ wave * (a + p) + (1 | pair) + (1 | participant)``
gives the wave × a and wave × p coefficients of the least-squares fit of the change on (1, a, p), their SEs from the
change's residual variance (RSS / (n - 3)), and Satterthwaite df n - 3: the pair and participant intercepts cancel
in the change. ``test_closed_form_equals_the_production_fit`` checks that equality against
:func:`rmstudy.stats.moderation.actor_partner_analysis` on two cohorts; the 1,000 fits then use the closed form.
"""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from rmstudy.simulate.cohort import DEMO_EXTRA_EFFECTS, DEMO_EXTRA_SCALES
from rmstudy.simulate.humility import (ACTOR_PARTNER_EFFECTS, HUMILITY_SCALES, actor_partner_truth, simulate_pairs)
from rmstudy.stats.moderation import actor_partner_analysis, partner_means

N_SIMS, N_PAIRS, SEED = 1000, 150, 20261803
OUTCOME = "psych_safety"
MODS = ("openness", "honesty_humility", "expressed_humility")


def _setup():
    rng = np.random.default_rng(SEED)
    spec = DEMO_EXTRA_SCALES[OUTCOME]
    e = DEMO_EXTRA_EFFECTS[OUTCOME]
    outcome = {"spec": spec, "loadings": np.round(rng.uniform(0.65, 0.8, spec["n_items"]), 3), "d": e["d"],
               "roles": e["roles"], "mu": spec["mu"]}
    specs = {"openness": DEMO_EXTRA_SCALES["openness"], **HUMILITY_SCALES}
    mods = {m: (specs[m], np.round(rng.uniform(0.65, 0.8, specs[m]["n_items"]), 3)) for m in MODS}
    coefs = ACTOR_PARTNER_EFFECTS[OUTCOME]
    assert all(c[s] > 0 for c in coefs.values() for s in ("actor", "partner"))      # a planted effect to recover
    kw = dict(outcome=outcome, moderators=mods, coefs=coefs, b_relationship=e["b_relationship"],
              b_sessions=e["b_sessions"])
    return kw


@pytest.fixture(scope="module")
def setup():
    kw = _setup()
    truth = actor_partner_truth(simulate_pairs(np.random.default_rng(SEED + 1), 400_000, **kw), ["junior", "senior"],
                                MODS)["all"]
    sims = simulate_pairs(np.random.default_rng(SEED + 2), N_SIMS * N_PAIRS, **kw)
    sims = {k: v.reshape(N_SIMS, 2 * N_PAIRS) for k, v in sims.items()}          # cohort x participant
    return kw, truth, sims


def closed_form(change, own, other, alpha=0.05):
    """Per cohort (rows): actor and partner estimates, SEs, df and CIs of the REML fit with complete data."""
    z = lambda x: (x - x.mean(1, keepdims=True)) / x.std(1, ddof=1, keepdims=True)  # noqa: E731
    X = np.stack([np.ones_like(own), z(own), z(other)], axis=2)                     # sims x n x 3
    XtX_inv = np.linalg.inv(np.einsum("snj,snk->sjk", X, X))
    beta = np.einsum("sjk,snk,sn->sj", XtX_inv, X, change)
    resid = change - np.einsum("snj,sj->sn", X, beta)
    df = change.shape[1] - 3
    s2 = (resid**2).sum(1) / df
    se = np.sqrt(s2[:, None] * np.diagonal(XtX_inv, axis1=1, axis2=2))
    half = stats.t.ppf(1 - alpha / 2, df) * se
    return {"estimate": beta[:, 1:], "se": se[:, 1:], "df": df, "ci_low": beta[:, 1:] - half[:, 1:],
            "ci_high": beta[:, 1:] + half[:, 1:]}


def _partner(x):
    return x.reshape(x.shape[0], -1, 2)[:, :, ::-1].reshape(x.shape)


def test_closed_form_equals_the_production_fit():
    draw = simulate_pairs(np.random.default_rng(SEED + 3), 2 * N_PAIRS, **_setup())
    sims = {k: v.reshape(2, 2 * N_PAIRS) for k, v in draw.items()}
    for s in range(2):
        n = 2 * N_PAIRS
        pid = np.array([f"x{i:03d}" for i in range(n)])
        pair = np.array([f"q{i // 2:03d}" for i in range(n)])
        d = pd.DataFrame({"participant_id": np.r_[pid, pid], "wave": ["t0"] * n + ["t1"] * n, "arm": "program",
                          "score": np.r_[sims["pre"][s], sims["post"][s]]})
        h = type("H", (), {"contrast": ("t0", "t1")})()
        P = pd.DataFrame({"participant_id": pid, "pair_id": pair})
        for m in MODS:
            own = pd.Series(sims[m][s], index=pid)
            got = actor_partner_analysis(d, h, own, partner_means(P, own), pd.Series(pair, index=pid), m, "sim")
            assert got["random_effects"] == "group and participant"
            cf = closed_form(sims["post"][s:s + 1] - sims["pre"][s:s + 1], sims[m][s:s + 1], _partner(sims[m][s:s + 1]))
            for j, side in enumerate(("actor", "partner")):
                assert_allclose(got[side]["estimate"], cf["estimate"][0, j], atol=1e-7)
                assert_allclose(got[side]["se"], cf["se"][0, j], rtol=1e-5)
                assert_allclose(got[side]["df"], cf["df"], rtol=1e-3)


@pytest.mark.slow
@pytest.mark.parametrize("moderator", MODS)
def test_recovery_and_coverage_over_1000_cohorts(setup, moderator):
    _, truth, sims = setup
    fit = closed_form(sims["post"] - sims["pre"], sims[moderator], _partner(sims[moderator]))
    lo, hi = stats.binom.ppf([0.0005, 0.9995], N_SIMS, 0.95) / N_SIMS
    for j, side in enumerate(("actor", "partner")):
        target = truth[moderator][side]
        est = fit["estimate"][:, j]
        assert target > 0.02, (moderator, side, target)              # a planted, non-zero moderation
        # recovery: the mean estimate within 3.29 Monte Carlo SEs of the truth (plus the truth's own MC error)
        tol = 3.29 * (est.std(ddof=1) / np.sqrt(N_SIMS) + 0.0025)
        assert abs(est.mean() - target) < tol, (moderator, side, est.mean(), target, tol)
        # the model's SE matches the spread of the estimates (within 10%)
        assert abs(fit["se"][:, j].mean() / est.std(ddof=1) - 1) < 0.1, (moderator, side)
        cover = np.mean((fit["ci_low"][:, j] <= target) & (target <= fit["ci_high"][:, j]))
        assert lo <= cover <= hi, (moderator, side, cover, lo, hi)
