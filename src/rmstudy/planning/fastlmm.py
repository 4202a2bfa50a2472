"""The primary model's test for a batch of simulated cohorts at once: ``score ~ arm * wave + (1 | participant)``, REML,
Satterthwaite df, for the contrast (programme minus comparison) of the change between two waves.

Two routes give the same answer as :func:`rmstudy.stats.models.mixed.fit_random_intercept` followed by
``fit.contrast(L)`` (tests/test_power_engine.py compares them cohort by cohort):

**Closed form (complete data).** With every participant observed at all W waves and a random intercept, write each
person's scores as their mean ybar_i and the deviations from it. Under V = sigma2 I + tau2 J the two parts are
independent, the cell-means model splits into the arm means of ybar_i (2 parameters) and the arm x wave deviations
(2(W - 1) parameters), and the REML likelihood factorises:

    sigma2_hat = SSW / ((N - 2)(W - 1)),   SSW = sum_iw (y_iw - ybar_i - (m_aw - m_a.))^2,
    lambda_hat = SSB / (N - 2),            SSB = sum_i (ybar_i - m_a.)^2,   lambda = tau2 + sigma2 / W,

(m_aw the arm x wave cell means, m_a. their mean over waves). When lambda_hat > sigma2_hat / W the REML estimate is
interior (tau2_hat = lambda_hat - sigma2_hat / W). The contrast is a within-person quantity: its estimate is the
difference between the arms' mean changes, its variance 2 sigma2 (1/n_1 + 1/n_0), a function of sigma2 alone, and the
REML information of sigma2_hat is (N - 2)(W - 1) / (2 sigma2^2), so Satterthwaite's df is exactly (N - 2)(W - 1).
For two waves this is the pooled two-sample t-test on change scores (df N - 2): the LMM arm x wave test and the
change-score t-test are the same test. The closed form is used when tau2_hat / sigma2_hat >= 0.03^2 (far from the
boundary, where lme4 and rmstudy report a singular fit with tau2 = 0 and a different sigma2).

**Batched REML (dropouts, or near the boundary).** The profiled REML criterion of ``fit_random_intercept`` depends on
the data only through X'X, X'y, y'y and per-cluster-size sums (see ``rmstudy/stats/models/mixed.py``); a participant's
contribution to those sums depends only on their arm and response pattern, so they are built for every cohort of the
batch from one bincount of (cohort, arm, pattern). The criterion is evaluated on the fitter's theta grid for all
cohorts, refined by a golden-section search to 1e-10 inside the same bracket (each cohort stops on its own, so its
answer does not depend on the rest of the batch), the same boundary rule applies (theta = 0 when the criterion at 0
is within 1e-9 of the minimum), and the Satterthwaite df repeat the fitter's computation (analytic gradient of
c'Var(beta)c, central differences of the analytic REML deviance gradient) as batched linear algebra.
"""

from __future__ import annotations

__all__ = ["lmm_contrast", "closed_form", "batched_reml", "contrast_vector", "pooled_baseline_sd"]

import numpy as np
from scipy import stats

from rmstudy.errors import InvariantError

_LOG2PI = np.log(2 * np.pi)
#: theta = tau / sigma below which a complete-data cohort goes through batched REML instead of the closed form
CLOSED_FORM_MIN_THETA = 0.03
GOLDEN_STEPS = 70
SINGULAR_THETA = 1e-4


def contrast_vector(n_waves: int, contrast: tuple[int, int]) -> np.ndarray:
    """L for ``arm[program]:wave[later] - arm[program]:wave[base]`` in the term order of ``design_arm_wave``
    (Intercept, arm, waves 2..W, arm x waves 2..W).

    Parameters
    ----------
    n_waves : int
        Waves W.
    contrast : (int, int)
        Indices of the baseline and the later wave.

    Returns
    -------
    ndarray (2W,)

    Examples
    --------
    >>> contrast_vector(3, (0, 2)), contrast_vector(3, (1, 2))
    (array([0., 0., 0., 0., 0., 1.]), array([ 0.,  0.,  0.,  0., -1.,  1.]))
    """
    L = np.zeros(2 * n_waves)
    base, later = contrast
    L[n_waves + later] += 1.0
    if base > 0:
        L[n_waves + base] -= 1.0
    return L


def _cell_design(n_waves: int) -> np.ndarray:
    """x of an observation in arm a (0 comparison, 1 programme) at wave w: (2, W, 2W)."""
    X = np.zeros((2, n_waves, 2 * n_waves))
    for a in (0, 1):
        for w in range(n_waves):
            X[a, w, 0] = 1
            X[a, w, 1] = a
            if w:
                X[a, w, 1 + w] = 1
                X[a, w, n_waves + w] = a
    return X


def _p_value(t, df):
    return 2 * stats.t.sf(np.abs(t), df)


def _programme_first(arm: np.ndarray) -> int:
    """Number of programme participants; the batch lays them out first (``draws.arms``), so arms are slices."""
    n1 = int((arm == 1).sum())
    if not (arm[:n1] == 1).all():
        raise InvariantError("fastlmm expects the programme participants first (draws.arms)")
    return n1


def closed_form(y: np.ndarray, arm: np.ndarray, contrast: tuple[int, int]) -> dict:
    """The LMM contrast for complete data (every score observed): arrays over the batch (see the module notes).

    Parameters
    ----------
    y : ndarray (B, N, W)
        Scores of B cohorts, programme participants first.
    arm : ndarray (N,)
        1 = programme, 0 = comparison (:func:`~rmstudy.planning.draws.arms`).
    contrast : (int, int)
        Indices of the baseline and the later wave.

    Returns
    -------
    dict
        ``estimate, se, df, p_value, theta`` (tau / sigma), arrays (B,).

    Examples
    --------
    For two waves, the pooled t-test on the change scores:

    >>> y = np.array([[[0.0, 1.0], [1.0, 2.5], [2.0, 2.0], [3.0, 3.5]]])       # changes 1, 1.5 and 0, 0.5
    >>> r = closed_form(y, np.array([1.0, 1.0, 0.0, 0.0]), (0, 1))
    >>> t = stats.ttest_ind([1.0, 1.5], [0.0, 0.5])
    >>> float(r["estimate"][0]), float(r["df"][0]), bool(np.isclose(r["p_value"][0], t.pvalue))
    (1.0, 2.0, True)
    """
    B, N, W = y.shape
    n1 = _programme_first(arm)
    n0 = N - n1
    ssw = np.zeros(B)
    ssb = np.zeros(B)
    cells = []
    for part in (y[:, n1:], y[:, :n1]):                    # comparison, programme
        cell = part.mean(1)                                 # (B, W)
        ybar = part.mean(-1)                                # (B, n)
        within = part - ybar[:, :, None] - (cell - cell.mean(-1)[:, None])[:, None, :]
        between = ybar - cell.mean(-1)[:, None]
        ssw += np.einsum("bnw,bnw->b", within, within)
        ssb += np.einsum("bn,bn->b", between, between)
        cells.append(cell)
    df = float((N - 2) * (W - 1))
    sigma2 = ssw / df
    tau2 = ssb / (N - 2) - sigma2 / W
    base, later = contrast
    est = (cells[1][:, later] - cells[1][:, base]) - (cells[0][:, later] - cells[0][:, base])
    se = np.sqrt(2 * sigma2 * (1 / n1 + 1 / n0))
    return {"estimate": est, "se": se, "df": np.full(B, df), "p_value": _p_value(est / se, df),
            "theta": np.sqrt(np.clip(tau2, 0, None) / sigma2)}


class _Suff:
    """Sufficient statistics of the batch for the random-intercept REML criterion (mixed.py's _sufficient, batched).

    A participant's s_i = X_i'1 depends only on their arm and response pattern, so the per-size sums
    S_m = sum s_i s_i', u_m = sum s_i t_i, v_m = sum t_i^2 (t_i = the sum of their scores) are built from counts and
    sums per (arm, pattern): one bincount over the batch."""

    def __init__(self, y: np.ndarray, observed: np.ndarray, arm: np.ndarray):
        B, N, W = y.shape
        p = 2 * W
        n1 = _programme_first(arm)
        Xc = _cell_design(W)                                              # (2, W, p)
        patterns = np.array([[(c >> w) & 1 for w in range(W)] for c in range(2**W)], dtype=float)   # (P, W)
        s_ac = np.einsum("cw,awp->acp", patterns, Xc).reshape(2 * 2**W, p)  # s of (arm, pattern)
        size = np.tile(patterns.sum(1), 2)                                 # observations of (arm, pattern)
        yo = np.where(observed, y, 0.0)
        t = yo.sum(-1)
        code = (observed * (1 << np.arange(W))).sum(-1)                     # (B, N) pattern of each participant
        a = np.zeros(N, dtype=np.int64)
        a[:n1] = 1
        key = (np.arange(B)[:, None] * 2 + a[None, :]) * 2**W + code
        G = 2 * 2**W
        count = np.bincount(key.ravel(), minlength=B * G).reshape(B, G)
        tsum = np.bincount(key.ravel(), weights=t.ravel(), minlength=B * G).reshape(B, G)
        t2sum = np.bincount(key.ravel(), weights=(t * t).ravel(), minlength=B * G).reshape(B, G)
        self.m = np.arange(1, W + 1, dtype=float)
        onto = (size[:, None] == self.m[None, :]).astype(float)              # (G, W): group -> size
        ss = np.einsum("gp,gq->gpq", s_ac, s_ac).reshape(G, p * p)
        self.S = ((count[:, :, None] * onto[None]).transpose(0, 2, 1) @ ss)     # (B, W, p*p)
        self.u = ((tsum[:, :, None] * onto[None]).transpose(0, 2, 1) @ s_ac)    # (B, W, p)
        self.v = t2sum @ onto                                                 # (B, W)
        self.k = count @ onto
        counts_aw = np.stack([observed[:, n1:].sum(1), observed[:, :n1].sum(1)], axis=1).reshape(B, 2 * W)
        sums_aw = np.stack([yo[:, n1:].sum(1), yo[:, :n1].sum(1)], axis=1).reshape(B, 2 * W)
        xx = np.einsum("cp,cq->cpq", Xc.reshape(2 * W, p), Xc.reshape(2 * W, p)).reshape(2 * W, p * p)
        self.XtX = (counts_aw @ xx).reshape(B, p, p)
        self.Xty = sums_aw @ Xc.reshape(2 * W, p)
        self.yty = np.einsum("bnw,bnw->b", yo, yo)
        self.N = observed.sum((1, 2)).astype(float)
        self.p = p

    def _S(self, w):
        """sum_m w_m S_m as (B, p, p)."""
        return (w[:, None, :] @ self.S)[:, 0].reshape(-1, self.p, self.p)

    def take(self, idx):
        out = object.__new__(_Suff)
        for name in ("XtX", "Xty", "yty", "S", "u", "v", "k", "N"):
            setattr(out, name, getattr(self, name)[idx])
        out.m, out.p = self.m, self.p
        return out

    def reduce(self, w):
        """A = X'X - sum_m w_m S_m, b, c for weights w (B, W)."""
        A = self.XtX - self._S(w)
        b = self.Xty - (w[:, None, :] @ self.u)[:, 0]
        c = self.yty - (w * self.v).sum(1)
        return A, b, c

    def profiled(self, theta: np.ndarray):
        g = theta * theta
        w = g[:, None] / (1 + self.m[None, :] * g[:, None])
        A, b, c = self.reduce(w)
        logdet_L = (self.k * np.log1p(self.m[None, :] * g[:, None])).sum(1)
        sign, logdet_A = np.linalg.slogdet(A)
        beta = np.linalg.solve(A, b[:, :, None])[:, :, 0]
        r = c - (b * beta).sum(1)
        dfr = self.N - self.p
        with np.errstate(invalid="ignore", divide="ignore"):
            crit = logdet_L + logdet_A + dfr * (1 + _LOG2PI + np.log(r / dfr))
        return np.where(sign > 0, crit, np.inf), beta, A, r

    def deviance_grad(self, tau: np.ndarray, s: np.ndarray) -> np.ndarray:
        """Analytic gradient of the unprofiled REML deviance in (tau2, sigma2): (B, 2)."""
        g = tau / s
        den = 1 + self.m[None, :] * g[:, None]
        A, b, c = self.reduce(g[:, None] / den)
        dw = 1 / den**2
        dA = -self._S(dw)
        db = -(dw[:, None, :] @ self.u)[:, 0]
        dc = -(dw * self.v).sum(1)
        dlog = (self.k * self.m[None, :] / den).sum(1)
        Ainv = np.linalg.inv(A)
        Ab = np.einsum("bpq,bq->bp", Ainv, b)
        r = c - (b * Ab).sum(1)
        dr = dc - 2 * (Ab * db).sum(1) + np.einsum("bp,bpq,bq->b", Ab, dA, Ab)
        dL = dlog + np.einsum("bpq,bqp->b", Ainv, dA)
        common = dL + dr / s
        return np.stack([common / s, (self.N - self.p) / s - r / s**2 - common * tau / s**2], axis=1)

    def cov_and_grad(self, L: np.ndarray, tau: np.ndarray, s: np.ndarray):
        """c'Var(beta)c and its gradient in (tau2, sigma2)."""
        den = s[:, None] + self.m[None, :] * tau[:, None]                               # (B, W)
        M = self.XtX / s[:, None, None] - self._S(tau[:, None] / (s[:, None] * den))
        dM_tau = -self._S(1 / den**2)
        dM_s = -self.XtX / (s**2)[:, None, None] + self._S(
            tau[:, None] * (2 * s[:, None] + self.m[None, :] * tau[:, None]) / (s[:, None] ** 2 * den**2))
        vL = np.linalg.solve(M, np.broadcast_to(L, (len(s), len(L)))[:, :, None])[:, :, 0]
        var = vL @ L
        grad = np.stack([-np.einsum("bp,bpq,bq->b", vL, dM_tau, vL), -np.einsum("bp,bpq,bq->b", vL, dM_s, vL)], 1)
        return var, grad


def _optimise_theta(q: _Suff) -> np.ndarray:
    """mixed.py's search for theta (grid, bracket, 1-D minimisation, boundary rule), for every cohort at once."""
    grid = np.concatenate([[0.0], np.logspace(-3, 2.5, 45)])
    B = len(q.N)
    vals = np.stack([q.profiled(np.full(B, t))[0] for t in grid])                    # (G, B)
    k = np.argmin(vals, axis=0)
    lo = np.where(k == 0, 0.0, grid[np.maximum(k - 1, 0)])
    hi = np.where(k == 0, grid[1], grid[np.minimum(k + 1, len(grid) - 1)])
    ratio = (np.sqrt(5) - 1) / 2
    x1, x2 = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    f1, f2 = q.profiled(x1)[0], q.profiled(x2)[0]
    for _ in range(GOLDEN_STEPS):
        active = hi - lo >= 1e-10                  # a cohort whose bracket is small enough stops (batch-independent)
        if not active.any():
            break
        left = f1 <= f2                                    # the minimum lies in [lo, x2]
        new_hi, new_lo = np.where(left, x2, hi), np.where(left, lo, x1)
        x2n = np.where(left, x1, new_lo + ratio * (new_hi - new_lo))
        x1n = np.where(left, new_hi - ratio * (new_hi - new_lo), x2)
        fn = q.profiled(np.where(left, x1n, x2n))[0]
        f2n, f1n = np.where(left, f1, fn), np.where(left, fn, f2)
        hi, lo = np.where(active, new_hi, hi), np.where(active, new_lo, lo)
        x1, x2 = np.where(active, x1n, x1), np.where(active, x2n, x2)
        f1, f2 = np.where(active, f1n, f1), np.where(active, f2n, f2)
    theta = np.where(f1 <= f2, x1, x2)
    fmin = np.minimum(f1, f2)
    f0 = q.profiled(np.zeros(B))[0]
    return np.where(f0 <= fmin + 1e-9, 0.0, theta)


def _satterthwaite(q: _Suff, L: np.ndarray, theta, tau2, sigma2) -> np.ndarray:
    var, grad = q.cov_and_grad(L, tau2, sigma2)
    df = np.empty(len(theta))
    sing = theta < SINGULAR_THETA
    if sing.any():                             # only the residual variance is free at the boundary
        qs, s = q.take(sing), sigma2[sing]
        h = 1e-5 * s
        z = np.zeros_like(s)
        hs = (qs.deviance_grad(z, s + h)[:, 1] - qs.deviance_grad(z, s - h)[:, 1]) / (2 * h)
        df[sing] = 2 * var[sing] ** 2 / (grad[sing, 1] ** 2 * (2.0 / hs))
    if (~sing).any():
        qi, phi = q.take(~sing), np.stack([tau2[~sing], sigma2[~sing]], 1)
        H = np.empty((len(phi), 2, 2))
        for j in range(2):
            h = 1e-5 * phi[:, j]
            up, dn = phi.copy(), phi.copy()
            up[:, j] += h
            dn[:, j] -= h
            H[:, :, j] = (qi.deviance_grad(up[:, 0], up[:, 1]) - qi.deviance_grad(dn[:, 0], dn[:, 1])) / (2 * h[:, None])
        H = (H + np.swapaxes(H, 1, 2)) / 2
        cov_phi = 2 * np.linalg.inv(H)
        g = grad[~sing]
        df[~sing] = 2 * var[~sing] ** 2 / np.einsum("bp,bpq,bq->b", g, cov_phi, g)
    return df


def batched_reml(y: np.ndarray, observed: np.ndarray, arm: np.ndarray, contrast: tuple[int, int]) -> dict:
    """The LMM contrast by REML for every cohort of the batch (any response pattern; see the module notes).

    Parameters
    ----------
    y : ndarray (B, N, W)
        Scores of B cohorts, programme participants first (a missing score's value is ignored).
    observed : ndarray of bool (B, N, W)
        Which scores were given.
    arm : ndarray (N,)
        1 = programme, 0 = comparison.
    contrast : (int, int)
        Indices of the baseline and the later wave.

    Returns
    -------
    dict
        ``estimate, se, df`` (Satterthwaite), ``p_value, theta``, arrays (B,).

    Examples
    --------
    On complete data it agrees with :func:`closed_form`:

    >>> y = np.array([[[0.0, 1.0], [1.0, 2.5], [2.0, 2.0], [3.0, 3.5]]])
    >>> arm = np.array([1.0, 1.0, 0.0, 0.0])
    >>> r = batched_reml(y, np.ones(y.shape, bool), arm, (0, 1))
    >>> cf = closed_form(y, arm, (0, 1))
    >>> all(np.allclose(r[k], cf[k], rtol=1e-5) for k in ("estimate", "se", "df", "p_value"))
    True
    """
    q = _Suff(y, observed, arm)
    L = contrast_vector(y.shape[2], contrast)
    theta = _optimise_theta(q)
    _, beta, A, r = q.profiled(theta)
    sigma2 = r / (q.N - q.p)
    tau2 = theta**2 * sigma2
    Ainv_L = np.linalg.solve(A, np.broadcast_to(L, beta.shape)[:, :, None])[:, :, 0]
    est = beta @ L
    se = np.sqrt(sigma2 * (Ainv_L @ L))
    df = _satterthwaite(q, L, theta, tau2, sigma2)
    return {"estimate": est, "se": se, "df": df, "p_value": _p_value(est / se, df), "theta": theta}


def lmm_contrast(y: np.ndarray, observed: np.ndarray, arm: np.ndarray, contrast: tuple[int, int]) -> dict:
    """The primary LMM's contrast for each cohort of the batch, by the closed form where it applies and batched REML
    elsewhere; ``route`` says which (``closed_form`` or ``reml``) for each cohort.

    Parameters
    ----------
    y : ndarray (B, N, W)
        Scores of B cohorts, programme participants first.
    observed : ndarray of bool (B, N, W)
        Which scores were given.
    arm : ndarray (N,)
        1 = programme, 0 = comparison.
    contrast : (int, int)
        Indices of the baseline and the later wave.

    Returns
    -------
    dict
        ``estimate, se, df, p_value, theta`` arrays (B,) and ``route``.

    Examples
    --------
    The same cohort twice, the second time without the last participant's follow-up:

    >>> y = np.array([[[0.0, 1.0], [1.0, 2.5], [2.0, 2.0], [3.0, 3.5]]] * 2)
    >>> observed = np.ones(y.shape, bool)
    >>> observed[1, 3, 1] = False
    >>> r = lmm_contrast(y, observed, np.array([1.0, 1.0, 0.0, 0.0]), (0, 1))
    >>> r["route"].tolist(), np.round(r["estimate"], 3), np.round(r["df"], 3)
    (['closed_form', 'reml'], array([1.   , 1.297]), array([2.   , 1.056]))
    """
    B = y.shape[0]
    complete = observed.all(axis=(1, 2))
    out = {k: np.empty(B) for k in ("estimate", "se", "df", "p_value", "theta")}
    use_reml = ~complete
    if complete.any():
        cf = closed_form(y[complete], arm, contrast)
        ok = cf["theta"] >= CLOSED_FORM_MIN_THETA
        idx = np.flatnonzero(complete)
        for k in out:
            out[k][idx[ok]] = cf[k][ok]
        use_reml[idx[~ok]] = True
    if use_reml.any():
        rm = batched_reml(y[use_reml], observed[use_reml], arm, contrast)
        for k in out:
            out[k][use_reml] = rm[k]
    out["route"] = np.where(use_reml, "reml", "closed_form")
    return out


def pooled_baseline_sd(y0: np.ndarray, arm: np.ndarray) -> np.ndarray:
    """Pooled SD of the two arms' baseline scores for each cohort (B, N) -> (B,), as ``stats.effects.pooled_baseline_sd``.

    Parameters
    ----------
    y0 : ndarray (B, N)
        Baseline scores, programme participants first.
    arm : ndarray (N,)
        1 = programme, 0 = comparison.

    Returns
    -------
    ndarray (B,)

    Examples
    --------
    >>> pooled_baseline_sd(np.array([[0.0, 1.0, 2.0, 3.0]]), np.array([1.0, 1.0, 0.0, 0.0]))
    array([0.70710678])
    """
    n1 = _programme_first(arm)
    n0 = len(arm) - n1
    v1, v0 = y0[:, :n1].var(1, ddof=1), y0[:, n1:].var(1, ddof=1)
    return np.sqrt(((n1 - 1) * v1 + (n0 - 1) * v0) / (n1 + n0 - 2))
