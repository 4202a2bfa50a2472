"""The residual figure at any size (report/figures.py): every residual drawn while that is readable; beyond
that the Q–Q plot's tails whole and the residuals against fitted values as a density, nothing dropped from it."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from scipy import stats  # noqa: E402

from rmstudy.report import figures  # noqa: E402


def _draw(n: int, seed: int = 3):
    g = np.random.default_rng(seed)
    fitted, resid = g.normal(3, 0.5, n), g.standard_t(4, n)
    axes = figures.plot_residuals(fitted, resid, "t")
    return fitted, resid, axes


def test_a_small_model_shows_every_residual():
    fitted, resid, axes = _draw(300)
    qq = axes[0].lines[0].get_ydata()
    assert np.array_equal(qq, np.sort(resid))
    assert np.array_equal(np.sort(axes[1].lines[0].get_ydata()), np.sort(resid))
    assert not any(isinstance(c, PolyCollection) for c in axes[1].collections)
    plt.close(axes[0].figure)


def test_a_large_model_keeps_the_tails_and_counts_every_residual():
    n = figures.SCATTER_POINTS * 20
    fitted, resid, axes = _draw(n)
    osr = np.asarray(axes[0].lines[0].get_ydata())
    order = np.sort(resid)
    tail = figures.QQ_POINTS // 8
    assert len(osr) == figures.QQ_POINTS and np.all(np.diff(osr) >= 0)
    assert np.array_equal(osr[:tail], order[:tail]) and np.array_equal(osr[-tail:], order[-tail:])
    assert set(osr) <= set(order)
    # the line is the fit to all residuals, not to the points shown
    (_, _), (slope, icpt, _) = stats.probplot(resid, dist="norm")
    x, y = axes[0].lines[1].get_data()
    assert np.allclose(y, icpt + slope * np.asarray(x))
    hexes = [c for c in axes[1].collections if isinstance(c, PolyCollection)]
    assert len(hexes) == 1 and hexes[0].get_array().sum() > 0
    # log colour: the counts are kept as counts, and every residual falls in some bin
    counts = np.asarray(hexes[0].get_array())
    assert counts.sum() == n
    assert "of" in axes[0].get_title() and f"{n:,}" in axes[0].get_title()
    plt.close(axes[0].figure)
