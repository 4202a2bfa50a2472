"""The mapping YAML (docs/ingest.md): read, checked for structure, and checked for privacy against the codebook."""

from __future__ import annotations

__all__ = ["load_mapping", "check_mapping", "same_input_twice", "check_privacy_and_items", "map_key", "effective_maps"]

import datetime as _dt
import os
from pathlib import Path

import yaml

from rmstudy.contract import yamlio
from rmstudy.contract.codebook import Codebook
from rmstudy.errors import Problem
from rmstudy.ingest.fields import HR_EMPLOYMENT, HR_REQUIRED
from rmstudy.ingest.identifiers import looks_like_identifier
from rmstudy.ingest.table import EXCEL_SUFFIXES
from rmstudy.ingest.values import cell_text, label_key, shown_value

_TOP_KEYS = {"codebook", "study", "id", "pseudonymise", "key_env", "key_file", "drop", "columns", "missing_values",
             "surveys", "hr"}
_SURVEY_KEYS = {"file", "wave", "wave_column", "wave_values", "sheet", "id", "columns", "submitted_on", "date_format",
                "encoding", "delimiter", "keep_test_responses"}
_HR_KEYS = {"file", "sheet", "columns", "values", "date_format", "encoding", "delimiter"}


def load_mapping(path: Path, file: str, probs: list[Problem]):
    """The mapping as read (None, with a problem, when it cannot be read). A key written twice is refused.

    Parameters
    ----------
    path : Path
    file : str
        Its name in problems.
    probs : list of Problem
        Appended to.

    Returns
    -------
    dict or None
    """
    try:
        with open(path, encoding="utf-8-sig") as fh:
            raw = yamlio.load(fh, allow_empty=True)     # an empty mapping gets its own message below
    except FileNotFoundError:
        probs.append(Problem(file, "file is missing", "check the path"))
        return None
    except yamlio.UnsafeYamlError as e:      # too large, too deep, anchors or aliases, not UTF-8
        probs.extend(e.problems)
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


def check_mapping(raw, m: str, probs: list[Problem]) -> None:
    """Structural checks of the mapping (types, unknown and missing keys); problems name the key path.

    Parameters
    ----------
    raw : object
        The mapping as read.
    m : str
        Its file name.
    probs : list of Problem
        Appended to.
    """

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
        _check_survey_entry(raw, s, i, m, probs, bad)
    hr = raw.get("hr")
    if "hr" in raw and not isinstance(hr, dict):
        bad("hr", "hr is not a mapping", "give file:, columns: and (optionally) values: and date_format:")
    elif isinstance(hr, dict):
        _check_hr_entry(hr, bad)


def _check_survey_entry(raw: dict, s, i: int, m: str, probs: list[Problem], bad) -> None:
    """The checks of one entry of ``surveys:`` (``bad(key path, message, fix)`` records a problem)."""
    where = f"surveys.{i}"
    if not isinstance(s, dict):
        bad(where, f"{where} is not a mapping", "give file: and wave: (or wave_column:)")
        return
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


def _check_hr_entry(hr: dict, bad) -> None:
    """The checks of the ``hr:`` entry (``bad(key path, message, fix)`` records a problem)."""
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
        _check_hr_columns(cols, bad)
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


def _check_hr_columns(cols: dict, bad) -> None:
    """``hr.columns``: the required columns, employment columns together, no participant_id, column names as text."""
    for key in HR_REQUIRED:
        if key not in cols:
            bad(f"hr.columns.{key}", f"hr.columns has no '{key}'", f"name the HR column that holds {key}")
    present = [k for k in HR_EMPLOYMENT if k in cols]
    if present and len(present) < len(HR_EMPLOYMENT):
        missing = [k for k in HR_EMPLOYMENT if k not in cols]
        bad("hr.columns", f"hr.columns maps {present} but not {missing}",
            "map hire_date, exit_date and exit_reason together (or none of them: no employment.csv)")
    if "participant_id" in cols:
        bad("hr.columns.participant_id", "participant_id is made by rmstudy",
            "map the HR column holding the employee id as employee_id")
    for key, col in cols.items():
        if not isinstance(col, str) or not col.strip():
            bad(f"hr.columns.{key}", f"hr.columns.{key} must name an HR column", "write the column name")


def _label_collisions(labels: dict, where: str, bad) -> None:
    """Two labels of one ``wave_values:`` or ``hr.values.<column>:`` map that are the same label once case, spaces,
    Unicode form and curly quotes are ignored (as ingest matches them): the later one would silently win."""
    first: dict[str, str] = {}
    for label, target in labels.items():
        k = label_key(cell_text(label))
        if k not in first:
            first[k] = label
            continue
        other = first[k]
        same = cell_text(labels[other]) == cell_text(target)
        effect = (f"both map to '{shown_value(cell_text(target))}'" if same else
                  f"they map to '{shown_value(cell_text(labels[other]))}' and '{shown_value(cell_text(target))}', and the later one "
                  "would silently win for both spellings")
        bad(f"{where}.{label}", f"labels '{shown_value(cell_text(other))}' and '{shown_value(cell_text(label))}' of {where} are the "
            f"same label for ingest (case, spaces and Unicode form are ignored when matching): {effect}",
            "delete one of the two entries" + ("" if same else "; the export's label can map to one value only"))


def same_input_twice(raw: dict, m: str, base: Path, probs: list[Problem]) -> None:
    """One export (the same file, and for a workbook the same sheet) under two survey entries: a copy-pasted
    ``file:`` would make one wave a copy of another. Paths are compared after resolving them (``./pre.csv`` and
    ``pre.csv`` are one file); a workbook's sheet not given and sheet 0 are the same sheet.

    Parameters
    ----------
    raw : dict
    m : str
    base : Path
        The mapping's folder.
    probs : list of Problem
        Appended to.
    """
    surveys = raw.get("surveys")
    if not isinstance(surveys, list):
        return
    seen: dict[tuple, int] = {}
    for i, s in enumerate(surveys):
        if not isinstance(s, dict) or not isinstance(s.get("file"), str) or not s["file"]:
            continue
        path = os.path.normcase(str((base / Path(s["file"]).expanduser()).resolve()))
        excel = Path(s["file"]).suffix.lower() in EXCEL_SUFFIXES
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


def map_key(raw: dict, i: int) -> str:
    """Key path of the column map survey ``i`` uses: its own ``columns:`` or the top-level one.

    Parameters
    ----------
    raw : dict
    i : int
        The survey's index.

    Returns
    -------
    str
    """
    return f"surveys.{i}.columns" if "columns" in raw["surveys"][i] else "columns"


def effective_maps(raw: dict) -> dict[str, dict[str, str]]:
    """The column maps in use (key path -> {export column: item code}); an unused top-level map is left out.

    Parameters
    ----------
    raw : dict

    Returns
    -------
    dict
    """
    maps = {}
    for i in range(len(raw["surveys"])):
        where = map_key(raw, i)
        cols = raw["surveys"][i]["columns"] if where != "columns" else raw["columns"]
        maps[where] = {str(k): str(v).strip() for k, v in cols.items()}
    return maps


def check_privacy_and_items(raw: dict, codebook: Codebook, m: str, probs: list[Problem]) -> None:
    """Mapped item codes exist; identifier-looking and dropped columns are never mapped; every item is mapped.

    Parameters
    ----------
    raw : dict
    codebook : Codebook
    m : str
    probs : list of Problem
        Appended to.
    """
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
    for where, cols in effective_maps(raw).items():
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
