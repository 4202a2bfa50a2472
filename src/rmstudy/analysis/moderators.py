"""The plan's moderators of a survey hypothesis: where each moderator's values come from (a participants.csv column or
a codebook scale's score) and its moderation or dose-response model, with the pair partner's value (exploratory).
The models are :func:`rmstudy.stats.moderation.moderation_analysis`.
"""

from __future__ import annotations

__all__ = ["moderator_values", "moderation_for_hypothesis"]

import pandas as pd

from rmstudy.stats.moderation import moderation_analysis, partner_values


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
        results.append(res)
        if res.get("kind") == "moderation":
            results.append(moderation_analysis(analysed, h, partner_values(cohort.participants, values),
                                               f"partner_{name}", f"pair partner's {source} (exploratory)", alpha=alpha))
    return results
