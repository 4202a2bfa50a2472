"""Every boundary of the HR suppression rules, stated as tests (issue #17).

"Fewer than k" means 1 to k − 1: a count of exactly k is shown, a count of 0 is shown. tools/mutation.py checks
that each changed comparison, constant or label in rmstudy.report.privacy makes one of these tests (or the
property tests in test_properties_suppression.py) fail.
"""

import numpy as np
import pandas as pd
import pytest

from rmstudy.report import privacy
from rmstudy.report.privacy import fewer_than, suppress_by_n, suppress_counts, suppressed_retention

K = 5


def _mask(table, k=K, totals=True):
    shown, mask = suppress_counts(pd.DataFrame(table), k, totals=totals)
    return shown, mask.to_numpy().astype(int).tolist()


# --- suppress_counts ---------------------------------------------------------------------------------------------

def test_fewer_than_reads_in_words():
    assert fewer_than(5) == "fewer than 5" and fewer_than(12) == "fewer than 12"


def test_k_itself_and_zero_are_shown_k_minus_one_and_one_are_hidden():
    shown, mask = _mask([[5, 0, 9], [4, 1, 20]], totals=False)
    assert mask == [[0, 0, 0], [1, 1, 0]]
    assert shown.to_numpy().tolist() == [["5", "0", "9"], ["fewer than 5", "fewer than 5", "20"]]


def test_no_totals_means_no_secondary_suppression_and_no_margins():
    shown, mask = _mask([[3, 40], [40, 40]], totals=False)
    assert mask == [[1, 0], [0, 0]]
    assert list(shown.columns) == [0, 1] and list(shown.index) == [0, 1]


def test_margins_are_labelled_total_and_hold_the_sums():
    t = pd.DataFrame({"program": [10, 12], "control": [30, 40]}, index=["junior", "senior"])
    shown, mask = suppress_counts(t, K)
    assert list(shown.columns) == ["program", "control", "Total"] and list(shown.index) == ["junior", "senior", "Total"]
    assert list(mask.columns) == list(shown.columns) and list(mask.index) == list(shown.index)
    assert shown.to_numpy().tolist() == [["10", "30", "40"], ["12", "40", "52"], ["22", "70", "92"]]
    assert mask.dtypes.eq(bool).all() and not mask.to_numpy().any()
    assert t.to_numpy().tolist() == [[10, 30], [12, 40]]            # the input is not changed


def test_secondary_suppression_hides_the_smallest_inner_cell_of_the_line():
    # row 0: 3 is small; the smallest other inner cell of row 0 is 10 (not 20, not the total 33); column 0 then
    # needs a second hidden cell: 10 in row 1 (not the total 13); column 1 then: 12 (not 22)
    shown, mask = _mask([[3, 10, 20], [10, 12, 30]])
    assert mask == [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]]
    assert shown.to_numpy().tolist() == [["fewer than 5", "hidden", "20", "33"], ["hidden", "hidden", "30", "52"],
                                         ["13", "22", "50", "85"]]


def test_secondary_suppression_prefers_the_smaller_cell_whatever_its_position():
    shown, mask = _mask([[3, 20, 10], [30, 40, 11]])
    assert mask == [[1, 0, 1, 0], [1, 0, 1, 0], [0, 0, 0, 0]]


def test_a_small_total_is_hidden_and_complemented():
    # row 0 sums to 3: its cells 1 and 2 read "fewer than 5" and its total reads "hidden" (a total labelled "fewer
    # than k" over cells of at least 1 each can pin them: [[1, 1]] at k = 3); column "Total" then needs a second
    # hidden cell: the smallest other row total
    shown, mask = _mask([[1, 2], [20, 30], [8, 9]])
    assert shown.iat[0, 2] == "hidden" and shown.iat[0, 0] == shown.iat[0, 1] == "fewer than 5"
    assert mask[0] == [1, 1, 1]
    assert [r[2] for r in mask].count(1) >= 2 and mask[2][2] == 1 and mask[1][2] == 0


def test_line_rule_runs_until_no_line_has_one_hidden_cell():
    shown, mask = _mask([[3, 40, 40], [40, 40, 40], [40, 40, 40]])
    m = np.array(mask)
    assert all(r.sum() != 1 for r in m) and all(c.sum() != 1 for c in m.T)
    assert m.sum() == 4 and m[0, 0] == 1


def test_an_exactly_determined_cell_gets_one_more_complement():
    """[[1, 0, 20], ...]: the line rule alone hides the 1 and the 0; 21 - 20 = 1 then gives the 1 back (it is not 0,
    as it reads "fewer than 5"), so the 20 is hidden too, and its column needs a second hidden cell."""
    shown, mask = _mask([[1, 0, 20], [9, 9, 9]])
    assert mask == [[1, 1, 1, 0], [1, 1, 1, 0], [0, 0, 0, 0]]
    assert shown.iat[0, 0] == "fewer than 5" and shown.iat[0, 1] == "hidden" and shown.iat[0, 2] == "hidden"


def test_the_complement_is_the_smallest_non_zero_shown_cell_of_the_lines():
    """First example in test_properties_suppression: the line rule left the 1 at (3, 2) recoverable. Hiding the 6 at
    (2, 2) fixed that; then the shown cells still narrowed "fewer than 5" cells below 1 to 4, so the 6 at (0, 3)
    (the smallest shown inner cell of row 0 and column 3) and the 10 at (3, 0) (the smallest of row 3 and column 0)
    were hidden too."""
    shown, mask = _mask([[1, 11, 6, 6], [5, 12, 3, 8], [11, 6, 9, 1], [10, 4, 1, 4]])
    assert mask == [[1, 0, 1, 1, 0], [1, 0, 1, 0, 0], [0, 1, 1, 1, 0], [1, 1, 1, 1, 0], [0, 0, 0, 0, 0]]
    assert shown.iat[2, 2] == "hidden" and shown.iat[3, 2] == "fewer than 5"


def test_hidden_zeros_that_pin_a_cell_get_a_complement():
    shown, mask = _mask([[5, 8, 9], [0, 0, 12], [2, 14, 8]], k=7)
    assert mask == [[1, 1, 1, 0], [1, 1, 1, 0], [1, 1, 1, 0], [0, 0, 0, 0]]
    assert shown.iloc[3].tolist() == ["7", "22", "29", "58"]


def test_a_table_of_small_counts_only_is_hidden_entirely_without_looping():
    shown, mask = _mask([[1, 1], [1, 2]], k=3)
    assert mask == [[1, 1, 1], [1, 1, 1], [1, 1, 0]]
    assert shown.iat[2, 2] == "5"                    # four cells of 1 or 2 adding to 5: each is still 1 or 2
    assert shown.iat[0, 0] == "fewer than 3"


def test_k_of_two_ends():
    """'fewer than 2' can only be 1, which pins its complements: they are complemented in turn (k = 2 is below
    the plan's allowed 3-50); the loop ends with the grand total shown."""
    shown, mask = _mask([[1, 30], [30, 30]], k=2)
    assert mask == [[1, 1, 1], [1, 1, 1], [1, 1, 0]]
    assert shown.iat[0, 0] == "fewer than 2" and shown.iat[2, 2] == "91"


def test_one_row_table():
    shown, mask = _mask([[3, 7, 9]])
    assert mask[0][0] == 1 and sum(mask[0]) >= 2


# --- suppress_by_n -----------------------------------------------------------------------------------------------

def test_suppress_by_n_boundary_and_columns():
    df = pd.DataFrame({"n": [K - 1, K, 0], "mean": [1.0, 2.0, 3.0], "ci_low": [0.5, 1.5, 2.5],
                       "ci_high": [1.5, 2.5, 3.5], "sd": [1.0, 1.0, 1.0]})
    out = suppress_by_n(df, K)
    assert out["n"].tolist() == ["fewer than 5", K, "fewer than 5"]
    assert [str(v) for v in out["n"]] == ["fewer than 5", "5", "fewer than 5"]     # a shown n stays a whole number
    assert out["suppressed"].tolist() == [True, False, True]
    for c in ("mean", "ci_low", "ci_high"):
        assert out[c].isna().tolist() == [True, False, True]
    assert out["sd"].tolist() == [1.0, 1.0, 1.0]               # not a value column
    assert out.loc[1, "ci_high"] == 2.5
    assert df["n"].tolist() == [K - 1, K, 0]                   # the input is not changed


def test_suppress_by_n_other_columns():
    df = pd.DataFrame({"answers": [3, 9], "pct": [50, 70], "mean": [1.0, 2.0]})
    out = suppress_by_n(df, K, n_col="answers", value_cols=("pct",))
    assert out["answers"].tolist() == ["fewer than 5", 9]
    assert out["pct"].isna().tolist() == [True, False] and out["mean"].tolist() == [1.0, 2.0]
    out = suppress_by_n(pd.DataFrame({"n": [3, 9], "mean": [1.0, 2.0]}), K)    # ci columns absent: fine
    assert out["mean"].isna().tolist() == [True, False]


# --- suppressed_retention ----------------------------------------------------------------------------------------

def _km(n, events):
    return pd.DataFrame({"group": [f"g{i}" for i in range(len(n))], "horizon_days": 365, "n": n,
                         "events_by_horizon": events, "n_at_risk": [a - b for a, b in zip(n, events)],
                         "retention": 0.8, "ci_low": 0.7, "ci_high": 0.9})


def test_retention_boundaries_on_people_and_leavers():
    out = suppressed_retention(_km([K, K - 1, 40, 40, K], [K, K - 1, K - 1, K, 0]), K)
    assert out["suppressed"].tolist() == [False, True, True, False, True]
    for c in ("retention", "ci_low", "ci_high"):
        assert out[c].isna().tolist() == [False, True, True, False, True]
    for c in ("n", "events_by_horizon", "n_at_risk"):
        assert [v is None for v in out[c]] == [False, True, True, False, True]
    assert out.loc[3, "n"] == 40 and out.loc[3, "events_by_horizon"] == K and out.loc[3, "n_at_risk"] == 40 - K
    # people fewer than k although leavers reach k cannot happen; a small group with many leavers is hidden
    out = suppressed_retention(_km([K - 1], [K - 1]), K)
    assert out["suppressed"].tolist() == [True]


# --- whole results: too_small, differencing, means, retention cells, adjusted p ---------------------------------

def _row(i="P1", family="primary", outcome="engagement", n=(40, 40)):
    return {"id": i, "family": family, "outcome": outcome,
            "n": {"program": {"participants": n[0]}, "control": {"participants": n[1]}}}


@pytest.mark.skipif(not hasattr(privacy, "too_small"), reason="not in this version of privacy.py")
def test_arm_sizes_and_too_small_boundaries():
    assert privacy.arm_sizes(_row(n=(7, 0))) == {"program": 7}
    assert privacy.arm_sizes(_row(n=(1, 2))) == {"program": 1, "control": 2}         # one person is an arm
    assert privacy.too_small(_row(n=(1, 40)), K) == "one side of the comparison has fewer than 5 people"
    assert privacy.arm_sizes({"n": None}) == {} and privacy.arm_sizes({}) == {}
    assert privacy.arm_sizes({"n": {"program": {}}}) == {}
    assert privacy.too_small(_row(n=(K, K)), K) is None
    assert privacy.too_small(_row(n=(K, 0)), K) is None                           # one arm of exactly k
    assert privacy.too_small(_row(n=(K - 1, 0)), K) == "the group it concerns has fewer than 5 people"
    assert privacy.too_small({"n": {}}, K) == "the group it concerns has fewer than 5 people"
    assert privacy.too_small(_row(n=(K, K - 1)), K) == "one side of the comparison has fewer than 5 people"
    assert privacy.too_small(_row(n=(2, 2)), K) == "the group it concerns has fewer than 5 people"     # 4 < 5
    assert privacy.too_small(_row(n=(3, 2)), K) == "one side of the comparison has fewer than 5 people"
    assert privacy.too_small(_row(n=(2, 2)), 3) == "one side of the comparison has fewer than 3 people"
    assert privacy.too_small(_row(n=(1, 1)), 3) == "the group it concerns has fewer than 3 people"


@pytest.mark.skipif(not hasattr(privacy, "differencing_conflicts"), reason="not in this version of privacy.py")
def test_differencing_boundaries():
    a = _row("P1", n=(100, 100))
    assert privacy.differencing_conflicts([a, _row("S1", "secondary", n=(100 - (K - 1), 100))], K) == {"S1": "P1"}
    assert privacy.differencing_conflicts([a, _row("S1", "secondary", n=(100 - K, 100))], K) == {}
    assert privacy.differencing_conflicts([a, _row("S1", "secondary", n=(99, 100))], K) == {"S1": "P1"}
    assert privacy.differencing_conflicts([a, _row("S1", "secondary", n=(100, 100))], K) == {}   # same group
    assert privacy.differencing_conflicts([a, _row("S1", "secondary", n=(101, 100))], K) == {"S1": "P1"}  # bigger
    assert privacy.differencing_conflicts([a, _row("S1", "secondary", n=(101, 99))], K) == {}    # not nested
    # the later family is hidden whatever the order given; within a family the later row
    assert privacy.differencing_conflicts([_row("S1", "secondary", n=(98, 100)), a], K) == {"S1": "P1"}
    assert privacy.differencing_conflicts([_row("E1", "exploratory", n=(98, 100)), _row("S1", "secondary", n=(100, 100))],
                                          K) == {"E1": "S1"}
    assert privacy.differencing_conflicts([_row("X", "other", n=(98, 100)), _row("E1", "exploratory", n=(100, 100))],
                                          K) == {"X": "E1"}
    assert privacy.differencing_conflicts([_row("P2", n=(98, 100)), a], K) == {"P1": "P2"}
    # another outcome, or a row already hidden, does not count
    assert privacy.differencing_conflicts([a, _row("S1", "secondary", "other", n=(98, 100))], K) == {}
    assert privacy.differencing_conflicts([a, _row("S1", "secondary", n=(98, 100))], K, hidden={"P1"}) == {}
    assert privacy.differencing_conflicts([a, _row("S1", "secondary", n=(98, 100))], K, hidden=None) == {"S1": "P1"}
    # an arm missing from one row counts as 0 people
    one_arm = {"id": "S2", "family": "secondary", "outcome": "engagement", "n": {"program": {"participants": 100}}}
    assert privacy.differencing_conflicts([_row("P1", n=(100, 3)), one_arm], K) == {"S2": "P1"}
    assert privacy.differencing_conflicts([_row("P1", n=(100, K)), one_arm], K) == {}
    # three rows: a hidden row is no longer a reference for the next
    rows = [a, _row("S1", "secondary", n=(98, 100)), _row("S2", "secondary", n=(96, 100))]
    assert privacy.differencing_conflicts(rows, K) == {"S1": "P1", "S2": "P1"}


@pytest.mark.skipif(not hasattr(privacy, "hidden_hypotheses"), reason="not in this version of privacy.py")
def test_hidden_hypotheses_reasons():
    rows = [_row("P1", n=(100, 100)), _row("S1", "secondary", n=(98, 100)), _row("S2", "secondary", n=(3, 3))]
    out = privacy.hidden_hypotheses(rows, K)
    assert out == {"S2": "one side of the comparison has fewer than 5 people",
                   "S1": "its group differs from the group of another result on the same measure by fewer than 5 "
                         "people, so showing both would reveal those people's answers"}
    assert privacy.hidden_hypotheses([_row("P1", n=(100, 100))], K) == {}
    # a too-small row is not a reference for differencing
    rows = [_row("P1", n=(2, 0)), _row("S1", "secondary", n=(4, 0))]
    assert set(privacy.hidden_hypotheses(rows, K)) == {"P1", "S1"}
    rows = [_row("P1", n=(K - 1, K)), _row("S1", "secondary", n=(K + 1, K))]
    assert set(privacy.hidden_hypotheses(rows, K)) == {"P1"}


@pytest.mark.skipif(not hasattr(privacy, "means_publishable"), reason="not in this version of privacy.py")
def test_means_publishable_boundaries():
    cells = [{"arm": a, "wave": w, "n": K, "mean": 3.0} for a in ("program", "control") for w in ("pre", "post")]
    assert privacy.means_publishable(cells, K) is True
    assert privacy.means_publishable([{**c, "n": K - 1} if i == 2 else c for i, c in enumerate(cells)], K) is False
    assert privacy.means_publishable([{**c, "n": None} if i == 0 else c for i, c in enumerate(cells)], K) is False
    assert privacy.means_publishable([{**c, "mean": None} if i == 1 else c for i, c in enumerate(cells)], K) is False
    assert privacy.means_publishable([{k: v for k, v in c.items() if k != "n"} for c in cells], K) is False
    assert privacy.means_publishable([dict(c, n="7") for c in cells], K) is True                # n as text
    assert privacy.means_publishable([], K) is False
    single = [c for c in cells if c["arm"] == "program"]
    assert privacy.means_publishable(single, K) is True                          # a single-arm design
    assert privacy.means_publishable([dict(c, arm="other") for c in cells], K) is False
    assert privacy.means_publishable(cells, K, arms=("program",)) is False


@pytest.mark.skipif(not hasattr(privacy, "retention_cells"), reason="not in this version of privacy.py")
def test_retention_cells_boundaries():
    def inc(g, c, v):
        return {"group": g, "horizon_days": 365, "cause": c, "incidence": v, "ci_low": v / 2, "ci_high": v * 1.5}

    km = [{"group": "a", "horizon_days": 365, "n": K, "events_by_horizon": K},
          {"group": "b", "horizon_days": 365, "n": K - 1, "events_by_horizon": K},
          {"group": "c", "horizon_days": 365, "n": 40, "events_by_horizon": K - 1},
          {"group": "d", "horizon_days": 365, "n": 40, "events_by_horizon": 10},
          {"group": "e", "horizon_days": 182, "n": 40, "events_by_horizon": 10}]
    incidence = [inc("a", 1, 0.2), inc("a", 2, 0.0), inc("b", 1, 0.2), inc("c", 1, 0.1), inc("d", 1, 0.25),
                 inc("d", 2, K / 40)]
    out = {c["group"]: c for c in privacy.retention_cells(km, incidence, K)}
    assert [out[g]["shown"] for g in "abcde"] == [True, False, False, True, False]    # e: no incidence at 182
    assert out["a"] == {"group": "a", "horizon_days": 365, "shown": True, "not_resigned": pytest.approx(0.8),
                        "ci_low": pytest.approx(0.7), "ci_high": pytest.approx(0.9),
                        "still_employed": pytest.approx(0.8)}                           # no involuntary exits
    for g in "bce":
        assert {k: out[g][k] for k in ("not_resigned", "ci_low", "ci_high", "still_employed")} == dict.fromkeys(
            ("not_resigned", "ci_low", "ci_high", "still_employed"))
    assert out["d"]["still_employed"] == pytest.approx(1 - 0.25 - K / 40)             # 40 x 5/40 = k exits
    small = [dict(i, incidence=(K - 0.01) / 40) if (i["group"], i["cause"]) == ("d", 2) else i for i in incidence]
    d = {c["group"]: c for c in privacy.retention_cells(km, small, K)}["d"]
    assert d["shown"] and d["not_resigned"] == pytest.approx(0.75) and d["still_employed"] is None   # 4.99 < k
    tiny = [dict(i, incidence=0.49 / 40) if (i["group"], i["cause"]) == ("d", 2) else i for i in incidence]
    assert {c["group"]: c for c in privacy.retention_cells(km, tiny, K)}["d"]["still_employed"] is not None
    half = [dict(i, incidence=0.5 / 40) if (i["group"], i["cause"]) == ("d", 2) else i for i in incidence]
    assert {c["group"]: c for c in privacy.retention_cells(km, half, K)}["d"]["still_employed"] is None
    no2 = [i for i in incidence if (i["group"], i["cause"]) != ("d", 2)]
    assert {c["group"]: c for c in privacy.retention_cells(km, no2, K)}["d"]["still_employed"] is None
    assert [c["group"] for c in privacy.retention_cells(km, incidence, K)] == list("abcde")


@pytest.mark.skipif(not hasattr(privacy, "adjusted_p_shown"), reason="not in this version of privacy.py")
def test_adjusted_p_shown_per_family():
    rows = [_row("A"), _row("B"), _row("C", "secondary"), _row("D", "exploratory")]
    assert privacy.adjusted_p_shown(rows, {"B"}) == {"primary": False, "secondary": True, "exploratory": True}
    assert privacy.adjusted_p_shown(rows, set()) == dict.fromkeys(("primary", "secondary", "exploratory"), True)
    assert privacy.adjusted_p_shown(rows, {"C", "D"}) == {"primary": True, "secondary": False, "exploratory": False}
    assert privacy.adjusted_p_shown([], {"A"}) == {}


@pytest.mark.skipif(not hasattr(privacy, "recoverable_lines"), reason="not in this version of privacy.py")
def test_recoverable_lines_names_rows_and_columns_with_one_hidden_cell():
    m = pd.DataFrame([[True, False, False], [True, True, False]], index=["a", "b"], columns=["x", "y", "z"])
    assert privacy.recoverable_lines(m) == ["row a", "column y"]
    assert privacy.recoverable_lines(pd.DataFrame([[False, False]], columns=["x", "y"])) == []
    m = pd.DataFrame([[True, True, True]], index=["a"], columns=["x", "y", "z"])
    assert privacy.recoverable_lines(m) == ["column x", "column y", "column z"]
    m = pd.DataFrame([[True], [False], [True]], index=["a", "b", "c"], columns=["x"])
    assert privacy.recoverable_lines(m) == ["row a", "row c"]


def test_two_small_counts_that_can_only_be_the_largest_small_value_get_a_complement():
    """Row [4, 4, 20] with total 28: the two "fewer than 5" cells sum to 8, so both are 4 (a label's upper bound
    k - 1 pins them): the 20 is hidden as well."""
    shown, mask = _mask([[4, 4, 20], [9, 9, 9]])
    assert mask == [[1, 1, 1, 0], [1, 1, 1, 0], [0, 0, 0, 0]]


def test_a_table_of_small_cells_shows_only_its_grand_total():
    """All cells "fewer than 3": every row and column total is hidden (row 0's 3 beside a "fewer than 3" would give
    the other back), and a hidden total reads "hidden", so the reader knows only that four cells of 1 or 2 add to 5:
    each cell is still 1 or 2, as its label says."""
    shown, mask = _mask([[2, 1], [1, 1]], k=3)
    assert mask == [[1, 1, 1], [1, 1, 1], [1, 1, 0]]
    assert shown.iat[2, 2] == "5" and shown.iat[0, 2] == shown.iat[2, 0] == "hidden"


def test_the_audit_prefers_a_non_zero_complement():
    """A zero hidden as a complement protects nothing (found by comparing mutants of the complement choice)."""
    shown, mask = _mask([[0, 6, 2], [2, 3, 1], [9, 0, 0]], k=4)
    # row 0 (total 8) made its "fewer than 4" 1 or 2: the 6 beside it is hidden, not the shown 0 below it
    assert mask == [[1, 1, 1, 0], [1, 1, 1, 0], [1, 1, 0, 0], [0, 1, 1, 0]]
    assert shown.iat[2, 2] == "0"


def test_suppression_raises_no_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")          # e.g. pandas' FutureWarning for DataFrame.sum(axis=None)
        suppress_counts(pd.DataFrame([[3, 10, 20], [10, 12, 30]]), K)


def test_suppress_counts_repeats_its_line_pass_until_nothing_changes():
    """A hidden cell that leaves another line with one hidden cell is complemented by a further pass of the line
    rule: row 0's "fewer than 5" takes the 20 with it, which leaves column 0 and row 1 one hidden cell short. With
    the passes stopped after their first complement (``changed = False/None``) the 9 at (1, 0) stays shown and the
    linear-programming complement hides both column totals instead."""
    table = pd.DataFrame([[20, 3], [9, 9], [2, 1]])
    shown, mask = suppress_counts(table, 5)
    assert mask.to_numpy().astype(int).tolist() == [[1, 1, 0], [1, 1, 1], [1, 1, 1], [0, 0, 0]]
    assert shown.iloc[3].tolist() == ["31", "13", "44"] and shown.iloc[0, 2] == "23"


def test_an_arm_with_fewer_than_k_leavers_shows_no_result():
    """A hazard ratio's range gives each arm's number of leavers back (SE(log HR)² = 1/d₁ + 1/d₂; other_cohort:
    0.48 to 5.61 with 7 leavers in the programme made the comparison group's 'fewer than 7' exactly 4)."""
    from rmstudy.report.privacy import too_small

    row = lambda d1, d2: {"n": {"program": {"participants": 35, "events": d1},       # noqa: E731
                                "control": {"participants": 31, "events": d2}}}
    assert too_small(row(7, 4), 7) == "one side of the comparison has fewer than 7 people who left"
    assert too_small(row(4, 7), 7) is not None and too_small(row(1, 9), 7) is not None
    assert too_small(row(7, 7), 7) is None and too_small(row(6, 7), 7) is not None
    assert too_small(row(0, 12), 7) is None                     # nobody left: no one to identify
    assert too_small({"n": {"program": {"participants": 35}, "control": {"participants": 31}}}, 7) is None


def test_a_hidden_cell_with_no_upper_bound_is_never_pinned():
    """[[0, 1], [4, 1]] at k = 6: once every total is hidden, the hidden 0's greatest value is unbounded (linprog
    status 3, no objective value); it counts as not pinned, and the small cells are anything from 1 to 5."""
    shown, mask = _mask([[0, 1], [4, 1]], k=6)
    assert np.array(mask).all()
    assert [shown.iat[i, j] for i, j in ((0, 1), (1, 0), (1, 1))] == ["fewer than 6"] * 3 and shown.iat[0, 0] == "hidden"


def test_the_last_resort_complement_may_be_any_shown_cell_of_the_table():
    """[[3, 2], [4, 3], [1, 0]] at k = 6: when neither line of an exposed cell has a shown cell left, the complement
    is taken from the whole table (the last column included): here the grand total 13 stays, every other cell
    is hidden, and each "fewer than 6" is still anything from 1 to 5."""
    shown, mask = _mask([[3, 2], [4, 3], [1, 0]], k=6)
    assert mask == [[1, 1, 1], [1, 1, 1], [1, 1, 1], [1, 1, 0]]
    assert shown.iat[3, 2] == "13"
