"""Cox proportional hazards for one binary covariate (programme vs comparison), fitted for a batch of simulated cohorts.

The run fits ``cox_ph`` (statsmodels ``PHReg``, Efron ties, Wald test). Simulated follow-up times are continuous, so
no two events tie and Efron's, Breslow's and the exact partial likelihood are the same function:

    l(beta) = sum_{events j} [beta x_j - log(n0_j + exp(beta) n1_j)],

with n1_j, n0_j the programme and comparison members still at risk at the j-th event time. The score and
information follow from p_j = exp(beta) n1_j / (n0_j + exp(beta) n1_j):

    U(beta) = sum_j (x_j - p_j),    I(beta) = sum_j p_j (1 - p_j).

Newton-Raphson from beta = 0 runs for every cohort at once (sorting each cohort's times once); the Wald z is
beta_hat * sqrt(I(beta_hat)), two-sided p from the normal, as ``cox_ph`` reports. A cohort whose events all fall in
one arm has no finite estimate (the likelihood is monotone); it gets p = 1 (statsmodels would report an enormous SE).
tests/test_power_engine.py compares every cohort with ``rmstudy.stats.models.survival.cox_ph``.
"""

from __future__ import annotations

__all__ = ["cox_binary"]

import numpy as np
from scipy import stats

MAX_STEPS = 50
MAX_ABS_BETA = 20.0


def cox_binary(time: np.ndarray, event: np.ndarray, x: np.ndarray) -> dict:
    """Log hazard ratio of ``x == 1`` for each cohort of a batch, by Newton-Raphson on the partial likelihood.

    Parameters
    ----------
    time : ndarray (B, N)
        Follow-up times of B cohorts of N participants (continuous: no ties).
    event : ndarray (B, N)
        1 (or True) for an event, 0 for a censored time.
    x : ndarray (N,)
        0/1 covariate (1 = programme), the same in every cohort.

    Returns
    -------
    dict
        ``estimate, se, p_value``: arrays (B,) of the log hazard ratio, its SE and the two-sided Wald p (0, inf and 1
        for a cohort without a finite estimate).

    Examples
    --------
    Two cohorts of four (programme members first and third). In the second everyone exits, the programme members at
    days 1 and 3; in the first, the only comparison exit comes when no programme member is left at risk (a monotone
    likelihood: no finite estimate).

    >>> t = np.array([[1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]])
    >>> r = cox_binary(t, np.array([[1, 0, 1, 1], [1, 1, 1, 1]]), np.array([1, 0, 1, 0]))
    >>> np.round(r["estimate"], 3), np.round(r["se"], 3), np.round(r["p_value"], 3)
    (array([0.   , 0.941]), array([ inf, 1.24]), array([1.   , 0.448]))
    """
    B, N = time.shape
    order = np.argsort(time, axis=1, kind="stable")
    xs = x[order]
    ev = np.take_along_axis(event, order, axis=1).astype(float)
    n1 = np.cumsum(xs[:, ::-1], axis=1)[:, ::-1]            # programme members at risk at each sorted time
    n0 = (N - np.arange(N))[None, :] - n1
    beta = np.zeros(B)
    active = np.ones(B, dtype=bool)             # a cohort stops moving once its own step is below 1e-12, so its
    for _ in range(MAX_STEPS):                   # answer does not depend on the other cohorts of the batch
        e = np.exp(beta)[:, None]
        p = e * n1 / (n0 + e * n1)
        score = (ev * (xs - p)).sum(1)
        info = (ev * p * (1 - p)).sum(1)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.clip(np.where(info > 0, score / info, 0.0), -2, 2)
        beta = np.where(active, np.clip(beta + step, -MAX_ABS_BETA, MAX_ABS_BETA), beta)
        active &= np.abs(step) >= 1e-12
        if not active.any():
            break
    e = np.exp(beta)[:, None]
    p = e * n1 / (n0 + e * n1)
    info = (ev * p * (1 - p)).sum(1)
    ok = (info > 0) & (np.abs(beta) < MAX_ABS_BETA - 1)
    with np.errstate(divide="ignore"):
        se = np.where(ok, 1 / np.sqrt(np.where(ok, info, 1.0)), np.inf)
    z = np.where(ok, beta / se, 0.0)
    return {"estimate": np.where(ok, beta, 0.0), "se": se, "p_value": np.where(ok, 2 * stats.norm.sf(np.abs(z)), 1.0)}
