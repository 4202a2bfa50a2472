"""The random-intercept REML fitter against lme4/lmerTest (tests/reference/make_reference.R)."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from numpy.testing import assert_allclose

import rmstudy as rm
from rmstudy.analysis.hypotheses import analyse_survey_hypothesis
from conftest import REF, load_ref


def _r_name(term: str) -> str:
    """Our term names -> R's coefficient names."""
    if term == "Intercept":
        return "(Intercept)"
    return term.replace("[", "").replace("]", "")


def _check_table(tab: pd.DataFrame, ref_terms: list[dict]):
    ref = {t["term"]: t for t in ref_terms}
    assert sorted(_r_name(t) for t in tab["term"]) == sorted(ref)
    for _, row in tab.iterrows():
        r = ref[_r_name(row["term"])]
        assert_allclose(row["estimate"], r["estimate"], atol=1e-6, err_msg=row["term"])
        assert_allclose(row["se"], r["se"], rtol=1e-5, err_msg=row["term"])
        assert_allclose(row["df"], r["df"], rtol=1e-3, err_msg=row["term"])
        assert_allclose(row["t"], r["t"], rtol=1e-5, err_msg=row["term"])
        assert_allclose(row["p_value"], r["p"], rtol=1e-3, atol=1e-12, err_msg=row["term"])


@pytest.mark.parametrize("hid", sorted(load_ref("lmm_demo.json")["hypotheses"]))
def test_demo_hypotheses_match_lmertest(demo_cohort, demo_scores, hid):
    ref = load_ref("lmm_demo.json")["hypotheses"][hid]
    h = demo_cohort.study.hypothesis(hid)
    row, detail, fit, data = analyse_survey_hypothesis(demo_cohort, demo_scores, h)
    _check_table(pd.DataFrame(detail["terms"]), ref["terms"])
    vc = detail["variance_components"]
    assert_allclose(vc["tau2"], ref["tau2"], rtol=1e-5)
    assert_allclose(vc["sigma2"], ref["sigma2"], rtol=1e-5)
    assert_allclose(vc["reml_criterion"], ref["reml_criterion"], rtol=1e-9)
    assert vc["n_obs"] == ref["n_obs"] and vc["n_groups"] == ref["n_groups"]
    # the hypothesis row is the arm x wave interaction (pre -> post)
    inter = {t["term"]: t for t in ref["terms"]}["armprogram:wavepost"]
    assert_allclose(row["estimate"], inter["estimate"], atol=1e-6)
    assert_allclose(row["se"], inter["se"], rtol=1e-5)
    assert_allclose(row["df"], inter["df"], rtol=1e-3)


def _ds01():
    d = pd.read_csv(REF / "lmm_ds01.csv")
    d["wave"] = pd.Categorical(d["wave"], ["w1", "w2", "w3"], ordered=True)
    return d


def test_unbalanced_three_waves_with_covariate():
    ref = load_ref("lmm_ds01.json")
    tab, fit = rm.mixed_model(_ds01(), "y", "subject", "wave", "arm", between_ref="control", covariates=["x"],
                              return_fit=True)
    _check_table(tab, ref["model"]["terms"])
    assert_allclose(fit.reml_criterion, ref["model"]["reml_criterion"], rtol=1e-9)
    assert_allclose(fit.tau2, ref["model"]["tau2"], rtol=1e-5)


def test_contrast_between_later_waves_matches_contest():
    ref = load_ref("lmm_ds01.json")["contrast"]
    tab, fit = rm.mixed_model(_ds01(), "y", "subject", "wave", "arm", between_ref="control", covariates=["x"],
                              return_fit=True)
    L = np.zeros(len(fit.terms))
    L[fit.terms.index("arm[program]:wave[w3]")] = 1
    L[fit.terms.index("arm[program]:wave[w2]")] = -1
    c = fit.contrast(L)
    assert_allclose(c["estimate"], ref["estimate"], atol=1e-6)
    assert_allclose(c["se"], ref["se"], rtol=1e-5)
    assert_allclose(c["df"], ref["df"], rtol=1e-3)
    assert_allclose(c["p_value"], ref["p"], rtol=1e-3)
    assert_allclose([c["ci_low"], c["ci_high"]], [ref["lower"], ref["upper"]], atol=1e-4)


def test_single_arm_model():
    ref = load_ref("lmm_ds01.json")["single_arm"]
    tab = rm.mixed_model(_ds01(), "y", "subject", "wave", between=None)
    _check_table(tab, ref["terms"])


def test_agrees_with_statsmodels_mixedlm():
    d = _ds01()
    tab, fit = rm.mixed_model(d, "y", "subject", "wave", "arm", between_ref="control", return_fit=True)
    m = smf.mixedlm("y ~ C(arm, Treatment('control')) * wave", d, groups=d["subject"]).fit(reml=True)
    assert_allclose(fit.beta, m.fe_params.to_numpy(), atol=1e-5)
    assert_allclose(fit.sigma2, m.scale, rtol=1e-4)


def test_boundary_fit_is_flagged_singular():
    rng = np.random.default_rng(3)
    n = 200
    d = pd.DataFrame({"s": np.repeat(np.arange(n), 2), "wave": np.tile(["a", "b"], n),
                      "arm": np.repeat(rng.choice(["control", "program"], n), 2)})
    d["y"] = rng.normal(size=2 * n)          # no subject variance at all
    # make the between-subject variance clearly negative-ish: anti-correlate the two waves
    d.loc[d["wave"] == "b", "y"] = -d.loc[d["wave"] == "a", "y"].to_numpy() + rng.normal(0, 0.3, n)
    tab, fit = rm.mixed_model(d, "y", "s", "wave", "arm", return_fit=True)
    assert fit.singular and fit.tau2 == 0
    assert np.isfinite(tab["df"]).all() and (tab["df"] > 0).all()


def test_rank_deficient_design_is_a_clear_error():
    d = pd.DataFrame({"s": [1, 1, 2, 2], "wave": ["a", "b", "a", "b"], "arm": ["control"] * 4, "y": [1.0, 2, 3, 5]})
    d["arm2"] = "program"
    with pytest.raises(ValueError, match="observations cannot estimate|rank deficient"):
        rm.fit_random_intercept(d["y"], np.column_stack([np.ones(4), np.ones(4)]), d["s"])


def test_missing_values_are_refused():
    with pytest.raises(ValueError, match="complete"):
        rm.fit_random_intercept([1.0, np.nan, 2.0, 3.0], np.ones((4, 1)), [1, 1, 2, 2])
