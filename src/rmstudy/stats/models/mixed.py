"""Linear mixed model with a random intercept per subject, fitted by REML.

The fitter exploits the model's structure instead of looping over subjects:
with a random intercept, V_i = s (I + g 11') for a subject with n_i
observations (s = residual variance, g = subject/residual variance ratio), so

    X'V^-1 X = (X'X - sum_m w_m S_m) / s,   w_m = g / (1 + m g),

where S_m sums s_i s_i' (s_i = X_i'1) over the subjects with m observations.
The profiled REML criterion therefore depends on the data only through X'X,
X'y, y'y and per-cluster-size sums; every evaluation costs O(#sizes * p^2)
whatever the number of subjects. The criterion is lme4's REML criterion, so
estimates, SEs and the criterion itself are comparable with ``lme4::lmer``.

Denominator degrees of freedom follow Satterthwaite as ``lmerTest`` computes
them: the gradient of c'Var(beta)c in the variance parameters and the inverse
observed Hessian of the (unprofiled) REML deviance.
"""

from __future__ import annotations

__all__ = ["RandomInterceptFit", "fit_random_intercept", "mixed_model", "design_arm_wave", "ordered_within"]

from dataclasses import dataclass, field

import re

import numpy as np
import pandas as pd
from scipy import optimize, stats

from rmstudy.contract.coding import covariate_columns
from rmstudy.errors import ModelError
from rmstudy.stats.models.nested import NestedInterceptFit, fit_nested_intercepts
from rmstudy.contract.cells import blank

_LOG2PI = np.log(2 * np.pi)


@dataclass
class RandomInterceptFit:
    """Result of :func:`fit_random_intercept`.

    Attributes
    ----------
    terms : list of str
        The fixed effects' names.
    beta, cov_beta : numpy array
        Their estimates and covariance matrix.
    sigma2, tau2 : float
        Residual and random-intercept variance.
    reml_criterion : float
        lme4's ``REMLcrit``.
    n_obs, n_groups : int
    theta : float
        tau / sigma, lme4's theta.
    singular : bool
        theta at (or near) 0.

    Examples
    --------
    >>> fit = fit_random_intercept([1.0, 3.0, 4.0, 6.0, 8.0, 10.0], np.ones((6, 1)), list("aabbcc"), ["Intercept"])
    >>> t = fit.table()          # estimate, se, Satterthwaite df, t, p_value, ci_low, ci_high per term
    >>> t[["term", "estimate", "se", "df"]].round(4).values.tolist(), round(fit.icc, 4)
    ([['Intercept', 5.3333, 2.0276, 2.0]], 0.85)
    """

    terms: list[str]
    beta: np.ndarray
    cov_beta: np.ndarray
    sigma2: float           # residual variance
    tau2: float             # random-intercept variance
    reml_criterion: float   # lme4's REMLcrit
    n_obs: int
    n_groups: int
    theta: float            # sd ratio tau/sigma, lme4's theta
    singular: bool
    _suff: dict = field(repr=False, default_factory=dict)

    @property
    def icc(self) -> float:
        return self.tau2 / (self.tau2 + self.sigma2)

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov_beta))

    # --- Satterthwaite -------------------------------------------------
    def _cov_and_grad(self, L: np.ndarray):
        """c'Var c and its gradient in (tau2, sigma2)."""
        q = self._suff
        tau, s = self.tau2, self.sigma2
        M = q["XtX"] / s
        dM_tau = np.zeros_like(M)
        dM_s = -q["XtX"] / s**2
        for m, S in zip(q["sizes"], q["S"]):
            den = s + m * tau
            M -= (tau / (s * den)) * S
            dM_tau -= S / den**2
            dM_s += tau * (2 * s + m * tau) / (s**2 * den**2) * S
        V = np.linalg.inv(M)
        vL = V @ L
        var = float(L @ vL)
        grad = np.array([-(vL @ dM_tau @ vL), -(vL @ dM_s @ vL)])
        return var, grad

    def _deviance_grad(self, tau: float, s: float) -> np.ndarray:
        """Analytic gradient of the unprofiled REML deviance in (tau2, sigma2)."""
        q = self._suff
        g = tau / s
        A = q["XtX"].copy()
        b = q["Xty"].copy()
        c = q["yty"]
        dA = np.zeros_like(A)
        db = np.zeros_like(b)
        dc = 0.0
        dlog = 0.0
        for m, k, S, u, v in zip(q["sizes"], q["counts"], q["S"], q["u"], q["v"]):
            w = g / (1 + m * g)
            dw = 1 / (1 + m * g) ** 2
            A -= w * S
            b -= w * u
            c -= w * v
            dA -= dw * S
            db -= dw * u
            dc -= dw * v
            dlog += k * m / (1 + m * g)
        Ainv = np.linalg.inv(A)
        Ab = Ainv @ b
        r = c - b @ Ab
        dr = dc - 2 * Ab @ db + Ab @ dA @ Ab
        dL = dlog + np.trace(Ainv @ dA)
        p = A.shape[0]
        N = self.n_obs
        common = dL + dr / s
        d_tau = common / s
        d_s = (N - p) / s - r / s**2 - common * tau / s**2
        return np.array([d_tau, d_s])

    def satterthwaite_df(self, L) -> float:
        """Satterthwaite denominator df for the contrast L'beta (lmerTest's method)."""
        L = np.asarray(L, dtype=float)
        var, grad = self._cov_and_grad(L)
        if self.singular:
            # at the boundary only the residual variance is free (lmerTest's gradient in theta is 0 there)
            phi = np.array([self.sigma2])
            h = 1e-5 * phi[0]
            hs = (self._deviance_grad(0.0, phi[0] + h)[1] - self._deviance_grad(0.0, phi[0] - h)[1]) / (2 * h)
            cov_phi = 2.0 / hs
            return float(2 * var**2 / (grad[1] ** 2 * cov_phi))
        phi = np.array([self.tau2, self.sigma2])
        H = np.empty((2, 2))
        for j in range(2):
            h = 1e-5 * phi[j]
            up, dn = phi.copy(), phi.copy()
            up[j] += h
            dn[j] -= h
            H[:, j] = (self._deviance_grad(*up) - self._deviance_grad(*dn)) / (2 * h)
        H = (H + H.T) / 2
        cov_phi = 2 * np.linalg.inv(H)
        return float(2 * var**2 / (grad @ cov_phi @ grad))

    def contrast(self, L, label: str = "contrast", alpha: float = 0.05) -> dict:
        """Estimate, SE, Satterthwaite df, t, two-sided p and CI of L'beta."""
        L = np.asarray(L, dtype=float)
        est = float(L @ self.beta)
        se = float(np.sqrt(L @ self.cov_beta @ L))
        df = self.satterthwaite_df(L)
        t = est / se
        p = 2 * stats.t.sf(abs(t), df)
        half = stats.t.ppf(1 - alpha / 2, df) * se
        return {"term": label, "estimate": est, "se": se, "df": df, "t": t, "p_value": float(p),
                "ci_low": est - half, "ci_high": est + half}

    def table(self, alpha: float = 0.05) -> pd.DataFrame:
        rows = []
        for j, term in enumerate(self.terms):
            L = np.zeros(len(self.terms))
            L[j] = 1
            rows.append(self.contrast(L, term, alpha))
        df = pd.DataFrame(rows)
        df.attrs.update(self.variance_components())
        return df

    def variance_components(self) -> dict:
        return {"tau2": self.tau2, "sigma2": self.sigma2, "icc": self.icc, "theta": self.theta,
                "reml_criterion": self.reml_criterion, "n_obs": self.n_obs, "n_groups": self.n_groups,
                "singular": self.singular}


def _sufficient(y: np.ndarray, X: np.ndarray, codes: np.ndarray, n_groups: int) -> dict:
    n_i = np.bincount(codes, minlength=n_groups)
    s = np.column_stack([np.bincount(codes, weights=X[:, j], minlength=n_groups) for j in range(X.shape[1])])
    t = np.bincount(codes, weights=y, minlength=n_groups)
    sizes, inv = np.unique(n_i, return_inverse=True)
    S, u, v, counts = [], [], [], []
    for k, m in enumerate(sizes):
        idx = inv == k
        sk, tk = s[idx], t[idx]
        S.append(sk.T @ sk)
        u.append(sk.T @ tk)
        v.append(float(tk @ tk))
        counts.append(int(idx.sum()))
    return {"XtX": X.T @ X, "Xty": X.T @ y, "yty": float(y @ y), "sizes": sizes.astype(float),
            "counts": np.array(counts, dtype=float), "S": S, "u": u, "v": v}


def _profiled(theta: float, q: dict, N: int, p: int):
    g = theta * theta
    A = q["XtX"].copy()
    b = q["Xty"].copy()
    c = q["yty"]
    logdet_L = 0.0
    for m, k, S, u, v in zip(q["sizes"], q["counts"], q["S"], q["u"], q["v"]):
        w = g / (1 + m * g)
        A -= w * S
        b -= w * u
        c -= w * v
        logdet_L += k * np.log1p(m * g)
    sign, logdet_A = np.linalg.slogdet(A)
    if sign <= 0:
        return np.inf, None, None, None
    beta = np.linalg.solve(A, b)
    r = c - b @ beta
    crit = logdet_L + logdet_A + (N - p) * (1 + _LOG2PI + np.log(r / (N - p)))
    return crit, beta, A, r


def fit_random_intercept(y, X, groups, terms: list[str] | None = None) -> RandomInterceptFit:
    """Fit y = X beta + b_group + e by REML (lme4's ``lmer(y ~ X + (1|group))``).

    Parameters
    ----------
    y : (N,) response; X : (N, p) fixed-effects design of full column rank;
    groups : (N,) subject labels. No missing values allowed (drop them first).

    Returns
    -------
    RandomInterceptFit

    Examples
    --------
    >>> # balanced one-way data: REML gives the ANOVA estimates, sigma2 = MSW = 2, tau2 = (MSB - MSW) / 2 = 34 / 3
    >>> fit = fit_random_intercept([1.0, 3.0, 4.0, 6.0, 8.0, 10.0], np.ones((6, 1)), list("aabbcc"))
    >>> round(fit.sigma2, 4), round(fit.tau2, 4), fit.beta.round(4).tolist(), fit.n_groups
    (2.0, 11.3333, [5.3333], 3)
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    codes, uniques = pd.factorize(np.asarray(groups), sort=False)
    if np.any(codes < 0) or not np.all(np.isfinite(y)) or not np.all(np.isfinite(X)):
        raise ModelError("fit_random_intercept: y, X and groups must be complete (no missing values)")
    N, p = X.shape
    if np.linalg.matrix_rank(X) < p:
        raise ModelError("fit_random_intercept: the fixed-effects design is rank deficient "
                         "(an arm or wave has no observations in this population?)")
    if N <= p:
        raise ModelError(f"fit_random_intercept: {N} observations cannot estimate {p} fixed effects")
    q = _sufficient(y, X, codes, len(uniques))
    if not q["yty"] - q["Xty"] @ np.linalg.solve(q["XtX"], q["Xty"]) > 1e-10 * q["yty"]:
        raise _exact_fit()      # y in the span of X: residuals 0, SEs 0 (t = estimate / 0 was a ZeroDivisionError)

    def f(th):
        return _profiled(th, q, N, p)[0]

    grid = np.concatenate([[0.0], np.logspace(-3, 2.5, 45)])
    vals = np.array([f(t) for t in grid])
    k = int(np.argmin(vals))
    if k == 0:
        lo, hi = 0.0, grid[1]
    else:
        lo, hi = grid[k - 1], grid[min(k + 1, len(grid) - 1)]
    res = optimize.minimize_scalar(f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10, "maxiter": 500})
    theta = float(res.x)
    if f(0.0) <= res.fun + 1e-9:   # boundary (singular) fit: lme4 reports theta = 0
        theta = 0.0
    crit, beta, A, r = _profiled(theta, q, N, p)
    if not r > 1e-10 * q["yty"]:
        raise _exact_fit()
    sigma2 = r / (N - p)
    cov = sigma2 * np.linalg.inv(A)
    return RandomInterceptFit(terms=list(terms) if terms else [f"x{j}" for j in range(p)], beta=beta, cov_beta=cov,
                              sigma2=float(sigma2), tau2=float(theta**2 * sigma2), reml_criterion=float(crit),
                              n_obs=N, n_groups=len(uniques), theta=theta, singular=theta < 1e-4, _suff=q)


def _exact_fit() -> ModelError:
    return ModelError("fit_random_intercept: the outcome is fitted exactly (no residual variance, e.g. every score the "
                      "same): there is no uncertainty to estimate; check the outcome column")


def _levels(series: pd.Series, reference=None) -> list:
    if isinstance(series.dtype, pd.CategoricalDtype):
        levels = [c for c in series.cat.categories if (series == c).any()]
    else:
        numeric = pd.api.types.is_numeric_dtype(series.dtype)       # waves 3, 12: in number order, not text order
        levels = sorted(series.dropna().unique().tolist(), key=None if numeric else str)
    if reference is not None:
        if reference not in levels:
            raise ModelError(f"reference level {reference!r} does not occur in the data")
        levels = [reference] + [lv for lv in levels if lv != reference]
    return levels


def design_arm_wave(data: pd.DataFrame, within: str = "wave", between: str | None = "arm",
                    between_ref=None, covariates=()) -> tuple[np.ndarray, list[str], list, list]:
    """Treatment-coded design for ``~ between * within (+ covariates)``.

    Reference levels: the first level of an ordered/categorical ``within`` (the
    first wave) and ``between_ref`` (default: first level; for ``arm`` pass
    'control'). Returns X, term names, within levels and between levels. Covariates are coded by
    :func:`rmstudy.contract.coding.covariate_columns`.

    Parameters
    ----------
    data : DataFrame
        Long data, one row per observation.
    within, between : str
        The within-subject factor (wave) and the between factor (arm; None for none).
    between_ref : object
        The reference level of ``between``.
    covariates : iterable of str

    Returns
    -------
    (numpy array, list of str, list, list)
        The design X, its term names, the within levels and the between levels.

    Examples
    --------
    >>> d = pd.DataFrame({"arm": ["control", "control", "program", "program"],
    ...                   "wave": pd.Categorical(["pre", "post"] * 2, ["pre", "post"], ordered=True)})
    >>> X, terms, waves, arms = design_arm_wave(d, between_ref="control")
    >>> terms
    ['Intercept', 'arm[program]', 'wave[post]', 'arm[program]:wave[post]']
    >>> X[3].tolist(), waves, arms
    ([1.0, 1.0, 1.0, 1.0], ['pre', 'post'], ['control', 'program'])
    """
    w_levels = _levels(data[within])
    cols, terms = [np.ones(len(data))], ["Intercept"]
    b_levels = []
    if between is not None:
        b_levels = _levels(data[between], between_ref)
        for b in b_levels[1:]:
            cols.append((data[between] == b).to_numpy(dtype=float))
            terms.append(f"{between}[{b}]")
    for w in w_levels[1:]:
        cols.append((data[within] == w).to_numpy(dtype=float))
        terms.append(f"{within}[{w}]")
    if between is not None:
        for b in b_levels[1:]:
            for w in w_levels[1:]:
                cols.append(((data[between] == b) & (data[within] == w)).to_numpy(dtype=float))
                terms.append(f"{between}[{b}]:{within}[{w}]")
    cov_cols, cov_terms, _ = covariate_columns(data, covariates)     # text: dummies against the first level
    return np.column_stack(cols + cov_cols), terms + cov_terms, w_levels, b_levels


def _factorised(s: pd.Series, sort: bool) -> pd.Series:
    """A text column in one pass over its strings; other columns as they are. With ``sort`` (a factor of the
    design) a categorical whose categories are in the order :func:`_levels` gives text (sorted as text); without
    (group labels) the float codes of its values in order of appearance, NaN where missing."""
    if isinstance(s.dtype, pd.CategoricalDtype) or not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
        return s
    codes, uniques = pd.factorize(s.to_numpy(), sort=False)          # missing values get code -1
    if not sort:
        return pd.Series(np.where(codes < 0, np.nan, codes), index=s.index, name=s.name)
    return _as_text_sorted(s, codes, uniques)


def _as_text_sorted(s: pd.Series, codes: np.ndarray, uniques) -> pd.Series:
    """``s`` as a categorical whose categories are its values sorted as text, from ``pd.factorize``'s output."""
    cats = list(uniques)
    if cats:
        order = sorted(range(len(cats)), key=lambda i: str(cats[i]))
        rank = np.empty(len(order), dtype=codes.dtype)
        rank[order] = np.arange(len(order), dtype=codes.dtype)
        codes = np.where(codes < 0, codes, rank[np.maximum(codes, 0)])
        cats = [cats[i] for i in order]
    cat = pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(cats), validate=False)   # codes made above
    return pd.Series(cat, index=s.index, name=s.name)


def _labels(s: pd.Series) -> np.ndarray:
    """Group labels for the fitters: a categorical's integer codes (same groups, no strings), else the values."""
    return s.cat.codes.to_numpy() if isinstance(s.dtype, pd.CategoricalDtype) else s.to_numpy()


def _natural(v) -> list:
    """Sort key reading runs of digits as numbers (``m3`` before ``m12``)."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(v))]


def ordered_within(s: pd.Series, order=None, name: str = "wave") -> pd.Series:
    """The within-subject factor in time order: ``s`` as an ordered categorical of ``order`` when given (every
    value must be one of its levels), else ``s`` itself when it is categorical or numeric, or text whose names
    leave no doubt about the order (see :func:`mixed_model`, ``within_order``).

    Parameters
    ----------
    s : Series
        The within-subject column.
    order : list, optional
        The levels in time order.
    name : str
        The column's name, in messages.

    Returns
    -------
    Series

    Raises
    ------
    ModelError
        for text waves without an order (their sort order as text is not their order in time), and for values
        outside ``order``.

    Examples
    --------
    >>> ordered_within(pd.Series(["pre", "m2", "m12"]), ["pre", "m2", "m12"]).cat.categories.tolist()
    ['pre', 'm2', 'm12']
    >>> ordered_within(pd.Series(["w2", "w1", "w2"])).tolist()          # numbered in text order: taken as it is
    ['w2', 'w1', 'w2']
    >>> ordered_within(pd.Series(["pre", "m2"]))
    Traceback (most recent call last):
    ...
    rmstudy.errors.ModelError: wave is text: pass within_order=[...] (the waves in time order) or an ordered Categorical; sorted as text its levels would be ['m2', 'pre'], making 'm2' the reference
    """
    if order is not None:
        order = [str(w) for w in order]
        text = s.astype(str).where(s.notna())
        unknown = sorted(set(text.dropna()) - set(order))
        if unknown:
            raise ModelError(f"{name} has level(s) {unknown} that within_order {order} does not list")
        return pd.Series(pd.Categorical(text, categories=order, ordered=True), index=s.index, name=s.name)
    if isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_numeric_dtype(s.dtype) \
            or pd.api.types.is_bool_dtype(s.dtype):
        return s
    codes, uniques = pd.factorize(s.to_numpy(), sort=False)      # one pass over the strings (missing: code -1)
    levels = sorted(uniques.tolist(), key=str)
    digits = [any(ch.isdigit() for ch in str(v)) for v in levels]
    if levels and (not any(digits) or (all(digits) and levels == sorted(levels, key=_natural))):
        return _as_text_sorted(s, codes, uniques)   # a, b or w1, w2, w3: the order as text is the only order
    raise ModelError(f"{name} is text: pass within_order=[...] (the waves in time order) or an ordered Categorical; "
                     f"sorted as text its levels would be {levels}, making {levels[0]!r} the reference"
                     if levels else f"{name} has no values")


def mixed_model(data: pd.DataFrame, dv: str, subject: str = "participant_id", within: str = "wave",
                between: str | None = "arm", between_ref=None, covariates=(), alpha: float = 0.05,
                return_fit: bool = False, cluster: str | None = None, within_order=None):
    """Linear mixed model ``dv ~ between * within + (1 | subject)`` by REML.

    Parameters
    ----------
    data : long DataFrame, one row per subject × wave.
    dv, subject, within, between : column names (cohort-contract defaults).
        ``between=None`` fits the single-arm model ``dv ~ within``.
    between_ref : reference level of ``between`` (default its first level;
        'control' sorts first for ``arm``).
    covariates : columns added as fixed effects: numeric as they are, text as
        treatment dummies against their first level in sorted order.
    return_fit : also return the fit object.
    within_order : the levels of ``within`` in time order, the first the reference (e.g. the plan's waves).
        Without it ``within`` should be an ordered categorical (or numeric). Text waves are refused when their
        names mix words and numbers (``pre, m2, m12``) or number them out of text order (``m3, m12``): sorted as
        text, ``m2`` would become the reference of ``pre, m2`` and ``m12`` come before ``m3``. Text without
        digits (``a, b``) or numbered in text order (``w1, w2, w3``) is taken in text order, as before.
    cluster : optional column of a grouping that subjects are nested in (a
        mentoring pair, a team or department): adds ``(1 | cluster)`` to the model,
        as lme4's ``(1 | cluster) + (1 | subject)``. Subjects with an empty cluster
        are their own singleton cluster (control participants have no pair).

    Returns
    -------
    pandas.DataFrame
        One row per fixed effect: ``term, estimate, se, df`` (Satterthwaite),
        ``t, p_value`` (two-sided), ``ci_low, ci_high`` (t-based, level
        1 - alpha). ``attrs`` holds the variance components: for one
        intercept ``tau2, sigma2, icc, theta, reml_criterion, n_obs, n_groups,
        singular``; with ``cluster`` ``tau2_pair`` (the cluster's variance, whatever
        the cluster is), ``tau2_participant, sigma2, icc_pair, theta, singular, ...``.

    Notes
    -----
    Rows with a missing ``dv`` are dropped (all available data: subjects with
    one wave stay in the model), which is what ``lmer`` does with its default
    ``na.action``. Matches ``lmerTest::lmer`` (REML) - see tests/reference/.

    Examples
    --------
    >>> from rmstudy.contract.cohort import load_cohort
    >>> from rmstudy.stats.scoring import long_scores, score_scales
    >>> c = load_cohort("data/demo")
    >>> scale = next(iter(c.codebook.scales))                 # the demo's first scale
    >>> long = long_scores(score_scales(c.responses, c.codebook), c.participants, scale)
    >>> tab = mixed_model(long, "score", between_ref="control")
    >>> list(tab["term"])
    ['Intercept', 'arm[program]', 'wave[post]', 'arm[program]:wave[post]']
    >>> tab.set_index("term").loc["arm[program]:wave[post]", ["estimate", "se", "df"]].round(2).tolist()
    [-0.07, 0.06, 486.05]
    """
    cols = [dv, subject, within] + ([between] if between else []) + list(covariates) + ([cluster] if cluster else [])
    rows = data[dv].notna().to_numpy()
    frame = {c: data[c] for c in cols}
    frame[within] = ordered_within(data[within], within_order, within)
    if cluster:
        empty = blank(frame[cluster])
        frame[cluster] = frame[cluster].astype(object).where(~empty, "subject:" + data[subject].astype(str))
    # text columns are factorised once, before rows are picked, so the row selection, the missing-value check, the
    # levels and every comparison of the design work on integer codes (on 100,000 rows a frame of strings took 4x
    # the time of one of categoricals)
    for c in dict.fromkeys([subject, within] + ([between] if between else []) + ([cluster] if cluster else [])):
        frame[c] = _factorised(frame[c], sort=c in (within, between))
    d = pd.DataFrame(frame, index=data.index).loc[rows].dropna(subset=cols)
    X, terms, _, _ = design_arm_wave(d, within, between, between_ref, covariates)
    fit: RandomInterceptFit | NestedInterceptFit
    if cluster:
        fit = fit_nested_intercepts(d[dv].to_numpy(float), X, _labels(d[subject]), _labels(d[cluster]), terms)
    else:
        fit = fit_random_intercept(d[dv].to_numpy(float), X, _labels(d[subject]), terms)
    tab = fit.table(alpha)
    return (tab, fit) if return_fit else tab


def conditional_residuals(fit: RandomInterceptFit, y, X, groups) -> tuple[np.ndarray, np.ndarray]:
    """Fitted values (X beta + predicted intercept) and conditional residuals.

    The predicted intercepts are the BLUPs g/(1 + n_i g) * sum_j (y_ij - x_ij beta).
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    codes, uniq = pd.factorize(np.asarray(groups), sort=False)
    marg = y - X @ fit.beta
    n_i = np.bincount(codes, minlength=len(uniq))
    g = fit.theta**2
    b = g / (1 + n_i * g) * np.bincount(codes, weights=marg, minlength=len(uniq))
    fitted = X @ fit.beta + b[codes]
    return fitted, y - fitted
