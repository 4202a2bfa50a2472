"""One input file as read (:class:`Table`): header row(s) recognised (one row, or Qualtrics' three), blank rows set
aside, rows of the wrong width and hidden rows found."""

from __future__ import annotations

__all__ = ["Table", "read_table", "EXCEL_SUFFIXES"]

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path

from rmstudy.errors import Problem
from rmstudy.ingest.layout import (RawRead, is_import_id_row, merged_cell_problems, unsaved_formula_problems,
                                   width_problem)
from rmstudy.ingest.read_csv import read_csv_records
from rmstudy.ingest.read_xlsx import read_excel_records
from rmstudy.ingest.values import cell_text, column_letter, is_blank

EXCEL_SUFFIXES = (".xlsx", ".xlsm")


@dataclass
class Table:
    """One input file as read: header names, data rows and their spreadsheet row numbers.

    ``rows_in`` counts every row after the header row(s), blank ones included; the blank ones are not in ``rows``
    (their numbers are in ``info["blank_rows_skipped"]``).

    Attributes
    ----------
    file : str
    columns : list of str
    rows : list of list
    row_numbers : list of int
    info : dict
    excel : bool
    rows_in : int
    epoch : datetime or None
    header_row : int
    """

    file: str
    columns: list[str]
    rows: list[list]
    row_numbers: list[int]
    info: dict = field(default_factory=dict)
    excel: bool = False
    rows_in: int = 0
    epoch: _dt.datetime | None = None        # XLSX: the workbook's date system, for bare date serial numbers
    header_row: int = 1                      # the spreadsheet row of the (first) header row

    def positions(self, name: str) -> list[int]:
        """The 0-based positions of the columns named ``name`` (more than one when the header repeats it)."""
        return [j for j, c in enumerate(self.columns) if c == name]

    def column_label(self, j: int) -> str:
        """How the 0-based column ``j`` is found in the file: its letter in a workbook, its number in a CSV."""
        return column_letter(j + 1) if self.excel else str(j + 1)


def read_table(path: Path, file: str, spec: dict, what: str, probs: list[Problem], warnings: list[str],
               where: str = "") -> Table | None:
    """Read one input file into a :class:`Table` (header row(s) recognised, blank rows set aside).

    Parameters
    ----------
    path : Path
        The file.
    file : str
        Its name as shown in problems and the report.
    spec : dict
        Its mapping entry (``sheet``, ``encoding``, ``delimiter``).
    what : str
        ``"responses"`` or ``"employees"``, used in messages.
    probs, warnings : list
        Collect problems and report warnings.
    where : str
        The entry's key path in the mapping (``surveys.1``, ``hr``), for fixes that name a key.

    Returns
    -------
    Table or None
        None when the file cannot be used (a problem says why).
    """
    info: dict = {}
    read = _read_records(path, file, spec, probs, info, warnings, where)
    if read is None:
        return None
    records = read.records
    first = next((k for k, (_, cells) in enumerate(records) if not all(is_blank(c) for c in cells)), None)
    if first is None:
        probs.append(Problem(file, "file is empty", "export the table again with its header row and data"))
        return None
    columns = [cell_text(c).strip() for c in records[first][1]]
    rest = _after_header(records, first, info)
    header_first = records[first][0]
    if read.merged:
        merged_cell_problems(file, read.merged, dict(records), columns, header_first,
                             header_first + info["header_rows"] - 1, records[-1][0], probs)
    if read.unsaved:
        # the values are not in the file: nothing more can be read from it until it is saved with them
        unsaved_formula_problems(file, read.unsaved, columns, header_first + info["header_rows"] - 1, probs)
        return None
    rows, numbers, ragged = _data_rows(file, rest, columns, read, info, probs)
    if info["format"] == "xlsx":
        _hidden_rows(file, numbers, read, info, warnings)
    if not rows and ragged:
        return None                      # every row is reported already
    if not rows:
        if info["header_style"].startswith("qualtrics"):
            msg = f"has the three Qualtrics header rows but no {what}"
        else:
            msg = f"has a header but no {what}"
        probs.append(Problem(file, msg, f"export the {what} with their rows"))
        return None
    info["rows_read"] = len(rows)
    return Table(file=file, columns=columns, rows=rows, row_numbers=numbers, info=info,
                 excel=info["format"] == "xlsx", rows_in=len(rest), epoch=read.epoch, header_row=header_first)


def _read_records(path: Path, file: str, spec: dict, probs: list[Problem], info: dict, warnings: list[str],
                  where: str) -> RawRead | None:
    """The file's records, read by the reader its suffix calls for (``info["format"]``, and what the reader found)."""
    if not path.is_file():
        probs.append(Problem(file, "file is missing", "check the file: path in the mapping (relative to the mapping file)"))
        return None
    suffix = path.suffix.lower()
    if suffix == ".xls":
        probs.append(Problem(file, "old .xls workbooks are not read", "save the sheet as .xlsx or as CSV UTF-8"))
        return None
    info["format"] = "xlsx" if suffix in EXCEL_SUFFIXES else "csv"
    if info["format"] == "xlsx":
        read = read_excel_records(path, file, spec, probs, info, warnings, where)
    else:
        read = read_csv_records(path, file, spec, probs, info, warnings)
    info.setdefault("sheet", None)
    return read


def _after_header(records: list, first: int, info: dict) -> list:
    """The records after the header row(s) (the record at ``first``, and two more for a Qualtrics export, whose third
    header row holds ``{"ImportId": ...}`` cells); the header style goes into ``info``."""
    rest = records[first + 1:]
    if len(rest) >= 2 and is_import_id_row(rest[1][1]):
        info["header_style"], info["header_rows"], rest = "qualtrics (3 header rows)", 3, rest[2:]
    else:
        info["header_style"], info["header_rows"] = "one header row", 1
    if first:
        info["leading_blank_rows"] = first
    return rest


def _data_rows(file: str, rest: list, columns: list[str], read: RawRead, info: dict,
               probs: list[Problem]) -> tuple[list[list], list[int], int]:
    """The data rows and their row numbers, blank rows set aside (in ``info["blank_rows_skipped"]``) and rows of the
    wrong width reported; the last item is how many rows had the wrong width."""
    rows, numbers, blank_rows, ragged = [], [], [], 0
    width = len(columns)
    for n, cells in rest:
        if all(is_blank(c) for c in cells):
            blank_rows.append(n)
            continue
        if len(cells) != width:          # CSV only: the rows of a sheet all have the sheet's width
            probs.append(width_problem(file, n, cells, columns, read.lines, info["delimiter"]))
            ragged += 1
            continue
        rows.append(list(cells))
        numbers.append(n)
    info["blank_rows_skipped"] = blank_rows
    return rows, numbers, ragged


def _hidden_rows(file: str, numbers: list[int], read: RawRead, info: dict, warnings: list[str]) -> None:
    """Count the data rows hidden in the sheet (``info["hidden_rows"]``), with a warning naming them."""
    hidden = [n for n in numbers if n in read.hidden]
    info["hidden_rows"] = len(hidden)
    if hidden:
        shown = ", ".join(map(str, hidden[:10])) + (", ..." if len(hidden) > 10 else "")
        warnings.append(f"{file}: {len(hidden)} row(s) of sheet '{info['sheet']}' are hidden in the workbook (by a "
                        f"filter or a collapsed group): row(s) {shown}. They were read like every other row; if "
                        "they were hidden to leave them out, delete them from the export instead")
