"""The planning file (``PLANNING.yaml``): a planned cohort for ``rmstudy power``.

The file is validated against ``contract/schemas/planning.schema.json`` and then checked as a whole (waves named
by effects, contrasts and attrition exist; the variance components are possible; directions agree with the signs of
the effects). Every problem is reported at once, each naming the key and a fix, as :class:`PlanningError`.

The result is a :class:`Plan` whose hypotheses are fully resolved (defaults filled, per-hypothesis overrides applied),
and :meth:`Plan.to_dict` writes it back as a planning mapping that validates against the same schema: OUT.json keeps
it, so a power run can be repeated from its own output. docs/planning.md documents every key.
"""

from __future__ import annotations

__all__ = ["PlanningError", "SurveyHypothesis", "RetentionHypothesis", "Plan", "parse_plan", "load_plan",
           "DEFAULT_RULES", "GROUP_SIZES", "EXAMPLE"]

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import jsonschema
import yaml

from rmstudy.contract import yamlio
from rmstudy.contract.study import load_schema
from rmstudy.errors import Problem, RmstudyError

#: the multiplicity rule of each family in a run (DESIGN.md): Holm, Benjamini-Hochberg, none
DEFAULT_RULES = {"primary": "holm", "secondary": "benjamini_hochberg", "exploratory": "none"}
#: members of one mentoring unit in the programme arm
GROUP_SIZES = {"pairs": 2, "none": 1}
DOCS = "see docs/planning.md for this key"
#: the minimal planning file (docs/planning.md): two waves, one survey hypothesis, complete data
EXAMPLE = {"waves": ["pre", "post"], "n_per_arm": 200, "effect_d": 0.3, "pre_post_correlation": 0.5, "attrition": 0.0,
           "alpha": 0.05, "n_sims": 1000, "seed": 1}


class PlanningError(RmstudyError, ValueError):
    """A planning file that cannot be simulated; carries every problem found.

    Parameters
    ----------
    problems : list of Problem, or Problem
        What is wrong, each naming the file, the key and a fix (kept as ``problems``).

    Examples
    --------
    >>> e = PlanningError(Problem("PLANNING.yaml", "the plan names no effect", "add effect_d", column="(top level)"))
    >>> len(e.problems), str(e).splitlines()[0]
    (1, "1 problem(s) in the plan's input:")
    """

    def __init__(self, problems: list[Problem] | Problem):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        head = f"{len(self.problems)} problem(s) in the plan's input:\n"
        super().__init__(head + "\n".join(f"  - {p}" for p in self.problems))


@dataclass(frozen=True)
class SurveyHypothesis:
    """A survey outcome analysed by the primary LMM; every variance in baseline-SD units (baseline variance 1).

    Attributes
    ----------
    id, family, direction : str
        The hypothesis id, its multiplicity family and the expected direction (``increase`` / ``decrease``).
    effect : tuple of float
        True programme-minus-comparison mean at each wave, minus the baseline's (d; 0 at the first wave).
    contrast : (int, int)
        Indices of the contrast's baseline and later wave.
    rho : float
        Correlation of one person's scores at two waves.
    attrition : tuple of float
        Cumulative share without a score at each wave (0 at the first).
    label, outcome : str
        Display label; the outcome's name.
    sesoi : float or None
        Smallest effect of interest (d): adds the equivalence test.
    share : float
        Share of each arm in the hypothesis's population.
    cluster_size : int
        Programme members per mentoring unit.
    icc, icc_change : float
        Unit intercept variance; share of the change variance shared within a unit.
    mechanism : str
        ``mcar`` or ``mar`` dropout; ``mar_slope``: its log-odds per baseline SD.
    mar_slope, base_diff : float
        See ``mechanism``; the arms' baseline difference (d, nonrandomised designs).

    Examples
    --------
    >>> h = SurveyHypothesis("H1", "primary", "increase", effect=(0.0, 0.1, 0.3), contrast=(0, 2), rho=0.5,
    ...                      attrition=(0.0, 0.1, 0.2))
    >>> h.effect_d, h.expected_sign, h.scaled(0).effect
    (0.3, 1, (0.0, 0.0, 0.0))
    """

    id: str
    family: str
    direction: str
    effect: tuple[float, ...]          # true programme-minus-comparison mean at each wave, minus the baseline's (d)
    contrast: tuple[int, int]          # indices of the contrast's baseline and later wave
    rho: float                         # correlation of one person's scores at two waves
    attrition: tuple[float, ...]       # cumulative share without a score at each wave (0 at the first)
    label: str = ""
    sesoi: float | None = None         # d
    share: float = 1.0
    cluster_size: int = 1
    icc: float = 0.0
    icc_change: float = 0.0
    mechanism: str = "mcar"
    mar_slope: float = -0.5
    base_diff: float = 0.0
    outcome: str = "survey"

    kind = "survey"

    @property
    def expected_sign(self) -> int:
        return 1 if self.direction == "increase" else -1

    @property
    def effect_d(self) -> float:
        """The tested effect: the difference in change between the contrast's waves (d)."""
        return self.effect[self.contrast[1]] - self.effect[self.contrast[0]]

    def scaled(self, factor: float) -> "SurveyHypothesis":
        """The same hypothesis with every effect multiplied by ``factor`` (0 gives the null scenario)."""
        return replace(self, effect=tuple(e * factor for e in self.effect))


@dataclass(frozen=True)
class RetentionHypothesis:
    """Time to voluntary exit analysed by Cox PH (exponential hazards, competing involuntary exits).

    Attributes
    ----------
    id, family, direction : str
        The hypothesis id, its multiplicity family and the expected direction (``increase`` = better retention).
    hazard_ratio : float
        True programme vs comparison hazard of voluntary exit.
    label, outcome : str
        Display label; the outcome's name.
    sesoi : float or None
        Smallest hazard ratio of interest: adds the equivalence test.
    share : float
        Share of each arm in the hypothesis's population.
    exit_rate, involuntary_rate : float
        Comparison arm's voluntary and involuntary exits by the end of follow-up (each without the other).
    follow_up_days : int
        Administrative censoring.

    Examples
    --------
    >>> h = RetentionHypothesis("R1", "primary", "increase", hazard_ratio=0.5)
    >>> h.expected_sign, round(h.effect_d, 4), round(h.scaled(0.5).hazard_ratio, 4)
    (-1, -0.6931, 0.7071)
    """

    id: str
    family: str
    direction: str
    hazard_ratio: float
    label: str = ""
    sesoi: float | None = None         # hazard ratio
    share: float = 1.0
    exit_rate: float = 0.2
    involuntary_rate: float = 0.04
    follow_up_days: int = 365
    outcome: str = "retention"

    kind = "retention"

    @property
    def expected_sign(self) -> int:
        """Sign of the log hazard ratio of voluntary exit that the plan expects (increase = better retention)."""
        return -1 if self.direction == "increase" else 1

    @property
    def effect_d(self) -> float:
        return math.log(self.hazard_ratio)

    def scaled(self, factor: float) -> "RetentionHypothesis":
        """The same hypothesis with the log hazard ratio multiplied by ``factor``."""
        return replace(self, hazard_ratio=float(math.exp(factor * math.log(self.hazard_ratio))))


@dataclass(frozen=True)
class Plan:
    """A resolved planning file.

    Attributes
    ----------
    n_per_arm : tuple of int
        The sample sizes to simulate (participants per arm, enrolled).
    hypotheses : tuple
        :class:`SurveyHypothesis` and :class:`RetentionHypothesis` entries.
    waves : tuple of str
        The survey waves, baseline first.
    name : str
        The plan's name.
    alpha : float
        Significance level of the decisions.
    multiplicity : dict
        Family -> rule (``holm``, ``benjamini_hochberg``, ``none``).
    n_sims, seed : int
        Simulations per sample size, and their seed.
    target_power : float
        The power the sample-size search aims at.
    null_scenario : bool
        Also simulate every effect at 0 (type I error).
    design : dict
        Assignment, mentoring and the design's ICCs as resolved.

    Examples
    --------
    >>> plan = parse_plan(EXAMPLE)
    >>> plan.n_per_arm, plan.waves, [h.id for h in plan.hypotheses], plan.hypothesis("H1").effect
    ((200,), ('pre', 'post'), ['H1'], (0.0, 0.3))
    >>> parse_plan(plan.to_dict()) == plan                  # to_dict writes a plan that parses back to itself
    True
    """

    n_per_arm: tuple[int, ...]
    hypotheses: tuple
    waves: tuple[str, ...] = ()
    name: str = "planned cohort"
    alpha: float = 0.05
    multiplicity: dict = field(default_factory=lambda: dict(DEFAULT_RULES))
    n_sims: int = 1000
    seed: int = 1
    target_power: float = 0.8
    null_scenario: bool = True
    design: dict = field(default_factory=dict)

    def hypothesis(self, hid: str):
        for h in self.hypotheses:
            if h.id == hid:
                return h
        raise KeyError(hid)

    def to_dict(self) -> dict:
        """The plan as a planning mapping (every default written out; validates against the schema)."""
        hyps = []
        for h in self.hypotheses:
            d = {"id": h.id, "label": h.label, "outcome": h.outcome, "family": h.family, "direction": h.direction,
                 "population_share": h.share}
            if h.sesoi is not None:
                d["sesoi"] = h.sesoi
            if h.kind == "retention":
                d.update(hazard_ratio=h.hazard_ratio, exit_rate=h.exit_rate, involuntary_rate=h.involuntary_rate,
                         follow_up_days=h.follow_up_days)
            else:
                later = {w: e for w, e in zip(self.waves[1:], h.effect[1:])}
                d.update(effect_d=later, contrast=[self.waves[h.contrast[0]], self.waves[h.contrast[1]]],
                         pre_post_correlation=h.rho, icc=h.icc, icc_change=h.icc_change, cluster_size=h.cluster_size,
                         attrition={w: a for w, a in zip(self.waves[1:], h.attrition[1:])},
                         attrition_mechanism=h.mechanism, mar_log_odds_per_sd=h.mar_slope, model="lmm")
            hyps.append({k: v for k, v in d.items() if v != ""})
        out = {"schema_version": 1, "name": self.name, "design": dict(self.design),
               "n_per_arm": list(self.n_per_arm), "alpha": self.alpha, "hypotheses": hyps,
               "multiplicity": dict(self.multiplicity), "n_sims": self.n_sims, "seed": self.seed,
               "target_power": self.target_power, "null_scenario": self.null_scenario}
        if self.waves:
            out["waves"] = list(self.waves)
        return out


def _schema_problems(raw: dict, file: str) -> list[Problem]:
    validator = jsonschema.Draft202012Validator(load_schema("planning"))
    probs = []
    for e in sorted(validator.iter_errors(raw), key=lambda e: list(e.absolute_path)):
        key = ".".join(str(p) for p in e.absolute_path) or "(top level)"
        probs.append(Problem(file, e.message if len(e.message) < 300 else e.message[:300] + " ...", DOCS, column=key))
    return probs


def _per_wave(value, waves, col, file, probs, what, monotone=False) -> tuple[float, ...]:
    """A number (every later wave; attrition: the last, earlier ones in proportion) or a mapping wave -> value."""
    later = waves[1:]
    if isinstance(value, (int, float)):
        if monotone:                             # attrition: cumulative, growing linearly to the last wave
            return (0.0,) + tuple(float(value) * (k + 1) / len(later) for k in range(len(later)))
        return (0.0,) + tuple(float(value) for _ in later)
    bad = [w for w in value if w not in later]
    if bad:
        probs.append(Problem(file, f"{what} names {bad}, which {'is' if len(bad) == 1 else 'are'} not a later wave "
                             f"of {list(waves)}", f"use later waves only ({later}); the baseline '{waves[0]}' has none",
                             column=col))
    out = (0.0,) + tuple(float(value.get(w, 0.0)) for w in later)
    if monotone:
        filled, last = [0.0], 0.0
        for w, a in zip(later, out[1:]):
            if w not in value:               # a wave not named keeps the share of the wave before it
                a = last
            if a < last:
                probs.append(Problem(file, f"{what} falls from {last} to {a} at wave '{w}'; dropout is cumulative "
                                     "(once gone, gone)", "give the share missing at each wave, never smaller than "
                                     "at the wave before", column=col))
            filled.append(a)
            last = max(last, a)
        out = tuple(filled)
    return out


def _components(raw: dict, h: dict, col: str, file: str, probs: list) -> tuple[float, float]:
    """(rho, icc) from pre_post_correlation/variance_components and the design's icc, with the hypothesis's overrides."""
    design = raw.get("design", {})
    vc = raw.get("variance_components")
    if "pre_post_correlation" in raw and vc is not None:
        probs.append(Problem(file, "both pre_post_correlation and variance_components are given",
                             "keep one of them", column="variance_components"))
    if vc is not None:
        total = vc.get("cluster", 0.0) + vc["participant"] + vc["residual"]
        rho, icc = (vc.get("cluster", 0.0) + vc["participant"]) / total, vc.get("cluster", 0.0) / total
        if "cluster" in vc and "icc" in design:
            probs.append(Problem(file, "variance_components.cluster and design.icc both set the pair/group share",
                                 "keep one of them", column="design.icc"))
    else:
        rho, icc = raw.get("pre_post_correlation"), 0.0
    icc = design.get("icc", icc)
    rho, icc = h.get("pre_post_correlation", rho), h.get("icc", icc)
    if rho is None:
        probs.append(Problem(file, f"{h['id']} is a survey outcome but the plan gives no pre_post_correlation",
                             "add pre_post_correlation (e.g. 0.6) or variance_components", column=col))
        return 0.5, 0.0
    if icc > rho + 1e-12:
        probs.append(Problem(file, f"{h['id']}: icc {icc:g} exceeds pre_post_correlation {rho:g}; a pair/group "
                             "intercept that lasts over the waves is part of the correlation of one person's scores",
                             "lower icc or raise pre_post_correlation", column=col))
    return float(rho), float(icc)


def _direction(h: dict, effect: float, col: str, file: str, probs: list, retention: bool) -> str:
    implied = None
    if effect != 0:
        implied = ("increase" if effect < 0 else "decrease") if retention else ("increase" if effect > 0 else "decrease")
    given = h.get("direction")
    if given and implied and given != implied:
        what = f"hazard ratio {h['hazard_ratio']:g}" if retention else f"effect_d {effect:g}"
        probs.append(Problem(file, f"{h['id']}: direction '{given}' contradicts its {what}",
                             "write the effect with the sign the plan expects (programme minus comparison), or drop "
                             "direction: it follows from the sign", column=col + ".direction"))
    return given or implied or "increase"


def _survey(raw, h, col, file, probs, waves, default_cluster) -> SurveyHypothesis:
    if "hazard_ratio" in h:
        probs.append(Problem(file, f"{h['id']} is a survey outcome; hazard_ratio is for retention",
                             "use effect_d, or outcome: retention", column=col + ".hazard_ratio"))
    if "effect_d" not in h:
        probs.append(Problem(file, f"{h['id']} has no effect_d", "add effect_d (d on the baseline SD; 0 for none)",
                             column=col))
    effect = _per_wave(h.get("effect_d", 0.0), waves, col + ".effect_d", file, probs, "effect_d")
    contrast = h.get("contrast", [waves[0], waves[-1]])
    bad = [w for w in contrast if w not in waves]
    if bad or (not bad and waves.index(contrast[0]) >= waves.index(contrast[1])):
        probs.append(Problem(file, f"contrast of {h['id']} {contrast} is not an earlier and a later wave of "
                             f"{list(waves)}", "write the baseline wave first, then a later wave",
                             column=col + ".contrast"))
        contrast = [waves[0], waves[-1]]
    ci = (waves.index(contrast[0]), waves.index(contrast[1]))
    if "attrition" not in h and "attrition" not in raw:
        probs.append(Problem(file, f"{h['id']} is a survey outcome but the plan gives no attrition",
                             "add attrition: the share without a score at the last wave (0 for none)", column=col))
    attrition = _per_wave(h.get("attrition", raw.get("attrition", 0.0)), waves, col + ".attrition", file, probs,
                          "attrition", monotone=True)
    rho, icc = _components(raw, h, col, file, probs)
    design = raw.get("design", {})
    share = float(h.get("population_share", 1.0))
    return SurveyHypothesis(
        id=h["id"], label=h.get("label", ""), outcome=h.get("outcome", "survey"), family=h.get("family", "primary"),
        direction=_direction(h, effect[ci[1]] - effect[ci[0]], col, file, probs, False), effect=effect, contrast=ci,
        rho=rho, attrition=attrition, sesoi=h.get("sesoi"), share=share,
        cluster_size=int(h.get("cluster_size", max(1, round(default_cluster * share)))), icc=icc,
        icc_change=float(h.get("icc_change", design.get("icc_change", 0.0))),
        mechanism=h.get("attrition_mechanism", raw.get("attrition_mechanism", "mcar")),
        mar_slope=float(h.get("mar_log_odds_per_sd", raw.get("mar_log_odds_per_sd", -0.5))),
        base_diff=float(design.get("baseline_difference_d", 0.0)))


def _retention(h, col, file, probs) -> RetentionHypothesis:
    for k in ("effect_d", "contrast", "attrition", "pre_post_correlation", "icc", "icc_change", "cluster_size"):
        if k in h:
            probs.append(Problem(file, f"{h['id']} is a retention hypothesis; {k} is for survey outcomes",
                                 f"remove {k}", column=f"{col}.{k}"))
    if "hazard_ratio" not in h:
        probs.append(Problem(file, f"{h['id']} is a retention hypothesis without hazard_ratio",
                             "add hazard_ratio (programme vs comparison hazard of voluntary exit; 1 for none)",
                             column=col))
    hr = float(h.get("hazard_ratio", 1.0))
    if h.get("sesoi") == 1:
        probs.append(Problem(file, f"{h['id']}: a SESOI hazard ratio of 1 gives an empty equivalence band",
                             "use a ratio such as 0.8 or 0.9", column=col + ".sesoi"))
    return RetentionHypothesis(
        id=h["id"], label=h.get("label", ""), family=h.get("family", "primary"),
        direction=_direction(h, math.log(hr), col, file, probs, True), hazard_ratio=hr, sesoi=h.get("sesoi"),
        share=float(h.get("population_share", 1.0)), exit_rate=float(h.get("exit_rate", 0.2)),
        involuntary_rate=float(h.get("involuntary_rate", 0.04)), follow_up_days=int(h.get("follow_up_days", 365)))


def _hypothesis_list(raw: dict, file: str, probs: list) -> list[dict]:
    if "effect_d" in raw and "hypotheses" in raw:
        probs.append(Problem(file, "both effect_d (the one-hypothesis shorthand) and hypotheses are given",
                             "move effect_d into the hypotheses", column="effect_d"))
    if "hypotheses" in raw:
        for k in ("direction", "sesoi"):
            if k in raw:
                probs.append(Problem(file, f"top-level {k} belongs to the effect_d shorthand",
                                     f"write {k} inside each hypothesis", column=k))
        return raw["hypotheses"]
    if "effect_d" not in raw:
        probs.append(Problem(file, "the plan names no effect", "add effect_d (one survey hypothesis) or hypotheses",
                             column="(top level)"))
        return []
    return [{"id": "H1", "effect_d": raw["effect_d"], **{k: raw[k] for k in ("direction", "sesoi") if k in raw}}]


def parse_plan(raw: dict, file: str = "PLANNING.yaml") -> Plan:
    """Validate a parsed planning mapping and resolve it into a :class:`Plan`.

    Parameters
    ----------
    raw : dict
        The planning mapping (docs/planning.md).
    file : str
        The file name that problems name.

    Returns
    -------
    Plan
        Defaults filled, per-hypothesis overrides applied.

    Raises
    ------
    PlanningError
        With every problem found (schema first, then the plan as a whole).

    Examples
    --------
    >>> plan = parse_plan({**EXAMPLE, "attrition": 0.2, "n_per_arm": [100, 200]})
    >>> plan.n_per_arm, plan.hypotheses[0].attrition, plan.multiplicity["primary"]
    ((100, 200), (0.0, 0.2), 'holm')
    >>> try:
    ...     parse_plan({**EXAMPLE, "effect_d": -0.3, "direction": "increase"})
    ... except PlanningError as e:
    ...     print(e.problems[0].message)
    H1: direction 'increase' contradicts its effect_d -0.3
    """
    if not isinstance(raw, dict):
        raise PlanningError(Problem(file, "the planning file is not a mapping of keys to values",
                                    "start from the minimal example in docs/planning.md"))
    probs = _schema_problems(raw, file)
    if probs:
        raise PlanningError(probs)
    design = dict(raw.get("design", {}))
    if design.get("baseline_difference_d", 0) and design.get("assignment", "nonrandomised") != "nonrandomised":
        probs.append(Problem(file, f"a {design['assignment']} design has no baseline difference between the arms",
                             "remove baseline_difference_d or set assignment: nonrandomised",
                             column="design.baseline_difference_d"))
    mentoring = design.get("mentoring", "pairs")
    default_cluster = GROUP_SIZES.get(mentoring, design.get("group_size", 4))
    waves = tuple(raw.get("waves", ()))
    n_per_arm = tuple(raw["n_per_arm"]) if isinstance(raw["n_per_arm"], list) else (raw["n_per_arm"],)
    hyps, seen = [], set()
    for i, h in enumerate(_hypothesis_list(raw, file, probs)):
        col = f"hypotheses.{i}" if "hypotheses" in raw else "effect_d"
        if h["id"] in seen:
            probs.append(Problem(file, f"hypothesis id '{h['id']}' is used twice", "give each its own id", column=col))
        seen.add(h["id"])
        if h.get("outcome") == "retention":
            hyps.append(_retention(h, col, file, probs))
            continue
        if not waves:
            probs.append(Problem(file, f"{h['id']} is a survey outcome but the plan has no waves",
                                 "add waves, e.g. [pre, post]", column="waves"))
            continue
        hyps.append(_survey(raw, h, col, file, probs, waves, default_cluster))
    for h in hyps:
        n_small = min(round(n * h.share) for n in n_per_arm)
        if n_small < 3:
            probs.append(Problem(file, f"{h.id}: {min(n_per_arm)} per arm with population_share {h.share:g} leaves "
                                 f"{n_small} per arm in its population", "plan at least 3 per arm in each population",
                                 column="n_per_arm"))
    if probs:
        raise PlanningError(probs)
    return Plan(name=raw.get("name", "planned cohort"), waves=waves, n_per_arm=n_per_arm, hypotheses=tuple(hyps),
                alpha=float(raw.get("alpha", 0.05)), multiplicity={**DEFAULT_RULES, **raw.get("multiplicity", {})},
                n_sims=int(raw.get("n_sims", 1000)), seed=int(raw.get("seed", 1)),
                target_power=float(raw.get("target_power", 0.8)), null_scenario=bool(raw.get("null_scenario", True)),
                design={"assignment": design.get("assignment", "nonrandomised"), "mentoring": mentoring,
                        **({"group_size": default_cluster} if mentoring == "groups" else {}),
                        **{k: design[k] for k in ("icc", "icc_change", "baseline_difference_d") if k in design}})


def load_plan(path: str | Path) -> Plan:
    """Read and resolve a planning YAML file (a key written twice is refused, as in study.yaml).

    Parameters
    ----------
    path : str or Path
        The planning file.

    Returns
    -------
    Plan
        As :func:`parse_plan` resolves it.

    Raises
    ------
    PlanningError
        For a file that cannot be read or parsed, or a plan with problems.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = Path(tmp) / "PLANNING.yaml"
    ...     _ = p.write_text(yaml.safe_dump(EXAMPLE), encoding="utf-8")
    ...     load_plan(p).hypotheses[0].effect_d
    0.3
    """
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            raw = yamlio.load(fh)
    except OSError as e:
        raise PlanningError(Problem(path.name, f"cannot read the planning file ({e.strerror})",
                                    "give the path of an existing PLANNING.yaml")) from None
    except yaml.YAMLError as e:
        raise PlanningError(Problem(path.name, yamlio.message(e, path), "fix the YAML syntax")) from None
    except yamlio.UnsafeYamlError as e:      # over 1 MB, anchors/aliases, too deep, not UTF-8 (rmstudy.contract.yamlio)
        raise PlanningError(e.problems) from None
    return parse_plan(raw, file=path.name)
