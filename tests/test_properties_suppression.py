"""Property-based tests (hypothesis) of HR suppression: nothing hidden can be worked out from what is shown.

The reader of a suppressed count table is modelled as an attacker with a linear programme: every shown cell and
total is known, counts are non-negative, and a cell reading "fewer than k" holds 1 to k − 1 (so does a total
reading "fewer than k"; zeros are shown, so a small cell is never 0). For every hidden cell (inner or total) the
least and greatest value consistent with all that is found with scipy.optimize.linprog; the margins' constraint
matrix is totally unimodular, so these bounds are whole numbers and are also the integer programme's.

What is asserted, precisely (issue #17 asked for "every hidden cell stays undetermined or at least k wide"):

- "at least k wide" cannot hold for a small cell under this labelling: its label alone says 1 to k − 1, i.e.
  k − 1 possible values. The strongest achievable statement is that what is shown adds nothing to the labels:
  each small cell's range is exactly what the labels alone allow (1 to k − 1 for an inner cell under no small
  total).
- suppress_by_column (the table the HR report prints whenever a cell is hidden: column totals public) now meets
  that statement for every small cell in a column that also holds a cell of at least k (asserted below);
- suppress_counts (totals shown) meets it too, for every small cell of random tables: when the shown cells and
  totals narrow a small cell below what its label says (e.g. [[3], [4]] at k = 5, where a shown total of 7 made
  each 3 or 4), one more cell is hidden, a total if need be (privacy._complement_for_disclosure). Every other
  hidden cell is at least not pinned (its range is unbounded or at least 1 wide).
"""

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import examples
from scipy.optimize import linprog

from rmstudy.report.privacy import fewer_than, suppress_by_column, suppress_by_n, suppress_counts, suppressed_retention


def feasible_ranges(table: pd.DataFrame, shown: pd.DataFrame, mask: pd.DataFrame, k: int,
                    labels_only: bool = False) -> dict:
    """{(i, j): (least, greatest)} for every hidden cell of the display (margins included; greatest may be inf).

    ``labels_only``: what the "fewer than k" labels alone say (no shown total used)."""
    t = table.to_numpy().astype(int)
    nr, nc = t.shape
    m = mask.to_numpy()
    has_totals = m.shape == (nr + 1, nc + 1)
    full = np.zeros((nr + 1, nc + 1), dtype=int)
    full[:nr, :nc] = t
    full[:nr, nc] = t.sum(axis=1)
    full[nr, :nc] = t.sum(axis=0)
    full[nr, nc] = t.sum()
    if not has_totals:
        m = np.pad(m, ((0, 1), (0, 1)), constant_values=True)   # no totals: every margin is unknown
    labels = shown.to_numpy()
    small = np.zeros_like(m)
    small[: labels.shape[0], : labels.shape[1]] = labels == fewer_than(k)
    inner = [(i, j) for i in range(nr) for j in range(nc) if m[i, j]]
    col = {c: n for n, c in enumerate(inner)}

    def expr(rows, cols):
        a, known = np.zeros(len(inner)), 0
        for i in rows:
            for j in cols:
                if m[i, j]:
                    a[col[(i, j)]] = 1
                else:
                    known += full[i, j]
        return a, known

    a_eq, b_eq, a_ub, b_ub, targets = [], [], [], [], {}
    for i in range(nr + 1):
        for j in range(nc + 1):
            rows = range(nr) if i == nr else [i]
            cols = range(nc) if j == nc else [j]
            a, known = expr(rows, cols)
            if not has_totals and (i == nr or j == nc):
                continue                                  # not displayed: nothing hidden to protect
            if not m[i, j]:
                if i == nr or j == nc:
                    a_eq.append(a)
                    b_eq.append(full[i, j] - known)
                continue
            targets[(i, j)] = (a, known)
            if small[i, j] and (i == nr or j == nc):
                a_ub += [a, -a]
                b_ub += [k - 1 - known, known - 1]
    bounds = [(1, k - 1) if small[c] else (0, None) for c in inner]
    lp = dict(A_eq=np.array(a_eq) if a_eq else None, b_eq=b_eq or None, A_ub=np.array(a_ub) if a_ub else None,
              b_ub=b_ub or None, bounds=bounds, method="highs")
    out = {}
    for c, (a, known) in targets.items():
        lo, hi = linprog(a, **(lp if not labels_only else {**lp, "A_eq": None, "b_eq": None})), \
            linprog(-a, **(lp if not labels_only else {**lp, "A_eq": None, "b_eq": None}))
        assert lo.status == 0, (c, lo.message)           # the true table is always feasible
        out[c] = (lo.fun + known, np.inf if hi.status == 3 else -hi.fun + known)
        assert out[c][0] - 1e-6 <= full[c] <= out[c][1] + 1e-6      # the truth lies in the range
    return out


@st.composite
def count_tables(draw, max_side=4, max_count=15):
    nr, nc = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    # many small counts and zeros: the cases where suppression has work to do
    cell = st.one_of(st.integers(0, 6), st.integers(0, max_count))
    return pd.DataFrame([[draw(cell) for _ in range(nc)] for _ in range(nr)],
                        index=[f"r{i}" for i in range(nr)], columns=[f"c{j}" for j in range(nc)])


KS = st.integers(3, 8)   # study.schema.json allows anonymity thresholds 3-50; k = 2 is checked separately


def _check(table, k, totals):
    shown, mask = suppress_counts(table, k, totals=totals)
    ranges = feasible_ranges(table, shown, mask, k)
    t = table.to_numpy()
    pinned = [c for c, (lo, hi) in ranges.items() if hi - lo < 1 - 1e-6]
    by_labels = feasible_ranges(table, shown, mask, k, labels_only=True)
    for c, (lo, hi) in ranges.items():
        if c in by_labels and shown.iat[c] == fewer_than(k):
            # a small cell: the shown cells and totals add nothing to its label (1 to k - 1), unless the labels
            # alone already say more (k = 2)
            assert (lo, hi) == by_labels[c] or by_labels[c][1] - by_labels[c][0] < 1 - 1e-6, \
                (f"hidden cell {c} is {lo:g} to {hi:g}, its label says {by_labels[c]}", table, shown)
    if pinned:
        for c in pinned:
            # a cell that the labels alone pin down is a limit of the labelling (test_labels_alone_...), not of
            # the choice of cells to hide: hiding more cannot help it
            assert by_labels[c][1] - by_labels[c][0] < 1 - 1e-6, \
                (f"hidden cell {c} is {ranges[c][0]:g} whatever the other cells are", table, shown)
    # every small count is hidden, and every shown cell is the true value
    vals = np.pad(t, ((0, 1), (0, 1)))
    if totals:
        vals[:-1, -1], vals[-1, :-1], vals[-1, -1] = t.sum(axis=1), t.sum(axis=0), t.sum()
    else:
        vals = t
    m = mask.to_numpy()
    assert m[(vals > 0) & (vals < k)].all()
    assert not m[vals == 0].any() or totals            # a zero is only ever hidden as a complement
    margin = np.zeros_like(m)
    if totals:
        margin[-1, :] = margin[:, -1] = True
    for (i, j), h in np.ndenumerate(m):
        if h:       # a hidden total always reads "hidden" (test_labels_alone_do_not_give_a_tiny_table_away)
            assert shown.iat[i, j] == (fewer_than(k) if 0 < vals[i, j] < k and not margin[i, j] else "hidden")
        else:
            assert shown.iat[i, j] == str(vals[i, j])
    return ranges


@settings(max_examples=examples(120), suppress_health_check=[HealthCheck.too_slow])
@given(count_tables(), KS)
@example(pd.DataFrame([[1, 11, 6, 6], [5, 12, 3, 8], [11, 6, 9, 1], [10, 4, 1, 4]]), 5)    # a 1 recoverable by LP
@example(pd.DataFrame([[5, 8, 9], [0, 0, 12], [2, 14, 8]]), 7)                             # hidden zeros pinned an 8
@example(pd.DataFrame([[1, 0, 20], [9, 9, 9]]), 5)                  # "fewer than 5" + hidden 0, row short by 1
def test_no_hidden_cell_can_be_worked_out_from_the_table_with_totals(table, k):
    _check(table, k, totals=True)


@settings(max_examples=examples(40))
@given(count_tables(), KS)
def test_without_totals_hidden_cells_stay_unknown(table, k):
    ranges = _check(table, k, totals=False)
    assert all((lo, hi) == (1, k - 1) for lo, hi in ranges.values())    # only the label says anything


@settings(max_examples=examples(40))
@given(count_tables(max_side=3), st.integers(3, 6), st.integers(1, 4))
def test_raising_k_never_shows_a_cell_that_was_hidden(table, k, step):
    m1 = suppress_counts(table, k)[1].to_numpy()
    m2 = suppress_counts(table, k + step)[1].to_numpy()
    # primary suppression is monotone in k; secondary suppression may move, but every primary cell stays hidden
    vals = suppress_counts(table, k)[0]
    assert m2[m1 & (vals.to_numpy() == fewer_than(k))].all()


@settings(max_examples=examples(30))
@given(count_tables(max_side=3))
def test_k_of_2_hides_every_single_person(table):
    shown, mask = suppress_counts(table, 2)
    t = table.to_numpy()
    assert mask.to_numpy()[:-1, :-1][t == 1].all()


def test_the_recovered_one_from_the_first_example_is_now_protected():
    """Regression (issue #17): with two hidden cells in every line, linear programming still gave back the 1 in
    row 3, column 2 of this table (column 2 short by 10, row 3 short by 9, and the other hidden cells bounded)."""
    t = pd.DataFrame([[1, 11, 6, 6], [5, 12, 3, 8], [11, 6, 9, 1], [10, 4, 1, 4]])
    shown, mask = suppress_counts(t, 5)
    for (lo, hi) in feasible_ranges(t, shown, mask, 5).values():
        assert hi - lo >= 1
    assert shown.iat[3, 2] == "fewer than 5"


def test_labels_alone_do_not_give_a_tiny_table_away():
    """[[1, 1]] at k = 3: the row total read 'fewer than 3' too, and two cells of at least 1 under a total of at most 2
    can only be 1 and 1 (a real leak, issue #17). A hidden total now reads 'hidden', never 'fewer than k'."""
    t = pd.DataFrame([[1, 1]])
    shown, mask = suppress_counts(t, 3)
    assert mask.to_numpy().all()
    ranges = feasible_ranges(t, shown, mask, 3)
    assert ranges[(0, 0)] == (1, 2) and ranges[(0, 1)] == (1, 2)


def test_shown_totals_add_nothing_to_the_labels_of_small_cells():
    """Regression (issue #17): a shown total of 7 over two 'fewer than 5' cells made each 3 or 4; the total is now
    hidden, and each cell is anything from 1 to 4, as its label says."""
    t = pd.DataFrame([[3], [4]])
    shown, mask = suppress_counts(t, 5)
    ranges, by_labels = feasible_ranges(t, shown, mask, 5), feasible_ranges(t, shown, mask, 5, labels_only=True)
    assert shown.iat[2, 0] == "hidden"
    assert by_labels[(0, 0)] == (1, 4)
    assert ranges[(0, 0)] == by_labels[(0, 0)] == ranges[(1, 0)]
    # a table whose small cells are not narrowed keeps its totals: [[3], [6]] at k = 5 shows 9 (3 is 1 to 4 from it)
    shown, mask = suppress_counts(pd.DataFrame([[3], [6]]), 5)
    assert shown.iat[2, 0] == "9" and shown.iat[0, 0] == "fewer than 5" and shown.iat[1, 0] == "hidden"


def test_a_hidden_zero_next_to_a_small_count_is_not_enough():
    """Regression (issue #17): row [1, 0, 20] with its total 21 shown: the line rule hid the 0 as the complement,
    and 21 − 20 = 1 = the "fewer than 5" cell + the hidden 0 gave the 1 back (it cannot be 0)."""
    t = pd.DataFrame([[1, 0, 20], [9, 9, 9]])
    shown, mask = suppress_counts(t, 5)
    ranges = feasible_ranges(t, shown, mask, 5)
    assert ranges[(0, 0)][1] - ranges[(0, 0)][0] >= 1
    assert mask.to_numpy()[0].sum() >= 3


# --- suppress_by_n and suppressed_retention -----------------------------------------------------------------------

@settings(max_examples=examples(40))
@given(st.lists(st.tuples(st.integers(0, 30), st.floats(-5, 5, allow_nan=False)), min_size=1, max_size=8), KS)
def test_means_below_k_are_blank_and_the_rest_untouched(cells, k):
    df = pd.DataFrame({"n": [n for n, _ in cells], "mean": [m for _, m in cells],
                       "ci_low": [m - 1 for _, m in cells], "ci_high": [m + 1 for _, m in cells], "other": 1})
    out = suppress_by_n(df, k)
    for i, (n, m) in enumerate(cells):
        if n < k:
            assert out.loc[i, "n"] == fewer_than(k) and out.loc[i, ["mean", "ci_low", "ci_high"]].isna().all()
        else:
            assert out.loc[i, "n"] == n and out.loc[i, "mean"] == m and out.loc[i, "ci_high"] == m + 1
        assert bool(out.loc[i, "suppressed"]) == (n < k)
    assert (out["other"] == 1).all()
    assert df["n"].tolist() == [n for n, _ in cells]      # the input is not changed


@settings(max_examples=examples(40))
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), min_size=1, max_size=6), KS)
def test_retention_rates_need_k_people_and_k_leavers(groups, k):
    km = pd.DataFrame({"group": [f"g{i}" for i in range(len(groups))], "horizon_days": 365,
                       "n": [n for n, _ in groups], "events_by_horizon": [min(e, n) for n, e in groups],
                       "n_at_risk": [n - min(e, n) for n, e in groups], "retention": 0.8, "ci_low": 0.7,
                       "ci_high": 0.9})
    out = suppressed_retention(km, k)
    for i, (n, e) in enumerate(groups):
        hide = n < k or min(e, n) < k
        assert bool(out.loc[i, "suppressed"]) == hide
        assert pd.isna(out.loc[i, "retention"]) == hide and pd.isna(out.loc[i, "ci_low"]) == hide
        assert (out.loc[i, "n"] is None) == hide and (out.loc[i, "n_at_risk"] is None) == hide


# --- suppress_by_column (the HR report's 'Who took part': column totals public, no row totals) ----------------------

def column_ranges(table: pd.DataFrame, mask: pd.DataFrame, k: int) -> dict:
    """{(i, j): (least, greatest)} of every hidden cell of suppress_by_column's display, for a reader who knows every
    shown cell, every column total, that counts are non-negative and that "fewer than k" means 1 to k − 1.
    Columns share no constraint (no row totals), so each column is its own linear programme."""
    t, m = table.to_numpy().astype(int), mask.to_numpy()[:-1]
    out = {}
    for j in range(t.shape[1]):
        rows = [i for i in range(t.shape[0]) if m[i, j]]
        if not rows:
            continue
        a_eq, b_eq = [np.ones(len(rows))], [t[:, j].sum() - t[~m[:, j], j].sum()]
        bounds = [(1, k - 1) if 0 < t[i, j] < k else (0, None) for i in rows]
        for n, i in enumerate(rows):
            e = np.eye(len(rows))[n]
            lo = linprog(e, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
            hi = linprog(-e, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
            assert lo.status == 0 and hi.status == 0
            out[(i, j)] = (round(lo.fun), round(-hi.fun))
            assert out[(i, j)][0] <= t[i, j] <= out[(i, j)][1]
    return out


@settings(max_examples=examples(60))
@given(count_tables(max_side=4), KS)
@example(pd.DataFrame([[1], [1], [30]]), 3)                # two 'fewer than 3' under a public total of 32: 1 and 1
@example(pd.DataFrame([[2], [4], [30], [40]]), 5)          # 76 − 70 = 6 = 2 + 4: each of them 2 to 4, not 1 to 4
def test_a_public_column_total_says_nothing_about_a_small_cell(table, k):
    """What the rule promises (and the reason for its second hidden cell): for a small cell in a column that also
    holds a non-zero cell of at least k, what is shown (the column total and the shown cells) adds nothing to its
    label: its least and greatest possible values are exactly 1 and k − 1. (A column whose non-zero cells are all
    small cannot promise that: its public total is their sum; see the report of issue #17.)"""
    shown, mask = suppress_by_column(table, k)
    t, m = table.to_numpy(), mask.to_numpy()[:-1]
    tot = t.sum(axis=0)
    small = (tot > 0) & (tot < k)              # a whole arm below k: total 'fewer than k', every cell hidden
    assert m[:, small].all() and (shown.iloc[:-1].to_numpy()[:, small] == "hidden").all()
    t, m = t[:, ~small], m[:, ~small]
    assert (m == ((t > 0) & (t < k)) | (m & (t >= k))).all() and m[(t > 0) & (t < k)].all()
    assert not m[t == 0].any()
    assert shown.iloc[-1].tolist() == [fewer_than(k) if s else str(v) for v, s in zip(tot, small)]   # column totals
    table = table.loc[:, ~small]
    mask = mask.loc[:, ~small]
    ranges = column_ranges(table, mask, k)
    for (i, j), (lo, hi) in ranges.items():
        col = t[:, j]
        if 0 < col[i] < k and (col >= k).any():
            assert (lo, hi) == (1, k - 1), (f"'fewer than {k}' at ({i}, {j}) is {lo} to {hi}", table)
        if col[i] >= k:
            assert hi - lo >= 1                                                   # a complement is never pinned


def test_two_small_cells_under_a_public_total_are_not_given_away():
    """Regression (issue #17): juniors 1 and seniors 1 of 32 in the programme, k = 3: both cells read "fewer than
    3", the leads' 30 and the public total 32 were shown, so 32 − 30 = 2 gave 1 and 1 back. Now the 30 is hidden."""
    t = pd.DataFrame({"program": [1, 1, 30], "control": [20, 30, 40]}, index=["junior", "senior", "lead"])
    shown, mask = suppress_by_column(t, 3)
    assert shown["program"].tolist() == ["fewer than 3", "fewer than 3", "hidden", "32"]
    assert shown["control"].tolist() == ["20", "30", "40", "90"]
    assert column_ranges(t, mask, 3) == {(0, 0): (1, 2), (1, 0): (1, 2), (2, 0): (28, 30)}
