"""stats/models/mixed.py details the lme4 comparisons do not reach (issue #17 mutation run): the Satterthwaite df of
a boundary (singular) fit, the wave factor's type, the rank-deficiency message."""

import numpy as np
import pandas as pd
import pytest

import rmstudy as rm
from rmstudy.errors import ModelError
from rmstudy.stats.models.mixed import ordered_within


def _boundary_data(scale):
    # test_mixed's boundary case: the two waves anti-correlated, so the participant variance is estimated at 0
    rng = np.random.default_rng(3)
    n = 200
    d = pd.DataFrame({"s": np.repeat(np.arange(n), 2), "wave": np.tile(["a", "b"], n),
                      "arm": np.repeat(rng.choice(["control", "program"], n), 2)})
    d["y"] = rng.normal(size=2 * n)
    d.loc[d["wave"] == "b", "y"] = -d.loc[d["wave"] == "a", "y"].to_numpy() + rng.normal(0, 0.3, n)
    d["y"] *= scale
    return d


@pytest.mark.parametrize("scale", [1.0, 1000.0, 0.001])
def test_a_boundary_fit_has_the_residual_df_at_any_scale(scale):
    # with the participant variance at 0 only sigma2 is free: Var(L'beta) = sigma2 c, its derivative c and
    # Var(sigma2) = 2 sigma2^2 / (N - p), so Satterthwaite's 2 Var^2 / (grad^2 Var(sigma2)) is N - p exactly,
    # whatever the outcome's unit
    d = _boundary_data(scale)
    tab, fit = rm.mixed_model(d, "y", "s", "wave", "arm", return_fit=True)
    assert fit.singular and fit.tau2 == 0
    assert tab["df"].to_numpy() == pytest.approx(np.full(4, len(d) - 4), rel=1e-6)


def test_within_order_gives_an_ordered_categorical():
    w = ordered_within(pd.Series(["m12", "pre", "m2", None]), ["pre", "m2", "m12"])
    assert w.cat.ordered and w.cat.categories.tolist() == ["pre", "m2", "m12"]
    assert w.tolist()[:3] == ["m12", "pre", "m2"] and pd.isna(w.iloc[3])
    assert w.min() == "pre" and w.max() == "m12"            # compared in time order, not as text


def test_rank_deficient_design_names_the_likely_cause():
    with pytest.raises(ModelError) as err:
        rm.fit_random_intercept([1.0, 2.0, 3.0, 5.0], np.column_stack([np.ones(4), np.ones(4)]), [1, 1, 2, 2])
    assert str(err.value) == ("fit_random_intercept: the fixed-effects design is rank deficient (an arm or wave has no "
                              "observations in this population?)")


def _one_way(seed, k=8, n=3):
    rng = np.random.default_rng(seed)
    y = np.repeat(rng.normal(0, 0.3, k), n) + rng.normal(0, 1, k * n)
    m = y.reshape(k, n).mean(1)
    msw = ((y.reshape(k, n) - m[:, None]) ** 2).sum() / (k * (n - 1))
    msb = n * ((m - y.mean()) ** 2).sum() / (k - 1)
    return y, np.repeat(np.arange(k), n), msw, msb


@pytest.mark.parametrize("seed", [0, 1, 4, 9, 10])
def test_balanced_one_way_reml_is_the_anova_estimate(seed):
    # balanced one-way data: REML gives sigma2 = MSW and tau2 = (MSB - MSW) / n when that is positive (seeds 0, 1, 9,
    # 10: MSB / MSW = 1.7, 1.2, 2.0, 1.1, so the criterion at tau2 = 0 is only 0.02 to 1.3 higher), and tau2 = 0 with
    # sigma2 = SST / (N - 1) when it is not (seed 4: MSB / MSW = 0.49)
    y, g, msw, msb = _one_way(seed)
    fit = rm.fit_random_intercept(y, np.ones((len(y), 1)), g)
    vc = fit.variance_components()
    if msb > msw:
        assert not fit.singular
        assert fit.tau2 == pytest.approx((msb - msw) / 3, abs=1e-6 * msw)
        assert fit.sigma2 == pytest.approx(msw, abs=1e-6 * msw)
    else:
        assert fit.singular and fit.tau2 == 0
        assert fit.sigma2 == pytest.approx(np.var(y, ddof=1), rel=1e-9)
    assert vc["icc"] == pytest.approx(fit.tau2 / (fit.tau2 + fit.sigma2), rel=1e-12)
    assert fit.terms == ["x0"]                      # no names given: x0, x1, ...


def test_missing_values_are_one_clear_error():
    with pytest.raises(ModelError) as err:
        rm.fit_random_intercept([1.0, np.nan, 2.0, 3.0], np.ones((4, 1)), [1, 1, 2, 2])
    assert str(err.value) == "fit_random_intercept: y, X and groups must be complete (no missing values)"


def test_conditional_residuals_are_the_blup_residuals():
    # the predicted intercept b_i solves Henderson's equations: the group's conditional residuals sum to b_i / theta^2
    # (sum_j (y_ij - x_ij beta - b_i) = (1 + n_i g) b_i / g - n_i b_i), and fitted + residual = y
    rng = np.random.default_rng(7)
    g = np.repeat(np.arange(30), rng.integers(1, 5, 30))
    X = np.column_stack([np.ones(len(g)), rng.normal(size=len(g))])
    y = 1 + 0.5 * X[:, 1] + rng.normal(0, 0.8, 30)[g] + rng.normal(size=len(g))
    fit = rm.fit_random_intercept(y, X, g)
    assert not fit.singular
    fitted, resid = rm.conditional_residuals(fit, y, X, g)
    assert fitted + resid == pytest.approx(y, abs=1e-12)
    b = fitted - X @ fit.beta
    assert np.ptp(b) > 0.1
    assert np.bincount(g, weights=resid) == pytest.approx(np.bincount(g, weights=b) / np.bincount(g) / fit.theta**2,
                                                          rel=1e-9, abs=1e-12)
