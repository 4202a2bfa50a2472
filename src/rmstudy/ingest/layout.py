"""What a reader got from one file (:class:`RawRead`), and the problems of a file's layout: merged cells, formulas
without a saved value, rows of the wrong width, and Qualtrics' third header row."""

from __future__ import annotations

__all__ = ["RawRead", "unsaved_formula_problems", "width_problem", "merged_cell_problems", "is_import_id_row"]

import datetime as _dt
import re
from dataclasses import dataclass, field

from rmstudy.errors import Problem
from rmstudy.ingest.values import cell_text, column_letter, is_blank

_IMPORT_ID = re.compile(r'\{\s*"ImportId"')


@dataclass
class RawRead:
    """What a reader got from one file: (spreadsheet row number, cells) records and what is needed to judge them.

    Attributes
    ----------
    records : list
        (spreadsheet row number, cells).
    merged, unsaved : list
        XLSX merged ranges; formula cells without a saved value.
    lines : dict
        CSV record number -> (first, last) line.
    epoch : datetime or None
        XLSX date system.
    hidden : set
        XLSX hidden rows.
    """

    records: list
    merged: list = field(default_factory=list)     # XLSX merged ranges (first row, first col, last row, last col, ref)
    lines: dict = field(default_factory=dict)      # CSV: record number -> (first, last) line of the file it spans
    unsaved: list = field(default_factory=list)    # XLSX: (row, column) of formulas with no saved value, 1-based
    epoch: _dt.datetime | None = None              # XLSX: the workbook's date system (1899-12-30 or 1904-01-01)
    hidden: set = field(default_factory=set)       # XLSX: the rows hidden in the sheet (a filter, a collapsed group)


_UNSAVED_SHOWN = 3       # formula cells without a saved value reported one by one per column; the rest are counted


def unsaved_formula_problems(file: str, cells: list[tuple[int, int]], columns: list[str], header_last: int,
                              probs: list[Problem]) -> None:
    """A problem per formula cell with no saved value: the first few of each column, the others counted in the last.

    The cell would read as empty, so an answer, an id or a date would be silently lost. The formula itself is not
    quoted (it may hold personal data).

    Parameters
    ----------
    file : str
    cells : list of (int, int)
        1-based (row, column) of the formula cells.
    columns : list of str
        The header names.
    header_last : int
        The last header row.
    probs : list of Problem
        Appended to.
    """
    by_col: dict[int, list[int]] = {}
    for r, c in sorted(cells, key=lambda rc: (rc[1], rc[0])):
        by_col.setdefault(c, []).append(r)
    fix = ("open the workbook in Excel or LibreOffice and save it (that stores every formula's value), or copy the "
           "column and paste it as values")
    for c, rows in by_col.items():
        name = columns[c - 1] if c - 1 < len(columns) else ""
        for k, r in enumerate(rows[:_UNSAVED_SHOWN]):
            column = name if (name and r > header_last) else f"column {column_letter(c)}"
            msg = "formula with no saved value (the workbook was written by a program that does not compute " \
                  "formulas), so the cell reads as empty"
            rest = rows[_UNSAVED_SHOWN:]
            if rest and k == _UNSAVED_SHOWN - 1:
                shown = ", ".join(map(str, rest[:10])) + (", ..." if len(rest) > 10 else "")
                msg += f"; {len(rest)} more cell(s) of this column hold such a formula (row(s) {shown})"
            probs.append(Problem(file, msg, fix, row=r, column=column))


def width_problem(file: str, n: int, cells: list, columns: list[str], lines: dict, delimiter: str | None) -> Problem:
    """A CSV row whose number of cells is not the header's: its cells cannot be matched to the columns.

    Padding a short row or cutting a long one would shift answers into the wrong columns (an unquoted decimal comma
    ``12,5`` makes two cells of one). A stray quote character makes one cell of the rest of the line and the
    following lines; the message then says so, with the lines of the file the cell runs over.

    Parameters
    ----------
    file : str
    n : int
        The spreadsheet row.
    cells : list
    columns : list of str
    lines : dict
        Record -> lines of the file.
    delimiter : str or None

    Returns
    -------
    Problem
    """
    width = len(columns)
    msg = f"row has {len(cells)} cells but the header has {width}"
    j = next((j for j, c in enumerate(cells) if "\n" in c or "\r" in c), None)
    if j is not None:
        first, last = lines.get(n, (None, None))
        where = f" (lines {first} to {last} of the file)" if first is not None else ""
        count = (last - first + 1) if first is not None else len(cells[j].splitlines())
        msg += (f": a quote character opens a cell that runs over {count} lines{where}, so the rows on those lines "
                "are read as text inside this cell")
        fix = ('remove the stray quote character ("), or close the quote where the cell ends; a quote that belongs '
               'to the text is written twice ("") inside a quoted cell')
        return Problem(file, msg, fix, row=n, column=columns[j] if j < width and columns[j] else None)
    shown = delimiter or "delimiter"          # as in the report: comma, semicolon, tab, or the character
    if len(cells) > width:
        fix = (f"a {shown} inside an unquoted value splits it into two cells and shifts every cell after it (e.g. a "
               f"decimal comma, 12,5, in a comma-separated file): quote such values, or export the file with another "
               f"delimiter; every row needs exactly one cell per header column")
    else:
        fix = ("the row lacks cells, so its values cannot be matched to the columns: export the file again, or add "
               "the missing cells (empty ones if need be) so that every row has one cell per header column")
        if columns and not columns[-1]:
            fix += f"; if only the header line ends with a {shown}, remove that {shown}"
    return Problem(file, msg, fix, row=n)


def merged_cell_problems(file: str, merged: list, cells_of: dict[int, list], columns: list[str], header_first: int,
                          header_last: int, last_row: int, probs: list[Problem]) -> None:
    """A problem for every merged range touching the header row(s) or the data rows of a sheet.

    A merged range keeps its value in its first (top-left) cell only; every other cell of it reads as empty. In the
    header that leaves columns without a name (their data would be dropped as unnamed columns); in the data it
    leaves answers or ids empty. Ranges wholly above the header or below the last filled row hold nothing.

    Parameters
    ----------
    file : str
    merged : list
        The ranges (:class:`RawRead`).
    cells_of : dict
        Row -> cells.
    columns : list of str
    header_first, header_last, last_row : int
    probs : list of Problem
        Appended to.
    """
    def value(r, c):
        row = cells_of.get(r, [])
        return cell_text(row[c - 1]).strip() if c - 1 < len(row) else ""

    for r0, c0, r1, c1, coord in merged:
        if r1 < header_first or r0 > last_row:
            continue
        top = value(r0, c0)     # header text (a question), or a data value that is not shown below
        shown = f" '{top}'" if top else ""
        first_cell = f"{column_letter(c0)}{r0}"
        if r0 <= header_last:
            if c1 > c0:
                others = column_letter(c0 + 1) + ("" if c1 == c0 + 1 else f" to {column_letter(c1)}")
                effect = f"only column {column_letter(c0)} gets the name{shown}; column(s) {others} get no name"
            else:
                effect = f"only {first_cell} keeps its text{shown}; the other cells read as empty"
            probs.append(Problem(file, f"header cells {coord} are merged: {effect}",
                                 "unmerge the header cells and give every column its own name in one header row",
                                 row=max(r0, header_first), column=f"{coord}{shown}"))
        else:
            names = [f"'{columns[j]}'" if j < len(columns) and columns[j] else f"column {column_letter(j + 1)}"
                     for j in range(c0 - 1, c1)]
            n = (r1 - r0 + 1) * (c1 - c0 + 1)
            # the value itself is not quoted: a data cell may hold a name or another personal detail
            probs.append(Problem(file, f"cells {coord} are merged: only {first_cell} keeps its value"
                                 + ("" if top else " (here empty)") + f"; the other {n - 1} cell(s) read as empty",
                                 "unmerge the cells and enter the value in every cell it belongs to",
                                 row=r0, column=f"{coord} " + ", ".join(dict.fromkeys(names))))


def is_import_id_row(cells: list) -> bool:
    """Qualtrics' third header row: every non-empty cell starts with ``{"ImportId"``.

    Parameters
    ----------
    cells : list

    Returns
    -------
    bool
    """
    filled = [cell_text(c).strip() for c in cells if not is_blank(c)]
    return bool(filled) and all(_IMPORT_ID.match(c) for c in filled)
