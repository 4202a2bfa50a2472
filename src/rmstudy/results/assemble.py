"""Recording notebook results and assembling results.json (public contract).

Analysis notebooks call :func:`record` once; the pipeline (or a researcher
running notebooks by hand) calls :func:`assemble_results`, which merges the
records, applies the multiplicity adjustment and decision rule across
families, adds provenance and validates against the shipped JSON Schema.
"""

from __future__ import annotations

__all__ = ["record", "load_records", "assemble_results", "validate_results", "to_jsonable", "load_results",
           "load_or_assemble", "RESULTS_SCHEMA_VERSION"]

import datetime as _dt
import json
from pathlib import Path

import jsonschema

from rmstudy._version import __version__
from rmstudy.analysis.rows import HypothesisRow
from rmstudy.contract.cohort import RUN_INPUT_FILES
from rmstudy.contract.jsonio import to_jsonable, write_json
from rmstudy.contract.provenance import environment, file_sha256, input_hashes
from rmstudy.contract.study import load_schema
from rmstudy.errors import ResultsError
from rmstudy.stats.decisions import finalise_hypotheses

RESULTS_SCHEMA_VERSION = 2


def record(out_dir: str | Path, name: str, payload: dict) -> Path:
    """Write one notebook's results as ``<out_dir>/records/<name>.json``.

    Parameters
    ----------
    out_dir : the run folder. name : the record's name (the notebook's). payload : its results, JSON-able.

    Returns
    -------
    pathlib.Path
        The record written.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp())
    >>> record(out, "01_quality", {"flow": {"enrolled": 12}}).relative_to(out).as_posix()
    'records/01_quality.json'
    >>> load_records(out)
    {'01_quality': {'flow': {'enrolled': 12}}}
    """
    d = Path(out_dir) / "records"
    d.mkdir(parents=True, exist_ok=True)
    return write_json(payload, d / f"{name}.json")


def load_records(out_dir: str | Path) -> dict:
    """The notebook records of a run folder, by name (see :func:`record`).

    Parameters
    ----------
    out_dir : the run folder.

    Returns
    -------
    dict
        ``{name: record}`` in name order; empty when nothing was recorded.

    Examples
    --------
    >>> import tempfile
    >>> load_records(tempfile.mkdtemp())
    {}
    """
    d = Path(out_dir) / "records"
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(d.glob("*.json"))}


def validate_results(results: dict) -> None:
    """Raise ``jsonschema.ValidationError`` when results do not meet the schema.

    Parameters
    ----------
    results : a results.json mapping.

    Examples
    --------
    >>> try:
    ...     validate_results({"schema_version": RESULTS_SCHEMA_VERSION})
    ... except jsonschema.ValidationError as e:
    ...     print(e.validator)
    required
    """
    jsonschema.Draft202012Validator(load_schema("results")).validate(results)


def assemble_results(out_dir: str | Path, cohort, parameters: dict, created: str | None = None,
                     checks: list[dict] | None = None) -> dict:
    """Merge the notebook records into results.json, validate and write it; return the results mapping.

    The records' hypothesis rows are read back as typed rows (:class:`~rmstudy.analysis.rows.HypothesisRow`: a row
    that is not one raises ResultsError), completed by :func:`~rmstudy.stats.decisions.finalise_hypotheses`
    (multiplicity within families, decisions) and written in the plan's order.

    Parameters
    ----------
    out_dir : the run folder holding ``records/``. cohort : the loaded cohort (plan, name, folder).
    parameters : the run's parameters, recorded as they are. created : the timestamp (default: now, UTC).
    checks : ``rmstudy validate``'s warnings by check (:func:`rmstudy.checks.quality.warnings_by_check`), recorded
        as ``flow.checks``; None leaves it out.

    Returns
    -------
    dict
        The results mapping, JSON-ready and schema-valid, also written to ``<out_dir>/results.json``.
    """
    out_dir = Path(out_dir)
    recs = load_records(out_dir)
    rows, sections = [], {}
    flow = None
    reliability = []
    for name, rec in recs.items():
        rows.extend(HypothesisRow.from_dict(r) for r in rec.get("hypotheses", []))
        if "flow" in rec:
            flow = rec["flow"]
        if "reliability" in rec:
            reliability = rec["reliability"]
        for key in ("descriptives", "models", "retention", "baseline", "attrition", "power", "psychometrics", "sensitivity", "moderation"):
            if key in rec:
                sections.setdefault(key, {}).update(rec[key])
    if flow is None:
        raise ResultsError(f"no participant-flow record in {out_dir.name}/records: run the data-quality notebook first")
    if checks is not None:
        flow = {**flow, "checks": checks}
    hyps = finalise_hypotheses(rows, cohort.study)
    root = cohort.root
    results = {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "cohort": cohort.name,
        "rmstudy_version": __version__,
        "created": created or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "inputs": input_hashes(root, RUN_INPUT_FILES),
        "plan_sha256": file_sha256(root / "study.yaml"),
        "parameters": parameters,
        "environment": environment(),
        "flow": flow,
        "reliability": reliability,
        "hypotheses": [r.to_dict() for r in hyps],
        **sections,
    }
    results = to_jsonable(results)
    from rmstudy.planning.from_run import next_cohort    # the reports' next-cohort sizes: the planner's, computed once
    results["next_cohort"] = to_jsonable(next_cohort(results))
    validate_results(results)
    write_json(results, out_dir / "results.json", convert=False)
    return results


def load_results(out_dir: str | Path) -> dict:
    """Read ``<out_dir>/results.json``.

    Parameters
    ----------
    out_dir : the run folder.

    Returns
    -------
    dict
        The results mapping.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp())
    >>> _ = write_json({"cohort": "demo"}, out / "results.json")
    >>> load_results(out)
    {'cohort': 'demo'}
    """
    return json.loads((Path(out_dir) / "results.json").read_text(encoding="utf-8"))


def load_or_assemble(out_dir: str | Path, cohort_dir: str | Path) -> dict:
    """results.json of a run folder; when a researcher ran the analysis notebooks by
    hand (so no pipeline assembled it), assemble it from their records first (with the validate warnings by
    check of a validation.json that ``rmstudy validate --json`` wrote into the run folder, if there is one).

    Parameters
    ----------
    out_dir : the run folder. cohort_dir : the cohort folder, loaded only when results.json must be assembled.

    Returns
    -------
    dict
        The results mapping.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp())
    >>> _ = write_json({"cohort": "demo"}, out / "results.json")
    >>> load_or_assemble(out, "not/read")["cohort"]           # there already: read, the cohort is not loaded
    'demo'
    """
    out_dir = Path(out_dir)
    path = out_dir / "results.json"
    if path.exists():
        return load_results(out_dir)
    from rmstudy.contract.cohort import load_cohort

    from rmstudy.checks.quality import read_warnings_by_check

    params = {"cohort_dir": str(cohort_dir), "out_dir": str(out_dir)}
    return assemble_results(out_dir, load_cohort(cohort_dir), parameters=params,
                            checks=read_warnings_by_check(out_dir / "validation.json"))
