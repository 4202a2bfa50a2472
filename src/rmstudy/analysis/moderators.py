"""The plan's moderators of a survey hypothesis: where each moderator's values come from (a participants.csv column or
a codebook scale's score) and its moderation or dose-response model, with the pair partner's value (exploratory),
and the actor–partner model within the programme (own and partner's value together, with the pair or group random
effect; exploratory, unadjusted). The models are :func:`rmstudy.stats.moderation.moderation_analysis` and
:func:`rmstudy.stats.moderation.actor_partner_analysis`.
"""

from __future__ import annotations

__all__ = ["moderator_values", "moderation_for_hypothesis", "actor_partner_for"]

import pandas as pd

from rmstudy.stats.moderation import actor_partner_analysis, moderation_analysis, partner_means, partner_values


def moderator_values(cohort, scores: pd.DataFrame, name: str, base_wave: str) -> tuple[pd.Series, str]:
    """The moderator per participant and where it comes from."""
    if name in cohort.codebook:
        for w in cohort.study.waves[cohort.study.waves.index(base_wave):]:
            v = scores.loc[scores["wave"] == w].set_index("participant_id")[name]
            if v.notna().any():
                src = f"{name} score at {w}" + ("" if w == base_wave else " (measured after baseline: read as a dose)")
                return v.dropna(), src
        return pd.Series(dtype=float), f"{name}: never answered"
    v = pd.to_numeric(cohort.participants.set_index("participant_id")[name], errors="coerce")
    return v.dropna(), f"participants.csv column {name}"


def moderation_for_hypothesis(cohort, scores: pd.DataFrame, analysed: pd.DataFrame, h, alpha: float = 0.05) -> list[dict]:
    """Every moderator the plan names for one survey hypothesis: its moderation (or dose-response) model
    and, for a moderator measured in both arms, the pair partner's baseline value within the programme
    (exploratory)."""
    results = []
    for name in h.moderators:
        values, source = moderator_values(cohort, scores, name, h.contrast[0])
        res = moderation_analysis(analysed, h, values, name, source, alpha=alpha)
        ap = actor_partner_for(cohort, analysed, h, values, name, source, alpha)
        if ap is not None:
            res["actor_partner"] = ap
        results.append(res)
        if res.get("kind") == "moderation":
            results.append(moderation_analysis(analysed, h, partner_values(cohort.participants, values),
                                               f"partner_{name}", f"pair partner's {source} (exploratory)", alpha=alpha))
    return results


def actor_partner_for(cohort, analysed: pd.DataFrame, h, values: pd.Series, name: str, source: str,
                      alpha: float = 0.05) -> dict | None:
    """The actor–partner model of one moderator within the programme, or ``None`` when the plan's design has no
    pairs or groups (``design.mentoring: none``)."""
    col = cohort.study.design.cluster_column
    P = cohort.participants
    if col is None or col not in P.columns:
        return None
    grouped = P.loc[P[col].astype(str).str.strip().replace("nan", "") != ""]
    groups = grouped.set_index("participant_id")[col].astype(str)
    return actor_partner_analysis(analysed, h, values, partner_means(P, values, col), groups, name,
                                  f"{source}; the partner's value: the {'pair partner' if col == 'pair_id' else 'other group members (mean)'}",
                                  alpha=alpha)
