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

import jsonschema
import yaml

from rmstudy.contract import yamlio
from rmstudy.errors import CohortError, Problem

STUDY_SCHEMA_VERSION = 3
#: how duplicate submissions (two rows for one participant × wave) are resolved; docs/cohort-format.md
DUPLICATE_RULES = ("error", "keep_earliest", "keep_latest", "keep_most_complete")
RETENTION = "retention"


def load_schema(name: str) -> dict:
    """Return a JSON Schema shipped with the package (``study`` or ``results``)."""
    text = resources.files("rmstudy").joinpath("contract", "schemas").joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@dataclass(frozen=True)
class Hypothesis:
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


def parse_study(raw: dict, codebook=None, file: str = "study.yaml") -> Study:
    """Validate a parsed study.yaml mapping and build a :class:`Study`."""
    raw = _jsonable(raw if isinstance(raw, dict) else {})
    version = raw.get("schema_version")
    if version in (1, 2):
        newer = {"reliability_threshold": 2, "duplicate_submissions": 3}
        later = [(k, v) for k, v in newer.items() if k in raw and v > version] + \
            [(f"hypotheses.{i}.cluster", 2) for i, h in enumerate(raw.get("hypotheses") or [])
             if isinstance(h, dict) and "cluster" in h and version < 2]
        if later:
            need = max(v for _, v in later)
            raise CohortError(Problem(file, f"{', '.join(k for k, _ in later)} belong to study.yaml schema_version "
                                      f"{need}, but this plan says {version}",
                                      f"set schema_version: {need} (plans of earlier versions load unchanged under "
                                      f"{need})", column="schema_version"))
    validator = jsonschema.Draft202012Validator(load_schema("study"))
    errors = sorted(validator.iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        probs = []
        for e in errors:
            key = ".".join(str(p) for p in e.absolute_path) or "(top level)"
            probs.append(Problem(file=file, column=key, message=e.message,
                                 fix="see docs/cohort-format.md, section 'study.yaml', for this key"))
        raise CohortError(probs)
    waves = tuple(raw["waves"])
    probs = []
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
    hyps = []
    seen = set()
    for i, h in enumerate(raw["hypotheses"]):
        col = f"hypotheses.{i}"
        if h["id"] in seen:
            probs.append(Problem(file, f"hypothesis id '{h['id']}' is used twice", "give each hypothesis its own id", column=col))
        seen.add(h["id"])
        contrast = tuple(h["contrast"]) if "contrast" in h else None
        if h["outcome"] != RETENTION:
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
        hyps.append(Hypothesis(
            id=h["id"], label=h["label"], outcome=h["outcome"], direction=h["direction"], family=h["family"],
            population=dict(h.get("population", {})), contrast=contrast, sesoi=h.get("sesoi"),
            sesoi_units=units, question=h.get("question", ""),
            covariates=tuple(h.get("covariates", [])), moderators=tuple(h.get("moderators", [])),
            cluster=h.get("cluster"),
        ))
    if probs:
        raise CohortError(probs)
    return Study(
        name=raw["name"], programme_start=start, censor_date=censor, waves=waves, hypotheses=tuple(hyps),
        alpha=float(raw.get("alpha", 0.05)), anonymity_threshold=int(raw.get("anonymity_threshold", 5)),
        low_response_rate=float(raw.get("low_response_rate", 0.6)),
        reliability_threshold=float(raw.get("reliability_threshold", 0.70)),
        horizons_days=tuple(raw.get("retention", {}).get("horizons_days", [182, 365])),
        invited=dict(raw.get("flow", {}).get("invited", {})), comparison_group=raw.get("comparison_group", ""),
        preregistration=raw.get("preregistration", ""), deviations=tuple(raw.get("deviations", [])),
        seed=raw.get("seed"), duplicate_submissions=raw.get("duplicate_submissions", "error"), raw=raw,
    )


def load_study(path: str | Path, codebook=None) -> Study:
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        try:
            raw = yamlio.load(fh)
        except yaml.YAMLError as e:      # a key written twice, or bad syntax; the message names the file, not its path
            kind = yamlio.DuplicateKeyError if isinstance(e, yamlio.DuplicateKeyError) else yaml.YAMLError
            raise kind(yamlio.message(e, path)) from None
    return parse_study(raw, codebook=codebook, file=path.name)
