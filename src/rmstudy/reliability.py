"""Reliability of scales: Cronbach's alpha (raw and standardised, with a
Feldt CI) and McDonald's omega total from a one-factor minres solution.

Missing-data policy: as ``psych::alpha`` — covariances and correlations are
computed pairwise (each pair of items over the rows that answered both).
Rows with no answered item are left out.
"""

from __future__ import annotations

__all__ = ["cronbach_alpha", "omega_total", "reliability_table"]

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .codebook import Codebook
from .scoring import reverse_key


def cronbach_alpha(items: pd.DataFrame, ci: float = 0.95) -> dict:
    """Cronbach's alpha of an item matrix (already reverse-keyed).

    Returns a dict: ``n`` (rows with at least one answer), ``k`` (items),
    ``alpha`` (raw, from the pairwise covariance matrix), ``alpha_std``
    (from that matrix rescaled to correlations, as ``psych::alpha``), ``average_r`` and the Feldt
    (1965) confidence interval ``alpha_ci_low``/``alpha_ci_high``.
    """
    x = items.dropna(how="all")
    k = x.shape[1]
    n = len(x)
    if k < 2 or n < 3:
        return {"n": n, "k": k, "alpha": np.nan, "alpha_std": np.nan, "average_r": np.nan,
                "alpha_ci_low": np.nan, "alpha_ci_high": np.nan}
    C = x.cov().to_numpy()          # pairwise complete
    sd = np.sqrt(np.diag(C))
    R = C / np.outer(sd, sd)        # cov2cor of the pairwise covariances, as psych::alpha
    alpha = (1 - np.trace(C) / C.sum()) * k / (k - 1)
    rbar = (R.sum() - k) / (k * (k - 1))
    alpha_std = k * rbar / (1 + (k - 1) * rbar)
    lo, hi = _feldt(alpha, n, k, ci)
    return {"n": n, "k": k, "alpha": float(alpha), "alpha_std": float(alpha_std), "average_r": float(rbar),
            "alpha_ci_low": lo, "alpha_ci_high": hi}


def _feldt(alpha: float, n: int, k: int, ci: float) -> tuple[float, float]:
    """Feldt CI: (1 - alpha) / (1 - alpha_hat) follows F(n-1, (n-1)(k-1))."""
    a = (1 - ci) / 2
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lo = 1 - (1 - alpha) * stats.f.ppf(1 - a, df1, df2)
    hi = 1 - (1 - alpha) * stats.f.ppf(a, df1, df2)
    return float(lo), float(hi)


def omega_total(items: pd.DataFrame) -> float:
    """McDonald's omega total from a one-factor minres (ULS) solution on the
    pairwise correlation matrix: 1 - sum(uniquenesses) / sum(R)."""
    R = items.dropna(how="all").corr().to_numpy()
    k = R.shape[0]
    if k < 3 or not np.all(np.isfinite(R)):
        return np.nan
    off = ~np.eye(k, dtype=bool)

    def resid(lam):
        return (R - np.outer(lam, lam))[off]

    start = np.sqrt(np.clip(np.abs(R[off].reshape(k, k - 1)).mean(axis=1), 0.05, 0.95))
    sol = optimize.least_squares(resid, start, xtol=1e-14, ftol=1e-14, gtol=1e-14)
    lam = sol.x
    u2 = 1 - lam**2
    return float(1 - u2.sum() / R.sum())


def reliability_table(responses: pd.DataFrame, participants: pd.DataFrame, codebook: Codebook,
                      waves, by: str = "role") -> pd.DataFrame:
    """Alpha and omega per scale × wave × group (each level of ``by`` and 'all').

    Returns columns ``scale, wave, role, n, k, alpha, alpha_std, average_r,
    alpha_ci_low, alpha_ci_high, omega``.
    """
    keyed = reverse_key(responses, codebook).merge(participants[["participant_id", by]], on="participant_id", how="left")
    rows = []
    groups = sorted(participants[by].dropna().unique())
    for s in codebook.scales.values():
        for w in waves:
            at_w = keyed[keyed["wave"] == w]
            for g in groups + ["all"]:
                sub = at_w if g == "all" else at_w[at_w[by] == g]
                items = sub[list(s.items)]
                a = cronbach_alpha(items)
                rows.append({"scale": s.name, "wave": str(w), "role": g, **a, "omega": omega_total(items)})
    return pd.DataFrame(rows)
