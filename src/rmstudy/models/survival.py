"""Time to voluntary exit: the analysis data set, Cox PH and Kaplan–Meier.

Cox models use statsmodels ``PHReg`` (Efron ties, R's default; Breslow as a
check), with late entry (left truncation) through ``entry``. Kaplan–Meier
uses statsmodels ``SurvfuncRight`` with R's default ``conf.type = "log"``
interval: S * exp(±z * se(log S)), se from Greenwood's formula.
"""

from __future__ import annotations

__all__ = ["retention_data", "cox_ph", "km_horizons"]

import numpy as np
import pandas as pd
from scipy import stats


def retention_data(participants: pd.DataFrame, employment: pd.DataFrame, programme_start, censor_date):
    """Build the time-to-event table.

    Clock starts at ``programme_start``; the event is a voluntary exit on or
    before ``censor_date``; involuntary exits are censored at their date;
    hires after the start enter late (``entry`` > 0).

    Returns
    -------
    data : DataFrame with ``participant_id, arm, role, age, entry, time, event`` (days).
    exclusions : DataFrame with ``participant_id, arm, reason`` for people left out.
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
    out = d.assign(entry=entry, time=time, event=event)
    keep = reasons == ""
    exclusions = out.loc[~keep, ["participant_id", "arm"]].assign(reason=reasons[~keep])
    return out.loc[keep].reset_index(drop=True), exclusions.reset_index(drop=True)


def cox_ph(data: pd.DataFrame, covariate: str = "arm", level: str = "program", ties: str = "efron",
           alpha: float = 0.05) -> dict:
    """Cox proportional hazards for ``covariate == level`` (vs the rest).

    Returns a dict: ``estimate`` (log hazard ratio), ``se``, ``z``, ``p_value``
    (Wald, two-sided), ``ci_low``/``ci_high`` (log scale), ``hazard_ratio``,
    ``hr_ci_low``/``hr_ci_high``, ``n``, ``events``, ``ties``.
    """
    from statsmodels.duration.hazard_regression import PHReg

    x = (data[covariate] == level).to_numpy(dtype=float)[:, None]
    entry = data["entry"].to_numpy(dtype=float)
    model = PHReg(data["time"].to_numpy(dtype=float), x, status=data["event"].to_numpy(dtype=int),
                  entry=entry if np.any(entry > 0) else None, ties=ties)
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
