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
