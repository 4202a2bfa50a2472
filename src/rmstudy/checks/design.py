"""Checks of the plan against the data it will be analysed on, run by ``rmstudy validate`` before any notebook.

A covariate that takes one value in a hypothesis's analysed population (an age column filled with one invented
age, a department column of one department), or that the arm and the other covariates already determine, makes
the adjusted models' fixed-effects design rank deficient: the run would stop half-way with a model error.
:func:`covariate_problems` refuses such a plan up front, one line per covariate naming the file, the column and
the fix. The covariates checked are the ones the analyses use: a hypothesis's named ``covariates`` (survey and
retention), or, for a two-arm survey hypothesis that names none, the standard covariates the sensitivity models
adjust for when participants.csv has them (:data:`rmstudy.stats.sensitivity.STANDARD_COVARIATES`).
"""

from __future__ import annotations

__all__ = ["covariate_problems", "mmrm_problems"]

import numpy as np
import pandas as pd

from rmstudy.contract.coding import ARMS, arm_indicator, covariate_columns
from rmstudy.contract.cohort import Cohort
from rmstudy.contract.population import select_population
from rmstudy.errors import Problem
from rmstudy.stats.models.mmrm import MIN_PAIR_OVERLAP, sparse_wave_pairs
from rmstudy.stats.sensitivity import STANDARD_COVARIATES


def _analysed_people(c: Cohort, scores: pd.DataFrame, h) -> pd.DataFrame:
    """The participants a hypothesis's adjusted models see: for a survey hypothesis, those of its population with
    a score on its outcome at one of the contrast's waves; for retention, its population."""
    pop = select_population(c.participants, h.population, h.id)
    if h.is_retention or h.outcome not in scores.columns:
        return pop
    # masks, not a filtered copy of every score column, and the ids as an array, not a set (0.09 s a hypothesis
    # at 100,000, in validation, which runs before any notebook)
    at = scores["wave"].astype(str).isin([str(w) for w in (h.contrast or ())]).to_numpy()
    scored = scores["participant_id"].to_numpy()[at & scores[h.outcome].notna().to_numpy()]
    return pop[pop["participant_id"].isin(scored)]


def _covariates(c: Cohort, h, people: pd.DataFrame) -> tuple[list[str], bool]:
    """(the covariates the analyses of ``h`` adjust for, whether they are the standard ones)."""
    if h.covariates:
        return [v for v in h.covariates if v in people.columns], False
    if h.is_retention or set(people["arm"]) != set(ARMS):
        return [], True                    # no standard adjustment: retention, or a within-arm analysis
    return [v for v in STANDARD_COVARIATES if v in people.columns and people[v].notna().all()], True


def _fix(h, col: str, standard: bool, i: int) -> tuple[str, str]:
    if standard:
        return ("participants.csv", f"remove the '{col}' column from participants.csv if it holds no real values "
                f"(it is optional), or name the covariates of {h.id} in study.yaml (hypotheses.{i}.covariates)")
    return ("study.yaml", f"remove '{col}' from the covariates of {h.id} in study.yaml, or widen its population")


def covariate_problems(c: Cohort, scores: pd.DataFrame) -> list[Problem]:
    """One problem per covariate that is constant in a hypothesis's analysed population, or that the arm and the
    earlier covariates determine (the design ``1 + arm + covariates`` loses rank when it is added).

    Parameters
    ----------
    c : Cohort
        The loaded cohort (its plan and participants).
    scores : DataFrame
        :func:`rmstudy.stats.scoring.score_scales` of the cohort's responses.

    Returns
    -------
    list of Problem
        Empty when every covariate can be estimated.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> from rmstudy.contract.study import Hypothesis
    >>> h = Hypothesis("H1", "L", "wellbeing", "increase", "primary", contrast=("pre", "post"), covariates=("age",))
    >>> P = pd.DataFrame({"participant_id": ["a", "b", "c", "d"], "arm": ["program", "program", "control", "control"],
    ...                   "age": [30.0] * 4})
    >>> S = pd.DataFrame({"participant_id": ["a", "b", "c", "d"], "wave": ["pre"] * 4, "wellbeing": [3.0, 2.0, 4.0, 3.5]})
    >>> [(p.file, p.column, p.message) for p in covariate_problems(NS(study=NS(hypotheses=(h,)), participants=P), S)]
    [('study.yaml', 'hypotheses.0.covariates', "covariate 'age' of H1 takes the one value 30 among the 4 ...")]
    """
    out: list[Problem] = []
    for i, h in enumerate(c.study.hypotheses):
        people = _analysed_people(c, scores, h)
        covs, standard = _covariates(c, h, people)
        if people.empty or not covs:
            continue
        kind = "standard covariate" if standard else "covariate"
        cols = [np.ones(len(people)), arm_indicator(people["arm"])] if people["arm"].nunique() > 1 else \
            [np.ones(len(people))]
        for col in covs:
            values = people[col].dropna()
            file, fix = _fix(h, col, standard, i)
            where = col if file == "participants.csv" else f"hypotheses.{i}.covariates"
            if values.nunique() <= 1:
                v = values.iloc[0] if len(values) else None
                shown = "no value" if v is None else f"the one value {float(v):g}" if isinstance(v, (int, float, np.number)) \
                    else f"the one value '{v}'"
                out.append(Problem(file, f"{kind} '{col}' of {h.id} takes {shown} among the {len(people)} participants "
                                   "it analyses, so the adjusted models cannot estimate it", fix, column=where))
                continue
            new, _, _ = covariate_columns(people, [col])
            before = np.linalg.matrix_rank(np.column_stack(cols))
            if np.linalg.matrix_rank(np.column_stack(cols + new)) < before + len(new):
                out.append(Problem(file, f"{kind} '{col}' of {h.id} is determined by the arm"
                                   + (" and the covariates before it" if len(cols) > 2 else "")
                                   + f" among the {len(people)} participants it analyses, so the adjusted models "
                                   "cannot estimate it", fix, column=where))
                continue
            cols += new
    return out


def mmrm_problems(c: Cohort, scores: pd.DataFrame, least: int = MIN_PAIR_OVERLAP) -> list[Problem]:
    """One problem per ``model: mmrm`` hypothesis whose data cannot identify an unstructured covariance: two waves
    that fewer than ``least`` participants of its population answered both (the covariance of the two waves rests
    on them). The run would otherwise stop in the model, or estimate that covariance from next to nothing.

    Parameters
    ----------
    c : Cohort
        The loaded cohort (its plan and participants).
    scores : DataFrame
        :func:`rmstudy.stats.scoring.score_scales` of the cohort's responses.
    least : int
        The fewest participants with both waves of a pair.

    Returns
    -------
    list of Problem

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> from rmstudy.contract.study import Hypothesis
    >>> h = Hypothesis("H1", "L", "wellbeing", "increase", "primary", contrast=("pre", "post"), model="mmrm")
    >>> P = pd.DataFrame({"participant_id": ["a", "b", "c"], "arm": ["program"] * 3})
    >>> S = pd.DataFrame({"participant_id": ["a", "b", "c", "a", "b"], "wave": ["pre"] * 3 + ["post"] * 2,
    ...                   "wellbeing": [3.0, 2.0, 4.0, 3.5, 2.5]})
    >>> c = NS(study=NS(hypotheses=(h,), waves=("pre", "post")), participants=P)
    >>> len(mmrm_problems(c, S)), len(mmrm_problems(c, S, least=2))
    (1, 0)
    """
    out: list[Problem] = []
    for i, h in enumerate(c.study.hypotheses):
        if h.is_retention or h.model != "mmrm" or h.outcome not in scores.columns:
            continue
        pop = select_population(c.participants, h.population, h.id)
        got = scores.loc[scores[h.outcome].notna() & scores["participant_id"].isin(pop["participant_id"]),
                         ["participant_id", "wave"]].astype(str).drop_duplicates()
        fix = (f"use model: lmm for {h.id} in study.yaml (hypotheses.{i}.model; the random-intercept model needs no "
               "covariance per pair of waves), or drop the sparse wave from the plan")
        for w1, w2, k in sparse_wave_pairs(got["participant_id"], got["wave"], least, [str(w) for w in c.study.waves]):
            out.append(Problem("study.yaml", f"{h.id} asks for model: mmrm, but only {k} participant(s) of "
                               f"its population answered both '{w1}' and '{w2}', too few to estimate the "
                               "covariance of the two waves", fix, column=f"hypotheses.{i}.model"))
    return out
