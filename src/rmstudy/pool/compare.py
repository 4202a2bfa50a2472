"""Which study effects may be pooled together, and on which scale.

Effects are grouped by hypothesis id (``match="id"``) or by outcome and population (``match="outcome"``: the same
question under other ids in other plans). Within a group the *reference* plan is the most common combination of
outcome, population, direction and design (ties: the first study's). A study whose plan differs from it in any of
these is left out, with the reason — its effect answers another question:

* another outcome (another construct);
* another population (e.g. juniors vs everyone, or an age limit of 30 vs 35);
* another expected direction (``increase`` vs ``decrease``);
* another design (a single-arm within-arm change is not a programme-minus-control effect);
* the instrument scored the other way round (``higher_is`` differs where both codebooks say it).

The common scale (``scale="auto"``): the log hazard ratio for retention; for survey outcomes the raw difference in
change (scale points) when every study's instrument is known and identical (same items, response range and
reverse keys), d_ppc2 otherwise. ``scale="d"`` always uses d_ppc2; ``scale="raw"`` leaves out the studies whose
instrument differs from the reference's or is unknown. Published effects are pooled as given.
"""

from __future__ import annotations

__all__ = ["Group", "group_effects", "MEASURES", "population_words"]

import json
from collections import Counter
from dataclasses import dataclass, field

from rmstudy.pool.sources import RETENTION, StudyEffect, canonical_population

#: measure -> (what the estimate is, its units in words)
MEASURES = {
    "difference_in_change": "scale points (programme minus comparison, change from the baseline wave)",
    "d_ppc2": "d_ppc2 (standardised difference in change, Morris 2008)",
    "log_hazard_ratio": "log hazard ratio of voluntary exit (programme vs comparison)",
    "as_given": "the published effect's own scale",
}


@dataclass
class Group:
    """The studies pooled together for one key, on one scale.

    Attributes
    ----------
    key, measure, scale_reason : str
        The hypothesis (or outcome) key, the scale (a key of ``MEASURES``) and why that scale.
    effects : list of StudyEffect
    yi, sei : list of float
        The estimates and their SEs on that scale, in the order of ``effects``.
    notes : list of str

    Examples
    --------
    >>> from rmstudy.pool.sources import StudyEffect
    >>> e = StudyEffect("Smith 2021", "all", 0.3, 0.1, source="effects", origin="effects.csv:2")
    >>> g = Group("all", "as_given", "published effects", [e], [0.3], [0.1])
    >>> g.first.study, MEASURES[g.measure]
    ('Smith 2021', "the published effect's own scale")
    """

    key: str
    measure: str
    scale_reason: str
    effects: list[StudyEffect]
    yi: list[float] = field(default_factory=list)
    sei: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def first(self) -> StudyEffect:
        return self.effects[0]


def population_words(pop: dict | None) -> str:
    """A population filter in words: ``role junior; age up to 35`` (``everyone`` for an empty filter).

    Parameters
    ----------
    pop : dict or None
        A hypothesis' population filter.

    Returns
    -------
    str

    Examples
    --------
    >>> population_words({"role": "junior", "age": {"max": 35}})
    'age up to 35; role junior'
    >>> population_words({"grade": ["A", "B"], "age": {"min": 25, "max": 35}}), population_words(None)
    ('age 25 to 35; grade A or B', 'everyone')
    """
    parts = []
    for k, v in sorted((pop or {}).items()):
        if isinstance(v, dict) and set(v) <= {"min", "max"}:
            rng = " to ".join(f"{v[b]:g}" if isinstance(v[b], (int, float)) else str(v[b]) for b in ("min", "max")
                              if b in v)
            parts.append(f"{k} {'from ' if set(v) == {'min'} else 'up to ' if set(v) == {'max'} else ''}{rng}")
        else:
            vals = v if isinstance(v, (list, tuple)) else [v]
            parts.append(f"{k} {' or '.join(str(x) for x in vals)}")
    return "; ".join(parts) or "everyone"


def _signature(e: StudyEffect) -> tuple:
    return (e.outcome, canonical_population(e.population), e.direction, e.design)


def _differences(e: StudyEffect, ref: StudyEffect) -> list[str]:
    why = []
    if e.outcome != ref.outcome:
        why.append(f"another outcome ('{e.outcome}' vs '{ref.outcome}')")
    if canonical_population(e.population) != canonical_population(ref.population):
        why.append(f"another population ({json.dumps(e.population, ensure_ascii=False)} vs "
                   f"{json.dumps(ref.population, ensure_ascii=False)})")
    if e.direction != ref.direction:
        why.append(f"another expected direction ({e.direction} vs {ref.direction})")
    if e.design != ref.design:
        why.append(f"another design ({e.design} vs {ref.design})")
    return why


def _same_instrument(a: dict, b: dict) -> bool:
    keys = ("items", "min", "max", "reverse")
    return all(a.get(k) == b.get(k) for k in keys)


def _instrument_words(a: dict, b: dict) -> str:
    parts = []
    if (a["min"], a["max"]) != (b["min"], b["max"]):
        parts.append(f"response range {a['min']:g}-{a['max']:g} vs {b['min']:g}-{b['max']:g}")
    if a["items"] != b["items"]:
        parts.append(f"{len(a['items'])} vs {len(b['items'])} items" if len(a["items"]) != len(b["items"])
                     else "other item codes")
    if a["reverse"] != b["reverse"]:
        parts.append("other reverse-keyed items")
    return ", ".join(parts) or "another instrument"


def group_effects(effects: list[StudyEffect], match: str = "id", scale: str = "auto") -> tuple[list[Group], list[dict]]:
    """Group the effects, leave out the incomparable ones and choose each group's scale.

    Parameters
    ----------
    effects : list of StudyEffect
    match : str
        Group by hypothesis ``id`` or by ``outcome`` (and population).
    scale : str
        ``auto``, ``raw`` or ``d`` (module docstring).

    Returns
    -------
    groups : one :class:`Group` per key with at least one study, in first-seen order; ``yi``/``sei`` hold the
        estimates on the chosen scale.
    excluded : one ``{study, hypothesis, origin, reason}`` per effect left out.
    """
    if match not in ("id", "outcome"):
        raise ValueError(f"match must be 'id' or 'outcome', not {match!r}")
    if scale not in ("auto", "raw", "d"):
        raise ValueError(f"scale must be 'auto', 'raw' or 'd', not {scale!r}")
    by_key: dict[str, list[StudyEffect]] = {}
    for e in effects:
        if match == "outcome" and e.outcome is not None:
            key = e.outcome if not e.population else f"{e.outcome} ({population_words(e.population)})"
        else:
            key = e.hypothesis
        by_key.setdefault(key, []).append(e)
    groups, excluded = [], []

    def leave_out(e: StudyEffect, key: str, reason: str):
        excluded.append({"study": e.study, "hypothesis": key, "origin": e.origin, "reason": reason})

    for key, es in by_key.items():
        published = [e for e in es if e.kind == "published"]
        planned = [e for e in es if e.kind != "published"]
        if published and planned:              # a registry or run never mixes with bare published rows
            for e in published:
                leave_out(e, key, "a published effect without a plan cannot be checked against the runs' plans")
            es = planned
        if planned:
            counts = Counter(_signature(e) for e in es)
            top = max(counts.values())
            ref = next(e for e in es if counts[_signature(e)] == top)
            keep = []
            for e in es:
                why = _differences(e, ref)
                if not why and e.instrument and ref.instrument and e.instrument["higher_is"] \
                        and ref.instrument["higher_is"] and e.instrument["higher_is"] != ref.instrument["higher_is"]:
                    why.append(f"the scale runs the other way (higher is '{e.instrument['higher_is']}' vs "
                               f"'{ref.instrument['higher_is']}')")
                if why:
                    leave_out(e, key, "; ".join(why))
                else:
                    keep.append(e)
            es = keep
        runs: dict[str, StudyEffect] = {}
        once = []
        for e in es:      # one run answers each question once: given twice (a folder and a registry row), or two
            first = runs.get(e.inputs_sha256) if e.inputs_sha256 else None   # ids paired by match="outcome"
            if first is not None:
                leave_out(e, key, f"the same run (the same input files) as {first.study} from {first.origin}, "
                                  f"hypothesis {first.hypothesis}: counted once")
            else:
                if e.inputs_sha256:
                    runs[e.inputs_sha256] = e
                once.append(e)
        es = once
        # unique labels within the group
        seen = Counter(e.study for e in es)
        for e in es:
            if seen[e.study] > 1:
                e.study = f"{e.study} ({(e.inputs_sha256 or e.origin)[:7]})"
        g = _choose_scale(key, es, scale, leave_out)
        if g is not None and g.effects:
            groups.append(g)
    return groups, excluded


def _choose_scale(key, es, scale, leave_out) -> Group | None:
    if not es:
        return None
    kind = es[0].kind
    if kind == "published":
        return Group(key, "as_given", "published effects are pooled on the scale they were given", es,
                     [e.estimate for e in es], [e.se for e in es])
    if kind == RETENTION:
        return Group(key, "log_hazard_ratio", "retention is pooled as the log hazard ratio", es,
                     [e.estimate for e in es], [e.se for e in es])
    ref = es[0]
    known = [e for e in es if e.instrument]
    same = len(known) == len(es) and all(_same_instrument(e.instrument, ref.instrument) for e in es)
    if scale == "raw" or (scale == "auto" and same):
        if scale == "raw" and not same:
            keep = []
            for e in es:
                if not e.instrument or not ref.instrument:
                    leave_out(e, key, "--scale raw: this study's instrument is unknown (its codebook.yaml was not "
                                      "found), so scale points cannot be compared")
                elif not _same_instrument(e.instrument, ref.instrument):
                    leave_out(e, key, "--scale raw: another instrument (" + _instrument_words(e.instrument,
                                                                                              ref.instrument) + ")")
                else:
                    keep.append(e)
            es = keep
            if not es:
                return None
        reason = ("every study used the same instrument (items, response range, reverse keys): pooled in scale "
                  "points" if scale == "auto" else "--scale raw: pooled in scale points")
        return Group(key, "difference_in_change", reason, es, [e.estimate for e in es], [e.se for e in es])
    keep = []
    for e in es:
        if e.d is None or e.se_d is None:
            leave_out(e, key, "no d_ppc2 with a confidence interval in this run's results")
        else:
            keep.append(e)
    if not keep:
        return None
    if scale == "d":
        reason = "--scale d: pooled as d_ppc2"
    elif len(known) < len(es):
        reason = ("the instrument of at least one study is unknown (its codebook.yaml was not found with the hash "
                  "results.json recorded): pooled as d_ppc2")
    else:
        other = next(e for e in es if not _same_instrument(e.instrument, ref.instrument))
        reason = (f"the instruments differ ({other.study}: {_instrument_words(other.instrument, ref.instrument)}): "
                  "pooled as d_ppc2")
    return Group(key, "d_ppc2", reason, keep, [e.d for e in keep], [e.se_d for e in keep])
