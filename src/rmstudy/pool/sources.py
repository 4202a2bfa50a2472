r"""Study effects for pooling, read from run folders, an effects CSV (published studies) or a registry CSV.

One :class:`StudyEffect` per study × hypothesis, carrying every scale a pooling may use:

* survey hypotheses: the difference in change in scale points (``estimate``, ``se`` of the results row), and
  d_ppc2 (``d``, ``se_d``). results.json gives d_ppc2 with a CI that treats the baseline SD as known
  (c · CI / SD_pre). Its SE for pooling adds the uncertainty of SD_pre (large-sample delta method, as for
  Hedges' g):

  .. math:: SE_d^2 = \Big(SE \cdot \frac{c}{SD_{pre}}\Big)^2 + \frac{d^2}{2\,df_{pre}}, \qquad
            df_{pre} = n_{T,pre} + n_{C,pre} - 2

  where c/SD_pre is read off the two CIs (the d CI width over the raw CI width) and the baseline counts come
  from ``descriptives.cell_means`` at the contrast's baseline wave (the analysed participants per arm when a
  run has no cell means);
* retention hypotheses: the log hazard ratio and its SE;
* published effects: the estimate and SE as given.

For a run folder the cohort's ``study.yaml`` and ``codebook.yaml`` are looked for (beside the run's recorded
cohort folder, or inside the run folder) and used only when their SHA-256 equals the hash results.json recorded:
they give the outcome's instrument (items, response range, reverse keys, ``higher_is``), the programme start
(the study's date for a cumulative meta-analysis) and the anonymity threshold (for the HR-safe summary).
"""

from __future__ import annotations

__all__ = ["PoolError", "StudyEffect", "read_run", "read_effects_csv", "read_csv_text", "MAX_CSV_BYTES", "effects_from_results", "instrument_of",
           "d_ppc2_se", "inputs_sha256", "canonical_population", "locate_materials"]

import csv
import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from rmstudy.contract.provenance import file_sha256
from rmstudy.errors import Problem, RmstudyError

RETENTION = "retention"


class PoolError(RmstudyError, ValueError):
    """Inputs that cannot be pooled; carries every problem found (file, row, column, fix).

    Parameters
    ----------
    problems : list of Problem, or one Problem
        Kept as ``problems``; the message lists them, one a line.

    Examples
    --------
    >>> from rmstudy.errors import Problem
    >>> e = PoolError(Problem("effects.csv", "se -1 is not a positive number", "give the SE (> 0)", row=3, column="se"))
    >>> len(e.problems)
    1
    >>> print(e)
    1 problem(s) in the pooling inputs:
      - effects.csv, row 3, column 'se': se -1 is not a positive number — fix: give the SE (> 0)
    """

    def __init__(self, problems: list[Problem] | Problem):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s) in the pooling inputs:\n"
                         + "\n".join(f"  - {p}" for p in self.problems))


@dataclass
class StudyEffect:
    """One study's effect for one hypothesis, on every scale it can be pooled on.

    Attributes
    ----------
    study, hypothesis : str
        The label shown in tables and plots; the grouping key.
    estimate, se : float
        Scale points (survey), log hazard ratio (retention) or as given (published), and its SE.
    source, origin : str
        ``run``, ``effects`` or ``registry``; the run folder or ``file:row`` it came from.
    kind : str
        ``survey``, ``retention`` or ``published`` (the default).
    outcome, population, direction, design, contrast, question, label
        The plan's hypothesis, when known.
    d, se_d : float or None
        d_ppc2 and its SE for pooling (survey).
    n_program, n_control, anonymity_threshold : int or None
        Analysed people per arm, and the cohort's threshold.
    order, instrument, plan_sha256, inputs_sha256, notes
        Date or year, the outcome's instrument (:func:`instrument_of`), hashes and notes.

    Examples
    --------
    >>> e = StudyEffect("Smith 2021", "all", 0.31, 0.12, source="effects", origin="effects.csv:2", order="2021")
    >>> e.kind, e.d, e.notes
    ('published', None, [])
    """

    study: str                       # label shown in tables and plots
    hypothesis: str                  # the grouping key (hypothesis id, or the effects CSV's hypothesis column)
    estimate: float                  # scale points (survey), log HR (retention), as given (published)
    se: float
    source: str                      # "run" | "effects" | "registry"
    origin: str                      # where it came from: a run folder, or file:row
    kind: str = "published"          # "survey" | "retention" | "published"
    outcome: str | None = None
    population: dict | None = None
    direction: str | None = None
    design: str | None = None
    contrast: list | None = None
    question: str | None = None
    label: str | None = None
    d: float | None = None           # d_ppc2 (survey)
    se_d: float | None = None
    n_program: int | None = None     # analysed participants per arm (the hypothesis population)
    n_control: int | None = None
    anonymity_threshold: int | None = None
    order: str | None = None         # date (YYYY-MM-DD) or year, for the cumulative meta-analysis
    instrument: dict | None = None   # survey outcome's instrument, when the codebook is at hand
    plan_sha256: str | None = None
    inputs_sha256: str | None = None
    notes: list = field(default_factory=list)


def canonical_population(pop) -> str:
    """A population filter as comparable text: scalar values as one-element lists, lists sorted, keys sorted.

    Parameters
    ----------
    pop : dict or None
        A hypothesis' population filter (``None``: everyone).

    Returns
    -------
    str
        JSON text; two filters select the same people when their texts are equal.

    Examples
    --------
    >>> canonical_population({"role": "junior", "age": {"max": 35}})
    '{"age": {"max": ["35"]}, "role": ["junior"]}'
    >>> canonical_population({"role": ["junior"]}) == canonical_population({"role": "junior"})
    True
    """
    def norm(v):
        if isinstance(v, dict):
            return {str(k): norm(x) for k, x in sorted(v.items())}
        if isinstance(v, (list, tuple)):
            return sorted(str(x) for x in v)
        return [str(v)]
    return json.dumps(norm(pop or {}), sort_keys=True, ensure_ascii=False)


def inputs_sha256(inputs: dict) -> str:
    """One SHA-256 for a run's input files: over the sorted ``name:sha256`` lines of results.json ``inputs``.

    Parameters
    ----------
    inputs : dict
        File name -> SHA-256 (results.json ``inputs``).

    Returns
    -------
    str
        64 hex digits; the same whatever the order of ``inputs``.

    Examples
    --------
    >>> inputs_sha256({"study.yaml": "ab", "responses.csv": "cd"})
    '222d26ec0105000e5aa7c3e1c1eeb93dab42ef5242a8c7b8ba9f6466033e78ff'
    >>> inputs_sha256({"responses.csv": "cd", "study.yaml": "ab"})[:12]
    '222d26ec0105'
    """
    text = "\n".join(f"{k}:{inputs[k]}" for k in sorted(inputs))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def instrument_of(scale) -> dict:
    """What makes two scales the same instrument: item codes, response range, reverse keys and direction.

    Parameters
    ----------
    scale
        A codebook scale (``items``, ``min``, ``max``, ``reverse``, ``higher_is``).

    Returns
    -------
    dict
        ``items`` and ``reverse`` sorted, ``min`` and ``max`` as floats, ``higher_is`` ('' when not given).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> instrument_of(SimpleNamespace(items=["q2", "q1"], min=1, max=5, reverse=["q2"], higher_is="better"))
    {'items': ['q1', 'q2'], 'min': 1.0, 'max': 5.0, 'reverse': ['q2'], 'higher_is': 'better'}
    """
    return {"items": sorted(scale.items), "min": float(scale.min), "max": float(scale.max),
            "reverse": sorted(scale.reverse), "higher_is": scale.higher_is or ""}


def _baseline_counts(row: dict, results: dict) -> tuple[int, int]:
    cm = (results.get("descriptives") or {}).get("cell_means", {}).get(row["id"]) or []
    base = (row.get("contrast") or [None])[0]
    n = {"program": 0, "control": 0}
    for c in cm:
        if c.get("wave") == base and c.get("arm") in n and c.get("n") is not None:
            n[c["arm"]] = int(c["n"])
    if n["program"] + n["control"] == 0:
        n = {a: int((row.get("n") or {}).get(a, {}).get("participants") or 0) for a in n}
    return n["program"], n["control"]


def d_ppc2_se(row: dict, results: dict) -> tuple[float, float] | tuple[None, None]:
    """d_ppc2 of a survey results row and its SE for pooling (module docstring).

    Parameters
    ----------
    row : dict
        A results.json ``hypotheses`` row (``se``, ``ci_low``, ``ci_high``, ``effect_size``, ``n``, ``contrast``).
    results : dict
        The whole results.json (its ``descriptives.cell_means`` give the baseline counts).

    Returns
    -------
    (float, float) or (None, None)
        d_ppc2 and its SE; (None, None) when the row has no usable CI.

    Examples
    --------
    >>> row = {"id": "H1", "se": 0.2, "ci_low": 0.1, "ci_high": 0.9, "contrast": ["t0", "t2"],
    ...        "effect_size": {"value": 0.4, "ci_low": 0.08, "ci_high": 0.72},
    ...        "n": {"program": {"participants": 20}, "control": {"participants": 22}}}
    >>> d, se_d = d_ppc2_se(row, {})
    >>> d, round(se_d, 4)
    (0.4, 0.1661)
    """
    es = row.get("effect_size") or {}
    d = es.get("value")
    width_raw = (row.get("ci_high") or 0) - (row.get("ci_low") or 0)
    if d is None or es.get("ci_low") is None or es.get("ci_high") is None or not width_raw > 0:
        return None, None
    factor = (es["ci_high"] - es["ci_low"]) / width_raw              # c / SD_pre
    n_t, n_c = _baseline_counts(row, results)
    df = n_t + n_c - (2 if n_t and n_c else 1)
    if df < 1:
        return None, None
    se_d = math.sqrt((row["se"] * factor) ** 2 + d ** 2 / (2 * df))
    return float(d), float(se_d)


def effects_from_results(results: dict, label: str, origin: str, source: str = "run", study=None,
                         codebook=None) -> list[StudyEffect]:
    """The study effects of one results.json (one per hypothesis row with a finite estimate and SE).

    Parameters
    ----------
    results : dict
        A results.json mapping.
    label, origin, source : str
        The study's label, where it came from, and ``run`` or ``registry``.
    study, codebook : optional
        The cohort's plan and codebook, when at hand: they add the programme start, the anonymity threshold and
        each survey outcome's instrument.

    Returns
    -------
    list of StudyEffect

    Examples
    --------
    >>> row = {"id": "H1", "outcome": "engagement", "estimate": 0.5, "se": 0.2, "ci_low": 0.1, "ci_high": 0.9,
    ...        "effect_size": {"value": 0.4, "ci_low": 0.08, "ci_high": 0.72},
    ...        "n": {"program": {"participants": 20}, "control": {"participants": 22}}}
    >>> [e] = effects_from_results({"created": "2026-03-01T10:00:00Z", "hypotheses": [row]}, "2025", "reports/2025")
    >>> e.kind, e.estimate, e.d, round(e.se_d, 4), e.order, e.n_program
    ('survey', 0.5, 0.4, 0.1661, '2026-03-01', 20)
    """
    out = []
    ih = inputs_sha256(results.get("inputs") or {})
    for row in results.get("hypotheses") or []:
        est, se = row.get("estimate"), row.get("se")
        if est is None or se is None or not math.isfinite(est) or not se > 0:
            continue
        kind = RETENTION if row.get("outcome") == RETENTION else "survey"
        n = row.get("n") or {}
        e = StudyEffect(
            study=label, hypothesis=row["id"], estimate=float(est), se=float(se), source=source, origin=origin,
            kind=kind, outcome=row.get("outcome"), population=row.get("population") or {},
            direction=row.get("direction"), design=row.get("design") or ("two_arm" if kind == RETENTION else None),
            contrast=row.get("contrast"), question=row.get("question") or "", label=row.get("label") or "",
            n_program=(n.get("program") or {}).get("participants"), n_control=(n.get("control") or {}).get("participants"),
            plan_sha256=results.get("plan_sha256"), inputs_sha256=ih)
        if kind == "survey":
            e.d, e.se_d = d_ppc2_se(row, results)
            if codebook is not None and row.get("outcome") in codebook:
                e.instrument = instrument_of(codebook[row["outcome"]])
        if study is not None:
            e.anonymity_threshold = int(study.anonymity_threshold)
            e.order = study.programme_start.isoformat()
        else:
            e.order = (results.get("created") or "")[:10] or None
            e.notes.append("the cohort's study.yaml was not found: the run's date is its creation date")
        out.append(e)
    return out


def _run_start(run_dir: Path, out_dir) -> Path | None:
    """The folder a run started from, given the run folder and its recorded ``out_dir`` (relative to that start),
    when ``out_dir`` is a plain downward path (``reports/NAME``); None otherwise."""
    if not isinstance(out_dir, str) or not out_dir or os.path.isabs(out_dir):
        return None
    parts = [p for p in Path(out_dir).parts if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    here = run_dir.resolve()
    if [p for p in here.parts[-len(parts):]] != parts:
        return None
    return here.parents[len(parts) - 1]


def locate_materials(run_dir: Path, results: dict) -> tuple[Path | None, Path | None]:
    """The cohort's study.yaml and codebook.yaml of a run, if found with the SHA-256 results.json recorded.

    Looked for inside the run folder (a snapshot of the inputs, up to two levels down), at the cohort folder the
    run recorded (``parameters.cohort_dir``, relative to the folder the run started from, found through the
    recorded ``out_dir``) and at ``cohort_dir`` from the current folder.

    Parameters
    ----------
    run_dir : Path
        The run folder.
    results : dict
        Its results.json (the hashes and folders it recorded).

    Returns
    -------
    (Path or None, Path or None)
        study.yaml and codebook.yaml, each None when not found with the recorded hash.
    """
    params = results.get("parameters") or {}
    inputs = results.get("inputs") or {}
    want = {"study.yaml": results.get("plan_sha256") or inputs.get("study.yaml"),
            "codebook.yaml": inputs.get("codebook.yaml")}
    dirs: list[Path] = [run_dir, *[p for p in run_dir.glob("*/") if p.is_dir()],
                        *[p for p in run_dir.glob("*/*/") if p.is_dir()]]
    cd, od = params.get("cohort_dir"), params.get("out_dir")
    if isinstance(cd, str) and cd:
        if os.path.isabs(cd):
            dirs.append(Path(cd))
        else:
            start = _run_start(run_dir, od)
            if start is not None:
                dirs.append(start / cd)
            dirs.append(Path.cwd() / cd)
    found: dict[str, Path | None] = {"study.yaml": None, "codebook.yaml": None}
    for name, sha in want.items():
        if not sha:
            continue
        for d in dirs:
            p = d / name
            try:
                if p.is_file() and file_sha256(p) == sha:
                    found[name] = p
                    break
            except OSError:
                continue
    return found["study.yaml"], found["codebook.yaml"]


def read_run(run_dir: str | Path) -> tuple[list[StudyEffect], dict]:
    """The study effects of one run folder and a description of the run for pooled.json ``inputs``.

    Parameters
    ----------
    run_dir : str or Path
        A folder written by ``rmstudy run`` (its results.json).

    Returns
    -------
    (list of StudyEffect, dict)
        The effects (:func:`effects_from_results`) and the run's ``inputs`` entry.
    """
    from rmstudy.contract.codebook import load_codebook
    from rmstudy.contract.study import load_study

    run_dir = Path(run_dir)
    path = run_dir / "results.json"
    if not run_dir.is_dir():
        raise PoolError(Problem(str(run_dir), "is not a folder", "give run folders written by `rmstudy run`"))
    if not path.is_file():
        raise PoolError(Problem(str(run_dir), "holds no results.json", "give a folder written by `rmstudy run`"))
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PoolError(Problem(str(path), f"cannot be read as JSON ({e})", "rerun `rmstudy run` for this cohort")) \
            from None
    if not isinstance(results, dict) or not isinstance(results.get("hypotheses"), list):
        raise PoolError(Problem(str(path), "has no hypotheses list", "give a results.json written by `rmstudy run`"))
    study_p, codebook_p = locate_materials(run_dir, results)
    study = codebook = None
    notes = []
    try:
        codebook = load_codebook(codebook_p) if codebook_p else None
        study = load_study(study_p, codebook=codebook) if study_p else None
    except Exception as e:                              # an unreadable plan only costs the extra checks
        notes.append(f"the cohort's plan could not be read ({type(e).__name__}); instruments unknown")
        study = codebook = None
    label = str(results.get("cohort") or run_dir.name)
    effects = effects_from_results(results, label, origin=str(run_dir), study=study, codebook=codebook)
    if codebook is None:
        for e in effects:
            if e.kind == "survey":
                e.notes.append("the cohort's codebook.yaml was not found with the hash results.json recorded: "
                               "the instrument is unknown")
    info = {"kind": "run", "path": str(run_dir), "cohort": label, "plan_sha256": results.get("plan_sha256"),
            "inputs_sha256": inputs_sha256(results.get("inputs") or {}), "created": results.get("created"),
            "plan_found": study is not None, "codebook_found": codebook is not None, "notes": notes}
    return effects, info


_EFFECT_COLUMNS = ("study", "estimate", "se")


def _num(text: str, file: str, row: int, column: str, probs: list[Problem], positive: bool = False):
    try:
        x = float(text.strip().replace("\u2212", "-"))
    except (ValueError, AttributeError):
        probs.append(Problem(file, f"'{str(text)[:40]}' is not a number", "write a plain number such as -0.25 "
                             "(a point as decimal mark)", row=row, column=column))
        return None
    if not math.isfinite(x) or (positive and x <= 0):
        probs.append(Problem(file, f"{column} {x:g} is not {'a positive' if positive else 'a finite'} number",
                             "give the standard error of the estimate (> 0)" if positive else "give a finite number",
                             row=row, column=column))
        return None
    return x


MAX_CSV_BYTES = 50_000_000   # an effects table or registry is a few rows per study: 50 MB is far beyond any real one


def read_csv_text(path: str | Path, fix: str) -> str:
    """The text of an effects or registry CSV: refused in one problem when it cannot be read as UTF-8, is larger
    than ``MAX_CSV_BYTES`` or holds a line over 1 MB (checked before the file is read, so memory stays bounded).

    Parameters
    ----------
    path : str or Path
    fix : str
        What the problem tells the user to do.

    Returns
    -------
    str
        The text, a leading BOM removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "effects.csv"
    >>> _ = p.write_bytes(b"\\xef\\xbb\\xbfstudy,estimate,se\\nA,0.3,0.1\\n")
    >>> read_csv_text(p, "save the file as CSV UTF-8")
    'study,estimate,se\\nA,0.3,0.1\\n'
    """
    from rmstudy.contract.csvio import long_line_problem

    path = Path(path)
    name = path.name
    try:
        if path.stat().st_size > MAX_CSV_BYTES:
            raise PoolError(Problem(name, f"is larger than {MAX_CSV_BYTES:,} bytes", fix))
        long_line = long_line_problem(path, name)
        if long_line is not None:
            raise PoolError(long_line)
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise PoolError(Problem(name, f"cannot be read as UTF-8 text ({e.__class__.__name__})", fix)) from None


def read_effects_csv(path: str | Path) -> list[StudyEffect]:
    """Published effects: a CSV with columns ``study, estimate, se`` and optionally ``hypothesis`` (several pooled
    at once; default ``all``) and ``year`` or ``date`` (cumulative order). UTF-8 (a BOM is accepted), comma- or
    semicolon-delimited. Every problem is reported at once, with its spreadsheet row.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    list of StudyEffect
        One per row, ``source="effects"``; raises :class:`PoolError` listing every problem.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "effects.csv"
    >>> _ = p.write_text("study;estimate;se;year\\nSmith;0,3;0.1;2021\\nLee;0.2;0.15;2023\\n", encoding="utf-8")
    >>> try:
    ...     read_effects_csv(p)
    ... except PoolError as e:
    ...     print(e.problems[0].row, e.problems[0].column, e.problems[0].message)
    2 estimate '0,3' is not a number
    >>> _ = p.write_text("study;estimate;se;year\\nSmith;0.3;0.1;2021\\nLee;0.2;0.15;2023\\n", encoding="utf-8")
    >>> [(e.study, e.estimate, e.se, e.order, e.origin) for e in read_effects_csv(p)]
    [('Smith', 0.3, 0.1, '2021', 'effects.csv:2'), ('Lee', 0.2, 0.15, '2023', 'effects.csv:3')]
    """
    path = Path(path)
    name = path.name
    text = read_csv_text(path, "save the file as CSV UTF-8")
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise PoolError(Problem(name, "is empty or its first line is blank", "put the header on the first line: "
                                "study,estimate,se[,hypothesis,year]"))
    delim = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.DictReader(lines, delimiter=delim)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in _EFFECT_COLUMNS if c not in header]
    if missing:
        raise PoolError(Problem(name, f"has no column {', '.join(missing)} (found: {', '.join(header)})",
                                "name the columns study, estimate, se (optionally hypothesis, year or date)"))
    probs: list[Problem] = []
    out: list[StudyEffect] = []
    seen: dict[tuple[str, str], int] = {}
    for i, rec in enumerate(reader, start=2):
        if None in rec:
            probs.append(Problem(name, "has more cells than the header", "remove the extra cells", row=i))
            continue
        if all(not (v or "").strip() for v in rec.values()):
            continue
        study = (rec.get("study") or "").strip()
        if not study:
            probs.append(Problem(name, "has no study label", "name the study (e.g. 'Smith 2021')", row=i,
                                 column="study"))
        est = _num(rec.get("estimate") or "", name, i, "estimate", probs)
        se = _num(rec.get("se") or "", name, i, "se", probs, positive=True)
        hyp = (rec.get("hypothesis") or "").strip() or "all"
        order = None
        for col in ("year", "date"):
            val = (rec.get(col) or "").strip()
            if val:
                order = val
                break
        if study:
            key = (hyp, study)
            if key in seen:
                probs.append(Problem(name, f"study '{study}' appears twice for hypothesis '{hyp}' (rows {seen[key]} "
                                     f"and {i})", "keep one row per study and hypothesis", row=i, column="study"))
            seen.setdefault(key, i)
        if study and est is not None and se is not None:
            out.append(StudyEffect(study=study, hypothesis=hyp, estimate=est, se=se, source="effects",
                                   origin=f"{name}:{i}", order=order))
    if probs:
        raise PoolError(probs)
    if not out:
        raise PoolError(Problem(name, "holds no effect rows", "add one row per study: study,estimate,se"))
    return out
