"""Cell values of raw exports: text as written, numbers, dates, and how a value is echoed in a message.

Every reader and check of ingest goes through these, so that a cell means the same everywhere: ``is_blank`` (an empty
cell), ``cell_text`` (a cell as text), ``clean_text`` (NFC without zero-width characters), ``label_key`` (the form in
which labels are matched), ``read_number``, ``read_date`` and ``date_problem`` (why a date cell cannot be read), and
``shown_value`` (a value cut to 60 characters for a message: free text may be personal).
"""

from __future__ import annotations

__all__ = ["clean_text", "shown_value", "label_key", "is_blank", "cell_text", "read_number", "read_date", "date_problem",
           "column_letter", "DATE_RANGE"]

import datetime as _dt
import math
import re
import unicodedata

import numpy as np

from rmstudy.errors import Problem

_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)")
_ISO_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?")
_TIME_CODES = re.compile(r"%[-#]?[HIMSfpXTRrc]")     # strptime codes that read a time of day
# Dates outside this range are refused as implausible for hires, exits and survey submissions: a year typed as a
# number (2023 is the serial of 1905-07-15), an open-ended 9999-12-31, a typo year 3023.
DATE_RANGE = (_dt.date(1920, 1, 1), _dt.date(2100, 12, 31))
_EXCEL_EPOCH = _dt.date(1899, 12, 30)


# Characters that show as nothing: zero-width space, non-joiner and joiner, word joiner, and the byte-order mark
# (U+FEFF, a "zero-width no-break space" inside text). Pasted ids and labels carry them invisibly.
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
# Typographic apostrophes and quotes (a word processor's "smart quotes") -> the straight ones, for matching labels.
_QUOTE_FOLD = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
_SHOWN_CHARS = 60      # a value echoed in a message is cut to this many characters (free text may be personal)


def clean_text(text: str) -> str:
    """Text in Unicode NFC form without zero-width characters: ``Re\u0301seau`` (decomposed) and ``Réseau``
    (composed) are the same text, and ``E102\u200b`` is ``E102``.

    Parameters
    ----------
    text : str

    Returns
    -------
    str

    Examples
    --------
    >>> clean_text("E102\\u200b"), clean_text("Re\\u0301seau") == "R\\u00e9seau"
    ('E102', True)
    """
    return _ZERO_WIDTH.sub("", unicodedata.normalize("NFC", text))


def shown_value(value, limit: int = _SHOWN_CHARS) -> str:
    """A value as echoed in a message: at most ``limit`` characters, cut with "…" (a long cell is free text, which
    may be personal, and would flood the output).

    Parameters
    ----------
    value : object
        A cell or text.
    limit : int

    Returns
    -------
    str

    Examples
    --------
    >>> len(shown_value("x" * 70)), shown_value("x" * 70)[-1], shown_value(4.0)
    (60, '…', '4')
    """
    text = value if isinstance(value, str) else cell_text(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def label_key(text) -> str:
    """The form in which labels are matched: NFC without zero-width characters, curly apostrophes and quotes made
    straight, spaces collapsed (Unicode spaces included), case ignored.

    Parameters
    ----------
    text : object

    Returns
    -------
    str

    Examples
    --------
    >>> label_key("  Strongly\\u00a0 Agree\\u2019s ")
    "strongly agree's"
    """
    return " ".join(clean_text(str(text)).translate(_QUOTE_FOLD).split()).casefold()


def is_blank(v) -> bool:
    """An empty cell: None, NaN or text of spaces only.

    Parameters
    ----------
    v : object
        A cell.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_blank(None), is_blank(float("nan")), is_blank("  "), is_blank(0)
    (True, True, True, False)
    """
    if v is None:
        return True
    if isinstance(v, float):
        return math.isnan(v)
    return isinstance(v, str) and v.strip() == ""


def cell_text(v) -> str:
    """A cell as text (XLSX cells may be numbers or dates; CSV cells are text already).

    Parameters
    ----------
    v : object
        A cell.

    Returns
    -------
    str

    Examples
    --------
    >>> [cell_text(v) for v in [4.0, 4.5, True, _dt.datetime(2024, 3, 1), _dt.datetime(2024, 3, 1, 9, 5), None]]
    ['4', '4.5', 'TRUE', '2024-03-01', '2024-03-01 09:05:00', '']
    """
    if is_blank(v):
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


def read_number(v) -> tuple[float | None, bool, bool]:
    """Read a number.

    Parameters
    ----------
    v : object
        A cell.

    Returns
    -------
    tuple
        ``(value, ok, decimal_comma)``: value is None for an empty cell; ok is
        False when the cell holds something that is not a number.

    Examples
    --------
    >>> read_number(" 4 "), read_number("3,5"), read_number("four"), read_number("")
    ((4.0, True, False), (3.5, True, True), (None, False, False), (None, True, False))
    """
    if is_blank(v):
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


def read_date(v, fmt: str | None, epoch: _dt.datetime | None) -> tuple[_dt.datetime | None, bool, bool]:
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

    Examples
    --------
    >>> read_date("28/12/2024", "%d/%m/%Y", None)
    (datetime.datetime(2024, 12, 28, 0, 0), False, True)
    >>> read_date(45000, None, _dt.datetime(1899, 12, 30))[0].date(), read_date("9999-12-31", None, None)[2]
    (datetime.date(2023, 3, 15), False)
    """
    if is_blank(v):
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
    return when, has_time, DATE_RANGE[0] <= when.date() <= DATE_RANGE[1]


def _serial_date(x: float, epoch: _dt.datetime | None) -> str:
    """The date an Excel serial number gives, as text (``?`` when it gives none)."""
    try:
        return ((epoch or _dt.datetime.combine(_EXCEL_EPOCH, _dt.time(0))) + _dt.timedelta(days=int(x))).date().isoformat()
    except (OverflowError, ValueError):
        return "?"


def date_problem(file: str, raw, fmt: str | None, row: int, column: str, *, excel: bool = False,
                  epoch: _dt.datetime | None = None, when: _dt.datetime | None = None, key: str = "") -> Problem:
    """Why a date cell cannot be read (``when`` is set when it gives a date outside the plausible range).

    Parameters
    ----------
    file : str
        The file's name.
    raw : object
        The cell as read.
    fmt : str or None
        The mapping's ``date_format``.
    row : int
        The spreadsheet row.
    column : str
    excel : bool
        The file is a workbook.
    epoch : datetime, optional
    when : datetime, optional
        The date the cell gives, when it is outside the plausible range.
    key : str
        The cohort column (``hire_date``, ``exit_date``, ...).

    Returns
    -------
    Problem

    Examples
    --------
    >>> print(date_problem("hr.csv", "31/02/2024", "%d/%m/%Y", 5, "Start").message)
    '31/02/2024' is not a date in the form %d/%m/%Y (e.g. 06/01/2025) or YYYY-MM-DD
    >>> date_problem("hr.csv", "44927", None, 5, "Start").message.startswith("'44927' looks like an Excel date serial")
    True
    """
    full = cell_text(raw).strip()
    shown = shown_value(full)
    lo, hi = (d.isoformat() for d in DATE_RANGE)
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
                       "correct the date, or set date_format: in the mapping to the form the file uses",
                       row=row, column=column)
    return Problem(file, f"'{shown}' is not a date in YYYY-MM-DD form",
                   "correct the date, or set date_format: in the mapping (e.g. \"%d/%m/%Y\")", row=row, column=column)


def column_letter(j: int) -> str:
    """The spreadsheet letter(s) of the 1-based column ``j`` (1 -> A, 27 -> AA).

    Parameters
    ----------
    j : int

    Returns
    -------
    str

    Examples
    --------
    >>> column_letter(1), column_letter(27), column_letter(703)
    ('A', 'AA', 'AAA')
    """
    letters = ""
    while j > 0:
        j, r = divmod(j - 1, 26)
        letters = chr(65 + r) + letters
    return letters
