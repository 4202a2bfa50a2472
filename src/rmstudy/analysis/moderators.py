"""The plan's moderators of a survey hypothesis: where each moderator's values come from (a participants.csv column or
a codebook scale's score) and its moderation or dose-response model, with the pair partner's value (exploratory),
and the actor–partner model within the programme (own and partner's value together, with the pair or group random
effect; exploratory, unadjusted). The models are :func:`rmstudy.stats.moderation.moderation_analysis` and
:func:`rmstudy.stats.moderation.actor_partner_analysis`.
"""

from __future__ import annotations

__all__ = ["moderator_values", "moderation_for_hypothesis", "actor_partner_for"]

import pandas as pd

from rmstudy.contract.design import mentoring_column
from rmstudy.stats.moderation import actor_partner_analysis, moderation_analysis, partner_means
from rmstudy.contract.cells import blank


def moderator_values(cohort, scores: pd.DataFrame, name: str, base_wave: str) -> tuple[pd.Series, str]:
    """The moderator per participant and where it comes from.

    A codebook scale's score at ``base_wave`` (or, never answered then, at the first later wave that has it: a
    dose), else the participants.csv column of that name (as numbers).

    Parameters
    ----------
    cohort : Cohort
        Read: ``codebook``, ``participants`` and ``study.waves``.
    scores : DataFrame
        :func:`rmstudy.stats.scoring.score_scales` of the cohort's responses.
    name : str
        The moderator the plan names.
    base_wave : str
        The contrast's baseline wave.

    Returns
    -------
    (Series, str)
        The values by ``participant_id`` (missing left out) and their source, in words.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> P = pd.DataFrame({"participant_id": ["a", "b", "c"], "age": ["31", "", "45"]})
    >>> S = pd.DataFrame({"participant_id": ["a", "b", "a"], "wave": ["pre", "pre", "post"],
    ...                   "openness": [None, None, 4.0]})
    >>> c = NS(codebook={"openness": None}, participants=P, study=NS(waves=("pre", "post")))
    >>> v, source = moderator_values(c, S, "age", "pre")
    >>> v.to_dict(), source
    ({'a': 31.0, 'c': 45.0}, 'participants.csv column age')
    >>> moderator_values(c, S, "openness", "pre")[1]
    'openness score at post (measured after baseline: read as a dose)'
    """
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
    and, for a moderator measured in both arms, the partner's value within the programme (the pair partner's, or
    the other group members' mean; none when the plan's design has no pairs or groups), exploratory.

    Parameters
    ----------
    cohort : Cohort
    scores : DataFrame
        :func:`rmstudy.stats.scoring.score_scales` of the cohort's responses.
    analysed : DataFrame
        The hypothesis's analysed rows (``participant_id, arm, wave, score``).
    h : Hypothesis
        A survey hypothesis (its ``moderators`` and ``contrast``).
    alpha : float

    Returns
    -------
    list of dict
        One result of :func:`rmstudy.stats.moderation.moderation_analysis` per moderator (with its
        ``actor_partner`` model when the design has pairs or groups), each followed, for a ``moderation`` model,
        by the partner's (when the design has pairs or groups).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> from rmstudy.contract.design import Design
    >>> from rmstudy.contract.study import Hypothesis
    >>> ids = [f"p{i}" for i in range(12)]
    >>> P = pd.DataFrame({"participant_id": ids, "arm": ["program"] * 6 + ["control"] * 6,
    ...                   "pair_id": ["a", "a", "b", "b", "c", "c"] + [""] * 6,
    ...                   "age": [25, 52, 31, 47, 28, 58, 33, 41, 29, 55, 38, 44]})
    >>> c = NS(codebook={}, participants=P, study=NS(waves=("pre", "post"), design=Design()))
    >>> h = Hypothesis("H1", "L", "wellbeing", "increase", "primary", contrast=("pre", "post"), moderators=("age",))
    >>> A = pd.DataFrame({"participant_id": ids * 2, "arm": list(P["arm"]) * 2, "wave": ["pre"] * 12 + ["post"] * 12,
    ...                   "score": [3.0, 3.2, 2.8, 3.1, 3.0, 2.9, 3.3, 3.1, 3.1, 3.2, 2.9, 3.2,
    ...                             3.6, 3.9, 3.4, 3.9, 3.5, 3.8, 3.3, 3.2, 3.0, 3.3, 3.0, 3.2]})
    >>> res = moderation_for_hypothesis(c, None, A, h)
    >>> [(r["moderator"], r["kind"], r["estimable"]) for r in res], res[0]["n_participants"]
    ([('age', 'moderation', True), ('partner_age', 'dose_response', False)], 12)
    >>> res[0]["actor_partner"]["estimable"]      # three pairs: too few for the actor-partner model
    False
    """
    results = []
    col = mentoring_column(cohort.study.design, cohort.participants.columns)   # None: no partner of any kind
    for name in h.moderators:
        values, source = moderator_values(cohort, scores, name, h.contrast[0])
        res = moderation_analysis(analysed, h, values, name, source, alpha=alpha)
        ap = actor_partner_for(cohort, analysed, h, values, name, source, alpha)
        if ap is not None:
            res["actor_partner"] = ap
        results.append(res)
        if res.get("kind") == "moderation" and col is not None:
            results.append(moderation_analysis(analysed, h, partner_means(cohort.participants, values, col),
                                               f"partner_{name}", f"{_partner_words(col)}'s {source} (exploratory)",
                                               alpha=alpha))
    return results


def _partner_words(col: str) -> str:
    return "pair partner" if col == "pair_id" else "other group members (mean)"


def actor_partner_for(cohort, analysed: pd.DataFrame, h, values: pd.Series, name: str, source: str,
                      alpha: float = 0.05) -> dict | None:
    """The actor–partner model of one moderator within the programme, or ``None`` when the plan's design has no
    pairs or groups (``design.mentoring: none``).

    Parameters
    ----------
    cohort : Cohort
        Read: ``participants`` and ``study.design``.
    analysed : DataFrame
        The hypothesis's analysed rows.
    h : Hypothesis
    values : Series
        The moderator by ``participant_id`` (:func:`moderator_values`).
    name, source : str
        The moderator's name and source, in words.
    alpha : float

    Returns
    -------
    dict or None
        :func:`rmstudy.stats.moderation.actor_partner_analysis`'s result.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> from rmstudy.contract.design import Design
    >>> P = pd.DataFrame({"participant_id": ["a", "b"], "pair_id": ["p1", "p1"]})
    >>> c = NS(participants=P, study=NS(design=Design(mentoring="none")))
    >>> actor_partner_for(c, None, None, pd.Series({"a": 1.0, "b": 2.0}), "age", "participants.csv column age") is None
    True
    """
    P = cohort.participants
    col = mentoring_column(cohort.study.design, P.columns)
    if col is None:
        return None
    grouped = P.loc[~blank(P[col])]
    groups = grouped.set_index("participant_id")[col].astype(str)
    return actor_partner_analysis(analysed, h, values, partner_means(P, values, col), groups, name,
                                  f"{source}; the partner's value: the {_partner_words(col)}", alpha=alpha)
