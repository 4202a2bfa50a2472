"""The MMRM (stats/models/mmrm.py, issue #12) against R: nlme::gls(corSymm + varIdent, REML) and emmeans'
Satterthwaite df on the four-wave trial fixture (tests/reference/mmrm/make_mmrm_reference.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rmstudy.contract.cohort import load_cohort
from rmstudy.contract.population import select_population
from rmstudy.errors import ModelError
from rmstudy.stats.models.mmrm import _natural, _reml, cell_vector, joint_test, mmrm
from rmstudy.stats.scoring import long_scores, score_scales

HERE = Path(__file__).resolve().parent
TRIAL = HERE / "fixtures" / "trial_cohort"
REF = json.loads((HERE / "reference" / "mmrm" / "mmrm_trial.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def fits():
    c = load_cohort(TRIAL)
    sc = score_scales(c.responses, c.codebook)
    waves = list(c.study.waves)
    out = {}
    for r in REF["fits"]:
        h = c.study.hypothesis(r["id"])
        pop = select_population(c.participants, h.population, h.id)
        long = long_scores(sc, pop, h.outcome).dropna(subset=["score"])
        long = long[long["participant_id"].isin(pop["participant_id"])].assign(wave=lambda d: d["wave"].astype(str))
        tab, fit = mmrm(long, "score", between_ref="control", within_order=waves, return_fit=True)
        out[r["id"]] = (r, tab, fit, waves, long)
    return out


def _trajectory_vectors(fit, waves, later):
    return [cell_vector(fit.terms, w, "program") - cell_vector(fit.terms, w, "control")
            - cell_vector(fit.terms, waves[0], "program") + cell_vector(fit.terms, waves[0], "control") for w in later]


@pytest.mark.parametrize("hid", [r["id"] for r in REF["fits"]])
def test_estimates_ses_and_covariance_match_nlme(fits, hid):
    r, tab, fit, _, long = fits[hid]
    ref = pd.DataFrame(r["coef"])
    assert len(tab) == len(ref) == 8 and fit.n_obs == r["n_obs"] == len(long)
    assert np.abs(tab["estimate"].to_numpy() - ref["estimate"].to_numpy()).max() < 1e-4
    assert np.abs(tab["se"].to_numpy() - ref["se"].to_numpy()).max() < 1e-4
    np.testing.assert_allclose(fit.sigma, np.array(r["covariance"]), rtol=1e-4)
    # nlme's REML log-likelihood (R stopped a hair above the optimum; ours is never worse)
    assert -2 * r["logLik"] - 1e-5 < fit.reml_criterion < -2 * r["logLik"] + 1e-6


@pytest.mark.parametrize("hid", [r["id"] for r in REF["fits"]])
def test_model_means_trajectory_and_satterthwaite_df_match_emmeans(fits, hid):
    r, _, fit, waves, _ = fits[hid]
    for m in r["model_means"]:
        c = fit.contrast(cell_vector(fit.terms, m["wave"], m["arm"]))
        assert abs(c["estimate"] - m["estimate"]) < 1e-4 and abs(c["se"] - m["se"]) < 1e-4
        assert c["df"] == pytest.approx(m["df"], rel=1e-3)            # emmeans, apVar from numDeriv's Hessian
        assert c["df"] == pytest.approx(m["df_exact"], rel=1e-3)      # the R script's own formula
    later = [t["wave"] for t in r["trajectory"]]
    for L, t in zip(_trajectory_vectors(fit, waves, later), r["trajectory"]):
        c = fit.contrast(L)
        assert abs(c["estimate"] - t["estimate"]) < 1e-4 and abs(c["se"] - t["se"]) < 1e-4
        assert c["df"] == pytest.approx(t["df"], rel=1e-3)
        assert c["df"] == pytest.approx(t["df_exact"], rel=1e-3)


@pytest.mark.parametrize("hid", [r["id"] for r in REF["fits"]])
def test_joint_test_of_arm_by_wave_matches_emmeans(fits, hid):
    r, _, fit, waves, _ = fits[hid]
    jt = joint_test(fit, _trajectory_vectors(fit, waves, waves[1:]))
    ref = r["joint_test"]
    assert jt["df1"] == ref["df1"] == 3
    assert jt["F"] == pytest.approx(ref["F"], abs=6e-4)               # emmeans prints F to 3 decimals
    assert jt["df2"] == pytest.approx(ref["df2"], rel=1e-3)           # emmeans prints df2 to 2 decimals
    assert jt["df2"] == pytest.approx(ref["df2_exact"], rel=1e-3)
    assert 0 < jt["p_value"] < 0.05


@pytest.mark.parametrize("hid", [r["id"] for r in REF["fits"]])
def test_reference_df_agree_between_emmeans_and_the_scripts_own_formula(hid):
    """The stored reference itself: emmeans' df (apVar from numDeriv's Hessian in nlme's parameters) and the
    script's df_exact (its own REML log-likelihood in other parameters) are two independent computations of the
    same Satterthwaite df and agree (nlme's stock apVar, df_fdhess, kept for comparison, is off by up to 4.2%)."""
    (r,) = [r for r in REF["fits"] if r["id"] == hid]
    rows = r["model_means"] + r["trajectory"]
    assert max(abs(x["df"] / x["df_exact"] - 1) for x in rows) < 1e-4
    assert r["joint_test"]["df2"] == pytest.approx(r["joint_test"]["df2_exact"], abs=0.006)   # 2 decimals


def test_gradient_of_the_reml_criterion_is_exact():
    rng = np.random.default_rng(3)
    fit = mmrm(_simulated(rng, 60, dropout=0.3), "score", between_ref="control", return_fit=True)[1]
    S = fit.sigma * 1.1 + 0.2
    _, G = _reml(S, fit._pats, len(fit.beta), fit.n_obs, grad=True)
    for a, b in ((0, 0), (0, 2), (1, 2)):
        E = np.zeros_like(S)
        E[a, b] = E[b, a] = 1e-5
        num = (_reml(S + E, fit._pats, len(fit.beta), fit.n_obs) - _reml(S - E, fit._pats, len(fit.beta), fit.n_obs)) / 2e-5
        assert num == pytest.approx(G[a, b] * (1 if a == b else 2), rel=1e-5)
    assert np.allclose(_natural(np.r_[0.5, 0.2, 0.1, 0.0, 0.0, 0.0], 3), np.array([[1, .5, .2], [.5, 1, .1], [.2, .1, 1]]))


def _simulated(rng, n, dropout=0.0):
    waves = ["w1", "w2", "w3"]
    C = np.array([[1.0, 0.6, 0.4], [0.6, 1.5, 0.7], [0.4, 0.7, 2.0]])
    arm = np.where(np.arange(n) % 2 == 0, "program", "control")
    y = rng.multivariate_normal(np.zeros(3), C, size=n) + (arm == "program")[:, None] * np.array([0, 0.3, 0.6])
    d = pd.DataFrame({"participant_id": np.repeat([f"p{i}" for i in range(n)], 3), "wave": waves * n,
                      "arm": np.repeat(arm, 3), "score": y.ravel()})
    gone = rng.random(n) < dropout
    d.loc[np.repeat(gone, 3) & (d["wave"] == "w3").to_numpy(), "score"] = np.nan
    return d


def test_complete_data_give_the_difference_in_mean_change():
    """With every wave observed the MMRM's arm x wave estimate is the difference in mean change, and its
    covariance is the sample covariance of the residuals (divided by N - p per cell structure)."""
    d = _simulated(np.random.default_rng(7), 80)
    tab = mmrm(d, "score", between_ref="control").set_index("term")
    w = d.pivot(index="participant_id", columns="wave", values="score").join(
        d.drop_duplicates("participant_id").set_index("participant_id")["arm"])
    ch = w["w3"] - w["w1"]
    want = ch[w["arm"] == "program"].mean() - ch[w["arm"] == "control"].mean()
    assert tab.loc["arm[program]:wave[w3]", "estimate"] == pytest.approx(want, abs=1e-9)
    sd = np.sqrt((ch[w["arm"] == "program"].var() + ch[w["arm"] == "control"].var()) / 40)
    assert tab.loc["arm[program]:wave[w3]", "se"] == pytest.approx(sd, rel=1e-4)
    assert tab.loc["arm[program]:wave[w3]", "df"] == pytest.approx(78, rel=1e-3)   # complete data: n - 2


def test_text_waves_need_their_order():
    d = _simulated(np.random.default_rng(1), 30).replace({"wave": {"w1": "pre", "w2": "m2", "w3": "m12"}})
    with pytest.raises(ModelError, match="within_order"):
        mmrm(d, "score", between_ref="control")
    tab = mmrm(d, "score", between_ref="control", within_order=["pre", "m2", "m12"])
    assert list(tab["term"])[-2:] == ["arm[program]:wave[m2]", "arm[program]:wave[m12]"]


@pytest.mark.e2e
def test_trial_with_model_mmrm_runs_end_to_end_and_matches_r(tmp_path):
    """The trial fixture with ``model: mmrm`` for T1 through ``rmstudy run``: results.json's row, trajectory, model
    means and joint test are the nlme/emmeans values; the random-intercept LMM is a sensitivity row; the tipping
    point is recorded with its data."""
    import shutil

    import yaml

    from rmstudy.cli import main

    d = tmp_path / "trial"
    shutil.copytree(TRIAL, d)
    plan = yaml.safe_load((d / "study.yaml").read_text(encoding="utf-8"))
    plan["hypotheses"][0]["model"] = "mmrm"
    (d / "study.yaml").write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        assert main(["run", str(d), "--out", str(tmp_path / "run")]) == 0
    res = json.loads((tmp_path / "run" / "results.json").read_text(encoding="utf-8"))
    (t1,) = [h for h in res["hypotheses"] if h["id"] == "T1"]
    (ref,) = [r for r in REF["fits"] if r["id"] == "T1"]
    assert t1["method"].startswith("MMRM")
    (want,) = [t for t in ref["trajectory"] if t["wave"] == t1["contrast"][1]]
    assert abs(t1["estimate"] - want["estimate"]) < 1e-4 and abs(t1["se"] - want["se"]) < 1e-4
    assert t1["df"] == pytest.approx(want["df"], rel=1e-3)
    for got, exp in zip(t1["trajectory"], ref["trajectory"]):
        assert got["wave"] == exp["wave"] and abs(got["estimate"] - exp["estimate"]) < 1e-4
    assert len(t1["model_means"]) == 8 and t1["joint_test"]["df1"] == 3
    assert t1["joint_test"]["F"] == pytest.approx(ref["joint_test"]["F"], abs=6e-4)
    sens = res["sensitivity"]["T1"]
    names = [r["analysis"] for r in sens["rows"]]
    assert names[0] == "Primary: MMRM, all available data" and names[1].startswith("LMM (random intercept")
    assert sens["tipping_point"]["tipping"]["programme"] is not None
    (t2,) = [h for h in res["hypotheses"] if h["id"] == "T2"]
    assert t2["method"].startswith("LMM") and t2["trajectory"] and t2["joint_test"]["df1"] == 3


def test_validate_refuses_an_mmrm_whose_waves_barely_overlap(tmp_path):
    import shutil

    import yaml

    from rmstudy.checks.validate import validate

    d = tmp_path / "trial"
    shutil.copytree(TRIAL, d)
    plan = yaml.safe_load((d / "study.yaml").read_text(encoding="utf-8"))
    plan["hypotheses"][0]["model"] = "mmrm"
    (d / "study.yaml").write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    assert validate(d).ok                                           # the fixture itself supports the MMRM
    R = pd.read_csv(d / "responses.csv", dtype=str)
    at6 = set(R.loc[R["wave"] == "month6", "participant_id"])
    keep = sorted(at6)[:2]                                          # two answer both month6 and month12
    R = R[~((R["wave"] == "month12") & R["participant_id"].isin(at6 - set(keep)))]
    R.to_csv(d / "responses.csv", index=False)
    errs = validate(d).errors
    assert errs and all(e.column == "hypotheses.0.model" for e in errs)
    assert any("answered both 'month6' and 'month12'" in e.message and "only 2 participant" in e.message
               for e in errs)
    assert "use model: lmm for T1" in errs[0].fix


def test_joint_test_counts_a_repeated_row_once():
    """Rows [a, a, b] gave df1 = 1 (QR without pivoting kept the wrong columns); they are the hypothesis [a, b]."""
    from types import SimpleNamespace

    from rmstudy.stats.models.mmrm import joint_test

    rng = np.random.default_rng(4)
    A = rng.normal(size=(4, 4))
    fit = SimpleNamespace(beta=rng.normal(size=4), cov_beta=A @ A.T + np.eye(4), satterthwaite_df=lambda q: 30.0)
    a, b = np.array([0, 1.0, 0, 0]), np.array([0, 0, 1.0, -1.0])
    want = joint_test(fit, [a, b])
    got = joint_test(fit, [a, a, b])
    assert got["df1"] == want["df1"] == 2
    assert got["F"] == pytest.approx(want["F"], rel=1e-10)


def test_a_default_lmm_plan_whose_waves_barely_overlap_still_runs(tmp_path):
    """The MMRM is fitted beside every LMM with three or more waves; with two waves barely overlapping it crashed
    the whole hypothesis (TypeError inside the numerical Hessian; LinAlgError with none). The overlap rule now lives
    in fit_mmrm (validate asks the same function), and the sensitivity analyses say the other model could not be
    fitted."""
    import shutil

    from rmstudy.analysis.hypotheses import analyse_survey
    from rmstudy.checks.validate import validate
    from rmstudy.stats.models.mmrm import fit_mmrm, sparse_wave_pairs

    d = tmp_path / "trial"
    shutil.copytree(TRIAL, d)
    R = pd.read_csv(d / "responses.csv", dtype=str)
    P = pd.read_csv(d / "participants.csv", dtype=str).set_index("participant_id")["arm"]
    at12 = R.loc[R["wave"] == "month12", "participant_id"]
    keep = {sorted(at12[at12.map(P) == arm])[0] for arm in ("program", "control")}   # one per arm has both
    R = R[~((R["wave"] == "month6") & R["participant_id"].isin(set(at12) - keep))]
    R.to_csv(d / "responses.csv", index=False)
    assert validate(d).ok                                   # the plan asks for the LMM, which needs no pair covariance
    c = load_cohort(d)
    sc = score_scales(c.responses, c.codebook)
    a = analyse_survey(c, sc, c.study.hypothesis("T1"))
    rows = a.sensitivity["rows"]
    assert rows[0]["analysis"].startswith("Primary: LMM") and "could not be fitted" in rows[0]["note"]
    assert "only 2 subject(s) have both" in rows[0]["note"]
    assert not any(r["analysis"].startswith("MMRM") for r in rows)
    assert sparse_wave_pairs(["a", "b", "a"], ["w1", "w1", "w2"], order=["w1", "w2"]) == [("w1", "w2", 1)]
    with pytest.raises(ModelError, match="only 1 subject"):
        fit_mmrm(np.arange(8.0), np.ones((8, 1)), list("abcdeafg"), [0, 0, 0, 0, 0, 1, 1, 1], 2)
