"""Sensitivity analyses: ANCOVA, propensity weighting, JZS Bayes factor, Lord's paradox."""

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from numpy.testing import assert_allclose

import rmstudy as rm
from rmstudy.stats.sensitivity import _wide, ancova, bayes_factor_change, completers, ipw_ancova, sensitivity_analyses


@pytest.fixture(scope="module")
def h1a(demo_cohort, demo_scores):
    h = demo_cohort.study.hypothesis("H1a")
    row, _, _, data = rm.analyse_survey_hypothesis(demo_cohort, demo_scores, h)
    return h, row, data


def test_ancova_equals_least_squares(h1a):
    h, row, data = h1a
    w = _wide(completers(data, "pre", "post"), "pre", "post")
    X = np.column_stack([np.ones(len(w)), (w["arm"] == "program").astype(float), w["pre"]])
    beta, res, *_ = np.linalg.lstsq(X, w["post"].to_numpy(), rcond=None)
    sigma2 = res[0] / (len(w) - 3)
    se = np.sqrt(sigma2 * np.linalg.inv(X.T @ X)[1, 1])
    a = ancova(w)
    assert_allclose([a["estimate"], a["se"]], [beta[1], se], rtol=1e-10)
    assert a["df"] == len(w) - 3


def test_completers_have_both_waves(h1a):
    h, row, data = h1a
    comp = completers(data, "pre", "post")
    assert (comp.groupby("participant_id")["wave"].nunique() == 2).all()
    assert comp["participant_id"].nunique() < data["participant_id"].nunique()


def test_bayes_factor_is_pingouins_jzs_on_change_scores(h1a):
    h, row, data = h1a
    w = _wide(completers(data, "pre", "post"), "pre", "post")
    bf = bayes_factor_change(w)
    ch = w["post"] - w["pre"]
    direct = pg.ttest(ch[w["arm"] == "program"], ch[w["arm"] == "control"], correction=False)
    assert_allclose(bf["bf10"], float(direct["BF10"].iloc[0]), rtol=1e-3)   # pingouin prints BF10 to 4 digits
    # pingouin's documented example (two-sample, t = 3.5, n = 20 + 20): BF10 = 26.743
    assert_allclose(pg.bayesfactor_ttest(3.5, 20, 20), 26.743, atol=1e-3)


def test_ipw_recovers_effect_under_confounding():
    """Joining depends on a covariate that also drives the outcome: weighting removes the bias of a naive
    comparison of post scores."""
    rng = np.random.default_rng(4)
    n = 4000
    x = rng.normal(size=n)
    arm = np.where(rng.random(n) < 1 / (1 + np.exp(-1.5 * x)), "program", "control")
    pre = rng.normal(size=n)
    post = 0.5 * pre + 0.8 * x + 0.3 * (arm == "program") + rng.normal(0, 0.5, n)
    w = pd.DataFrame({"arm": arm, "pre": pre, "post": post, "x": x})
    r = ipw_ancova(w, ["x"])
    assert abs(r["estimate"] - 0.3) < 3 * r["se"]
    naive = ancova(w)                                   # ignores x: biased upwards
    assert naive["estimate"] - 0.3 > 5 * naive["se"]


def test_lords_paradox_is_noted():
    """Groups that differ at baseline and do not change: the change model finds nothing, ANCOVA finds a gap."""
    rng = np.random.default_rng(9)
    rows = []
    for i in range(1000):
        arm = "program" if i < 500 else "control"
        true = rng.normal(1.0 if arm == "program" else 0.0, 1)
        for wave in ("pre", "post"):
            rows.append({"participant_id": f"p{i}", "arm": arm, "wave": wave, "score": true + rng.normal(0, 0.8)})
    data = pd.DataFrame(rows)
    data["wave"] = pd.Categorical(data["wave"], ["pre", "post"], ordered=True)
    tab = rm.mixed_model(data, "score", between_ref="control").set_index("term").loc["arm[program]:wave[post]"]
    primary = {"estimate": tab["estimate"], "se": tab["se"], "df": tab["df"], "p_value": tab["p_value"],
               "n": {"program": {"participants": 500}, "control": {"participants": 500}}}

    class H:
        contrast = ("pre", "post")
        covariates = ()
        cluster = None

    s = sensitivity_analyses(data, primary, H(), None)
    anc = next(r for r in s["rows"] if r["analysis"].startswith("ANCOVA"))
    assert anc["p_value"] < 0.01 and primary["p_value"] > 0.05
    assert s["lords_paradox"] and "Lord's paradox" in s["lords_paradox"]


def test_two_null_estimates_of_opposite_sign_are_no_paradox():
    """Same design without the baseline gap and no effect: ANCOVA and change model both find nothing; their signs
    may differ by chance, which is not Lord's paradox (other_cohort's X1 was called one at p = .80 for both)."""
    from rmstudy.stats import sensitivity as S

    rng = np.random.default_rng(9)
    for seed in range(40):
        rng = np.random.default_rng(seed)
        rows = []
        for i in range(120):
            arm = "program" if i < 60 else "control"
            true = rng.normal(0, 1)
            for wave in ("pre", "post"):
                rows.append({"participant_id": f"p{i}", "arm": arm, "wave": wave, "score": true + rng.normal(0, 0.8)})
        data = pd.DataFrame(rows)
        data["wave"] = pd.Categorical(data["wave"], ["pre", "post"], ordered=True)
        tab = rm.mixed_model(data, "score", between_ref="control").set_index("term").loc["arm[program]:wave[post]"]
        primary = {"estimate": tab["estimate"], "se": tab["se"], "df": tab["df"], "p_value": tab["p_value"],
                   "n": {"program": {"participants": 60}, "control": {"participants": 60}}}

        class H:
            contrast = ("pre", "post")
            covariates = ()
            cluster = None

        s = S.sensitivity_analyses(data, primary, H(), None)
        anc = next(r for r in s["rows"] if r["analysis"].startswith("ANCOVA"))
        if anc["p_value"] > 0.05 and primary["p_value"] > 0.05 and np.sign(anc["estimate"]) != np.sign(tab["estimate"]):
            assert s["lords_paradox"] is None
            return
    pytest.fail("no seed gave two null estimates of opposite sign")


def test_dyad_row_appears_when_pairs_have_two_members(h1a, demo_cohort, demo_scores):
    h = demo_cohort.study.hypothesis("H2")            # engagement: both roles, so programme pairs are dyads
    row, _, _, data = rm.analyse_survey_hypothesis(demo_cohort, demo_scores, h)
    s = sensitivity_analyses(data, row, h, demo_cohort.participants)
    assert any(r["analysis"].startswith("Dyad LMM") for r in s["rows"])
    s1 = sensitivity_analyses(h1a[2], h1a[1], h1a[0], demo_cohort.participants)   # juniors only: no dyads
    assert not any(r["analysis"].startswith("Dyad LMM") for r in s1["rows"])


def test_later_contrast_uses_its_own_baseline(demo_cohort, demo_scores):
    """A contrast that does not start at the first wave must not stop the run (three-wave fixture data)."""
    from conftest import ROOT

    d = pd.read_csv(ROOT / "tests" / "fixtures" / "lmm" / "three_wave.csv")
    d["wave"] = pd.Categorical(d["wave"], ["pre", "post", "follow_up"], ordered=True)
    class H:
        contrast = ("post", "follow_up")
        covariates = ()
        cluster = None

    primary = {"estimate": 0.0, "se": 1.0, "df": 100.0, "p_value": 1.0,
               "n": {"program": {"participants": 300}, "control": {"participants": 300}}}
    s = sensitivity_analyses(d, primary, H(), None)
    comp = next(r for r in s["rows"] if r["analysis"] == "LMM, completers only")
    two = d[d["wave"].isin(["post", "follow_up"])].copy()
    two["wave"] = pd.Categorical(two["wave"].astype(str), ["post", "follow_up"], ordered=True)
    both = two.groupby("participant_id")["wave"].nunique()
    two = two[two["participant_id"].isin(both[both == 2].index)]
    direct = rm.mixed_model(two, "score", between_ref="control").set_index("term").loc["arm[program]:wave[follow_up]"]
    assert_allclose(comp["estimate"], direct["estimate"], rtol=1e-10)
