"""Suppression for HR outputs.

Primary suppression hides every count, mean, rate or chart cell resting on
fewer than ``k`` people (the study's anonymity threshold). Secondary
suppression then hides further cells so no hidden value can be recovered by
subtraction from a shown total: in every line (row or column, its total
included) either no cell or at least two cells are hidden.
"""

from __future__ import annotations

__all__ = ["suppress_counts", "suppress_by_n", "fewer_than", "suppressed_retention"]

import numpy as np
import pandas as pd


def fewer_than(k: int) -> str:
    return f"fewer than {k}"


def suppress_counts(table: pd.DataFrame, k: int, totals: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Suppress a two-way count table for HR.

    Parameters
    ----------
    table : DataFrame of non-negative integer counts (rows × columns), no margins.
    k : anonymity threshold; a cell with 0 < count < k is hidden (a true zero
        is shown: it identifies nobody).
    totals : whether row and column totals (and the grand total) are shown.

    Returns
    -------
    display : DataFrame of strings with margins ``Total`` when ``totals``; hidden
        cells read "fewer than k" (primary) or "hidden" (secondary).
    mask : boolean DataFrame of the same shape as the display, True where hidden.
    """
    t = table.astype(int).copy()
    full = t.copy()
    if totals:
        full["Total"] = t.sum(axis=1)
        full.loc["Total"] = full.sum(axis=0)
    vals = full.to_numpy()
    prim = (vals > 0) & (vals < k)
    hidden = prim.copy()
    if totals:
        nr, nc = vals.shape
        changed = True
        while changed:
            changed = False
            lines = [[(i, j) for j in range(nc)] for i in range(nr)] + [[(i, j) for i in range(nr)] for j in range(nc)]
            for line in lines:
                n_hidden = sum(hidden[c] for c in line)
                if n_hidden == 1:
                    cand = [c for c in line if not hidden[c]]
                    # prefer an inner cell (not a total), smallest value first
                    cand.sort(key=lambda c: (c[0] == nr - 1 or c[1] == nc - 1, vals[c]))
                    hidden[cand[0]] = True
                    changed = True
    disp = full.astype(str).astype(object)
    for (i, j), h in np.ndenumerate(hidden):
        if h:
            disp.iat[i, j] = fewer_than(k) if prim[i, j] else "hidden"
    return disp, pd.DataFrame(hidden, index=full.index, columns=full.columns)


def suppress_by_n(df: pd.DataFrame, k: int, n_col: str = "n", value_cols=("mean", "ci_low", "ci_high")) -> pd.DataFrame:
    """Blank the value columns of every row resting on fewer than ``k`` people.

    Adds a boolean ``suppressed`` column; the ``n`` of a suppressed row is
    blanked too (only "fewer than k" may be said of it).
    """
    out = df.copy()
    small = out[n_col] < k
    for c in value_cols:
        if c in out.columns:
            out[c] = out[c].astype(float).where(~small, np.nan)
    out[n_col] = out[n_col].astype(object).where(~small, fewer_than(k))
    out["suppressed"] = small
    return out


def suppressed_retention(km: pd.DataFrame, k: int) -> pd.DataFrame:
    """Retention rates for HR: a group's rate shows only when the group has at
    least ``k`` people and at least ``k`` exits by the horizon (fewer exits
    would let a reader date individual departures). Suppressed rows lose their
    rate, CI and counts."""
    out = km.copy()
    small = (out["n"] < k) | (out["events_by_horizon"] < k)
    for c in ("retention", "ci_low", "ci_high"):
        out[c] = out[c].astype(float).where(~small, np.nan)
    for c in ("n", "events_by_horizon", "n_at_risk"):
        out[c] = out[c].astype(object).where(~small, None)
    out["suppressed"] = small
    return out
