"""Pool grouped study effects into ``pooled.json`` (public contract; docs/pooling.md).

Per group (hypothesis): the meta-analysis with the chosen method and test (``rmstudy.stats.meta``), the other test
beside it, each study's weight, leave-one-out and cumulative meta-analyses. A group needs two studies; one with a
single study is listed in ``not_pooled``.
"""

from __future__ import annotations

__all__ = ["pool_effects", "pool_sources", "validate_pooled", "write_pooled", "POOLED_SCHEMA_VERSION"]

import datetime as _dt
import math
from pathlib import Path

import jsonschema
import numpy as np

from rmstudy._version import __version__
from rmstudy.contract.jsonio import to_jsonable, write_json
from rmstudy.contract.provenance import file_sha256
from rmstudy.contract.study import load_schema
from rmstudy.errors import Problem
from rmstudy.pool.compare import MEASURES, group_effects
from rmstudy.pool.sources import PoolError, StudyEffect, read_effects_csv, read_run
from rmstudy.stats.meta import cumulative, leave_one_out, meta_analysis

POOLED_SCHEMA_VERSION = 1
_FIT_KEYS = ("k", "method", "test", "estimate", "se", "statistic", "df", "p_value", "ci_low", "ci_high", "tau2",
             "se_tau2", "tau2_ci_low", "tau2_ci_high", "i2", "i2_ci_low", "i2_ci_high", "h2", "h2_ci_low",
             "h2_ci_high", "q", "q_df", "q_p", "pi_low", "pi_high", "pi_df", "pi_type", "s2w", "iterations")
_OTHER_KEYS = ("test", "se", "statistic", "df", "p_value", "ci_low", "ci_high", "pi_low", "pi_high", "pi_df")


def _records(df) -> list[dict]:
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
            for r in df.to_dict(orient="records")]


def _order_key(e: StudyEffect):
    return str(e.order) if e.order is not None else None


def pool_effects(effects: list[StudyEffect], method: str = "REML", test: str | None = None, level: float = 0.95,
                 pi_type: str = "default", match: str = "id", scale: str = "auto", source: str = "runs",
                 inputs: list | None = None, created: str | None = None, control: dict | None = None) -> dict:
    """Group, check and pool study effects; returns the pooled.json mapping (validated against its schema).

    Parameters
    ----------
    effects : study effects (:mod:`rmstudy.pool.sources`).
    method : ``REML`` (default), ``DL`` or ``FE``.
    test : ``knha`` (default) or ``z``; the other one is reported beside it (``other_test``). ``None`` means
        ``knha``, or ``z`` for ``FE`` (Knapp–Hartung is not meant for a fixed-effect model).
    level : confidence level of every interval.
    pi_type : prediction interval, ``default`` (metafor's) or ``riley`` (t, k − 2 df).
    match : group by hypothesis ``id`` or by ``outcome`` (and population).
    scale : ``auto``, ``raw`` or ``d`` (:mod:`rmstudy.pool.compare`).
    source, inputs, created : recorded as they are (``created`` defaults to now, UTC).
    control : options of :func:`rmstudy.stats.meta.meta_analysis`'s fit.

    Returns
    -------
    dict
        The pooled.json mapping: a ``hypotheses`` entry per key with two studies or more, ``excluded``, ``not_pooled``.

    Examples
    --------
    >>> from rmstudy.pool.sources import StudyEffect
    >>> es = [StudyEffect(s, "all", y, se, "effects", f"effects.csv:{i}")
    ...       for i, (s, y, se) in enumerate([("A", 0.3, 0.1), ("B", 0.1, 0.15), ("C", 0.25, 0.12)], start=2)]
    >>> [h] = pool_effects(es, created="2026-01-01T00:00:00Z")["hypotheses"]
    >>> h["k"], h["test"], round(h["estimate"], 3), round(h["ci_low"], 3), round(h["ci_high"], 3), h["tau2"]
    (3, 'knha', 0.242, 0.011, 0.474, 0.0)
    >>> [round(s["weight"], 1) for s in h["studies"]]
    [46.8, 20.8, 32.5]
    >>> pool_effects(es[:1])["not_pooled"][0]["reason"]
    'only one study: nothing to pool'
    """
    if test is None:
        test = "z" if method == "FE" else "knha"
    other = "z" if test == "knha" else "knha"
    groups, excluded = group_effects(effects, match=match, scale=scale)
    hyps, not_pooled = [], []
    opts = {"method": method, "level": level, "control": control}
    for g in groups:
        if len(g.effects) < 2:
            not_pooled.append({"hypothesis": g.key, "k": len(g.effects), "study": g.first.study,
                               "reason": "only one study: nothing to pool"})
        else:
            hyps.append(_pool_group(g, test, other, pi_type, opts))
    pooled = {
        "schema_version": POOLED_SCHEMA_VERSION,
        "rmstudy_version": __version__,
        "created": created or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source": source,
        "inputs": inputs or [],
        "parameters": {"method": method, "test": test, "other_test": other, "level": level, "pi_type": pi_type,
                       "match": match, "scale": scale},
        "hypotheses": hyps,
        "excluded": excluded,
        "not_pooled": not_pooled,
        "lmm_cross_check": None,
    }
    pooled = to_jsonable(pooled)
    validate_pooled(pooled)
    return pooled


def _pool_group(g, test: str, other: str, pi_type: str, opts: dict) -> dict:
    """One pooled.json ``hypotheses`` entry: the fit, the other test, the studies, leave-one-out, cumulative."""
    level = opts["level"]
    yi, sei = np.asarray(g.yi, float), np.asarray(g.sei, float)
    fit = meta_analysis(yi, sei=sei, test=test, pi_type=pi_type, **opts)
    alt = meta_analysis(yi, sei=sei, test=other, pi_type=pi_type, tau2_ci=False, **opts)
    crit = float(_z(level))
    labels = [e.study for e in g.effects]
    orders = [_order_key(e) for e in g.effects]
    dated = all(o is not None for o in orders)
    studies = [{
        "study": e.study, "estimate": float(y), "se": float(s), "ci_low": float(y - crit * s),
        "ci_high": float(y + crit * s), "weight": float(w), "order": _order_key(e), "source": e.source,
        "origin": e.origin, "n_program": e.n_program, "n_control": e.n_control,
        "anonymity_threshold": e.anonymity_threshold, "inputs_sha256": e.inputs_sha256,
        "plan_sha256": e.plan_sha256, "contrast": e.contrast, "notes": list(dict.fromkeys(e.notes)),
    } for e, y, s, w in zip(g.effects, yi, sei, fit["weights"])]
    loo = leave_one_out(yi, sei=sei, study=labels, test=test, **opts)
    cum = cumulative(yi, sei=sei, study=labels, order=orders if dated else None, test=test, **opts)
    f = g.first
    notes = list(fit["notes"]) + g.notes
    if not dated:
        notes.append("not every study has a date or year: the cumulative meta-analysis follows the input order")
    contrasts = {tuple(e.contrast) for e in g.effects if e.contrast}
    if len(contrasts) > 1:
        notes.append("the studies contrast differently named waves: " + "; ".join(" to ".join(c) for c in
                     sorted(contrasts)) + " (check that they are the same points in the programme)")
    hr = None
    if g.measure == "log_hazard_ratio":
        hr = {key: math.exp(fit[key]) if fit[key] is not None and math.isfinite(fit[key]) else None
              for key in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")}
    return {
        "hypothesis": g.key, "question": f.question or None, "label": f.label or None, "outcome": f.outcome,
        "population": f.population, "direction": f.direction, "design": f.design,
        "measure": g.measure, "units": MEASURES[g.measure], "scale_reason": g.scale_reason,
        **{key: fit[key] for key in _FIT_KEYS}, "level": level,
        "other_test": {key: alt[key] for key in _OTHER_KEYS}, "hazard_ratio": hr, "studies": studies,
        "leave_one_out": _records(loo), "cumulative": _records(cum),
        "cumulative_order": "date" if dated else "input order", "notes": notes,
    }


def _z(level: float) -> float:
    from scipy import stats

    return stats.norm.isf((1 - level) / 2)


def validate_pooled(pooled: dict) -> None:
    """Raise ``jsonschema.ValidationError`` when a pooled.json mapping does not meet its schema.

    Parameters
    ----------
    pooled : dict
        A pooled.json mapping (:func:`pool_effects`).

    Examples
    --------
    >>> import jsonschema
    >>> try:
    ...     validate_pooled({"schema_version": 1})
    ... except jsonschema.ValidationError as e:
    ...     print(e.message)
    'rmstudy_version' is a required property
    """
    jsonschema.Draft202012Validator(load_schema("pooled")).validate(pooled)


def write_pooled(pooled: dict, out_dir: str | Path) -> Path:
    """Write ``<out_dir>/pooled.json`` with the one JSON writer of rmstudy (:func:`rmstudy.contract.jsonio.write_json`:
    UTF-8, indent 2, newline at the end; written whole, then renamed).

    Parameters
    ----------
    pooled : dict
    out_dir : str or Path
        Created when missing.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import json, tempfile
    >>> p = write_pooled({"schema_version": 1, "hypotheses": []}, tempfile.mkdtemp())
    >>> p.name, json.loads(p.read_text(encoding="utf-8"))
    ('pooled.json', {'schema_version': 1, 'hypotheses': []})
    """
    return write_json(pooled, Path(out_dir) / "pooled.json")


def pool_sources(run_dirs=(), effects: str | Path | None = None, registry: str | Path | None = None,
                 raw=None, **kwargs) -> dict:
    """Read run folders, an effects CSV and/or a registry CSV, and pool them (:func:`pool_effects`); with ``raw``
    (the cohort folders the runs analysed), add the pooled mixed model's cross-check (:mod:`rmstudy.pool.lmm`).

    Parameters
    ----------
    run_dirs : iterable of str or Path
        Run folders (``rmstudy run``).
    effects, registry : str or Path, optional
        An effects CSV of published studies, a registry CSV.
    raw : list of folders, optional
        The cohort folders the runs analysed.
    **kwargs
        Passed to :func:`pool_effects` (``method``, ``test``, ``match``, ``scale``, ``pi_type``...).

    Returns
    -------
    dict
        The pooled.json mapping. Raises :class:`~rmstudy.pool.sources.PoolError` naming every unreadable input.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "effects.csv"
    >>> _ = p.write_text("study,estimate,se\\nA,0.3,0.1\\nB,0.1,0.15\\nC,0.25,0.12\\n", encoding="utf-8")
    >>> pooled = pool_sources(effects=p, method="DL", test="z")
    >>> pooled["source"], pooled["inputs"][0]["rows"], round(pooled["hypotheses"][0]["estimate"], 3)
    ('effects', 3, 0.242)
    """
    from rmstudy.pool.registry import read_registry

    all_effects: list[StudyEffect] = []
    inputs: list[dict] = []
    problems: list[Problem] = []
    kinds = []
    for d in run_dirs or ():
        try:
            es, info = read_run(d)
        except PoolError as e:
            problems += e.problems
            continue
        all_effects += es
        inputs.append(info)
        kinds.append("runs")
    for path, kind, reader in ((effects, "effects", read_effects_csv), (registry, "registry", read_registry)):
        if path is None:
            continue
        try:
            es = reader(path)
        except PoolError as e:
            problems += e.problems
            continue
        all_effects += es
        inputs.append({"kind": kind, "path": str(path), "sha256": file_sha256(path), "rows": len(es)})
        kinds.append(kind)
    if problems:
        raise PoolError(problems)
    if not all_effects:
        raise PoolError(Problem("rmstudy pool", "no study effects were given",
                                "give run folders, --effects CSV or --registry CSV"))
    source = "+".join(dict.fromkeys(kinds))
    pooled = pool_effects(all_effects, source=source, inputs=inputs, **kwargs)
    if raw:
        from rmstudy.pool.lmm import lmm_cross_check

        pooled["lmm_cross_check"] = to_jsonable(lmm_cross_check(pooled, raw, level=pooled["parameters"]["level"]))
        validate_pooled(pooled)
    return pooled
