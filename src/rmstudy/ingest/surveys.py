"""Survey exports to response records: ids, waves, submission dates, answers (numbers, labels, missing-value codes),
and Qualtrics preview, test and spam rows left out."""

from __future__ import annotations

__all__ = ["read_survey", "anchor_values"]

import numpy as np

from rmstudy.errors import Problem
from rmstudy.ingest.columns import Context, classify_columns, ledger, near_matches, require_column
from rmstudy.ingest.mapping import effective_maps, map_key
from rmstudy.ingest.table import Table
from rmstudy.ingest.values import (cell_text, clean_text, date_problem, is_blank, label_key, read_date, read_number,
                                   shown_value)

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


def anchor_values(anchors: dict) -> dict[str, float]:
    """A scale's anchors as normalised label -> answer value (keys that are not numbers are skipped).

    Parameters
    ----------
    anchors : dict
        answer value -> label.

    Returns
    -------
    dict
    """
    out = {}
    for k, label in anchors.items():
        value, ok, _ = read_number(k)
        if ok and value is not None:
            out[label_key(label)] = value
    return out


def _test_response_columns(table: Table, used: dict[str, str], probs: list[Problem]) -> list[tuple[str, int]]:
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
            channel = cell_text(v).strip().casefold()
            if channel in _TEST_CHANNELS:
                return f"{_TEST_REASON} ({name} '{shown_value(channel)}')"
            continue
        code, ok, _ = read_number(v)
        if ok and code is not None and float(code).is_integer() and int(code) in _QUALTRICS_STATUS:
            label, real = _QUALTRICS_STATUS[int(code)]
            shown = f"{int(code)} = '{label}'"
        elif label_key(cell_text(v)) in _STATUS_LABELS:
            _, label, real = _STATUS_LABELS[label_key(cell_text(v))]
            shown = f"'{label}'"
        else:
            if not keep:
                real_ones = ", ".join(f"{lab} ({c})" for c, (lab, r) in _QUALTRICS_STATUS.items() if r)
                other = ", ".join(f"{lab} ({c})" for c, (lab, r) in _QUALTRICS_STATUS.items() if not r)
                what = (f"unknown {name} '{shown_value(cell_text(v).strip())}' (not a Qualtrics response type)" if not is_blank(v)
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


def _item_value(v, item: str, ctx: Context, file: str, row: int, column: str, probs: list[Problem],
                counts: dict) -> float:
    """One answer as a number: a number, a number written as text, or an anchor label; NaN when empty."""
    if is_blank(v):
        return np.nan
    if isinstance(v, str) and (c := clean_text(v)) != v:
        counts["text_normalised"] += 1
        v = c
        if is_blank(v):
            return np.nan
    value, ok, comma = read_number(v)
    if ctx.missing_values and label_key(cell_text(v)) in ctx.missing_values or (
            ok and value is not None and value in ctx.missing_numbers):
        # a numeric code is compared as a number: -99.0 and -99,0 are the code -99
        counts["missing_value_codes"] += 1
        return np.nan
    scale = ctx.codebook.scale_of(item)
    if not ok:
        value = ctx.anchors[item].get(label_key(v)) if isinstance(v, str) else None
        if value is None:
            labels = "; ".join(f"{k} = {lab}" for k, lab in scale.anchors.items())
            probs.append(Problem(file, f"'{shown_value(v)}' is neither a number nor an answer label of scale '{scale.name}'",
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


def read_survey(table: Table, spec: dict, i: int, raw: dict, ctx: Context, probs: list[Problem]) -> tuple[list, dict]:
    """Turn one survey export into response records (raw id, wave, submitted_on, items) and its report entry.

    Parameters
    ----------
    table : Table
        The file as read (:func:`rmstudy.ingest.table.read_table`).
    spec : dict
        The survey's mapping entry.
    i : int
        Its index.
    raw : dict
    ctx : Context
    probs : list of Problem
        Appended to.

    Returns
    -------
    (list of dict, dict)
        The response records, and the file's report entry.
    """
    id_col = spec.get("id", raw.get("id"))
    columns = effective_maps(raw)[map_key(raw, i)]
    wave_col = spec.get("wave_column")
    date_col = spec.get("submitted_on")
    used = {id_col: "id", **({wave_col: "wave"} if wave_col else {}),
            **({date_col: "submitted_on"} if date_col else {})}
    for name, item in columns.items():
        if name in table.columns:
            used[name] = item
    report = {"file": table.file, "kind": "survey", **({"wave": spec["wave"]} if "wave" in spec else
                                                      {"wave_column": wave_col}), **table.info}
    ok = require_column(table, id_col, "id column", probs)
    for name, what in ((wave_col, "wave column"), (date_col, "submitted_on column")):
        if name:
            ok &= require_column(table, name, what, probs)
    for name in columns:
        if name in table.columns and len(table.positions(name)) > 1:
            ok &= require_column(table, name, "item column", probs)
    pos, dropped = classify_columns(table, used, ctx)
    report["dropped_columns"] = dropped
    report["mapped_columns"] = {name: used[name] for name in table.columns if name in used}
    report["items_not_in_file"] = [columns[name] for name in columns if name not in table.columns]
    _near_miss_problems(table, columns, used, raw, i, probs)
    check = _test_response_columns(table, used, probs)
    keep = spec.get("keep_test_responses", False) is True
    report["test_response_columns"] = [name for name, _ in check]
    report["keep_test_responses"] = keep
    counts = {"text_answers_converted": 0, "decimal_commas": 0, "missing_value_codes": 0, "text_normalised": 0}
    if not ok:
        return [], report
    reader = _RowReader(table, spec, i, id_col, ctx, pos,
                        [(columns[name], name, pos[name]) for name in columns if name in pos], probs, counts)
    records = []
    test_rows: dict[str, list[int]] = {}
    for cells, n in zip(table.rows, table.row_numbers):
        reason = _test_response(cells, check, i, keep, table.file, n, probs) if check else None
        if reason:
            test_rows.setdefault(reason, []).append(n)
            if not keep:
                continue            # a preview or test: not a response, so none of its cells is checked
        records.append(reader.record(cells, n))
    report.update(counts)
    report["rows_written"] = len(records)
    if keep:
        report["test_responses_kept"] = test_rows
    report["ledger"] = ledger(table, len(records), {} if keep else test_rows)
    return records, report


def _near_miss_problems(table: Table, columns: dict[str, str], used: dict[str, str], raw: dict, i: int,
                        probs: list[Problem]) -> None:
    """A mapped column missing from the file that has it but for case, spaces or underscores is a problem, not an
    item the wave did not ask."""
    for name in columns:
        if name not in table.columns and (near := near_matches(table, name, used)):
            key = f"{map_key(raw, i)}.{name}"
            probs.append(Problem(table.file, f"the mapping's column '{name}' ({key}: {columns[name]}) is not in the "
                                 f"file, but '{near[0]}' is: the same name but for case, spaces or underscores",
                                 f"if '{near[0]}' holds {columns[name]}, rename it to '{name}' in the export, or give "
                                 f"this file its own columns: (surveys.{i}.columns, which replaces the top-level columns: for "
                                 f"this file) with '{near[0]}: {columns[name]}'",
                                 row=table.header_row, column=near[0]))


class _RowReader:
    """Reads the rows of one survey export into response records (problems and counts collected on the way)."""

    def __init__(self, table: Table, spec: dict, i: int, id_col: str, ctx: Context, pos: dict[str, int],
                 item_pos: list[tuple[str, str, int]], probs: list[Problem], counts: dict):
        self.table, self.spec, self.i, self.ctx, self.pos, self.item_pos = table, spec, i, ctx, pos, item_pos
        self.probs, self.counts = probs, counts
        self.id_col = id_col
        self.wave_col = spec.get("wave_column")
        self.date_col = spec.get("submitted_on")
        self.wave_values = {label_key(k): str(v) for k, v in (spec.get("wave_values") or {}).items()}

    def record(self, cells: list, n: int) -> dict:
        """One response record: id, wave, submission date and time, and every mapped item's answer."""
        table, probs, counts = self.table, self.probs, self.counts
        id_col = self.id_col
        written_id = cell_text(cells[self.pos[id_col]])
        rid = clean_text(written_id).strip()
        counts["text_normalised"] += rid != written_id
        if not rid:
            probs.append(Problem(table.file, "respondent id is empty", "fill in the id, or delete the row if it is "
                                 "not a real response", row=n, column=id_col))
        wave = self._wave(cells, n) if self.wave_col else self.spec["wave"]
        when, timed = None, False
        if self.date_col:
            v = cells[self.pos[self.date_col]]
            fmt = self.spec.get("date_format")
            when, timed, good = read_date(v, fmt, table.epoch)
            if not good:
                probs.append(date_problem(table.file, v, fmt, n, self.date_col, excel=table.excel,
                                          epoch=table.epoch, when=when, key="submitted_on"))
                when = None
        # the date is written; the full time stamp orders the submissions of one person and wave (cohort_tables)
        rec = {"id": rid, "wave": wave, "submitted_on": None if when is None else when.date(), "submitted_at": when,
               "timed": timed, "where": (table.file, n, id_col)}
        for item, name, j in self.item_pos:
            rec[item] = _item_value(cells[j], item, self.ctx, table.file, n, name, probs, counts)
        return rec

    def _wave(self, cells: list, n: int) -> str:
        """The row's wave from the wave column (through ``wave_values``); an unknown wave is a problem."""
        written_label = cell_text(cells[self.pos[self.wave_col]])
        label = clean_text(written_label).strip()
        self.counts["text_normalised"] += label != written_label
        wave = self.wave_values.get(label_key(label), label)
        if wave not in self.ctx.waves:
            self.probs.append(Problem(self.table.file, f"unknown wave '{shown_value(label)}'",
                                      f"use one of {list(self.ctx.waves)} or map the label under "
                                      f"surveys.{self.i}.wave_values", row=n, column=self.wave_col))
        return wave
