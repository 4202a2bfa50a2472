"""Boundaries and returned fields of stats/reliability.py that the psych comparisons do not reach (issue #17: the
mutation run of reliability.py left these mutants alive). Expected values are worked out by hand beside them."""

import math

import numpy as np
import pandas as pd
import pytest

from rmstudy.stats.reliability import feldt_compare, reliability_flags, reliable_change


def test_feldt_is_two_sided_and_symmetric():
    # W = (1 − .8) / (1 − .9) = 2 > 1: the upper tail; the p must not depend on which alpha comes first
    p = feldt_compare(0.8, 100, 0.9, 100)
    assert p == pytest.approx(feldt_compare(0.9, 100, 0.8, 100), rel=1e-9)
    assert p == pytest.approx(0.0007, abs=5e-5) and 0 < p < 1
    assert feldt_compare(0.8, 50, 0.8, 50) == pytest.approx(1.0)              # W = 1: p = 2 · 0.5
    assert feldt_compare(0.80, 40, 0.81, 40) <= 1.0


def _table(alpha, n=100):
    return pd.DataFrame([{"scale": "eng", "wave": "pre", "role": "all", "alpha": alpha, "n": n}])


def test_low_alpha_flag_at_the_default_threshold():
    assert reliability_flags(_table(0.75), {}) == []
    assert reliability_flags(_table(0.70), {}) == []                          # at 0.70: not below
    flags = reliability_flags(_table(0.69), {})
    assert [f["flag"] for f in flags] == ["low_alpha"]
    assert flags[0]["message"] == "alpha = 0.690 for eng at pre (all) is below 0.70"
    assert reliability_flags(_table(0.69), {}, threshold=0.6) == []


def _change_data():
    participants = pd.DataFrame({"participant_id": ["P1", "P2", "P3", "P4"],
                                 "arm": ["program", "program", "control", "control"]})
    scores = pd.DataFrame({"participant_id": ["P1", "P2", "P3", "P4"] * 2, "wave": ["pre"] * 4 + ["post"] * 4,
                           "eng": [1.0, 2.0, 3.0, 4.0, 3.0, 2.0, 1.0, 5.0]})
    return scores, participants


def test_reliable_change_by_hand():
    # SD at pre of 1, 2, 3, 4 = 1.2910; S_diff = √2 · 1.2910 · √(1 − .75) = 0.9129; changes +2, 0, −2, +1 give
    # RCI 2.19, 0, −2.19, 1.10: improved, unchanged, worsened, unchanged at z = 1.96
    scores, participants = _change_data()
    w, info = reliable_change(scores, participants, "eng", ("pre", "post"), 0.75)
    sd1 = np.std([1, 2, 3, 4], ddof=1)
    assert info["sd_baseline"] == pytest.approx(sd1)
    assert info["s_diff"] == pytest.approx(math.sqrt(2) * sd1 * 0.5)
    assert info["reliability"] == 0.75 and info["z"] == 1.96
    assert info["counts"] == {"control": {"improved": 0, "unchanged": 1, "worsened": 1},
                              "program": {"improved": 1, "unchanged": 1, "worsened": 0}}
    assert w.set_index("participant_id")["rci"].round(3).to_dict() == {"P1": 2.191, "P2": 0.0, "P3": -2.191,
                                                                      "P4": 1.095}
    _, down = reliable_change(scores, participants, "eng", ("pre", "post"), 0.75, direction="decrease")
    assert down["counts"] == {"control": {"improved": 1, "unchanged": 1, "worsened": 0},
                              "program": {"improved": 0, "unchanged": 1, "worsened": 1}}
    _, wide = reliable_change(scores, participants, "eng", ("pre", "post"), 0.75, z=1.0)
    assert wide["counts"]["control"] == {"improved": 1, "unchanged": 0, "worsened": 1}


def test_favourable_answers_by_rule():
    from types import SimpleNamespace

    from rmstudy.stats import reliability

    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    fav = lambda f: reliability._favourable(x, SimpleNamespace(favourable=f, min=1, max=5)).tolist()  # noqa: E731
    assert fav("high") == [False, False, False, True, True]                 # top two: 4 and 5
    assert fav("low") == [True, True, False, False, False]                  # bottom two: 1 and 2
    assert fav({"at_most": 3}) == [True, True, True, False, False]          # the cut-off itself counts
    assert fav({"at_least": 3}) == [False, False, True, True, True]


def _two_waves(a1, a2, n):
    return pd.DataFrame([{"scale": "eng", "wave": "pre", "role": "all", "alpha": a1, "n": n},
                         {"scale": "eng", "wave": "post", "role": "all", "alpha": a2, "n": n}])


def test_alpha_differs_needs_the_gap_and_feldt_p_below_001():
    # 0.9 vs 0.7 at n = 30: gap 0.2, Feldt p = 0.0042 < .01: flagged; at n = 20 p = 0.021: not (default p_differ)
    flags = reliability_flags(_two_waves(0.9, 0.7, 30), {})
    assert [f["flag"] for f in flags] == ["alpha_differs"]
    assert flags[0]["value"] == pytest.approx(0.2)
    assert flags[0]["message"] == ("alpha of eng differs between waves pre (0.90) and post (0.70) at role all "
                                   "(Feldt p = 0.0042)")
    assert reliability_flags(_two_waves(0.9, 0.7, 20), {}) == []
    assert [f["flag"] for f in reliability_flags(_two_waves(0.9, 0.7, 20), {}, p_differ=0.05)] == ["alpha_differs"]
    # a gap below min_gap (0.10) is never flagged, however small p is
    assert reliability_flags(_two_waves(0.9, 0.82, 2000), {}) == []


def test_negative_item_rest_flag_names_the_item():
    st = pd.DataFrame({"item": ["q1", "q2"], "r_drop": [0.4, -0.12]})
    flags = reliability_flags(_table(0.8), {("eng", "pre", "junior"): st})
    assert flags == [{"flag": "negative_item_rest", "scale": "eng", "wave": "pre", "role": "junior", "item": "q2",
                      "value": -0.12, "message": "item q2 correlates negatively with the rest of eng (r = -0.12) at "
                                                 "pre (junior): is a reverse key missing from codebook.yaml?"}]
    assert reliability_flags(_table(0.8), {("eng", "pre", "junior"): st.assign(r_drop=[0.4, 0.0])}) == []


def test_a_gap_of_exactly_min_gap_counts():
    assert 0.2 - 0.1 == 0.1                                   # exact in binary floating point, unlike 0.8 − 0.7
    flags = reliability_flags(_two_waves(0.2, 0.1, 5000), {}, threshold=0.0)
    assert [f["flag"] for f in flags] == ["alpha_differs"]
    assert reliability_flags(_two_waves(0.2, 0.1, 5000), {}, threshold=0.0, min_gap=0.1000001) == []


KEYS = {"n", "k", "alpha", "alpha_std", "average_r", "alpha_ci_low", "alpha_ci_high"}


def test_cronbach_alpha_needs_two_items_and_three_rows():
    from rmstudy.stats.reliability import cronbach_alpha

    # 3 rows of 2 items, (1, 2), (2, 2), (3, 5): var 1 and 3, cov 1.5; alpha = (1 − 4 / 7) · 2 = 0.857
    three = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [2.0, 2.0, 5.0]})
    out = cronbach_alpha(three)
    assert set(out) == KEYS and out["n"] == 3 and out["k"] == 2
    assert out["alpha"] == pytest.approx((1 - 4 / 7) * 2)
    short = cronbach_alpha(three.iloc[:2])
    assert set(short) == KEYS and short["n"] == 2 and short["k"] == 2
    assert all(np.isnan(short[key]) for key in KEYS - {"n", "k"})
    one = cronbach_alpha(three[["a"]])
    assert one["k"] == 1 and np.isnan(one["alpha"]) and np.isnan(one["alpha_std"])


def test_a_one_item_scale_gets_one_flag_naming_it_and_its_item():
    from rmstudy.contract.codebook import Codebook, Scale
    from rmstudy.stats.reliability import single_item_flags

    cb = Codebook({"total": Scale("total", ("t",), 0, 63), "eng": Scale("eng", ("e1", "e2"), 1, 5)})
    (f,) = single_item_flags(cb)
    assert {k: f[k] for k in ("flag", "scale", "item", "wave", "role", "value")} == \
        {"flag": "single_item", "scale": "total", "item": "t", "wave": None, "role": None, "value": None}
    assert f["message"].startswith("total is a single item (t, e.g. a total score)")


def test_item_distributions_count_every_option_and_the_missing_answers():
    from rmstudy.contract.codebook import Codebook, Scale
    from rmstudy.stats.reliability import item_distributions

    r = pd.DataFrame({"wave": ["pre", "pre", "pre", "post"], "q1": [1.0, 3.0, None, 2.0]})
    d = item_distributions(r, Codebook({"s": Scale("s", ("q1",), 1, 3)}))
    assert list(d.columns) == ["scale", "item", "wave", "option", "count"]
    assert set(d["scale"]) == {"s"} and set(d["item"]) == {"q1"}
    pre = d[d["wave"] == "pre"]
    assert pre["option"].tolist()[:3] == [1.0, 2.0, 3.0] and pd.isna(pre["option"].iloc[3])
    assert pre["count"].tolist() == [1, 0, 1, 1]
    assert d.loc[d["wave"] == "post", "count"].tolist() == [0, 1, 0, 0]
