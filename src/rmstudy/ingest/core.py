"""Turn raw survey-tool exports and an HR extract into a cohort folder.

``rmstudy ingest MAPPING.yaml --out COHORT_DIR`` (and :func:`ingest`) reads

* one or more survey exports (Qualtrics-style CSV with its three header rows,
  plain CSV with ``,`` ``;`` or tab delimiters, UTF-8 with or without a BOM or
  Latin-1, decimal commas, or XLSX), one file per wave or one file with a wave
  column;
* one HR extract (CSV or XLSX) with arbitrary column names, labels and date
  formats;

and writes the five files of the cohort contract (docs/cohort-format.md):
``participants.csv``, ``responses.csv``, ``employment.csv``, plus the
``codebook.yaml`` and ``study.yaml`` the mapping points to, copied unchanged.
What to read, and how, is written in a mapping YAML (docs/ingest.md).

Privacy rules, all enforced here:

* only what the mapping maps reaches the cohort folder; every other column is
  dropped and listed in the report with the reason (``drop:`` list, looks
  like a direct identifier, not mapped);
* a column whose name looks like a direct identifier (name, e-mail, phone, IP
  address, Qualtrics ``Recipient*``, ``ExternalReference``, location) can never
  be mapped to an item or a participant column. It may serve as the id column
  only when ``pseudonymise: true``;
* with ``pseudonymise: true`` the participant id is ``"P"`` + the first 16 hex
  characters of HMAC-SHA256(key, employee id). The key comes from an
  environment variable or from a key file outside the output folder and outside
  any git working tree. A written HR text value (``pair_id``, ``department``, ...)
  that holds an employee id is then refused.

Every input row is accounted for: each file's entry in the report has a ``ledger`` saying how many rows followed
the header row(s), how many were written and, by reason, which rows were left out (blank rows; Qualtrics survey
previews, tests and spam, found from the ``Status`` and ``DistributionChannel`` columns even when they are listed
under ``drop:``, unless the survey entry says ``keep_test_responses: true``).

Every problem is a :class:`~rmstudy.errors.Problem` naming the input file, the
row as a spreadsheet numbers it (the header row(s) included: the first data
row of a Qualtrics export is row 4) and the column as named in that file. All
problems of a stage are raised together as one
:class:`~rmstudy.errors.CohortError`, and nothing is written to the output
folder when there is one. After writing, the folder is checked with
:func:`rmstudy.contract.cohort.load_cohort`, and the outcome goes into the report.
"""

from __future__ import annotations

__all__ = ["ingest", "looks_like_identifier", "pseudonym", "DEFAULT_KEY_ENV", "REPORT_NAME"]

import codecs
import csv
import datetime as _dt
import hashlib
import hmac
import io
import json
import math
import os
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from rmstudy._version import __version__
from rmstudy.contract import yamlio
from rmstudy.contract.codebook import Codebook, load_codebook
from rmstudy.contract.cohort import ARMS, EXIT_REASONS, ROLES, load_cohort, write_table
from rmstudy.errors import CohortError, Problem
from rmstudy.contract.provenance import file_sha256
from rmstudy.contract.study import load_study

DEFAULT_KEY_ENV = "RMSTUDY_PSEUDONYM_KEY"
REPORT_NAME = "ingest_report.json"
MIN_KEY_CHARS = 32
OUTPUT_FILES = ("participants.csv", "responses.csv", "employment.csv", "codebook.yaml", "study.yaml", REPORT_NAME)

_TOP_KEYS = {"codebook", "study", "id", "pseudonymise", "key_env", "key_file", "drop", "columns", "missing_values",
             "surveys", "hr"}
_SURVEY_KEYS = {"file", "wave", "wave_column", "wave_values", "sheet", "id", "columns", "submitted_on", "date_format",
                "encoding", "delimiter", "keep_test_responses"}
_HR_KEYS = {"file", "sheet", "columns", "values", "date_format", "encoding", "delimiter"}
_HR_REQUIRED = ("employee_id", "arm", "role", "pair_id", "age")
_HR_EMPLOYMENT = ("hire_date", "exit_date", "exit_reason")
_HR_NUMERIC = ("age", "tenure_years", "sessions_attended")
_HR_CHOICES = {"arm": ARMS, "role": ROLES, "exit_reason": EXIT_REASONS}
_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
_EXCEL_SUFFIXES = (".xlsx", ".xlsm")

# Normalised column names (lower case, letters and digits only) that are direct identifiers.
_IDENTIFIER_NAMES = frozenset({
    "name", "firstname", "lastname", "fullname", "surname", "givenname", "familyname", "middlename",
    "employeename", "respondentname", "participantname", "recipientname", "recipientfirstname",
    "recipientlastname", "recipientemail", "email", "emailaddress", "phone", "phonenumber", "mobile",
    "mobilenumber", "telephone", "ip", "ipaddress", "externalreference", "externaldatareference",
    "locationlatitude", "locationlongitude", "latitude", "longitude",
    "username", "loginname", "dob", "dateofbirth", "birthdate", "birthday",
})
_IDENTIFIER_PARTS = ("email", "phone", "dateofbirth", "birthdate")
_IDENTIFIER_ENDINGS = ("firstname", "lastname", "fullname", "surname", "ipaddress", "dob")
# "<person> name" is a person's name (Manager name, Mentor's name, User name); "<thing> name" is not (Department
# name, Team name, Programme name), so only these words before "name" make a name column an identifier.
_PERSON_WORDS = ("manager", "mentor", "mentee", "supervisor", "employee", "respondent", "participant", "recipient",
                 "user", "coach", "buddy", "colleague", "contact", "person", "reviewer", "boss", "member", "staff",
                 "worker", "lead", "leader", "owner", "approver", "sponsor")

_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)")
_ISO_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?")
_TIME_CODES = re.compile(r"%[-#]?[HIMSfpXTRrc]")     # strptime codes that read a time of day
# Dates outside this range are refused as implausible for hires, exits and survey submissions: a year typed as a
# number (2023 is the serial of 1905-07-15), an open-ended 9999-12-31, a typo year 3023.
_DATE_RANGE = (_dt.date(1920, 1, 1), _dt.date(2100, 12, 31))
_IMPORT_ID = re.compile(r'\{\s*"ImportId"')
_EXCEL_EPOCH = _dt.date(1899, 12, 30)

# Qualtrics' response type (the ``Status`` column): numeric code -> (choice text, is it a real response?). The codes
# and labels are those of the value labels Qualtrics writes into its SPSS exports; 32/40/48 are Employee Experience
# projects. Any other value is a problem: rmstudy does not guess whether an unknown kind of row is a real response.
_QUALTRICS_STATUS = {
    0: ("IP Address", True), 1: ("Survey Preview", False), 2: ("Survey Test", False), 4: ("Imported", True),
    8: ("Spam", False), 9: ("Survey Preview Spam", False), 12: ("Imported Spam", False), 16: ("Offline", True),
    17: ("Offline Survey Preview", False), 32: ("EX", True), 40: ("EX Spam", False), 48: ("EX Offline", True),
}
_STATUS_LABELS = {_label.casefold(): (_code, _label, _real) for _code, (_label, _real) in _QUALTRICS_STATUS.items()}
_STATUS_COLUMN = "Status"
_CHANNEL_COLUMN = "DistributionChannel"
_QUALTRICS_MARKERS = ("ResponseId", "DistributionChannel", "RecordedDate", "ResponseID")   # columns only Qualtrics writes
_TEST_CHANNELS = ("preview", "test")       # DistributionChannel values of newer exports that are not real responses
_TEST_REASON = "Qualtrics preview/test/spam response"
_BLANK_ROW = "blank row"


# --------------------------------------------------------------------------------------------- helpers


def looks_like_identifier(column: str) -> bool:
    """Whether a column name looks like a direct identifier.

    Parameters
    ----------
    column : str
        A column name as written in an export.

    Returns
    -------
    bool
        True for names such as ``Name``, ``First name``, ``Email``, ``E-mail``,
        ``Work email``, ``Phone``, ``IPAddress``, ``RecipientEmail``,
        ``RecipientFirstName``, ``ExternalReference``, ``LocationLatitude``,
        ``Manager name``, ``Mentor's name``, ``Username``/``User name``,
        ``Date of birth``, ``DOB`` or ``Birth date``; False for the name of a
        thing (``Department name``, ``Team name``). Case, spaces and
        punctuation are ignored.
    """
    key = re.sub(r"[^0-9a-z]", "", str(column).casefold())
    if key.endswith("name"):
        who = key[:-4].removesuffix("s")          # Mentor's name -> mentors -> mentor
        if who.endswith(_PERSON_WORDS):
            return True
    return (key in _IDENTIFIER_NAMES or any(p in key for p in _IDENTIFIER_PARTS)
            or key.endswith(_IDENTIFIER_ENDINGS))


def pseudonym(key: str, employee_id: str) -> str:
    """The pseudonymous participant id of an employee id.

    Parameters
    ----------
    key : str
        The secret key (its UTF-8 bytes are the HMAC key).
    employee_id : str
        The employee id as text, surrounding spaces removed.

    Returns
    -------
    str
        ``"P"`` followed by the first 16 hexadecimal characters of
        HMAC-SHA256(key, employee_id).
    """
    digest = hmac.new(key.encode("utf-8"), str(employee_id).encode("utf-8"), hashlib.sha256).hexdigest()
    return "P" + digest[:16]


# Characters that show as nothing: zero-width space, non-joiner and joiner, word joiner, and the byte-order mark
# (U+FEFF, a "zero-width no-break space" inside text). Pasted ids and labels carry them invisibly.
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
# Typographic apostrophes and quotes (a word processor's "smart quotes") -> the straight ones, for matching labels.
_QUOTE_FOLD = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
_SHOWN_CHARS = 60      # a value echoed in a message is cut to this many characters (free text may be personal)


def _clean(text: str) -> str:
    """Text in Unicode NFC form without zero-width characters: ``Re\u0301seau`` (decomposed) and ``Réseau``
    (composed) are the same text, and ``E102\u200b`` is ``E102``."""
    return _ZERO_WIDTH.sub("", unicodedata.normalize("NFC", text))


def _shown(value, limit: int = _SHOWN_CHARS) -> str:
    """A value as echoed in a message: at most ``limit`` characters, cut with "…" (a long cell is free text, which
    may be personal, and would flood the output)."""
    text = value if isinstance(value, str) else _text(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _norm(text) -> str:
    """The form in which labels are matched: NFC without zero-width characters, curly apostrophes and quotes made
    straight, spaces collapsed (Unicode spaces included), case ignored."""
    return " ".join(_clean(str(text)).translate(_QUOTE_FOLD).split()).casefold()


def _blank(v) -> bool:
    """An empty cell: None, NaN or text of spaces only."""
    if v is None:
        return True
    if isinstance(v, float):
        return math.isnan(v)
    return isinstance(v, str) and v.strip() == ""


def _text(v) -> str:
    """A cell as text (XLSX cells may be numbers or dates; CSV cells are text already)."""
    if _blank(v):
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return str(int(v)) if float(v).is_integer() else repr(float(v))
    if isinstance(v, _dt.datetime):
        return v.date().isoformat() if v.time() == _dt.time(0) else v.isoformat(sep=" ")
    if isinstance(v, _dt.date):
        return v.isoformat()
    return str(v)


def _number(v) -> tuple[float | None, bool, bool]:
    """Read a number.

    Returns
    -------
    tuple
        ``(value, ok, decimal_comma)``: value is None for an empty cell; ok is
        False when the cell holds something that is not a number.
    """
    if _blank(v):
        return None, True, False
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        return float(v), True, False
    if not isinstance(v, str):
        return None, False, False
    s = v.strip()
    if not _NUMBER.fullmatch(s):
        return None, False, False
    comma = "," in s
    return float(s.replace(",", ".")), True, comma


def _date(v, fmt: str | None, epoch: _dt.datetime | None) -> tuple[_dt.datetime | None, bool, bool]:
    """Read a date or a date-time: a date cell, an Excel date serial number (XLSX only), text in ``fmt``, or ISO
    ``YYYY-MM-DD`` with an optional time (``2024-12-28 09:05:41``).

    Parameters
    ----------
    v
        The cell.
    fmt : str or None
        The mapping's ``date_format``.
    epoch : datetime or None
        The workbook's date system (``wb.epoch``: 1899-12-30, or 1904-01-01 for the Mac 1904 system) for bare serial
        numbers; None for a CSV, where a number is not read as a date.

    Returns
    -------
    tuple
        ``(when, has_time, ok)``: ``when`` is None for an empty or unreadable cell; ``has_time`` says whether the
        cell gives a time of day; ``ok`` is False for an unreadable cell and for a date outside 1920-01-01 to
        2100-12-31 (``when`` is then the date it gives).
    """
    if _blank(v):
        return None, False, True
    if isinstance(v, _dt.datetime):
        when, has_time = v.replace(tzinfo=None), v.time() != _dt.time(0)
    elif isinstance(v, _dt.date):
        when, has_time = _dt.datetime.combine(v, _dt.time(0)), False
    elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        x = float(v)
        if epoch is None or not (math.isfinite(x) and 0 < x < 2958466):
            return None, False, False
        try:
            when = epoch + _dt.timedelta(seconds=round(x * 86400))
        except OverflowError:
            return None, False, False
        has_time = not x.is_integer()
    else:
        s = str(v).strip()
        when = None
        if fmt:
            try:
                when, has_time = _dt.datetime.strptime(s, fmt), bool(_TIME_CODES.search(fmt))
            except ValueError:
                pass
        if when is None:
            m = _ISO_DATE.fullmatch(s)
            if not m:
                return None, False, False
            try:
                day = _dt.date.fromisoformat(m.group(1))
                hh, mm, ss, frac = m.group(2, 3, 4, 5)
                clock = _dt.time(int(hh), int(mm), int(ss or 0), int((frac or "0")[:6].ljust(6, "0"))) if hh \
                    else _dt.time(0)
            except ValueError:
                return None, False, False
            when, has_time = _dt.datetime.combine(day, clock), hh is not None
    return when, has_time, _DATE_RANGE[0] <= when.date() <= _DATE_RANGE[1]


def _serial_date(x: float, epoch: _dt.datetime | None) -> str:
    """The date an Excel serial number gives, as text (``?`` when it gives none)."""
    try:
        return ((epoch or _dt.datetime.combine(_EXCEL_EPOCH, _dt.time(0))) + _dt.timedelta(days=int(x))).date().isoformat()
    except (OverflowError, ValueError):
        return "?"


def _date_problem(file: str, raw, fmt: str | None, row: int, column: str, *, excel: bool = False,
                  epoch: _dt.datetime | None = None, when: _dt.datetime | None = None, key: str = "") -> Problem:
    """Why a date cell cannot be read (``when`` is set when it gives a date outside the plausible range)."""
    full = _text(raw).strip()
    shown = _shown(full)
    lo, hi = (d.isoformat() for d in _DATE_RANGE)
    if when is not None:
        day = when.date().isoformat()
        if isinstance(raw, (int, float, np.integer, np.floating)) and not isinstance(raw, bool):
            msg = (f"the number {shown} in a date column is Excel's date serial number for {day}, outside the "
                   f"plausible range of dates, {lo} to {hi}")
            if float(raw).is_integer() and 1900 <= float(raw) <= 2100:
                msg += ": a year typed as a number?"
            fix = "enter the whole date (day, month and year) as a date cell; a year on its own is not a date"
        else:
            shown_day = f"'{shown}'" if shown == day else f"'{shown}' ({day})"
            msg = f"{shown_day} is outside the plausible range of dates, {lo} to {hi}"
            fix = "correct the date (a typo in the year?)"
        if key == "exit_date" or (key == "hire_date" and not fix.startswith("enter")):
            fix += ("; for an employee who is still employed, leave the exit date empty: an open-ended date such as "
                    "31/12/9999 is not read as 'still employed'")
        return Problem(file, msg, fix, row=row, column=column)
    if excel and re.fullmatch(r"\d{4,7}(\.0+)?", full) and 1 <= float(full) < 2958466:
        as_date = _serial_date(float(shown), epoch)
        return Problem(file, f"'{shown}' is a date serial number stored as text ({shown} would be {as_date})",
                       "format the cells as dates in the workbook (they hold text, not numbers)", row=row, column=column)
    if re.fullmatch(r"\d{4,7}(\.0+)?", full) and 1 <= float(full) < 2958466:
        # a spreadsheet saved as CSV with the date column formatted as a number
        as_date = _serial_date(float(shown), None)
        return Problem(file, f"'{shown}' looks like an Excel date serial number ({shown} would be {as_date}), which a "
                       "CSV cannot mark as a date", "format the column as a date in the spreadsheet before saving it "
                       "as CSV, or give rmstudy the .xlsx file itself (it reads date serials there)",
                       row=row, column=column)
    if fmt:
        example = _dt.date(2025, 1, 6).strftime(fmt)
        return Problem(file, f"'{shown}' is not a date in the form {fmt} (e.g. {example}) or YYYY-MM-DD",
                       f"correct the date, or set date_format: in the mapping to the form the file uses",
                       row=row, column=column)
    return Problem(file, f"'{shown}' is not a date in YYYY-MM-DD form",
                   "correct the date, or set date_format: in the mapping (e.g. \"%d/%m/%Y\")", row=row, column=column)


def _column_letter(j: int) -> str:
    """The spreadsheet letter(s) of the 1-based column ``j`` (1 -> A, 27 -> AA)."""
    letters = ""
    while j > 0:
        j, r = divmod(j - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _display(path_text: str) -> str:
    """How an input path is shown in problems and the report: as written if relative, else its file name."""
    p = Path(path_text)
    return path_text if not p.is_absolute() else p.name


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _git_root(path: Path) -> Path | None:
    """The nearest folder at or above ``path`` holding a ``.git`` entry (a git working tree), if any."""
    for d in (path.resolve(), *path.resolve().parents):
        if (d / ".git").exists():
            return d
    return None


# --------------------------------------------------------------------------------------------- reading


@dataclass
class _Table:
    """One input file as read: header names, data rows and their spreadsheet row numbers.

    ``rows_in`` counts every row after the header row(s), blank ones included; the blank ones are not in ``rows``
    (their numbers are in ``info["blank_rows_skipped"]``).
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
        return [j for j, c in enumerate(self.columns) if c == name]

    def column_label(self, j: int) -> str:
        """How the 0-based column ``j`` is found in the file: its letter in a workbook, its number in a CSV."""
        return _column_letter(j + 1) if self.excel else str(j + 1)


def _sniff_delimiter(text: str) -> str:
    """The delimiter (comma, semicolon or tab) that splits the first non-empty line into the most cells."""
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    best, best_n = ",", 1
    for d in _DELIMITERS:
        n = len(next(csv.reader([line], delimiter=d), []))
        if n > best_n:
            best, best_n = d, n
    return best


@dataclass
class _Read:
    """What a reader got from one file: (spreadsheet row number, cells) records and what is needed to judge them."""

    records: list
    merged: list = field(default_factory=list)     # XLSX merged ranges (first row, first col, last row, last col, ref)
    lines: dict = field(default_factory=dict)      # CSV: record number -> (first, last) line of the file it spans
    unsaved: list = field(default_factory=list)    # XLSX: (row, column) of formulas with no saved value, 1-based
    epoch: _dt.datetime | None = None              # XLSX: the workbook's date system (1899-12-30 or 1904-01-01)
    hidden: set = field(default_factory=set)       # XLSX: the rows hidden in the sheet (a filter, a collapsed group)


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


def _read_csv_records(path: Path, file: str, spec: dict, probs: list[Problem], info: dict,
                      warnings: list[str]) -> _Read | None:
    """The rows of a CSV as (spreadsheet row number, cells), with the lines of the file each one spans; encoding and
    delimiter detected and put in ``info``."""
    data = path.read_bytes()
    if not data.strip():
        probs.append(Problem(file, "file is empty", "export the table again with its header row and data"))
        return None
    binary = _binary_problem(data, path, file)
    if binary is not None:
        probs.append(binary)
        return None
    encoding = spec.get("encoding")
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
    info["delimiter"] = _DELIMITERS.get(delimiter, delimiter)
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
        return _Read(records, lines=lines)
    except csv.Error as e:
        probs.append(Problem(file, f"cannot be read as CSV ({e})", "export the file again as CSV",
                             row=reader.line_num or None))
        return None
    finally:
        csv.field_size_limit(limit)


def _read_excel_records(path: Path, file: str, spec: dict, probs: list[Problem], info: dict,
                        warnings: list[str], where: str = "") -> _Read | None:
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
    """
    given = "sheet" in spec
    sheet = spec.get("sheet", 0)
    try:
        import openpyxl
    except ImportError:
        probs.append(Problem(file, "reading XLSX needs the openpyxl package",
                             "install it (pip install openpyxl==3.1.5), or save the sheet as CSV UTF-8"))
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
    rows = [[None if _blank(v) else v for v in row] for row in ws.iter_rows(values_only=True)]
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
    return _Read([(i + 1, row[:width]) for i, row in enumerate(rows)], merged=merged, unsaved=unsaved,
                 epoch=wb.epoch, hidden=hidden)


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


def _read_table(path: Path, file: str, spec: dict, what: str, probs: list[Problem], warnings: list[str],
                where: str = "") -> _Table | None:
    """Read one input file into a :class:`_Table` (header row(s) recognised, blank rows set aside).

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
    _Table or None
        None when the file cannot be used (a problem says why).
    """
    if not path.is_file():
        probs.append(Problem(file, "file is missing", "check the file: path in the mapping (relative to the mapping file)"))
        return None
    suffix = path.suffix.lower()
    if suffix == ".xls":
        probs.append(Problem(file, "old .xls workbooks are not read", "save the sheet as .xlsx or as CSV UTF-8"))
        return None
    info = {"format": "xlsx" if suffix in _EXCEL_SUFFIXES else "csv"}
    excel = info["format"] == "xlsx"
    if excel:
        read = _read_excel_records(path, file, spec, probs, info, warnings, where)
    else:
        read = _read_csv_records(path, file, spec, probs, info, warnings)
    info.setdefault("sheet", None)
    if read is None:
        return None
    records, merged = read.records, read.merged
    first = next((k for k, (_, cells) in enumerate(records) if not all(_blank(c) for c in cells)), None)
    if first is None:
        probs.append(Problem(file, "file is empty", "export the table again with its header row and data"))
        return None
    _, header = records[first]
    columns = [_text(c).strip() for c in header]
    rest = records[first + 1:]
    qualtrics = len(rest) >= 2 and _is_import_id_row(rest[1][1])
    if qualtrics:
        info["header_style"], info["header_rows"], rest = "qualtrics (3 header rows)", 3, rest[2:]
    else:
        info["header_style"], info["header_rows"] = "one header row", 1
    if first:
        info["leading_blank_rows"] = first
    if merged:
        header_first = records[first][0]
        _merged_cell_problems(file, merged, dict(records), columns, header_first,
                              header_first + info["header_rows"] - 1, records[-1][0], probs)
    if read.unsaved:
        # the values are not in the file: nothing more can be read from it until it is saved with them
        _unsaved_formula_problems(file, read.unsaved, columns, records[first][0] + info["header_rows"] - 1, probs)
        return None
    rows, numbers, blank_rows, ragged = [], [], [], 0
    width = len(columns)
    for n, cells in rest:
        if all(_blank(c) for c in cells):
            blank_rows.append(n)
            continue
        if len(cells) != width:          # CSV only: the rows of a sheet all have the sheet's width
            probs.append(_width_problem(file, n, cells, columns, read.lines, info["delimiter"]))
            ragged += 1
            continue
        rows.append(list(cells))
        numbers.append(n)
    info["blank_rows_skipped"] = blank_rows
    if excel:
        hidden = [n for n in numbers if n in read.hidden]
        info["hidden_rows"] = len(hidden)
        if hidden:
            shown = ", ".join(map(str, hidden[:10])) + (", ..." if len(hidden) > 10 else "")
            warnings.append(f"{file}: {len(hidden)} row(s) of sheet '{info['sheet']}' are hidden in the workbook (by a "
                            f"filter or a collapsed group): row(s) {shown}. They were read like every other row; if "
                            "they were hidden to leave them out, delete them from the export instead")
    if not rows and ragged:
        return None                      # every row is reported already
    if not rows:
        if qualtrics:
            msg = f"has the three Qualtrics header rows but no {what}"
        else:
            msg = f"has a header but no {what}"
        probs.append(Problem(file, msg, f"export the {what} with their rows"))
        return None
    info["rows_read"] = len(rows)
    return _Table(file=file, columns=columns, rows=rows, row_numbers=numbers, info=info, excel=excel,
                  rows_in=len(rest), epoch=read.epoch, header_row=records[first][0])


_UNSAVED_SHOWN = 3       # formula cells without a saved value reported one by one per column; the rest are counted


def _unsaved_formula_problems(file: str, cells: list[tuple[int, int]], columns: list[str], header_last: int,
                              probs: list[Problem]) -> None:
    """A problem per formula cell with no saved value: the first few of each column, the others counted in the last.

    The cell would read as empty, so an answer, an id or a date would be silently lost. The formula itself is not
    quoted (it may hold personal data).
    """
    by_col: dict[int, list[int]] = {}
    for r, c in sorted(cells, key=lambda rc: (rc[1], rc[0])):
        by_col.setdefault(c, []).append(r)
    fix = ("open the workbook in Excel or LibreOffice and save it (that stores every formula's value), or copy the "
           "column and paste it as values")
    for c, rows in by_col.items():
        name = columns[c - 1] if c - 1 < len(columns) else ""
        for k, r in enumerate(rows[:_UNSAVED_SHOWN]):
            column = name if (name and r > header_last) else f"column {_column_letter(c)}"
            msg = "formula with no saved value (the workbook was written by a program that does not compute " \
                  "formulas), so the cell reads as empty"
            rest = rows[_UNSAVED_SHOWN:]
            if rest and k == _UNSAVED_SHOWN - 1:
                shown = ", ".join(map(str, rest[:10])) + (", ..." if len(rest) > 10 else "")
                msg += f"; {len(rest)} more cell(s) of this column hold such a formula (row(s) {shown})"
            probs.append(Problem(file, msg, fix, row=r, column=column))


def _width_problem(file: str, n: int, cells: list, columns: list[str], lines: dict, delimiter: str | None) -> Problem:
    """A CSV row whose number of cells is not the header's: its cells cannot be matched to the columns.

    Padding a short row or cutting a long one would shift answers into the wrong columns (an unquoted decimal comma
    ``12,5`` makes two cells of one). A stray quote character makes one cell of the rest of the line and the
    following lines; the message then says so, with the lines of the file the cell runs over.
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


def _merged_cell_problems(file: str, merged: list, cells_of: dict[int, list], columns: list[str], header_first: int,
                          header_last: int, last_row: int, probs: list[Problem]) -> None:
    """A problem for every merged range touching the header row(s) or the data rows of a sheet.

    A merged range keeps its value in its first (top-left) cell only; every other cell of it reads as empty. In the
    header that leaves columns without a name (their data would be dropped as unnamed columns); in the data it
    leaves answers or ids empty. Ranges wholly above the header or below the last filled row hold nothing.
    """
    def value(r, c):
        row = cells_of.get(r, [])
        return _text(row[c - 1]).strip() if c - 1 < len(row) else ""

    for r0, c0, r1, c1, coord in merged:
        if r1 < header_first or r0 > last_row:
            continue
        top = value(r0, c0)     # header text (a question), or a data value that is not shown below
        shown = f" '{top}'" if top else ""
        first_cell = f"{_column_letter(c0)}{r0}"
        if r0 <= header_last:
            if c1 > c0:
                others = _column_letter(c0 + 1) + ("" if c1 == c0 + 1 else f" to {_column_letter(c1)}")
                effect = f"only column {_column_letter(c0)} gets the name{shown}; column(s) {others} get no name"
            else:
                effect = f"only {first_cell} keeps its text{shown}; the other cells read as empty"
            probs.append(Problem(file, f"header cells {coord} are merged: {effect}",
                                 "unmerge the header cells and give every column its own name in one header row",
                                 row=max(r0, header_first), column=f"{coord}{shown}"))
        else:
            names = [f"'{columns[j]}'" if j < len(columns) and columns[j] else f"column {_column_letter(j + 1)}"
                     for j in range(c0 - 1, c1)]
            n = (r1 - r0 + 1) * (c1 - c0 + 1)
            # the value itself is not quoted: a data cell may hold a name or another personal detail
            probs.append(Problem(file, f"cells {coord} are merged: only {first_cell} keeps its value"
                                 + ("" if top else " (here empty)") + f"; the other {n - 1} cell(s) read as empty",
                                 "unmerge the cells and enter the value in every cell it belongs to",
                                 row=r0, column=f"{coord} " + ", ".join(dict.fromkeys(names))))


def _is_import_id_row(cells: list) -> bool:
    """Qualtrics' third header row: every non-empty cell starts with ``{"ImportId"``."""
    filled = [_text(c).strip() for c in cells if not _blank(c)]
    return bool(filled) and all(_IMPORT_ID.match(c) for c in filled)


# --------------------------------------------------------------------------------------------- the mapping


def _load_yaml(path: Path, file: str, probs: list[Problem]):
    """The mapping as read (None, with a problem, when it cannot be read). A key written twice is refused."""
    try:
        with open(path, encoding="utf-8-sig") as fh:
            raw = yamlio.load(fh)
    except FileNotFoundError:
        probs.append(Problem(file, "file is missing", "check the path"))
        return None
    except (yaml.YAMLError, UnicodeDecodeError, ValueError) as e:     # ValueError: an impossible unquoted date
        dup = isinstance(e, yamlio.DuplicateKeyError)
        probs.append(Problem(file, f"cannot be read as YAML: {yamlio.message(e, path)}",
                             "delete the line that should not count (a leftover of an earlier version?)" if dup else
                             "fix the YAML syntax (save it as UTF-8)"))
        return None
    if raw is None:
        probs.append(Problem(file, "the mapping file is empty",
                             "write the mapping: start from the worked example in docs/ingest.md"))
    return raw


def _date_format_problem(fmt: str) -> str | None:
    """Why a ``date_format:`` cannot read dates (None when it can): it must write a sample date and read it back."""
    sample = _dt.datetime(2025, 1, 6, 14, 30, 15)
    try:
        text = sample.strftime(fmt)
        back = _dt.datetime.strptime(text, fmt)
    except (ValueError, TypeError) as e:
        return f"date_format '{fmt}' cannot be used to read dates ({e})"
    if back.date() != sample.date():
        return (f"date_format '{fmt}' does not hold a whole date: 6 January 2025 written with it ('{text}') reads back "
                f"as {back.date().isoformat()}")
    return None


def _delimiter_problem(d: str) -> str | None:
    if len(d) != 1 or d in "\r\n\"":
        return (f"delimiter '{d}' is {len(d)} characters, not one" if len(d) != 1 else
                f"delimiter {d!r} cannot separate cells")
    return None


def _check_mapping(raw, m: str, probs: list[Problem]) -> None:
    """Structural checks of the mapping (types, unknown and missing keys); problems name the key path."""

    def bad(where, msg, fix):
        probs.append(Problem(m, msg, fix, column=where))

    if not isinstance(raw, dict):
        bad(None, "the mapping is not a YAML mapping of keys", "start from the worked example in docs/ingest.md")
        return
    for key in raw:
        if key not in _TOP_KEYS:
            bad(str(key), f"unknown key '{key}'", f"use only {sorted(_TOP_KEYS)}")
    for key in ("codebook", "study", "surveys", "hr", "pseudonymise"):
        if key not in raw:
            bad(key, f"'{key}' is missing", "add it (docs/ingest.md)" if key != "pseudonymise" else
                "say pseudonymise: true (participant ids from a keyed hash) or pseudonymise: false (employee ids "
                "kept as participant ids)")
    for key in ("codebook", "study", "id", "key_env", "key_file"):
        if key in raw and (not isinstance(raw[key], str) or not raw[key].strip()):
            bad(key, f"'{key}' must be a non-empty text", f"write {key}: followed by a name or path")
    if "pseudonymise" in raw and not isinstance(raw["pseudonymise"], bool):
        bad("pseudonymise", f"pseudonymise is {raw['pseudonymise']!r}, not true or false", "write true or false")
    if "key_env" in raw and "key_file" in raw:
        bad("key_file", "both key_env and key_file are given", "keep one of the two")
    for key in ("drop", "missing_values"):
        if key in raw and not isinstance(raw[key], list):
            bad(key, f"'{key}' is not a list", f"write {key}: as a list, e.g. [a, b]")
    _check_columns_map(raw.get("columns"), "columns", m, probs)
    surveys = raw.get("surveys")
    if "surveys" in raw and (not isinstance(surveys, list) or not surveys):
        bad("surveys", "surveys is not a non-empty list", "list one entry per survey export: - {file: ..., wave: ...}")
    for i, s in enumerate(surveys if isinstance(surveys, list) else []):
        where = f"surveys.{i}"
        if not isinstance(s, dict):
            bad(where, f"{where} is not a mapping", "give file: and wave: (or wave_column:)")
            continue
        for key in s:
            if key not in _SURVEY_KEYS:
                bad(f"{where}.{key}", f"unknown key '{key}' in {where}", f"use only {sorted(_SURVEY_KEYS)}")
        for key in ("file", "wave", "wave_column", "id", "submitted_on", "date_format", "encoding", "delimiter"):
            if key in s and (not isinstance(s[key], str) or not s[key]):
                bad(f"{where}.{key}", f"{where}.{key} must be a non-empty text", f"write {key}: followed by a value")
        _check_formats(s, where, bad)
        if "file" not in s:
            bad(f"{where}.file", f"{where} has no file", "add file: with the export's path")
        if ("wave" in s) == ("wave_column" in s):
            bad(where, f"{where} needs exactly one of wave and wave_column",
                "give wave: (one file per wave) or wave_column: (a column naming each row's wave)")
        if "wave_values" in s and not isinstance(s["wave_values"], dict):
            bad(f"{where}.wave_values", f"{where}.wave_values is not a mapping", "write label: wave lines")
        elif isinstance(s.get("wave_values"), dict):
            _label_collisions(s["wave_values"], f"{where}.wave_values", bad)
        if "id" not in s and "id" not in raw:
            bad(f"{where}.id", f"{where} has no id column", "set id: (top level or in the survey entry)")
        if "columns" in s:
            _check_columns_map(s["columns"], f"{where}.columns", m, probs)
        elif "columns" not in raw:
            bad(f"{where}.columns", f"{where} maps no columns", "give columns: (top level or in the survey entry)")
        if "sheet" in s and not isinstance(s["sheet"], (str, int)):
            bad(f"{where}.sheet", f"{where}.sheet is {s['sheet']!r}", "give a sheet name or a 0-based index")
        if "keep_test_responses" in s and not isinstance(s["keep_test_responses"], bool):
            bad(f"{where}.keep_test_responses", f"keep_test_responses is {s['keep_test_responses']!r}, not true or "
                "false", "write true (keep Qualtrics preview, test and spam rows) or false (the default: leave them out)")
    hr = raw.get("hr")
    if "hr" in raw and not isinstance(hr, dict):
        bad("hr", "hr is not a mapping", "give file:, columns: and (optionally) values: and date_format:")
    elif isinstance(hr, dict):
        for key in hr:
            if key not in _HR_KEYS:
                bad(f"hr.{key}", f"unknown key '{key}' in hr", f"use only {sorted(_HR_KEYS)}")
        for key in ("file", "date_format", "encoding", "delimiter"):
            if key in hr and (not isinstance(hr[key], str) or not hr[key]):
                bad(f"hr.{key}", f"hr.{key} must be a non-empty text", f"write {key}: followed by a value")
        _check_formats(hr, "hr", bad)
        if "file" not in hr:
            bad("hr.file", "hr has no file", "add file: with the HR extract's path")
        cols = hr.get("columns")
        if not isinstance(cols, dict) or not cols:
            bad("hr.columns", "hr.columns is missing or not a mapping",
                "map each cohort column to the HR column, e.g. employee_id: Personnel number")
        else:
            for key in _HR_REQUIRED:
                if key not in cols:
                    bad(f"hr.columns.{key}", f"hr.columns has no '{key}'", f"name the HR column that holds {key}")
            present = [k for k in _HR_EMPLOYMENT if k in cols]
            if present and len(present) < len(_HR_EMPLOYMENT):
                missing = [k for k in _HR_EMPLOYMENT if k not in cols]
                bad("hr.columns", f"hr.columns maps {present} but not {missing}",
                    "map hire_date, exit_date and exit_reason together (or none of them: no employment.csv)")
            if "participant_id" in cols:
                bad("hr.columns.participant_id", "participant_id is made by rmstudy",
                    "map the HR column holding the employee id as employee_id")
            for key, col in cols.items():
                if not isinstance(col, str) or not col.strip():
                    bad(f"hr.columns.{key}", f"hr.columns.{key} must name an HR column", "write the column name")
        values = hr.get("values", {})
        if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
            bad("hr.values", "hr.values is not a mapping of column -> {label: value}",
                'write e.g. values: {arm: {"Mentoring 2025": program}}')
        else:
            for key, labels in values.items():
                _label_collisions(labels, f"hr.values.{key}", bad)
                if isinstance(cols, dict) and key not in cols:
                    bad(f"hr.values.{key}", f"hr.values names '{key}', which hr.columns does not map",
                        "give values only for mapped columns")


def _label_collisions(labels: dict, where: str, bad) -> None:
    """Two labels of one ``wave_values:`` or ``hr.values.<column>:`` map that are the same label once case, spaces,
    Unicode form and curly quotes are ignored (as ingest matches them): the later one would silently win."""
    first: dict[str, str] = {}
    for label, target in labels.items():
        k = _norm(_text(label))
        if k not in first:
            first[k] = label
            continue
        other = first[k]
        same = _text(labels[other]) == _text(target)
        effect = (f"both map to '{_shown(_text(target))}'" if same else
                  f"they map to '{_shown(_text(labels[other]))}' and '{_shown(_text(target))}', and the later one "
                  "would silently win for both spellings")
        bad(f"{where}.{label}", f"labels '{_shown(_text(other))}' and '{_shown(_text(label))}' of {where} are the "
            f"same label for ingest (case, spaces and Unicode form are ignored when matching): {effect}",
            "delete one of the two entries" + ("" if same else "; the export's label can map to one value only"))


def _same_input_twice(raw: dict, m: str, base: Path, probs: list[Problem]) -> None:
    """One export (the same file, and for a workbook the same sheet) under two survey entries: a copy-pasted
    ``file:`` would make one wave a copy of another. Paths are compared after resolving them (``./pre.csv`` and
    ``pre.csv`` are one file); a workbook's sheet not given and sheet 0 are the same sheet."""
    surveys = raw.get("surveys")
    if not isinstance(surveys, list):
        return
    seen: dict[tuple, int] = {}
    for i, s in enumerate(surveys):
        if not isinstance(s, dict) or not isinstance(s.get("file"), str) or not s["file"]:
            continue
        path = os.path.normcase(str((base / Path(s["file"]).expanduser()).resolve()))
        excel = Path(s["file"]).suffix.lower() in _EXCEL_SUFFIXES
        sheet = s.get("sheet", 0) if excel else None
        k = (path, sheet)
        if k in seen:
            j = seen[k]
            on = f" (sheet {sheet!r})" if excel else ""
            probs.append(Problem(m, f"surveys.{j} and surveys.{i} both read {s['file']}{on}: the rows of that export "
                                 "would be read twice, once for each entry",
                                 "correct the file: of the entry that should read another export (a copy-paste "
                                 "slip?); a file holding several waves is read by one entry with wave_column:",
                                 column=f"surveys.{i}.file"))
        else:
            seen[k] = i


def _check_formats(entry: dict, where: str, bad) -> None:
    """A file entry's delimiter (one character) and date_format (reads a sample date back): one problem each."""
    d = entry.get("delimiter")
    if isinstance(d, str) and d and (why := _delimiter_problem(d)):
        bad(f"{where}.delimiter", why, 'give one character in double quotes: ";", ",", "|", or "\\t" for a tab (in '
            "single quotes '\\t' is two characters, a backslash and a t)")
    fmt = entry.get("date_format")
    if isinstance(fmt, str) and fmt and (why := _date_format_problem(fmt)):
        bad(f"{where}.date_format", why, 'use Python strptime codes for day, month and year, e.g. "%d/%m/%Y" or '
            '"%m/%d/%Y %H:%M"')


def _check_columns_map(cols, where: str, m: str, probs: list[Problem]) -> None:
    if cols is None:
        return
    if not isinstance(cols, dict) or not cols:
        probs.append(Problem(m, f"{where} is not a mapping of export column -> item code",
                             "write one 'export column: item code' line per item", column=where))
        return
    for k, v in cols.items():
        if not isinstance(v, str) or not v.strip():
            probs.append(Problem(m, f"{where}.{k} must name an item code", "write the codebook item code",
                                 column=f"{where}.{k}"))


def _map_key(raw: dict, i: int) -> str:
    """Key path of the column map survey ``i`` uses: its own ``columns:`` or the top-level one."""
    return f"surveys.{i}.columns" if "columns" in raw["surveys"][i] else "columns"


def _effective_maps(raw: dict) -> dict[str, dict[str, str]]:
    """The column maps in use (key path -> {export column: item code}); an unused top-level map is left out."""
    maps = {}
    for i in range(len(raw["surveys"])):
        where = _map_key(raw, i)
        cols = raw["surveys"][i]["columns"] if where != "columns" else raw["columns"]
        maps[where] = {str(k): str(v).strip() for k, v in cols.items()}
    return maps


def _check_privacy_and_items(raw: dict, codebook: Codebook, m: str, probs: list[Problem]) -> None:
    """Mapped item codes exist; identifier-looking and dropped columns are never mapped; every item is mapped."""
    pseudonymise = raw["pseudonymise"]
    drop = {str(d) for d in raw.get("drop") or []}
    items = set(codebook.items)

    def used(where: str, name: str, as_id: bool = False) -> None:
        if name in drop:
            probs.append(Problem(m, f"column '{name}' is both in drop: and mapped", "remove it from one of the two",
                                 column=where))
        elif looks_like_identifier(name) and not (as_id and pseudonymise):
            probs.append(Problem(m, f"column '{name}' looks like a direct identifier and cannot be "
                                 + ("the id column without pseudonymise: true" if as_id else "mapped"),
                                 "set pseudonymise: true to use it as the id" if as_id else
                                 "map another column, or rename the column in the export if it is not an identifier",
                                 column=where))

    if "id" in raw:
        used("id", raw["id"], as_id=True)
    for i, s in enumerate(raw["surveys"]):
        for key in ("id", "wave_column", "submitted_on"):
            if key in s:
                used(f"surveys.{i}.{key}", s[key], as_id=(key == "id"))
    mapped: set[str] = set()
    for where, cols in _effective_maps(raw).items():
        seen: dict[str, str] = {}
        for col, item in cols.items():
            used(f"{where}.{col}", col)
            if item not in items:
                probs.append(Problem(m, f"'{item}' is not an item code in codebook.yaml",
                                     "use one of the codebook's item codes (check the spelling)", column=f"{where}.{col}"))
            elif item in seen:
                probs.append(Problem(m, f"item '{item}' is mapped from both '{seen[item]}' and '{col}'",
                                     "map each item from one export column", column=f"{where}.{col}"))
            seen[item] = col
            mapped.add(item)
    for item in codebook.items:
        if item not in mapped:
            probs.append(Problem(m, f"item '{item}' (scale '{codebook.scale_of(item).name}') is mapped from no "
                                 "survey column", f"add 'EXPORT COLUMN: {item}' under columns:", column="columns"))
    for key, col in raw["hr"]["columns"].items():
        used(f"hr.columns.{key}", str(col), as_id=(key == "employee_id"))


def _pseudonym_key(raw: dict, m: str, base: Path, out_dir: Path, warnings: list[str]) -> tuple[str, str]:
    """The pseudonymisation key and where it came from; refuses a missing, short or badly placed key."""
    if "key_file" in raw:
        path = Path(raw["key_file"]).expanduser()
        path = path if path.is_absolute() else base / path
        where = "key_file"
        if _inside(path, out_dir):
            raise CohortError(Problem(m, "the key file is inside the output folder",
                                      "keep the key outside the cohort and the project (a password manager, or a file "
                                      "with 600 permissions in your home folder)", column=where))
        repo = _git_root(path.parent)
        if repo is not None:
            raise CohortError(Problem(m, "the key file is inside a git repository (a folder holding .git)",
                                      "move the key outside every repository, e.g. to ~/.config/rmstudy/, or pass it "
                                      f"through the environment variable {DEFAULT_KEY_ENV}", column=where))
        if not path.is_file():
            raise CohortError(Problem(m, "the key file does not exist", "check the key_file: path", column=where))
        try:
            # utf-8-sig: a key file saved with a byte-order mark (Windows Notepad) gives the same key without it
            key = path.read_text(encoding="utf-8-sig").lstrip("\ufeff").strip()
        except (OSError, UnicodeDecodeError) as e:
            raise CohortError(Problem(m, f"the key file cannot be read ({type(e).__name__})",
                                      "store the key as one line of text", column=where)) from e
        source = "key file"
        if os.name == "posix" and path.stat().st_mode & 0o077:
            warnings.append(f"the key file can be read by other users (mode {path.stat().st_mode & 0o777:o}); "
                            "run chmod 600 on it")
    else:
        name = raw.get("key_env", DEFAULT_KEY_ENV)
        where = "key_env"
        key = os.environ.get(name, "").strip()
        source = f"environment variable {name}"
        if not key:
            raise CohortError(Problem(m, f"pseudonymise is true but the environment variable {name} is not set",
                                      f"set {name} to your key (make one with: python -c \"import secrets; "
                                      "print(secrets.token_hex(32))\"), or give key_file:", column=where))
    if len(key) < MIN_KEY_CHARS:
        raise CohortError(Problem(m, f"the pseudonymisation key from the {source} has {len(key)} characters, "
                                  f"fewer than {MIN_KEY_CHARS}",
                                  "make a long random key: python -c \"import secrets; print(secrets.token_hex(32))\"",
                                  column=where))
    return key, source


# --------------------------------------------------------------------------------------------- surveys


@dataclass
class _Context:
    """What the survey and HR readers share."""

    codebook: Codebook
    waves: tuple[str, ...]
    drop: set[str]
    missing_values: set[str]
    anchors: dict[str, dict[str, float]]     # item -> normalised label -> value
    missing_numbers: set[float] = field(default_factory=set)   # the missing_values that are numbers (-99)


def _anchor_values(anchors: dict) -> dict[str, float]:
    """A scale's anchors as normalised label -> answer value (keys that are not numbers are skipped)."""
    out = {}
    for k, label in anchors.items():
        value, ok, _ = _number(k)
        if ok and value is not None:
            out[_norm(label)] = value
    return out


def _classify(table: _Table, used: dict[str, str], ctx: _Context) -> tuple[dict[str, int], list[dict]]:
    """Split a table's columns into used ones (name -> position) and dropped ones (with the reason)."""
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
            filled = _filled_cells(table, j)
            reason = f"no header name; {filled} row(s) hold data in it" if filled else "no header name and no data"
        elif name in ctx.drop:
            reason = "listed in drop"
        elif looks_like_identifier(name):
            reason = "looks like a direct identifier"
        else:
            reason = "not mapped"
        dropped.append({"column": shown, "reason": reason})
    return positions, dropped


def _filled_cells(table: _Table, j: int) -> int:
    """How many data rows have something in column ``j``."""
    return sum(not _blank(cells[j]) for cells in table.rows)


def _blank_header_warnings(table: _Table) -> list[str]:
    """A warning for each column without a header name that holds data (it is dropped: it cannot be mapped)."""
    out = []
    for j, name in enumerate(table.columns):
        if not name and (filled := _filled_cells(table, j)):
            out.append(f"{table.file}: column {table.column_label(j)} has no header name but {filled} row(s) hold data "
                       "in it; it was dropped. If it matters, give it a name in the header row and map it")
    return out


def _ledger(table: _Table, written: int, reasons: dict[str, list[int]]) -> dict:
    """What became of every row after the header row(s): ``rows_in == written + excluded``."""
    reasons = {_BLANK_ROW: list(table.info.get("blank_rows_skipped", [])), **reasons}
    reasons = {k: sorted(v) for k, v in reasons.items() if v}
    return {"rows_in": table.rows_in, "written": written, "excluded": sum(len(v) for v in reasons.values()),
            "reasons": reasons}


def _test_response_columns(table: _Table, used: dict[str, str], probs: list[Problem]) -> list[tuple[str, int]]:
    """The Qualtrics columns telling real responses from previews and tests: ``Status`` and ``DistributionChannel``,
    when the file has them and the mapping does not use them for something else (whether listed in drop: or not)."""
    out = []
    # a Status column of another survey tool ("Complete", ...) is an ordinary column: only a file that looks like
    # a Qualtrics export (its three header rows, or Qualtrics' own response columns) has its Status read
    qualtrics = str(table.info.get("header_style", "")).startswith("qualtrics") or any(
        c in table.columns for c in _QUALTRICS_MARKERS)
    for name in (_STATUS_COLUMN, _CHANNEL_COLUMN):
        where = table.positions(name)
        if not where or name in used or (name == _STATUS_COLUMN and not qualtrics):
            continue
        if len(where) > 1:
            probs.append(Problem(table.file, f"column '{name}' appears {len(where)} times in the header",
                                 f"keep one '{name}' column (rmstudy reads it to leave out Qualtrics preview and test "
                                 "responses)", column=name))
            continue
        out.append((name, where[0]))
    return out


def _test_response(cells: list, check: list[tuple[str, int]], i: int, keep: bool, file: str, row: int,
                   probs: list[Problem]) -> str | None:
    """Why a row is a Qualtrics preview, test or spam response (None for a real response).

    An unknown or empty ``Status`` is a problem, unless ``keep`` (keep_test_responses: true) says every row is kept.
    """
    for name, j in check:
        v = cells[j]
        if name == _CHANNEL_COLUMN:
            channel = _text(v).strip().casefold()
            if channel in _TEST_CHANNELS:
                return f"{_TEST_REASON} ({name} '{_shown(channel)}')"
            continue
        code, ok, _ = _number(v)
        if ok and code is not None and float(code).is_integer() and int(code) in _QUALTRICS_STATUS:
            label, real = _QUALTRICS_STATUS[int(code)]
            shown = f"{int(code)} = '{label}'"
        elif _norm(_text(v)) in _STATUS_LABELS:
            _, label, real = _STATUS_LABELS[_norm(_text(v))]
            shown = f"'{label}'"
        else:
            if not keep:
                real_ones = ", ".join(f"{lab} ({c})" for c, (lab, r) in _QUALTRICS_STATUS.items() if r)
                other = ", ".join(f"{lab} ({c})" for c, (lab, r) in _QUALTRICS_STATUS.items() if not r)
                what = (f"unknown {name} '{_shown(_text(v).strip())}' (not a Qualtrics response type)" if not _blank(v)
                        else f"{name} is empty")
                probs.append(Problem(file, f"{what}, so rmstudy cannot tell whether the row is a real response",
                                     f"Qualtrics writes {real_ones} for real responses and {other} for rows that are "
                                     "left out; correct the cell, or, if this column is not Qualtrics' Status, set "
                                     f"keep_test_responses: true under surveys.{i} to keep every row unchecked",
                                     row=row, column=name))
            continue
        if not real:
            return f"{_TEST_REASON} ({name} {shown})"
    return None


def _squash(name) -> str:
    """A column name ignoring case, spaces and underscores (``Q1_4`` and ``q1 4`` are the same)."""
    return re.sub(r"[\s_]+", "", str(name)).casefold()


def _near_matches(table: _Table, name: str, taken=()) -> list[str]:
    """The file's columns that are ``name`` but for case, spaces or underscores (and not ``taken`` by the mapping)."""
    key = _squash(name)
    return [c for c in dict.fromkeys(table.columns) if c and c != name and c not in taken and _squash(c) == key]


def _require(table: _Table, name: str, what: str, probs: list[Problem]) -> bool:
    """A column the mapping names must be in the file, once."""
    where = table.positions(name)
    if not where:
        near = _near_matches(table, name)
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


def _item_value(v, item: str, ctx: _Context, file: str, row: int, column: str, probs: list[Problem],
                counts: dict) -> float:
    """One answer as a number: a number, a number written as text, or an anchor label; NaN when empty."""
    if _blank(v):
        return np.nan
    if isinstance(v, str) and (c := _clean(v)) != v:
        counts["text_normalised"] += 1
        v = c
        if _blank(v):
            return np.nan
    value, ok, comma = _number(v)
    if ctx.missing_values and _norm(_text(v)) in ctx.missing_values or (
            ok and value is not None and value in ctx.missing_numbers):
        # a numeric code is compared as a number: -99.0 and -99,0 are the code -99
        counts["missing_value_codes"] += 1
        return np.nan
    scale = ctx.codebook.scale_of(item)
    if not ok:
        value = ctx.anchors[item].get(_norm(v)) if isinstance(v, str) else None
        if value is None:
            labels = "; ".join(f"{k} = {lab}" for k, lab in scale.anchors.items())
            probs.append(Problem(file, f"'{_shown(v)}' is neither a number nor an answer label of scale '{scale.name}'",
                                 f"enter a number from {scale.min:g} to {scale.max:g}"
                                 + (f" or a label ({labels})" if labels else "")
                                 + ", or add the label to the scale's anchors in codebook.yaml",
                                 row=row, column=column))
            return np.nan
        counts["text_answers_converted"] += 1
    counts["decimal_commas"] += comma
    if not scale.min <= value <= scale.max:
        probs.append(Problem(file, f"{value:g} is outside the codebook range {scale.min:g}–{scale.max:g}",
                             "correct the answer, or the range in codebook.yaml (or list the code under "
                             "missing_values: if it means 'no answer')", row=row, column=column))
    elif not float(value).is_integer():
        probs.append(Problem(file, f"{value:g} is not one of the scale's answer points", "enter a whole answer point",
                             row=row, column=column))
    return float(value)


def _read_survey(table: _Table, spec: dict, i: int, raw: dict, ctx: _Context, probs: list[Problem]) -> tuple[list, dict]:
    """Turn one survey export into response records (raw id, wave, submitted_on, items) and its report entry."""
    id_col = spec.get("id", raw.get("id"))
    columns = _effective_maps(raw)[_map_key(raw, i)]
    wave_col = spec.get("wave_column")
    date_col = spec.get("submitted_on")
    wave_values = {_norm(k): str(v) for k, v in (spec.get("wave_values") or {}).items()}
    used = {id_col: "id", **({wave_col: "wave"} if wave_col else {}),
            **({date_col: "submitted_on"} if date_col else {})}
    for name, item in columns.items():
        if name in table.columns:
            used[name] = item
    report = {"file": table.file, "kind": "survey", **({"wave": spec["wave"]} if "wave" in spec else
                                                      {"wave_column": wave_col}), **table.info}
    ok = _require(table, id_col, "id column", probs)
    for name, what in ((wave_col, "wave column"), (date_col, "submitted_on column")):
        if name:
            ok &= _require(table, name, what, probs)
    for name in columns:
        if name in table.columns and len(table.positions(name)) > 1:
            ok &= _require(table, name, "item column", probs)
    pos, dropped = _classify(table, used, ctx)
    report["dropped_columns"] = dropped
    report["mapped_columns"] = {name: used[name] for name in table.columns if name in used}
    absent = [columns[name] for name in columns if name not in table.columns]
    report["items_not_in_file"] = absent
    for name in columns:
        if name not in table.columns and (near := _near_matches(table, name, used)):
            # not an item the wave did not ask: the same column, written differently
            key = f"{_map_key(raw, i)}.{name}"
            probs.append(Problem(table.file, f"the mapping's column '{name}' ({key}: {columns[name]}) is not in the "
                                 f"file, but '{near[0]}' is: the same name but for case, spaces or underscores",
                                 f"if '{near[0]}' holds {columns[name]}, rename it to '{name}' in the export, or give "
                                 f"this file its own columns: (surveys.{i}.columns, which replaces the top-level columns: for "
                                 f"this file) with '{near[0]}: {columns[name]}'",
                                 row=table.header_row, column=near[0]))
    check = _test_response_columns(table, used, probs)
    keep = spec.get("keep_test_responses", False) is True
    report["test_response_columns"] = [name for name, _ in check]
    report["keep_test_responses"] = keep
    counts = {"text_answers_converted": 0, "decimal_commas": 0, "missing_value_codes": 0, "text_normalised": 0}
    if not ok:
        return [], report
    item_pos = [(columns[name], name, pos[name]) for name in columns if name in pos]
    records = []
    test_rows: dict[str, list[int]] = {}
    for cells, n in zip(table.rows, table.row_numbers):
        reason = _test_response(cells, check, i, keep, table.file, n, probs) if check else None
        if reason:
            test_rows.setdefault(reason, []).append(n)
            if not keep:
                continue            # a preview or test: not a response, so none of its cells is checked
        written_id = _text(cells[pos[id_col]])
        rid = _clean(written_id).strip()
        counts["text_normalised"] += rid != written_id
        if not rid:
            probs.append(Problem(table.file, "respondent id is empty", "fill in the id, or delete the row if it is "
                                 "not a real response", row=n, column=id_col))
        if wave_col:
            written_label = _text(cells[pos[wave_col]])
            label = _clean(written_label).strip()
            counts["text_normalised"] += label != written_label
            wave = wave_values.get(_norm(label), label)
            if wave not in ctx.waves:
                probs.append(Problem(table.file, f"unknown wave '{_shown(label)}'", f"use one of {list(ctx.waves)} or map the "
                                     f"label under surveys.{i}.wave_values", row=n, column=wave_col))
        else:
            wave = spec["wave"]
        when, timed = None, False
        if date_col:
            v = cells[pos[date_col]]
            when, timed, good = _date(v, spec.get("date_format"), table.epoch)
            if not good:
                probs.append(_date_problem(table.file, v, spec.get("date_format"), n, date_col, excel=table.excel,
                                           epoch=table.epoch, when=when, key="submitted_on"))
                when = None
        # the date is written; the full time stamp orders the submissions of one person and wave (_cohort_tables)
        rec = {"id": rid, "wave": wave, "submitted_on": None if when is None else when.date(), "submitted_at": when,
               "timed": timed, "where": (table.file, n, id_col)}
        for item, name, j in item_pos:
            rec[item] = _item_value(cells[j], item, ctx, table.file, n, name, probs, counts)
        records.append(rec)
    report.update(counts)
    report["rows_written"] = len(records)
    if keep:
        report["test_responses_kept"] = test_rows
    report["ledger"] = _ledger(table, len(records), {} if keep else test_rows)
    return records, report


# --------------------------------------------------------------------------------------------- HR extract


def _read_hr(table: _Table, hr: dict, ctx: _Context, probs: list[Problem]) -> tuple[list, dict]:
    """Turn the HR extract into one record per employee (contract names, typed values) and its report entry."""
    cols = {str(k): str(v).strip() for k, v in hr["columns"].items()}
    values = {key: {_norm(k): ("" if v is None else _clean(str(v)).strip()) for k, v in mp.items()}
              for key, mp in (hr.get("values") or {}).items()}
    fmt = hr.get("date_format")
    report = {"file": table.file, "kind": "hr", **table.info}
    ok = all([_require(table, col, f"HR column for {key}", probs) for key, col in cols.items()])
    pos, dropped = _classify(table, {col: key for key, col in cols.items()}, ctx)
    report["dropped_columns"] = dropped
    report["mapped_columns"] = {col: key for key, col in cols.items() if col in pos}
    counts = {"decimal_commas": 0, "line_breaks_replaced": 0, "text_normalised": 0}
    if not ok:
        return [], report
    records = []
    for cells, n in zip(table.rows, table.row_numbers):
        rec = {"where": (table.file, n)}
        for key, col in cols.items():
            v = cells[pos[col]]
            if key == "employee_id":
                rec[key] = _clean(_text(v)).strip()
                counts["text_normalised"] += rec[key] != _text(v)
                if not rec[key]:
                    probs.append(Problem(table.file, "employee id is empty", "fill in the id, or delete the row",
                                         row=n, column=col))
            elif key in _HR_EMPLOYMENT[:2]:
                when, _, good = _date(v, fmt, table.epoch)
                if not good:
                    probs.append(_date_problem(table.file, v, fmt, n, col, excel=table.excel, epoch=table.epoch,
                                               when=when, key=key))
                elif when is None and key == "hire_date":
                    probs.append(Problem(table.file, "hire date is missing", "enter the hire date", row=n, column=col))
                rec[key] = when.date() if good and when is not None else None
            elif key in _HR_NUMERIC:
                x, good, comma = _number(v)
                counts["decimal_commas"] += comma
                if not good:
                    probs.append(Problem(table.file, f"'{_shown(_text(v).strip())}' is not a number",
                                         "enter a number, or leave the cell empty if unknown", row=n, column=col))
                elif x is None and key == "age":
                    probs.append(Problem(table.file, "age is missing", "enter the age in years at baseline",
                                         row=n, column=col))
                rec[key] = np.nan if x is None else x
            else:
                # every text value: NFC, no zero-width characters, no surrounding (Unicode) spaces, so that
                # 'Sales ' or a decomposed 'Réseau' is the value a population filter names (docs/ingest.md)
                label = _clean(_text(v)).strip()
                counts["text_normalised"] += label != _text(v)
                value = values[key].get(_norm(label), label) if key in values else label
                if key in _HR_CHOICES and value not in _HR_CHOICES[key] and not (key == "exit_reason" and value == ""):
                    probs.append(Problem(table.file, f"unknown {key} '{_shown(label)}'",
                                         f"map the label under hr.values.{key} to one of {list(_HR_CHOICES[key])}",
                                         row=n, column=col))
                if isinstance(value, str) and ("\n" in value or "\r" in value):
                    # a cohort table holds no line breaks (load_cohort reads one as a stray quote): one space each
                    value = re.sub(r"\s*[\r\n]+\s*", " ", value).strip()
                    counts["line_breaks_replaced"] += 1
                rec[key] = value
        records.append(rec)
    report.update(counts)
    report["rows_written"] = len(records)
    report["ledger"] = _ledger(table, len(records), {})
    return records, report


# --------------------------------------------------------------------------------------------- writing


def _dates(values) -> pd.Series:
    return pd.to_datetime(pd.Series([pd.NaT if d is None else pd.Timestamp(d) for d in values], dtype="object"))


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise CohortError(Problem(str(out_dir.name), "the output path is a file, not a folder",
                                  "pass a new or empty folder to --out"))
    if out_dir.is_dir():
        others = sorted(p.name for p in out_dir.iterdir() if p.name not in OUTPUT_FILES)
        if others:
            raise CohortError(Problem(out_dir.name, f"the output folder holds other files ({', '.join(others[:5])}"
                                      + (", ..." if len(others) > 5 else "") + ")",
                                      "pass a new or empty folder (or one written by rmstudy ingest) to --out"))


# --------------------------------------------------------------------------------------------- steps of ingest


def _load_instruments(raw: dict, m: str, base: Path) -> tuple[dict[str, Path], Codebook, object]:
    """The codebook and study the mapping points to, loaded with the cohort's own checks."""
    sources = {key: base / raw[key] for key in ("codebook", "study")}
    missing = [Problem(m, f"{raw[key]} (the {key}) does not exist", f"check the {key}: path", column=key)
               for key, path in sources.items() if not path.is_file()]
    if missing:
        raise CohortError(missing)
    codebook = study = None
    try:
        codebook = load_codebook(sources["codebook"])
        study = load_study(sources["study"], codebook=codebook)
    except CohortError:
        raise
    except (yaml.YAMLError, UnicodeDecodeError, ValueError) as e:     # ValueError: an impossible unquoted date
        path = sources["codebook" if codebook is None else "study"]
        raise CohortError(Problem(path.name, f"cannot be read as YAML: {yamlio.message(e, path)}",
                                  "fix the YAML syntax; write dates as real YYYY-MM-DD dates")) from e
    return sources, codebook, study


def _read_inputs(raw: dict, base: Path, ctx: _Context, m: str, probs: list[Problem],
                 warnings: list[str]) -> tuple[list[dict], list[dict], list[dict], dict | None]:
    """Read every survey export and the HR extract, collecting every problem.

    Returns
    -------
    tuple
        ``(inputs, responses, employees, hr_report)``: the report entries per
        file, the response records, the employee records, and the HR file's
        report entry (None when the file could not be read).
    """
    tables = [_read_table(base / s["file"], _display(s["file"]), s, "responses", probs, warnings, f"surveys.{i}")
              for i, s in enumerate(raw["surveys"])]
    hr_table = _read_table(base / raw["hr"]["file"], _display(raw["hr"]["file"]), raw["hr"], "employees", probs,
                           warnings, "hr")
    for table in (*tables, hr_table):
        if table is not None:
            warnings.extend(_blank_header_warnings(table))
    inputs, responses = [], []
    found: dict[str, set[str]] = {}       # column map key path -> header names of the files using it
    for i, (s, table) in enumerate(zip(raw["surveys"], tables)):
        if table is None:
            continue
        recs, rep = _read_survey(table, s, i, raw, ctx, probs)
        found.setdefault(_map_key(raw, i), set()).update(table.columns)
        if rep["items_not_in_file"]:
            warnings.append(f"{table.file}: {len(rep['items_not_in_file'])} mapped item(s) are not in the file; their "
                            f"answers are missing for its rows: {rep['items_not_in_file']}")
        inputs.append(rep)
        responses.extend(recs)
    employees, hr_rep = ([], None) if hr_table is None else _read_hr(hr_table, raw["hr"], ctx, probs)
    if hr_rep is not None:
        inputs.append(hr_rep)
    if all(t is not None for t in (*tables, hr_table)):   # only when every file could be read
        for where, cols in _effective_maps(raw).items():   # a mapped column in no file at all is a typo
            for col in cols:
                if col not in found.get(where, set()):
                    probs.append(Problem(m, f"column '{col}' is in none of the survey files that use this mapping",
                                         "correct the export column name", column=f"{where}.{col}"))
        for d in sorted(ctx.drop):
            if not any(d in t.columns for t in (*tables, hr_table)):
                warnings.append(f"drop: column '{d}' is in none of the input files")
    return inputs, responses, employees, hr_rep


def _cross_check(raw: dict, responses: list[dict], employees: list[dict], hr_rep: dict | None,
                 probs: list[Problem], duplicate_rule: str = "error") -> list[str]:
    """One row per employee, one response per respondent and wave, every respondent in the HR extract.

    Returns
    -------
    list of str
        The employee ids of the HR extract, in file order.
    """
    hr_ids: dict[str, tuple] = {}
    for rec in employees:
        eid = rec["employee_id"]
        if eid and eid in hr_ids:
            file, n = rec["where"]
            probs.append(Problem(file, f"duplicate employee id '{_shown(eid)}' (first at row {hr_ids[eid][1]})",
                                 "keep one row per employee", row=n, column=raw["hr"]["columns"]["employee_id"]))
        elif eid:
            hr_ids[eid] = rec["where"]
    hr_usable = hr_rep is not None and "rows_written" in hr_rep
    by_case: dict[str, str] = {}
    for eid in hr_ids:
        by_case.setdefault(eid.casefold(), eid)
    firsts: dict[tuple, tuple] = {}
    for rec in responses:
        file, n, col = rec["where"]
        if not rec["id"]:
            continue
        if hr_usable and rec["id"] not in hr_ids:
            same = by_case.get(rec["id"].casefold())
            if same is not None:
                # the same person written in another case: adding an employee would create a second, bogus one
                probs.append(Problem(file, f"respondent id '{_shown(rec['id'])}' is not in the HR extract, but "
                                     f"'{_shown(same)}' is: it differs only in case (ids are compared exactly)",
                                     f"correct the case of the id to '{_shown(same)}' here (or in the HR extract, if "
                                     "that is the one written wrongly); do not add a second employee", row=n,
                                     column=col))
            else:
                probs.append(Problem(file, f"respondent id '{_shown(rec['id'])}' is not in the HR extract",
                                     "add the employee to the HR extract, or remove the response", row=n, column=col))
        k = (rec["id"], rec["wave"])
        if k in firsts and duplicate_rule != "error":
            continue               # written as they are; the plan's duplicate_submissions rule resolves them
        if k in firsts:
            f0, n0, _ = firsts[k]
            first = f"row {n0}" if f0 == file else f"{f0}, row {n0}"
            probs.append(Problem(file, f"respondent '{_shown(rec['id'])}' answered wave '{rec['wave']}' twice (first at {first})",
                                 "keep one response per respondent and wave, or declare how duplicate submissions "
                                 "are resolved (duplicate_submissions: keep_latest, keep_earliest or "
                                 "keep_most_complete in study.yaml)",
                                 row=n, column=col))
        else:
            firsts[k] = rec["where"]
    return list(hr_ids)


_TOKEN = re.compile(r"[^\W_]+")      # runs of letters and digits


def _employee_id_problems(raw: dict, employees: list[dict], probs: list[Problem]) -> None:
    """With pseudonymise: true, no written text value may carry an employee id.

    pair_id, department and every other mapped HR text column are written as they are, so a pair id such as
    ``E101-E102`` would put the employee ids, which pseudonymisation replaces, back into the cohort folder. A value
    is split into runs of letters and digits (case ignored), and an employee id of the HR extract found among them
    (as consecutive runs, for an id like ``E-101``) is a problem naming the row and the column. Ids with fewer
    than 4 letters and digits are not looked for.
    """
    cols = raw["hr"]["columns"]
    keys = [k for k in cols if k not in ("employee_id", *_HR_NUMERIC, *_HR_EMPLOYMENT[:2], *_HR_CHOICES)]
    ids: dict[tuple, str] = {}
    for rec in employees:
        tokens = tuple(t.casefold() for t in _TOKEN.findall(rec["employee_id"]))
        # ids shorter than 4 letters and digits ("7") would match ordinary labels ("Team 7") and identify nobody
        if tokens and sum(map(len, tokens)) >= 4:
            ids.setdefault(tokens, rec["employee_id"])
    by_first: dict[str, list[tuple]] = {}
    for tokens in ids:
        by_first.setdefault(tokens[0], []).append(tokens)
    for rec in employees:
        file, n = rec["where"]
        for key in keys:
            value = rec.get(key)
            if not isinstance(value, str) or not value.strip():
                continue
            vt = [t.casefold() for t in _TOKEN.findall(value)]
            found = [ids[tokens] for a, t in enumerate(vt) for tokens in by_first.get(t, ())
                     if tuple(vt[a:a + len(tokens)]) == tokens]
            if found:
                shown = _shown(value)
                probs.append(Problem(file, f"'{shown}' contains the employee id(s) {', '.join(dict.fromkeys(found))}: "
                                     "with pseudonymise: true it would carry employee ids into the cohort folder",
                                     f"map a label that carries no employee id (e.g. pairs numbered PR1, PR2, ... for "
                                     f"pair_id), or give each label a value without one under hr.values.{key}",
                                     row=n, column=str(cols[key]).strip()))


def _cohort_tables(raw: dict, ctx: _Context, responses: list[dict], employees: list[dict],
                   pid: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """participants, responses and employment in the contract's columns, typed as load_cohort types them.

    Rows are sorted by participant id (responses by wave, then id), so the input order (often alphabetical by
    name) does not survive pseudonymisation.
    """
    cols = raw["hr"]["columns"]
    extras = [k for k in cols if k not in _HR_REQUIRED + _HR_EMPLOYMENT]
    ids = [pid[r["employee_id"]] for r in employees]
    part = pd.DataFrame({
        "participant_id": ids,
        **{k: [r[k] for r in employees] for k in ("arm", "role", "pair_id")},
        "age": np.array([r["age"] for r in employees], dtype=float),
        **{k: (np.array([r[k] for r in employees], dtype=float) if k in _HR_NUMERIC else [r[k] for r in employees])
           for k in extras},
    }).sort_values("participant_id", kind="stable").reset_index(drop=True)
    employment = None
    if "hire_date" in cols:
        employment = pd.DataFrame({
            "participant_id": ids,
            "hire_date": _dates([r["hire_date"] for r in employees]),
            "exit_date": _dates([r["exit_date"] for r in employees]),
            "exit_reason": [r["exit_reason"] for r in employees],
        }).sort_values("participant_id", kind="stable").reset_index(drop=True)
    has_dates = any("submitted_on" in s for s in raw["surveys"])
    resp = pd.DataFrame({
        "participant_id": [pid[r["id"]] for r in responses],
        "wave": [r["wave"] for r in responses],
        **({"submitted_on": _dates([r["submitted_on"] for r in responses])} if has_dates else {}),
        **{item: np.array([r.get(item, np.nan) for r in responses], dtype=float) for item in ctx.codebook.items},
    })
    resp["_w"] = resp["wave"].map({w: k for k, w in enumerate(ctx.waves)})
    resp["_s"] = _submission_order(responses, [pid[r["id"]] for r in responses])
    resp = resp.sort_values(["_w", "participant_id", "_s"], kind="stable").drop(columns=["_w", "_s"])
    return part, resp.reset_index(drop=True), employment


def _submission_order(responses: list[dict], ids: list[str]) -> list[int]:
    """The position of each response among the submissions of its participant and wave.

    Submissions are ordered by when they were made, so that ``responses.csv``, which keeps only the date, lists
    same-day submissions in the order they were made (the duplicate_submissions rules take the later row in the
    file as the later submission on the same date). Dates come first; on the same date, times of day order the
    submissions when every submission of that date has one. Otherwise, and when any submission of the group has
    no date, the input order is kept (surveys in mapping order, rows in file order).
    """
    groups: dict[tuple, list[int]] = {}
    for k, (rec, i) in enumerate(zip(responses, ids)):
        groups.setdefault((i, rec["wave"]), []).append(k)
    order = [0] * len(responses)
    for ks in groups.values():
        if len(ks) > 1 and all(responses[k].get("submitted_at") is not None for k in ks):
            days: dict[_dt.date, list[int]] = {}
            for k in ks:
                days.setdefault(responses[k]["submitted_at"].date(), []).append(k)
            timed = {d for d, kd in days.items() if all(responses[k]["timed"] for k in kd)}

            def key(k, days=days, timed=timed):
                when = responses[k]["submitted_at"]
                return when.date(), (when.time() if when.date() in timed else _dt.time(0)), k

            ks = sorted(ks, key=key)
        for pos, k in enumerate(ks):
            order[k] = pos
    return order


def _write_outputs(out_dir: Path, part: pd.DataFrame, resp: pd.DataFrame, employment: pd.DataFrame | None,
                   sources: dict[str, Path], warnings: list[str]) -> list[str]:
    """Write the cohort files (codebook.yaml and study.yaml byte for byte); returns the names written."""
    copies = {f"{key}.yaml": sources[key].read_bytes() for key in ("codebook", "study")}   # before any write
    out_dir.mkdir(parents=True, exist_ok=True)
    write_table(part, out_dir / "participants.csv")
    write_table(resp, out_dir / "responses.csv")
    written = ["participants.csv", "responses.csv"]
    if employment is not None:
        write_table(employment, out_dir / "employment.csv")
        written.append("employment.csv")
    elif (out_dir / "employment.csv").exists():
        (out_dir / "employment.csv").unlink()
        warnings.append("removed employment.csv left by an earlier ingest (this mapping maps no hire_date)")
    for name, data in copies.items():
        (out_dir / name).write_bytes(data)
        written.append(name)
    return written


def _check_ledgers(inputs: list[dict], response_rows: int, participant_rows: int) -> None:
    """Every input row is accounted for: each file's ledger adds up, and the rows it says were written are the rows
    of responses.csv (surveys) and participants.csv (HR). A failure is a bug in rmstudy, not in the inputs."""
    for f in inputs:
        led = f["ledger"]
        if led["rows_in"] != led["written"] + led["excluded"] or led["written"] != f["rows_written"]:
            raise RuntimeError(f"rmstudy bug: the row ledger of {f['file']} does not add up: {led}")
    written = {kind: sum(f["ledger"]["written"] for f in inputs if f["kind"] == kind) for kind in ("survey", "hr")}
    if (written["survey"], written["hr"]) != (response_rows, participant_rows):
        raise RuntimeError(f"rmstudy bug: the ledgers say {written} rows were written, but responses.csv has "
                           f"{response_rows} and participants.csv {participant_rows}")


# --------------------------------------------------------------------------------------------- main entry


def ingest(mapping_path: str | Path, out_dir: str | Path) -> dict:
    """Turn survey exports and an HR extract into a cohort folder, as a mapping YAML says.

    Parameters
    ----------
    mapping_path : str or Path
        The mapping YAML (docs/ingest.md). Paths inside it are relative to its
        folder.
    out_dir : str or Path
        The cohort folder to write. It may not exist yet; if it does, it may
        hold only files that ``rmstudy ingest`` writes.

    Returns
    -------
    dict
        The report, also written to ``ingest_report.json`` in ``out_dir``
        (relative paths only): per input file the rows read and written, its
        row ``ledger`` (``rows_in == written + excluded``, with the row
        numbers of each reason for leaving a row out), encoding, delimiter,
        header style, mapped and dropped columns; counts of
        participants and rows; whether ids were pseudonymised; warnings; and
        under ``cohort`` the outcome of :func:`rmstudy.load_cohort` on the
        written folder (``ok`` and a summary, or ``ok: false`` and its
        problems).

    Raises
    ------
    CohortError
        When the mapping or an input cannot be used. Each problem names the
        file, the row (as a spreadsheet numbers it, header row(s) included) and
        the column as named in that file; for the mapping the column slot holds
        the key path (``surveys.0.columns.Q1``). Nothing is written then.
    """
    mapping_path = Path(mapping_path)
    out_dir = Path(out_dir)
    m = mapping_path.name
    base = mapping_path.resolve().parent
    probs: list[Problem] = []
    warnings: list[str] = []

    # 1. the mapping, the codebook and study, the key and the output folder
    raw = _load_yaml(mapping_path, m, probs)
    if not probs:
        _check_mapping(raw, m, probs)
    if not probs:
        _same_input_twice(raw, m, base, probs)
    if probs:
        raise CohortError(probs)
    sources, codebook, study = _load_instruments(raw, m, base)
    _check_privacy_and_items(raw, codebook, m, probs)
    for i, s in enumerate(raw["surveys"]):
        if "wave" in s and s["wave"] not in study.waves:
            probs.append(Problem(m, f"wave '{s['wave']}' is not one of the study's waves {list(study.waves)}",
                                 "use a wave named in study.yaml", column=f"surveys.{i}.wave"))
        for label, target in (s.get("wave_values") or {}).items():
            # checked whether or not the label occurs: a wrong target is one slip in the mapping, not one per row
            if _text(target) not in study.waves:
                probs.append(Problem(m, f"'{_shown(_text(target))}' is not a wave of "
                                     f"study.yaml (its waves are {list(study.waves)})",
                                     "map the label to one of the study's waves (wave names are compared exactly, "
                                     "case included)", column=f"surveys.{i}.wave_values.{label}"))
    if probs:
        raise CohortError(probs)
    key = source = None
    if raw["pseudonymise"]:
        key, source = _pseudonym_key(raw, m, base, out_dir, warnings)
    elif "key_env" in raw or "key_file" in raw:
        warnings.append("a key is configured but pseudonymise is false: participant ids are the employee ids")
    _check_out_dir(out_dir)

    # 2. every input file, then the checks across files
    missing = raw.get("missing_values") or []
    ctx = _Context(codebook=codebook, waves=tuple(study.waves), drop={str(d) for d in raw.get("drop") or []},
                   missing_values={_norm(_text(v)) for v in missing},
                   anchors={item: _anchor_values(codebook.scale_of(item).anchors) for item in codebook.items},
                   missing_numbers={x for x, ok, _ in map(_number, missing) if ok and x is not None})
    inputs, responses, employees, hr_rep = _read_inputs(raw, base, ctx, m, probs, warnings)
    employee_ids = _cross_check(raw, responses, employees, hr_rep, probs, study.duplicate_submissions)
    if raw["pseudonymise"]:
        _employee_id_problems(raw, employees, probs)
    if probs:
        raise CohortError(probs)

    # 3. participant ids, the cohort tables, the files
    pid = {eid: pseudonym(key, eid) if key is not None else eid for eid in employee_ids}
    if len(set(pid.values())) != len(pid):
        raise CohortError(Problem(m, "two employee ids give the same pseudonym", "use another key"))
    part, resp, employment = _cohort_tables(raw, ctx, responses, employees, pid)
    _check_ledgers(inputs, len(resp), len(part))
    written = _write_outputs(out_dir, part, resp, employment, sources, warnings)

    # 4. the report, with the cohort's own check of what was written
    report = {
        "rmstudy_version": __version__,
        "mapping": m,
        "codebook": _display(raw["codebook"]),
        "study": _display(raw["study"]),
        "written": written,
        # lets a later check tell whether the cohort CSVs were edited after ingest
        "written_sha256": {name: file_sha256(out_dir / name) for name in written if name.endswith(".csv")},
        "pseudonymised": bool(raw["pseudonymise"]),
        "pseudonym_key_source": source,
        # lets two runs confirm they used the same key without revealing it
        "pseudonym_key_check": None if key is None else hmac.new(key.encode("utf-8"), b"rmstudy key check",
                                                                   hashlib.sha256).hexdigest()[:8],
        "inputs": inputs,
        "participants": len(part),
        "response_rows": len(resp),
        "employment_rows": None if employment is None else len(employment),
        "participants_without_responses": int((~part["participant_id"].isin(set(resp["participant_id"]))).sum()),
        "warnings": warnings,
    }
    try:
        c = load_cohort(out_dir)
        report["cohort"] = {"ok": True, "summary": f"OK — {len(c.participants)} participants, {len(c.responses)} "
                                                   f"response rows, {len(c.study.hypotheses)} hypotheses"}
    except CohortError as e:
        report["cohort"] = {"ok": False, "problems": [asdict(p) for p in e.problems]}
    with open(out_dir / REPORT_NAME, "w", encoding="utf-8", newline="\n") as fh:
        json.dump(report, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    return report
