"""Mixed model for repeated measures (MMRM): unstructured covariance over the waves, fitted by REML.

``y_i = X_i beta + e_i`` with ``e_i ~ N(0, Sigma[w_i, w_i])`` for a subject observed at the waves ``w_i``: every
subject shares one unstructured T x T covariance ``Sigma`` (T waves), and all available data are used (a subject
missing a wave contributes the rows it has; missing at random). This is R's
``nlme::gls(y ~ arm * wave, correlation = corSymm(form = ~ t | id), weights = varIdent(form = ~ 1 | wave),
method = "REML")``.

Subjects are grouped by their pattern of observed waves, so the REML criterion and its gradient cost one
small matrix inverse per pattern and a few ``einsum`` calls whatever the number of subjects. The criterion is
minimised over the Cholesky factor of ``Sigma`` (log diagonal) with its analytic gradient:

    d(-2 l_R) = tr(G dSigma),  G = sum_i E_i' (S_i^-1 - S_i^-1 X_i C X_i' S_i^-1 - S_i^-1 r_i r_i' S_i^-1) E_i

(``S_i = Sigma[w_i, w_i]``, ``C = (X' V^-1 X)^-1``, ``r_i`` the GLS residuals, ``E_i`` picking the waves).

Denominator degrees of freedom follow Satterthwaite as ``emmeans`` computes them for ``gls`` (``mode =
"satterthwaite"``; the fit made with ``glsControl(natural = FALSE)``, without which emmeans falls back to its
approximate method): ``df = 2 (c'Vc)^2 / (g' A g)`` where ``g_j = c' dV/dphi_j c``, ``V`` the covariance of beta
with the residual scale profiled for the shape parameters and ``dV/dlog sigma = 2V``, and ``A`` the inverse of
the negative Hessian of the REML log-likelihood in ``phi = (correlations, log SD ratios, log sigma)``. The value
does not depend on how the shape is parametrised, so it is computed in the natural parameters. A joint test of
several contrasts is ``F`` with ``df1`` their rank and ``df2`` the smallest Satterthwaite df over an
orthonormal basis of their rows (emmeans' ``test(..., joint = TRUE)``).
"""

from __future__ import annotations

__all__ = ["MMRMFit", "fit_mmrm", "mmrm", "cell_vector", "joint_test", "sparse_wave_pairs", "MIN_PAIR_OVERLAP"]

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg, optimize, stats

from rmstudy.errors import ModelError
from rmstudy.stats.models.mixed import design_arm_wave, ordered_within

_LOG2PI = np.log(2 * np.pi)


@dataclass
class _Pattern:
    waves: np.ndarray       # indices of the waves observed
    X: np.ndarray           # (n, k, p)
    y: np.ndarray           # (n, k)


def _patterns(y: np.ndarray, X: np.ndarray, subjects: np.ndarray, times: np.ndarray) -> list[_Pattern]:
    order = np.lexsort((times, subjects))
    y, X, subjects, times = y[order], X[order], subjects[order], times[order]
    starts = np.flatnonzero(np.r_[True, subjects[1:] != subjects[:-1]])
    ends = np.r_[starts[1:], len(subjects)]
    keys: dict[tuple, list[int]] = {}
    for s, e in zip(starts, ends):
        keys.setdefault(tuple(times[s:e].tolist()), []).append(int(s))
    out = []
    for key, firsts in keys.items():
        idx = np.asarray(firsts)[:, None] + np.arange(len(key))[None, :]
        out.append(_Pattern(np.asarray(key), X[idx], y[idx]))
    return out


def _gls(sigma: np.ndarray, pats: list[_Pattern], p: int):
    """(log|V|, X'V^-1 X, X'V^-1 y, per-pattern inverses) for the covariance ``sigma``; None if not PD."""
    logdet = 0.0
    A = np.zeros((p, p))
    b = np.zeros(p)
    invs = []
    for pt in pats:
        S = sigma[np.ix_(pt.waves, pt.waves)]
        try:
            c = linalg.cho_factor(S, lower=True)
        except linalg.LinAlgError:
            return None
        Si = linalg.cho_solve(c, np.eye(len(pt.waves)))
        logdet += len(pt.y) * 2 * np.log(np.diag(c[0])).sum()
        A += np.einsum("nkp,kl,nlq->pq", pt.X, Si, pt.X)
        b += np.einsum("nkp,kl,nl->p", pt.X, Si, pt.y)
        invs.append(Si)
    return logdet, A, b, invs


def _reml(sigma: np.ndarray, pats: list[_Pattern], p: int, N: int, grad: bool = False):
    """-2 REML log-likelihood (nlme's, without its log|X'X| term) and optionally its gradient in ``sigma``."""
    g = _gls(sigma, pats, p)
    if g is None:
        return (np.inf, None) if grad else np.inf
    logdet, A, b, invs = g
    sign, logdet_A = np.linalg.slogdet(A)
    if sign <= 0:
        return (np.inf, None) if grad else np.inf
    C = np.linalg.inv(A)
    beta = C @ b
    quad = 0.0
    G = np.zeros_like(sigma)
    for pt, Si in zip(pats, invs):
        r = pt.y - pt.X @ beta
        e = r @ Si
        quad += float(np.einsum("nk,nk->", r, e))
        if grad:
            XCX = np.einsum("nkp,pq,nlq->kl", pt.X, C, pt.X)
            block = len(pt.y) * Si - Si @ XCX @ Si - e.T @ e
            G[np.ix_(pt.waves, pt.waves)] += block
    val = logdet + logdet_A + quad + (N - p) * _LOG2PI
    return (val, G) if grad else val


def _from_chol(par: np.ndarray, T: int) -> np.ndarray:
    L = np.zeros((T, T))
    L[np.tril_indices(T)] = par
    L[np.diag_indices(T)] = np.exp(np.diag(L))
    return L


def _natural(phi: np.ndarray, T: int) -> np.ndarray:
    """Sigma from phi = (correlations r_ij for i < j row by row, log SD ratios of waves 2..T, log sigma)."""
    iu = np.triu_indices(T, 1)
    m = len(iu[0])
    R = np.eye(T)
    R[iu] = phi[:m]
    R[iu[1], iu[0]] = phi[:m]
    sd = np.exp(phi[-1]) * np.exp(np.r_[0.0, phi[m:m + T - 1]])
    return R * np.outer(sd, sd)


def _to_natural(sigma: np.ndarray) -> np.ndarray:
    T = len(sigma)
    sd = np.sqrt(np.diag(sigma))
    R = sigma / np.outer(sd, sd)
    return np.r_[R[np.triu_indices(T, 1)], np.log(sd[1:] / sd[0]), np.log(sd[0])]


def _dsigma(phi: np.ndarray, T: int, h: float = 1e-6) -> list[np.ndarray]:
    """dSigma/dphi_k (exact: Sigma is linear in r and exponential in the logs; computed by central differences
    of a polynomial of degree <= 2 in each direction)."""
    out = []
    for k in range(len(phi)):
        up, dn = phi.copy(), phi.copy()
        up[k] += h
        dn[k] -= h
        out.append((_natural(up, T) - _natural(dn, T)) / (2 * h))
    return out


def _richardson(f, x: np.ndarray, k: int, h: float) -> np.ndarray:
    """Central difference of f in coordinate k with one Richardson step (as numDeriv)."""
    def cd(step):
        up, dn = x.copy(), x.copy()
        up[k] += step
        dn[k] -= step
        return (f(up) - f(dn)) / (2 * step)
    return (4 * cd(h / 2) - cd(h)) / 3


@dataclass
class MMRMFit:
    """Result of :func:`fit_mmrm`.

    Attributes
    ----------
    terms : list of str
        The fixed-effects terms, in the order of ``beta``.
    beta, cov_beta : ndarray
        The GLS estimates and their covariance.
    sigma : ndarray
        The unstructured T x T covariance over the waves.
    waves : list
        The waves, in order.
    reml_criterion : float
        -2 REML log-likelihood (without nlme's log|X'X| term).
    n_obs, n_groups : int
        Rows and subjects.

    Examples
    --------
    Complete data, one arm, two waves: ``sigma`` is the sample covariance of the two waves and the contrast of
    the change is the paired t test (t = 2 / sqrt(1 / 3), df = 2):

    >>> y, X = [1.0, 2.0, 3.0, 3.0, 3.0, 6.0], np.column_stack([np.ones(6), [0, 0, 0, 1, 1, 1]])
    >>> fit = fit_mmrm(y, X, list("abcabc"), [0, 0, 0, 1, 1, 1], 2, ["Intercept", "wave[post]"], ["pre", "post"])
    >>> c = fit.contrast([0, 1], "change")
    >>> fit.sigma.round(4).tolist(), round(c["t"], 4), round(c["df"], 4)
    ([[1.0, 1.5], [1.5, 3.0]], 3.4641, 2.0)
    >>> round(fit.variance_components()["icc"], 4)          # tau2 = 1.5 (the covariance), sigma2 = 2 - 1.5
    0.75
    """

    terms: list[str]
    beta: np.ndarray
    cov_beta: np.ndarray
    sigma: np.ndarray           # the unstructured covariance over the waves (T x T)
    waves: list
    reml_criterion: float       # -2 REML log-likelihood (without nlme's log|X'X| term)
    n_obs: int
    n_groups: int
    _pats: list = field(repr=False, default_factory=list)
    _A: np.ndarray | None = field(repr=False, default=None)
    _G: list | None = field(repr=False, default=None)

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov_beta))

    def _cov_at(self, theta: np.ndarray) -> np.ndarray:
        """Var(beta) for the shape parameters ``theta`` at the fitted residual scale (sigma held fixed)."""
        T = len(self.waves)
        scale = float(self.sigma[0, 0])
        _, A, _, _ = _gls(scale * _natural(np.r_[theta, 0.0], T), self._pats, len(self.beta))
        return np.linalg.inv(A)

    def _df_parts(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """(A, G): the covariance of phi and dVar(beta)/dphi, computed once per fit."""
        if self._A is None or self._G is None:
            T, p, N = len(self.waves), len(self.beta), self.n_obs
            phi = _to_natural(self.sigma)

            def grad(ph):
                _, G = _reml(_natural(ph, T), self._pats, p, N, grad=True)
                return np.array([-0.5 * float(np.sum(G * d)) for d in _dsigma(ph, T)])
            H = np.column_stack([_richardson(grad, phi, k, 1e-4) for k in range(len(phi))])
            H = -(H + H.T) / 2                                  # Hessian of -l_R
            theta = phi[:-1]
            self._A = np.linalg.inv(H)
            self._G = [_richardson(self._cov_at, theta, k, 1e-4) for k in range(len(theta))] + [2 * self.cov_beta]
        return self._A, self._G

    def satterthwaite_df(self, L) -> float:
        """Satterthwaite df of L'beta (emmeans' ``mode = "satterthwaite"`` for gls)."""
        L = np.asarray(L, dtype=float)
        A, G = self._df_parts()
        var = float(L @ self.cov_beta @ L)
        g = np.array([L @ M @ L for M in G])
        return float(2 * var**2 / (g @ A @ g))

    def contrast(self, L, label: str = "contrast", alpha: float = 0.05) -> dict:
        """Estimate, SE, Satterthwaite df, t, two-sided p and CI of L'beta."""
        L = np.asarray(L, dtype=float)
        est = float(L @ self.beta)
        se = float(np.sqrt(L @ self.cov_beta @ L))
        df = self.satterthwaite_df(L)
        half = stats.t.ppf(1 - alpha / 2, df) * se
        return {"term": label, "estimate": est, "se": se, "df": df, "t": est / se,
                "p_value": float(2 * stats.t.sf(abs(est / se), df)), "ci_low": est - half, "ci_high": est + half}

    def table(self, alpha: float = 0.05) -> pd.DataFrame:
        eye = np.eye(len(self.terms))
        tab = pd.DataFrame([self.contrast(eye[j], t, alpha) for j, t in enumerate(self.terms)])
        tab.attrs.update(self.variance_components())
        return tab

    def variance_components(self) -> dict:
        """The covariance over the waves (``waves``, ``sd``, ``correlation``) and, for readers of the
        random-intercept model's keys (the planner's pre-post correlation), its compound-symmetry summary:
        ``tau2`` the mean covariance between two waves, ``sigma2`` the mean variance minus ``tau2``, ``icc``."""
        sd = np.sqrt(np.diag(self.sigma))
        T = len(sd)
        tau2 = float(self.sigma[np.triu_indices(T, 1)].mean()) if T > 1 else 0.0
        sigma2 = float(np.diag(self.sigma).mean()) - tau2
        return {"waves": [str(w) for w in self.waves], "sd": sd.tolist(),
                "correlation": (self.sigma / np.outer(sd, sd)).tolist(), "tau2": tau2, "sigma2": sigma2,
                "icc": tau2 / (tau2 + sigma2), "reml_criterion": self.reml_criterion,
                "n_obs": self.n_obs, "n_groups": self.n_groups}


#: the fewest subjects observed at both waves of a pair for an unstructured covariance (fit_mmrm and validate)
MIN_PAIR_OVERLAP = 3


def sparse_wave_pairs(subjects, waves, least: int = MIN_PAIR_OVERLAP, order=None) -> list[tuple]:
    """Pairs of waves that fewer than ``least`` subjects were observed at both: ``(wave_a, wave_b, count)``, in
    ``order`` (default: sorted); an unstructured covariance of such a pair rests on next to nothing.

    Parameters
    ----------
    subjects, waves : array-like
        One entry per observation.
    least : int
    order : list, optional
        The waves in the plan's order (waves not observed are skipped).

    Returns
    -------
    list of tuple

    Examples
    --------
    >>> sparse_wave_pairs(["a", "b", "c", "a", "b"], ["pre", "pre", "pre", "post", "post"])
    [('post', 'pre', 2)]
    """
    seen = pd.crosstab(np.asarray(subjects), np.asarray(waves)).clip(upper=1)
    cols = sorted(seen.columns) if order is None else [w for w in order if w in seen.columns]
    both = seen[cols].T @ seen[cols]
    return [(a, b, int(both.loc[a, b])) for i, a in enumerate(cols) for b in cols[i + 1:] if both.loc[a, b] < least]


def _check_waves(codes: np.ndarray, times: np.ndarray, n_times: int) -> None:
    if pd.Series(codes * n_times + times).duplicated().any():
        raise ModelError("fit_mmrm: a subject has two rows at one wave")
    for a, b, k in sparse_wave_pairs(codes, times):
        raise ModelError(f"fit_mmrm: only {k} subject(s) have both wave {a + 1} and wave {b + 1}, too few to estimate "
                         "their covariance")


def fit_mmrm(y, X, subjects, times, n_times: int, terms: list[str] | None = None, waves=None) -> MMRMFit:
    """Fit ``y = X beta + e`` by REML with an unstructured covariance over ``n_times`` waves.

    ``times`` are the wave indices (0 .. n_times - 1) of the rows; a subject has at most one row per wave. No
    missing values (drop them first).

    Parameters
    ----------
    y : array_like
        Outcome, one value per row.
    X : array_like
        Fixed-effects design (full column rank).
    subjects, times : array_like
        Subject id and wave index of each row.
    n_times : int
        Number of waves T.
    terms, waves : list, optional
        Names of the columns of ``X`` and of the waves (default ``x0, x1, ...`` and ``0 .. T - 1``).

    Returns
    -------
    MMRMFit

    Raises
    ------
    ModelError
        Missing values, two rows of a subject at one wave, a rank-deficient design, too few rows, no convergence.

    Examples
    --------
    >>> y, X = [1.0, 2.0, 3.0, 3.0, 3.0, 6.0], np.column_stack([np.ones(6), [0, 0, 0, 1, 1, 1]])
    >>> fit = fit_mmrm(y, X, list("abcabc"), [0, 0, 0, 1, 1, 1], 2, ["Intercept", "wave[post]"], ["pre", "post"])
    >>> fit.beta.round(4).tolist(), fit.sigma.round(4).tolist()      # pre mean, mean change; sample covariance
    ([2.0, 2.0], [[1.0, 1.5], [1.5, 3.0]])
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    times = np.asarray(times, dtype=int)
    codes, uniques = pd.factorize(np.asarray(subjects), sort=False)
    N, p = X.shape
    if np.any(codes < 0) or not np.all(np.isfinite(y)) or not np.all(np.isfinite(X)):
        raise ModelError("fit_mmrm: y, X, subjects and waves must be complete (no missing values)")
    _check_waves(codes, times, n_times)
    if np.linalg.matrix_rank(X) < p:
        raise ModelError("fit_mmrm: the fixed-effects design is rank deficient "
                         "(an arm or wave has no observations in this population?)")
    T = n_times
    if N - p < T * (T + 1) // 2:
        raise ModelError(f"fit_mmrm: {N} observations cannot estimate {p} fixed effects and an unstructured "
                         f"{T} x {T} covariance")
    pats = _patterns(y, X, codes, times)
    resid = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    scale = float(resid @ resid / (N - p))
    start = np.diag(np.sqrt([max(np.mean(resid[times == t] ** 2), 1e-3 * scale) if (times == t).any() else scale
                             for t in range(T)]) / np.sqrt(scale))
    x0 = np.tril(start)[np.tril_indices(T)]
    x0[[i * (i + 1) // 2 + i for i in range(T)]] = np.log(np.diag(start))
    diag = np.array([i * (i + 1) // 2 + i for i in range(T)])

    def f(par):
        L = _from_chol(par, T)
        val, G = _reml(scale * L @ L.T, pats, p, N, grad=True)
        if not np.isfinite(val):
            return val, np.zeros_like(par)
        dL = 2 * scale * G @ L
        g = dL[np.tril_indices(T)]
        g[diag] *= np.diag(L)
        return val, g

    res = optimize.minimize(f, x0, jac=True, method="BFGS", options={"gtol": 1e-9, "maxiter": 2000})
    if not np.isfinite(res.fun):
        raise ModelError("fit_mmrm: the REML fit did not converge to a positive-definite covariance")
    L = _from_chol(res.x, T)
    sigma = scale * L @ L.T
    _, A, b, _ = _gls(sigma, pats, p)
    C = np.linalg.inv(A)
    return MMRMFit(terms=list(terms) if terms else [f"x{j}" for j in range(p)], beta=C @ b, cov_beta=C,
                   sigma=sigma, waves=list(waves) if waves is not None else list(range(T)),
                   reml_criterion=float(res.fun), n_obs=N, n_groups=len(uniques), _pats=pats)


def mmrm(data: pd.DataFrame, dv: str, subject: str = "participant_id", within: str = "wave",
         between: str | None = "arm", between_ref=None, alpha: float = 0.05, return_fit: bool = False,
         within_order=None):
    """MMRM ``dv ~ between * within`` with an unstructured covariance over ``within``, REML.

    The arguments are those of :func:`rmstudy.stats.models.mixed.mixed_model` (``within_order`` or an ordered
    categorical gives the wave order; plain text waves that would sort wrongly are refused). Rows with a missing
    ``dv`` are dropped. Returns the fixed-effects table (``term, estimate, se, df`` (Satterthwaite), ``t,
    p_value, ci_low, ci_high``), with the fit when ``return_fit``. Matches ``nlme::gls`` with ``corSymm`` and
    ``varIdent`` by REML, and emmeans' Satterthwaite df (tests/reference/mmrm/).

    Parameters
    ----------
    data : DataFrame
        Long rows.
    dv, subject, within : str
        Outcome, subject and wave columns.
    between : str or None
        Arm column (None: ``dv ~ within``).
    between_ref : optional
        The reference arm.
    alpha : float
    return_fit : bool
        Also return the :class:`MMRMFit`.
    within_order : list, optional
        The waves in order.

    Returns
    -------
    DataFrame or (DataFrame, MMRMFit)

    Examples
    --------
    With complete data and two waves, the interaction is the difference in mean change (2 - 1/3) and its test
    the two-sample t test of the change scores (t = 2.5, df = 4):

    >>> d = pd.DataFrame({"participant_id": list("abcdef") * 2, "arm": (["program"] * 3 + ["control"] * 3) * 2,
    ...                   "wave": pd.Categorical(["pre"] * 6 + ["post"] * 6, ["pre", "post"], ordered=True),
    ...                   "score": [1.0, 2.0, 3.0, 2.0, 3.0, 4.0, 3.0, 3.0, 6.0, 2.0, 4.0, 4.0]})
    >>> tab = mmrm(d, "score", between_ref="control")
    >>> tab[["term", "estimate", "se", "df"]].round(4)
                          term  estimate      se   df
    0                Intercept    3.0000  0.5774  4.0
    1             arm[program]   -1.0000  0.8165  4.0
    2               wave[post]    0.3333  0.4714  4.0
    3  arm[program]:wave[post]    1.6667  0.6667  4.0
    """
    cols = [dv, subject, within] + ([between] if between else [])
    frame = {c: data[c] for c in cols}
    frame[within] = ordered_within(data[within], within_order, within)
    d = pd.DataFrame(frame, index=data.index).dropna(subset=cols)
    X, terms, w_levels, _ = design_arm_wave(d, within, between, between_ref)
    pos = {w: i for i, w in enumerate(w_levels)}
    times = d[within].map(pos).to_numpy(dtype=int)
    fit = fit_mmrm(d[dv].to_numpy(float), X, d[subject].to_numpy(), times, len(w_levels), terms, w_levels)
    tab = fit.table(alpha)
    return (tab, fit) if return_fit else tab


def cell_vector(terms: list[str], wave, arm: str | None = None, within: str = "wave", between: str = "arm"
                ) -> np.ndarray:
    """L with L'beta = the model mean of one ``arm`` x ``wave`` cell of a treatment-coded ``arm * wave`` design
    (:func:`rmstudy.stats.models.mixed.design_arm_wave`; ``arm=None`` for the single-arm ``~ wave``). The
    reference levels have no term of their own.

    Parameters
    ----------
    terms : list of str
        The fit's terms.
    wave, arm : optional
        The cell's wave and arm.
    within, between : str
        The wave and arm variables' names in the terms.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> cell_vector(["Intercept", "arm[program]", "wave[post]", "arm[program]:wave[post]"], "post", "program")
    array([1., 1., 1., 1.])
    """
    L = np.zeros(len(terms))
    for t in ("Intercept", f"{between}[{arm}]", f"{within}[{wave}]", f"{between}[{arm}]:{within}[{wave}]"):
        if t in terms:
            L[terms.index(t)] = 1.0
    return L


def joint_test(fit, Ls) -> dict:
    """Wald F test that every row of ``Ls`` has L'beta = 0, as emmeans' ``test(..., joint = TRUE)``: ``df1`` the
    rank of the rows, ``df2`` the smallest Satterthwaite df over an orthonormal basis of them. ``fit`` has
    ``beta``, ``cov_beta`` and ``satterthwaite_df(L)`` (:class:`MMRMFit` or the random-intercept fit).

    Parameters
    ----------
    fit : MMRMFit or the random-intercept fit
    Ls : array_like
        One contrast per row (linearly dependent rows count once).

    Returns
    -------
    dict
        ``F, df1, df2, p_value``.

    Examples
    --------
    One contrast, the programme arm's change (2): F is its t squared, (2 / 0.4714)^2 = 18, on 1 and 4 df.

    >>> d = pd.DataFrame({"participant_id": list("abcdef") * 2, "arm": (["program"] * 3 + ["control"] * 3) * 2,
    ...                   "wave": pd.Categorical(["pre"] * 6 + ["post"] * 6, ["pre", "post"], ordered=True),
    ...                   "score": [1.0, 2.0, 3.0, 2.0, 3.0, 4.0, 3.0, 3.0, 6.0, 2.0, 4.0, 4.0]})
    >>> _, fit = mmrm(d, "score", between_ref="control", return_fit=True)
    >>> L = cell_vector(fit.terms, "post", "program") - cell_vector(fit.terms, "pre", "program")
    >>> {k: round(v, 4) for k, v in joint_test(fit, [L]).items()}
    {'F': 18.0, 'df1': 1, 'df2': 4.0, 'p_value': 0.0132}
    """
    Ls = np.atleast_2d(np.asarray(Ls, dtype=float))
    kept: list[np.ndarray] = []
    for row in Ls:                       # a row that adds no rank counts once (QR alone does not drop it right)
        if np.linalg.matrix_rank(np.array(kept + [row])) > len(kept):
            kept.append(row)
    Q, R = np.linalg.qr(np.array(kept).T)
    keep = np.abs(np.diag(R)) > 1e-8 * np.abs(R).max()
    Q = Q[:, keep]
    z = Q.T @ fit.beta
    F = float(z @ np.linalg.solve(Q.T @ fit.cov_beta @ Q, z) / Q.shape[1])
    df2 = min(fit.satterthwaite_df(q) for q in Q.T)
    return {"F": F, "df1": int(Q.shape[1]), "df2": float(df2), "p_value": float(stats.f.sf(F, Q.shape[1], df2))}
