"""The nested model's criterion pieces (stats/models/nested.py ``_pieces``) from its sums by class of participant
and type of pair, against the definition: X'H^-1 X, X'H^-1 y, y'H^-1 y and log det H with H built whole."""

from __future__ import annotations

import numpy as np
import pytest

from rmstudy.stats.models import nested


def _data(seed: int, n_outer: int, biggest: int, waves: int):
    g = np.random.default_rng(seed)
    sizes = g.integers(1, biggest + 1, n_outer)                 # pairs of 1 .. biggest people
    outer = np.repeat(np.arange(n_outer), sizes)
    inner = np.arange(len(outer))
    rows = [(i, w) for i in inner for w in range(waves) if g.random() > 0.25] or [(0, 0)]
    ii, ww = np.array(rows).T
    X = np.column_stack([np.ones(len(ii)), ww, g.normal(size=len(ii))])
    y = X @ [1.0, 0.4, -0.2] + g.normal(size=n_outer)[outer[ii]] + g.normal(size=len(inner))[ii] + g.normal(size=len(ii))
    return y, X, ii, outer[ii]


@pytest.mark.parametrize("seed, n_outer, biggest, waves", [(1, 12, 2, 2), (2, 20, 4, 3), (3, 9, 6, 4), (4, 30, 1, 3)])
@pytest.mark.parametrize("go, gi", [(0.0, 0.0), (0.4, 1.3), (2.5, 0.0), (0.0, 0.8)])
def test_pieces_equal_the_definition(seed, n_outer, biggest, waves, go, gi):
    y, X, inner, outer = _data(seed, n_outer, biggest, waves)
    same_inner = inner[:, None] == inner[None, :]
    same_outer = outer[:, None] == outer[None, :]
    H = np.eye(len(y)) + gi * same_inner + go * same_outer
    Hi = np.linalg.inv(H)
    A, b, cc, logdet = nested._pieces(go, gi, nested._prepare(y, X, inner, outer))
    np.testing.assert_allclose(A, X.T @ Hi @ X, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(b, X.T @ Hi @ y, rtol=1e-10, atol=1e-10)
    assert cc == pytest.approx(float(y @ Hi @ y), rel=1e-10)
    assert logdet == pytest.approx(np.linalg.slogdet(H)[1], rel=1e-10, abs=1e-10)


def test_the_sums_are_per_class_and_type_not_per_person():
    # 2,000 pairs of two people seen at two waves, 1,000 people seen once: 2 classes of participant, few types
    y, X, inner, outer = _data(7, 3000, 2, 2)
    q = nested._prepare(y, X, inner, outer)
    assert list(q["n_values"]) == [1.0, 2.0]
    assert len(q["types"]) <= 6 and q["type_count"].sum() == len(np.unique(outer))
    assert q["n_count"].sum() == len(np.unique(inner))
