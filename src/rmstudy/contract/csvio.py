"""Bounded reading of CSV files, and text cells made safe to open in a spreadsheet.

Reading: a line longer than a limit is found by streaming the file in 1 MB chunks, before a parser holds the file
in memory.

Without it, a file with a 1 GB line (no line break: a binary, or a table saved without row ends) took 7.4 GB of
memory to read and was reported as a stray quote. Every CSV rmstudy reads goes through :func:`long_line_problem`
first: cohort tables (``participants.csv``, ``responses.csv``, ``employment.csv``) with a limit of
:data:`COHORT_LINE_LIMIT` (1 MiB: a cohort row holds ids, codes, numbers and dates), raw survey exports and HR
extracts read by ``rmstudy ingest`` with :data:`EXPORT_LINE_LIMIT` (64 MiB: a free-text answer may be long).

Records: :func:`record_problems` finds a duplicated header name, a row with more or fewer cells than the header and
a stray quote, before pandas reads the table.

Writing: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a formula by
Excel, LibreOffice and Google Sheets when the CSV is opened (``=HYPERLINK(...)`` sends data away, ``=cmd|...``
starts programs). :func:`neutralise_text_columns` puts a single quote before such text (the spreadsheet shows the
text as written), leaving numbers alone: ``-3`` in a numeric column, and a text cell that is a plain number such as
``-3`` or ``+44``, stay as they are, since a spreadsheet reads them as numbers, not formulas.
"""

from __future__ import annotations

__all__ = ["first_long_line", "long_line_problem", "record_problems", "neutralise_formula", "neutralise_text_columns",
           "COHORT_LINE_LIMIT", "EXPORT_LINE_LIMIT", "FORMULA_STARTS"]

import csv
import io
import re
from pathlib import Path

from rmstudy.contract.rows import spreadsheet_row
from rmstudy.errors import Problem

#: longest line of a cohort CSV, in bytes (1 MiB)
COHORT_LINE_LIMIT = 1 << 20
#: longest line of a raw export read by ingest, in bytes (64 MiB; a cell may hold up to 50 MB of text)
EXPORT_LINE_LIMIT = 64 << 20
_CHUNK = 1 << 20
#: first characters that make a spreadsheet read a cell as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def first_long_line(path: str | Path, limit: int, chunk: int = _CHUNK) -> int | None:
    """The number (1-based) of the first line of a file longer than ``limit`` bytes, or None.

    Lines end with ``\\n``, ``\\r\\n`` or ``\\r`` (the line ends a CSV reader accepts); the line end is not counted.
    The file is read in chunks of ``chunk`` bytes and reading stops at the first long line, so memory stays at about
    one chunk whatever the file holds.

    Parameters
    ----------
    path : str or Path
        The file.
    limit : int
        The longest line allowed, in bytes.
    chunk : int
        Bytes read at a time.

    Returns
    -------
    int or None
        The 1-based number of the first longer line; None when there is none.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("wb", delete=False) as fh:
    ...     _ = fh.write(b"id,arm\\r\\nP1,program\\r\\n" + b"x" * 50 + b"\\nP3,control\\n")
    >>> first_long_line(fh.name, 40), first_long_line(fh.name, 50)
    (3, None)
    >>> os.unlink(fh.name)
    """
    line, length, after_cr = 1, 0, False
    with open(path, "rb") as fh:
        while buf := fh.read(chunk):
            if after_cr and buf.startswith(b"\n"):
                buf = buf[1:]                       # the \n of a \r\n split between two chunks
            after_cr = buf.endswith(b"\r")
            parts = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
            if length + len(parts[0]) > limit:
                return line
            if len(parts) == 1:
                length += len(parts[0])
                continue
            whole = parts[1:-1]
            if whole and max(map(len, whole)) > limit:
                return line + 1 + next(k for k, p in enumerate(whole) if len(p) > limit)
            line += len(parts) - 1
            length = len(parts[-1])
            if length > limit:
                return line
    return None


def long_line_problem(path: str | Path, file: str, limit: int = COHORT_LINE_LIMIT) -> Problem | None:
    """A problem naming the first row longer than ``limit`` bytes (None when every line is shorter).

    Parameters
    ----------
    path : str or Path
        The CSV file.
    file : str
        Its name as shown in the problem.
    limit : int
        The longest line allowed, in bytes (:data:`COHORT_LINE_LIMIT` or :data:`EXPORT_LINE_LIMIT`).

    Returns
    -------
    Problem or None
        The problem (file, row, fix), or None.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("wb", delete=False) as fh:
    ...     _ = fh.write(b"id,arm\\n" + b"P1," + b"x" * 2000)
    >>> print(long_line_problem(fh.name, "participants.csv", limit=1000).message)
    row 2 is longer than 1,000 bytes (1 KB); no row of this kind of file is that long
    >>> os.unlink(fh.name)
    """
    n = first_long_line(path, limit)
    if n is None:
        return None
    size = f"{limit >> 20} MB" if limit >= 1 << 20 else f"{max(limit // 1000, 1)} KB"
    return Problem(file, f"row {n} is longer than {limit:,} bytes ({size}); no row of this kind of file is that long",
                   "check that this is the right file, saved as CSV with one row per line (a binary file, or a table "
                   "saved without line breaks, is read as one endless row); export the table again as CSV UTF-8",
                   row=n)


def _header_problems(cells: list[str], name: str) -> list[Problem]:
    """A header naming a column twice (also once with surrounding spaces)."""
    names = [c.strip() for c in cells]
    return [Problem(name, f"column '{col}' appears {names.count(col)} times in the header"
                    + (" (counting names with surrounding spaces)"
                       if any(c != c.strip() and c.strip() == col for c in cells) else ""),
                    "keep one column of that name; delete or rename the other(s)", row=1, column=col)
            for col in sorted({c for c in names if names.count(c) > 1})]


def _width_problem(name: str, n: int, width: int, k: int) -> Problem:
    return Problem(name, f"row has {n} cells but the header has {width}",
                   "check the row for a missing or extra comma (quote cells that contain commas)",
                   row=spreadsheet_row(k - 1))


def record_problems(text: str, name: str) -> list[Problem]:
    """Problems of the CSV records: a header naming a column twice, a row with more or fewer cells than the
    header, and a stray quote that swallows line breaks (or never closes).

    A text without a quote character is read line by line (each line a record, its cells its commas plus one:
    what Python's csv reader makes of it, ten times faster); one with a quote, or a line longer than the csv
    reader's field-size limit, is read by the csv reader (:func:`_csv_record_problems`).

    Parameters
    ----------
    text : str
        The file's text.
    name : str
        The file's name, for the problems.

    Returns
    -------
    list of Problem
        Empty when every record has the header's number of cells.

    Examples
    --------
    >>> [(p.row, p.message) for p in record_problems("id,arm\\nP1,program\\nP2\\n\\n  \\nP3,control,x\\n", "p.csv")]
    [(3, 'row has 1 cells but the header has 2'), (6, 'row has 3 cells but the header has 2')]
    """
    if '"' in text:
        return _csv_record_problems(text, name)
    lines = re.split(r"\r\n|\r|\n", text)       # the line ends csv's reader knows
    if max(map(len, lines)) > csv.field_size_limit():
        return _csv_record_problems(text, name)
    width = len(lines[0].split(","))
    bad = _header_problems(lines[0].split(","), name)
    for k, line in enumerate(lines[1:], start=1):
        n = line.count(",") + 1
        if n != width and (n > 1 or line.strip()):      # a line of nothing or spaces only is blank
            bad.append(_width_problem(name, n, width, k))
    return bad


def _csv_record_problems(text: str, name: str) -> list[Problem]:
    """:func:`record_problems` by Python's csv reader."""
    records = csv.reader(io.StringIO(text, newline=""))
    quoted = '"' in text                 # without a quote character no cell can hold a line break
    width, bad, k = None, [], -1
    try:
        for k, cells in enumerate(records):
            if width is None:
                width = len(cells)
                bad += _header_problems(cells, name)
            elif cells and not (len(cells) == 1 and not cells[0].strip()):   # a line of spaces is blank
                # no cell of a cohort table holds a line break: one that does was opened by a stray quote, and
                # has swallowed the rows after it (even when the cell count still matches the header)
                spill = next((c for c in cells if "\n" in c or "\r" in c), None) if quoted else None
                if spill is None and len(cells) == width:
                    continue
                if spill is not None:
                    bad.append(Problem(name, f"a quote character (\") opens a cell here that runs over "
                                       f"{spill.count(chr(10)) + 1} lines and takes in the rows below it",
                                       "remove the stray quote (cohort cells never hold line breaks)", row=spreadsheet_row(k - 1)))
                else:
                    bad.append(_width_problem(name, len(cells), width, k))
    except csv.Error as e:              # e.g. a stray quote that swallows the rest of a large file
        bad.append(Problem(name, f"a quote character (\") opens a cell here that never closes ({e})",
                           "remove the stray quote, or close it where the cell ends", row=spreadsheet_row(k)))
    return bad


def neutralise_formula(text):
    """Text as written to a CSV that people open in a spreadsheet: ``'`` put before text a spreadsheet would run as a
    formula. Anything that is not text, a plain number, and a single character are returned unchanged.

    Parameters
    ----------
    text : object
        A cell value.

    Returns
    -------
    object
        ``text`` with ``'`` in front when a spreadsheet would run it, else ``text`` unchanged.

    Examples
    --------
    >>> [neutralise_formula(v) for v in ["=SUM(A1:A9)", "@SUM(A1)", "+1 555", "-3", "-", "Sales", 4.0]]
    ["'=SUM(A1:A9)", "'@SUM(A1)", "'+1 555", '-3', '-', 'Sales', 4.0]
    """
    if (isinstance(text, str) and len(text) > 1 and text.startswith(FORMULA_STARTS)
            and not _PLAIN_NUMBER.fullmatch(text)):
        return "'" + text
    return text


def neutralise_text_columns(df):
    """A copy of a table with every text cell passed through :func:`neutralise_formula`, and how many changed.

    Only columns of object or string dtype are looked at: numbers (negative ones included) and dates stay as they
    are.

    Parameters
    ----------
    df : DataFrame
        The table to be written.

    Returns
    -------
    (DataFrame, int)
        The copy, and the number of cells changed.

    Examples
    --------
    >>> import pandas as pd
    >>> out, n = neutralise_text_columns(pd.DataFrame({"dept": ["=1+2", "Sales"], "age": [-3.0, 40.0]}))
    >>> out["dept"].tolist(), out["age"].tolist(), n
    (["'=1+2", 'Sales'], [-3.0, 40.0], 1)
    """
    out = df.copy()
    changed = 0
    for c in out.columns:
        if out[c].dtype == object or str(out[c].dtype).startswith("string"):
            new = out[c].map(neutralise_formula)
            changed += int((new.astype(object) != out[c].astype(object)).sum())
            out[c] = new
    return out, changed
