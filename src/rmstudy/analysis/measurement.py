"""Measurement for a whole cohort: reliability, item statistics, flags, reliable change and % favourable, per the
codebook and the plan's populations (notebook 02's one call). The estimators themselves are in
:mod:`rmstudy.stats.reliability` and take arrays and frames only.
"""

from __future__ import annotations

__all__ = ["psychometrics", "measurement_invariance"]

import numpy as np
import pandas as pd

from rmstudy.contract.population import select_population
from rmstudy.stats.invariance import INVARIANCE_COLUMNS, LEVELS, longitudinal_invariance, multigroup_invariance
from rmstudy.stats.reliability import (cronbach_alpha, item_distributions, item_statistics, omega_hierarchical,
                                       percent_favourable, reliability_flags, reliability_table, reliable_change,
                                       single_item_flags)
from rmstudy.stats.scoring import keyed_answers


def psychometrics(cohort, scores: pd.DataFrame, threshold: float | None = None) -> dict:
    """Everything the reports need about measurement, from the codebook alone.

    Parameters
    ----------
    cohort : the (analysis) cohort: participants, responses, codebook and plan.
    scores : scale scores per participant × wave (for reliable change).
    threshold : reliability below which a scale is flagged (default: the plan's ``reliability_threshold``).

    Returns
    -------
    dict
        ``reliability`` (rows per scale × wave × role, with omega_h where a scale has three or more subscales),
        ``items`` (item statistics per cell), ``flags``, ``rci`` (reliable-change counts per arm for each survey
        hypothesis), ``favourable`` (% favourable by scale × wave × arm), ``favourable_by_hypothesis`` (the same in
        each hypothesis's population), ``distributions`` (answers per item × wave × option), ``invariance``
        (:func:`measurement_invariance`) and ``threshold``.
    """
    threshold = cohort.study.reliability_threshold if threshold is None else threshold
    waves = cohort.study.waves
    P = cohort.participants
    table = reliability_table(cohort.responses, P, cohort.codebook, waves)
    has_role = "role" in P.columns                  # optional without pairs or groups (design.mentoring: none)
    keyed = keyed_answers(cohort.responses, cohort.codebook, P, ["role"] if has_role else [], inner=True)
    items, omega_h, heywood = {}, [], []
    for s in cohort.codebook.scales.values():
        for w in waves:
            at = keyed.loc[keyed["wave"] == w, [*s.items, "role"] if has_role else list(s.items)]   # no whole-row copy
            for g in (sorted(P["role"].unique()) if has_role else []) + ["all"]:
                sub = at if g == "all" else at[at["role"] == g]
                x = sub[list(s.items)].dropna(how="all")
                if len(x) >= 3 and s.n_items >= 3:
                    items[(s.name, str(w), g)] = item_statistics(x)
                oh = None
                if len(s.subscales) >= 3 and len(x) > s.n_items:
                    res = omega_hierarchical(x, len(s.subscales))
                    oh = res["omega_h"]
                    if res["heywood"]:
                        heywood.append({"flag": "omega_h_heywood", "scale": s.name, "wave": str(w), "role": g,
                                        "item": None, "value": oh,
                                        "message": f"omega_h of {s.name} at {w} ({g}) rests on a Heywood case: the "
                                                   f"{len(s.subscales)} subscale factors are not identified in these data "
                                                   "(are the subscales distinct?), so omega_h is not trustworthy"})
                omega_h.append(oh)
    table["omega_h"] = omega_h
    table["missing_policy"] = "pairwise covariances (psych::alpha)"
    table["ci_method"] = "Feldt (1965), n = rows with an answer"
    flags = reliability_flags(table, items, threshold=threshold) + heywood + single_item_flags(cohort.codebook)
    rci, favourable_h = {}, {}
    for h in cohort.study.hypotheses:
        if h.is_retention or h.contrast is None:
            continue
        pop = select_population(P, h.population, h.id)
        in_pop = cohort.responses["participant_id"].isin(pop["participant_id"])
        fav = percent_favourable(cohort.responses[in_pop], pop, cohort.codebook, scales=[h.outcome])
        favourable_h[h.id] = fav.to_dict(orient="records")
        scale = cohort.codebook[h.outcome]
        base = keyed[(keyed["wave"] == h.contrast[0]) & keyed["participant_id"].isin(pop["participant_id"])]
        rxx = cronbach_alpha(base[list(scale.items)])["alpha"]
        if not np.isfinite(rxx):
            continue
        _, summary = reliable_change(scores, pop, h.outcome, h.contrast, rxx, h.direction)
        if summary:
            rci[h.id] = summary
    item_rows = [{"scale": k[0], "wave": k[1], "role": k[2], **r} for k, t in items.items()
                 for r in t.to_dict(orient="records")]
    keyed = at = sub = x = base = None    # free the keyed answers (~150 MB at 100,000 people): each call below reads its own
    return {"reliability": table, "items": pd.DataFrame(item_rows), "flags": flags, "rci": rci,
            "favourable": percent_favourable(cohort.responses, P, cohort.codebook), "favourable_by_hypothesis": favourable_h,
            "distributions": item_distributions(cohort.responses, cohort.codebook),
            "invariance": measurement_invariance(cohort), "threshold": threshold}


def measurement_invariance(cohort, min_n: int = 30) -> pd.DataFrame:
    """Configural, metric and scalar invariance of every scale with three or more items: across role and across
    arm at the first wave of the plan, and across the plan's waves (longitudinal), by
    :mod:`rmstudy.stats.invariance` (one-factor CFA, ML, lavaan's conventions).

    Parameters
    ----------
    cohort : the (analysis) cohort: participants, responses, codebook and plan.
    min_n : fewest complete answers a group, or the longitudinal sample, needs.

    Returns
    -------
    One row per scale × across (``role``, ``arm``, ``wave``) × level with the columns ``scale``,
    ``across`` and those of :data:`~rmstudy.stats.invariance.INVARIANCE_COLUMNS`; a comparison that cannot be
    fitted (too few people, one group, a flat item, no convergence) has a ``reason`` and no fit numbers.
    Items are reverse-keyed first (this changes no fit); missing answers are handled listwise.
    """
    P = cohort.participants
    groups = [c for c in ("role", "arm") if c in P.columns]
    keyed = keyed_answers(cohort.responses, cohort.codebook, P, groups, inner=True)
    first = keyed[keyed["wave"].astype(str) == str(cohort.study.waves[0])]
    rows: list[dict] = []
    for s in cohort.codebook.scales.values():
        if s.n_items < 3:
            continue
        for across in ("role", "arm", "wave"):
            if across == "wave":
                t = longitudinal_invariance(keyed, s.items, cohort.study.waves, min_n=min_n)
            elif across in groups:
                t = multigroup_invariance(first, s.items, across, min_n=min_n)
            else:
                t = pd.DataFrame([{"level": lv, "n": 0, "reason": f"participants.csv has no {across} column"}
                                  for lv in LEVELS], columns=INVARIANCE_COLUMNS)
            rows.extend(t.assign(scale=s.name, across=across).to_dict(orient="records"))
    return pd.DataFrame(rows, columns=["scale", "across", *INVARIANCE_COLUMNS])
