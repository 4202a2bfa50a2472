"""From the plan to hypothesis rows: populations, models, effect sizes, evidence of absence.

:func:`analyse_survey` and :func:`analyse_retention` are the one call per hypothesis that notebooks 03 and 04 make:
they return the typed :class:`~rmstudy.analysis.rows.HypothesisRow` (without ``p_adjusted`` and ``decision``,
which :func:`~rmstudy.stats.decisions.finalise_hypotheses` adds once every row of a family is known) and every
detail the reports need. :func:`analyse_survey_hypothesis` and :func:`analyse_retention_hypothesis` are the
primary models alone.
"""

from __future__ import annotations

__all__ = ["select_population", "analyse_survey_hypothesis", "analyse_retention_hypothesis", "analyse_survey",
           "analyse_retention", "SurveyAnalysis", "RetentionAnalysis", "finalise_hypotheses", "decide", "tost_p",
           "cell_means", "minimum_detectable_effect", "HypothesisRow", "trajectory"]

import zlib
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from rmstudy.analysis.moderators import moderation_for_hypothesis
from rmstudy.analysis.rows import HypothesisRow
from rmstudy.contract.coding import ARMS, CONTROL, TREATED
from rmstudy.contract.cohort import Cohort
from rmstudy.contract.design import mentoring_column
from rmstudy.contract.population import select_population
from rmstudy.contract.study import Hypothesis
from rmstudy.errors import CohortError, Problem
from rmstudy.stats.decisions import decide, finalise_hypotheses
from rmstudy.stats.effects import d_per_raw, d_ppc2, pooled_baseline_sd, sesoi_bound
from rmstudy.stats.models.mixed import RandomInterceptFit, conditional_residuals, design_arm_wave, mixed_model
from rmstudy.stats.models.mmrm import MMRMFit, cell_vector, joint_test, mmrm
from rmstudy.stats.models.survival import (cox_model, cox_ph, cox_zph, cumulative_incidence, km_horizons, logrank,
                                           retention_data)
from rmstudy.stats.scoring import long_scores
from rmstudy.stats.sensitivity import sensitivity_analyses
from rmstudy.stats.tipping import tipping_point

LMM_METHOD = "LMM score ~ arm * wave + (1 | participant_id), REML; Satterthwaite df (lmerTest)"
MMRM_METHOD = ("MMRM score ~ arm * wave, unstructured covariance over the waves, REML; Satterthwaite df "
               "(emmeans for nlme::gls)")
COX_METHOD = "Cox PH, time from programme start to voluntary exit, Efron ties; Wald test"


def tost_p(estimate: float, se: float, bound: float, df: float | None) -> float:
    """Two one-sided tests against ±bound: the larger one-sided p (t with df, or z).

    Parameters
    ----------
    estimate, se : float
        The estimate and its standard error.
    bound : float
        The equivalence bound (the SESOI on the estimate's scale), > 0.
    df : float or None
        Degrees of freedom of a t test; None (or not finite) for a z test.

    Returns
    -------
    float
        The TOST p-value: small when the estimate lies within ±bound.

    Examples
    --------
    >>> round(tost_p(0.02, 0.05, 0.15, None), 4)
    0.0047
    """
    dist = stats.t(df) if df is not None and np.isfinite(df) else stats.norm()
    p_low = dist.sf((estimate + bound) / se)   # H0: effect <= -bound
    p_high = dist.cdf((estimate - bound) / se)  # H0: effect >= +bound
    return float(max(p_low, p_high))


def cell_means(long: pd.DataFrame, by=("arm", "wave"), alpha: float = 0.05) -> pd.DataFrame:
    """Mean score per cell with a t-based CI: ``arm, wave, n, mean, sd, ci_low, ci_high``.

    Parameters
    ----------
    long : DataFrame
        One row per participant × wave, with a ``score`` column (missing scores are left out) and the ``by`` columns.
    by : sequence of str
        The cell's columns.
    alpha : float
        1 - the CI's level.

    Returns
    -------
    DataFrame
        One row per cell, in sorted order (CI NaN for a cell of one).

    Examples
    --------
    >>> d = pd.DataFrame({"arm": ["control"] * 2 + ["program"] * 3, "wave": ["pre"] * 5,
    ...                   "score": [3.0, 3.4, 2.0, 3.0, None]})
    >>> cell_means(d)[["arm", "n", "mean", "ci_low"]].round(3)
           arm  n  mean  ci_low
    0  control  2   3.2   0.659
    1  program  2   2.5  -3.853
    """
    rows = []
    for key, g in long.dropna(subset=["score"]).groupby(list(by), observed=True, sort=True):
        n = len(g)
        m, sd = g["score"].mean(), g["score"].std(ddof=1)
        half = stats.t.ppf(1 - alpha / 2, n - 1) * sd / np.sqrt(n) if n > 1 else np.nan
        rows.append({**dict(zip(by, map(str, key))), "n": int(n), "mean": float(m), "sd": float(sd),
                     "ci_low": float(m - half), "ci_high": float(m + half)})
    return pd.DataFrame(rows)


def _n_by_arm(d: pd.DataFrame) -> dict:
    out = {}
    for arm in ARMS:
        g = d[d["arm"] == arm]
        out[arm] = {"participants": int(g["participant_id"].nunique()), "observations": int(len(g))}
    return out


def _plan_fields(h: Hypothesis) -> dict:
    """The row's fields that come from the plan as they are."""
    return {"id": h.id, "label": h.label, "question": h.question, "outcome": h.outcome, "population": h.population,
            "family": h.family, "direction": h.direction, "sesoi": h.sesoi,
            "sesoi_units": h.sesoi_units if h.sesoi is not None else None}


def _analysed_scores(cohort: Cohort, scores: pd.DataFrame, h: Hypothesis) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(every response row of the population with its score, the scored rows with ``wave`` ordered)."""
    pop = select_population(cohort.participants, h.population, h.id)
    long = long_scores(scores, pop, h.outcome)
    long = long[long["participant_id"].isin(pop["participant_id"])]
    analysed = long.dropna(subset=["score"]).copy()
    analysed["wave"] = pd.Categorical(analysed["wave"].astype(str), categories=list(cohort.study.waves), ordered=True)
    return long, analysed


def _contrast_vector(fit: RandomInterceptFit | MMRMFit, h: Hypothesis, two_arm: bool) -> np.ndarray:
    """L with L'beta = the plan's contrast (later minus baseline wave; for two arms, programme minus control)."""
    base, later = h.contrast
    L = np.zeros(len(fit.terms))
    for w, sgn in ((later, 1), (base, -1)):
        t = f"arm[{TREATED}]:wave[{w}]" if two_arm else f"wave[{w}]"
        if t in fit.terms:
            L[fit.terms.index(t)] += sgn
    if not L.any():
        raise CohortError(Problem("responses.csv", f"{h.id}: no responses at wave '{later}' for this population",
                                  "check the wave names and the population filter", column="wave"))
    return L


def _baseline_sd(analysed: pd.DataFrame, h: Hypothesis, two_arm: bool) -> tuple[float, int, int]:
    """The baseline SD the standardised effect divides by (pooled over arms for two arms), with the arms' n."""
    base = h.contrast[0]
    baseline = analysed[analysed["wave"] == base]
    sd_pre, nt, nc = pooled_baseline_sd(baseline) if two_arm else (float(baseline["score"].std(ddof=1)), 0, 0)
    if not np.isfinite(sd_pre) or sd_pre <= 0:
        raise CohortError(Problem("responses.csv", f"{h.id}: the scores of '{h.outcome}' at wave '{base}' in this "
                                  f"population do not vary (baseline SD {sd_pre:g}), so the standardised effect is "
                                  "undefined", "check the answers at that wave, or widen the hypothesis's population "
                                  "in study.yaml", column="wave"))
    return sd_pre, nt, nc


def _fit_primary(analysed: pd.DataFrame, h: Hypothesis, two_arm: bool, alpha: float
                 ) -> tuple[pd.DataFrame, RandomInterceptFit | MMRMFit, str]:
    """The plan's model of ``h`` (``lmm``, or ``mmrm``) on the analysed rows: (table, fit, method)."""
    kw = {"between": "arm" if two_arm else None, "between_ref": CONTROL if two_arm else None, "alpha": alpha,
          "return_fit": True}
    tab, fit = (mmrm if h.model == "mmrm" else mixed_model)(analysed, "score", "participant_id", "wave", **kw)
    method = MMRM_METHOD if h.model == "mmrm" else LMM_METHOD
    return tab, fit, method if two_arm else method.replace("arm * wave", "wave")


def trajectory(fit: RandomInterceptFit | MMRMFit, waves: list, arms: list, alpha: float) -> tuple[list, list, dict | None]:
    """(trajectory, model_means, joint_test) of a fitted ``arm * wave`` model (:class:`~rmstudy.analysis.rows
    .HypothesisRow`): for two ``arms`` (control, programme) the programme − control difference in change from the
    first of ``waves`` at every later wave, for one arm the change itself; the model mean of every arm × wave
    cell; and the F test of all the trajectory's contrasts at once (None with one wave).

    Parameters
    ----------
    fit : RandomInterceptFit or MMRMFit
        A fitted ``arm * wave`` (or ``wave``) model.
    waves, arms : list
        The waves in order; the arms, control first.
    alpha : float
        1 - the CIs' level.

    Returns
    -------
    (list of dict, list of dict, dict or None)

    Examples
    --------
    >>> from rmstudy.stats.models.mixed import mixed_model
    >>> d = pd.DataFrame({"participant_id": [f"p{i}" for i in range(8)] * 2,
    ...                   "arm": (["control"] * 4 + ["program"] * 4) * 2,
    ...                   "wave": pd.Categorical(["pre"] * 8 + ["post"] * 8, ["pre", "post"], ordered=True),
    ...                   "score": [3.0, 3.2, 2.8, 3.1, 3.0, 2.9, 3.3, 3.1, 3.1, 3.2, 2.9, 3.2, 3.6, 3.4, 3.9, 3.7]})
    >>> _, fit = mixed_model(d, "score", "participant_id", "wave", between="arm", between_ref="control",
    ...                      return_fit=True)
    >>> traj, means, joint = trajectory(fit, ["pre", "post"], ["control", "program"], 0.05)
    >>> traj[0]["wave"], round(traj[0]["estimate"], 3), len(means), joint["df1"]
    ('post', 0.5, 4, 1)
    """
    def effect(w):
        return cell_vector(fit.terms, w, arms[-1]) - (cell_vector(fit.terms, w, arms[0]) if len(arms) > 1 else 0)

    keys = ("estimate", "se", "df", "ci_low", "ci_high")
    means = [{"arm": str(a), "wave": str(w), **{k: fit.contrast(cell_vector(fit.terms, w, a), alpha=alpha)[k]
                                               for k in keys}} for w in waves for a in arms]
    Ls = [effect(w) - effect(waves[0]) for w in waves[1:]]
    traj = [{"wave": str(w), **{k: c[k] for k in (*keys, "p_value")}}
            for w, c in zip(waves[1:], (fit.contrast(L, alpha=alpha) for L in Ls))]
    return traj, means, joint_test(fit, Ls) if Ls else None


def _survey_detail(h: Hypothesis, tab: pd.DataFrame, fit: RandomInterceptFit | MMRMFit, analysed: pd.DataFrame,
                   two_arm: bool, alpha: float) -> tuple[dict, pd.DataFrame]:
    """The model's detail for the reports (terms, variance components, cell means, residual diagnostics) and the
    analysed rows with their fitted values and residuals (conditional for the LMM, marginal for the MMRM)."""
    X, _, _, _ = design_arm_wave(analysed, "wave", "arm" if two_arm else None, CONTROL if two_arm else None)
    if isinstance(fit, MMRMFit):
        fitted = X @ fit.beta
        resid = analysed["score"].to_numpy(float) - fitted
    else:
        fitted, resid = conditional_residuals(fit, analysed["score"].to_numpy(float), X,
                                              analysed["participant_id"].to_numpy())
    z = (resid - resid.mean()) / resid.std(ddof=1)
    detail = {"id": h.id, "terms": tab.to_dict(orient="records"), "variance_components": fit.variance_components(),
              "cell_means": cell_means(analysed, alpha=alpha).to_dict(orient="records"),
              "diagnostics": {"n_large_residuals": int((np.abs(z) > 3).sum()),
                              "n_participants_with_large_residuals": int(analysed.loc[np.abs(z) > 3, "participant_id"].nunique()),
                              "residual_skew": float(stats.skew(resid)), "residual_excess_kurtosis": float(stats.kurtosis(resid))}}
    return detail, analysed.assign(fitted=fitted, resid=resid)


def analyse_survey_hypothesis(cohort: Cohort, scores: pd.DataFrame, h: Hypothesis, alpha: float | None = None
                              ) -> tuple[HypothesisRow, dict, RandomInterceptFit | MMRMFit, pd.DataFrame]:
    """Fit the primary model (the plan's ``model``: ``lmm`` by default, or ``mmrm``) for a survey outcome in the
    plan's population, with its trajectory, model means and joint test of arm × wave.

    Parameters
    ----------
    cohort : Cohort
        The loaded cohort (plan, participants, responses).
    scores : DataFrame
        :func:`rmstudy.stats.scoring.score_scales` of its responses.
    h : Hypothesis
        A survey hypothesis of the plan.
    alpha : float, optional
        Default: the plan's.

    Returns
    -------
    (row, detail, fit, data)
        the :class:`HypothesisRow` (no Bayes factor: :func:`analyse_survey` adds it), the detail for the reports
        (``terms``, ``variance_components``, ``cell_means``, ``diagnostics``), the model fit, and the analysed rows
        with ``fitted`` and ``resid``.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> from rmstudy.contract.design import Design
    >>> ids = [f"p{i}" for i in range(8)]
    >>> P = pd.DataFrame({"participant_id": ids, "arm": ["control"] * 4 + ["program"] * 4})
    >>> S = pd.DataFrame({"participant_id": ids * 2, "wave": ["pre"] * 8 + ["post"] * 8,
    ...                   "wellbeing": [3.0, 3.2, 2.8, 3.1, 3.0, 2.9, 3.3, 3.1, 3.1, 3.2, 2.9, 3.2, 3.6, 3.4, 3.9, 3.7]})
    >>> c = NS(participants=P, study=NS(alpha=0.05, waves=("pre", "post"), design=Design()))
    >>> h = Hypothesis("H1", "L", "wellbeing", "increase", "primary", contrast=("pre", "post"))
    >>> row, detail, fit, data = analyse_survey_hypothesis(c, S, h)
    >>> row.design, round(row.estimate, 3), row.n["program"], len(detail["cell_means"]), len(data)
    ('two_arm', 0.5, {'participants': 4, 'observations': 8}, 4, 16)
    """
    alpha = cohort.study.alpha if alpha is None else alpha
    long, analysed = _analysed_scores(cohort, scores, h)
    two_arm = sorted(analysed["arm"].unique()) == sorted(ARMS)
    notes = []
    if not two_arm:
        notes.append("Single-arm cohort: within-arm change only; the change cannot be attributed to the "
                     "programme without a comparison group.")
    tab, fit, method = _fit_primary(analysed, h, two_arm, alpha)
    waves = [w for w in analysed["wave"].cat.categories if (analysed["wave"] == w).any()]
    traj, means, joint = trajectory(fit, waves, [CONTROL, TREATED] if two_arm else sorted(analysed["arm"].unique()), alpha)
    c = fit.contrast(_contrast_vector(fit, h, two_arm), f"{h.id} contrast", alpha)
    sd_pre, nt, nc = _baseline_sd(analysed, h, two_arm)
    if two_arm:
        es = d_ppc2(c["estimate"], c["ci_low"], c["ci_high"], sd_pre, nt, nc)
    else:
        f = 1 / sd_pre
        es = {"name": "d_change (change over baseline SD)", "value": c["estimate"] * f,
              "ci_low": c["ci_low"] * f, "ci_high": c["ci_high"] * f}
    tost = None
    if h.sesoi is not None:
        # a SESOI in d units is a band of +-sesoi on the reported (corrected) d_ppc2 scale
        bound = sesoi_bound(h.sesoi, h.sesoi_units, d_per_raw(c["estimate"], es["value"], sd_pre))
        tost = tost_p(c["estimate"], c["se"], bound, c["df"])
    excluded = long["score"].isna().sum()
    if excluded:
        notes.append(f"{int(excluded)} response row(s) had fewer than the codebook's share of items answered "
                     f"and were left out of this model.")
    row = HypothesisRow(
        **_plan_fields(h), contrast=list(h.contrast), design="two_arm" if two_arm else "single_arm",
        method=method,
        estimate=c["estimate"], se=c["se"], df=c["df"], ci_low=c["ci_low"], ci_high=c["ci_high"],
        p_value=c["p_value"], effect_size=es,
        raw_difference={"value": c["estimate"], "ci_low": c["ci_low"], "ci_high": c["ci_high"], "units": "scale points"},
        tost_p=tost, baseline_sd=sd_pre, n=_n_by_arm(analysed), notes=notes, trajectory=traj, model_means=means,
        joint_test=joint)
    detail, data = _survey_detail(h, tab, fit, analysed, two_arm, alpha)
    return row, detail, fit, data


def _retention_notes(data: pd.DataFrame, excl: pd.DataFrame) -> list[str]:
    notes = []
    if len(excl):
        for reason, g in excl.groupby("reason"):
            notes.append(f"{len(g)} participant(s) excluded: {reason}.")
    if (data["entry"] > 0).any():
        notes.append(f"{int((data['entry'] > 0).sum())} participant(s) hired after the start enter late (left truncation).")
    return notes


def _retention_detail(cohort: Cohort, h: Hypothesis, data: pd.DataFrame, excl: pd.DataFrame, efron: dict,
                      breslow: dict, notes: list[str], alpha: float) -> dict:
    """Kaplan–Meier at the horizons, the PH test, the adjusted model, cumulative incidence and exclusions; a
    rejected PH test adds its note to ``notes``."""
    km = km_horizons(data, cohort.study.horizons_days, alpha=alpha)
    _, fit = cox_model(data, ties="efron", alpha=alpha)
    zph = cox_zph(data, fit, transform="km")
    ph_ok = bool(zph["p_value"].iloc[-1] >= alpha)
    if not ph_ok:
        notes.append("The proportional-hazards test rejects (cox.zph, km transform): the hazard ratio is an average "
                     "over follow-up; report retention at the horizons and consider a time-split model.")
    adjusted = None
    if h.covariates:
        adj_tab, adj_fit = cox_model(data, h.covariates, ties="efron", alpha=alpha)
        adjusted = {"covariates": list(h.covariates), "table": adj_tab.to_dict(orient="records"),
                    "zph": cox_zph(data, adj_fit).to_dict(orient="records")}
    return {"id": h.id, "cox_efron": efron, "cox_breslow": breslow, "km": km.to_dict(orient="records"),
            "logrank": logrank(data), "zph": zph.to_dict(orient="records"), "ph_assumption_holds": ph_ok,
            "adjusted": adjusted,
            "cumulative_incidence": pd.concat([cumulative_incidence(data, cohort.study.horizons_days, cause=c, alpha=alpha)
                                               for c in (1, 2)]).to_dict(orient="records"),
            "excluded": excl.groupby(["reason", "arm"]).size().reset_index(name="count").to_dict(orient="records")}


def analyse_retention_hypothesis(cohort: Cohort, h: Hypothesis, alpha: float | None = None
                                 ) -> tuple[HypothesisRow, dict, pd.DataFrame]:
    """Cox PH for time to voluntary exit in the plan's population.

    Parameters
    ----------
    cohort : Cohort
        The loaded cohort, with employment.csv.
    h : Hypothesis
        A retention hypothesis of the plan.
    alpha : float, optional
        Default: the plan's.

    Returns
    -------
    (row, detail, data)
        the :class:`HypothesisRow` (log hazard ratio; effect size the hazard ratio), the detail for the reports
        (``cox_efron``, ``cox_breslow``, ``km``, ``logrank``, ``zph``, ``ph_assumption_holds``, ``adjusted``,
        ``cumulative_incidence``, ``excluded``) and the retention data (one row per participant: ``entry``,
        ``time``, ``event``, ``arm``, ...).

    Examples
    --------
    >>> import datetime as dt
    >>> from types import SimpleNamespace as NS
    >>> ids = [f"p{i}" for i in range(12)]
    >>> P = pd.DataFrame({"participant_id": ids, "arm": ["program"] * 6 + ["control"] * 6})
    >>> out = {3: "2025-09-01", 5: "2025-05-01", 6: "2025-03-01", 8: "2025-06-01", 9: "2025-10-01", 11: "2025-04-15"}
    >>> E = pd.DataFrame({"participant_id": ids, "hire_date": pd.Timestamp("2020-01-01"),
    ...                   "exit_date": pd.to_datetime([out.get(i) for i in range(12)]),
    ...                   "exit_reason": [None if i not in out else "involuntary" if i == 5 else "voluntary"
    ...                                   for i in range(12)]})
    >>> c = NS(participants=P, employment=E, study=NS(alpha=0.05, programme_start=dt.date(2025, 1, 6),
    ...        censor_date=dt.date(2026, 1, 6), horizons_days=(182, 365)))
    >>> h = Hypothesis("H3", "L", "retention", "increase", "primary")
    >>> row, detail, data = analyse_retention_hypothesis(c, h)
    >>> row.n["program"]["events"], row.n["control"]["events"], round(row.effect_size["value"], 3), len(data)
    (1, 4, 0.195, 12)
    """
    alpha = cohort.study.alpha if alpha is None else alpha
    if cohort.employment is None:
        raise CohortError(Problem("employment.csv", f"{h.id} is a retention hypothesis but employment.csv is missing",
                                  "add employment.csv (docs/cohort-format.md)"))
    pop = select_population(cohort.participants, h.population, h.id)
    if set(pop["arm"]) != set(ARMS):
        raise CohortError(Problem("study.yaml", f"{h.id} compares retention between arms, but its population has only "
                                  f"{sorted(set(pop['arm']))}", "remove the retention hypothesis from a single-arm plan, "
                                  "or add the comparison group's employment records", column=h.id))
    data, excl = retention_data(pop, cohort.employment, cohort.study.programme_start, cohort.study.censor_date)
    efron = cox_ph(data, ties="efron", alpha=alpha)
    breslow = cox_ph(data, ties="breslow", alpha=alpha)
    notes = _retention_notes(data, excl)
    tost = None
    if h.sesoi is not None:
        tost = tost_p(efron["estimate"], efron["se"], sesoi_bound(h.sesoi, h.sesoi_units), None)
    row = HypothesisRow(
        **_plan_fields(h), contrast=None, method=COX_METHOD,
        estimate=efron["estimate"], se=efron["se"], df=None, ci_low=efron["ci_low"], ci_high=efron["ci_high"],
        p_value=efron["p_value"],
        effect_size={"name": "hazard_ratio", "value": efron["hazard_ratio"], "ci_low": efron["hr_ci_low"],
                     "ci_high": efron["hr_ci_high"]},
        raw_difference=None, tost_p=tost, baseline_sd=None,
        n={arm: {"participants": int((data["arm"] == arm).sum()), "observations": int((data["arm"] == arm).sum()),
                 "events": int(data.loc[data["arm"] == arm, "event"].sum())} for arm in ARMS},
        notes=notes)
    detail = _retention_detail(cohort, h, data, excl, efron, breslow, notes, alpha)
    return row, detail, data


@dataclass(frozen=True)
class SurveyAnalysis:
    """Everything notebook 03 records for one survey hypothesis (:func:`analyse_survey`).

    Attributes
    ----------
    row : HypothesisRow
    detail, sensitivity, power : dict
    fit : RandomInterceptFit or MMRMFit
    data : DataFrame
    moderation : list of dict
    """

    row: HypothesisRow              # with the Bayes factor of the sensitivity analyses
    detail: dict                    # terms, variance_components, cell_means, diagnostics
    fit: RandomInterceptFit
    data: pd.DataFrame              # the analysed rows with fitted values and residuals
    sensitivity: dict               # rows, bayes, lords_paradox
    moderation: list                # one entry per moderator (and pair partner) of the plan
    power: dict                     # minimum_detectable_effect


@dataclass(frozen=True)
class RetentionAnalysis:
    """Everything notebook 04 records for one retention hypothesis (:func:`analyse_retention`).

    Attributes
    ----------
    row : HypothesisRow
    detail, power : dict
    data : DataFrame
    """

    row: HypothesisRow
    detail: dict                    # the report's retention section, ``at_risk`` included
    data: pd.DataFrame              # one row per participant: entry, time, event, arm
    power: dict


def _tipping(cohort: Cohort, data: pd.DataFrame, row: HypothesisRow, h: Hypothesis, alpha: float) -> dict | None:
    """The delta-adjusted MI of the plan's contrast (two arms only), with the primary (likelihood) result beside
    its MAR case; the seed is the plan's seed and the hypothesis id (a rerun gives the same numbers)."""
    if row.design != "two_arm":
        return None
    waves = [w for w in data["wave"].cat.categories if (data["wave"] == w).any()]
    seed = [int(cohort.study.seed or 0), zlib.crc32(h.id.encode())]
    tip = tipping_point(data, *h.contrast, waves, h.expected_sign, row.baseline_sd, alpha=alpha,
                        seed=int(np.random.SeedSequence(seed).generate_state(1)[0]))
    return {**tip, "data": f"participants with a score at any wave; dropouts' {h.contrast[1]} scores imputed "
                           "(MAR), then shifted by delta", "likelihood": {k: row[k] for k in ("estimate", "se", "df")}}


def analyse_survey(cohort: Cohort, scores: pd.DataFrame, h: Hypothesis, alpha: float | None = None) -> SurveyAnalysis:
    """One survey hypothesis, whole: the primary model, its sensitivity analyses (whose JZS Bayes factor on
    completers' change completes the row), the plan's moderators and the minimum detectable effect.

    Parameters
    ----------
    cohort : Cohort
    scores : DataFrame
        :func:`rmstudy.stats.scoring.score_scales` of the cohort's responses.
    h : Hypothesis
        A survey hypothesis of the plan.
    alpha : float, optional
        Default: the plan's.

    Returns
    -------
    SurveyAnalysis
    """
    alpha = cohort.study.alpha if alpha is None else alpha
    row, detail, fit, data = analyse_survey_hypothesis(cohort, scores, h, alpha)
    moderation = moderation_for_hypothesis(cohort, scores, data, h, alpha=alpha)
    sens = sensitivity_analyses(data, row, h, cohort.participants, alpha=alpha,
                                mentoring_column=mentoring_column(cohort.study.design, cohort.participants.columns))
    tip = _tipping(cohort, data, row, h, alpha)
    if tip is not None:
        sens = {**sens, "tipping_point": tip}
    row = replace(row, bayes_factor_10=sens["bayes"]["bf10"], log10_bayes_factor_10=sens["bayes"]["log10_bf10"])
    return SurveyAnalysis(row=row, detail=detail, fit=fit, data=data, sensitivity=sens, moderation=moderation,
                          power=minimum_detectable_effect(row, alpha))


def analyse_retention(cohort: Cohort, h: Hypothesis, alpha: float | None = None) -> RetentionAnalysis:
    """One retention hypothesis, whole: the Cox model and its detail, the numbers at risk at five points up to
    the last horizon (for the Kaplan–Meier figure), and the minimum detectable effect.

    Parameters
    ----------
    cohort : Cohort
    h : Hypothesis
        A retention hypothesis of the plan.
    alpha : float, optional
        Default: the plan's.

    Returns
    -------
    RetentionAnalysis

    Examples
    --------
    >>> import datetime as dt
    >>> from types import SimpleNamespace as NS
    >>> ids = [f"p{i}" for i in range(12)]
    >>> P = pd.DataFrame({"participant_id": ids, "arm": ["program"] * 6 + ["control"] * 6})
    >>> out = {3: "2025-09-01", 5: "2025-05-01", 6: "2025-03-01", 8: "2025-06-01", 9: "2025-10-01", 11: "2025-04-15"}
    >>> E = pd.DataFrame({"participant_id": ids, "hire_date": pd.Timestamp("2020-01-01"),
    ...                   "exit_date": pd.to_datetime([out.get(i) for i in range(12)]),
    ...                   "exit_reason": [None if i not in out else "involuntary" if i == 5 else "voluntary"
    ...                                   for i in range(12)]})
    >>> c = NS(participants=P, employment=E, study=NS(alpha=0.05, programme_start=dt.date(2025, 1, 6),
    ...        censor_date=dt.date(2026, 1, 6), horizons_days=(182, 365)))
    >>> h = Hypothesis("H3", "L", "retention", "increase", "primary")
    >>> a = analyse_retention(c, h)
    >>> a.detail["at_risk"].query("horizon_days == 365")["n_at_risk"].tolist(), round(a.power["mde_hazard_ratio"], 3)
    ([2, 4], 0.043)
    """
    alpha = cohort.study.alpha if alpha is None else alpha
    row, detail, data = analyse_retention_hypothesis(cohort, h, alpha)
    last = max(cohort.study.horizons_days)
    at_risk = km_horizons(data, [round(last * q / 4) for q in range(5)])[["group", "horizon_days", "n_at_risk"]]
    return RetentionAnalysis(row=row, detail={**detail, "at_risk": at_risk}, data=data,
                             power=minimum_detectable_effect(row, alpha))


def minimum_detectable_effect(row, alpha: float, power: float = 0.8) -> dict:
    """Smallest true effect this cohort would detect with the given power.

    Two-sided test at ``alpha`` (unadjusted) using the row's SE (and df):
    MDE = (q_{1-alpha/2} + q_{power}) * SE. Survey rows give it in scale points
    and in d (over the baseline SD, as the effect size); retention rows as a
    hazard ratio below 1. ``n_factor`` is how many times the current sample a
    cohort needs to detect the plan's SESOI with that power, assuming the SE
    shrinks with 1/sqrt(n) under the same design and attrition. ``row`` is a :class:`HypothesisRow` or a
    mapping with its keys.

    Parameters
    ----------
    row : HypothesisRow or mapping
    alpha, power : float

    Returns
    -------
    dict
        ``id, power, alpha``, ``mde_raw`` and ``mde_d`` (survey) or ``mde_log_hr`` and ``mde_hazard_ratio``
        (retention), and ``n_factor_for_sesoi`` (None without a SESOI).

    Examples
    --------
    >>> row = {"id": "H1", "outcome": "wellbeing", "df": None, "se": 0.1, "estimate": 0.2, "baseline_sd": 0.8,
    ...        "effect_size": {"value": 0.25}, "sesoi": 0.2, "sesoi_units": "raw"}
    >>> m = minimum_detectable_effect(row, 0.05)
    >>> round(float(m["mde_raw"]), 3), round(float(m["mde_d"]), 3), round(m["n_factor_for_sesoi"], 2)
    (0.28, 0.35, 1.96)
    """
    df = row.get("df")
    dist = stats.t(df) if df else stats.norm()
    k = dist.ppf(1 - alpha / 2) + dist.ppf(power)
    mde = k * row["se"]
    out = {"id": row["id"], "power": power, "alpha": alpha}
    if row["outcome"] == "retention":
        out.update({"mde_log_hr": mde, "mde_hazard_ratio": float(np.exp(-mde))})
        target = sesoi_bound(row["sesoi"], "hazard_ratio") if row.get("sesoi") else None
    else:
        ratio = d_per_raw(row["estimate"], row["effect_size"]["value"], row.get("baseline_sd") or np.nan)
        out.update({"mde_raw": mde, "mde_d": abs(mde * ratio)})
        target = sesoi_bound(row["sesoi"], row.get("sesoi_units") or "raw", ratio) if row.get("sesoi") else None
    out["n_factor_for_sesoi"] = float((mde / target) ** 2) if target else None
    return out
