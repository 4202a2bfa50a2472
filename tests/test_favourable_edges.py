"""Edges of stats.reliability.percent_favourable that mutation testing left open (issue #17): one grouping
column, a single-item scale at the 11-point boundary, and a single-item total score with and without a
codebook cut-off."""

import numpy as np
import pandas as pd

from rmstudy.contract.codebook import Codebook, Scale
from rmstudy.stats.reliability import LIKERT_MAX_POINTS, percent_favourable

IDS = [f"p{i}" for i in range(8)]
PEOPLE = pd.DataFrame({"participant_id": IDS, "arm": ["program", "control"] * 4})


def _answers(col, values, wave="baseline"):
    return pd.DataFrame({"participant_id": IDS, "wave": wave, col: np.asarray(values, dtype=float)})


def test_one_grouping_column_keeps_whole_level_names():
    cb = Codebook({"s": Scale("s", ("q1",), 1, 5)})
    resp = pd.concat([_answers("q1", [5, 4, 1, 2, 5, 5, 3, 1]), _answers("q1", [1] * 8, wave="followup")])
    out = percent_favourable(resp, PEOPLE, cb, by=["wave"])
    assert out["wave"].tolist() == ["baseline", "followup"]            # not 'b', 'f': the key is one value
    assert out["percent_favourable"].tolist() == [50.0, 0.0] and out["n"].tolist() == [8, 8]


def test_a_single_item_with_eleven_points_is_still_a_likert_item():
    assert LIKERT_MAX_POINTS == 11
    cb = Codebook({"nps": Scale("nps", ("q1",), 0, 10)})                # 0-10: 11 points, top two are 9 and 10
    out = percent_favourable(_answers("q1", [10, 9, 8, 0, 10, 1, 2, 3]), PEOPLE, cb, by=["wave"])
    assert out["percent_favourable"].tolist() == [37.5]


def test_a_total_score_needs_a_cut_off():
    plain = Codebook({"tot": Scale("tot", ("t",), 0, 40)})
    cut = Codebook({"tot": Scale("tot", ("t",), 0, 40, favourable={"at_most": 13.0})})
    resp = _answers("t", [5, 13, 14, 40, 0, 20, 12, 30])
    assert percent_favourable(resp, PEOPLE, plain, by=["wave"]).empty          # "top two points" of 41 mean nothing
    assert percent_favourable(resp, PEOPLE, cut, by=["wave"])["percent_favourable"].tolist() == [50.0]


def test_alpha_differs_flags_follow_the_table_order_of_scales():
    """Flags are listed scale by scale in the order the reliability table (codebook order) gives, not sorted by
    name: 'zeta' before 'alpha' here."""
    from rmstudy.stats.reliability import reliability_flags
    table = pd.DataFrame({"scale": ["zeta", "zeta", "alpha", "alpha"], "wave": ["pre", "post"] * 2,
                          "role": ["all"] * 4, "alpha": [0.90, 0.72, 0.91, 0.71], "n": [400] * 4})
    flags = [f for f in reliability_flags(table, {}) if f["flag"] == "alpha_differs"]
    assert [f["scale"] for f in flags] == ["zeta", "alpha"]
    assert all(f["value"] > 0.1 for f in flags)
