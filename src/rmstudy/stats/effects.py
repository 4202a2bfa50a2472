"""Effect sizes for the difference in change, and the smallest effect size of interest (SESOI) on the scale a
test needs."""

from __future__ import annotations

__all__ = ["pooled_baseline_sd", "d_ppc2", "hedges_correction", "d_per_raw", "sesoi_bound"]

import numpy as np
import pandas as pd


def hedges_correction(df: int) -> float:
    """Small-sample correction c(df) = 1 - 3 / (4 df - 1) (Morris 2008, eq. 10).

    Parameters
    ----------
    df : int
        Degrees of freedom, n_t + n_c - 2.

    Returns
    -------
    float

    Examples
    --------
    >>> round(hedges_correction(38), 4)
    0.9801
    """
    return 1 - 3 / (4 * df - 1)


def pooled_baseline_sd(baseline: pd.DataFrame, score: str = "score", arm: str = "arm",
                       treated: str = "program", control: str = "control") -> tuple[float, int, int]:
    """Pooled SD of the baseline scores of the two arms: (sd, n_treated, n_control).

    Parameters
    ----------
    baseline : DataFrame
        One row per participant at baseline.
    score, arm : str
        Its score and arm columns.
    treated, control : str
        The two arms' values.

    Returns
    -------
    (float, int, int)
        The pooled SD (NaN when either arm has fewer than 2 scores) and the two arm sizes.

    Examples
    --------
    >>> b = pd.DataFrame({"arm": ["program"] * 3 + ["control"] * 3, "score": [1.0, 2.0, 3.0, 2.0, 4.0, 6.0]})
    >>> sd, nt, nc = pooled_baseline_sd(b)
    >>> round(sd, 4), nt, nc
    (1.5811, 3, 3)
    """
    t = baseline.loc[baseline[arm] == treated, score].dropna()
    c = baseline.loc[baseline[arm] == control, score].dropna()
    nt, nc = len(t), len(c)
    sd = np.sqrt(((nt - 1) * t.var(ddof=1) + (nc - 1) * c.var(ddof=1)) / (nt + nc - 2))
    return float(sd), nt, nc


def d_ppc2(diff_in_change: float, ci_low: float, ci_high: float, sd_pre: float, n_t: int, n_c: int) -> dict:
    """Morris (2008) d_ppc2: the difference in change over the pooled baseline SD,
    times the small-sample correction c(n_t + n_c - 2).

    The CI rescales the model's CI for the difference in change in the same way
    (the baseline SD treated as known), so it inherits the model's handling of
    dropouts and the within-person correlation.

    Parameters
    ----------
    diff_in_change : float
        The model's estimate: programme minus control, change from baseline.
    ci_low, ci_high : float
        Its confidence interval.
    sd_pre : float
        :func:`pooled_baseline_sd`.
    n_t, n_c : int
        The arm sizes at baseline.

    Returns
    -------
    dict
        ``name`` (``d_ppc2``), ``value``, ``ci_low``, ``ci_high``.

    Examples
    --------
    >>> es = d_ppc2(0.5, 0.1, 0.9, 1.0, 20, 20)
    >>> es["name"], round(es["value"], 4), round(es["ci_low"], 4)
    ('d_ppc2', 0.4901, 0.098)
    """
    c = hedges_correction(n_t + n_c - 2)
    f = c / sd_pre
    return {"name": "d_ppc2", "value": diff_in_change * f, "ci_low": ci_low * f, "ci_high": ci_high * f}


def d_per_raw(estimate: float, d_value: float, baseline_sd: float) -> float:
    """How many d units one scale point of the estimate is: ``d_value / estimate`` (the effect size's own
    scaling, small-sample correction included), or ``1 / baseline_sd`` for an estimate of exactly 0.

    Parameters
    ----------
    estimate : float
        The raw estimate (scale points).
    d_value : float
        Its effect size.
    baseline_sd : float
        The pooled baseline SD.

    Returns
    -------
    float

    Examples
    --------
    >>> d_per_raw(0.5, 0.49, 1.0), d_per_raw(0.0, 0.0, 2.0)
    (0.98, 0.5)
    """
    return d_value / estimate if estimate else 1 / baseline_sd


def sesoi_bound(sesoi: float, units: str, per_raw: float | None = None) -> float:
    """The plan's SESOI on the scale its test uses: scale points for a survey row, log hazard ratio for retention.

    Parameters
    ----------
    sesoi : the plan's value (``sesoi``).
    units : ``"d"`` (standardised, divided by ``|per_raw|``), ``"raw"`` (scale points, as it is) or
        ``"hazard_ratio"`` (``|log(sesoi)|``).
    per_raw : d units per scale point (:func:`d_per_raw`); needed for ``"d"``.

    Returns
    -------
    float
        The equivalence bound (positive).

    Examples
    --------
    >>> sesoi_bound(0.2, "d", per_raw=0.5), sesoi_bound(0.3, "raw"), round(sesoi_bound(0.8, "hazard_ratio"), 4)
    (0.4, 0.3, 0.2231)
    """
    if units == "hazard_ratio":
        return float(abs(np.log(sesoi)))
    if units == "d":
        if per_raw is None:
            raise ValueError("a SESOI in d units needs the d units per scale point (per_raw)")
        return float(sesoi / abs(per_raw))
    return float(sesoi)
