"""Scoring boundaries (issue #17: kills tools/mutation.py's scoring mutants)."""

import warnings

import numpy as np
import pandas as pd
import pytest

import rmstudy as rm
from rmstudy.contract.codebook import parse_codebook

CB = parse_codebook({"scales": {
    "a": {"items": ["a1", "a2", "a3", "a4", "a5"], "min": 1, "max": 5},                 # min_answered 0.8
    "one": {"items": ["o1", "o2", "o3", "o4", "o5"], "min": 1, "max": 5, "min_answered": 0.2},
}})


def _responses(**cols):
    base = {"participant_id": ["p1", "p2"], "wave": ["pre", "pre"]}
    items = {c: [np.nan, np.nan] for c in ["a1", "a2", "a3", "a4", "a5", "o1", "o2", "o3", "o4", "o5"]}
    return pd.DataFrame({**base, **items, **cols})


def test_exactly_the_required_share_answered_is_scored():
    s = rm.score_scales(_responses(a1=[2, 2], a2=[4, 4], a3=[3, 3], a4=[3, np.nan]), CB)   # 4/5 = 0.8 and 3/5
    assert s["a"].tolist()[0] == pytest.approx(3.0) and np.isnan(s["a"].tolist()[1])


def test_one_answered_item_is_enough_when_the_share_allows_it():
    s = rm.score_scales(_responses(o3=[4, np.nan]), CB)                                    # 1/5 = 0.2
    assert s["one"].tolist()[0] == pytest.approx(4.0) and np.isnan(s["one"].tolist()[1])
    assert s["one__answered"].tolist() == [1, 0]


def test_nothing_answered_is_missing_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = rm.score_scales(_responses(), CB)
    assert s["a"].isna().all() and s["one"].isna().all()


def test_long_scores_keeps_scores_of_people_missing_from_participants():
    scores = pd.DataFrame({"participant_id": ["p1", "p9"], "wave": ["pre", "pre"], "a": [3.0, 4.0]})
    parts = pd.DataFrame({"participant_id": ["p1"], "arm": ["program"]})
    out = rm.long_scores(scores, parts, "a")
    assert out["participant_id"].tolist() == ["p1", "p9"] and out["score"].tolist() == [3.0, 4.0]
    assert out["arm"].tolist()[0] == "program" and pd.isna(out["arm"].tolist()[1])
