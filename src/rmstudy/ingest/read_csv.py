"""Reading a CSV export: encoding (UTF-8 with or without a BOM, UTF-16, Latin-1) and delimiter (comma, semicolon,
tab) detected, every record with the lines of the file it spans.

Refused before the file is parsed: a workbook or archive with a .csv name, a line longer than 64 MB
(:data:`rmstudy.contract.csvio.EXPORT_LINE_LIMIT`, found by streaming the file: a 1 GB line without a line break
costs about 1 MB of memory to refuse), and NUL bytes (a binary file, not text).
"""

from __future__ import annotations

__all__ = ["read_csv_records", "DELIMITERS"]

import codecs
import csv
import io
from pathlib import Path

from rmstudy.contract.csvio import EXPORT_LINE_LIMIT, long_line_problem
from rmstudy.errors import Problem
from rmstudy.ingest.layout import RawRead

DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}


def _sniff_delimiter(text: str) -> str:
    """The delimiter (comma, semicolon or tab) that splits the first non-empty line into the most cells."""
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    best, best_n = ",", 1
    for d in DELIMITERS:
        n = len(next(csv.reader([line], delimiter=d), []))
        if n > best_n:
            best, best_n = d, n
    return best


_CSV_FIELD_LIMIT = 50 * 1024 * 1024     # characters in one CSV cell
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _binary_problem(data: bytes, path: Path, file: str) -> Problem | None:
    """A file read as CSV whose bytes are a workbook (or another archive): one problem instead of garbage cells."""
    if data.startswith(_ZIP_MAGIC):
        try:
            import zipfile

            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
        except Exception:              # a damaged archive: still not a CSV
            names = set()
        if "xl/workbook.xml" in names:
            return Problem(file, f"this is an XLSX workbook saved with a {path.suffix or 'missing'} name, not a CSV",
                           "rename the file to .xlsx and write that name under file: in the mapping, or open it in "
                           "Excel/LibreOffice and save it as CSV UTF-8")
        return Problem(file, "this is a zip archive (e.g. an .ods or .docx file), not a CSV",
                       "export the table as CSV UTF-8 or .xlsx")
    if data.startswith(_OLE_MAGIC):
        return Problem(file, "this is an old Excel .xls workbook (or a password-protected workbook), not a CSV",
                       "open it in Excel/LibreOffice and save it, without a password, as .xlsx or CSV UTF-8")
    return None


def read_csv_records(path: Path, file: str, spec: dict, probs: list[Problem], info: dict,
                      warnings: list[str]) -> RawRead | None:
    """The rows of a CSV as (spreadsheet row number, cells), with the lines of the file each one spans; encoding and
    delimiter detected and put in ``info``.

    Parameters
    ----------
    path : Path
    file : str
    spec : dict
        The mapping entry.
    probs : list of Problem
    info : dict
        Filled with ``encoding`` and ``delimiter``.
    warnings : list of str

    Returns
    -------
    RawRead or None
    """
    with open(path, "rb") as fh:
        head = fh.read(len(_OLE_MAGIC))
    # a workbook or archive first, then a line too long to hold (before the file is held in memory)
    refused = _binary_problem(head, path, file) or long_line_problem(path, file, EXPORT_LINE_LIMIT)
    if refused is not None:
        probs.append(refused)
        return None
    data = path.read_bytes()
    if not data.strip():
        probs.append(Problem(file, "file is empty", "export the table again with its header row and data"))
        return None
    encoding = spec.get("encoding")
    if b"\x00" in data and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not (
            encoding and encoding.lower().replace("_", "-").startswith(("utf-16", "utf-32"))):
        row = data[:data.index(b"\x00")].count(b"\n") + 1
        probs.append(Problem(file, "the file holds a NUL byte (a binary zero), so it is not a text CSV",
                             "export the table again as CSV UTF-8 (if it is UTF-16 text without a byte-order mark, "
                             "set encoding: utf-16 for it in the mapping)", row=row))
        return None
    if encoding:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as e:
            probs.append(Problem(file, f"cannot be read as {encoding} ({e})",
                                 "correct encoding: in the mapping, or remove it to let rmstudy detect it"))
            return None
        info["encoding"] = encoding
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text, info["encoding"] = data.decode("utf-16"), "utf-16"
    else:
        try:
            text = data.decode("utf-8-sig")
            info["encoding"] = "utf-8 with BOM" if data.startswith(codecs.BOM_UTF8) else "utf-8"
        except UnicodeDecodeError as e:
            text = data.decode("latin-1")
            info["encoding"] = "latin-1"
            warnings.append(f"{file}: not UTF-8 ({e.reason} at byte {e.start}); read as Latin-1. Check "
                                    "accented characters, or set encoding: (e.g. cp1252) in the mapping")
    text = text.lstrip("\ufeff")
    delimiter = spec.get("delimiter") or _sniff_delimiter(text)
    info["delimiter"] = DELIMITERS.get(delimiter, delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records, lines, last = [], {}, 0
    # a long free-text answer (over the csv module's default 131072 characters) is a cell like any other; a stray
    # quote is found by the row's number of cells and its line breaks (_width_problem), not by this limit
    limit = csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    try:
        for n, row in enumerate(reader, start=1):
            records.append((n, row))
            lines[n] = (last + 1, reader.line_num)
            last = reader.line_num
        return RawRead(records, lines=lines)
    except csv.Error as e:
        probs.append(Problem(file, f"cannot be read as CSV ({e})", "export the file again as CSV",
                             row=reader.line_num or None))
        return None
    finally:
        csv.field_size_limit(limit)
