"""Reading cohort cells as texts and numbers, once per distinct text (the text pass of contract/table_schemas.py).

A column of a cohort CSV holds many cells and few distinct texts (answer points, arms, waves), so every
reading here is worked out for each distinct text and spread back over the rows.
"""

from __future__ import annotations

__all__ = ["per_text", "stripped", "blank", "read_numbers", "read_dates", "ISO_DATE", "FIRST_DAY", "LAST_DAY"]

from typing import Callable

import numpy as np
import pandas as pd

#: a date cell's shape (YYYY-MM-DD), and the days a date may fall on: outside them a year is a typing slip or a
#: placeholder (9999-12-31), whose day counts overflow
ISO_DATE = r"\d{4}-\d{2}-\d{2}"
FIRST_DAY, LAST_DAY = pd.Timestamp("1900-01-01"), pd.Timestamp("2100-12-31")


def per_text(s: pd.Series, fn: Callable[[pd.Series], np.ndarray]) -> np.ndarray:
    """``fn`` (a Series of texts -> an array of as many values) of every cell of ``s``, worked out once per
    distinct cell: an answer column of 100,000 rows holds a handful of distinct texts.

    Parameters
    ----------
    s : Series
        The cells (a missing cell is a distinct value of its own).
    fn : callable
        Series of the distinct cells -> array of as many values.

    Returns
    -------
    ndarray
        One value per cell of ``s``, in its order.

    Examples
    --------
    >>> per_text(pd.Series(["b", "a", "b"]), lambda t: t.str.upper().to_numpy()).tolist()
    ['B', 'A', 'B']
    """
    codes, texts = pd.factorize(s.to_numpy())       # a missing cell gets code -1, read below as the last text
    texts = np.asarray(texts, dtype=object)
    texts = pd.Series(np.append(texts, np.nan) if (codes < 0).any() else texts, dtype=object)
    return np.asarray(fn(texts))[codes]


def stripped(s: pd.Series) -> pd.Series:
    """Every cell as a text without surrounding spaces (Python's strip: Unicode spaces too).

    Parameters
    ----------
    s : Series

    Returns
    -------
    Series
        The stripped texts, with ``s``'s index.

    Examples
    --------
    >>> stripped(pd.Series([" a", "b\u00a0", " a"])).tolist()
    ['a', 'b', 'a']
    """
    return pd.Series(per_text(s, lambda t: t.astype(str).str.strip().to_numpy(dtype=object)), index=s.index)


def blank(s: pd.Series) -> np.ndarray:
    """Where a cell is missing or holds only spaces: a participant in no pair, group or cluster. The one rule for
    an empty id cell; any other text (``'nan'``, ``'0'``) is an id like the rest.

    Parameters
    ----------
    s : Series
        Id cells (texts, numbers or missing values).

    Returns
    -------
    ndarray of bool
        One per cell of ``s``, in its order.

    Examples
    --------
    >>> blank(pd.Series(["p1", " ", None, float("nan"), "nan", "\u00a0", 0])).tolist()
    [False, True, True, True, False, True, False]
    """
    return per_text(s, lambda t: (t.isna() | (t.astype(str).str.strip() == "")).to_numpy(dtype=bool))


def read_numbers(s: pd.Series) -> np.ndarray:
    """Each text read as a number, and whether it is a number or empty.

    Parameters
    ----------
    s : Series
        Texts.

    Returns
    -------
    ndarray
        (n, 2): the number (NaN where there is none) and 1.0 where the cell is a number or empty, else 0.0.

    Examples
    --------
    >>> read_numbers(pd.Series([" 4 ", "", "inf", "x", "2.5"])).tolist()
    [[4.0, 1.0], [nan, 1.0], [nan, 0.0], [nan, 0.0], [2.5, 1.0]]
    """
    # to_numeric takes " 4 " and "4.0" as they are; only the cells it cannot read are looked at again
    values = pd.to_numeric(s, errors="coerce").astype(float)
    # "inf" parses as a float but is not an answer anyone typed on purpose ("nan" already fails): not a number
    inf = np.isinf(values.to_numpy())
    ok = values.notna().to_numpy() & ~inf
    unread = ~ok
    if unread.any():
        # Python's strip also removes non-breaking and other Unicode spaces, which to_numeric does not accept
        t = s[unread].astype(str).str.strip()
        again = pd.to_numeric(t.where(t != ""), errors="coerce").astype(float)
        fine = again.notna().to_numpy() & ~np.isinf(again.to_numpy())
        values.iloc[np.flatnonzero(unread)[fine]] = again.to_numpy()[fine]
        ok[unread] = ((t == "").to_numpy() | fine) & ~inf[unread]
    return np.column_stack([values.where(~inf).to_numpy(), ok])


def read_dates(t: pd.Series) -> np.ndarray:
    """Each stripped text read as an ISO date (YYYY-MM-DD), NaT where it is none.

    Parameters
    ----------
    t : Series
        Stripped texts.

    Returns
    -------
    ndarray of datetime64
        Years outside 1900-2100 are NaT: typing slips or placeholders (9999-12-31), whose day counts overflow.

    Examples
    --------
    >>> read_dates(pd.Series(["2024-02-29", "2023-02-29", "9999-12-31", "24-1-1", ""])).astype(str).tolist()
    ['2024-02-29T00:00:00.000000000', 'NaT', 'NaT', 'NaT', 'NaT']
    """
    t = t.astype(str)
    values = pd.to_datetime(t.where(t.str.fullmatch(ISO_DATE)), format="%Y-%m-%d", errors="coerce")
    return values.where((values >= FIRST_DAY) & (values <= LAST_DAY)).to_numpy()
