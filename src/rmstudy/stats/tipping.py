"""Delta-adjusted multiple imputation (tipping-point analysis) for missing-not-at-random attrition.

The primary models assume missing at random (MAR): a participant who left is assumed to have gone on like the
participants still answering who looked like them at the waves they answered. :func:`tipping_point` asks how
wrong that must be before the conclusion changes. Every participant of the analysed population without a score
at the contrast's later wave (a dropout) has that score imputed under MAR, then shifted by delta (scale points):
in the programme arm only, or in both arms. Each completed data set is analysed by the difference between arms
in mean change (later wave minus baseline wave; with every score present this is what the primary models
estimate), and the estimates are pooled with Rubin's rules (Barnard–Rubin df, as ``mice::pool``). The tipping
point is the delta at which the pooled two-sided p crosses alpha.

Imputation is ``mice`` with ``method = "norm"`` (Bayesian linear regression: coefficients and residual SD drawn
from their posterior; chained equations over the waves, each wave regressed on all the others), separately in
each arm, so the arms keep their own trajectories. The chains run side by side, one per imputation, vectorised
over the imputations. Checked against R's ``mice`` within Monte-Carlo error (tests/reference/mmrm/).
"""

from __future__ import annotations

__all__ = ["impute_norm", "pool_rubin", "tipping_point", "delta_grid"]

import numpy as np
import pandas as pd
from scipy import optimize, special

from rmstudy.errors import ModelError

RIDGE = 1e-5          # mice's default ridge for .norm.draw


def impute_norm(Y: np.ndarray, m: int, rng: np.random.Generator, maxit: int = 10) -> np.ndarray:
    """``m`` completed copies (m, n, T) of the n x T matrix ``Y`` (NaN = missing) by chained Bayesian linear
    regressions (mice's ``norm``): start from random draws of each column's observed values, then ``maxit``
    sweeps over the columns with missing values, each regressed (with an intercept) on all the other columns.

    A regression's cross-products are split into the rows whose predictors were all observed (the same in
    every imputation and sweep: summed once) and the rows with an imputed predictor (summed per imputation at
    each sweep), so a sweep costs the incomplete rows, not all n. The random draws are mice's, in the order
    the plain per-imputation computation makes them (``tests/test_mmrm_tipping.py`` checks the two agree).

    Parameters
    ----------
    Y : ndarray
        n x T scores, NaN where missing; every column needs an observed value.
    m : int
        Number of imputations.
    rng : numpy.random.Generator
    maxit : int
        Sweeps of the chained equations (one suffices, and is used, when one column is incomplete).

    Returns
    -------
    ndarray
        (m, n, T): the observed values kept, the missing ones drawn.

    Examples
    --------
    >>> Y = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 4.0], [4.0, 5.0]])
    >>> Z = impute_norm(Y, m=3, rng=np.random.default_rng(0))
    >>> Z.shape, bool(np.isnan(Z).any()), bool((Z[:, [0, 2, 3]] == Y[[0, 2, 3]]).all())
    ((3, 4, 2), False, True)
    """
    n, T = Y.shape
    miss = np.isnan(Y)
    if (miss.all(axis=0)).any():
        raise ModelError("impute_norm: a wave has no observed values in this group")
    # wave-major (T, n, m): a wave's rows of every imputation are contiguous
    W = np.empty((T, n, m))
    W[...] = Y.T[:, :, None]                    # a broadcast copy (np.repeat copies element by element)
    for col in range(T):
        obs = Y[~miss[:, col], col]
        k = int(miss[:, col].sum())
        if k:
            W[col, miss[:, col]] = rng.choice(obs, size=(m, k)).T
    # with one incomplete column the chained equations are at their stationary distribution after one sweep
    sweeps = 0 if not miss.any() else 1 if int(miss.any(axis=0).sum()) == 1 else maxit
    regressions = [_Regression(Y, miss, j) for j in np.flatnonzero(miss.any(axis=0)).tolist()] if sweeps else []
    for _ in range(sweeps):
        for r in regressions:
            r.draw(W, m, rng)
    return W.transpose(2, 1, 0)        # a view: the caller copies it where it keeps it


class _Regression:
    """One chained regression of wave ``j`` on an intercept and the other waves, over the rows observed at j.

    ``fixed`` holds the cross-products of [1, predictors, y] over the rows whose predictors were all observed;
    the rows with an imputed predictor (``varying``) are added per imputation at each draw."""

    def __init__(self, Y: np.ndarray, miss: np.ndarray, j: int):
        self.j, self.others = j, [c for c in range(Y.shape[1]) if c != j]
        ry = ~miss[:, j]
        some = miss[:, self.others].any(axis=1)
        fixed = ry & ~some
        # row numbers, not masks: gathering and scattering by them costs the rows taken, not all n
        self.varying, self.missing = np.flatnonzero(ry & some), np.flatnonzero(~ry)
        A = np.column_stack([np.ones(int(fixed.sum())), Y[fixed][:, self.others], Y[fixed, j]])
        self.fixed = A.T @ A
        self.y = Y[self.varying, j]
        self.n_obs = int(ry.sum())

    def _cross(self, W: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(X'X (m, p, p), X'y (m, p), y'y (m,)) over every observed row of wave j, per imputation."""
        p = 1 + len(self.others)
        G = [W[c][self.varying] for c in self.others]             # per predictor (rows, m): with imputed values
        xtx = np.empty((m, p, p))
        xtx[:] = self.fixed[:p, :p]
        xty = np.empty((m, p))
        xty[:] = self.fixed[:p, p]
        xtx[:, 0, 0] += len(self.y)
        xty[:, 0] += self.y.sum()
        for a in range(p - 1):
            s = G[a].sum(axis=0)
            xtx[:, 0, 1 + a] += s
            xtx[:, 1 + a, 0] += s
            xty[:, 1 + a] += self.y @ G[a]
            for b in range(a, p - 1):
                s = np.einsum("km,km->m", G[a], G[b])
                xtx[:, 1 + a, 1 + b] += s
                if b != a:
                    xtx[:, 1 + b, 1 + a] += s
        return xtx, xty, np.full(m, self.fixed[p, p] + self.y @ self.y)

    def draw(self, W: np.ndarray, m: int, rng: np.random.Generator) -> None:
        """Draw the coefficients and residual SD from their posterior and impute wave j's missing rows."""
        xtx, xty, yty = self._cross(W, m)
        p = xtx.shape[1]
        ridged = xtx + np.einsum("mkk->mk", xtx)[:, :, None] * np.eye(p) * RIDGE
        V = np.linalg.inv(ridged)
        V = (V + V.transpose(0, 2, 1)) / 2
        coef = (V @ xty[:, :, None])[:, :, 0]
        # the residual sum of squares of any coefficients b: y'y - 2 b'X'y + b'X'X b
        rss = yty - 2 * np.einsum("mp,mp->m", coef, xty) + np.einsum("mp,mpq,mq->m", coef, xtx, coef)
        df = max(self.n_obs - p, 1)
        sig = np.sqrt(np.maximum(rss, 0.0) / rng.chisquare(df, size=m))
        draw = (np.linalg.cholesky(V) @ rng.standard_normal((m, p, 1)))[:, :, 0]
        beta = coef + draw * sig[:, None]
        k = len(self.missing)
        fit = np.repeat(beta[None, :, 0], k, axis=0)
        for a, c in enumerate(self.others):
            fit += W[c, self.missing] * beta[None, :, 1 + a]
        W[self.j, self.missing] = fit + rng.standard_normal((m, k)).T * sig[None, :]


def pool_rubin(q: np.ndarray, u: np.ndarray, dfcom: float, alpha: float = 0.05) -> dict:
    """Rubin's rules for m estimates ``q`` with variances ``u``; Barnard–Rubin df with complete-data df
    ``dfcom`` (mice's ``pool``).

    Parameters
    ----------
    q, u : ndarray
        The m estimates and their (squared-SE) variances.
    dfcom : float
        Complete-data degrees of freedom.
    alpha : float
        1 - the CI's coverage.

    Returns
    -------
    dict
        ``estimate, se, df, ci_low, ci_high, p_value, fmi`` (fraction of missing information).

    Examples
    --------
    Mean 1.0; total variance 0.04 + (1 + 1/3) x 0.04 = 0.0933, so se = 0.3055:

    >>> r = pool_rubin(np.array([1.0, 1.2, 0.8]), np.array([0.04, 0.05, 0.03]), dfcom=20)
    >>> round(r["estimate"], 4), round(r["se"], 4), round(r["df"], 2), round(r["p_value"], 4)
    (1.0, 0.3055, 3.44, 0.0383)
    """
    m = len(q)
    qbar, ubar, b = float(np.mean(q)), float(np.mean(u)), float(np.var(q, ddof=1))
    t = ubar + (1 + 1 / m) * b
    lam = (1 + 1 / m) * b / t
    lam_df = max(lam, 1e-4)                     # mice's barnard.rubin floors lambda at 1e-4
    df_old = (m - 1) / lam_df**2
    df_obs = (dfcom + 1) / (dfcom + 3) * dfcom * (1 - lam_df)
    df = float(df_old * df_obs / (df_old + df_obs))
    se = float(np.sqrt(t))
    half = float(special.stdtrit(df, 1 - alpha / 2)) * se
    return {"estimate": qbar, "se": se, "df": df, "ci_low": float(qbar - half), "ci_high": float(qbar + half),
            "p_value": float(2 * special.stdtr(df, -abs(qbar / se))), "fmi": _fmi(b, ubar, m, df)}


def _fmi(b: float, ubar: float, m: int, df: float) -> float:
    """mice's fraction of missing information: (r + 2 / (df + 3)) / (r + 1), r the relative increase in variance."""
    r = (1 + 1 / m) * b / ubar
    return float((r + 2 / (df + 3)) / (r + 1))


class _Changes:
    """Per completed set, what the difference in mean change and its variance need, so that any delta costs O(m):
    shifting the dropouts' later score by delta moves an arm's mean change by delta x (share of dropouts) and its
    variance by 2 delta cov(change, dropout) + delta^2 var(dropout)."""

    def __init__(self, arms: list, ib: int, il: int):
        self.arms = []
        for Z, drop in arms:                   # (imputations (m, n, T) of one arm, its dropouts)
            # participant-major (n, m), as impute_norm lays its imputations out: every sum runs down the columns
            c, d = Z[:, :, il].T - Z[:, :, ib].T, drop.astype(float)
            n = c.shape[0]
            mean = c.mean(axis=0)
            c -= mean
            self.arms.append({"n": n, "mean": mean, "var": np.einsum("nm,nm->m", c, c) / (n - 1), "f": d.mean(),
                              "cov": (d - d.mean()) @ c / (n - 1), "vd": d.var(ddof=1) if n > 1 else 0.0})

    def estimates(self, delta: float, both: bool) -> tuple[np.ndarray, np.ndarray]:
        out = []
        for k, a in enumerate(self.arms):
            dl = delta if (k == 0 or both) else 0.0
            out.append((a["mean"] + dl * a["f"], a["var"] + 2 * dl * a["cov"] + dl * dl * a["vd"], a["n"]))
        (mp, vp, n_p), (mc, vc, nc) = out
        s2 = ((n_p - 1) * vp + (nc - 1) * vc) / (n_p + nc - 2)
        return mp - mc, s2 * (1 / n_p + 1 / nc)


def delta_grid(scale_sd: float, sign: int, points: int = 9) -> np.ndarray:
    """The deltas a report shows: 0 to 2 baseline SDs in the direction ``sign``, ``points`` steps.

    Parameters
    ----------
    scale_sd : float
        The baseline SD.
    sign : int
        +1 or -1: the direction of the shift.
    points : int
        Number of deltas, 0 included.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> delta_grid(0.5, -1, points=5).tolist()
    [-0.0, -0.25, -0.5, -0.75, -1.0]
    """
    return sign * np.linspace(0.0, 2.0 * scale_sd, points)


def _wide(analysed: pd.DataFrame, waves: list) -> tuple[np.ndarray, np.ndarray]:
    """(participants x waves scores, NaN where missing; programme indicator per participant)."""
    rows, ids = pd.factorize(analysed["participant_id"].to_numpy(), sort=True)
    cols = pd.Index([str(x) for x in waves]).get_indexer(analysed["wave"].astype(str).to_numpy())
    if (cols < 0).any():
        raise ModelError("tipping_point: a row's wave is not one of the waves given")
    Y = np.full((len(ids), len(waves)), np.nan)
    Y[rows, cols] = analysed["score"].to_numpy(float)
    treated = np.zeros(len(ids), dtype=bool)
    treated[rows] = (analysed["arm"] == "program").to_numpy()
    return Y, treated


def tipping_point(analysed: pd.DataFrame, base: str, later: str, waves: list, expected_sign: int, sd: float,
                  alpha: float = 0.05, m: int = 100, maxit: int = 10, seed: int = 0) -> dict:
    """Delta-adjusted MI of the dropouts' score at ``later`` (module docstring).

    Parameters
    ----------
    analysed : DataFrame
        The primary model's rows: ``participant_id, wave, score, arm`` (``program`` / ``control``).
    base, later : str
        The contrast's waves.
    waves : list
        Every wave in order (each enters the imputation model).
    expected_sign : int
        The sign the plan expects.
    sd : float
        The baseline SD that scales the delta grid.
    alpha : float
    m, maxit, seed : int
        Imputations, chained-equation sweeps, random seed.

    Returns
    -------
    dict
        ``mar`` (the pooled result at delta 0), ``grid`` (one row per delta and scenario), ``tipping`` (per
        scenario ``programme`` and ``both``: the delta at which the pooled p crosses ``alpha``, or None when it
        does not within 3 baseline SDs), ``b_between`` (the between-imputation variance at MAR: its Monte-Carlo
        error is sqrt(b / m)), ``dropouts`` and ``participants`` per arm, and the settings.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> arm = np.tile(["program", "control"], 10)
    >>> t0 = rng.normal(3, 0.5, 20)
    >>> t1 = t0 + np.where(arm == "program", 0.5, 0.0) + rng.normal(0, 0.3, 20)
    >>> t1[4::5] = np.nan                                      # 4 dropouts, 2 per arm
    >>> d = pd.DataFrame({"participant_id": np.tile(np.arange(20), 2), "wave": ["t0"] * 20 + ["t1"] * 20,
    ...                   "score": np.r_[t0, t1], "arm": np.tile(arm, 2)}).dropna()
    >>> r = tipping_point(d, "t0", "t1", ["t0", "t1"], expected_sign=1, sd=0.5, m=20)
    >>> r["dropouts"], round(r["mar"]["estimate"], 2), r["significant_under_mar"]
    ({'program': 2, 'control': 2}, 0.68, True)
    >>> {k: round(v, 1) for k, v in r["tipping"].items()}     # shifts towards the null that lose p < .05
    {'programme': -0.8, 'both': -1.2}
    """
    Y, treated = _wide(analysed, waves)
    ib, il = waves.index(base), waves.index(later)
    drop = np.isnan(Y[:, il])
    rng = np.random.default_rng(seed)
    # the programme arm first, then the comparison arm (the order of the random draws)
    changes = _Changes([(impute_norm(Y[arm], m, rng, maxit), drop[arm]) for arm in (treated, ~treated)], ib, il)
    dfcom = len(Y) - 2

    def pooled(delta: float, both: bool) -> dict:
        return pool_rubin(*changes.estimates(delta, both), dfcom, alpha)

    mar = pooled(0.0, False)
    # towards the null when MAR finds an effect, towards the expected direction when it does not
    sig = mar["p_value"] < alpha
    sign = -int(np.sign(mar["estimate"])) if sig else int(expected_sign)
    tipping = {}
    for scenario, both in (("programme", False), ("both", True)):
        f = lambda d: pooled(d, both)["p_value"] - alpha  # noqa: E731
        steps = sign * np.linspace(0, 3 * sd, 31)
        vals = np.array([f(d) for d in steps])
        cross = np.flatnonzero(np.sign(vals[1:]) != np.sign(vals[:-1]))
        tipping[scenario] = None if not len(cross) else float(
            optimize.brentq(f, steps[cross[0]], steps[cross[0] + 1], xtol=1e-6))
    grid = [{"scenario": sc, "delta": float(d), **pooled(float(d), sc == "both")}
            for sc in ("programme", "both") for d in delta_grid(sd, sign)]
    q0, _ = changes.estimates(0.0, False)
    return {"mar": mar, "grid": grid, "tipping": tipping, "significant_under_mar": bool(sig),
            "b_between": float(np.var(q0, ddof=1)) if m > 1 else 0.0,
            "dropouts": {"program": int((drop & treated).sum()), "control": int((drop & ~treated).sum())},
            "participants": {"program": int(treated.sum()), "control": int((~treated).sum())},
            "m": m, "maxit": maxit, "seed": seed}
