"""Sensitivity analyses beside each survey hypothesis's primary model.

Each returns a row ``analysis, estimate, se, df, ci_low, ci_high, p_value,
n_participants, note`` for the programme-minus-control difference in change
(ANCOVA: the adjusted difference at the later wave), in scale points;
:func:`sensitivity_analyses` adds ``data``, the rows each analysis uses (every wave, the contrast's two waves, or
the completers of those two waves). The delta-adjusted multiple imputation for data missing not at random is
:func:`rmstudy.stats.tipping.tipping_point`.
"""

from __future__ import annotations

__all__ = ["sensitivity_analyses", "completers", "ancova", "ipw_ancova", "bayes_factor_change"]

import numpy as np
import pandas as pd
from scipy import stats

from rmstudy.stats.models.mixed import mixed_model
from rmstudy.stats.models.mmrm import cell_vector, mmrm
from rmstudy.contract.coding import arm_indicator, covariate_columns
from rmstudy.errors import ModelError
from rmstudy.contract.cells import blank

STANDARD_COVARIATES = ("age", "tenure_years")      # cohort-contract columns used when the plan names none


def _row(analysis, est, se, df, n, alpha, note=""):
    dist = stats.t(df) if df else stats.norm()
    half = dist.ppf(1 - alpha / 2) * se
    return {"analysis": analysis, "estimate": float(est), "se": float(se), "df": None if df is None else float(df),
            "ci_low": float(est - half), "ci_high": float(est + half),
            "p_value": float(2 * dist.sf(abs(est / se))), "n_participants": int(n), "note": note}


def _interaction(tab: pd.DataFrame, base: str, later: str) -> dict:
    t = tab.set_index("term")
    row = t.loc[f"arm[program]:wave[{later}]"].to_dict()
    if f"arm[program]:wave[{base}]" in t.index:                  # contrast not starting at the first wave
        raise ModelError("sensitivity analyses need the contrast to start at the first wave")
    return row


def completers(data: pd.DataFrame, base: str, later: str) -> pd.DataFrame:
    """Rows of participants scored at both contrast waves, restricted to those two waves.

    Parameters
    ----------
    data : DataFrame
        Long rows: ``participant_id, wave, score``.
    base, later : str
        The contrast's two waves.

    Returns
    -------
    DataFrame
        The rows of ``data`` at those waves, of participants with a score at both.

    Examples
    --------
    >>> long = pd.DataFrame({"participant_id": list("aabbc"), "wave": ["pre", "post", "pre", "post", "pre"],
    ...                      "score": [1.0, 2.0, 2.0, None, 3.0]})
    >>> completers(long, "pre", "post")["participant_id"].tolist()
    ['a', 'a']
    """
    two = data[data["wave"].isin([base, later])].dropna(subset=["score"])
    both = two.groupby("participant_id")["wave"].nunique()
    return two[two["participant_id"].isin(both[both == 2].index)]


def _wide(comp: pd.DataFrame, base: str, later: str, extra=()) -> pd.DataFrame:
    w = comp.pivot(index="participant_id", columns="wave", values="score")[[base, later]]
    w.columns = ["pre", "post"]
    attrs = comp.drop_duplicates("participant_id").set_index("participant_id")[["arm", *extra]]
    return w.join(attrs).reset_index()


def _design(w: pd.DataFrame, covs) -> tuple[np.ndarray, list[str]]:
    """``post ~ arm + pre (+ covariates)``: intercept, the programme indicator, the baseline score, covariates."""
    cov_cols, cov_names, _ = covariate_columns(w, covs)
    cols = [np.ones(len(w)), arm_indicator(w["arm"]), w["pre"].to_numpy(float), *cov_cols]
    return np.column_stack(cols), ["Intercept", "arm", "pre", *cov_names]


def ancova(w: pd.DataFrame, covs=(), alpha: float = 0.05) -> dict:
    """OLS ``post ~ arm + pre (+ covariates)`` on completers (statsmodels).

    Parameters
    ----------
    w : DataFrame
        One row per completer: ``arm`` (``program`` / ``control``), ``pre``, ``post`` and the covariates.
    covs : sequence of str
        Covariate columns.
    alpha : float

    Returns
    -------
    dict
        The row ``analysis, estimate, se, df, ci_low, ci_high, p_value, n_participants, note`` for the arm term.

    Examples
    --------
    Both arms start alike, so the adjusted difference is the difference in mean change, 1.25 - 0.25:

    >>> w = pd.DataFrame({"arm": ["program"] * 4 + ["control"] * 4, "pre": [2.0, 3.0, 4.0, 5.0] * 2,
    ...                   "post": [3.0, 4.5, 5.0, 6.5, 2.0, 3.5, 4.0, 5.5]})
    >>> r = ancova(w)
    >>> round(r["estimate"], 4), round(r["se"], 4), r["df"], r["n_participants"]
    (1.0, 0.2, 5.0, 8)
    """
    from statsmodels.regression.linear_model import OLS

    X, _ = _design(w, covs)
    res = OLS(w["post"].to_numpy(float), X).fit()
    return _row("ANCOVA (completers): post ~ arm + pre" + (" + covariates" if covs else ""),
                res.params[1], res.bse[1], res.df_resid, len(w), alpha)


def ipw_ancova(w: pd.DataFrame, covs, alpha: float = 0.05) -> dict:
    """Propensity-score weighting: a logistic model of joining the programme on the
    baseline score and covariates gives stabilised ATE weights; weighted ANCOVA
    with HC1 (sandwich) standard errors.

    Parameters
    ----------
    w : DataFrame
        As :func:`ancova`.
    covs : sequence of str
        Covariates of both the propensity model and the ANCOVA.
    alpha : float

    Returns
    -------
    dict
        The row as :func:`ancova` (``df`` None: normal CI); ``note`` gives the effective sample size and the
        weights' range.

    Examples
    --------
    Baselines balanced between the arms: every weight is 1 and the estimate is the plain ANCOVA's:

    >>> w = pd.DataFrame({"arm": ["program"] * 4 + ["control"] * 4, "pre": [2.0, 3.0, 4.0, 5.0] * 2,
    ...                   "post": [3.0, 4.5, 5.0, 6.5, 2.0, 3.5, 4.0, 5.5]})
    >>> r = ipw_ancova(w, ())
    >>> round(r["estimate"], 4), r["df"], r["note"]
    (1.0, None, 'propensity from baseline score + nothing else; effective sample size 8 of 8; weights 1.00–1.00')
    """
    from statsmodels.discrete.discrete_model import Logit
    from statsmodels.regression.linear_model import WLS

    Xp, _ = _design(w, covs)
    z = arm_indicator(w["arm"])
    ps = Logit(z, np.delete(Xp, 1, axis=1)).fit(disp=0).predict(np.delete(Xp, 1, axis=1))
    ps = np.clip(ps, 0.01, 0.99)
    wt = np.where(z == 1, z.mean() / ps, (1 - z.mean()) / (1 - ps))
    res = WLS(w["post"].to_numpy(float), Xp, weights=wt).fit(cov_type="HC1")
    ess = wt.sum() ** 2 / (wt**2).sum()
    return _row("Propensity-weighted ANCOVA (stabilised ATE weights, HC1 SE)", res.params[1], res.bse[1], None, len(w),
                alpha, note=f"propensity from baseline score + {', '.join(covs) or 'nothing else'}; "
                            f"effective sample size {ess:.0f} of {len(w)}; weights {wt.min():.2f}–{wt.max():.2f}")


#: the largest |log10 BF10| written as a number in ``bf10`` (a float holds up to about 1.8e308)
BF_LOG10_MAX = 307.0


def log10_jzs_bf(t: float, nx: int, ny: int = 0, r: float = 0.707) -> float:
    """log10 of the JZS Bayes factor BF10 (Rouder et al., 2009, eq. 1; the integral pingouin's
    ``bayesfactor_ttest`` evaluates), computed in log space so that it stays finite at any sample size.

    ``ny`` = 0: one-sample test (n = nx, df = nx - 1); else two-sample (n = nx ny / (nx + ny), df = nx + ny - 2).
    The integral over g is taken over u = log g, centred on the integrand's peak.

    Examples
    --------
    >>> round(10 ** log10_jzs_bf(3.5, 20, 20), 3)      # pingouin's documented example: 26.743
    26.743
    >>> round(log10_jzs_bf(150.0, 50_000, 50_000))     # BF10 about 10^4404: beyond any float
    4404
    """
    from scipy import integrate, optimize

    n, df = (float(nx), nx - 1.0) if ny == 0 else (nx * ny / (nx + ny), nx + ny - 2.0)
    t2 = float(t) ** 2

    def h(u: float) -> float:               # log of the integrand in g = e^u, times the Jacobian g
        s = 1.0 + n * np.exp(u) * r * r
        return float(-0.5 * np.log(s) - (df + 1) / 2 * np.log1p(t2 / (s * df)) - 0.5 * np.log(2 * np.pi)
                     - 0.5 * u - 0.5 * np.exp(-u))

    peak = optimize.minimize_scalar(lambda u: -h(u), bounds=(-60.0, 60.0), method="bounded",
                                    options={"xatol": 1e-10}).x
    top = h(peak)
    area = sum(integrate.quad(lambda u: np.exp(h(u) - top), a, b, limit=200)[0]
               for a, b in ((peak - 80.0, peak), (peak, peak + 80.0)))
    log_bf = top + np.log(area) + (df + 1) / 2 * np.log1p(t2 / df)
    return float(log_bf / np.log(10))


def bayes_factor_change(w: pd.DataFrame) -> dict:
    """JZS Bayes factor (Cauchy prior r = .707) for the difference in completers'
    change scores between arms (:func:`log10_jzs_bf`, equal to pingouin's ``bayesfactor_ttest`` where that is
    finite). ``log10_bf10`` is always a number; ``bf10`` is None when BF10 is beyond :data:`BF_LOG10_MAX` powers
    of ten either way (at 100,000 participants a clear difference gives BF10 of 10^1000 and more).

    Parameters
    ----------
    w : DataFrame
        One row per completer: ``arm``, ``pre``, ``post`` (a single-arm cohort: one-sample test of the change).

    Returns
    -------
    dict
        ``bf10, log10_bf10, t, n_program, n_control, prior_r``.

    Examples
    --------
    >>> w = pd.DataFrame({"arm": ["program"] * 4 + ["control"] * 4, "pre": [2.0, 3.0, 4.0, 5.0] * 2,
    ...                   "post": [3.0, 4.5, 5.0, 6.5, 2.0, 3.5, 4.0, 5.5]})
    >>> r = bayes_factor_change(w)
    >>> round(r["t"], 3), round(r["bf10"], 2), r["n_program"], r["n_control"]
    (4.899, 12.6, 4, 4)
    """
    ch = w["post"] - w["pre"]
    x, y = ch[w["arm"] == "program"], ch[w["arm"] == "control"]
    if len(y) == 0:               # single-arm cohort: one-sample test of the change itself
        t = stats.ttest_1samp(x, 0).statistic
    else:
        t = stats.ttest_ind(x, y).statistic
    log10_bf = log10_jzs_bf(float(t), len(x), len(y), r=0.707)
    bf = float(10 ** log10_bf) if abs(log10_bf) <= BF_LOG10_MAX else None
    return {"bf10": bf, "log10_bf10": log10_bf, "t": float(t), "n_program": int(len(x)), "n_control": int(len(y)),
            "prior_r": 0.707}


def _other_model(full: pd.DataFrame, primary: dict, h, alpha: float) -> dict | None:
    """The model the plan did not choose, on the primary model's data: the random-intercept LMM beside an MMRM
    primary, the MMRM beside an LMM primary when there are three or more waves (with two, and no other
    covariates, the two models differ only in whether the two waves' variances may differ)."""
    base, later = h.contrast
    waves = [w for w in full["wave"].cat.categories if (full["wave"] == w).any()]
    if set(full["arm"]) != {"program", "control"} or (getattr(h, "model", "lmm") != "mmrm" and len(waves) < 3):
        return None
    if getattr(h, "model", "lmm") == "mmrm":
        tab, fit = mixed_model(full, "score", between_ref="control", alpha=alpha, return_fit=True)
        name = "LMM (random intercept per participant), all available data"
    else:
        tab, fit = mmrm(full, "score", between_ref="control", alpha=alpha, return_fit=True)
        name = "MMRM (unstructured covariance over the waves), all available data"
    L_terms = [cell_vector(fit.terms, w, "program") - cell_vector(fit.terms, w, "control") for w in (later, base)]
    c = fit.contrast(L_terms[0] - L_terms[1], alpha=alpha)
    return _row(name, c["estimate"], c["se"], c["df"], full["participant_id"].nunique(), alpha)


def _cluster_rows(analysed: pd.DataFrame, h, mentoring_column: str | None, alpha: float) -> list[dict]:
    """The mentoring pair or group random effect (``mentoring_column``: ``pair_id`` or ``group_id``, the plan's
    design) and the plan's ``cluster`` random effect, each where it applies."""
    base, later = h.contrast
    rows = []
    what, kind = {"pair_id": ("Dyad", "pair"), "group_id": ("Group", "group")}.get(mentoring_column or "", ("", ""))
    if mentoring_column and mentoring_column in analysed.columns:
        unit = mentoring_column
        pairs = analysed.loc[~blank(analysed[unit]), [unit, "participant_id"]]
        if (pairs.drop_duplicates().groupby(unit).size() > 1).any():
            tab, fit = mixed_model(analysed, "score", between_ref="control", cluster=unit, alpha=alpha,
                                   return_fit=True)
            r = _interaction(tab, base, later)
            vc = fit.variance_components()
            rows.append(_row(f"{what} LMM: (1 | {unit}) + (1 | participant_id)", r["estimate"], r["se"], r["df"],
                             vc["n_participants"], alpha,
                             note=f"{kind} ICC {vc['icc_pair']:.2f}; controls are singleton {kind}s"))
    cluster = getattr(h, "cluster", None)
    if cluster and cluster in analysed.columns:
        tab, fit = mixed_model(analysed, "score", between_ref="control", cluster=cluster, alpha=alpha, return_fit=True)
        r = _interaction(tab, base, later)
        rows.append(_row(f"LMM with a {cluster} random intercept", r["estimate"], r["se"], r["df"],
                         analysed["participant_id"].nunique(), alpha,
                         note=f"{cluster} ICC {fit.variance_components()['icc_pair']:.2f}"))
    return rows


def sensitivity_analyses(analysed: pd.DataFrame, primary: dict, h, participants: pd.DataFrame,
                         alpha: float = 0.05, mentoring_column: str | None = "pair_id") -> dict:
    """Every sensitivity analysis that applies to one survey hypothesis.

    Parameters
    ----------
    analysed : DataFrame
        The primary model's data (``participant_id, wave, score`` plus the participant columns, every wave).
    primary : dict
        The primary model's result (``estimate, se, df, n, method``).
    h : Hypothesis
        The plan's hypothesis (``contrast``, ``covariates``, ``model``, ``cluster``).
    participants : DataFrame
    alpha : float
    mentoring_column : str or None
        The column of the plan's mentoring pairs or groups (:func:`rmstudy.contract.design.mentoring_column`;
        ``pair_id`` for the default design, None for none).

    Returns
    -------
    dict
        ``rows`` (the primary first; each row's ``data`` says which rows it analyses), ``bayes`` (JZS BF on
        completers' change) and ``lords_paradox`` (a note, or None).
    """
    base, later = h.contrast
    n_all = sum(v["participants"] for v in primary["n"].values())
    everything = f"all scored rows at every wave ({n_all} participants)"
    two_waves = f"all scored rows at {base} and {later}"
    comp_data = f"completers: participants scored at both {base} and {later}, those two waves"
    kind = "MMRM" if str(primary.get("method", "")).startswith("MMRM") else "LMM"
    rows = [{**_row(f"Primary: {kind}, all available data", primary["estimate"], primary["se"], primary["df"],
                    n_all, alpha), "data": everything}]
    full = analysed
    # the alternatives compare the contrast's two waves only (its baseline becomes the reference wave)
    analysed = analysed[analysed["wave"].astype(str).isin([base, later])].copy()
    analysed["wave"] = pd.Categorical(analysed["wave"].astype(str), [base, later], ordered=True)
    if set(analysed["arm"]) != {"program", "control"}:
        return {"rows": rows, "bayes": bayes_factor_change(_wide(completers(analysed, base, later), base, later)),
                "lords_paradox": None}
    try:
        other = _other_model(full, primary, h, alpha) if isinstance(full["wave"].dtype, pd.CategoricalDtype) else None
    except ModelError as e:          # e.g. two waves too few people answered both: say so on the primary's row
        other, rows[0]["note"] = None, f"the other model (MMRM or LMM) could not be fitted: {e}"
    if other is not None:
        rows.append({**other, "data": everything})
    comp = completers(analysed, base, later)
    tab = mixed_model(comp, "score", between_ref="control", alpha=alpha)
    r = _interaction(tab, base, later)
    rows.append({**_row("LMM, completers only", r["estimate"], r["se"], r["df"], comp["participant_id"].nunique(),
                        alpha), "data": comp_data})
    covs = [c for c in (h.covariates or STANDARD_COVARIATES) if c in analysed.columns and analysed[c].notna().all()]
    w = _wide(comp, base, later, covs)
    anc = ancova(w, alpha=alpha)
    rows.append({**anc, "data": comp_data})
    if covs:
        tab = mixed_model(analysed, "score", between_ref="control", covariates=covs, alpha=alpha)
        r = _interaction(tab, base, later)
        rows.append({**_row(f"LMM adjusted for baseline {', '.join(covs)}", r["estimate"], r["se"], r["df"],
                            analysed["participant_id"].nunique(), alpha), "data": two_waves})
        rows.append({**ancova(w, covs, alpha), "data": comp_data})
    rows.append({**ipw_ancova(w, covs, alpha), "data": comp_data})
    rows += [{**r, "data": two_waves} for r in _cluster_rows(analysed, h, mentoring_column, alpha)]
    lords = None
    sig = lambda x: x["p_value"] < alpha  # noqa: E731
    # they disagree when one finds an effect the other does not, or both find one in opposite directions (two
    # null estimates of opposite sign agree: other_cohort's X1, +0.03 and -0.03 at p = .80, was called a paradox)
    if sig(anc) != sig(primary) or (sig(anc) and np.sign(anc["estimate"]) != np.sign(primary["estimate"])):
        lords = ("The ANCOVA and the change model disagree (Lord's paradox). With self-selected groups that differ at "
                 "baseline, ANCOVA asks whether people with the same baseline end up differently; the change model "
                 "asks whether the groups changed differently. The preregistered change model is the primary answer.")
    return {"rows": rows, "bayes": bayes_factor_change(w), "lords_paradox": lords}
