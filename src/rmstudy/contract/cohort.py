"""The cohort folder (public contract): load it into typed, checked tables.

A cohort is a folder holding ``participants.csv``, ``responses.csv``,
``employment.csv`` (needed for retention), ``codebook.yaml`` and
``study.yaml``; docs/cohort-format.md documents every column and key.

Every problem found is collected and raised together as one
:class:`~rmstudy.errors.CohortError` whose lines name the file, the row (as a
spreadsheet numbers it: header = row 1) and the column, and say how to fix it.
"""

from __future__ import annotations

__all__ = ["Cohort", "load_cohort", "analysis_cohort", "apply_run_exclusions", "save_cohort", "select_population", "REASON_AFTER_EXIT", "REASON_DUPLICATE", "ARMS", "ROLES", "EXIT_REASONS", "COHORT_FILES",
           "RUN_INPUT_FILES"]

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from rmstudy.contract import csvio
from rmstudy.contract import table_schemas as ts
from rmstudy.contract import yamlio
from rmstudy.contract.codebook import Codebook, load_codebook
from rmstudy.contract.coding import ARMS
from rmstudy.contract.design import required_columns
from rmstudy.contract.population import population_values, select_population, unmatched_values
from rmstudy.contract.rows import spreadsheet_row
from rmstudy.contract.study import Study, load_study
from rmstudy.errors import CohortError, Problem

ROLES = ("junior", "senior")
EXIT_REASONS = ("voluntary", "involuntary")
COHORT_FILES = ("participants.csv", "responses.csv", "employment.csv", "codebook.yaml", "study.yaml")
#: what a run hashes, snapshots and matches runs by: the cohort's files and ingest's report (when ingest wrote it)
RUN_INPUT_FILES = (*COHORT_FILES, "ingest_report.json")
REASON_AFTER_EXIT = "submitted after the participant's exit_date"
REASON_DUPLICATE = "duplicate submission not kept under the plan's duplicate_submissions rule"


@dataclass
class Cohort:
    """A loaded cohort: typed tables plus its codebook and plan.

    Attributes
    ----------
    participants, responses : DataFrame
        The typed tables (:func:`load_cohort`).
    employment : DataFrame or None
        employment.csv, or None when absent.
    codebook : Codebook
    study : Study
        The plan.
    root : Path or None
        The folder read.
    row_counts : dict
        File name -> data rows read.
    excluded_responses : DataFrame or None
        Response rows left out of the analyses (:func:`apply_run_exclusions`).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> c = Cohort(pd.DataFrame({"participant_id": ["P1"]}), pd.DataFrame({"participant_id": ["P1"], "wave": ["pre"]}),
    ...            None, Codebook({}), study=NS(name="Pilot"), root=Path("pilot"))   # as load_cohort gives it
    >>> c.name, c.employment is None, c.excluded_responses is None
    ('pilot', True, True)
    """

    participants: pd.DataFrame
    responses: pd.DataFrame
    employment: pd.DataFrame | None
    codebook: Codebook
    study: Study
    root: Path | None = None
    row_counts: dict = field(default_factory=dict)
    #: response rows left out of every survey analysis (``row`` as the spreadsheet numbers it, ``reason``)
    excluded_responses: pd.DataFrame | None = None

    @property
    def name(self) -> str:
        return self.root.name if self.root is not None else self.study.name


def _read_csv(path: Path, probs: list[Problem]) -> pd.DataFrame | None:
    """A cohort CSV as strings (header stripped, every cell text), or None with a problem when it cannot be
    read: not UTF-8 (the row of the first bad byte is named), not comma-separated, or a row with more or
    fewer cells than the header (a truncated or shifted row would otherwise lose or move answers)."""
    name = path.name
    if not path.exists():
        probs.append(Problem(name, "file is missing", f"put {name} in the cohort folder (docs/cohort-format.md)"))
        return None
    if (long_row := csvio.long_line_problem(path, name)) is not None:    # before the file is held in memory
        probs.append(long_row)
        return None
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        row = data[:e.start].count(b"\n") + 1
        probs.append(Problem(name, f"not UTF-8 text ({e.reason} at byte {e.start})",
                             "save the file as 'CSV UTF-8' from your spreadsheet program, or bring the export in "
                             "with rmstudy ingest, which reads Latin-1 and UTF-16 (docs/ingest.md)", row=row))
        return None
    if not text.strip():
        probs.append(Problem(name, "file is empty", "export the table again with its header row and data"))
        return None
    if "\x00" in text:
        row = text[:text.index("\x00")].count("\n") + 1
        probs.append(Problem(name, "the file holds a NUL byte (a binary zero), which hides the cell's value",
                             "export the table again as 'CSV UTF-8'; if a tool wrote it, check that tool's output",
                             row=row))
        return None
    header = text.splitlines()[0]
    if not header.strip(" ,\t"):
        probs.append(Problem(name, "the first line is empty, but the header must be on row 1",
                             "delete the empty line(s) above the header", row=1))
        return None
    if "," not in header and any(d in header for d in (";", "\t", "|")):
        sep = {";": "semicolons", "\t": "tabs", "|": "bars"}[next(d for d in (";", "\t", "|") if d in header)]
        probs.append(Problem(name, f"the header is separated by {sep}, "
                             "not commas", "save the file as 'CSV UTF-8 (comma delimited)', or bring the export in "
                             "with rmstudy ingest, which reads any delimiter (docs/ingest.md)", row=1))
        return None
    bad = csvio.record_problems(text, name)
    if bad:
        probs.extend(bad)
        return None
    # blank lines are kept as rows so that row numbers match what a spreadsheet or editor shows
    try:
        # every cell as its text: no cell is read as missing (a blank line is a row of empty texts)
        df = pd.read_csv(io.StringIO(text), dtype=str, na_filter=False, skip_blank_lines=False)
    except pd.errors.ParserError as e:  # e.g. a quote opened in the header that never closes (issue #17 fuzzing)
        probs.append(Problem(name, f"the file cannot be read as a table ({str(e).strip()})",
                             "check row 1 for a stray quote character (\"), or export the table again as "
                             "'CSV UTF-8'", row=1))
        return None
    df.columns = [c.strip() for c in df.columns]
    return df


def _non_blank(df: pd.DataFrame, name: str, probs: list[Problem]) -> pd.DataFrame:
    """The rows that are not blank lines (index kept, so row numbers stay right); each blank line is a problem."""
    if not len(df.columns):
        return df.copy()
    # a line of spaces is blank too; only rows whose first cell is empty need the full look
    maybe = (df.iloc[:, 0].str.strip() == "").to_numpy()
    blank = np.zeros(len(df), dtype=bool)
    if maybe.any():
        blank[maybe] = df.loc[maybe].apply(lambda c: c.str.strip() == "").all(axis=1).to_numpy(dtype=bool)
    for i in np.flatnonzero(blank):
        probs.append(Problem(name, "blank line", "delete the empty line", row=spreadsheet_row(i)))
    return df.loc[~blank].copy() if blank.any() else df     # the table read is this function's caller's own


def _strip(df: pd.DataFrame, cols) -> None:
    for c in cols:
        if c in df.columns:
            df[c] = df[c].astype(str).str.strip()


def _missing(found: list[Problem], cols=None) -> bool:
    """Whether a required column (any, or one of ``cols``) is missing among the problems found."""
    return any(p.row is None and p.message.endswith("is missing") and (cols is None or p.column in cols)
               for p in found)


def _undatable_duplicates(resp: pd.DataFrame, rule: str) -> list[Problem]:
    """Under keep_earliest / keep_latest, every duplicate submission needs its submitted_on date."""
    R = "responses.csv"
    if "submitted_on" not in resp.columns:
        return [Problem(R, f"study.yaml resolves duplicate submissions by date ({rule}) but responses.csv has no "
                        "submitted_on column", "add submitted_on, or choose keep_most_complete in study.yaml",
                        column="submitted_on")]
    dup = resp.duplicated(["participant_id", "wave"], keep=False).to_numpy() & resp["submitted_on"].isna().to_numpy()
    return [Problem(R, f"duplicate submission of '{resp['participant_id'].iloc[k]}' at wave '{resp['wave'].iloc[k]}' "
                    f"has no submitted_on date, so {rule} cannot order it", "enter the submission date, or delete the "
                    "submission that should not count", row=spreadsheet_row(resp.index[k]), column="submitted_on")
            for k in np.flatnonzero(dup)]


def _check_populations(part: pd.DataFrame, study: Study, probs: list[Problem], study_scales=()) -> None:
    """Every population filter of the plan must name a participants.csv column and usable values; covariates,
    clusters and moderators must be participants.csv columns (a moderator may also be a codebook scale)."""
    for i, h in enumerate(study.hypotheses):
        for col in (*h.covariates, *h.moderators, *([h.cluster] if h.cluster else [])):
            if col in h.moderators and col in study_scales:
                continue                                   # a moderator may be a codebook scale (its baseline score)
            if col in h.moderators and col in part.columns and not pd.api.types.is_numeric_dtype(part[col]):
                probs.append(Problem("study.yaml", f"moderator '{col}' of {h.id} is not numeric in participants.csv",
                                     "use a numeric column or a codebook scale as a moderator (recode categories to "
                                     "numbers first)", column=f"hypotheses.{i}.moderators"))
                continue
            if col not in part.columns:
                probs.append(Problem("study.yaml", f"{h.id} names '{col}' as a covariate, moderator or cluster, which is not a "
                                     "column of participants.csv", f"use one of {list(part.columns)}",
                                     column=f"hypotheses.{i}"))
            elif col not in h.moderators and (part[col].astype(str).str.strip().eq("").any() or part[col].isna().any()):
                kind = "covariate" if col in h.covariates else "moderator" if col in h.moderators else "cluster"
                probs.append(Problem("participants.csv", f"{kind} '{col}' of {h.id} has empty cells",
                                     "fill every value, or drop the covariate from the plan", column=col))
        for col, val in h.population.items():
            where = f"hypotheses.{i}.population.{col}"
            if col == "age":
                continue
            if col not in part.columns:
                probs.append(Problem("study.yaml", f"population of {h.id} filters on '{col}', which is not a column of "
                                     "participants.csv", f"use one of {list(part.columns)}", column=where))
                continue
            vals = population_values(val)
            if pd.api.types.is_numeric_dtype(part[col]):
                try:
                    [float(v) for v in vals]
                except (TypeError, ValueError):
                    probs.append(Problem("study.yaml", f"population of {h.id} compares numeric column '{col}' with {vals}",
                                         "use numbers for a numeric column", column=where))
                    continue
            missing = unmatched_values(part[col], vals)        # the analysis's own matcher (NFC text, numbers)
            if missing:
                probs.append(Problem("study.yaml", f"population of {h.id}: {col} = {missing} matches nobody in participants.csv",
                                     f"check the spelling against the values in the '{col}' column", column=where))
        if not any(p.column and p.column.startswith(f"hypotheses.{i}.population") for p in probs):
            pop = select_population(part, h.population, h.id)
            if h.is_retention and not pop.empty and set(pop["arm"]) != {"program", "control"}:
                probs.append(Problem("study.yaml", f"{h.id} compares retention between arms, but its population has only "
                                     f"{sorted(set(pop['arm']))}", "remove the retention hypothesis from a single-arm plan, "
                                     "or add the comparison group", column=f"hypotheses.{i}"))
            if pop.empty:
                probs.append(Problem("study.yaml", f"the population of {h.id} ({h.population}) matches nobody",
                                     "loosen the filters (age limits are inclusive, in years at baseline)",
                                     column=f"hypotheses.{i}.population"))


def _load_plan(root: Path) -> tuple[Codebook, Study]:
    """codebook.yaml and study.yaml (the plan checked against the codebook); every problem raised at once."""
    probs: list[Problem] = []
    codebook = None
    for fname in ("codebook.yaml", "study.yaml"):
        if not (root / fname).exists():
            probs.append(Problem(fname, "file is missing", f"put {fname} in the cohort folder (docs/cohort-format.md)"))
    if probs:
        raise CohortError(probs)
    try:
        codebook = load_codebook(root / "codebook.yaml")
        return codebook, load_study(root / "study.yaml", codebook=codebook)
    except CohortError:
        raise
    except (yaml.YAMLError, ValueError) as e:   # PyYAML raises ValueError for an impossible unquoted date
        which = "codebook.yaml" if codebook is None else "study.yaml"
        raise CohortError(Problem(which, f"cannot be read as YAML: {e}",
                                  "delete one of the two entries" if isinstance(e, yamlio.DuplicateKeyError) else
                                  "fix the YAML syntax; write dates as real YYYY-MM-DD dates")) from None


def _check_participants(part: pd.DataFrame, study: Study, codebook: Codebook, parsed: ts.Parsed,
                        probs: list[Problem]) -> tuple[pd.DataFrame, set[str]]:
    """participants.csv: the text pass, then the typed pass once the required columns are there, then the plan's
    populations. Returns the table and the participant ids (empty while ids, arms or roles are wrong)."""
    P = "participants.csv"
    part = _non_blank(part, P, probs)
    _strip(part, ("participant_id", "arm", "role", "pair_id", "group_id"))
    found = ts.problems(ts.participants_text(ARMS, ROLES, parsed, need=required_columns(study)), part)
    probs += found
    if part.empty and not _missing(found):
        probs.append(Problem(P, "has a header but no participants", "export the participant table with its rows"))
    ids: set[str] = set()
    if not _missing(found):
        for c in ts.NUMERIC_OPTIONAL:
            if c in part.columns:
                part[c] = parsed[c]
        typed = ts.problems(ts.participants_typed(mentoring=study.design.mentoring), part)
        probs += typed
        # responses and employment rows are matched to participants, and the plan's populations checked, only
        # once the ids, arms and roles of participants.csv are right: otherwise one mistyped id or arm would
        # echo through every file
        if not any(p.column in ("participant_id", "arm", "role") for p in found + typed):
            ids = set(part["participant_id"])
    if ids:
        _check_populations(part, study, probs, tuple(codebook.scales))
    return part, ids


def _check_responses(resp: pd.DataFrame, study: Study, codebook: Codebook, ids: set[str], parsed: ts.Parsed,
                     probs: list[Problem]) -> pd.DataFrame:
    """responses.csv: text pass, typed pass (items as float, ``wave`` an ordered categorical), duplicate rules."""
    R = "responses.csv"
    resp = _non_blank(resp, R, probs)
    _strip(resp, ("participant_id", "wave"))
    items = {item: s.name for s in codebook.scales.values() for item in s.items}
    found = ts.problems(ts.responses_text(study.waves, items, parsed), resp)
    probs += found
    if resp.empty and not _missing(found, ("participant_id", "wave")):
        probs.append(Problem(R, "has a header but no responses", "export the survey responses with their rows"))
    if not _missing(found, ("participant_id", "wave")):
        for item in items:
            if item in resp.columns:
                resp[item] = parsed[item]
        if "submitted_on" in resp.columns:
            resp["submitted_on"] = parsed["submitted_on"]
        probs += ts.problems(ts.responses_typed(codebook.scales.values(), ids or None,
                                                unique_waves=study.duplicate_submissions == "error"), resp)
        if study.duplicate_submissions in ("keep_earliest", "keep_latest"):
            probs += _undatable_duplicates(resp, study.duplicate_submissions)
        resp["wave"] = pd.Categorical(resp["wave"], categories=list(study.waves), ordered=True)
    return resp


def _check_employment(emp: pd.DataFrame, ids: set[str], needs_employment: bool, parsed: ts.Parsed,
                      probs: list[Problem]) -> pd.DataFrame:
    """employment.csv: text pass, one row per participant (when retention needs it), dates typed."""
    E = "employment.csv"
    emp = _non_blank(emp, E, probs)
    _strip(emp, ("participant_id", "exit_reason"))
    found = ts.problems(ts.employment_text(EXIT_REASONS, parsed), emp)
    probs += found
    if _missing(found):
        return emp
    if ids:
        missing = sorted(ids - set(emp["participant_id"]))
        if missing and needs_employment:
            probs.append(Problem(E, f"{len(missing)} participant(s) have no employment row (first: {missing[0]})",
                                 "add one row per participant; leave exit_date empty for people still employed",
                                 column="participant_id"))
    emp["_exit_text"] = emp["exit_date"].astype(str).str.strip()
    emp["hire_date"] = parsed["hire_date"]
    emp["exit_date"] = parsed["exit_date"]
    probs += ts.problems(ts.employment_typed(ids or None), emp)
    emp = emp.drop(columns="_exit_text")
    emp["exit_reason"] = emp["exit_reason"].replace("", None)
    return emp


def load_cohort(root: str | Path) -> Cohort:
    """Load and check a cohort folder.

    Parameters
    ----------
    root : path to the cohort folder.

    Returns
    -------
    Cohort
        ``participants`` (one row per participant; ``age`` and optional numeric
        columns as float), ``responses`` (one row per participant × wave, items as
        float with NaN for a missing answer, ``wave`` an ordered categorical),
        ``employment`` (dates as datetime64) or ``None`` when the file is absent.

    Raises
    ------
    CohortError
        listing every problem, each with file, row, column and fix.

    Examples
    --------
    >>> from rmstudy.contract.paths import find_path
    >>> c = load_cohort(find_path("data/demo"))           # the demo cohort of a source checkout
    >>> c.name, len(c.participants), list(c.study.waves)
    ('demo', 600, ['pre', 'post'])
    """
    root = Path(root)
    if not root.is_dir():
        raise CohortError(Problem(str(root.name or root), "cohort folder not found",
                                  "pass the folder that holds participants.csv, responses.csv, codebook.yaml and study.yaml"))
    codebook, study = _load_plan(root)
    probs: list[Problem] = []
    part = _read_csv(root / "participants.csv", probs)
    resp = _read_csv(root / "responses.csv", probs)
    needs_employment = any(h.is_retention for h in study.hypotheses)
    emp = None
    if (root / "employment.csv").exists() or needs_employment:
        emp = _read_csv(root / "employment.csv", probs)
    if part is None or resp is None or (emp is None and needs_employment):
        raise CohortError(probs)        # a file could not be read at all
    row_counts = {"participants.csv": len(part), "responses.csv": len(resp)}
    if emp is not None:
        row_counts["employment.csv"] = len(emp)
    parsed = ts.Parsed()
    part, ids = _check_participants(part, study, codebook, parsed, probs)
    resp = _check_responses(resp, study, codebook, ids, parsed, probs)
    if emp is not None:
        emp = _check_employment(emp, ids, needs_employment, parsed, probs)
    if probs:
        raise CohortError(probs)
    return Cohort(participants=part.reset_index(drop=True), responses=resp.reset_index(drop=True),
                  employment=None if emp is None else emp.reset_index(drop=True),
                  codebook=codebook, study=study, root=root, row_counts=row_counts)


def _duplicate_losers(R: pd.DataFrame, eligible: np.ndarray, rule: str, items) -> tuple[np.ndarray, np.ndarray]:
    """Rows (positions) of duplicate submissions not kept under ``rule``, and the position kept for each."""
    d = pd.DataFrame({"participant_id": R["participant_id"].to_numpy(), "wave": R["wave"].astype(str).to_numpy(),
                      "pos": np.arange(len(R))})[eligible]
    d = d[d.duplicated(["participant_id", "wave"], keep=False)]
    if d.empty:
        return np.array([], dtype=int), np.array([], dtype=int)
    # NaT sorts first when ascending: a dated submission beats an undated one under keep_most_complete
    d["when"] = R["submitted_on"].to_numpy()[d["pos"]] if "submitted_on" in R.columns else pd.NaT
    if rule == "keep_earliest":
        keys, asc = ["when", "pos"], [True, True]
    elif rule == "keep_latest":
        keys, asc = ["when", "pos"], [False, False]
    else:                                               # keep_most_complete
        d["answered"] = R[list(items)].notna().sum(axis=1).to_numpy()[d["pos"]]
        keys, asc = ["answered", "when", "pos"], [False, False, False]
    d = d.sort_values(keys, ascending=asc, na_position="last", kind="stable")
    kept = d.drop_duplicates(["participant_id", "wave"]).set_index(["participant_id", "wave"])["pos"]
    lose = d[d.duplicated(["participant_id", "wave"], keep="first")]
    kept_for = kept.reindex(pd.MultiIndex.from_frame(lose[["participant_id", "wave"]])).to_numpy()
    order = np.argsort(lose["pos"].to_numpy(), kind="stable")
    return lose["pos"].to_numpy()[order], kept_for[order].astype(int)


def apply_run_exclusions(c: Cohort) -> Cohort:
    """A copy of a loaded cohort as the analyses use it, with two kinds of response rows left out of
    every survey analysis and recorded in ``excluded_responses`` (``row`` as the spreadsheet numbers it,
    ``participant_id``, ``wave``, ``reason``, ``submitted_on``, ``kept_row``):

    * a response submitted after the person's ``exit_date`` (:data:`REASON_AFTER_EXIT`);
    * under the plan's ``duplicate_submissions`` rule (other than ``error``), every duplicate
      submission of a participant × wave that the rule does not keep (:data:`REASON_DUPLICATE`;
      ``kept_row`` is the row kept). Late responses are set aside first, so a response dated after
      the exit never wins over a valid one.

    ``rmstudy validate`` and the run's participant-flow ledger both take their counts from here.

    Parameters
    ----------
    c : Cohort
        A cohort as loaded.

    Returns
    -------
    Cohort
        A copy without the excluded rows, and with ``excluded_responses`` set.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> from rmstudy.contract.codebook import Scale
    >>> R = pd.DataFrame({"participant_id": ["P1", "P1"], "wave": ["pre", "pre"], "q1": [4.0, 5.0],
    ...                   "submitted_on": pd.to_datetime(["2024-01-08", "2024-01-09"])})      # submitted twice
    >>> c = Cohort(pd.DataFrame({"participant_id": ["P1"], "arm": ["program"]}), R, None,
    ...            Codebook({"s": Scale("s", ("q1",), 1, 5)}), NS(duplicate_submissions="keep_latest"))
    >>> out = apply_run_exclusions(c)
    >>> out.responses["q1"].tolist(), out.excluded_responses[["row", "kept_row"]].values.tolist()
    ([5.0], [[2, 3]])
    """
    import dataclasses

    R = c.responses
    late = np.zeros(len(R), dtype=bool)
    if c.employment is not None and "submitted_on" in R.columns:
        exit_ = c.employment.set_index("participant_id")["exit_date"].reindex(R["participant_id"]).to_numpy()
        late = R["submitted_on"].notna().to_numpy() & pd.notna(exit_) & (
            pd.to_datetime(R["submitted_on"]).to_numpy() > pd.to_datetime(exit_))
    lose, kept = np.array([], dtype=int), np.array([], dtype=int)
    if c.study.duplicate_submissions != "error":
        lose, kept = _duplicate_losers(R, ~late, c.study.duplicate_submissions, c.codebook.items)
    when = R["submitted_on"] if "submitted_on" in R.columns else pd.Series(pd.NaT, index=R.index)
    late_pos = np.flatnonzero(late)
    pos = np.concatenate([late_pos, lose])
    rows = pd.DataFrame({
        "row": spreadsheet_row(pos), "participant_id": R["participant_id"].to_numpy()[pos],
        "wave": R["wave"].astype(str).to_numpy()[pos],
        "reason": [REASON_AFTER_EXIT] * len(late_pos) + [REASON_DUPLICATE] * len(lose),
        "submitted_on": when.to_numpy()[pos],
        "kept_row": pd.array([None] * len(late_pos) + [spreadsheet_row(k) for k in kept], dtype="Int64"),
    }).sort_values("row", kind="stable").reset_index(drop=True)
    drop = np.zeros(len(R), dtype=bool)
    drop[pos] = True
    return dataclasses.replace(c, responses=R.loc[~drop].reset_index(drop=True), excluded_responses=rows)


def analysis_cohort(root: str | Path) -> Cohort:
    """:func:`load_cohort`, then :func:`apply_run_exclusions`: the cohort every analysis notebook uses.

    Parameters
    ----------
    root : str or Path
        The cohort folder.

    Returns
    -------
    Cohort
        The cohort the analyses use.

    Examples
    --------
    >>> c = analysis_cohort("data/demo")
    >>> len(c.responses), len(c.excluded_responses)
    (1059, 0)
    """
    return apply_run_exclusions(load_cohort(root))


def _fmt_num(x) -> str:
    if pd.isna(x):
        return ""
    x = float(x)
    return str(int(x)) if x.is_integer() else repr(round(x, 6))


def write_table(df: pd.DataFrame, path: str | Path) -> None:
    """Write one cohort table the way the contract reads it back: dates as YYYY-MM-DD, whole numbers without
    a decimal point, empty cells for missing values, ``\n`` line ends (same table -> same bytes)."""
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d").fillna("")
        elif pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].map(_fmt_num)
    out.to_csv(path, index=False, lineterminator="\n")


def save_cohort(root: str | Path, participants: pd.DataFrame, responses: pd.DataFrame,
                employment: pd.DataFrame | None, codebook: dict, study: dict) -> None:
    """Write a cohort folder deterministically (same tables -> same bytes).

    Parameters
    ----------
    root : str or Path
        The folder to write (created when missing).
    participants, responses : DataFrame
        The tables.
    employment : DataFrame or None
        employment.csv, not written when None.
    codebook, study : dict
        The YAML documents.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp()) / "tiny"
    >>> P = pd.DataFrame({"participant_id": ["P1"], "arm": ["program"], "age": [30.0]})
    >>> R = pd.DataFrame({"participant_id": ["P1"], "wave": ["pre"], "wb1": [4.0]})
    >>> save_cohort(root, P, R, None, {"scales": {}}, {"name": "tiny"})
    >>> (root / "participants.csv").read_text()
    'participant_id,arm,age\\nP1,program,30\\n'
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)

    write_table(participants, root / "participants.csv")
    write_table(responses, root / "responses.csv")
    if employment is not None:
        write_table(employment, root / "employment.csv")
    for name, obj in (("codebook.yaml", codebook), ("study.yaml", study)):
        with open(root / name, "w", encoding="utf-8", newline="\n") as fh:
            yaml.safe_dump(obj, fh, sort_keys=False, allow_unicode=True, width=100)
