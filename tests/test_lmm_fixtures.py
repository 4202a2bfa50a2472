"""mixed_model against lme4/lmerTest on a three-wave fixture with ~40% attrition, a single-arm fixture
and a dyad fixture (tests/reference/make_lmm_reference.R)."""

import numpy as np
import pandas as pd
from numpy.testing import assert_allclose

import rmstudy as rm
from conftest import ROOT, load_ref

REF = load_ref("lmm_fixtures.json")
FIX = ROOT / "tests" / "fixtures" / "lmm"


def _load(name, waves):
    d = pd.read_csv(FIX / f"{name}.csv")
    d["wave"] = pd.Categorical(d["wave"], waves, ordered=True)
    return d


def _name(term):
    return "(Intercept)" if term == "Intercept" else term.replace("[", "").replace("]", "")


def _check(tab, ref_terms, atol=1e-6, se_rtol=1e-5, df_rtol=1e-3):
    got = tab.assign(r=tab["term"].map(_name)).set_index("r")
    assert sorted(got.index) == sorted(t["term"] for t in ref_terms)
    for t in ref_terms:
        g = got.loc[t["term"]]
        assert_allclose(g["estimate"], t["estimate"], atol=atol, err_msg=t["term"])
        assert_allclose(g["se"], t["se"], rtol=se_rtol, err_msg=t["term"])
        assert_allclose(g["df"], t["df"], rtol=df_rtol, err_msg=t["term"])


def test_three_wave_with_attrition():
    ref = REF["three_wave"]
    d = _load("three_wave", ref["wave_levels"])
    assert d.groupby("wave", observed=True).size()["follow_up"] < 0.65 * 600      # ~40% attrition by the last wave
    tab, fit = rm.mixed_model(d, "score", between_ref="control", return_fit=True)
    _check(tab, ref["model"]["terms"])
    assert_allclose(fit.reml_criterion, ref["model"]["reml_criterion"], rtol=1e-9)
    c = ref["contrast"]
    L = np.zeros(len(fit.terms))
    L[fit.terms.index("arm[program]:wave[follow_up]")] = 1
    L[fit.terms.index("arm[program]:wave[post]")] = -1
    got = fit.contrast(L)
    assert_allclose([got["estimate"], got["se"]], [c["estimate"], c["se"]], rtol=1e-5, atol=1e-6)
    assert_allclose(got["df"], c["df"], rtol=1e-3)


def test_single_arm():
    ref = REF["single_arm"]
    d = _load("single_arm", ref["wave_levels"])
    assert set(d["arm"]) == {"program"}
    _check(rm.mixed_model(d, "score", between=None), ref["model"]["terms"])


def test_dyad_pair_and_participant_intercepts():
    ref = REF["dyad"]
    d = _load("dyad", ref["wave_levels"])
    tight = ref["model_tight_bobyqa"]
    tab, fit = rm.mixed_model(d, "score", between_ref="control", cluster="pair_id", return_fit=True)
    _check(tab, tight["terms"], atol=1e-6, se_rtol=1e-5, df_rtol=1e-4)
    vc = fit.variance_components()
    assert_allclose([vc["tau2_pair"], vc["tau2_participant"], vc["sigma2"]],
                    [tight["variance_components"]["pair_id"], tight["variance_components"]["participant_id"],
                     tight["sigma2"]], rtol=5e-5)   # the optimum's last digits move with the BLAS build (1.8e-5 seen)
    assert_allclose(fit.reml_criterion, tight["reml_criterion"], rtol=1e-10)
    # lme4's default optimizer stops early: we still meet the issue's 1e-4 against its default fit
    _check(tab, ref["model"]["terms"], atol=1e-4, se_rtol=1e-4, df_rtol=1e-3)
    _check(rm.mixed_model(d, "score", between_ref="control"), ref["model_participant_only"]["terms"])


def test_empty_cluster_means_singleton():
    ref = REF["dyad"]
    d = _load("dyad", ref["wave_levels"])
    d2 = d.assign(pair_id=np.where(d["arm"] == "control", "", d["pair_id"]))     # the cohort contract's form
    a = rm.mixed_model(d, "score", between_ref="control", cluster="pair_id")
    b = rm.mixed_model(d2, "score", between_ref="control", cluster="pair_id")
    assert_allclose(a["estimate"], b["estimate"], rtol=1e-10)
    assert_allclose(a["se"], b["se"], rtol=1e-8)
