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


# --- published examples and boundaries (issue #17) --------------------------------------------------------------

# Benjamini & Hochberg (1995), section 4: the 15 p-values of a study of myocardial infarction treatments. At q = .05
# BH rejects the four smallest, Holm (and Bonferroni) only three. Adjusted values from R 4.2: p.adjust(p, "BH"/"holm").
BH95_P = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262, 0.5719, 0.6528,
          0.7590, 1.000]
BH95_BH = [0.0015, 0.003, 0.0095, 0.035625, 0.0603, 0.0638571428571429, 0.0638571428571429, 0.0645, 0.0765, 0.486,
           0.581181818181818, 0.714875, 0.753230769230769, 0.813214285714286, 1.0]
BH95_HOLM = [0.0015, 0.0056, 0.0247, 0.114, 0.2211, 0.278, 0.278, 0.278, 0.3213] + [1.0] * 6


def test_benjamini_hochberg_1995_example():
    assert_allclose(benjamini_hochberg(BH95_P), BH95_BH, rtol=1e-12)
    assert int((benjamini_hochberg(BH95_P) < 0.05).sum()) == 4
    # the input order does not matter
    rev = BH95_P[::-1]
    assert_allclose(benjamini_hochberg(rev), BH95_BH[::-1], rtol=1e-12)


def test_holm_on_the_1995_example():
    assert_allclose(holm(BH95_P), BH95_HOLM, rtol=1e-12)
    assert int((holm(BH95_P) < 0.05).sum()) == 3
    assert_allclose(holm(BH95_P[::-1]), BH95_HOLM[::-1], rtol=1e-12)


def test_single_p_is_unchanged_and_caps_at_one():
    assert_allclose(holm([0.03]), [0.03])
    assert_allclose(benjamini_hochberg([0.03]), [0.03])
    assert_allclose(holm([0.6, 0.7]), [1.0, 1.0])          # 2 * .6 and max(1.2, .7), capped
    assert_allclose(holm([0.4, 0.7]), [0.8, 0.8])
    assert_allclose(benjamini_hochberg([0.6, 0.7]), [0.7, 0.7])


def test_ties_get_equal_adjusted_values():
    p = [0.02, 0.01, 0.02, 0.2, 0.01]
    # Holm: sorted .01 .01 .02 .02 .2 -> 5*.01 4*.01 3*.02 2*.02 .2 -> running max .05 .05 .06 .06 .2
    assert_allclose(holm(p), [0.06, 0.05, 0.06, 0.2, 0.05])
    # BH: .2*5/5 = .2; .02*5/4 = .025; .02*5/3 = .0333 -> .025; .01*5/2 = .025; .01*5/1 = .05 -> .025
    assert_allclose(benjamini_hochberg(p), [0.025, 0.025, 0.025, 0.2, 0.025])


def test_returns_a_new_float_array_of_the_same_length():
    p = [0.04, 0.01, 0.03]
    for f in (holm, benjamini_hochberg):
        out = f(p)
        assert isinstance(out, np.ndarray) and out.dtype == float and out.shape == (3,)
        assert p == [0.04, 0.01, 0.03]
    assert_allclose(holm(np.array([0.04, 0.01, 0.03])), [0.06, 0.03, 0.06])
    assert_allclose(benjamini_hochberg(np.array([0.04, 0.01, 0.03])), [0.04, 0.03, 0.04])
