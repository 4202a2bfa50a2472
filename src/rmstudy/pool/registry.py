"""A living evidence base: a registry CSV of run effects (``rmstudy run ... --register REGISTRY.csv``), pooled by
``rmstudy pool --registry REGISTRY.csv``.

One row per hypothesis of a run: the effect on every scale it can be pooled on (scale points or log hazard ratio,
and d_ppc2 with its SE), the analysed people per arm, the plan's population, direction, design and anonymity
threshold, the outcome's instrument (item codes, response range, reverse keys), the programme start, and the
hashes of the plan and of the input files. No participant data. Appending the same run twice is refused: a run
is known by the SHA-256 of its input files (``inputs_sha256``), so a rerun of the same cohort adds nothing.

Text cells that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
return) are written with a leading apostrophe, which :func:`read_registry` removes again.
"""

from __future__ import annotations

__all__ = ["REGISTRY_COLUMNS", "register_run", "read_registry", "registry_rows"]

import contextlib
import csv
import io
import json
import math
from pathlib import Path

from rmstudy._version import __version__
from rmstudy.errors import Problem
from rmstudy.pool.sources import (RETENTION, PoolError, StudyEffect, read_csv_text, effects_from_results, inputs_sha256,
                                  locate_materials)

REGISTRY_COLUMNS = ("study", "hypothesis", "question", "outcome", "population", "direction", "design", "contrast",
                    "measure", "estimate", "se", "d_ppc2", "d_ppc2_se", "n_program", "n_control",
                    "anonymity_threshold", "instrument", "date", "run_created", "plan_sha256", "inputs_sha256",
                    "rmstudy_version")
_TEXT = {"study", "hypothesis", "question", "outcome", "population", "direction", "design", "contrast", "measure",
         "instrument"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(col: str, v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    if isinstance(v, float):
        return repr(v)
    s = str(v)
    if col in _TEXT and s.startswith(_FORMULA_START):
        return "'" + s
    return s


def _uncell(s: str) -> str:
    return s[1:] if s.startswith("'") and s[1:2] in _FORMULA_START and s[1:2] else s


def registry_rows(results: dict, study=None, codebook=None) -> list[dict]:
    """The registry rows of one run (one per hypothesis with an estimate).

    Parameters
    ----------
    results : dict
        The run's results.json.
    study, codebook : optional
        The cohort's plan and codebook (programme start, anonymity threshold, instruments).

    Returns
    -------
    list of dict
        One per row, keyed by ``REGISTRY_COLUMNS``.

    Examples
    --------
    >>> row = {"id": "H1", "outcome": "engagement", "estimate": 0.5, "se": 0.2, "ci_low": 0.1, "ci_high": 0.9}
    >>> [r] = registry_rows({"cohort": "2025", "inputs": {"study.yaml": "ab"}, "hypotheses": [row]})
    >>> r["study"], r["measure"], r["estimate"], r["population"], r["d_ppc2"], r["inputs_sha256"][:12]
    ('2025', 'difference_in_change', 0.5, '{}', None, '3f9825df6613')
    """
    effects = effects_from_results(results, str(results.get("cohort") or "run"), origin="", study=study,
                                   codebook=codebook)
    rows = []
    for e in effects:
        rows.append({
            "study": e.study, "hypothesis": e.hypothesis, "question": e.question or "", "outcome": e.outcome,
            "population": json.dumps(e.population or {}, ensure_ascii=False, sort_keys=True),
            "direction": e.direction, "design": e.design,
            "contrast": json.dumps(e.contrast, ensure_ascii=False) if e.contrast else "",
            "measure": "log_hazard_ratio" if e.kind == RETENTION else "difference_in_change",
            "estimate": e.estimate, "se": e.se, "d_ppc2": e.d, "d_ppc2_se": e.se_d,
            "n_program": e.n_program, "n_control": e.n_control, "anonymity_threshold": e.anonymity_threshold,
            "instrument": json.dumps(e.instrument, ensure_ascii=False, sort_keys=True) if e.instrument else "",
            "date": e.order if study is not None else "", "run_created": results.get("created") or "",
            "plan_sha256": e.plan_sha256 or "", "inputs_sha256": e.inputs_sha256,
            "rmstudy_version": results.get("rmstudy_version") or __version__,
        })
    return rows


@contextlib.contextmanager
def _locked(path: Path):
    """Open the registry for reading and appending under an exclusive lock (POSIX; elsewhere unlocked)."""
    fh = open(path, "a+", encoding="utf-8", newline="")
    try:
        try:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        except ImportError:                                          # pragma: no cover (Windows)
            pass
        yield fh
    finally:
        fh.close()                                                   # releases the lock


def register_run(run_dir: str | Path, registry: str | Path, cohort_dir: str | Path | None = None) -> dict:
    """Append a run's effect rows to a registry CSV (created with its header when missing).

    Parameters
    ----------
    run_dir : the run folder (its results.json).
    registry : the registry CSV.
    cohort_dir : the cohort folder of the run, for the plan (programme start, anonymity threshold) and the
        codebook (instruments); used only when their SHA-256 equals what results.json recorded. Without it the run
        folder's recorded cohort folder is tried.

    Returns
    -------
    dict with ``status`` (``"appended"`` or ``"already registered"``), ``rows`` (the number appended) and
    ``inputs_sha256``.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> run = pathlib.Path(tempfile.mkdtemp()) / "run"
    >>> run.mkdir()
    >>> row = {"id": "H1", "outcome": "engagement", "estimate": 0.5, "se": 0.2}
    >>> _ = (run / "results.json").write_text(json.dumps({"cohort": "2025", "hypotheses": [row]}), encoding="utf-8")
    >>> [register_run(run, run.parent / "registry.csv")["status"] for _ in range(2)]
    ['appended', 'already registered']
    >>> [(e.study, e.hypothesis, e.estimate) for e in read_registry(run.parent / "registry.csv")]
    [('2025', 'H1', 0.5)]
    """
    from rmstudy.contract.codebook import load_codebook
    from rmstudy.contract.provenance import file_sha256
    from rmstudy.contract.study import load_study

    run_dir, registry = Path(run_dir), Path(registry)
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    if registry.is_dir():
        raise PoolError(Problem(str(registry), "is a folder", "give a CSV file name, e.g. evidence/registry.csv"))
    inputs = results.get("inputs") or {}
    study_p = codebook_p = None
    if cohort_dir is not None:
        cd = Path(cohort_dir)
        if (cd / "study.yaml").is_file() and file_sha256(cd / "study.yaml") == results.get("plan_sha256"):
            study_p = cd / "study.yaml"
        if (cd / "codebook.yaml").is_file() and file_sha256(cd / "codebook.yaml") == inputs.get("codebook.yaml"):
            codebook_p = cd / "codebook.yaml"
    if study_p is None or codebook_p is None:
        s2, c2 = locate_materials(run_dir, results)
        study_p, codebook_p = study_p or s2, codebook_p or c2
    codebook = load_codebook(codebook_p) if codebook_p else None
    study = load_study(study_p, codebook=codebook) if study_p else None
    rows = registry_rows(results, study=study, codebook=codebook)
    ih = inputs_sha256(inputs)
    registry.parent.mkdir(parents=True, exist_ok=True)
    with _locked(registry) as fh:
        fh.seek(0)
        text = fh.read()
        if text.strip():
            header = next(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
            if tuple(header) != REGISTRY_COLUMNS:
                raise PoolError(Problem(registry.name, "is not an rmstudy registry (its header differs: "
                                        f"{', '.join(header[:6])}{', ...' if len(header) > 6 else ''})",
                                        "give a new file name, or a registry written by `rmstudy run --register`"))
            known = {r.get("inputs_sha256") for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))}
            if ih in known:
                return {"status": "already registered", "rows": 0, "inputs_sha256": ih}
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        if not text.strip():
            w.writerow(REGISTRY_COLUMNS)
        elif not text.endswith("\n"):
            out.write("\n")
        for r in rows:
            w.writerow([_cell(c, r[c]) for c in REGISTRY_COLUMNS])
        fh.seek(0, 2)
        fh.write(out.getvalue())
        fh.flush()
    return {"status": "appended", "rows": len(rows), "inputs_sha256": ih}


def read_registry(path: str | Path) -> list[StudyEffect]:
    """The study effects of a registry CSV (every problem reported at once, with its spreadsheet row).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    list of StudyEffect
        ``source="registry"``; :func:`register_run` shows one read back.
    """
    path = Path(path)
    name = path.name
    text = read_csv_text(path, "give a registry written by `rmstudy run --register`")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(header) != REGISTRY_COLUMNS:
        raise PoolError(Problem(name, "is not an rmstudy registry (the header differs)",
                                "give a registry written by `rmstudy run --register`"))
    out, probs = [], []
    for i, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(REGISTRY_COLUMNS):
            probs.append(Problem(name, f"has {len(cells)} cells, the header {len(REGISTRY_COLUMNS)}",
                                 "restore the row as `rmstudy run --register` wrote it", row=i))
            continue
        r = {c: _uncell(v) for c, v in zip(REGISTRY_COLUMNS, cells)}

        def num(col, integer=False, required=False):
            v = r[col].strip()
            if not v:
                if required:
                    probs.append(Problem(name, f"{col} is empty", "restore the value", row=i, column=col))
                return None
            try:
                x = int(v) if integer else float(v)
            except ValueError:
                probs.append(Problem(name, f"'{v[:40]}' is not a number", "restore the value", row=i, column=col))
                return None
            if not integer and not math.isfinite(x):
                probs.append(Problem(name, f"{col} is not finite", "restore the value", row=i, column=col))
                return None
            return x

        def js(col, empty=None):
            v = r[col].strip()
            if not v:
                return empty
            try:
                return json.loads(v)
            except json.JSONDecodeError:
                probs.append(Problem(name, f"{col} is not valid JSON", "restore the value", row=i, column=col))
                return empty

        est, se = num("estimate", required=True), num("se", required=True)
        if se is not None and se <= 0:
            probs.append(Problem(name, "se must be positive", "restore the value", row=i, column="se"))
            se = None
        if r["measure"] not in ("difference_in_change", "log_hazard_ratio"):
            probs.append(Problem(name, f"unknown measure '{r['measure'][:40]}'",
                                 "difference_in_change or log_hazard_ratio", row=i, column="measure"))
            continue
        if est is None or se is None:
            continue
        out.append(StudyEffect(
            study=r["study"] or "run", hypothesis=r["hypothesis"], estimate=est, se=se, source="registry",
            origin=f"{name}:{i}", kind=RETENTION if r["measure"] == "log_hazard_ratio" else "survey",
            outcome=r["outcome"] or None, population=js("population", {}), direction=r["direction"] or None,
            design=r["design"] or None, contrast=js("contrast"), question=r["question"] or None,
            d=num("d_ppc2"), se_d=num("d_ppc2_se"), n_program=num("n_program", True),
            n_control=num("n_control", True), anonymity_threshold=num("anonymity_threshold", True),
            order=r["date"] or (r["run_created"][:10] or None), instrument=js("instrument"),
            plan_sha256=r["plan_sha256"] or None, inputs_sha256=r["inputs_sha256"] or None))
    if probs:
        raise PoolError(probs)
    if not out:
        raise PoolError(Problem(name, "holds no effect rows", "register a run with `rmstudy run ... --register`"))
    return out
