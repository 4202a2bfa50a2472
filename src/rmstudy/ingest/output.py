"""The cohort folder ingest writes: the output folder checked, the three tables built as load_cohort types them, the
files written, and the row ledgers checked against what was written."""

from __future__ import annotations

__all__ = ["check_out_dir", "cohort_tables", "write_outputs", "check_ledgers", "OUTPUT_FILES"]

import datetime as _dt
from pathlib import Path

import numpy as np
import pandas as pd

from rmstudy.contract.cohort import write_table
from rmstudy.contract.csvio import neutralise_text_columns
from rmstudy.errors import CohortError, InvariantError, Problem
from rmstudy.ingest.columns import Context
from rmstudy.ingest.fields import HR_EMPLOYMENT, HR_NUMERIC, HR_REQUIRED
from rmstudy.ingest.report import REPORT_NAME

OUTPUT_FILES = ("participants.csv", "responses.csv", "employment.csv", "codebook.yaml", "study.yaml", REPORT_NAME)


def _dates(values) -> pd.Series:
    return pd.to_datetime(pd.Series([pd.NaT if d is None else pd.Timestamp(d) for d in values], dtype="object"))


def check_out_dir(out_dir: Path) -> None:
    """Refuse an output path that is a file, or a folder holding files other than the ones ingest writes.

    Parameters
    ----------
    out_dir : Path

    Raises
    ------
    CohortError
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise CohortError(Problem(str(out_dir.name), "the output path is a file, not a folder",
                                  "pass a new or empty folder to --out"))
    if out_dir.is_dir():
        others = sorted(p.name for p in out_dir.iterdir() if p.name not in OUTPUT_FILES)
        if others:
            raise CohortError(Problem(out_dir.name, f"the output folder holds other files ({', '.join(others[:5])}"
                                      + (", ..." if len(others) > 5 else "") + ")",
                                      "pass a new or empty folder (or one written by rmstudy ingest) to --out"))


def cohort_tables(raw: dict, ctx: Context, responses: list[dict], employees: list[dict],
                   pid: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """participants, responses and employment in the contract's columns, typed as load_cohort types them.

    Rows are sorted by participant id (responses by wave, then id), so the input order (often alphabetical by
    name) does not survive pseudonymisation.

    Parameters
    ----------
    raw : dict
    ctx : Context
    responses, employees : list of dict
    pid : dict
        Employee id -> participant id.

    Returns
    -------
    (DataFrame, DataFrame, DataFrame or None)
        participants, responses, employment.
    """
    cols = raw["hr"]["columns"]
    extras = [k for k in cols if k not in HR_REQUIRED + HR_EMPLOYMENT]
    ids = [pid[r["employee_id"]] for r in employees]
    part = pd.DataFrame({
        "participant_id": ids,
        **{k: [r[k] for r in employees] for k in ("arm", "role", "pair_id")},
        "age": np.array([r["age"] for r in employees], dtype=float),
        **{k: (np.array([r[k] for r in employees], dtype=float) if k in HR_NUMERIC else [r[k] for r in employees])
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


def write_outputs(out_dir: Path, part: pd.DataFrame, resp: pd.DataFrame, employment: pd.DataFrame | None,
                  sources: dict[str, Path], warnings: list[str]) -> list[str]:
    """Write the cohort files (codebook.yaml and study.yaml byte for byte); returns the names written.

    Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a
    carriage return, and not a plain number) are written with a leading ``'`` (:func:`rmstudy.contract.csvio.
    neutralise_text_columns`), and a warning counts them per file; numbers, negative ones included, are untouched.

    Parameters
    ----------
    out_dir : Path
    part, resp : DataFrame
    employment : DataFrame or None
    sources : dict
        ``codebook`` and ``study`` paths to copy.
    warnings : list of str
        Appended to.

    Returns
    -------
    list of str
    """
    copies = {f"{key}.yaml": sources[key].read_bytes() for key in ("codebook", "study")}   # before any write
    out_dir.mkdir(parents=True, exist_ok=True)
    neutralised: dict[str, int] = {}

    def write(df: pd.DataFrame, name: str) -> None:
        safe, n = neutralise_text_columns(df)
        write_table(safe, out_dir / name)
        if n:
            neutralised[name] = n

    write(part, "participants.csv")
    write(resp, "responses.csv")
    written = ["participants.csv", "responses.csv"]
    if employment is not None:
        write(employment, "employment.csv")
        written.append("employment.csv")
    elif (out_dir / "employment.csv").exists():
        (out_dir / "employment.csv").unlink()
        warnings.append("removed employment.csv left by an earlier ingest (this mapping maps no hire_date)")
    for name, data in copies.items():
        (out_dir / name).write_bytes(data)
        written.append(name)
    if neutralised:
        where = ", ".join(f"{name}: {n}" for name, n in neutralised.items())
        warnings.append(f"text cells starting with =, +, -, @, a tab or a line break were written with a leading ' "
                        f"so that a spreadsheet shows them as text instead of running them as formulas ({where}); "
                        "a population filter in study.yaml must name such a value with the ' too")
    return written


def check_ledgers(inputs: list[dict], response_rows: int, participant_rows: int) -> None:
    """Every input row is accounted for: each file's ledger adds up, and the rows it says were written are the rows
    of responses.csv (surveys) and participants.csv (HR). A failure is a bug in rmstudy, not in the inputs.

    Parameters
    ----------
    inputs : list of dict
        The report's input entries.
    response_rows, participant_rows : int
    """
    for f in inputs:
        led = f["ledger"]
        if led["rows_in"] != led["written"] + led["excluded"] or led["written"] != f["rows_written"]:
            raise InvariantError(f"rmstudy bug: the row ledger of {f['file']} does not add up: {led}")
    written = {kind: sum(f["ledger"]["written"] for f in inputs if f["kind"] == kind) for kind in ("survey", "hr")}
    if (written["survey"], written["hr"]) != (response_rows, participant_rows):
        raise InvariantError(f"rmstudy bug: the ledgers say {written} rows were written, but responses.csv has "
                           f"{response_rows} and participants.csv {participant_rows}")
