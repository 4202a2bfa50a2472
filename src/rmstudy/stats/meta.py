r"""Meta-analysis of k study estimates: fixed and random effects, as ``metafor::rma`` computes them.

Model. Study i reports an estimate :math:`y_i` with sampling variance :math:`v_i` (its SE squared), and
:math:`y_i = \mu + u_i + e_i`, :math:`u_i \sim N(0, \tau^2)`, :math:`e_i \sim N(0, v_i)`. With weights
:math:`w_i = 1/(v_i + \hat\tau^2)` the pooled estimate is :math:`\hat\mu = \sum w_i y_i / \sum w_i` with
:math:`\operatorname{Var}(\hat\mu) = 1/\sum w_i`. ``FE`` fixes :math:`\tau^2 = 0` (the common-effect model).

Between-study variance :math:`\tau^2`:

* ``DL`` (DerSimonian–Laird): :math:`\hat\tau^2 = \max\{0, (Q - (k-1)) / (\sum w^0 - \sum (w^0)^2/\sum w^0)\}`
  with :math:`w^0_i = 1/v_i`.
* ``REML``: Fisher scoring exactly as metafor 3.8 does it: start at the Hedges (HE) estimate
  :math:`\max\{0, (\sum (y_i - \bar y)^2 - \frac{k-1}{k}\sum v_i)/(k-1)\}`, step
  :math:`\Delta = (y'PPy - \operatorname{tr}P)/\operatorname{tr}(PP)` with
  :math:`P = W - ww'/\sum w`, halved while it would make :math:`\tau^2` negative, until the change is at most
  ``threshold`` (metafor's default 1e-5) or ``maxiter`` (100) steps; then metafor's check that
  :math:`\tau^2 = 0` does not have a higher restricted likelihood (by more than :math:`\epsilon^{1/4}`). The same
  stopping rule as metafor, so the estimates agree with R to rounding; ``control={"threshold": 1e-12}`` goes to
  the REML maximum itself (the two differ by at most about 1e-5 in :math:`\tau^2`). Where Fisher scoring does
  not converge (it can oscillate; metafor then stops with an error), the restricted likelihood is maximised
  directly by a bounded search, and ``notes`` says so.

Tests of :math:`\mu`: ``z`` (Wald, normal) or ``knha`` (Knapp–Hartung / HKSJ): the variance is multiplied by
:math:`s^2 = \sum w_i (y_i - \hat\mu)^2 / (k-1)` (no truncation at 1, as metafor's ``test = "knha"``) and the
statistic is referred to t with k − 1 df.

Heterogeneity: Cochran's :math:`Q = \sum w^0_i (y_i - \hat\mu^0)^2` on k − 1 df; with the "typical" within-study
variance :math:`\tilde v = (k-1)/(\sum w^0 - \sum (w^0)^2/\sum w^0)`, :math:`I^2 = 100\,\hat\tau^2/(\tilde v + \hat\tau^2)`
(percent) and :math:`H^2 = \hat\tau^2/\tilde v + 1`; for ``FE``, :math:`I^2 = \max(0, 100(Q-(k-1))/Q)` and
:math:`H^2 = Q/(k-1)`. The CI of :math:`\tau^2` is the Q-profile interval (Viechtbauer 2007): the values of
:math:`\tau^2` at which the generalised :math:`Q(\tau^2) = \sum (y_i - \hat\mu(\tau^2))^2/(v_i + \tau^2)` equals
the upper and lower :math:`\chi^2_{k-1}` quantiles, searched in :math:`[0, \max(100, 10\hat\tau^2)]` as metafor's
``confint``; the roots are solved to 1e-12 (metafor's ``uniroot`` default tolerance is
:math:`\epsilon^{1/4} \approx 1.2\times10^{-4}`, so R's printed bounds can differ from these by up to about that).

Prediction interval for the effect in a new study (``predict.rma``): :math:`\hat\mu \pm c\sqrt{SE^2 + \hat\tau^2}`
where c and SE are those of the test (``pi_type="default"``: z, or t with k − 1 df and the Knapp–Hartung SE);
``pi_type="riley"`` uses t with k − 2 df (Riley et al. 2011). A common-effect (``FE``) model has no prediction
interval (NaN), as in metafor.

k = 1: as metafor, :math:`\tau^2 = 0`, the test becomes ``z``, Q = 0 (p = 1), I² = 0 and H² = 1.

Every number here is checked against metafor 3.8 in ``tests/test_meta_reference.py``
(``tests/reference/make_meta_reference.R``).
"""

from __future__ import annotations

__all__ = ["meta_analysis", "leave_one_out", "cumulative", "qprofile_tau2_ci", "METHODS", "TESTS", "PI_TYPES"]

import math

import numpy as np
import pandas as pd
from scipy import optimize, stats

METHODS = ("REML", "DL", "FE")
TESTS = ("z", "knha")
PI_TYPES = ("default", "riley")
_EPS = np.finfo(float).eps
_TOL = _EPS ** 0.25                      # metafor's con$tol (the ll0 check)
_CONTROL = {"threshold": 1e-5, "maxiter": 100}


def _inputs(yi, sei=None, vi=None):
    y = np.asarray(yi, dtype=float).ravel()
    if (sei is None) == (vi is None):
        raise ValueError("give the sampling variances (vi) or the standard errors (sei), not both and not neither")
    v = np.asarray(vi, dtype=float).ravel() if vi is not None else np.asarray(sei, dtype=float).ravel() ** 2
    if y.size == 0:
        raise ValueError("no study estimates were given")
    if y.shape != v.shape:
        raise ValueError(f"{y.size} estimates but {v.size} standard errors or variances: give one per study")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v))):
        raise ValueError("every estimate and standard error must be a finite number (no NaN or infinity)")
    if np.any(v <= 0):
        raise ValueError("every standard error must be positive: a study with SE 0 would get infinite weight")
    return y, v


def _fe(y, w):
    sw = w.sum()
    mu = float((w * y).sum() / sw)
    return mu, 1.0 / sw


def _trace_p(w):
    """tr(P) and tr(PP) for P = W - ww'/sum(w)."""
    s1, s2, s3 = w.sum(), (w ** 2).sum(), (w ** 3).sum()
    return s1 - s2 / s1, s2 - 2 * s3 / s1 + (s2 / s1) ** 2


def _q(y, v):
    """Cochran's Q and tr(P) with the fixed-effect weights."""
    w = 1 / v
    mu, _ = _fe(y, w)
    return float((w * (y - mu) ** 2).sum()), _trace_p(w)


def _reml_ll(y, v, tau2):
    w = 1 / (v + tau2)
    mu, _ = _fe(y, w)
    k = y.size
    return (-0.5 * (k - 1) * math.log(2 * math.pi) - 0.5 * np.log(v + tau2).sum() - 0.5 * math.log(w.sum())
            - 0.5 * float((w * (y - mu) ** 2).sum()))


def _tau2_dl(y, v):
    q, (trp, _) = _q(y, v)
    return max(0.0, (q - (y.size - 1)) / trp)


def _tau2_reml(y, v, threshold, maxiter):
    """metafor's Fisher scoring (rma.uni, method = "REML"); returns (tau2, iterations, notes)."""
    k = y.size
    notes = []
    rss = float(((y - y.mean()) ** 2).sum())
    tau2 = max(0.0, (rss - v.sum() * (k - 1) / k) / (k - 1))      # HE estimate as the starting value
    change, it = threshold + 1, 0
    while change > threshold:
        it += 1
        old = tau2
        w = 1 / (v + tau2)
        mu, _ = _fe(y, w)
        py = w * (y - mu)                                         # P y
        trp, trpp = _trace_p(w)
        adj = (float((py ** 2).sum()) - trp) / trpp
        if not math.isfinite(adj):
            adj = 0.0
        while tau2 + adj < 0:
            adj /= 2
        tau2 = tau2 + adj
        change = abs(old - tau2)
        if it > maxiter:
            tau2 = _reml_direct(y, v)
            notes.append(f"the Fisher scoring did not converge in {maxiter} iterations (metafor stops with an error "
                         "here): tau2 maximises the restricted likelihood directly (bounded search)")
            return tau2, it, notes
    if tau2 > threshold and _reml_ll(y, v, 0.0) - _reml_ll(y, v, tau2) > _TOL:
        notes.append("Fisher scoring may have stopped at a local maximum: tau2 set to 0 (as metafor does)")
        tau2 = 0.0
    return max(0.0, tau2), it, notes


def _reml_direct(y, v) -> float:
    """The REML estimate by direct maximisation of the restricted log-likelihood over [0, upper]: a log-spaced
    grid, then a bounded Brent search around the best grid point (for data on which Fisher scoring oscillates)."""
    upper = max(100.0, 10 * float(np.var(y, ddof=1)))
    grid = np.r_[0.0, np.geomspace(1e-10, upper, 400)]
    ll = np.array([_reml_ll(y, v, t) for t in grid])
    i = int(np.argmax(ll))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    if hi <= lo:
        return float(grid[i])
    res = optimize.minimize_scalar(lambda t: -_reml_ll(y, v, t), bounds=(lo, hi), method="bounded",
                                   options={"xatol": 1e-13, "maxiter": 500})
    best = float(res.x) if -res.fun >= ll[i] else float(grid[i])
    return 0.0 if _reml_ll(y, v, 0.0) >= _reml_ll(y, v, best) else best


def _qgen(y, v, tau2):
    w = 1 / (v + tau2)
    mu, _ = _fe(y, w)
    return float((w * (y - mu) ** 2).sum())


def qprofile_tau2_ci(yi, sei=None, vi=None, tau2: float = 0.0, level: float = 0.95, xtol: float = 1e-12) -> dict:
    """Q-profile confidence interval of tau² (metafor ``confint(fit)``, type "QP").

    Parameters
    ----------
    yi, sei or vi : the study estimates and their standard errors (or variances).
    tau2 : the model's estimate; it only sets the upper end of the search, max(100, 10 · tau2), as metafor.
    level : confidence level.
    xtol : absolute tolerance of the roots.

    Returns
    -------
    dict with ``tau2_ci_low``, ``tau2_ci_high`` and ``note`` (``""``, or why a bound sits at an end of the search
    interval: ``"Q(0) is below the lower critical value: the CI is {0}"`` or ``"upper bound above <max>"``).
    Both bounds are NaN for k < 2.

    Examples
    --------
    >>> r = qprofile_tau2_ci([0.1, 0.5, 0.25, -0.1], sei=[0.1, 0.12, 0.08, 0.1], tau2=0.05)
    >>> round(r["tau2_ci_low"], 4), round(r["tau2_ci_high"], 4), r["note"]
    (0.0086, 0.877, '')
    """
    y, v = _inputs(yi, sei, vi)
    k = y.size
    if k < 2:
        return {"tau2_ci_low": math.nan, "tau2_ci_high": math.nan, "note": "k < 2: no CI for tau2"}
    a = 1 - level
    crit_u = stats.chi2.isf(a / 2, k - 1)
    crit_l = stats.chi2.ppf(a / 2, k - 1)
    lo_end, hi_end = 0.0, max(100.0, 10 * tau2)
    q_lo_end, q_hi_end = _qgen(y, v, lo_end), _qgen(y, v, hi_end)
    f = lambda t, target: _qgen(y, v, t) - target          # noqa: E731  Q(tau2) decreases in tau2
    note = ""
    if q_lo_end < crit_l:
        low = high = lo_end
        note = "Q(0) is below the lower critical value of the chi-squared distribution: the CI is {0}"
    else:
        if q_hi_end > crit_l:
            high = hi_end
            note = f"upper bound above {hi_end:g} (the end of the search interval)"
        else:
            high = optimize.brentq(f, lo_end, hi_end, args=(crit_l,), xtol=xtol, rtol=4 * _EPS, maxiter=1000)
    if q_hi_end > crit_u:
        low = high = hi_end
        note = f"both bounds above {hi_end:g} (the end of the search interval)"
    elif q_lo_end < crit_u:
        low = lo_end
    else:
        low = optimize.brentq(f, lo_end, hi_end, args=(crit_u,), xtol=xtol, rtol=4 * _EPS, maxiter=1000)
    return {"tau2_ci_low": float(low), "tau2_ci_high": float(high), "note": note}


def meta_analysis(yi, sei=None, vi=None, method: str = "REML", test: str = "knha", level: float = 0.95,
                  pi_type: str = "default", control: dict | None = None, tau2_ci: bool = True) -> dict:
    """Pool k study estimates (``metafor::rma(yi, vi, method, test)`` with an intercept only).

    Parameters
    ----------
    yi : array of study estimates (all on one scale).
    sei, vi : their standard errors or sampling variances (give one of the two).
    method : ``"REML"`` (default), ``"DL"`` or ``"FE"`` (common effect, tau² = 0).
    test : ``"knha"`` (Knapp–Hartung, t with k − 1 df; default) or ``"z"``.
    level : confidence level of the CI, the prediction interval and the tau² CI.
    pi_type : ``"default"`` (metafor's: the test's distribution) or ``"riley"`` (t with k − 2 df).
    control : ``{"threshold": 1e-5, "maxiter": 100}`` for REML (metafor's defaults).
    tau2_ci : compute the Q-profile CI of tau² (random-effects methods only).

    Returns
    -------
    dict with ``k``, ``method``, ``test``, ``estimate``, ``se``, ``statistic`` (z or t), ``df`` (None for z),
    ``p_value``, ``ci_low``, ``ci_high``, ``tau2``, ``se_tau2``, ``tau2_ci_low``, ``tau2_ci_high``,
    ``tau2_ci_note``, ``i2`` (percent), ``i2_ci_low``, ``i2_ci_high``, ``h2``, ``h2_ci_low``, ``h2_ci_high``,
    ``q``, ``q_df``, ``q_p``, ``pi_low``, ``pi_high``, ``pi_df`` (None for a normal PI), ``weights`` (percent, as
    ``weights(fit)``), ``s2w`` (the Knapp–Hartung factor; 1 for z), ``iterations`` (REML), ``notes`` (list of
    text). Undefined values are NaN (e.g. the tau² CI for FE).

    Notes
    -----
    Differences from metafor: none in the numbers, except that the tau² CI roots are solved to 1e-12 instead of
    ``uniroot``'s 1.2e-4. metafor warns that Knapp–Hartung "is not meant to be used" with FE; here the same
    numbers are returned with that warning in ``notes``. For k = 1 the test is z (metafor switches too).

    Examples
    --------
    >>> # metafor: rma(yi = c(0.1, 0.3, 0.25), sei = c(0.1, 0.12, 0.08))$b  ->  0.214606
    >>> r = meta_analysis([0.1, 0.3, 0.25], sei=[0.1, 0.12, 0.08])
    >>> round(r["estimate"], 4)
    0.2146
    """
    _check_options(method, test, pi_type, level)
    ctl = {**_CONTROL, **(control or {})}
    y, v = _inputs(yi, sei, vi)
    k = y.size
    notes: list[str] = []
    if k == 1 and test != "z":
        notes.append("k = 1: the z test is used (as metafor does)")
        test = "z"
    tau2, it = _tau2(y, v, method, ctl, notes)
    if method == "FE" and test == "knha":
        notes.append("the Knapp-Hartung test is not meant for a fixed-effect model (metafor warns the same)")
    w = 1 / (v + tau2)
    fit = _pooled_test(y, w, test, level, notes)
    het = _heterogeneity(y, v, w, tau2, method)
    t2l, t2h, t2note = math.nan, math.nan, ""
    if tau2_ci and method != "FE" and k > 1:
        ci_t2 = qprofile_tau2_ci(y, vi=v, tau2=tau2, level=level)
        t2l, t2h, t2note = float(ci_t2["tau2_ci_low"]), float(ci_t2["tau2_ci_high"]), str(ci_t2["note"])
        if t2note:
            notes.append("tau2 CI: " + t2note)
    vt = float(het.pop("vt"))
    # prediction interval (predict.rma): metafor gives none for FE
    if pi_type == "riley":
        pi_df = max(1, (k - 1) - (1 if method == "FE" or k == 1 else 2) + 1)
        pi_crit = stats.t.isf((1 - level) / 2, pi_df)
    else:
        pi_df, pi_crit = fit["df"], fit.pop("crit")
    fit.pop("crit", None)
    half = pi_crit * math.sqrt(fit["se"] ** 2 + tau2) if method != "FE" else math.nan
    return {
        "k": int(k), "method": method, "test": test, "level": level, **fit,
        "tau2": float(tau2), "tau2_ci_low": t2l, "tau2_ci_high": t2h, "tau2_ci_note": t2note,
        "i2_ci_low": 100 * t2l / (vt + t2l) if k > 1 else math.nan,
        "i2_ci_high": 100 * t2h / (vt + t2h) if k > 1 else math.nan,
        "h2_ci_low": t2l / vt + 1 if k > 1 else math.nan, "h2_ci_high": t2h / vt + 1 if k > 1 else math.nan,
        **het, "pi_low": fit["estimate"] - half, "pi_high": fit["estimate"] + half, "pi_df": pi_df,
        "pi_type": pi_type, "weights": (100 * w / w.sum()).tolist(), "iterations": it, "notes": notes,
    }


def _check_options(method, test, pi_type, level) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if test not in TESTS:
        raise ValueError(f"test must be one of {', '.join(TESTS)}, not {test!r}")
    if pi_type not in PI_TYPES:
        raise ValueError(f"pi_type must be one of {', '.join(PI_TYPES)}, not {pi_type!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie between 0 and 1, not {level!r}")


def _tau2(y, v, method, ctl, notes) -> tuple[float, int]:
    """tau² by the method (0 for FE and for one study) and the REML iterations."""
    if method == "FE" or y.size == 1:
        return 0.0, 0
    if method == "DL":
        return _tau2_dl(y, v), 0
    tau2, it, more = _tau2_reml(y, v, ctl["threshold"], ctl["maxiter"])
    notes += more
    return tau2, it


def _pooled_test(y, w, test, level, notes) -> dict:
    """The weighted mean and its test (z, or Knapp–Hartung's scaled variance with t on k − 1 df)."""
    k = y.size
    mu, vb = _fe(y, w)
    s2w = 1.0
    if test == "knha":
        rss = float((w * (y - mu) ** 2).sum())
        s2w = 0.0 if rss <= _EPS else rss / (k - 1)
        if s2w < 1:
            notes.append(f"the Knapp-Hartung factor s² = {s2w:.3g} is below 1, so its CI is narrower than the z "
                         "test's: with few studies that agree closely, read the z interval beside it too")
        vb *= s2w
        df = k - 1
        crit = stats.t.isf((1 - level) / 2, df)
    else:
        df = None
        crit = stats.norm.isf((1 - level) / 2)
    se = math.sqrt(vb)
    stat = mu / se if se > 0 else math.copysign(math.inf, mu) if mu else math.nan
    p = 2 * (stats.t.sf(abs(stat), df) if df else stats.norm.sf(abs(stat)))
    return {"estimate": mu, "se": se, "statistic": stat, "df": df, "p_value": float(p), "ci_low": mu - crit * se,
            "ci_high": mu + crit * se, "s2w": s2w, "crit": crit}


def _heterogeneity(y, v, w, tau2, method) -> dict:
    """Q (fixed-effect weights), I², H², the typical within-study variance vt and the SE of tau²."""
    k = y.size
    if k < 2:
        return {"q": 0.0, "q_df": 0, "q_p": 1.0, "i2": 0.0, "h2": 1.0, "vt": 0.0, "se_tau2": math.nan}
    q, (trp, trpp) = _q(y, v)
    q = max(0.0, q)
    vt = (k - 1) / trp
    if method == "FE":
        i2 = max(0.0, 100 * (q - (k - 1)) / q) if q > 0 else math.nan
        h2 = q / (k - 1)
    else:
        i2 = 100 * tau2 / (vt + tau2)
        h2 = tau2 / vt + 1
    se_tau2 = math.nan
    if method == "REML":
        se_tau2 = math.sqrt(2 / _trace_p(w)[1])
    elif method == "DL":
        se_tau2 = math.sqrt((2 * (k - 1) + 4 * tau2 * trp + 2 * tau2 ** 2 * trpp) / trp ** 2)
    return {"q": float(q), "q_df": int(k - 1), "q_p": float(stats.chi2.sf(q, k - 1)), "i2": float(i2),
            "h2": float(h2), "vt": vt, "se_tau2": se_tau2}


_SUB_COLUMNS = ["estimate", "se", "statistic", "df", "p_value", "ci_low", "ci_high", "q", "q_p", "tau2", "i2", "h2"]


def _sub_row(y, v, method, test, level, control) -> dict:
    r = meta_analysis(y, vi=v, method=method, test=test, level=level, control=control, tau2_ci=False)
    return {c: r[c] for c in _SUB_COLUMNS} | {"k": r["k"]}


def leave_one_out(yi, sei=None, vi=None, study=None, method: str = "REML", test: str = "knha",
                  level: float = 0.95, control: dict | None = None) -> pd.DataFrame:
    """The meta-analysis refitted k times, each time without one study (``metafor::leave1out``).

    Parameters
    ----------
    yi : array of study estimates.
    sei, vi : their standard errors or sampling variances (give one of the two).
    study : labels of the studies (default ``"1"``, ``"2"``, ...).
    method, test, level, control : as :func:`meta_analysis`.

    Returns
    -------
    DataFrame, one row per left-out study in input order: ``omitted`` (its label), ``k``, ``estimate``, ``se``,
    ``statistic``, ``df``, ``p_value``, ``ci_low``, ``ci_high``, ``q``, ``q_p``, ``tau2``, ``i2``, ``h2``.
    Empty for k < 2.

    Examples
    --------
    >>> loo = leave_one_out([0.1, 0.3, 0.25], sei=[0.1, 0.12, 0.08], study=["A", "B", "C"])
    >>> loo[["omitted", "k", "estimate"]].round(4).values.tolist()
    [['A', 2, 0.2654], ['B', 2, 0.187], ['C', 2, 0.189]]
    """
    y, v = _inputs(yi, sei, vi)
    labels = list(study) if study is not None else [str(i + 1) for i in range(y.size)]
    rows = []
    if y.size >= 2:
        for i in range(y.size):
            keep = np.arange(y.size) != i
            rows.append({"omitted": labels[i], **_sub_row(y[keep], v[keep], method, test, level, control)})
    return pd.DataFrame(rows, columns=["omitted", "k", *_SUB_COLUMNS])


def cumulative(yi, sei=None, vi=None, study=None, order=None, method: str = "REML", test: str = "knha",
               level: float = 0.95, control: dict | None = None) -> pd.DataFrame:
    """Cumulative meta-analysis: studies added one at a time (``metafor::cumul(fit, order = order)``).

    ``order`` (e.g. year or date) sorts the studies, ties kept in input order (R's ``order`` is stable); without
    it the input order is used.

    Parameters
    ----------
    yi : array of study estimates.
    sei, vi : their standard errors or sampling variances (give one of the two).
    study : labels of the studies (default ``"1"``, ``"2"``, ...).
    order : sort values of the studies (e.g. years), or None for the input order.
    method, test, level, control : as :func:`meta_analysis`.

    Returns
    -------
    DataFrame, one row per step: ``added`` (the label of the study added), ``order`` (its sort value), ``k``,
    ``estimate``, ``se``, ``statistic``, ``df``, ``p_value``, ``ci_low``, ``ci_high``, ``q``, ``q_p``, ``tau2``,
    ``i2``, ``h2``. The first step has k = 1 (its test is z, as in metafor).

    Examples
    --------
    >>> cum = cumulative([0.1, 0.3, 0.25], sei=[0.1, 0.12, 0.08], study=["A", "B", "C"], order=[2019, 2017, 2021])
    >>> cum[["added", "k", "estimate"]].round(4).values.tolist()
    [['B', 1, 0.3], ['A', 2, 0.189], ['C', 3, 0.2146]]
    """
    y, v = _inputs(yi, sei, vi)
    labels = list(study) if study is not None else [str(i + 1) for i in range(y.size)]
    keys = list(order) if order is not None else list(range(y.size))
    if len(keys) != y.size:
        raise ValueError(f"order has {len(keys)} values for {y.size} studies")
    idx = sorted(range(y.size), key=lambda i: keys[i])       # stable
    rows = []
    for j in range(1, y.size + 1):
        sel = idx[:j]
        rows.append({"added": labels[sel[-1]], "order": keys[sel[-1]],
                     **_sub_row(y[sel], v[sel], method, test, level, control)})
    return pd.DataFrame(rows, columns=["added", "order", "k", *_SUB_COLUMNS])
