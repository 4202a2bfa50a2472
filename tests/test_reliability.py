"""Cronbach's alpha and omega against psych::alpha / psych::omega."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import rmstudy as rm
from conftest import load_ref

REF = load_ref("alpha_demo.json")["alpha"]


@pytest.fixture(scope="module")
def table(demo_cohort):
    return rm.reliability_table(demo_cohort.responses, demo_cohort.participants, demo_cohort.codebook,
                                demo_cohort.study.waves).set_index(["scale", "wave", "role"])


@pytest.mark.parametrize("ref", REF, ids=lambda r: f"{r['scale']}-{r['wave']}-{r['role']}")
def test_alpha_matches_psych(table, ref):
    row = table.loc[(ref["scale"], ref["wave"], ref["role"])]
    assert row["n"] == ref["n_rows"] == ref["feldt"]["n_obs_used"]
    assert_allclose(row["alpha"], ref["raw_alpha"], atol=1e-6)
    assert_allclose(row["alpha_std"], ref["std_alpha"], atol=1e-6)
    assert_allclose(row["average_r"], ref["average_r"], atol=1e-6)
    assert_allclose([row["alpha_ci_low"], row["alpha_ci_high"]], [ref["feldt"]["lower"], ref["feldt"]["upper"]], atol=1e-6)
    assert_allclose(row["omega"], ref["omega_tot"], atol=1e-3)


def test_fixture_has_missing_items():
    # the comparison above is only meaningful if psych's pairwise policy was exercised
    assert all(r["n_complete_rows"] < r["n_rows"] for r in REF)


def test_alpha_of_identical_items_is_one_and_of_independent_items_near_zero():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 1))
    same = pd.DataFrame(np.repeat(x, 4, axis=1))
    assert_allclose(rm.cronbach_alpha(same)["alpha"], 1.0)
    indep = pd.DataFrame(rng.normal(size=(5000, 5)))
    assert abs(rm.cronbach_alpha(indep)["alpha"]) < 0.05
