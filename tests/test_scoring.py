"""Codebook-driven scoring."""

import numpy as np
import pandas as pd
from numpy.testing import assert_allclose

import rmstudy as rm
from rmstudy.contract.codebook import parse_codebook
from conftest import load_ref

CB = parse_codebook({"scales": {
    "a": {"items": ["a1", "a2", "a3", "a4", "a5"], "min": 1, "max": 5, "reverse": ["a2"],
          "subscales": {"x": ["a1", "a2"], "y": ["a3", "a4", "a5"]}},
    "b": {"items": ["b1", "b2", "b3"], "min": 0, "max": 10, "min_answered": 0.6},
}})


def test_reverse_key_and_answered_share():
    r = pd.DataFrame({"participant_id": ["x", "y", "z"], "wave": ["pre"] * 3,
                      "a1": [5, 1, np.nan], "a2": [1, 5, np.nan], "a3": [5, 1, 3], "a4": [5, 1, 3], "a5": [5, np.nan, 3],
                      "b1": [10, 0, np.nan], "b2": [np.nan, 0, np.nan], "b3": [4, np.nan, 2]})
    s = rm.score_scales(r, CB)
    assert_allclose(s["a"], [5.0, 1.0, np.nan])        # a2 reversed: 6 - 1 = 5; z answered 3/5 < 0.8
    assert_allclose(s["a__answered"], [5, 4, 3])
    assert_allclose(s["b"], [7.0, 0.0, np.nan])         # 2/3 >= 0.6 scores; 1/3 does not
    assert_allclose(s["a__sum"], [25.0, 5.0, np.nan])   # prorated: mean x 5 items
    assert_allclose(s["a.x"], [5.0, 1.0, np.nan])       # subscale x = a1, reversed a2; z answered neither
    assert_allclose(s["a.y"], [5.0, np.nan, 3.0])       # subscales use the scale's share: 2 of 3 < .8

    assert list(s.columns[:2]) == ["participant_id", "wave"]


def test_demo_score_summary_matches_r(demo_cohort, demo_scores):
    """Cell means of the scored demo data equal those R computed from the raw files."""
    ref = load_ref("lmm_demo.json")["hypotheses"]
    for hid, r in ref.items():
        h = demo_cohort.study.hypothesis(hid)
        pop = rm.select_population(demo_cohort.participants, h.population)
        long = rm.long_scores(demo_scores, pop, h.outcome)
        long = long[long["participant_id"].isin(pop["participant_id"])].dropna(subset=["score"])
        got = long.groupby(["arm", "wave"], observed=True)["score"].agg(["count", "mean", "std"])
        for cell in r["score_summary"]:
            g = got.loc[(cell["arm"], cell["wave"])]
            assert g["count"] == cell["n"]
            assert_allclose([g["mean"], g["std"]], [cell["mean"], cell["sd"]], atol=1e-10)
