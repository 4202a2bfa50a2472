"""Sample size for a target power, and the minimum detectable effect, by simulation with Monte-Carlo uncertainty.

Both searches simulate the plan on a small grid (sample sizes, or effect sizes) around an analytic starting value
and fit the binomial probit model

    power(n) = Phi(a + b sqrt(n))        (sample size)    power(e) = Phi(a + b e)    (effect size, |d| or |log HR|)

to the simulated counts by maximum likelihood. Both forms are exact for a z-test (the noncentrality grows with
sqrt(n) and with e) and close for the run's t- and Wald tests with multiplicity. The answer solves
Phi(a + b x) = target; its 95% interval comes from the delta method with the fit's inverse Fisher information, so
it shows the Monte-Carlo uncertainty of the answer. When the answer falls outside the grid, a new grid is centred
on it (at most three rounds; every point is kept in the fit). The grid's simulated powers are returned too, and the
power at the answer is simulated once more as a check.

Only the target's family is simulated: a hypothesis's decision depends on the other members of its family
(Holm, Benjamini-Hochberg) and on nothing else; streams are keyed by hypothesis id, so this changes no number.
"""

from __future__ import annotations

__all__ = ["probit_fit", "sample_size", "minimum_detectable_effect", "family_plan", "with_effect"]

import math
import time
from dataclasses import replace

import numpy as np
from scipy import optimize, stats

from rmstudy.planning import analytic
from rmstudy.planning.engine import n_in_population, simulate_power

GRID = (0.6, 0.8, 1.0, 1.25, 1.6)
ROUNDS = 3


def probit_fit(x, k, n) -> tuple[float, float, np.ndarray]:
    """ML fit of P(success) = Phi(a + b x) to ``k`` successes out of ``n`` at each ``x``: ``a, b`` and their
    covariance (inverse Fisher information).

    Parameters
    ----------
    x : array-like
        The covariate (sqrt(n per arm), or the effect size).
    k, n : array-like
        Successes (cohorts decided *supported*) and trials (simulations) at each ``x``.

    Returns
    -------
    (float, float, ndarray)
        ``a``, ``b`` and their 2 x 2 covariance.

    Examples
    --------
    Shares 0.2, 0.5 and 0.8 lie exactly on a probit line: a = -2 z_{0.8}, b = z_{0.8} = 0.8416.

    >>> a, b, cov = probit_fit([1, 2, 3], [10, 25, 40], [50, 50, 50])
    >>> round(a, 4), round(b, 4), cov.shape
    (-1.6832, 0.8416, (2, 2))
    """
    x, k, n = (np.asarray(v, float) for v in (x, k, n))
    X = np.column_stack([np.ones_like(x), x])
    p0 = np.clip((k + 0.5) / (n + 1), 1e-4, 1 - 1e-4)
    start = np.linalg.lstsq(X, stats.norm.ppf(p0), rcond=None)[0]

    def nll(beta):
        eta = X @ beta
        return -float(np.sum(k * stats.norm.logcdf(eta) + (n - k) * stats.norm.logsf(eta)))

    beta = optimize.minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12,
                                                                       "maxiter": 4000}).x
    eta = X @ beta
    P = np.clip(stats.norm.cdf(eta), 1e-12, 1 - 1e-12)
    w = n * stats.norm.pdf(eta) ** 2 / (P * (1 - P))
    info = X.T @ (w[:, None] * X)
    return float(beta[0]), float(beta[1]), np.linalg.pinv(info)


def _solve(a, b, cov, target, transform):
    """x with Phi(a + b x) = target, mapped by ``transform`` (value, derivative), and a delta-method 95% interval."""
    z = stats.norm.ppf(target)
    if not b > 0:
        return None, None, None
    x = (z - a) / b
    grad_x = np.array([-1 / b, -(z - a) / b**2])
    se_x = float(np.sqrt(grad_x @ cov @ grad_x))
    val, deriv = transform(x)
    se = abs(deriv) * se_x
    return val, val - 1.959964 * se, val + 1.959964 * se


def family_plan(plan, hid: str):
    """The plan restricted to what decides ``hid``: its family (or itself alone when the family is not adjusted).

    Parameters
    ----------
    plan : Plan
        The resolved plan.
    hid : str
        A hypothesis id of the plan.

    Returns
    -------
    Plan
        Without the other families' hypotheses, and without the null scenario.

    Examples
    --------
    >>> from rmstudy.planning.spec import EXAMPLE, parse_plan
    >>> raw = {k: v for k, v in EXAMPLE.items() if k != "effect_d"}
    >>> plan = parse_plan({**raw, "hypotheses": [{"id": "H1", "effect_d": 0.3}, {"id": "H2", "effect_d": -0.3},
    ...                                          {"id": "H3", "effect_d": 0.2, "family": "exploratory"}]})
    >>> [h.id for h in family_plan(plan, "H2").hypotheses], [h.id for h in family_plan(plan, "H3").hypotheses]
    (['H1', 'H2'], ['H3'])
    """
    h = plan.hypothesis(hid)
    if plan.multiplicity.get(h.family) == "none":
        keep = (h,)
    else:
        keep = tuple(g for g in plan.hypotheses if g.family == h.family)
    return replace(plan, hypotheses=keep, null_scenario=False)


def with_effect(plan, hid: str, magnitude: float):
    """The plan with hypothesis ``hid``'s effect set to ``magnitude`` (|d| or |log HR|) in its expected direction.

    Parameters
    ----------
    plan : Plan
        The resolved plan.
    hid : str
        A hypothesis id of the plan.
    magnitude : float
        The new effect's size: |d| (every later wave scaled alike) or |log hazard ratio|.

    Returns
    -------
    Plan

    Examples
    --------
    >>> from rmstudy.planning.spec import EXAMPLE, parse_plan
    >>> plan = parse_plan({**EXAMPLE, "effect_d": -0.3})                 # a decrease is expected
    >>> with_effect(plan, "H1", 0.5).hypothesis("H1").effect
    (0.0, -0.5)
    """
    h = plan.hypothesis(hid)
    if h.kind == "retention":
        new = replace(h, hazard_ratio=float(math.exp(h.expected_sign * magnitude)))
    elif h.effect_d != 0:
        new = h.scaled(h.expected_sign * magnitude / h.effect_d)
    else:
        new = replace(h, effect=(0.0,) + (h.expected_sign * magnitude,) * (len(h.effect) - 1))
    return replace(plan, hypotheses=tuple(new if g.id == hid else g for g in plan.hypotheses))


def _alpha_start(plan, h) -> float:
    m = sum(g.family == h.family for g in plan.hypotheses)
    return plan.alpha / m if plan.multiplicity.get(h.family) != "none" else plan.alpha


def _n_start(plan, h, target: float) -> float:
    """Analytic per-arm enrolment for ``target`` (Bonferroni alpha, attrition as lost information): a start only."""
    alpha = _alpha_start(plan, h)
    if h.kind == "retention":
        if h.hazard_ratio == 1:
            return math.inf
        p = np.mean([analytic.voluntary_exit_probability(h.exit_rate, h.involuntary_rate, hr, h.follow_up_days)
                     for hr in (h.hazard_ratio, 1.0)])
        n_pop = analytic.schoenfeld_events(h.hazard_ratio, target, alpha) / (2 * p)
    else:
        n_pop = analytic.change_n_for_power(h.effect_d, h.rho, target, alpha, len(h.effect)) / (1 - h.attrition[h.contrast[1]])
    return n_pop / h.share


def _powers(plan, hid, jobs, backend, progress, desc) -> list[dict]:
    out = simulate_power(plan, jobs=jobs, backend=backend, progress=progress, desc=desc)
    return [r for r in out["power"] if r["hypothesis"] == hid]


def _grid_point(r: dict, key: str, value) -> dict:
    return {key: value, "power": r["power"], "mc_se": r["mc_se"], "n_sims": r["n_sims"]}


def sample_size(plan, hid: str, target: float | None = None, jobs: int = 1, backend: str | None = None,
                progress: bool = False, max_n: int = 1_000_000) -> dict:
    """Participants per arm (enrolled; the hypothesis's population is ``population_share`` of them) for which the
    plan's decision on ``hid`` says *supported* with probability ``target``.

    Parameters
    ----------
    plan : Plan
        The resolved plan (its ``n_sims`` per grid point).
    hid : str
        A hypothesis id of the plan.
    target : float, optional
        Target power (default: the plan's ``target_power``).
    jobs, backend, progress
        As :func:`~rmstudy.planning.engine.simulate_power`.
    max_n : int
        No size above it is simulated.

    Returns
    -------
    dict
        ``n_per_arm`` (rounded up) with its 95% Monte-Carlo interval ``n_per_arm_ci_low, n_per_arm_ci_high``, the
        simulated ``grid``, the probit ``fit``, ``power_at_n`` (simulated once more), ``note`` (why there is no answer)
        and ``seconds``.

    Examples
    --------
    A tiny search (40 simulations a point; the exact answer for d = 0.8, rho = 0.5 is 25.5 per arm):

    >>> from rmstudy.planning.spec import EXAMPLE, parse_plan
    >>> s = sample_size(parse_plan({**EXAMPLE, "effect_d": 0.8, "n_per_arm": 20, "n_sims": 40}), "H1")
    >>> s["n_per_arm"], s["n_per_arm_ci_low"], s["n_per_arm_ci_high"], [g["n_per_arm"] for g in s["grid"]]
    (28, 22, 32, [15, 20, 26, 32, 41])
    """
    t0 = time.perf_counter()
    target = plan.target_power if target is None else target
    base = family_plan(plan, hid)
    h = base.hypothesis(hid)
    out = {"hypothesis": hid, "target_power": target, "effect": h.effect_d if h.kind == "survey" else h.hazard_ratio,
           "effect_scale": "d" if h.kind == "survey" else "hazard_ratio", "n_per_arm": None,
           "n_per_arm_ci_low": None, "n_per_arm_ci_high": None, "grid": [], "note": None}
    n0 = _n_start(plan, h, target)
    if not math.isfinite(n0) or h.effect_d == 0 or n0 > max_n:
        out["note"] = "no sample size reaches the target: the assumed effect is 0 or needs more than max_n per arm"
        return {**out, "seconds": time.perf_counter() - t0}
    floor = math.ceil(3 / h.share)
    points = {}
    for _ in range(ROUNDS):
        grid = sorted({int(min(max_n, max(floor, round(n0 * f)))) for f in GRID} - set(points))
        if grid:
            for r in _powers(replace(base, n_per_arm=tuple(grid)), hid, jobs, backend, progress, f"{hid}: n grid"):
                points[r["n_per_arm"]] = r
        ns = sorted(points)
        a, b, cov = probit_fit(np.sqrt(ns), [round(points[n]["power"] * plan.n_sims) for n in ns],
                               [plan.n_sims] * len(ns))
        n_star, lo, hi = _solve(a, b, cov, target, lambda x: (x * x, 2 * x))
        if n_star is None or n_star > max_n:
            out["note"] = "the simulated power does not grow with n on this grid; see grid"
            break
        n0 = n_star
        if ns[0] <= n_star <= ns[-1]:
            break
    out["grid"] = [_grid_point(points[n], "n_per_arm", n) for n in sorted(points)]
    if n_star is not None and n_star <= max_n:
        n_up = int(math.ceil(n_star))
        check = _powers(replace(base, n_per_arm=(n_up,)), hid, jobs, backend, progress, f"{hid}: check")[0]
        out.update(n_per_arm=n_up, n_per_arm_ci_low=int(math.floor(max(lo, 0))), n_per_arm_ci_high=int(math.ceil(hi)),
                   n_analysed_per_arm=n_in_population(h, n_up), power_at_n=check["power"], power_at_n_mc_se=check["mc_se"],
                   fit={"model": "power = Phi(a + b sqrt(n_per_arm))", "a": a, "b": b})
    return {**out, "seconds": time.perf_counter() - t0}


def _mde_start(plan, h, n: int, target: float) -> float:
    alpha = _alpha_start(plan, h)
    n_pop = n_in_population(h, n)
    if h.kind == "retention":
        events = 2 * n_pop * analytic.voluntary_exit_probability(h.exit_rate, h.involuntary_rate, 1.0, h.follow_up_days)
        z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(target)
        return float(z / math.sqrt(events / 4))
    keep = 1 - h.attrition[h.contrast[1]]
    f = lambda d: analytic.change_power(d, h.rho, n_pop, n_pop, alpha, len(h.effect)) - target   # noqa: E731
    return float(optimize.brentq(f, 1e-6, 20)) / math.sqrt(keep)


def minimum_detectable_effect(plan, hid: str, n_per_arm: int | None = None, target: float | None = None,
                              jobs: int = 1, backend: str | None = None, progress: bool = False) -> dict:
    """Smallest effect (|d|, or a hazard ratio in the expected direction) that the plan's decision on ``hid`` calls
    *supported* with probability ``target`` at ``n_per_arm``.

    Parameters
    ----------
    plan : Plan
        The resolved plan (its ``n_sims`` per grid point).
    hid : str
        A hypothesis id of the plan.
    n_per_arm : int, optional
        Participants per arm (default: the plan's first size).
    target : float, optional
        Target power (default: the plan's ``target_power``).
    jobs, backend, progress
        As :func:`~rmstudy.planning.engine.simulate_power`.

    Returns
    -------
    dict
        ``mde_d`` (survey) or ``mde_hazard_ratio`` (retention) with their 95% Monte-Carlo interval, the simulated
        ``grid``, the probit ``fit``, ``note`` (why there is no answer) and ``seconds``.

    Examples
    --------
    A tiny search (40 simulations a point; the exact answer at 20 per arm, rho = 0.5 is d = 0.909):

    >>> from rmstudy.planning.spec import EXAMPLE, parse_plan
    >>> m = minimum_detectable_effect(parse_plan({**EXAMPLE, "n_per_arm": 20, "n_sims": 40}), "H1")
    >>> [round(float(m[k]), 3) for k in ("mde_d", "mde_d_ci_low", "mde_d_ci_high")], len(m["grid"])
    ([0.933, 0.848, 1.019], 5)
    """
    t0 = time.perf_counter()
    target = plan.target_power if target is None else target
    n = plan.n_per_arm[0] if n_per_arm is None else n_per_arm
    base = replace(family_plan(plan, hid), n_per_arm=(n,))
    h = base.hypothesis(hid)
    e0 = _mde_start(plan, h, n, target)
    points = {}
    for _ in range(ROUNDS):
        grid = sorted({round(e0 * f, 6) for f in GRID} - set(points))
        for e in grid:
            points[e] = _powers(with_effect(base, hid, e), hid, jobs, backend, progress, f"{hid}: effect grid")[0]
        es = sorted(points)
        a, b, cov = probit_fit(es, [round(points[e]["power"] * plan.n_sims) for e in es], [plan.n_sims] * len(es))
        e_star, lo, hi = _solve(a, b, cov, target, lambda x: (x, 1.0))
        if e_star is None:
            break
        e0 = e_star
        if es[0] <= e_star <= es[-1]:
            break
    grid_key = "d" if h.kind == "survey" else "log_hazard_ratio"
    out = {"hypothesis": hid, "target_power": target, "n_per_arm": n, "n_analysed_per_arm": n_in_population(h, n),
           "grid": [_grid_point(points[e], grid_key, e) for e in sorted(points)],
           "fit": {"model": f"power = Phi(a + b |{grid_key}|)", "a": a, "b": b}, "note": None}
    best = max(p["power"] for p in points.values())
    if e_star is None or best < target - 3 * math.sqrt(target * (1 - target) / plan.n_sims):
        # e.g. a Wald test whose events all fall in one arm at large effects: power never reaches the target
        e_star = lo = hi = None
        out["note"] = f"no effect on the grid reaches {target:.0%} power at this size (highest simulated: {best:.3f})"
    if h.kind == "survey":
        out.update(mde_d=e_star, mde_d_ci_low=lo, mde_d_ci_high=hi)
    else:
        hr = [None if v is None else math.exp(h.expected_sign * v) for v in (e_star, lo, hi)]
        out.update(mde_hazard_ratio=hr[0], mde_hazard_ratio_ci_low=hr[1] if e_star is None else min(hr[1:]),
                   mde_hazard_ratio_ci_high=hr[2] if e_star is None else max(hr[1:]))
    return {**out, "seconds": time.perf_counter() - t0}
