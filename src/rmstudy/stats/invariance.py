"""Measurement invariance of a one-factor scale: confirmatory factor analysis by maximum likelihood.

The model. In group (or for the longitudinal model, the one group) *g* the item vector *x* (``p`` items, already
reverse-keyed) has mean and covariance

    mu_g = nu_g + Lambda_g alpha_g,        Sigma_g = Lambda_g Phi_g Lambda_g' + Theta_g

with ``Lambda`` the loadings, ``Phi`` the factor (co)variances, ``Theta`` the residual (co)variances, ``nu`` the item
intercepts and ``alpha`` the factor means. Parameters are estimated by minimising the normal-theory discrepancy

    F = sum_g n_g [ log|Sigma_g| + tr(S_g Sigma_g^-1) - log|S_g| - p + (m_g - mu_g)' Sigma_g^-1 (m_g - mu_g) ]

where ``S_g`` is the sample covariance matrix divided by ``n_g`` (not ``n_g - 1``) and ``m_g`` the sample means. The
minimum is the chi-square statistic: this is lavaan's default (``estimator = "ML"``, ``likelihood = "normal"``, the
statistic is ``2 N F_lavaan`` with ``F_lavaan`` half the bracket weighted by ``n_g / N``). The gradient is analytic
(``dF/dSigma = Sigma^-1 - Sigma^-1 (S + d d') Sigma^-1``, ``dF/dmu = -2 Sigma^-1 d`` with ``d = m - mu``).

Identification follows lavaan's ``cfa()`` defaults: the first item's loading is fixed to 1 in every group or wave
(marker variable), every factor variance is free, factor means are fixed to 0 except where intercepts are held
equal (scalar level: free in every group or wave but the first). Levels:

* configural: loadings and intercepts free in every group;
* metric: loadings equal across groups (``group.equal = "loadings"``);
* scalar: loadings and intercepts equal (``group.equal = c("loadings", "intercepts")``).

The longitudinal model has one factor per wave (the same items at each wave), factor covariances free and the
residuals of the same item correlated across waves; equality is across waves instead of groups.

Fit indices are lavaan's: ``df = sum_g (p + p(p+1)/2) - free parameters``; the baseline (independence) model has
free means and variances and no covariances in every group (its chi-square is closed form:
``sum_g n_g (sum log diag S_g - log|S_g|)``); ``CFI = 1 - max(chi2 - df, 0) / max(chi2 - df, chi2_b - df_b, 0)``;
``RMSEA = sqrt(max((chi2 / N) / df - 1 / N, 0)) * sqrt(G)`` (lavaan's multiple-group correction, ``N`` the total).
``delta_cfi`` is a level's CFI minus the CFI of the level below (metric - configural, scalar - metric); Cheung &
Rensvold (2002) read a drop below -0.01 as non-invariance.

Missing data: listwise, as lavaan's default for ML (a row with any item missing is left out; for the longitudinal
model, a person with any item missing at any wave). Negative variance estimates (Heywood cases) are not bounded,
as in lavaan; they are reported in ``note``. Verified against lavaan in ``tests/reference/invariance``.
"""

from __future__ import annotations

__all__ = ["INVARIANCE_COLUMNS", "LEVELS", "multigroup_invariance", "longitudinal_invariance", "fit_cfa"]

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

#: the columns of every invariance table (``reason`` is None when the level was fitted)
INVARIANCE_COLUMNS = ["level", "chisq", "df", "cfi", "rmsea", "delta_cfi", "n", "reason", "note"]
LEVELS = ("configural", "metric", "scalar")
_BIG = 1e20


@dataclass
class _Group:
    """One group's sample moments and, for each model matrix, the index of its free parameter (-1: fixed) and the
    fixed (or starting) value."""

    n: int
    mean: np.ndarray
    cov: np.ndarray
    logdet_s: float = 0.0
    idx: dict = field(default_factory=dict)
    val: dict = field(default_factory=dict)


def _fill(x: np.ndarray, idx: np.ndarray, val: np.ndarray) -> np.ndarray:
    out = val.copy()
    free = idx >= 0
    out[free] = x[idx[free]]
    return out


def _implied(x: np.ndarray, g: _Group) -> tuple[np.ndarray, ...]:
    L, P, T, nu, a = (_fill(x, g.idx[k], g.val[k]) for k in ("lam", "phi", "theta", "nu", "alpha"))
    return L, P, T, nu + L @ a, L @ P @ L.T + T, a


def _derivatives(x: np.ndarray, g: _Group, q: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact derivatives of Sigma (q x p x p) and mu (q x p) with respect to the q free parameters."""
    L, P, _, _, _, a = _implied(x, g)
    p = L.shape[0]
    dS, dM = np.zeros((q, p, p)), np.zeros((q, p))
    LP = L @ P
    i, f = np.nonzero(g.idx["lam"] >= 0)
    k = g.idx["lam"][i, f]
    np.add.at(dS, (k, i), LP[:, f].T)                # d Sigma / d lambda_if = e_i (L P)_f' + (L P)_f e_i'
    np.add.at(dS.transpose(0, 2, 1), (k, i), LP[:, f].T)
    np.add.at(dM, (k, i), a[f])
    f, h = np.nonzero(g.idx["phi"] >= 0)
    np.add.at(dS, g.idx["phi"][f, h], L[:, f].T[:, :, None] * L[:, h].T[:, None, :])
    i, j = np.nonzero(g.idx["theta"] >= 0)
    np.add.at(dS, (g.idx["theta"][i, j], i, j), 1.0)
    i = np.nonzero(g.idx["nu"] >= 0)[0]
    np.add.at(dM, (g.idx["nu"][i], i), 1.0)
    f = np.nonzero(g.idx["alpha"] >= 0)[0]
    np.add.at(dM, g.idx["alpha"][f], L[:, f].T)
    return dS, dM


def _objective(x: np.ndarray, groups: list[_Group], n_total: int, info: bool = True):
    """Sum over groups of n_g F_g / N and (``info``) its gradient and expected second derivatives."""
    q = len(x)
    f, grad, H = 0.0, np.zeros(q), np.zeros((q, q))
    for g in groups:
        *_, mu, Sig, _ = _implied(x, g)
        try:
            C = np.linalg.cholesky(Sig)
        except np.linalg.LinAlgError:
            return _BIG, grad, H
        Si = np.linalg.inv(Sig)
        d = g.mean - mu
        Sid = Si @ d
        w = g.n / n_total
        f += w * (2 * np.log(np.diag(C)).sum() + np.trace(g.cov @ Si) + d @ Sid - g.logdet_s - len(d))
        if not info:
            continue
        dS, dM = _derivatives(x, g, q)
        G = Si - Si @ (g.cov + np.outer(d, d)) @ Si
        grad += w * (dS.reshape(q, -1) @ G.ravel() - 2 * dM @ Sid)
        A = Si @ dS                                      # q x p x p; H_ab = tr(A_a A_b)
        H += w * (A.reshape(q, -1) @ A.transpose(0, 2, 1).reshape(q, -1).T + 2 * dM @ Si @ dM.T)
    return f, grad, H


def fit_cfa(groups: list[_Group], n_free: int, start: np.ndarray, tol: float = 1e-9, max_iter: int = 500) -> dict:
    """Minimise the ML discrepancy by Fisher scoring with step halving.

    Parameters
    ----------
    groups : the groups' moments with their parameter layout (from ``_multigroup_spec`` or ``_longitudinal_spec``).
    n_free : number of free parameters. start : their starting values.
    tol : convergence bound on the largest gradient element of F / N. max_iter : most scoring steps.

    Returns
    -------
    dict
        ``chisq``, ``df``, ``converged`` (largest gradient element of F / N below ``tol``), ``heywood`` and the
        estimates ``x``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> f = rng.normal(size=200)
    >>> groups = [_group(np.column_stack([f + rng.normal(size=200) for _ in range(3)]))]
    >>> fit = fit_cfa(groups, *_multigroup_spec(groups, "configural"))
    >>> fit["df"], fit["converged"], round(fit["chisq"], 6)        # three items, one factor: just identified
    (0, True, 0.0)
    """
    n_total = sum(g.n for g in groups)
    x = start.astype(float)
    f, grad, H = _objective(x, groups, n_total)
    converged = False
    for _ in range(max_iter):
        if f >= _BIG or not np.all(np.isfinite(H)):
            break
        try:
            step = np.linalg.solve(H + 1e-12 * np.eye(len(x)), -grad)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        while t > 1e-10:
            f_new, *_ = _objective(x + t * step, groups, n_total, info=False)
            if f_new <= f + 1e-14:
                break
            t /= 2
        x = x + t * step
        f, grad, H = _objective(x, groups, n_total)
        if np.max(np.abs(grad)) < tol:
            converged = True
            break
        if t <= 1e-10:
            break
    moments = sum(len(g.mean) + len(g.mean) * (len(g.mean) + 1) // 2 for g in groups)
    heywood = False
    for g in groups:
        _, P, T, *_ = _implied(x, g)
        heywood |= bool(np.any(np.diag(T) < 0) or np.any(np.diag(P) <= 0))
    return {"chisq": float(n_total * f), "df": int(moments - n_free), "converged": converged, "heywood": heywood,
            "x": x}


def _baseline(groups: list[_Group]) -> tuple[float, int]:
    """Independence model: free means and variances, no covariances, in every group."""
    chi = sum(g.n * (np.log(np.diag(g.cov)).sum() - g.logdet_s) for g in groups)
    df = sum(len(g.mean) * (len(g.mean) - 1) // 2 for g in groups)
    return float(chi), int(df)


def _indices(chisq: float, df: int, base: tuple[float, int], n: int, n_groups: int) -> tuple[float, float]:
    t1 = max(chisq - df, 0.0)
    t2 = max(chisq - df, base[0] - base[1], 0.0)
    cfi = 1.0 if t2 == 0 else 1 - t1 / t2
    rmsea = float(np.sqrt(max((chisq / n) / df - 1 / n, 0.0)) * np.sqrt(n_groups)) if df > 0 else 0.0
    return float(cfi), rmsea


class _Counter:
    """Hands out parameter indices; a key seen before gets the same index (an equality constraint)."""

    def __init__(self) -> None:
        self.keys: dict = {}
        self.start: list[float] = []

    def __call__(self, key, start: float) -> int:
        if key not in self.keys:
            self.keys[key] = len(self.start)
            self.start.append(start)
        return self.keys[key]


def _moments(X: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    n = len(X)
    m = X.mean(axis=0)
    S = (X - m).T @ (X - m) / n
    return n, m, S


def _group(X: np.ndarray) -> _Group:
    n, m, S = _moments(X)
    return _Group(n, m, S, float(np.linalg.slogdet(S)[1]))


def _multigroup_spec(groups: list[_Group], level: str) -> tuple[int, np.ndarray]:
    """Parameter layout of the one-factor multiple-group model at ``level``."""
    cnt = _Counter()
    for gi, g in enumerate(groups):
        p, S = len(g.mean), g.cov
        phi0 = S[0, 0] / 2
        lam_i = np.full((p, 1), -1)
        lam_v = np.ones((p, 1))
        for j in range(1, p):
            lam_i[j, 0] = cnt(("lam", j) if level != "configural" else ("lam", gi, j), S[0, j] / phi0)
        th_i = np.full((p, p), -1)
        for j in range(p):
            th_i[j, j] = cnt(("theta", gi, j), S[j, j] / 2)
        nu_i = np.array([cnt(("nu", j) if level == "scalar" else ("nu", gi, j), g.mean[j]) for j in range(p)])
        al_i = np.array([cnt(("alpha", gi), 0.0) if level == "scalar" and gi > 0 else -1])
        g.idx = {"lam": lam_i, "phi": np.array([[cnt(("phi", gi), phi0)]]), "theta": th_i, "nu": nu_i, "alpha": al_i}
        g.val = {"lam": lam_v, "phi": np.zeros((1, 1)), "theta": np.zeros((p, p)), "nu": np.zeros(p),
                 "alpha": np.zeros(1)}
    return len(cnt.start), np.array(cnt.start)


def _longitudinal_spec(g: _Group, k: int, n_waves: int, level: str) -> tuple[int, np.ndarray]:
    """Parameter layout of the one-factor-per-wave model (items wave-major: wave 0's k items, then wave 1's ...)."""
    cnt = _Counter()
    p, S = k * n_waves, g.cov
    lam_i, lam_v = np.full((p, n_waves), -1), np.zeros((p, n_waves))
    phi_i, th_i = np.full((n_waves, n_waves), -1), np.full((p, p), -1)
    nu_i, al_i = np.full(p, -1), np.full(n_waves, -1)
    for w in range(n_waves):
        o = w * k
        lam_v[o, w] = 1.0
        phi0 = S[o, o] / 2
        for j in range(1, k):
            lam_i[o + j, w] = cnt(("lam", j) if level != "configural" else ("lam", w, j), S[o, o + j] / phi0)
        for v in range(w + 1):
            phi_i[w, v] = phi_i[v, w] = cnt(("phi", w, v), phi0 if v == w else 0.0)
        for j in range(k):
            th_i[o + j, o + j] = cnt(("theta", w, j), S[o + j, o + j] / 2)
            for v in range(w):
                th_i[o + j, v * k + j] = th_i[v * k + j, o + j] = cnt(("theta_cov", w, v, j), 0.0)
            nu_i[o + j] = cnt(("nu", j) if level == "scalar" else ("nu", w, j), g.mean[o + j])
        if level == "scalar" and w > 0:
            al_i[w] = cnt(("alpha", w), 0.0)
    g.idx = {"lam": lam_i, "phi": phi_i, "theta": th_i, "nu": nu_i, "alpha": al_i}
    g.val = {"lam": lam_v, "phi": np.zeros((n_waves, n_waves)), "theta": np.zeros((p, p)), "nu": np.zeros(p),
             "alpha": np.zeros(n_waves)}
    return len(cnt.start), np.array(cnt.start)


def _row(level: str, n: int, reason: str | None = None, **fit) -> dict:
    row: dict = {c: None for c in INVARIANCE_COLUMNS}
    row.update(level=level, n=int(n), reason=reason, **fit)
    return row


def _check_block(who: str, X: np.ndarray, p: int, min_n: int) -> str | None:
    """Why the complete rows ``X`` of ``who`` cannot be fitted, or None."""
    need = max(min_n, p + 1)
    if len(X) < need:
        return f"too few complete answers from {who} ({len(X)}; needs at least {need})"
    if np.any(X.std(axis=0) == 0):
        return f"an item has no variance in {who}"
    if np.linalg.matrix_rank(X - X.mean(axis=0)) < p:
        return f"the items are linearly dependent in {who}"
    return None


def _check_groups(blocks: dict, p: int, min_n: int) -> str | None:
    """Why these groups cannot be fitted, or None."""
    if len(blocks) < 2:
        return f"needs two groups with complete answers; found {len(blocks)}"
    for name, X in blocks.items():
        why = _check_block(f"group '{name}'", X, p, min_n)
        if why:
            return why
    return None


def _levels(make, n: int, n_groups: int) -> pd.DataFrame:
    """Fit the three levels; ``make(level)`` returns (groups, n_free, start)."""
    rows, prev_cfi = [], None
    for level in LEVELS:
        try:
            groups, n_free, start = make(level)
            with threadpool_limits(1, "blas"):      # the matrices are tiny: BLAS threads only contend
                fit = fit_cfa(groups, n_free, start)
        except (np.linalg.LinAlgError, FloatingPointError, ValueError):
            fit = {"converged": False}
        if not fit["converged"]:
            rows.append(_row(level, n, "the maximum-likelihood fit did not converge"))
            prev_cfi = None
            continue
        cfi, rmsea = _indices(fit["chisq"], fit["df"], _baseline(groups), n, n_groups)
        rows.append(_row(level, n, chisq=fit["chisq"], df=fit["df"], cfi=cfi, rmsea=rmsea,
                         delta_cfi=None if prev_cfi is None else cfi - prev_cfi,
                         note="Heywood case: a variance estimate is negative" if fit["heywood"] else None))
        prev_cfi = cfi
    return pd.DataFrame(rows, columns=INVARIANCE_COLUMNS)


def _unfitted(n: int, reason: str) -> pd.DataFrame:
    return pd.DataFrame([_row(lv, n, reason) for lv in LEVELS], columns=INVARIANCE_COLUMNS)


def multigroup_invariance(data: pd.DataFrame, items: Sequence[str], group: str, min_n: int = 30) -> pd.DataFrame:
    """Configural, metric and scalar invariance of a one-factor model across the levels of ``group``.

    Parameters
    ----------
    data : one row per person, the (reverse-keyed) ``items`` and the ``group`` column.
    items : at least three item columns; the first is the marker (loading fixed to 1).
    group : the grouping column; groups are taken in sorted order (the first is lavaan's reference group).
    min_n : fewest complete rows a group needs (and always more than the number of items).

    Returns
    -------
    DataFrame with one row per level and columns ``level`` (configural, metric, scalar), ``chisq``, ``df``,
    ``cfi``, ``rmsea``, ``delta_cfi`` (this level's CFI minus the previous level's; None for configural), ``n``
    (complete rows in all groups), ``reason`` (why a level was not fitted, else None) and ``note`` (Heywood case).
    Missing data: listwise over ``items`` (lavaan's default), as are rows with no ``group``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> f = rng.normal(size=400)
    >>> d = pd.DataFrame({f"q{j}": f + rng.normal(size=400) for j in range(4)})
    >>> d["g"] = np.repeat(["a", "b"], 200)
    >>> t = multigroup_invariance(d, ["q0", "q1", "q2", "q3"], "g")
    >>> t["df"].tolist()
    [4, 7, 10]
    """
    items = list(items)
    complete = data[items + [group]].dropna()                  # only the columns used: no copy of the rest
    blocks = {str(k): v[items].to_numpy(float) for k, v in sorted(complete.groupby(group, observed=True),
                                                                   key=lambda kv: str(kv[0]))}
    n = sum(len(X) for X in blocks.values())
    why = _check_groups(blocks, len(items), min_n)
    if why:
        return _unfitted(n, why)

    def make(level: str):
        groups = [_group(X) for X in blocks.values()]
        n_free, start = _multigroup_spec(groups, level)
        return groups, n_free, start
    return _levels(make, n, len(blocks))


def longitudinal_invariance(data: pd.DataFrame, items: Sequence[str], waves: Sequence[str], subject: str = "participant_id",
                            wave: str = "wave", min_n: int = 30) -> pd.DataFrame:
    """Configural, metric and scalar invariance of the same items across ``waves`` (one factor per wave, factor
    covariances free, residuals of the same item correlated across waves).

    Parameters
    ----------
    data : long data, one row per ``subject`` x ``wave``, with the (reverse-keyed) ``items``.
    items : at least three item columns; the first is each wave's marker (loading fixed to 1).
    waves : the waves to compare, in order (the first is the reference: its factor mean is 0 at the scalar level).
    subject, wave : the person and wave columns.
    min_n : fewest people with every item answered at every wave (and always more than items x waves).

    Returns
    -------
    DataFrame with the columns of :func:`multigroup_invariance`; ``n`` is the number of people (listwise: every
    item at every wave).

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> f = rng.normal(size=300)
    >>> rows = [{"participant_id": i, "wave": w, **{f"q{j}": f[i] + s + rng.normal() for j in range(3)}}
    ...         for i in range(300) for w, s in (("pre", 0.0), ("post", 0.5))]
    >>> t = longitudinal_invariance(pd.DataFrame(rows), ["q0", "q1", "q2"], ["pre", "post"])
    >>> t["df"].tolist(), bool(t.loc[2, "delta_cfi"] > -0.01)
    ([5, 7, 9], True)
    """
    items, waves = list(items), [str(w) for w in waves]
    at = data[wave].astype(str).to_numpy()
    keep = np.isin(at, waves)
    long = data.loc[keep, [subject, *items]].assign(**{wave: at[keep]})     # only the columns used: no copy of the rest
    wide = long.drop_duplicates([subject, wave]).pivot(index=subject, columns=wave, values=items)
    cols = [(i, w) for w in waves for i in items]
    if len(waves) < 2 or any(c not in wide.columns for c in cols):
        return _unfitted(0, f"needs answers at two waves or more; found {long[wave].astype(str).nunique()}")
    X = wide[cols].dropna().to_numpy(float)
    why = _check_block("people with every item answered at every wave", X, X.shape[1], min_n)
    if why:
        return _unfitted(len(X), why)

    def make(level: str):
        g = _group(X)
        n_free, start = _longitudinal_spec(g, len(items), len(waves), level)
        return [g], n_free, start
    return _levels(make, len(X), 1)
