"""Reading an XLSX sheet with openpyxl: cells as typed, merged ranges, hidden rows, and formulas without a saved value."""

from __future__ import annotations

__all__ = ["read_excel_records"]

import re
from pathlib import Path

from rmstudy.errors import Problem
from rmstudy.ingest.layout import RawRead
from rmstudy.ingest.values import is_blank

def read_excel_records(path: Path, file: str, spec: dict, probs: list[Problem], info: dict,
                        warnings: list[str], where: str = "") -> RawRead | None:
    """The rows of an XLSX sheet and its merged cell ranges.

    The workbook is read once with openpyxl (``data_only=True``: a formula gives its last computed value), because
    pandas' reader forgets merged cells. Rows are (spreadsheet row number, cells as openpyxl gives them: text,
    numbers, dates as datetimes; None when empty), from row 1 to the last row holding a value, each cut after the
    last column holding a value anywhere (formatting alone does not make a row or column). Merged ranges are
    (first row, first column, last row, last column, "C1:E1"), rows and columns 1-based.

    Without ``sheet:`` the first sheet is read; when it is hidden that is a problem (a hidden sheet is often an old
    copy), and when the workbook has more than one visible sheet a warning names the sheet read. ``info["sheet"]``
    is the name of the sheet read. Rows hidden in the sheet (by a filter, or a collapsed group) are read, and counted
    in ``info["hidden_rows"]`` (``hidden`` in the returned records' row numbers) for a warning.

    Parameters
    ----------
    path : Path
    file, where : str
        The file's name, and its entry's key path in the mapping.
    spec, info : dict
        The mapping entry; filled with ``sheet`` and ``hidden_rows``.
    probs, warnings : list

    Returns
    -------
    RawRead or None
    """
    given = "sheet" in spec
    sheet = spec.get("sheet", 0)
    try:
        import openpyxl
    except ImportError:
        probs.append(Problem(file, "reading XLSX needs the openpyxl package",
                             "install it (pip install openpyxl==3.1.5), or save the sheet as CSV UTF-8"))
        return None
    if (too_big := _unpacked_problem(path, file)) is not None:
        probs.append(too_big)
        return None
    try:
        wb = openpyxl.load_workbook(path, data_only=True)
    except Exception as e:                   # not a valid workbook (zip or XML errors)
        probs.append(Problem(file, f"cannot be read as an XLSX workbook ({type(e).__name__}: {e})",
                             "save the file again as .xlsx (Excel Workbook) or as CSV UTF-8"))
        return None
    try:
        ws = wb[sheet] if isinstance(sheet, str) else wb.worksheets[sheet]
    except (KeyError, IndexError) as e:      # unknown sheet name or index
        probs.append(Problem(file, f"cannot read sheet {sheet!r} ({e}); the workbook's sheets are {wb.sheetnames}",
                             "name an existing sheet (or its 0-based index) under sheet: in the mapping"))
        return None
    info.update(encoding=None, delimiter=None, sheet=ws.title)
    visible = [w.title for w in wb.worksheets if w.sheet_state == "visible"]
    key = f"{where}.sheet" if where else "sheet"
    if not given and ws.sheet_state != "visible":
        probs.append(Problem(file, f"no sheet: is given and the workbook's first sheet, '{ws.title}', is hidden "
                             f"(its visible sheet(s): {visible}); a hidden sheet is often an old copy, so rmstudy "
                             "does not read it by default",
                             f"name the sheet to read under {key} in the mapping (a hidden sheet may be named too)"))
        return None
    if not given and len(visible) > 1:
        warnings.append(f"{file}: no sheet: is given and the workbook has {len(visible)} visible sheets {visible}; "
                        f"the first, '{ws.title}', was read. Name the sheet under {key} to make the choice explicit")
    rows = [[None if is_blank(v) else v for v in row] for row in ws.iter_rows(values_only=True)]
    unsaved = _unsaved_formulas(path, sheet, ws, rows)
    marks: dict[int, list[int]] = {}
    for r, c in unsaved:
        marks.setdefault(r - 1, []).append(c - 1)
    filled = sorted({i for i, row in enumerate(rows) if any(v is not None for v in row)} | set(marks))
    if not filled:
        probs.append(Problem(file, "file is empty", "export the table again with its header row and data"))
        return None
    rows = rows[:filled[-1] + 1]
    width = max(max((j for j, v in enumerate(row) if v is not None), default=-1) for row in rows) + 1
    width = max([width] + [c + 1 for cs in marks.values() for c in cs])
    rows = [row + [None] * (width - len(row)) for row in rows]
    merged = sorted((r.min_row, r.min_col, r.max_row, r.max_col, r.coord) for r in ws.merged_cells.ranges)
    hidden = {r for r, dim in ws.row_dimensions.items() if dim.hidden and r <= len(rows)}
    return RawRead([(i + 1, row[:width]) for i, row in enumerate(rows)], merged=merged, unsaved=unsaved,
                 epoch=wb.epoch, hidden=hidden)


#: most bytes the parts of a workbook may unpack to; openpyxl holds a sheet's cells, several times its XML, in memory
MAX_UNPACKED = 512 << 20


def _unpacked_problem(path: Path, file: str) -> Problem | None:
    """A workbook whose parts unpack to more than :data:`MAX_UNPACKED` bytes (a "zip bomb": a few kilobytes that
    unpack to gigabytes), found from the zip directory before anything is unpacked. A file that is not a zip
    archive is left to openpyxl, which says so."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            size = sum(i.file_size for i in z.infolist())
    except (OSError, zipfile.BadZipFile):
        return None
    if size <= MAX_UNPACKED:
        return None
    return Problem(file, f"the workbook unpacks to {size:,} bytes, more than the {MAX_UNPACKED:,} (512 MB) rmstudy "
                   "reads", "check that this is the right file; export a large table as CSV UTF-8, which is read "
                   "row by row without this limit")


def _has_formulas(path: Path) -> bool:
    """Whether any worksheet of the workbook holds a formula (a ``<f>`` element), found without parsing the XML, so
    that a workbook without formulas (most exports) is not read a second time."""
    import zipfile

    tag = re.compile(rb"<(?:\w+:)?f[\s>/]")
    try:
        with zipfile.ZipFile(path) as z:
            return any(tag.search(z.read(n)) for n in z.namelist() if n.startswith("xl/worksheets/"))
    except (OSError, zipfile.BadZipFile, KeyError):
        return True


def _unsaved_formulas(path: Path, sheet, ws, rows: list[list]) -> list[tuple[int, int]]:
    """The cells (row, column; 1-based) holding a formula with no saved value.

    A workbook written by a program that does not compute formulas (openpyxl, and others) stores the formula
    without its result, and ``data_only=True`` reads such a cell as empty. The workbook is read a second time,
    without ``data_only`` (streamed, read-only), and only the cells that read as empty are looked at. A formula
    whose saved result is an empty text (Excel writes ``t="str"`` and an empty value) is a real empty cell.
    """
    import openpyxl
    from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

    if not any(v is None for row in rows for v in row) or not _has_formulas(path):
        return []
    out = []
    wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        fs = wb[sheet] if isinstance(sheet, str) else wb.worksheets[sheet]
        for r, frow in enumerate(fs.iter_rows(values_only=True), start=1):
            data = rows[r - 1] if r <= len(rows) else []
            for c, f in enumerate(frow, start=1):
                is_formula = isinstance(f, (ArrayFormula, DataTableFormula)) or (isinstance(f, str) and f.startswith("="))
                if is_formula and (c > len(data) or data[c - 1] is None) and ws.cell(r, c).data_type != "str":
                    out.append((r, c))
    finally:
        wb.close()
    return out
