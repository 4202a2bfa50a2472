"""Delta-adjusted multiple imputation (stats/tipping.py, issue #12) against R ``mice`` on the trial fixture
(tests/reference/mmrm/make_tipping_reference.R), and its MAR case against the likelihood (primary) result."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rmstudy.analysis.hypotheses import analyse_survey_hypothesis
from rmstudy.contract.cohort import load_cohort
from rmstudy.stats.scoring import score_scales
from rmstudy.stats.tipping import impute_norm, pool_rubin, tipping_point

HERE = Path(__file__).resolve().parent
REF = json.loads((HERE / "reference" / "mmrm" / "tipping_trial.json").read_text(encoding="utf-8"))
M = 1000


@pytest.fixture(scope="module")
def trial():
    c = load_cohort(HERE / "fixtures" / "trial_cohort")
    h = c.study.hypothesis(REF["id"])
    row, _, _, data = analyse_survey_hypothesis(c, score_scales(c.responses, c.codebook), h)
    waves = list(c.study.waves)
    # sd = 6 makes the grid R's: 0, -1.5, ..., -12 (the plan expects a decrease; MAR is not significant)
    tp = tipping_point(data, *h.contrast, waves, h.expected_sign, 6.0, m=M, seed=20261203)
    return {"row": row, "data": data, "waves": waves, "h": h, "tp": tp}


def _mc(b_py: float, b_r: float) -> float:
    """SE of the difference of two independent MI means (Monte-Carlo error of each)."""
    return float(np.sqrt(b_py / M + b_r / REF["m"]))


def test_same_dropouts_as_r(trial):
    tp = trial["tp"]
    assert tp["dropouts"] == REF["dropouts"] and sum(tp["participants"].values()) == REF["n"]


@pytest.mark.parametrize("scenario", ["programme", "both"])
def test_grid_matches_mice_within_monte_carlo_error(trial, scenario):
    ours = [g for g in trial["tp"]["grid"] if g["scenario"] == scenario]
    theirs = REF["grid"][scenario]
    assert [g["delta"] for g in ours] == pytest.approx([g["delta"] for g in theirs])
    b_py = trial["tp"]["b_between"]
    for a, r in zip(ours, theirs):
        assert abs(a["estimate"] - r["estimate"]) < 4 * _mc(b_py, r["b"])
        assert a["se"] == pytest.approx(r["se"], rel=0.08)
        assert a["df"] == pytest.approx(r["df"], rel=0.25)


def test_tipping_point_matches_mice(trial):
    tp = trial["tp"]
    assert tp["significant_under_mar"] is False
    # the programme's dropouts would need to score this much lower (better) for p to reach .05
    assert tp["tipping"]["programme"] == pytest.approx(REF["tipping_programme"], abs=1.5)
    assert tp["tipping"]["programme"] < 0
    assert tp["tipping"]["both"] is None            # shifting both arms barely moves the difference here


def test_mar_case_agrees_with_the_likelihood_result(trial):
    mar, row = trial["tp"]["mar"], trial["row"]
    assert abs(mar["estimate"] - row.estimate) < 0.25 * row.se
    assert row.se < mar["se"] < 1.5 * row.se                  # MI under MAR is not more precise than the likelihood


def test_the_shift_moves_the_estimate_by_the_dropout_share(trial):
    tp = trial["tp"]
    share = tp["dropouts"]["program"] / tp["participants"]["program"]
    share_c = tp["dropouts"]["control"] / tp["participants"]["control"]
    for g in tp["grid"]:
        slope = share if g["scenario"] == "programme" else share - share_c
        assert g["estimate"] == pytest.approx(tp["mar"]["estimate"] + g["delta"] * slope, abs=1e-9)


def test_complete_data_need_no_imputation():
    rng = np.random.default_rng(4)
    n = 40
    d = pd.DataFrame({"participant_id": np.repeat(np.arange(n), 2), "wave": ["pre", "post"] * n,
                      "arm": np.repeat(np.where(np.arange(n) < 20, "program", "control"), 2),
                      "score": rng.normal(size=2 * n)})
    tp = tipping_point(d, "pre", "post", ["pre", "post"], 1, 1.0, m=20, seed=1)
    w = d.pivot(index="participant_id", columns="wave", values="score")
    ch = (w["post"] - w["pre"]).to_numpy()
    assert tp["mar"]["estimate"] == pytest.approx(ch[:20].mean() - ch[20:].mean(), abs=1e-12)
    assert tp["tipping"] == {"programme": None, "both": None} and tp["b_between"] == 0


def test_rubins_rules_by_hand():
    q, u = np.array([1.0, 1.2, 0.8, 1.1]), np.array([0.04, 0.05, 0.045, 0.05])
    r = pool_rubin(q, u, dfcom=50)
    b, ubar = q.var(ddof=1), u.mean()
    t = ubar + 1.25 * b
    lam = 1.25 * b / t
    df_old, df_obs = 3 / lam**2, 51 / 53 * 50 * (1 - lam)
    assert r["se"] == pytest.approx(np.sqrt(t)) and r["df"] == pytest.approx(df_old * df_obs / (df_old + df_obs))


def test_the_run_records_the_tipping_point_with_its_data():
    from rmstudy.analysis.hypotheses import analyse_survey

    c = load_cohort(HERE / "fixtures" / "trial_cohort")
    a = analyse_survey(c, score_scales(c.responses, c.codebook), c.study.hypothesis("T1"))
    tp = a.sensitivity["tipping_point"]
    assert "imputed" in tp["data"] and tp["likelihood"]["estimate"] == a.row.estimate and tp["m"] == 100
    again = analyse_survey(c, score_scales(c.responses, c.codebook), c.study.hypothesis("T1"))
    assert again.sensitivity["tipping_point"]["tipping"] == tp["tipping"]          # seeded: a rerun agrees
    assert all("data" in r for r in a.sensitivity["rows"])


def test_pool_rubin_equals_mice_pool_scalar():
    """fmi was (lambda * df + 2) / (df + 3) and differed from mice (0.4937 vs 0.5281); tests/reference/mmrm/
    make_pool_scalar_reference.R."""
    import json
    from pathlib import Path

    import numpy as np

    from rmstudy.stats.tipping import pool_rubin

    ref = json.loads((Path(__file__).parent / "reference" / "mmrm" / "pool_scalar.json").read_text())
    r = pool_rubin(np.array(ref["q"]), np.array(ref["u"]), dfcom=ref["dfcom"])
    assert r["estimate"] == pytest.approx(ref["qbar"], abs=1e-12)
    assert r["se"] == pytest.approx(ref["t"] ** 0.5, rel=1e-9)
    assert r["df"] == pytest.approx(ref["df"], rel=1e-9)
    assert r["fmi"] == pytest.approx(ref["fmi"], rel=1e-9)


def _plain_impute_norm(Y, m, rng, maxit):
    """mice's ``norm`` chained equations written plainly: one least-squares fit per imputation over every row
    observed at the wave, with the random draws taken in the same calls and order as ``impute_norm``."""
    n, T = Y.shape
    miss = np.isnan(Y)
    Z = np.repeat(Y[None], m, axis=0)
    for col in range(T):
        if miss[:, col].any():
            Z[:, miss[:, col], col] = rng.choice(Y[~miss[:, col], col], size=(m, int(miss[:, col].sum())))
    incomplete = np.flatnonzero(miss.any(axis=0))
    for _ in range(maxit if len(incomplete) > 1 else 1):
        for j in incomplete:
            ry, others = ~miss[:, j], [c for c in range(T) if c != j]
            p = len(others) + 1
            coef, V, rss = [], [], []
            for k in range(m):
                X = np.column_stack([np.ones(int(ry.sum())), Z[k][ry][:, others]])
                xtx = X.T @ X
                v = np.linalg.inv(xtx + np.diag(np.diag(xtx)) * 1e-5)
                V.append((v + v.T) / 2)
                coef.append(V[-1] @ X.T @ Y[ry, j])
                rss.append(float(((Y[ry, j] - X @ coef[-1]) ** 2).sum()))
            sig = np.sqrt(np.array(rss) / rng.chisquare(max(int(ry.sum()) - p, 1), size=m))
            noise = rng.standard_normal((m, p, 1))
            beta = [coef[k] + np.linalg.cholesky(V[k]) @ noise[k, :, 0] * sig[k] for k in range(m)]
            e = rng.standard_normal((m, int((~ry).sum())))
            for k in range(m):
                X = np.column_stack([np.ones(int((~ry).sum())), Z[k][~ry][:, others]])
                Z[k, ~ry, j] = X @ beta[k] + e[k] * sig[k]
    return Z


@pytest.mark.parametrize("T, n, share, seed", [(2, 60, 0.3, 1), (3, 200, 0.2, 2), (4, 150, 0.35, 3), (2, 9, 0.3, 4)])
def test_impute_norm_equals_the_plain_per_imputation_fits(T, n, share, seed):
    # impute_norm sums the rows whose predictors were observed once and adds the imputed ones per imputation;
    # the same seed must give what a fit per imputation over every row gives
    g = np.random.default_rng(seed)
    Y = g.normal(3, 1, (n, T)) + g.normal(0, 1, (n, 1))
    gone = g.random((n, T)) < share
    gone[0] = False
    Y[gone] = np.nan
    ours = impute_norm(Y, 25, np.random.default_rng(seed + 10), maxit=4)
    plain = _plain_impute_norm(Y, 25, np.random.default_rng(seed + 10), maxit=4)
    assert ours.shape == plain.shape == (25, n, T)
    assert np.array_equal(ours[:, ~gone], plain[:, ~gone])
    assert np.abs(ours - plain).max() < 1e-9
    assert not np.isnan(ours).any() and ours[:, gone].std(axis=0).min() > 0.01   # drawn, differently per imputation
