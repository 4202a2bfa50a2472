"""Validate a cohort folder in three tiers and keep a row ledger (docs/validate.md).

* **errors**: the run cannot proceed. Everything :func:`rmstudy.load_cohort` raises, plus an empty or
  header-only CSV file.
* **exclusions**: recorded, the run goes on. A scale with too few items answered at a wave (one per response
  row × scale), a response submitted after the person's ``exit_date``, a duplicate submission that the plan's
  ``duplicate_submissions`` rule does not keep, and the retention exclusions (an exit on or before the
  programme start; a hire after the end of follow-up).
* **warnings**: straight-lining, an arm × role group smaller than the anonymity threshold, heavy differential
  attrition between arms at the last wave (both on the rows the run analyses), a population value that differs
  from the plan's only by spaces, a survey hypothesis whose population holds one arm of a two-arm cohort, a later
  wave dated before the programme start, and a cohort CSV edited after ``rmstudy ingest`` wrote it.

Every finding names the file, the row (spreadsheet numbering: header = row 1), the column and a fix.
The row ledger accounts for every input row: ``rows_in = included + excluded`` for every CSV file.
"""

from __future__ import annotations

__all__ = ["Finding", "ValidationReport", "validate", "ATTRITION_GAP", "STRAIGHTLINE_MIN_ITEMS"]

import re
from collections import Counter
from dataclasses import dataclass, field, fields
from operator import attrgetter
from pathlib import Path

import numpy as np
import pandas as pd

from rmstudy.checks.design import covariate_problems, mmrm_problems
from rmstudy.checks.quality import ingest_changed, participant_flow, warnings_by_check
from rmstudy.contract.cohort import REASON_AFTER_EXIT, ROLES, Cohort, apply_run_exclusions, load_cohort
from rmstudy.contract.coding import ARMS
from rmstudy.contract.jsonio import Rows, to_jsonable, write_json
from rmstudy.contract.population import near_misses, population_values, select_population
from rmstudy.contract.rows import data_index, spreadsheet_row
from rmstudy.errors import CohortError, Problem
from rmstudy.stats.models.survival import retention_data
from rmstudy.stats.scoring import score_scales

ATTRITION_GAP = 0.10            # |last-wave response rate, programme − control| above this is a warning
STRAIGHTLINE_MIN_ITEMS = 5      # straight-lining is checked on scales with at least this many items
_CSV_FILES = ("participants.csv", "responses.csv", "employment.csv")
_SHOW_ROWS = 5                  # rows listed per exclusion reason in the text report

REASON_TOO_FEW = "fewer than {share:.0%} of the scale's {n} items answered"   # the same text as quality.participant_flow
REASON_NONE = "no item of the scale answered (or not asked)"


@dataclass(frozen=True)
class Finding:
    """One error, exclusion or warning.

    ``row`` is the spreadsheet row (header = row 1), ``None`` when the finding concerns a whole file, column
    or group. ``analysis`` and ``reason`` group exclusions (``analysis`` is e.g. ``'bias_older at pre'``,
    ``'retention'`` or ``'all survey analyses'``); ``check`` names the check that produced the finding.

    Attributes
    ----------
    tier : str
        ``error``, ``exclusion`` or ``warning``.
    check, file, message, fix : str
    row : int or None
    column, analysis, reason, participant_id : str or None

    Examples
    --------
    >>> f = Finding("warning", "small_group", "participants.csv", "only 3 people in Legal", "merge small departments",
    ...             column="department")
    >>> print(f)
    participants.csv, column 'department': only 3 people in Legal — fix: merge small departments
    """

    tier: str
    check: str
    file: str
    message: str
    fix: str
    row: int | None = None
    column: str | None = None
    analysis: str | None = None
    reason: str | None = None
    participant_id: str | None = None

    def __str__(self) -> str:
        return str(Problem(self.file, self.message, self.fix, row=self.row, column=self.column))


_FIELDS = tuple(f.name for f in fields(Finding))
_field_values = attrgetter(*_FIELDS)


def _as_dict(f: Finding) -> dict:
    """``dataclasses.asdict(f)`` for a Finding (flat: str, int or None fields), ten times faster."""
    return dict(zip(_FIELDS, _field_values(f)))


@dataclass
class ValidationReport:
    """What :func:`validate` found in a cohort folder.

    Attributes
    ----------
    cohort : str
        The folder's name.
    errors, exclusions, warnings : list of Finding
    ledger, summary : dict
        Rows in and out per CSV file; counts of the cohort.
    loaded : Cohort or None
        The cohort as loaded (None when there are errors); not serialised.

    Examples
    --------
    >>> rep = ValidationReport("demo")
    >>> rep.ok, rep.exit_code
    (True, 0)
    >>> rep.errors.append(Finding("error", "load_cohort", "study.yaml", "alpha is 2", "use a value below 1"))
    >>> rep.ok, rep.exit_code, rep.to_dict()["errors"][0]["message"]
    (False, 2, 'alpha is 2')
    """

    cohort: str
    errors: list[Finding] = field(default_factory=list)
    exclusions: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    ledger: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    #: the loaded cohort (None when there are errors), so that ``rmstudy run`` does not read it twice; not serialised
    loaded: Cohort | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """True when the cohort can be analysed (no tier-1 errors)."""
        return not self.errors

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 2

    def exclusion_counts(self) -> dict[tuple[str, str], int]:
        """(analysis, reason) → number of exclusions."""
        return dict(Counter((f.analysis, f.reason) for f in self.exclusions))

    def to_dict(self) -> dict:
        """JSON-ready; every path in it is a bare cohort file name (relative)."""
        return self._mapping(lambda found: [_as_dict(f) for f in found])

    def _mapping(self, table) -> dict:
        groups = [{"analysis": a, "reason": r, "count": n} for (a, r), n in self.exclusion_counts().items()]
        return {"cohort": self.cohort, "ok": self.ok, "summary": self.summary,
                "counts": {"errors": len(self.errors), "exclusions": len(self.exclusions),
                           "warnings": len(self.warnings)},
                "errors": table(self.errors), "exclusion_summary": groups, "exclusions": table(self.exclusions),
                "warnings": table(self.warnings), "ledger": self.ledger}

    def to_json(self, path: str | Path) -> None:
        """Write :meth:`to_dict` with the project's one JSON writer (:func:`rmstudy.contract.jsonio.write_json`),
        each finding on a line of its own and made a mapping only as its batch is written: a 100,000-person
        cohort has ~300,000 findings, which as mappings at once would take ~400 MB."""
        found = self._mapping(lambda fs: Rows(fs, lambda f: to_jsonable(_as_dict(f))))
        write_json({k: v if isinstance(v, Rows) else to_jsonable(v) for k, v in found.items()}, path, convert=False,
                   rows_per_line=True)

    def warnings_by_check(self) -> list[dict]:
        """The warnings by check (:func:`rmstudy.checks.quality.warnings_by_check`), for results.json."""
        return warnings_by_check((w.check, w.message) for w in self.warnings)

    def summary_for_cli(self) -> dict:
        """What `rmstudy run` prints once the run is done: ``exclusions`` (their count) and ``warnings`` (``check``,
        ``file`` and ``message`` of each), so that it need not read validation.json back (150 MB at 100,000)."""
        return {"exclusions": len(self.exclusions),
                "warnings": [{"check": w.check, "file": w.file, "message": w.message} for w in self.warnings]}

    def to_text(self) -> str:
        out = []
        if self.ok:
            s = self.summary
            out.append(f"{self.cohort}: OK — {s.get('participants')} participants, {s.get('response_rows')} response "
                       f"rows, {s.get('hypotheses')} hypotheses")
        else:
            out.append(f"{self.cohort}: the cohort cannot be analysed — {len(self.errors)} error(s)")
        out.append("")
        out.append(f"Errors ({len(self.errors)}): the run cannot proceed until these are fixed")
        if not self.errors:
            out.append("  none")
        # a cohort with one systematic mistake (say N/A for every missing answer) has thousands of errors: the
        # first few of each kind (file, column, message up to the value) are shown, the rest counted (--json)
        kinds: dict[tuple, list[Finding]] = {}
        for f in self.errors:
            shape = re.sub(r"'[^']*'|\b\d+(?:\.\d+)?\b", "…", f.message)   # the message without its values
            kinds.setdefault((f.file, f.column, shape), []).append(f)
        for fs in kinds.values():
            out += [f"  - {f}" for f in fs[:_SHOW_ROWS]]
            if len(fs) > _SHOW_ROWS:
                out.append(f"      ... and {len(fs) - _SHOW_ROWS} more like it in {fs[0].file}"
                           + (f", column '{fs[0].column}'" if fs[0].column else "") + " (see --json)")
        out.append("")
        out.append(f"Exclusions ({len(self.exclusions)}): recorded; the run goes on without these rows")
        if not self.exclusions:
            out.append("  none")
        groups: dict[tuple, list[Finding]] = {}
        for f in self.exclusions:
            groups.setdefault((f.analysis, f.reason), []).append(f)
        for (analysis, reason), fs in groups.items():
            out.append(f"  {analysis}: {reason} — {len(fs)} row(s)")
            for f in fs[:_SHOW_ROWS]:
                out.append(f"      {f}")
            if len(fs) > _SHOW_ROWS:
                out.append(f"      ... and {len(fs) - _SHOW_ROWS} more (see --json)")
        out.append("")
        out.append(f"Warnings ({len(self.warnings)}): the run goes on; check these")
        if not self.warnings:
            out.append("  none")
        by_check: dict[str, list[Finding]] = {}
        for f in self.warnings:
            by_check.setdefault(f.check, []).append(f)
        for check, fs in by_check.items():          # grouped like the exclusions: a large cohort has thousands
            out.append(f"  {check}: {len(fs)}")
            out += [f"      {f}" for f in fs[:_SHOW_ROWS]]
            if len(fs) > _SHOW_ROWS:
                out.append(f"      ... and {len(fs) - _SHOW_ROWS} more (see --json)")
        out.append("")
        out.append("Row ledger (rows_in = included + excluded)")
        if not self.ledger:
            out.append("  not computed: fix the errors first")
        for name, l in self.ledger.items():
            out.append(f"  {name}: {l['rows_in']} rows in, {l['included']} included, {l['excluded']} excluded")
            for reason, n in l["reasons"].items():
                out.append(f"      {n} × {reason}")
        return "\n".join(out)


def _error(p: Problem) -> Finding:
    return Finding("error", "load_cohort", p.file, p.message, p.fix, row=p.row, column=p.column)


def _empty_files(root: Path) -> list[Finding]:
    """An empty or header-only CSV file (also an employment.csv that load_cohort would accept header-only)."""
    found = []
    for name in _CSV_FILES:
        path = root / name
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            continue                                   # load_cohort reports the encoding
        lines = text.splitlines()
        if not text.strip():
            found.append(Finding("error", "empty_file", name, "file is empty",
                                 "export the table again with its header row and data"))
        elif len(lines) == 1 or not any(l.strip(" ,\t") for l in lines[1:]):
            found.append(Finding("error", "header_only", name, "file has a header but no data rows",
                                 "export the table again with its rows, or remove the file if the plan does not "
                                 "need it"))
    return found


def _items_span(items) -> str:
    return items[0] if len(items) == 1 else f"{items[0]}–{items[-1]}"


def validate(cohort_dir: str | Path) -> ValidationReport:
    """Check a cohort folder; never raises for problems in the cohort.

    Parameters
    ----------
    cohort_dir : str or Path
        The cohort folder.

    Returns
    -------
    ValidationReport
        ``errors`` (the run cannot proceed), ``exclusions`` and ``warnings`` (it can), the row ``ledger``
        per CSV file (only when there are no errors) and a ``summary``.

    Examples
    --------
    >>> rep = validate("no/such/folder")
    >>> rep.ok, rep.exit_code, rep.errors[0].message
    (False, 2, 'cohort folder not found')
    """
    root = Path(cohort_dir)
    rep = ValidationReport(cohort=root.resolve().name or str(root))
    cohort = None
    try:
        cohort = load_cohort(root)
    except CohortError as e:
        rep.errors = [_error(p) for p in e.problems]
    if root.is_dir():
        known = {(f.file, f.message) for f in rep.errors}
        for f in _empty_files(root):
            # load_cohort already says "file is empty" / "has a header but no ..." for the tables it needs
            dup = (f.file, "file is empty") in known or any(
                fi == f.file and m.startswith("has a header but no") for fi, m in known)
            if not dup:
                rep.errors.append(f)
    if rep.errors or cohort is None:
        return rep
    scores = score_scales(cohort.responses, cohort.codebook)     # every response row, the late ones too
    rep.errors = [Finding("error", "covariate", p.file, p.message, p.fix, column=p.column)   # plan vs. its data
                  for p in covariate_problems(cohort, scores)] + \
        [Finding("error", "model", p.file, p.message, p.fix, column=p.column) for p in mmrm_problems(cohort, scores)]
    if rep.errors:
        return rep
    rep.summary = {"participants": len(cohort.participants), "response_rows": len(cohort.responses),
                   "employment_rows": None if cohort.employment is None else len(cohort.employment),
                   "hypotheses": len(cohort.study.hypotheses)}
    run = apply_run_exclusions(cohort)
    left_out = np.zeros(len(cohort.responses), dtype=bool)   # rows out of every survey analysis (late, duplicate)
    if run.excluded_responses is not None and len(run.excluded_responses):
        left_out[data_index(run.excluded_responses["row"].to_numpy(dtype=int))] = True
    _survey_exclusions(cohort, rep, scores, run, left_out)
    _retention_exclusions(cohort, rep)
    _straight_lining(cohort, rep, left_out)
    _small_groups(cohort, rep)
    _attrition(run, rep)                 # on the responses the analysis uses, as the report's attrition table does
    _population_spacing(cohort, rep)
    _single_arm_populations(cohort, rep)
    _small_hypothesis_populations(cohort, rep)
    _later_wave_before_start(cohort, rep)
    _edited_after_ingest(cohort, rep)
    rep.ledger = _ledger(run)
    rep.loaded = cohort
    return rep


def _survey_exclusions(c: Cohort, rep: ValidationReport, scores: pd.DataFrame, run: Cohort,
                       left_out: np.ndarray) -> None:
    """One exclusion per response row × scale not scored (``scores`` = score_scales of every response row), in
    row order and, within a row, codebook order; then the responses dated after an exit (``run`` =
    apply_run_exclusions(c)). Vectorised: the Python loop runs over the exclusions only, and the texts, which
    depend only on (scale, wave, items answered), are built once per distinct combination."""
    R = c.responses
    R_FILE = "responses.csv"
    scales = list(c.codebook.scales.values())
    X = run.excluded_responses
    if scales and len(R):
        missing = np.column_stack([scores[s.name].isna().to_numpy() for s in scales])
        # a row left out of every survey analysis (late, or a duplicate not kept) gets that one exclusion, not
        # also one per scale: the same counts as results.json's flow, which scores the analysis view
        missing[left_out, :] = False
        rows, ks = np.nonzero(missing)                 # row-major: by row, then by scale in codebook order
        answered = np.column_stack([scores[f"{s.name}__answered"].to_numpy() for s in scales])[rows, ks]
        wave_code, wave_names = pd.factorize(R["wave"].astype(str))
        keys, which = np.unique(np.column_stack([ks, wave_code[rows], answered]).astype(np.int64), axis=0,
                                return_inverse=True)
        texts = [_too_few_texts(scales[k], str(wave_names[w]), int(n)) for k, w, n in keys.tolist()]
        rep.exclusions.extend(  # one Finding a row x scale, in row order (290,000 at 100,000 people)
            Finding("exclusion", "scale_too_few_items", R_FILE, t[0], t[1], r, t[2], t[3], t[4], pid)
            for t, r, pid in zip(map(texts.__getitem__, which.ravel().tolist()), spreadsheet_row(rows).tolist(),
                                 map(str, R["participant_id"].to_numpy()[rows])))
    if X is None or X.empty:
        return
    late = (X["reason"] == REASON_AFTER_EXIT).to_numpy()
    exit_row = np.full(len(X), -1)
    if late.any():
        exit_row[late] = pd.Index(c.employment["participant_id"]).get_indexer(X.loc[late, "participant_id"])
    exits = None if c.employment is None else c.employment["exit_date"].array
    for r, is_late, k in zip(X.itertuples(index=False), late.tolist(), exit_row.tolist()):
        if is_late:
            rep.exclusions.append(Finding(
                "exclusion", "submitted_after_exit", R_FILE,
                f"response of '{r.participant_id}' at wave '{r.wave}' submitted on "
                f"{pd.Timestamp(r.submitted_on).date()}, after the exit_date {pd.Timestamp(exits[k]).date()} "
                f"(employment.csv, row {spreadsheet_row(k)}) — left out of every survey analysis",
                "check submitted_on here and exit_date in employment.csv; correct whichever is wrong, or delete the "
                "response if it really came after the person left",
                row=int(r.row), column="submitted_on", analysis="all survey analyses", reason=REASON_AFTER_EXIT,
                participant_id=str(r.participant_id)))
        else:                                          # REASON_DUPLICATE (study.yaml duplicate_submissions)
            when = "" if pd.isna(r.submitted_on) else f" submitted on {pd.Timestamp(r.submitted_on).date()}"
            rep.exclusions.append(Finding(
                "exclusion", "duplicate_submission", R_FILE,
                f"duplicate submission of '{r.participant_id}' at wave '{r.wave}'{when}: under the plan's "
                f"duplicate_submissions rule ({c.study.duplicate_submissions}) row {r.kept_row} is kept — this row "
                "is left out of every survey analysis",
                f"nothing to fix if row {r.kept_row} is the submission that should count; otherwise delete the "
                "submission that should not, or change duplicate_submissions in study.yaml",
                row=int(r.row), column="wave", analysis="all survey analyses", reason=str(r.reason),
                participant_id=str(r.participant_id)))


def _too_few_texts(s, wave: str, answered: int) -> tuple[str, str, str, str, str]:
    """(message, fix, column, analysis, reason) of a scale not scored at a wave with ``answered`` items."""
    need = int(np.ceil(s.min_answered * s.n_items - 1e-9))
    if answered > 0:
        reason = REASON_TOO_FEW.format(share=s.min_answered, n=s.n_items)
        msg = (f"scale '{s.name}' at wave '{wave}': {answered} of {s.n_items} items answered, "
               f"{need} needed — not scored, left out of {s.name} at {wave}")
        fix = (f"if the paper or export has the missing answers, enter them in {_items_span(s.items)}; "
               "otherwise nothing to fix (the exclusion is reported)")
    else:
        reason = REASON_NONE
        msg = f"scale '{s.name}' at wave '{wave}': no item answered — left out of {s.name} at {wave}"
        fix = (f"if the scale was asked, enter the answers in {_items_span(s.items)}; if it was not asked "
               "of this person (e.g. a programme-only scale), nothing to fix")
    return msg, fix, _items_span(s.items), f"{s.name} at {wave}", reason


def _retention_exclusions(c: Cohort, rep: ValidationReport) -> None:
    if c.employment is None:
        return
    E = c.employment
    _, excl = retention_data(c.participants, E, c.study.programme_start, c.study.censor_date)
    pos = pd.Index(E["participant_id"]).get_indexer(excl["participant_id"])     # ids are unique (load_cohort)
    exits, hires = E["exit_date"].array, E["hire_date"].array
    for pid, reason, k in zip(excl["participant_id"], excl["reason"], pos.tolist()):
        if reason.startswith("left on or before"):
            column = "exit_date"
            msg = (f"'{pid}' left on {exits[k].date()}, on or before the programme start "
                   f"{c.study.programme_start} — excluded from retention")
            fix = "nothing to fix if the date is right; otherwise correct exit_date"
        else:
            column = "hire_date"
            msg = (f"'{pid}' was hired on {hires[k].date()}, too late to be followed up before the end of "
                   f"follow-up — excluded from retention")
            fix = "nothing to fix if the dates are right; otherwise correct hire_date or exit_date"
        rep.exclusions.append(Finding("exclusion", "retention", "employment.csv", msg, fix, row=spreadsheet_row(k),
                                      column=column, analysis="retention", reason=reason, participant_id=str(pid)))


def _straight_lining(c: Cohort, rep: ValidationReport, left_out: np.ndarray) -> None:
    """All answered items of a scale with ≥ STRAIGHTLINE_MIN_ITEMS items give the same answer (raw, before reverse
    keying), in a row where the scale is scored (enough items answered) and at least two items are answered.
    Rows ``left_out`` of every survey analysis are not checked (their one exclusion says enough)."""
    R = c.responses
    waves = R["wave"].astype(str).to_numpy()
    ids = R["participant_id"].to_numpy()
    for s in c.codebook.scales.values():
        if s.n_items < STRAIGHTLINE_MIN_ITEMS:
            continue
        block = R[list(s.items)].to_numpy(dtype=float)
        answered = np.isfinite(block).sum(axis=1)
        lo, hi = np.nanmin(np.where(np.isfinite(block), block, np.inf), axis=1), \
            np.nanmax(np.where(np.isfinite(block), block, -np.inf), axis=1)
        scored = answered / s.n_items >= s.min_answered - 1e-12
        flat = scored & (answered >= 2) & (lo == hi) & ~left_out
        for i in np.flatnonzero(flat):
            rev = " although the scale has reverse-keyed items" if s.reverse else ""
            rep.warnings.append(Finding(
                "warning", "straight_lining", "responses.csv",
                f"straight-lining: all {answered[i]} answered items of scale '{s.name}' at wave '{waves[i]}' "
                f"are {lo[i]:g}{rev}",
                "check this row in the source export; keep it if the answers are genuine; if it is a test or "
                "careless submission, clear these answers (the scale is then excluded for this row)",
                row=spreadsheet_row(i), column=_items_span(s.items), participant_id=str(ids[i])))


def _small_groups(c: Cohort, rep: ValidationReport) -> None:
    P = c.participants
    k = c.study.anonymity_threshold
    roles = ROLES if "role" in P.columns else (None,)        # role is optional without pairs or groups
    for arm in ARMS:
        for role in roles:
            sel = (P["arm"] == arm) & (P["role"] == role) if role else P["arm"] == arm
            rows = spreadsheet_row(np.flatnonzero(sel.to_numpy()))
            if 0 < len(rows) < k:
                shown = ", ".join(str(r) for r in rows)
                rep.warnings.append(Finding(
                    "warning", "small_group", "participants.csv",
                    f"group arm = {arm}{f', role = {role}' if role else ''} has {len(rows)} participant(s) "
                    f"(rows {shown}), fewer than "
                    f"the anonymity threshold {k}: its figures are suppressed in the HR report",
                    "nothing to fix in the data; expect suppressed cells for this group, or enrol more people "
                    "before the analysis", row=int(rows[0]), column="arm, role" if role else "arm"))


def _attrition(c: Cohort, rep: ValidationReport) -> None:
    P, R = c.participants, c.responses
    last = c.study.waves[-1]
    done = set(R.loc[R["wave"].astype(str) == last, "participant_id"])
    rate = {}
    for arm in ARMS:
        m = P["arm"] == arm
        if m.sum():
            rate[arm] = float(P.loc[m, "participant_id"].isin(done).mean())
    if len(rate) == 2 and abs(rate["program"] - rate["control"]) > ATTRITION_GAP:
        rep.warnings.append(Finding(
            "warning", "differential_attrition", "responses.csv",
            f"differential attrition at the last wave '{last}': response rate programme {rate['program']:.1%}, "
            f"control {rate['control']:.1%} (difference {abs(rate['program'] - rate['control']):.1%} > "
            f"{ATTRITION_GAP:.0%})",
            "check whether responses of the last wave are missing from the export; if not, read the attrition "
            "analysis and the sensitivity analyses in the academic report before interpreting the effects",
            column="wave"))


def _population_spacing(c: Cohort, rep: ValidationReport) -> None:
    """A population filter of the plan compares text exactly; a participant whose value differs from a filter
    value only by surrounding spaces ('Sales ' vs 'Sales') would silently fall out of that population."""
    P = c.participants
    for h in c.study.hypotheses:
        for col, val in h.population.items():
            if col == "age" or col not in P.columns or pd.api.types.is_numeric_dtype(P[col]):
                continue
            raw = P[col].astype(str)
            rows = np.flatnonzero(near_misses(P[col], population_values(val)).to_numpy())
            if len(rows):
                rep.warnings.append(Finding(
                    "warning", "population_spacing", "participants.csv",
                    f"{len(rows)} participant(s) have {col} = '{raw.iat[rows[0]]}', which differs from the value "
                    f"'{raw.iat[rows[0]].strip()}' of {h.id}'s population only by spaces, so they are not in that "
                    f"population (rows {', '.join(str(r) for r in spreadsheet_row(rows[:10]))}{', ...' if len(rows) > 10 else ''})",
                    "remove the spaces in participants.csv if they belong to the population; otherwise nothing to "
                    "fix", row=spreadsheet_row(rows[0]), column=col, participant_id=str(P["participant_id"].iat[rows[0]])))


def _single_arm_populations(c: Cohort, rep: ValidationReport) -> None:
    """A survey hypothesis of a two-arm cohort whose population holds one arm only is analysed as within-arm change
    (design single_arm), which cannot be attributed to the programme: say so before the run, not only in its
    report."""
    P = c.participants
    if set(P["arm"]) != set(ARMS):
        return                                   # a single-arm cohort: every hypothesis is within-arm, by design
    for i, h in enumerate(c.study.hypotheses):
        if h.is_retention:
            continue
        arms = sorted(set(select_population(P, h.population, h.id)["arm"]))
        if len(arms) == 1:
            rep.warnings.append(Finding(
                "warning", "single_arm_population", "study.yaml",
                f"the population of {h.id} ({h.population}) holds only {arms[0]} participants although the cohort "
                "has both arms: it will be analysed as within-arm change, which cannot be attributed to the programme",
                "check the population filter and the values it matches in participants.csv (spelling, spaces); if "
                "one arm is intended, nothing to fix", column=f"hypotheses.{i}.population"))


def _small_hypothesis_populations(c: Cohort, rep: ValidationReport) -> None:
    """A hypothesis whose population, or one arm of it, has fewer people than the anonymity threshold gets no
    result of any kind in the HR report (rmstudy.report.privacy.too_small): say so before the run."""
    P = c.participants
    k = c.study.anonymity_threshold
    for i, h in enumerate(c.study.hypotheses):
        sizes = select_population(P, h.population, h.id)["arm"].value_counts()
        small = {str(a): int(n) for a, n in sizes.items() if 0 < n < k}
        if sizes.sum() < k or small:
            who = f"holds {int(sizes.sum())} participant(s)" if sizes.sum() < k else \
                ", ".join(f"its {a} arm holds {n} participant(s)" for a, n in small.items())
            rep.warnings.append(Finding(
                "warning", "small_hypothesis_population", "study.yaml",
                f"the population of {h.id} {who}, fewer than the anonymity threshold {k}: the HR report will show "
                "no result of any kind for it (the academic report still does)",
                "widen the population, or keep it for the academic report only; nothing to fix in the data",
                column=f"hypotheses.{i}.population"))


def _later_wave_before_start(c: Cohort, rep: ValidationReport) -> None:
    """Responses of a wave after the first dated before the programme started: the export of an earlier wave
    mapped to a later one, or a wrong wave column."""
    R = c.responses
    if "submitted_on" not in R.columns or len(c.study.waves) < 2:
        return
    start = pd.Timestamp(c.study.programme_start)
    for w in c.study.waves[1:]:
        rows = np.flatnonzero(((R["wave"].astype(str) == w) & (R["submitted_on"] < start)).to_numpy())
        if len(rows):
            rep.warnings.append(Finding(
                "warning", "later_wave_before_start", "responses.csv",
                f"{len(rows)} response(s) of wave '{w}' are dated before the programme start {c.study.programme_start} "
                f"(rows {', '.join(str(r) for r in spreadsheet_row(rows[:10]))}{', ...' if len(rows) > 10 else ''})",
                "check that the export of this wave is the right file and that wave labels map to the right waves; "
                "if the dates are right, nothing to fix", row=spreadsheet_row(rows[0]), column="submitted_on",
                participant_id=str(R["participant_id"].iat[rows[0]])))


def _edited_after_ingest(c: Cohort, rep: ValidationReport) -> None:
    """A cohort folder written by rmstudy ingest whose CSVs were changed afterwards: the raw-export ledger of
    ingest_report.json no longer describes them, and the run leaves it out (rmstudy.checks.quality.ingest_ledger)."""
    for name in ingest_changed(c.root):
        rep.warnings.append(Finding(
            "warning", "edited_after_ingest", name,
            f"{name} is not the file rmstudy ingest wrote (its SHA-256 differs from ingest_report.json): the "
            "raw-export ledger is left out of results.json, because it no longer accounts for these rows",
            "run rmstudy ingest again from the raw exports, or keep the edit and note it in the deviations log of "
            "study.yaml"))


def _ledger(run: Cohort) -> dict:
    """The row ledger of the run itself (rmstudy.checks.quality.participant_flow on the analysis view ``run`` =
    apply_run_exclusions(c)), so that what validate prints and what results.json records cannot drift apart."""
    return participant_flow(run, score_scales(run.responses, run.codebook))["ledger"]
