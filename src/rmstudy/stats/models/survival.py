"""Time to voluntary exit: the analysis data set, Cox PH and Kaplan–Meier.

Cox models use statsmodels ``PHReg`` (Efron ties, R's default; Breslow as a
check), with late entry (left truncation) through ``entry``. Kaplan–Meier
uses statsmodels ``SurvfuncRight`` with R's default ``conf.type = "log"``
interval: S * exp(±z * se(log S)), se from Greenwood's formula.
"""

from __future__ import annotations

__all__ = ["retention_data", "cox_ph", "cox_model", "logrank", "cox_zph", "cumulative_incidence", "km_horizons",
           "covariate_matrix"]

import numpy as np
import pandas as pd
from scipy import stats

from rmstudy.contract.coding import arm_indicator, covariate_columns
from rmstudy.errors import ModelError


def _entry(data: pd.DataFrame):
    """Entry times for statsmodels, or None when nobody enters late.

    R's counting-process risk set at t is entry < t <= time; statsmodels' PHReg and
    survdiff also count someone whose entry equals t (statsmodels issue #1767 leaves
    this convention open). Entry days are whole numbers, so nudging late entries
    by 1e-6 day reproduces R's risk sets exactly (tests/test_survival_reference.py).
    """
    entry = data["entry"].to_numpy(float)
    if not np.any(entry > 0):
        return None
    return np.where(entry > 0, entry + 1e-6, entry)


def retention_data(participants: pd.DataFrame, employment: pd.DataFrame, programme_start, censor_date):
    """Build the time-to-event table.

    Clock starts at ``programme_start``; the event is a voluntary exit on or
    before ``censor_date``; involuntary exits are censored at their date;
    hires after the start enter late (``entry`` > 0).

    Parameters
    ----------
    participants, employment : DataFrame
        The cohort's tables.
    programme_start, censor_date : date
        The plan's dates.

    Returns
    -------
    data : DataFrame with the participant columns plus ``entry, time`` (days), ``event`` (1 = voluntary
        exit) and ``status`` (0 censored, 1 voluntary, 2 involuntary exit: the competing risk).
    exclusions : DataFrame with ``participant_id, arm, reason`` for people left out.

    Examples
    --------
    >>> from rmstudy.contract.cohort import load_cohort
    >>> c = load_cohort("data/demo")
    >>> data, excl = retention_data(c.participants, c.employment, c.study.programme_start, c.study.censor_date)
    >>> len(data), len(excl), int(data["event"].sum()) > 0
    (597, 3, True)
    """
    start = pd.Timestamp(programme_start)
    censor = pd.Timestamp(censor_date)
    d = participants.merge(employment, on="participant_id", how="inner", validate="one_to_one")
    exit_ = d["exit_date"]
    left_before = exit_.notna() & (exit_ <= start)
    end = exit_.where(exit_.notna() & (exit_ <= censor), censor)
    time = (end - start).dt.days.astype(float)
    entry = ((d["hire_date"] - start).dt.days.clip(lower=0)).astype(float)
    event = (d["exit_reason"].eq("voluntary") & exit_.notna() & (exit_ <= censor)).astype(int)
    hired_after_end = entry >= time
    reasons = np.where(left_before, "left on or before the programme start",
                       np.where(hired_after_end, "hired after the end of follow-up", ""))
    status = np.where(event == 1, 1, np.where(d["exit_reason"].eq("involuntary") & exit_.notna() & (exit_ <= censor), 2, 0))
    out = d.assign(entry=entry, time=time, event=event, status=status)
    keep = reasons == ""
    exclusions = out.loc[~keep, ["participant_id", "arm"]].assign(reason=reasons[~keep])
    return out.loc[keep].reset_index(drop=True), exclusions.reset_index(drop=True)


def cox_ph(data: pd.DataFrame, covariate: str = "arm", level: str = "program", ties: str = "efron",
           alpha: float = 0.05) -> dict:
    """Cox proportional hazards for ``covariate == level`` (vs the rest).

    Returns a dict: ``estimate`` (log hazard ratio), ``se``, ``z``, ``p_value``
    (Wald, two-sided), ``ci_low``/``ci_high`` (log scale), ``hazard_ratio``,
    ``hr_ci_low``/``hr_ci_high``, ``n``, ``events``, ``ties``.

    Parameters
    ----------
    data : DataFrame
        :func:`retention_data`'s table (``arm``, ``entry``, ``time``, ``event``).
    covariate, level : str
        The indicator ``covariate == level``.
    ties : {'efron', 'breslow'}
    alpha : float

    Returns
    -------
    dict

    Examples
    --------
    >>> from rmstudy.contract.cohort import load_cohort
    >>> c = load_cohort("data/demo")
    >>> data, _ = retention_data(c.participants, c.employment, c.study.programme_start, c.study.censor_date)
    >>> r = cox_ph(data)                                       # Efron ties, as R's coxph
    >>> round(r["hazard_ratio"], 3), round(r["hr_ci_low"], 3), round(r["hr_ci_high"], 3)
    (0.503, 0.304, 0.83)
    """
    from statsmodels.duration.hazard_regression import PHReg

    x = (data[covariate] == level).to_numpy(dtype=float)[:, None]
    model = PHReg(data["time"].to_numpy(dtype=float), x, status=data["event"].to_numpy(dtype=int),
                  entry=_entry(data), ties=ties)
    res = model.fit()
    b, se = float(res.params[0]), float(res.bse[0])
    zc = stats.norm.ppf(1 - alpha / 2)
    z = b / se
    return {"estimate": b, "se": se, "z": z, "p_value": float(2 * stats.norm.sf(abs(z))),
            "ci_low": b - zc * se, "ci_high": b + zc * se, "hazard_ratio": float(np.exp(b)),
            "hr_ci_low": float(np.exp(b - zc * se)), "hr_ci_high": float(np.exp(b + zc * se)),
            "n": int(len(data)), "events": int(data["event"].sum()), "ties": ties}


def km_horizons(data: pd.DataFrame, horizons, by: str = "arm", alpha: float = 0.05) -> pd.DataFrame:
    """Kaplan–Meier retention (probability of no voluntary exit) at each horizon.

    Returns columns ``group, horizon_days, n, events_by_horizon, n_at_risk,
    retention, ci_low, ci_high`` (log-type CI, as R's default).

    Parameters
    ----------
    data : DataFrame
        :func:`retention_data`'s table (``arm``, ``entry``, ``time``, ``event``).
    horizons : iterable of int
        Days since the programme start.
    by : str
        The grouping column.
    alpha : float

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> from rmstudy.contract.cohort import load_cohort
    >>> c = load_cohort("data/demo")
    >>> data, _ = retention_data(c.participants, c.employment, c.study.programme_start, c.study.censor_date)
    >>> km_horizons(data, [365])[["group", "retention"]].round(3).values.tolist()
    [['control', 0.847], ['program', 0.92]]
    """
    from statsmodels.duration.survfunc import SurvfuncRight

    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for g, d in data.groupby(by, sort=True, observed=True):
        entry = d["entry"].to_numpy(float)
        sf = SurvfuncRight(d["time"].to_numpy(float), d["event"].to_numpy(int),
                           entry=entry if np.any(entry > 0) else None)
        t, s, se = sf.surv_times, sf.surv_prob, sf.surv_prob_se
        for h in horizons:
            k = np.searchsorted(t, h, side="right") - 1
            if k < 0:
                surv, se_log = 1.0, 0.0
            else:
                surv = float(s[k])
                se_log = float(se[k] / s[k]) if s[k] > 0 else np.nan
            # risk set at h: entered before h (or at the origin, for h = 0) and not yet out
            at_risk = int(((d["time"] >= h) & ((d["entry"] < h) | (d["entry"] <= 0) & (h <= 0))).sum())
            rows.append({"group": g, "horizon_days": int(h), "n": int(len(d)),
                         "events_by_horizon": int(((d["time"] <= h) & (d["event"] == 1)).sum()),
                         "n_at_risk": at_risk, "retention": surv,
                         "ci_low": surv * np.exp(-z * se_log), "ci_high": min(1.0, surv * np.exp(z * se_log))})
    return pd.DataFrame(rows)


def covariate_matrix(data: pd.DataFrame, covariates=(), arm_level: str = "program") -> tuple[np.ndarray, list[str], list[list[int]]]:
    """Design for Cox models: the arm indicator, then each covariate.

    Numeric covariates enter as they are; text covariates as treatment dummies
    against their first level in sorted order (R's factor default), named
    ``<column><level>`` as R names them. Returns X, column names and the
    columns of each term (R's ``assign``), for the per-term PH test.

    Parameters
    ----------
    data : DataFrame
    covariates : iterable of str
    arm_level : str
        The arm coded 1.

    Returns
    -------
    (numpy array, list of str, list of list of int)

    Examples
    --------
    >>> d = pd.DataFrame({"arm": ["program", "control", "program"], "dept": ["HR", "Sales", "Sales"],
    ...                   "age": [30.0, 40.0, 50.0]})
    >>> X, names, assign = covariate_matrix(d, ["age", "dept"])
    >>> names, assign, X[:, 0].tolist()
    (['armprogram', 'age', 'deptSales'], [[0], [1], [2]], [1.0, 0.0, 1.0])
    """
    cov_cols, cov_names, term_of = covariate_columns(data, covariates, style="r")
    assign = [[0]] + [[1 + j for j, t in enumerate(term_of) if t == k] for k in range(len(covariates))]
    return np.column_stack([arm_indicator(data["arm"], arm_level), *cov_cols]), [f"arm{arm_level}", *cov_names], assign


def cox_model(data: pd.DataFrame, covariates=(), ties: str = "efron", alpha: float = 0.05) -> tuple[pd.DataFrame, dict]:
    """Cox PH of time to voluntary exit on arm (+ covariates), late entry honoured.

    Returns the coefficient table (``term, coef, se, z, p_value, hazard_ratio,
    hr_ci_low, hr_ci_high``) and a dict with the fit's ``params``, ``X``,
    ``assign`` and ``terms`` for :func:`cox_zph`.

    Parameters
    ----------
    data : DataFrame
        :func:`retention_data`'s table (``arm``, ``entry``, ``time``, ``event``).
    covariates : iterable of str
    ties : {'efron', 'breslow'}
    alpha : float

    Returns
    -------
    (DataFrame, dict)

    Examples
    --------
    >>> d = pd.DataFrame({"arm": ["program"] * 4 + ["control"] * 4, "entry": 0.0,
    ...                   "time": [5.0, 8.0, 12.0, 20.0, 3.0, 6.0, 9.0, 15.0],
    ...                   "event": [1, 0, 1, 0, 1, 1, 1, 0], "status": [1, 2, 1, 0, 1, 1, 1, 0]})
    >>> table, fit = cox_model(d)
    >>> table[["term", "coef", "se"]].round(4).values.tolist(), sorted(fit)
    ([['armprogram', -0.6075, 0.9213]], ['X', 'assign', 'params', 'terms', 'ties'])
    """
    from statsmodels.duration.hazard_regression import PHReg

    X, names, assign = covariate_matrix(data, covariates)
    if np.isnan(X).any():
        raise ModelError("cox_model: a covariate has missing values; the plan's covariates must be complete")
    res = PHReg(data["time"].to_numpy(float), X, status=data["event"].to_numpy(int),
                entry=_entry(data), ties=ties).fit()
    zc = stats.norm.ppf(1 - alpha / 2)
    b, se = np.asarray(res.params), np.asarray(res.bse)
    tab = pd.DataFrame({"term": names, "coef": b, "se": se, "z": b / se, "p_value": 2 * stats.norm.sf(np.abs(b / se)),
                        "hazard_ratio": np.exp(b), "hr_ci_low": np.exp(b - zc * se), "hr_ci_high": np.exp(b + zc * se)})
    return tab, {"params": b, "X": X, "assign": assign, "terms": ["arm", *covariates], "ties": ties}


def logrank(data: pd.DataFrame) -> dict:
    """Log-rank test of arm (statsmodels ``survdiff``, late entry honoured): chi-square on 1 df.

    Parameters
    ----------
    data : DataFrame
        :func:`retention_data`'s table (``arm``, ``entry``, ``time``, ``event``).

    Returns
    -------
    dict
        ``chisq``, ``df`` (1), ``p_value``.

    Examples
    --------
    >>> d = pd.DataFrame({"arm": ["program"] * 4 + ["control"] * 4, "entry": 0.0,
    ...                   "time": [5.0, 8.0, 12.0, 20.0, 3.0, 6.0, 9.0, 15.0],
    ...                   "event": [1, 0, 1, 0, 1, 1, 1, 0], "status": [1, 2, 1, 0, 1, 1, 1, 0]})
    >>> r = logrank(d)
    >>> round(r["chisq"], 4), r["df"], round(r["p_value"], 4)
    (0.4476, 1, 0.5035)
    """
    from statsmodels.duration.survfunc import survdiff

    chisq, p = survdiff(data["time"].to_numpy(float), data["event"].to_numpy(int), data["arm"].to_numpy(),
                        entry=_entry(data))
    return {"chisq": float(chisq), "df": 1, "p_value": float(p)}


def _km_before(time, event, entry, at):
    """Kaplan–Meier S(t-) of all the data at the times ``at`` (late entry honoured)."""
    ut = np.unique(time[event == 1])
    surv = np.ones(len(ut))
    s = 1.0
    for k, t in enumerate(ut):
        n = np.sum((entry < t) & (time >= t))
        d = np.sum((time == t) & (event == 1))
        s *= 1 - d / n
        surv[k] = s
    idx = np.searchsorted(ut, at, side="left")          # number of event times strictly before each t
    return np.r_[1.0, surv][idx]


def cox_zph(data: pd.DataFrame, fit: dict, transform: str = "km") -> pd.DataFrame:
    """Proportional-hazards test as ``survival::cox.zph`` (survival >= 3.0; R >= 4.0).

    A score test, at the fitted coefficients, for adding x * g(t) to the model,
    g the transformed event time centred on its mean over the events: for each
    term, u_g' V^-1 u_g with the full information matrix of (x, x g), Efron or
    Breslow as the fit. ``transform``: 'km' (1 - KM(t-)), 'identity' or 'rank'.
    Returns rows per term and GLOBAL with ``chisq, df, p_value``.

    Parameters
    ----------
    data : DataFrame
        :func:`retention_data`'s table (``arm``, ``entry``, ``time``, ``event``).
    fit : dict
        :func:`cox_model`'s second value.
    transform : {'km', 'identity', 'rank'}

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> d = pd.DataFrame({"arm": ["program"] * 4 + ["control"] * 4, "entry": 0.0,
    ...                   "time": [5.0, 8.0, 12.0, 20.0, 3.0, 6.0, 9.0, 15.0],
    ...                   "event": [1, 0, 1, 0, 1, 1, 1, 0], "status": [1, 2, 1, 0, 1, 1, 1, 0]})
    >>> cox_zph(d, cox_model(d)[1]).round(4).values.tolist()
    [['arm', 0.2736, 1, 0.6009], ['GLOBAL', 0.2736, 1, 0.6009]]
    """
    X, beta, assign = fit["X"], fit["params"], fit["assign"]
    time = data["time"].to_numpy(float)
    event = data["event"].to_numpy(int)
    entry = data["entry"].to_numpy(float)
    if transform == "km":
        g_all = 1 - _km_before(time, event, entry, time)
    elif transform == "identity":
        g_all = time.copy()
    elif transform == "rank":
        g_all = stats.rankdata(time)
    else:
        raise ModelError(f"unknown transform {transform!r}")
    g_all = g_all - g_all[event == 1].mean()
    w = np.exp(X @ beta - (X @ beta).max())
    p = X.shape[1]
    u = np.zeros(2 * p)
    imat = np.zeros((2 * p, 2 * p))
    efron = fit["ties"] == "efron"
    for t in np.unique(time[event == 1]):
        risk = (entry < t) & (time >= t)
        dead = risk & (time == t) & (event == 1)
        g = g_all[dead][0]
        wr, Xr = w[risk], X[risk]
        s0, s1, s2 = wr.sum(), wr @ Xr, (Xr * wr[:, None]).T @ Xr
        wd, Xd = w[dead], X[dead]
        d0, d1, d2 = wd.sum(), wd @ Xd, (Xd * wd[:, None]).T @ Xd
        nd = int(dead.sum())
        xsum = Xd.sum(axis=0)
        mean_sum = np.zeros(p)
        V = np.zeros((p, p))
        for k in range(nd):
            f = k / nd if efron else 0.0
            a0, a1, a2 = s0 - f * d0, s1 - f * d1, s2 - f * d2
            m = a1 / a0
            mean_sum += m
            V += a2 / a0 - np.outer(m, m)
        u[p:] += g * (xsum - mean_sum)
        imat[:p, :p] += V
        imat[:p, p:] += g * V
        imat[p:, :p] += g * V
        imat[p:, p:] += g * g * V
    rows = []
    for term, jj in zip(fit["terms"], assign):
        kk = list(range(p)) + [j + p for j in jj]
        uu = np.r_[np.zeros(p), u[[j + p for j in jj]]]
        chisq = float(uu @ np.linalg.solve(imat[np.ix_(kk, kk)], uu))
        rows.append({"term": term, "chisq": chisq, "df": len(jj), "p_value": float(stats.chi2.sf(chisq, len(jj)))})
    uu = np.r_[np.zeros(p), u[p:]]
    chisq = float(uu @ np.linalg.solve(imat, uu))
    rows.append({"term": "GLOBAL", "chisq": chisq, "df": p, "p_value": float(stats.chi2.sf(chisq, p))})
    return pd.DataFrame(rows)


def cumulative_incidence(data: pd.DataFrame, horizons, cause: int = 1, by: str = "arm", alpha: float = 0.05) -> pd.DataFrame:
    """Aalen–Johansen cumulative incidence of ``cause`` (1 = voluntary exit) with the
    other exit as a competing risk, by group, at the horizons.

    Variance: the delta-method estimator (Pintilie 2006, eq. 4.5); the CI is R's
    ``conf.type = "log"``, F·exp(∓z·SE/F), capped at 1. R's ``survfit`` reports an
    infinitesimal-jackknife SE for multi-state curves; without late entry the two
    agree (tests/test_survival_reference.py shows by how much with it).

    Parameters
    ----------
    data : DataFrame
        :func:`retention_data`'s table (``status``: 0 censored, 1 voluntary, 2 involuntary exit).
    horizons : iterable of int
    cause : int
    by : str
    alpha : float

    Returns
    -------
    DataFrame
        ``group, horizon_days, cause, incidence, se, ci_low, ci_high``.

    Examples
    --------
    >>> d = pd.DataFrame({"arm": ["program"] * 4 + ["control"] * 4, "entry": 0.0,
    ...                   "time": [5.0, 8.0, 12.0, 20.0, 3.0, 6.0, 9.0, 15.0],
    ...                   "event": [1, 0, 1, 0, 1, 1, 1, 0], "status": [1, 2, 1, 0, 1, 1, 1, 0]})
    >>> ci = cumulative_incidence(d, [10])      # control: 3 of 4 left by day 10; program: 1 (one more left involuntarily)
    >>> ci[["group", "incidence"]].values.tolist()
    [['control', 0.75], ['program', 0.25]]
    """
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for grp, d in data.groupby(by, sort=True, observed=True):
        time, status, entry = d["time"].to_numpy(float), d["status"].to_numpy(int), d["entry"].to_numpy(float)
        ut = np.unique(time[status > 0])
        S, F = 1.0, 0.0
        steps = []                      # (t, n, d_all, d_cause, S_before, F_after)
        for t in ut:
            n = np.sum((entry < t) & (time >= t))
            d_all = np.sum((time == t) & (status > 0))
            d_c = np.sum((time == t) & (status == cause))
            F += S * d_c / n
            steps.append((t, n, d_all, d_c, S, F))
            S *= 1 - d_all / n
        for h in horizons:
            sel = [st for st in steps if st[0] <= h]
            Fh = sel[-1][5] if sel else 0.0
            var = 0.0
            for t, n, d_all, d_c, S_b, F_j in sel:     # delta method (Pintilie 2006, eq. 4.5)
                if n > d_all:
                    var += (Fh - F_j) ** 2 * d_all / (n * (n - d_all))
                var += S_b ** 2 * d_c * (n - d_c) / n ** 3 - 2 * (Fh - F_j) * S_b * d_c / n ** 2
            se = float(np.sqrt(max(var, 0.0)))
            f = np.exp(z * se / Fh) if Fh > 0 else np.nan
            rows.append({"group": grp, "horizon_days": int(h), "cause": cause, "incidence": float(Fh), "se": se,
                         "ci_low": Fh / f if Fh > 0 else 0.0, "ci_high": min(1.0, Fh * f) if Fh > 0 else 0.0})
    return pd.DataFrame(rows)
