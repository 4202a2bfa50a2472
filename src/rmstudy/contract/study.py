"""The study plan (``study.yaml``): waves, dates, thresholds and hypotheses.

The plan is validated against the JSON Schema shipped in
``rmstudy/schemas/study.schema.json`` and then checked against the codebook
(every outcome must be a scale or ``retention``).
"""

from __future__ import annotations

__all__ = ["Hypothesis", "Study", "load_study", "parse_study", "STUDY_SCHEMA_VERSION", "load_schema"]

import datetime as _dt
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from rmstudy.contract import yamlio
from rmstudy.contract.design import Design, parse_design
from rmstudy.errors import CohortError, Problem

STUDY_SCHEMA_VERSION = 4
#: how duplicate submissions (two rows for one participant × wave) are resolved; docs/cohort-format.md
DUPLICATE_RULES = ("error", "keep_earliest", "keep_latest", "keep_most_complete")
RETENTION = "retention"


def load_schema(name: str) -> dict:
    """Return a JSON Schema shipped with the package (``study`` or ``results``).

    Parameters
    ----------
    name : str
        The schema's name: the file ``contract/schemas/<name>.schema.json``.

    Returns
    -------
    dict
        The parsed JSON Schema.

    Examples
    --------
    >>> load_schema("study")["type"]
    'object'
    """
    text = resources.files("rmstudy").joinpath("contract", "schemas").joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@dataclass(frozen=True)
class Hypothesis:
    """One hypothesis of the plan (study.yaml ``hypotheses``), as :func:`parse_study` builds it.

    Attributes
    ----------
    id, label, question : str
        Its id (``H1``), its label and the question it answers.
    outcome : str
        A codebook scale, or ``retention``.
    direction : str
        ``increase`` or ``decrease``.
    family : str
        The multiplicity family (``primary``, ...).
    population : dict
        Participant column -> filter (values, or ``min`` / ``max``).
    contrast : (str, str) or None
        Baseline and follow-up wave of a survey outcome.
    sesoi : float or None
        The smallest effect size of interest, in ``sesoi_units`` (``d``, ``raw`` or ``hazard_ratio``).
    covariates, moderators : tuple of str
        participants.csv columns.
    cluster : str or None
        A column to cluster on beyond the mentoring design's.
    model : str
        ``lmm`` or ``mmrm``.

    Examples
    --------
    >>> Hypothesis("H1", "L", "retention", "increase", "primary").expected_sign
    -1
    """

    id: str
    label: str
    outcome: str
    direction: str
    family: str
    population: dict = field(default_factory=dict)
    contrast: tuple[str, str] | None = None
    sesoi: float | None = None
    sesoi_units: str = "d"
    question: str = ""
    covariates: tuple[str, ...] = ()
    moderators: tuple[str, ...] = ()
    cluster: str | None = None
    #: ``lmm`` (random intercept, the default) or ``mmrm`` (schema_version 4)
    model: str = "lmm"

    @property
    def is_retention(self) -> bool:
        return self.outcome == RETENTION

    @property
    def expected_sign(self) -> int:
        """Sign of the estimate the plan expects.

        Survey outcomes: +1 for ``increase``. Retention rows are estimated on the
        log hazard ratio of voluntary exit, so ``increase`` (better retention)
        expects a negative estimate.
        """
        sign = 1 if self.direction == "increase" else -1
        return -sign if self.is_retention else sign


@dataclass(frozen=True)
class Study:
    """The checked plan (study.yaml), as :func:`parse_study` builds it; defaults are the schema's.

    Attributes
    ----------
    name : str
    programme_start, censor_date : datetime.date
    waves : tuple of str
        The survey waves, in order.
    hypotheses : tuple of Hypothesis
    alpha, low_response_rate, reliability_threshold : float
    anonymity_threshold : int
        The smallest group a report may show.
    horizons_days : tuple of int
        Retention horizons, days after programme_start.
    invited : dict
        Participant-flow counts (``flow.invited``).
    comparison_group, preregistration : str
    deviations : tuple of dict
        Deviations from the preregistered plan.
    seed : int or None
    duplicate_submissions : str
        One of ``DUPLICATE_RULES``.
    design : Design
    raw : dict
        The plan as read (JSON-able).

    Examples
    --------
    >>> import datetime as dt
    >>> s = Study("x", dt.date(2025, 1, 6), dt.date(2026, 1, 6), ("pre", "post"),
    ...           (Hypothesis("H1", "L", "wellbeing", "increase", "primary"),))
    >>> s.hypothesis("H1").expected_sign, s.alpha, s.design.mentoring
    (1, 0.05, 'pairs')
    """

    name: str
    programme_start: _dt.date
    censor_date: _dt.date
    waves: tuple[str, ...]
    hypotheses: tuple[Hypothesis, ...]
    alpha: float = 0.05
    anonymity_threshold: int = 5
    low_response_rate: float = 0.6
    reliability_threshold: float = 0.70
    horizons_days: tuple[int, ...] = (182, 365)
    invited: dict = field(default_factory=dict)
    comparison_group: str = ""
    preregistration: str = ""
    deviations: tuple[dict, ...] = ()
    seed: int | None = None
    duplicate_submissions: str = "error"
    #: ``design.assignment`` and ``design.mentoring`` (schema_version 4; defaults: the demo's design)
    design: Design = field(default_factory=Design)
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    def hypothesis(self, hid: str) -> Hypothesis:
        for h in self.hypotheses:
            if h.id == hid:
                return h
        raise KeyError(hid)


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (_dt.date, _dt.datetime)):
        return obj.isoformat()[:10]
    return obj


def _check_version(raw: dict, file: str) -> None:
    """Keys of a later schema_version in a plan that names an earlier one."""
    version = raw.get("schema_version")
    if version not in (1, 2, 3):
        return
    newer = {"reliability_threshold": 2, "duplicate_submissions": 3, "design": 4}
    later = [(k, v) for k, v in newer.items() if k in raw and v > version] + \
        [(f"hypotheses.{i}.{key}", need) for i, h in enumerate(raw.get("hypotheses") or [])
         for key, need in (("cluster", 2), ("model", 4)) if isinstance(h, dict) and key in h and version < need]
    if later:
        need = max(v for _, v in later)
        raise CohortError(Problem(file, f"{', '.join(k for k, _ in later)} belong to study.yaml schema_version "
                                  f"{need}, but this plan says {version}",
                                  f"set schema_version: {need} (plans of earlier versions load unchanged under "
                                  f"{need})", column="schema_version"))


def _check_schema(raw: dict, file: str) -> None:
    """The JSON Schema of study.yaml: every violation, each naming its key."""
    validator = jsonschema.Draft202012Validator(load_schema("study"))
    errors = sorted(validator.iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        raise CohortError([Problem(file=file, column=".".join(str(p) for p in e.absolute_path) or "(top level)",
                                   message=_schema_message(e), fix=_schema_fix(validator.schema, e))
                           for e in errors])


def _schema_message(e) -> str:
    """jsonschema's message, without the schema-speak of a failed oneOf/anyOf ("is not valid under any of the given
    schemas"), which names no form the key may take."""
    if e.validator in ("oneOf", "anyOf"):
        return f"{e.instance!r} is not one of the forms this key takes"
    return e.message


def _schema_fix(schema: dict, e) -> str:
    """The description of the nearest schema node above the error (what the key takes), else the docs pointer.

    >>> import jsonschema
    >>> sch = {"type": "object", "properties": {"p": {"type": "object", "description": "a value or a list",
    ...        "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "array"}]}}}}
    >>> e = next(jsonschema.Draft202012Validator(sch).iter_errors({"p": {"x": {"max": 3}}}))
    >>> _schema_message(e), _schema_fix(sch, e)
    ("{'max': 3} is not one of the forms this key takes", "p takes a value or a list (docs/cohort-format.md, section 'study.yaml')")
    """
    node: Any = schema
    found, key = None, None
    path = list(e.absolute_schema_path)
    for i, part in enumerate(path[:-1]):
        while isinstance(node, dict) and part not in node and str(node.get("$ref", "")).startswith("#/"):
            ref = node["$ref"]                              # a local $ref: the path goes on inside its target
            node = schema
            for step in ref[2:].split("/"):
                node = node[step]
        node = node.get(part) if isinstance(node, dict) else node[part] if isinstance(node, list) else None
        if node is None:
            break
        if isinstance(node, dict) and "description" in node:
            found = node["description"]
            key = ".".join(str(p) for p in path[:i + 1] if p not in ("properties", "items", "additionalProperties",
                                                                        "$defs") and not isinstance(p, int))
    docs = "docs/cohort-format.md, section 'study.yaml'"
    return f"{key.rsplit('.', 1)[-1]} takes {found[0].lower()}{found[1:]} ({docs})" if found and key else \
        f"see {docs}, for this key"


def _plan_dates(raw: dict, waves: tuple[str, ...], file: str, probs: list[Problem]) -> tuple[_dt.date, _dt.date]:
    """programme_start and censor_date as dates (raises when one is not a date); their order and the wave
    offsets' names are checked into ``probs``."""
    dates = {}
    for key in ("programme_start", "censor_date"):
        try:
            dates[key] = _dt.date.fromisoformat(raw[key])
        except ValueError:
            probs.append(Problem(file, f"{key} '{raw[key]}' is not a real calendar date", "write a valid YYYY-MM-DD date",
                                 column=key))
    if probs:
        raise CohortError(probs)
    start, censor = dates["programme_start"], dates["censor_date"]
    for w in raw.get("wave_offsets_days", {}):
        if w not in waves:
            probs.append(Problem(file, f"wave_offsets_days names unknown wave '{w}'", f"use waves from {list(waves)}",
                                 column="wave_offsets_days"))
    if censor <= start:
        probs.append(Problem(file, f"censor_date {censor} is not after programme_start {start}",
                             "set the censor date to the end of follow-up", column="censor_date"))
    return start, censor


def _survey_contrast(h: dict, col: str, waves: tuple[str, ...], codebook, file: str, probs: list[Problem]):
    """A survey hypothesis's outcome and contrast (default: first to last wave), problems appended."""
    contrast = tuple(h["contrast"]) if "contrast" in h else None
    if codebook is not None and h["outcome"] not in codebook:
        probs.append(Problem(file, f"outcome '{h['outcome']}' of {h['id']} is not a scale in codebook.yaml",
                             f"use one of {sorted(codebook.scales)} or 'retention'", column=col + ".outcome"))
    if contrast is None:
        if len(waves) < 2:
            probs.append(Problem(file, f"{h['id']} needs two waves to contrast but the plan has one",
                                 "add a second wave", column=col))
        contrast = (waves[0], waves[-1]) if len(waves) >= 2 else None
    if contrast is not None:
        bad = [w for w in contrast if w not in waves]
        if bad:
            probs.append(Problem(file, f"contrast of {h['id']} names unknown wave(s) {bad}",
                                 f"use waves from {list(waves)}", column=col + ".contrast"))
        elif waves.index(contrast[0]) >= waves.index(contrast[1]):
            probs.append(Problem(file, f"contrast of {h['id']} must go from an earlier to a later wave",
                                 "write the baseline wave first", column=col + ".contrast"))
    return contrast


def _sesoi_units(h: dict, col: str, file: str, probs: list[Problem]) -> str:
    """The SESOI's units (hazard ratio for retention, d by default for surveys), checked against the outcome."""
    units = h.get("sesoi_units", "hazard_ratio" if h["outcome"] == RETENTION else "d")
    if h["outcome"] == RETENTION:
        if units != "hazard_ratio":
            probs.append(Problem(file, f"{h['id']} is a retention hypothesis; its SESOI must be a hazard ratio",
                                 "set sesoi_units: hazard_ratio (e.g. sesoi: 0.9)", column=col + ".sesoi_units"))
        if "sesoi" in h and h["sesoi"] == 1:
            probs.append(Problem(file, f"{h['id']}: a SESOI hazard ratio of 1 gives an empty equivalence band",
                                 "use a ratio such as 0.8 or 0.9", column=col + ".sesoi"))
        if "contrast" in h:
            probs.append(Problem(file, f"{h['id']} is a retention hypothesis and takes no wave contrast",
                                 "remove 'contrast' (time runs from programme_start to censor_date)",
                                 column=col + ".contrast"))
    elif units == "hazard_ratio":
        probs.append(Problem(file, f"{h['id']} is a survey hypothesis; hazard_ratio is for retention only",
                             "use sesoi_units: d (standardised) or raw (scale points)", column=col + ".sesoi_units"))
    return units


def _model(h: dict, col: str, file: str, probs: list[Problem]) -> str:
    """The hypothesis's model: ``lmm`` (random intercept, the default) or ``mmrm`` (unstructured covariance over
    the waves); a survey outcome's only (retention is a Cox model)."""
    model = h.get("model", "lmm")
    if "model" in h and h.get("outcome") == RETENTION:
        probs.append(Problem(file, f"{h['id']} is a retention hypothesis (a Cox model); model: {model} is for survey "
                             "outcomes", "remove model from this hypothesis", column=col + ".model"))
    return model


def _hypotheses(raw: dict, waves: tuple[str, ...], codebook, file: str, probs: list[Problem]) -> tuple[Hypothesis, ...]:
    """Every hypothesis of the plan, its problems appended to ``probs``."""
    hyps, seen = [], set()
    for i, h in enumerate(raw["hypotheses"]):
        col = f"hypotheses.{i}"
        if h["id"] in seen:
            probs.append(Problem(file, f"hypothesis id '{h['id']}' is used twice", "give each hypothesis its own id", column=col))
        seen.add(h["id"])
        contrast = None
        if h["outcome"] != RETENTION:
            contrast = _survey_contrast(h, col, waves, codebook, file, probs)
        elif "contrast" in h:
            contrast = tuple(h["contrast"])
        units = _sesoi_units(h, col, file, probs)
        hyps.append(Hypothesis(
            id=h["id"], label=h["label"], outcome=h["outcome"], direction=h["direction"], family=h["family"],
            population=dict(h.get("population", {})), contrast=contrast, sesoi=h.get("sesoi"),
            sesoi_units=units, question=h.get("question", ""),
            covariates=tuple(h.get("covariates", [])), moderators=tuple(h.get("moderators", [])),
            cluster=h.get("cluster"), model=_model(h, col, file, probs),
        ))
    return tuple(hyps)


def parse_study(raw: dict, codebook=None, file: str = "study.yaml") -> Study:
    """Validate a parsed study.yaml mapping and build a :class:`Study`.

    Checks, in order: keys of a later ``schema_version``, the JSON Schema, that the dates are dates, then
    together the dates' order and every hypothesis (outcome in the codebook, contrast of known waves in order,
    SESOI units fitting the outcome).

    Parameters
    ----------
    raw : dict
        The parsed study.yaml mapping.
    codebook : Codebook, optional
        When given, every survey outcome must be one of its scales.
    file : str
        The file name problems name.

    Returns
    -------
    Study

    Raises
    ------
    CohortError
        every problem of the first failing step, each naming its key (``column``) and a fix.

    Examples
    --------
    >>> s = parse_study({"schema_version": 3, "name": "x", "programme_start": "2025-01-06",
    ...                  "censor_date": "2026-01-06", "waves": ["pre", "post"],
    ...                  "hypotheses": [{"id": "H1", "label": "L", "outcome": "wellbeing",
    ...                                  "direction": "increase", "family": "primary"}]})
    >>> s.hypotheses[0].contrast, s.hypotheses[0].sesoi_units, s.alpha
    (('pre', 'post'), 'd', 0.05)
    """
    raw = _jsonable(raw if isinstance(raw, dict) else {})
    _check_version(raw, file)
    _check_schema(raw, file)
    waves = tuple(raw["waves"])
    probs: list[Problem] = []
    start, censor = _plan_dates(raw, waves, file, probs)
    hypotheses = _hypotheses(raw, waves, codebook, file, probs)
    if probs:
        raise CohortError(probs)
    return Study(
        name=raw["name"], programme_start=start, censor_date=censor, waves=waves, hypotheses=hypotheses,
        alpha=float(raw.get("alpha", 0.05)), anonymity_threshold=int(raw.get("anonymity_threshold", 5)),
        low_response_rate=float(raw.get("low_response_rate", 0.6)),
        reliability_threshold=float(raw.get("reliability_threshold", 0.70)),
        horizons_days=tuple(raw.get("retention", {}).get("horizons_days", [182, 365])),
        invited=dict(raw.get("flow", {}).get("invited", {})), comparison_group=raw.get("comparison_group", ""),
        preregistration=raw.get("preregistration", ""), deviations=tuple(raw.get("deviations", [])),
        seed=raw.get("seed"), duplicate_submissions=raw.get("duplicate_submissions", "error"),
        design=parse_design(raw.get("design")), raw=raw,
    )


def load_study(path: str | Path, codebook=None) -> Study:
    """Read and check a study.yaml (:func:`parse_study`), against ``codebook`` when given.

    Parameters
    ----------
    path : str or Path
        The study.yaml file.
    codebook : Codebook, optional
        Checks every survey outcome is one of its scales.

    Returns
    -------
    Study

    Examples
    --------
    >>> s = load_study("data/demo/study.yaml")
    >>> len(s.hypotheses), s.alpha, s.waves
    (8, 0.05, ('pre', 'post'))
    """
    path = Path(path)
    raw = yamlio.load_path(path)      # a key written twice, or bad syntax: the message names the file, not its path
    return parse_study(raw, codebook=codebook, file=path.name)
