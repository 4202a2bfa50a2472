"""The cohort folder (public contract): load it into typed, checked tables.

A cohort is a folder holding ``participants.csv``, ``responses.csv``,
``employment.csv`` (needed for retention), ``codebook.yaml`` and
``study.yaml``; docs/cohort-format.md documents every column and key.

Every problem found is collected and raised together as one
:class:`~rmstudy.errors.CohortError` whose lines name the file, the row (as a
spreadsheet numbers it: header = row 1) and the column, and say how to fix it.
"""

from __future__ import annotations

__all__ = ["Cohort", "load_cohort", "analysis_cohort", "apply_run_exclusions", "save_cohort", "select_population", "REASON_AFTER_EXIT", "ARMS", "ROLES", "EXIT_REASONS", "COHORT_FILES"]

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .codebook import Codebook, load_codebook, parse_codebook
from .errors import CohortError, Problem
from .study import Study, load_study, parse_study

ARMS = ("program", "control")
ROLES = ("junior", "senior")
EXIT_REASONS = ("voluntary", "involuntary")
COHORT_FILES = ("participants.csv", "responses.csv", "employment.csv", "codebook.yaml", "study.yaml")
_REQUIRED = {
    "participants.csv": ["participant_id", "arm", "role", "pair_id", "age"],
    "responses.csv": ["participant_id", "wave"],
    "employment.csv": ["participant_id", "hire_date", "exit_date", "exit_reason"],
}
_NUMERIC_OPTIONAL = ("age", "tenure_years", "sessions_attended")
REASON_AFTER_EXIT = "submitted after the participant's exit_date"


@dataclass
class Cohort:
    """A loaded cohort: typed tables plus its codebook and plan."""

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


def _row(i: int) -> int:
    """Spreadsheet row number of the i-th (0-based) data row."""
    return int(i) + 2


def _read_csv(path: Path, probs: list[Problem]) -> pd.DataFrame | None:
    name = path.name
    if not path.exists():
        probs.append(Problem(name, "file is missing", f"put {name} in the cohort folder (docs/cohort-format.md)"))
        return None
    try:
        # blank lines are kept as rows so that row numbers match what a spreadsheet or editor shows
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skip_blank_lines=False)
    except UnicodeDecodeError as e:
        probs.append(Problem(name, f"not UTF-8 text ({e.reason} at byte {e.start})",
                             "save the file as 'CSV UTF-8' from your spreadsheet program"))
        return None
    except pd.errors.EmptyDataError:
        probs.append(Problem(name, "file is empty", "export the table again with its header row and data"))
        return None
    df.columns = [c.strip() for c in df.columns]
    blank = (df == "").all(axis=1)
    if blank.any():
        for i in np.flatnonzero(blank.to_numpy()):
            probs.append(Problem(name, "blank line", "delete the empty line", row=_row(i)))
    return df


def _require_columns(df: pd.DataFrame, name: str, cols: list[str], probs: list[Problem]) -> bool:
    ok = True
    for c in cols:
        if c not in df.columns:
            probs.append(Problem(name, f"required column '{c}' is missing", f"add a '{c}' column (docs/cohort-format.md)", column=c))
            ok = False
    return ok


def _parse_numbers(df: pd.DataFrame, name: str, col: str, probs: list[Problem], lo=None, hi=None,
                   integer_like: bool = False, required: bool = False) -> pd.Series:
    raw = df[col].astype(str)
    stripped = raw.str.strip()
    values = pd.to_numeric(stripped.where(stripped != "", None), errors="coerce")
    bad_text = (stripped != "") & values.isna()
    for i in np.flatnonzero(bad_text.to_numpy()):
        probs.append(Problem(name, f"'{raw.iloc[i]}' is not a number", "enter a number, or leave the cell empty if missing",
                             row=_row(i), column=col))
    if required:
        for i in np.flatnonzero((stripped == "").to_numpy()):
            probs.append(Problem(name, "value is missing", f"enter the {col}", row=_row(i), column=col))
    if lo is not None:
        out = values.notna() & ((values < lo) | (values > hi))
        for i in np.flatnonzero(out.to_numpy()):
            probs.append(Problem(name, f"{values.iloc[i]:g} is outside the codebook range {lo:g}–{hi:g}",
                                 f"correct the answer or the range in codebook.yaml", row=_row(i), column=col))
    if integer_like:
        frac = values.notna() & (values != np.round(values))
        for i in np.flatnonzero(frac.to_numpy()):
            probs.append(Problem(name, f"{values.iloc[i]:g} is not one of the scale's answer points",
                                 "enter a whole answer point", row=_row(i), column=col))
    return values.astype(float)


def _parse_dates(df: pd.DataFrame, name: str, col: str, probs: list[Problem], required: bool) -> pd.Series:
    s = df[col].astype(str).str.strip()
    out = pd.to_datetime(s.where(s != "", None), format="%Y-%m-%d", errors="coerce")
    out = out.where(s.str.fullmatch(r"\d{4}-\d{2}-\d{2}"))
    for i in np.flatnonzero(((s != "") & out.isna()).to_numpy()):
        probs.append(Problem(name, f"'{s.iloc[i]}' is not a date in YYYY-MM-DD form", "write dates as YYYY-MM-DD",
                             row=_row(i), column=col))
    if required:
        for i in np.flatnonzero((s == "").to_numpy()):
            probs.append(Problem(name, "date is missing", f"enter the {col}", row=_row(i), column=col))
    return out


def _check_choice(df, name, col, allowed, probs, allow_empty=False):
    s = df[col].astype(str).str.strip()
    bad = ~s.isin(allowed) & ~((s == "") & allow_empty)
    for i in np.flatnonzero(bad.to_numpy()):
        probs.append(Problem(name, f"unknown {col} '{s.iloc[i]}'", f"use one of {list(allowed)}"
                             + (" or leave it empty" if allow_empty else ""), row=_row(i), column=col))
    return s


def _duplicates(df, name, cols, probs, what):
    dup = df.duplicated(subset=cols, keep="first")
    firsts = {}
    for i, key in enumerate(df[cols].itertuples(index=False, name=None)):
        if dup.iloc[i]:
            probs.append(Problem(name, f"duplicate {what} {key if len(key) > 1 else key[0]!r} (first at row {firsts[key]})",
                                 "keep one row per " + what + " (resolve duplicate submissions before loading)",
                                 row=_row(i), column=cols[-1]))
        else:
            firsts.setdefault(key, _row(i))


def select_population(participants: pd.DataFrame, population: dict, hid: str = "") -> pd.DataFrame:
    """Participants matching a plan's population filter (data, never code)."""
    keep = pd.Series(True, index=participants.index)
    for col, val in (population or {}).items():
        if col == "age":
            age = participants["age"]
            if "min" in val:
                keep &= age >= val["min"]
            if "max" in val:
                keep &= age <= val["max"]
            continue
        if col not in participants.columns:
            raise CohortError(Problem("study.yaml", f"population of {hid} filters on '{col}', which is not a column of participants.csv",
                                      f"use one of {list(participants.columns)}", column=f"{hid}.population"))
        vals = val if isinstance(val, list) else [val]
        s = participants[col]
        if pd.api.types.is_numeric_dtype(s):
            keep &= s.isin([float(v) for v in vals])
        else:
            keep &= s.astype(str).isin([str(v) for v in vals])
    return participants[keep]


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
            vals = val if isinstance(val, list) else [val]
            if pd.api.types.is_numeric_dtype(part[col]):
                try:
                    [float(v) for v in vals]
                except (TypeError, ValueError):
                    probs.append(Problem("study.yaml", f"population of {h.id} compares numeric column '{col}' with {vals}",
                                         "use numbers for a numeric column", column=where))
                    continue
            missing = [v for v in vals if not (part[col].astype(str) == str(v)).any()] \
                if not pd.api.types.is_numeric_dtype(part[col]) else \
                [v for v in vals if not (part[col] == float(v)).any()]
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
    """
    root = Path(root)
    if not root.is_dir():
        raise CohortError(Problem(str(root.name or root), "cohort folder not found",
                                  "pass the folder that holds participants.csv, responses.csv, codebook.yaml and study.yaml"))
    probs: list[Problem] = []
    codebook = study = None
    for fname, loader in (("codebook.yaml", None), ("study.yaml", None)):
        if not (root / fname).exists():
            probs.append(Problem(fname, "file is missing", f"put {fname} in the cohort folder (docs/cohort-format.md)"))
    if not probs:
        try:
            codebook = load_codebook(root / "codebook.yaml")
            study = load_study(root / "study.yaml", codebook=codebook)
        except CohortError as e:
            probs.extend(e.problems)
        except (yaml.YAMLError, ValueError) as e:   # PyYAML raises ValueError for an impossible unquoted date
            which = "codebook.yaml" if codebook is None else "study.yaml"
            probs.append(Problem(which, f"cannot be read as YAML: {e}",
                                 "fix the YAML syntax; write dates as real YYYY-MM-DD dates"))
    if probs:
        raise CohortError(probs)

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

    # participants.csv
    P = "participants.csv"
    ids: set[str] = set()
    if _require_columns(part, P, _REQUIRED[P], probs):
        if part.empty:
            probs.append(Problem(P, "has a header but no participants", "export the participant table with its rows"))
        part["participant_id"] = part["participant_id"].str.strip()
        for i in np.flatnonzero((part["participant_id"] == "").to_numpy()):
            probs.append(Problem(P, "participant_id is empty", "give every participant a pseudonymous id", row=_row(i), column="participant_id"))
        _duplicates(part, P, ["participant_id"], probs, "participant_id")
        part["arm"] = _check_choice(part, P, "arm", ARMS, probs)
        part["role"] = _check_choice(part, P, "role", ROLES, probs)
        part["pair_id"] = part["pair_id"].str.strip()
        for c in _NUMERIC_OPTIONAL:
            if c in part.columns:
                part[c] = _parse_numbers(part, P, c, probs, required=(c == "age"))
        prog = part[(part["arm"] == "program")]
        for i in np.flatnonzero(((part["arm"] == "program") & (part["pair_id"] == "")).to_numpy()):
            probs.append(Problem(P, "programme participant without a pair_id", "enter the mentoring pair's id",
                                 row=_row(i), column="pair_id"))
        for i in np.flatnonzero(((part["arm"] == "control") & (part["pair_id"] != "")).to_numpy()):
            probs.append(Problem(P, "control participant has a pair_id", "leave pair_id empty for the control arm",
                                 row=_row(i), column="pair_id"))
        for pid, g in prog[prog["pair_id"] != ""].groupby("pair_id", sort=False):
            if sorted(g["role"]) != ["junior", "senior"]:
                i = g.index[0]
                probs.append(Problem(P, f"pair '{pid}' has roles {sorted(g['role'])}, not one junior and one senior",
                                     "each programme pair needs exactly one junior (mentor) and one senior (mentee)",
                                     row=_row(i), column="pair_id"))
        ids = set(part["participant_id"])

    if ids:
        _check_populations(part, study, probs, tuple(codebook.scales))

    # responses.csv
    R = "responses.csv"
    if _require_columns(resp, R, _REQUIRED[R], probs):
        if resp.empty:
            probs.append(Problem(R, "has a header but no responses", "export the survey responses with their rows"))
        resp["participant_id"] = resp["participant_id"].str.strip()
        resp["wave"] = _check_choice(resp, R, "wave", study.waves, probs)
        if ids:
            unknown = ~resp["participant_id"].isin(ids)
            for i in np.flatnonzero(unknown.to_numpy()):
                probs.append(Problem(R, f"participant_id '{resp['participant_id'].iloc[i]}' is not in participants.csv",
                                     "add the participant to participants.csv or remove the response", row=_row(i), column="participant_id"))
        _duplicates(resp, R, ["participant_id", "wave"], probs, "participant × wave")
        for scale in codebook.scales.values():
            for item in scale.items:
                if item not in resp.columns:
                    probs.append(Problem(R, f"item column '{item}' (scale '{scale.name}') is missing",
                                         "add the column, or remove the item from codebook.yaml", column=item))
                    continue
                resp[item] = _parse_numbers(resp, R, item, probs, lo=scale.min, hi=scale.max, integer_like=True)
        if "submitted_on" in resp.columns:
            resp["submitted_on"] = _parse_dates(resp, R, "submitted_on", probs, required=False)
        resp["wave"] = pd.Categorical(resp["wave"], categories=list(study.waves), ordered=True)

    # employment.csv
    if emp is not None:
        E = "employment.csv"
        if _require_columns(emp, E, _REQUIRED[E], probs):
            emp["participant_id"] = emp["participant_id"].str.strip()
            _duplicates(emp, E, ["participant_id"], probs, "participant_id")
            if ids:
                for i in np.flatnonzero((~emp["participant_id"].isin(ids)).to_numpy()):
                    probs.append(Problem(E, f"participant_id '{emp['participant_id'].iloc[i]}' is not in participants.csv",
                                         "add the participant or remove the row", row=_row(i), column="participant_id"))
                missing = sorted(ids - set(emp["participant_id"]))
                if missing and needs_employment:
                    probs.append(Problem(E, f"{len(missing)} participant(s) have no employment row (first: {missing[0]})",
                                         "add one row per participant; leave exit_date empty for people still employed",
                                         column="participant_id"))
            emp["hire_date"] = _parse_dates(emp, E, "hire_date", probs, required=True)
            emp["exit_date"] = _parse_dates(emp, E, "exit_date", probs, required=False)
            reason = _check_choice(emp, E, "exit_reason", EXIT_REASONS, probs, allow_empty=True)
            for i in np.flatnonzero((emp["exit_date"].notna() & (reason == "")).to_numpy()):
                probs.append(Problem(E, "exit_date given without exit_reason", "enter voluntary or involuntary",
                                     row=_row(i), column="exit_reason"))
            for i in np.flatnonzero((emp["exit_date"].isna() & (reason != "")).to_numpy()):
                probs.append(Problem(E, "exit_reason given without exit_date", "enter the exit date or clear the reason",
                                     row=_row(i), column="exit_date"))
            for i in np.flatnonzero((emp["exit_date"] < emp["hire_date"]).to_numpy()):
                probs.append(Problem(E, "exit_date is before hire_date", "correct one of the two dates",
                                     row=_row(i), column="exit_date"))
            emp["exit_reason"] = reason.replace("", None)
    if probs:
        raise CohortError(probs)
    return Cohort(participants=part.reset_index(drop=True), responses=resp.reset_index(drop=True),
                  employment=None if emp is None else emp.reset_index(drop=True),
                  codebook=codebook, study=study, root=root, row_counts=row_counts)


def apply_run_exclusions(c: Cohort) -> Cohort:
    """A copy of a loaded cohort as the analyses use it: responses submitted after the
    person's ``exit_date`` are left out of every survey analysis and recorded in
    ``excluded_responses`` (``row`` as the spreadsheet numbers it, ``participant_id``,
    ``wave``, ``reason``). ``rmstudy validate`` and the run's participant-flow ledger
    both take their counts from here."""
    import dataclasses

    R = c.responses
    rows = pd.DataFrame(columns=["row", "participant_id", "wave", "reason"])
    late = np.zeros(len(R), dtype=bool)
    if c.employment is not None and "submitted_on" in R.columns:
        exit_ = c.employment.set_index("participant_id")["exit_date"].reindex(R["participant_id"]).to_numpy()
        late = R["submitted_on"].notna().to_numpy() & pd.notna(exit_) & (
            pd.to_datetime(R["submitted_on"]).to_numpy() > pd.to_datetime(exit_))
        if late.any():
            rows = pd.DataFrame({"row": np.flatnonzero(late) + 2, "participant_id": R.loc[late, "participant_id"].to_numpy(),
                                 "wave": R.loc[late, "wave"].astype(str).to_numpy(), "reason": REASON_AFTER_EXIT,
                                 "submitted_on": R.loc[late, "submitted_on"].to_numpy()})
    return dataclasses.replace(c, responses=R.loc[~late].reset_index(drop=True), excluded_responses=rows)


def analysis_cohort(root: str | Path) -> Cohort:
    """:func:`load_cohort`, then :func:`apply_run_exclusions`: the cohort every analysis notebook uses."""
    return apply_run_exclusions(load_cohort(root))


def _fmt_num(x) -> str:
    if pd.isna(x):
        return ""
    x = float(x)
    return str(int(x)) if x.is_integer() else repr(round(x, 6))


def save_cohort(root: str | Path, participants: pd.DataFrame, responses: pd.DataFrame,
                employment: pd.DataFrame | None, codebook: dict, study: dict) -> None:
    """Write a cohort folder deterministically (same tables -> same bytes)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)

    def write(df: pd.DataFrame, name: str):
        out = df.copy()
        for c in out.columns:
            if pd.api.types.is_datetime64_any_dtype(out[c]):
                out[c] = out[c].dt.strftime("%Y-%m-%d").fillna("")
            elif pd.api.types.is_float_dtype(out[c]):
                out[c] = out[c].map(_fmt_num)
        out.to_csv(root / name, index=False, lineterminator="\n")

    write(participants, "participants.csv")
    write(responses, "responses.csv")
    if employment is not None:
        write(employment, "employment.csv")
    for name, obj in (("codebook.yaml", codebook), ("study.yaml", study)):
        with open(root / name, "w", encoding="utf-8", newline="\n") as fh:
            yaml.safe_dump(obj, fh, sort_keys=False, allow_unicode=True, width=100)
