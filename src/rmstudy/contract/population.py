"""The one population matcher: which participants a hypothesis's ``population`` filter (study.yaml) selects.

A population is data, never code: a mapping of participants.csv column → a value or a list of values, plus an
optional ``age: {min, max}`` (inclusive, years at baseline). Text is compared in one Unicode form (NFC) on both
sides, so ``Réseau`` typed with a combining accent (NFD) is the same department as the precomposed one; numbers
are compared as numbers. ``load_cohort``'s plan check, ``validate``'s warnings and every analysis use the
functions below, so a value that matches rows in the analysis can never be refused as "matches nobody" at load.
"""

from __future__ import annotations

__all__ = ["normalise_text", "population_values", "value_matches", "population_mask", "select_population",
           "unmatched_values", "near_misses"]

import unicodedata

import numpy as np
import pandas as pd

from rmstudy.contract.cells import per_text
from rmstudy.errors import CohortError, Problem


def normalise_text(text) -> str:
    """A text value in the form populations compare: ``str``, Unicode NFC.

    Parameters
    ----------
    text : object
        A cell or filter value.

    Returns
    -------
    str
        ``str(text)`` in Unicode NFC.

    Examples
    --------
    >>> normalise_text("Re\\u0301seau") == normalise_text("R\\u00e9seau") == "R\\u00e9seau"
    True
    """
    return unicodedata.normalize("NFC", str(text))


def _normalised(column: pd.Series) -> pd.Series:
    """:func:`normalise_text` of every cell, worked out once per distinct text (a column of 100,000 cells
    holds a handful of departments)."""
    forms = per_text(column.astype(str), lambda texts: np.array([normalise_text(t) for t in texts], dtype=object))
    return pd.Series(forms, index=column.index, dtype=object)


def population_values(value) -> list:
    """The filter's values as a list (a single value is a list of one).

    Parameters
    ----------
    value : object or list
        A filter's value(s).

    Returns
    -------
    list
        The values.

    Examples
    --------
    >>> population_values("Sales"), population_values(["Sales", "HR"])
    (['Sales'], ['Sales', 'HR'])
    """
    return list(value) if isinstance(value, (list, tuple)) else [value]


def value_matches(column: pd.Series, values) -> pd.Series:
    """Boolean mask of the cells of one participants.csv column equal to any of ``values``.

    Numeric columns compare numbers (``float(v)``; raises ``ValueError``/``TypeError`` for a value that is not a
    number), text columns compare NFC text.

    Parameters
    ----------
    column : Series
        One participants.csv column.
    values : object or list
        The filter value(s).

    Returns
    -------
    Series of bool
        True where a cell equals one of ``values``.

    Examples
    --------
    >>> s = pd.Series(["Re\\u0301seau", "Sales", "R\\u00e9seau"])
    >>> value_matches(s, "R\\u00e9seau").tolist()
    [True, False, True]
    >>> value_matches(pd.Series([1.0, 2.0]), [2]).tolist()
    [False, True]
    """
    vals = population_values(values)
    if pd.api.types.is_numeric_dtype(column):
        return column.isin([float(v) for v in vals])
    return _normalised(column).isin([normalise_text(v) for v in vals])


def population_mask(participants: pd.DataFrame, population: dict | None, hid: str = "") -> pd.Series:
    """Boolean mask (index of ``participants``) of the participants a population filter selects.

    Parameters
    ----------
    participants : DataFrame
        participants.csv as loaded.
    population : dict or None
        The hypothesis's ``population`` filter: column -> value, list of values or ``{min, max}`` (None selects all).
    hid : str
        The hypothesis id, named in a problem.

    Returns
    -------
    Series of bool
        True for each selected participant.

    Raises
    ------
    CohortError
        when the filter names a column participants.csv does not have.

    Examples
    --------
    >>> P = pd.DataFrame({"role": ["junior", "senior", "junior"], "age": [24.0, 51.0, 31.0]})
    >>> population_mask(P, {"role": "junior", "age": {"max": 30}}).tolist()
    [True, False, False]
    """
    keep = pd.Series(True, index=participants.index)
    for col, val in (population or {}).items():
        if col == "age":
            age = participants["age"]
            if "min" in val:
                keep &= age >= val["min"]
            if "max" in val:
                keep &= age <= val["max"]
            continue
        if col not in participants.columns:
            raise CohortError(Problem("study.yaml", f"population of {hid} filters on '{col}', which is not a column "
                                      "of participants.csv", f"use one of {list(participants.columns)}",
                                      column=f"{hid}.population"))
        keep &= value_matches(participants[col], val)
    return keep


def select_population(participants: pd.DataFrame, population: dict | None, hid: str = "") -> pd.DataFrame:
    """The rows of ``participants`` a hypothesis's population filter selects (:func:`population_mask`).

    Parameters
    ----------
    participants : DataFrame
        participants.csv as loaded.
    population : dict or None
        The hypothesis's ``population`` filter: column -> value, list of values or ``{min, max}`` (None selects all).
    hid : str
        The hypothesis id, named in a problem.

    Returns
    -------
    DataFrame
        The selected rows (all rows when ``population`` is empty).

    Examples
    --------
    >>> P = pd.DataFrame({"participant_id": ["a", "b"], "department": ["Re\\u0301seau", "Sales"]})
    >>> select_population(P, {"department": "R\\u00e9seau"})["participant_id"].tolist()
    ['a']
    """
    return participants[population_mask(participants, population, hid)]


def unmatched_values(column: pd.Series, values) -> list:
    """The filter values that match no cell of ``column`` (compared as :func:`value_matches` compares).

    Parameters
    ----------
    column : Series
        One participants.csv column.
    values : object or list
        The filter value(s).

    Returns
    -------
    list
        The values no cell matches, in the filter's order.

    Examples
    --------
    >>> unmatched_values(pd.Series(["Sales", "HR"]), ["HR", "Legal"])
    ['Legal']
    """
    return [v for v in population_values(values) if not value_matches(column, v).any()]


def near_misses(column: pd.Series, values) -> pd.Series:
    """Text cells that equal a filter value only once surrounding spaces are removed (``'Sales '`` for
    ``'Sales'``): they silently fall out of the population, so ``rmstudy validate`` warns about them.

    Parameters
    ----------
    column : Series
        One participants.csv column.
    values : object or list
        The filter value(s).

    Returns
    -------
    Series of bool
        True for each near miss.

    Examples
    --------
    >>> near_misses(pd.Series(["Sales ", "Sales", " HR"]), ["Sales"]).tolist()
    [True, False, False]
    """
    wanted = {normalise_text(v) for v in population_values(values)}
    text = _normalised(column)
    return text.str.strip().isin(wanted) & ~text.isin(wanted)
