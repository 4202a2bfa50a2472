import numpy as np
from numpy.testing import assert_allclose
from statsmodels.stats.multitest import multipletests

from rmstudy.stats.multiplicity import benjamini_hochberg, holm
from conftest import load_ref

REF = load_ref("p_adjust.json")


def test_holm_matches_r():
    assert_allclose(holm(REF["p"]), REF["holm"], rtol=1e-12)


def test_bh_matches_r():
    assert_allclose(benjamini_hochberg(REF["p"]), REF["BH"], rtol=1e-12)


def test_agree_with_statsmodels_on_random_vectors():
    rng = np.random.default_rng(5)
    for _ in range(50):
        p = rng.uniform(0, 1, rng.integers(1, 12)) ** 3
        assert_allclose(holm(p), multipletests(p, method="holm")[1])
        assert_allclose(benjamini_hochberg(p), multipletests(p, method="fdr_bh")[1])
