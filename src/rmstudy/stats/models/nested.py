"""Linear mixed model with two nested random intercepts (participants within pairs), by REML.

The dyad model ``y ~ X + (1 | pair_id) + (1 | participant_id)`` of lme4, where
control participants are singleton pairs. With relative variances g_o (pair) and
g_i (participant), a pair's covariance is s * (blockdiag(I + g_i J_s) + g_o 11'), whose
inverse follows in closed form from Sherman–Morrison twice: with c_s = 1/(1 + n_s g_i),

    u'H^-1 v = sum u v - g_i sum_s c_s U_s V_s - g_o sum_g (sum_s c_s U_s)(sum_s c_s V_s) / (1 + g_o a_g),

a_g = sum_s n_s c_s, U_s the participant sums of u. Each evaluation of the profiled
REML criterion is therefore a few vectorised passes over participants; no Python
loop over pairs or participants. Satterthwaite df use numerical derivatives of
Var(beta) and of the REML deviance in the variance parameters, as lmerTest does.
"""

from __future__ import annotations

__all__ = ["NestedInterceptFit", "fit_nested_intercepts"]

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from rmstudy.errors import InvariantError, ModelError

_LOG2PI = np.log(2 * np.pi)


def _prepare(y, X, inner, outer):
    y = np.asarray(y, float)
    X = np.asarray(X, float)
    ic, iu = pd.factorize(np.asarray(inner), sort=False)
    n_s = np.bincount(ic).astype(float)
    S = np.column_stack([np.bincount(ic, weights=X[:, j]) for j in range(X.shape[1])])
    t = np.bincount(ic, weights=y)
    # the outer group of each inner group (must be unique: participants nested in pairs)
    outer = np.asarray(outer)
    first = np.zeros(len(iu), dtype=int)
    first[ic[::-1]] = np.arange(len(ic))[::-1]
    oc_obs, ou = pd.factorize(outer, sort=False)
    o_of_s = oc_obs[first]
    if np.any(o_of_s[ic] != oc_obs):
        raise ModelError("fit_nested_intercepts: a participant appears in more than one pair; the groups must be nested")
    return {**_sums(n_s, np.column_stack([S, t]), o_of_s, len(ou)), "X": X, "XtX": X.T @ X, "Xty": X.T @ y,
            "yty": float(y @ y), "N": len(y), "p": X.shape[1], "n_i": len(iu), "n_o": len(ou)}


def _sums(n_s: np.ndarray, St: np.ndarray, o_of_s: np.ndarray, n_o: int) -> dict:
    """What every evaluation of the criterion needs, summed once.

    A participant's weight c_s = 1 / (1 + n_s g_i) depends only on its count of observations n_s, so the
    participants are summed by count ("class" v): ``M[v]`` = sum of [S t]'[S t] over the class. A pair's
    k_g = g_o / (1 + g_o a_g), a_g = sum_v c_v m_gv, depends only on its observations per class m_g (its "type"),
    and its W_g = sum_v c_v S_gv; so the pairs are summed by type: ``Q[type, v, u]`` = sum over its pairs of
    [S t]_gv' [S t]_gu. An evaluation then costs the classes and types, not the participants."""
    values, cls = np.unique(n_s, return_inverse=True)
    V, k = len(values), St.shape[1]
    M = np.zeros((V, k, k))
    for v in range(V):
        rows = St[cls == v]
        M[v] = rows.T @ rows
    pair_class = o_of_s * V + cls                           # (pair, class) of each participant
    Sg = np.zeros((n_o * V, k))
    np.add.at(Sg, pair_class, St)
    m = np.bincount(pair_class, weights=n_s, minlength=n_o * V).reshape(n_o, V)
    types, of_pair, per_type = np.unique(m, axis=0, return_inverse=True, return_counts=True)
    of_pair = np.asarray(of_pair).reshape(-1)
    Sg = Sg.reshape(n_o, V * k)
    Q = np.zeros((len(types), V * k, V * k))
    for g in range(len(types)):
        rows = Sg[of_pair == g]
        Q[g] = rows.T @ rows
    return {"n_values": values, "n_count": np.bincount(cls, minlength=V).astype(float), "M": M,
            "types": types, "type_count": per_type.astype(float), "Q": Q.reshape(len(types), V, k, V, k)}


def _pieces(go: float, gi: float, q: dict):
    c = 1 / (1 + q["n_values"] * gi)                          # per class of participants
    P = np.einsum("v,vij->ij", c, q["M"])                     # sum_s c_s [S t]_s' [S t]_s
    a = q["types"] @ c                                        # per type of pair
    k = go / (1 + go * a)
    G = np.einsum("g,v,u,gvius->is", k, c, c, q["Q"], optimize=True)   # sum_g k_g [W w]_g' [W w]_g
    p = q["p"]
    A = q["XtX"] - gi * P[:p, :p] - G[:p, :p]
    b = q["Xty"] - gi * P[:p, p] - G[:p, p]
    cc = q["yty"] - gi * P[p, p] - G[p, p]
    logdet_L = q["n_count"] @ np.log1p(q["n_values"] * gi) + q["type_count"] @ np.log1p(go * a)
    return A, b, cc, logdet_L


def _profiled(theta, q):
    go, gi = theta[0] ** 2, theta[1] ** 2
    A, b, cc, logdet_L = _pieces(go, gi, q)
    sign, logdet_A = np.linalg.slogdet(A)
    if sign <= 0:
        return np.inf, None, None
    beta = np.linalg.solve(A, b)
    r = cc - b @ beta
    N, p = q["N"], q["p"]
    return logdet_L + logdet_A + (N - p) * (1 + _LOG2PI + np.log(r / (N - p))), beta, (A, r)


def _deviance(phi, q):
    """Unprofiled REML deviance in (tau_pair, tau_participant, sigma2)."""
    to, ti, s = phi
    A, b, cc, logdet_L = _pieces(to / s, ti / s, q)
    sign, logdet_A = np.linalg.slogdet(A)
    beta = np.linalg.solve(A, b)
    r = cc - b @ beta
    N, p = q["N"], q["p"]
    return (N - p) * np.log(s) + logdet_L + logdet_A + r / s + (N - p) * _LOG2PI


def _cov_beta(phi, q):
    to, ti, s = phi
    A, _, _, _ = _pieces(to / s, ti / s, q)
    return s * np.linalg.inv(A)


@dataclass
class NestedInterceptFit:
    """Result of :func:`fit_nested_intercepts`.

    Attributes
    ----------
    terms : list of str
    beta, cov_beta : numpy array
        Fixed effects and their covariance.
    sigma2, tau2_outer, tau2_inner : float
        Residual, outer-group (pair) and inner-group (participant) variances.
    reml_criterion : float
    n_obs, n_inner, n_outer : int
    theta : tuple of float
        The two sd ratios to sigma (outer, inner).

    Examples
    --------
    >>> y = [1.0, 3.0, 2.0, 6.0, 7.0, 9.0, 10.0, 12.0, 4.0, 6.0, 9.0, 11.0]
    >>> fit = fit_nested_intercepts(y, np.ones((12, 1)), np.repeat([1, 2, 3, 4, 5, 6], 2), np.repeat(["A", "B", "C"], 4))
    >>> sorted(fit.variance_components())[:4], fit.n_outer
    (['icc_pair', 'n_obs', 'n_pairs', 'n_participants'], 3)
    """

    terms: list[str]
    beta: np.ndarray
    cov_beta: np.ndarray
    sigma2: float
    tau2_outer: float
    tau2_inner: float
    reml_criterion: float
    n_obs: int
    n_inner: int
    n_outer: int
    theta: tuple
    _q: dict = field(repr=False, default_factory=dict)

    @property
    def se(self):
        return np.sqrt(np.diag(self.cov_beta))

    def _phi(self):
        return np.array([self.tau2_outer, self.tau2_inner, self.sigma2])

    def satterthwaite_df(self, L) -> float:
        L = np.asarray(L, float)
        phi = self._phi()
        free = [j for j in range(3) if phi[j] > 1e-10 * phi[2]]     # a variance at 0 is on the boundary: fixed
        def f(v):
            ph = phi.copy()
            ph[free] = v
            return ph
        x0 = phi[free]
        h = 1e-4 * np.maximum(x0, 1e-8)
        var = float(L @ self.cov_beta @ L)
        grad = np.array([(L @ _cov_beta(f(x0 + h[j] * np.eye(len(x0))[j]), self._q) @ L
                          - L @ _cov_beta(f(x0 - h[j] * np.eye(len(x0))[j]), self._q) @ L) / (2 * h[j])
                         for j in range(len(x0))])
        k = len(x0)
        H = np.empty((k, k))
        D = lambda v: _deviance(f(v), self._q)  # noqa: E731
        for i in range(k):
            for j in range(i, k):
                ei, ej = np.eye(k)[i] * h[i], np.eye(k)[j] * h[j]
                H[i, j] = H[j, i] = (D(x0 + ei + ej) - D(x0 + ei - ej) - D(x0 - ei + ej) + D(x0 - ei - ej)) / (4 * h[i] * h[j])
        cov_phi = 2 * np.linalg.inv(H)
        return float(2 * var**2 / (grad @ cov_phi @ grad))

    def contrast(self, L, label: str = "contrast", alpha: float = 0.05) -> dict:
        L = np.asarray(L, float)
        est = float(L @ self.beta)
        se = float(np.sqrt(L @ self.cov_beta @ L))
        df = self.satterthwaite_df(L)
        t = est / se
        half = stats.t.ppf(1 - alpha / 2, df) * se
        return {"term": label, "estimate": est, "se": se, "df": df, "t": t,
                "p_value": float(2 * stats.t.sf(abs(t), df)), "ci_low": est - half, "ci_high": est + half}

    def table(self, alpha: float = 0.05) -> pd.DataFrame:
        rows = [self.contrast(np.eye(len(self.terms))[j], term, alpha) for j, term in enumerate(self.terms)]
        out = pd.DataFrame(rows)
        out.attrs.update(self.variance_components())
        return out

    def variance_components(self) -> dict:
        total = self.tau2_outer + self.tau2_inner + self.sigma2
        return {"tau2_pair": self.tau2_outer, "tau2_participant": self.tau2_inner, "sigma2": self.sigma2,
                "icc_pair": self.tau2_outer / total, "reml_criterion": self.reml_criterion, "n_obs": self.n_obs,
                "n_participants": self.n_inner, "n_pairs": self.n_outer, "theta": list(self.theta),
                "singular": bool(min(self.theta) < 1e-4)}


def fit_nested_intercepts(y, X, inner, outer, terms=None) -> NestedInterceptFit:
    """REML fit of ``y ~ X + (1 | outer) + (1 | inner)`` with inner groups nested in outer groups.

    Parameters
    ----------
    y : (N,) array
        The response.
    X : (N, p) array
        The fixed-effects design, full column rank.
    inner, outer : (N,) arrays
        Inner (participant) and outer (pair) group labels.
    terms : list of str, optional

    Returns
    -------
    NestedInterceptFit

    Examples
    --------
    >>> # balanced data: REML gives the nested-ANOVA estimates (sigma2 = 3, tau2_inner = 29 / 6, tau2_outer = 95 / 12)
    >>> y = [1.0, 3.0, 2.0, 6.0, 7.0, 9.0, 10.0, 12.0, 4.0, 6.0, 9.0, 11.0]
    >>> fit = fit_nested_intercepts(y, np.ones((12, 1)), np.repeat([1, 2, 3, 4, 5, 6], 2), np.repeat(["A", "B", "C"], 4))
    >>> round(fit.sigma2, 4), round(fit.tau2_inner, 4), round(fit.tau2_outer, 4)
    (3.0, 4.8333, 7.9167)
    """
    q = _prepare(y, X, inner, outer)
    if np.linalg.matrix_rank(q["X"]) < q["p"]:
        raise ModelError("fit_nested_intercepts: the fixed-effects design is rank deficient")
    best = None
    for start in ([1.0, 1.0], [0.3, 1.0], [1.0, 0.3]):
        res = optimize.minimize(lambda th: _profiled(th, q)[0], start, method="L-BFGS-B",
                                bounds=[(0, None), (0, None)], options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000})
        if best is None or res.fun < best.fun:
            best = res
    if best is None:                          # the loop above always runs: an invariant, not an input check
        raise InvariantError("fit_nested_intercepts: no optimiser start was tried")
    th = best.x
    crit, beta, (A, r) = _profiled(th, q)
    if not r > 1e-10 * q["yty"]:     # residuals 0 up to rounding: SEs of 0 (t = estimate / 0 was a ZeroDivisionError)
        raise ModelError("fit_nested_intercepts: the outcome is fitted exactly (no residual variance, e.g. every "
                         "score the same): there is no uncertainty to estimate; check the outcome column")
    s = r / (q["N"] - q["p"])
    return NestedInterceptFit(terms=list(terms) if terms else [f"x{j}" for j in range(q["p"])], beta=beta,
                              cov_beta=s * np.linalg.inv(A), sigma2=float(s), tau2_outer=float(th[0] ** 2 * s),
                              tau2_inner=float(th[1] ** 2 * s), reml_criterion=float(crit), n_obs=q["N"],
                              n_inner=q["n_i"], n_outer=q["n_o"], theta=(float(th[0]), float(th[1])), _q=q)
