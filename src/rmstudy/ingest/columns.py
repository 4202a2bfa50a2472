"""What the survey and HR readers share: the reading context, which columns are used or dropped (and why), the
columns a mapping requires, and a file's row ledger."""

from __future__ import annotations

__all__ = ["Context", "classify_columns", "filled_cells", "blank_header_warnings", "ledger", "near_matches",
           "require_column", "BLANK_ROW"]

import re
from dataclasses import dataclass, field

from rmstudy.contract.codebook import Codebook
from rmstudy.errors import Problem
from rmstudy.ingest.identifiers import looks_like_identifier
from rmstudy.ingest.table import Table
from rmstudy.ingest.values import is_blank

BLANK_ROW = "blank row"


@dataclass
class Context:
    """What the survey and HR readers share.

    Attributes
    ----------
    codebook : Codebook
    waves : tuple of str
    drop : set of str
        Export columns the mapping drops.
    missing_values : set of str
        Cell texts that mean "no answer".
    anchors : dict
        Item -> normalised anchor label -> answer value.
    missing_numbers : set of float
        The missing values that are numbers (-99).
    """

    codebook: Codebook
    waves: tuple[str, ...]
    drop: set[str]
    missing_values: set[str]
    anchors: dict[str, dict[str, float]]     # item -> normalised label -> value
    missing_numbers: set[float] = field(default_factory=set)   # the missing_values that are numbers (-99)


def classify_columns(table: Table, used: dict[str, str], ctx: Context) -> tuple[dict[str, int], list[dict]]:
    """Split a table's columns into used ones (name -> position) and dropped ones (with the reason).

    Parameters
    ----------
    table : Table
        The file as read (:func:`rmstudy.ingest.table.read_table`).
    used : dict
        Export column -> what it is mapped to.
    ctx : Context

    Returns
    -------
    (dict, list of dict)
        Used column -> position; the dropped columns with their reason.
    """
    positions: dict[str, int] = {}
    dropped = []
    for j, name in enumerate(table.columns):
        if name in used and name not in positions:
            positions[name] = j
            continue
        shown = name if name else f"(column {table.column_label(j)}, no header)"
        if name in used:
            reason = "duplicate of a mapped column name"
        elif not name:
            filled = filled_cells(table, j)
            reason = f"no header name; {filled} row(s) hold data in it" if filled else "no header name and no data"
        elif name in ctx.drop:
            reason = "listed in drop"
        elif looks_like_identifier(name):
            reason = "looks like a direct identifier"
        else:
            reason = "not mapped"
        dropped.append({"column": shown, "reason": reason})
    return positions, dropped


def filled_cells(table: Table, j: int) -> int:
    """How many data rows have something in column ``j``.

    Parameters
    ----------
    table : Table
        The file as read (:func:`rmstudy.ingest.table.read_table`).
    j : int
        0-based column.

    Returns
    -------
    int
    """
    return sum(not is_blank(cells[j]) for cells in table.rows)


def blank_header_warnings(table: Table) -> list[str]:
    """A warning for each column without a header name that holds data (it is dropped: it cannot be mapped).

    Parameters
    ----------
    table : Table
        The file as read (:func:`rmstudy.ingest.table.read_table`).

    Returns
    -------
    list of str
    """
    out = []
    for j, name in enumerate(table.columns):
        if not name and (filled := filled_cells(table, j)):
            out.append(f"{table.file}: column {table.column_label(j)} has no header name but {filled} row(s) hold data "
                       "in it; it was dropped. If it matters, give it a name in the header row and map it")
    return out


def ledger(table: Table, written: int, reasons: dict[str, list[int]]) -> dict:
    """What became of every row after the header row(s): ``rows_in == written + excluded``.

    Parameters
    ----------
    table : Table
        The file as read (:func:`rmstudy.ingest.table.read_table`).
    written : int
        Rows written.
    reasons : dict
        Reason -> spreadsheet rows left out.

    Returns
    -------
    dict
        ``rows_in``, ``written``, ``excluded``, ``reasons``.
    """
    reasons = {BLANK_ROW: list(table.info.get("blank_rows_skipped", [])), **reasons}
    reasons = {k: sorted(v) for k, v in reasons.items() if v}
    return {"rows_in": table.rows_in, "written": written, "excluded": sum(len(v) for v in reasons.values()),
            "reasons": reasons}


def _squash(name) -> str:
    """A column name ignoring case, spaces and underscores (``Q1_4`` and ``q1 4`` are the same)."""
    return re.sub(r"[\s_]+", "", str(name)).casefold()


def near_matches(table: Table, name: str, taken=()) -> list[str]:
    """The file's columns that are ``name`` but for case, spaces or underscores (and not ``taken`` by the mapping).

    Parameters
    ----------
    table : Table
        The file as read (:func:`rmstudy.ingest.table.read_table`).
    name : str
        The column the mapping names.
    taken : iterable of str

    Returns
    -------
    list of str
    """
    key = _squash(name)
    return [c for c in dict.fromkeys(table.columns) if c and c != name and c not in taken and _squash(c) == key]


def require_column(table: Table, name: str, what: str, probs: list[Problem]) -> bool:
    """A column the mapping names must be in the file, once.

    Parameters
    ----------
    table : Table
        The file as read (:func:`rmstudy.ingest.table.read_table`).
    name : str
    what : str
        What the column is, for the problem.
    probs : list of Problem
        Appended to.

    Returns
    -------
    bool
        Whether the column is there exactly once.
    """
    where = table.positions(name)
    if not where:
        near = near_matches(table, name)
        shown = ", ".join(repr(c) for c in table.columns[:12]) + (", ..." if len(table.columns) > 12 else "")
        probs.append(Problem(table.file, f"{what} '{name}' is not in the file", f"correct the mapping; the file's "
                             f"columns are {shown}" + (f"; '{near[0]}' differs from '{name}' only in case, spaces or "
                                                       "underscores" if near else ""), column=name))
        return False
    if len(where) > 1:
        probs.append(Problem(table.file, f"column '{name}' appears {len(where)} times in the header",
                             "rename the duplicates in the export so that each mapped name is unique", column=name))
        return False
    return True
