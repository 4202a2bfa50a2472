"""Effect sizes for the difference in change."""

from __future__ import annotations

__all__ = ["pooled_baseline_sd", "d_ppc2", "hedges_correction"]

import numpy as np
import pandas as pd


def hedges_correction(df: int) -> float:
    """Small-sample correction c(df) = 1 - 3 / (4 df - 1) (Morris 2008, eq. 10)."""
    return 1 - 3 / (4 * df - 1)


def pooled_baseline_sd(baseline: pd.DataFrame, score: str = "score", arm: str = "arm",
                       treated: str = "program", control: str = "control") -> tuple[float, int, int]:
    """Pooled SD of the baseline scores of the two arms: (sd, n_treated, n_control)."""
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
    """
    c = hedges_correction(n_t + n_c - 2)
    f = c / sd_pre
    return {"name": "d_ppc2", "value": diff_in_change * f, "ci_low": ci_low * f, "ci_high": ci_high * f}
