"""Simulation-based power: many simulated cohorts of a plan, each analysed as a run would analyse it.

For every sample size of the plan, ``n_sims`` cohorts are simulated (rmstudy/planning/draws.py) and every hypothesis is
analysed with the run's primary estimator: the LMM ``score ~ arm * wave + (1 | participant)`` with Satterthwaite df
for survey outcomes (planning/fastlmm.py: closed form for complete data, batched REML otherwise, both equal to
``fit_random_intercept``), Cox PH with a Wald test for retention (planning/cox.py, equal to ``cox_ph``). The p-values
are then adjusted within each family by the plan's rule (``stats.multiplicity``) and each hypothesis gets the run's
decision (``stats.decisions.decide``: supported, opposite, equivalent with a SESOI, inconclusive). Power is the share
of cohorts whose decision is *supported*; its Monte-Carlo SE is sqrt(p (1 - p) / n_sims).

Work is split into chunks of simulations whose size depends only on the cohort's size, never on ``jobs``; each
simulation has its own random stream, so the output is the same for any number of jobs or Dask workers.
"""

from __future__ import annotations

__all__ = ["simulate_power", "run_chunk", "decisions", "chunk_size", "tost", "analytic_power", "n_in_population",
           "OUTPUT_SCHEMA_VERSION"]

import time

import numpy as np
from scipy import stats

from rmstudy._version import __version__
from rmstudy.planning import analytic
from rmstudy.planning.cox import cox_binary
from rmstudy.planning.draws import arms, draw_retention, draw_survey, retention_times
from rmstudy.planning.fastlmm import lmm_contrast, pooled_baseline_sd
from rmstudy.stats.decisions import decide
from rmstudy.stats.effects import hedges_correction
from rmstudy.stats.multiplicity import benjamini_hochberg, holm

OUTPUT_SCHEMA_VERSION = 1
RULES = {"holm": holm, "benjamini_hochberg": benjamini_hochberg, "none": None}
DECISIONS = ("supported", "opposite", "equivalent", "inconclusive")
#: simulated scores per chunk (simulations x participants x waves): bounds memory, independent of jobs
CHUNK_CELLS = 2_000_000
METHOD = {
    "survey": "LMM score ~ arm * wave + (1 | participant_id), REML, Satterthwaite df (the run's primary model): "
              "closed form for complete data (the t-test on the difference in change, df (N - 2)(W - 1)), batched "
              "REML equal to rmstudy's fit_random_intercept otherwise",
    "retention": "Cox PH of time to voluntary exit, Wald test (continuous times: no ties)",
    "decision": "p adjusted within each family by the plan's rule; supported = adjusted p < alpha in the expected "
                "direction (the run's decision rule)",
    "mc_se": "sqrt(power (1 - power) / n_sims); ci_low/ci_high: Wilson 95% interval",
}


def n_in_population(h, n_per_arm: int) -> int:
    """Participants per arm in a hypothesis's population.

    Parameters
    ----------
    h : SurveyHypothesis or RetentionHypothesis
        Its ``share`` of each arm.
    n_per_arm : int
        Participants per arm enrolled.

    Returns
    -------
    int
        round(n_per_arm * share), at least 2.

    Examples
    --------
    >>> from rmstudy.planning.spec import RetentionHypothesis
    >>> n_in_population(RetentionHypothesis("R1", "primary", "increase", 0.7, share=0.4), 101)
    40
    """
    return max(2, int(round(n_per_arm * h.share)))


def chunk_size(plan, n_per_arm: int) -> int:
    """Simulations per chunk for this sample size (depends on the plan and n only).

    Parameters
    ----------
    plan : Plan
        Its waves and hypotheses' populations.
    n_per_arm : int
        Participants per arm.

    Returns
    -------
    int
        ``CHUNK_CELLS`` over the largest hypothesis's scores per simulation, between 1 and 250.

    Examples
    --------
    >>> from rmstudy.planning.spec import EXAMPLE, parse_plan
    >>> plan = parse_plan(EXAMPLE)
    >>> chunk_size(plan, 200), chunk_size(plan, 10_000)          # 2,000,000 // (2 x 10,000 x 2 waves) = 50
    (250, 50)
    """
    cells = max(2 * n_in_population(h, n_per_arm) * max(len(plan.waves), 2) for h in plan.hypotheses)
    return int(np.clip(CHUNK_CELLS // cells, 1, 250))


def tost(r: dict, bound, dist) -> np.ndarray:
    """The run's TOST p-value (``analysis.hypotheses.tost_p``) for every cohort: the larger one-sided p against
    -bound and +bound, with ``dist`` the t (survey, Satterthwaite df) or normal (retention) distribution.

    Parameters
    ----------
    r : dict
        ``estimate`` and ``se`` arrays (B,).
    bound : float or ndarray
        The SESOI on the estimate's scale.
    dist : scipy.stats frozen distribution
        Of the test statistic.

    Returns
    -------
    ndarray (B,)

    Examples
    --------
    >>> p = tost({"estimate": np.array([0.0, 0.3]), "se": np.array([0.1, 0.1])}, 0.2, stats.norm())
    >>> np.round(p, 4)                      # P(Z > 2), and P(Z < 1) for an estimate outside the band
    array([0.0228, 0.8413])
    """
    return np.maximum(dist.sf((r["estimate"] + bound) / r["se"]), dist.cdf((r["estimate"] - bound) / r["se"]))


def _survey(h, plan, n: int, sims, null: bool) -> dict:
    W = len(plan.waves)
    draw = draw_survey(h, n, W, plan.seed, sims)
    out = {}
    for name, effect in (("alt", h.effect), ("null", (0.0,) * W))[: 2 if null else 1]:
        y = draw.with_effect(effect)
        r = lmm_contrast(y, draw.observed, draw.arm, h.contrast)
        r["tost_p"] = None
        if h.sesoi is not None:
            sd_pre = pooled_baseline_sd(y[:, :, 0], draw.arm)
            bound = h.sesoi * sd_pre / hedges_correction(2 * n - 2)     # the run's SESOI in d -> scale units
            r["tost_p"] = tost(r, bound, stats.t(r["df"]))
        out[name] = r
    return out


def _retention(h, plan, n: int, sims, null: bool) -> dict:
    E = draw_retention(h, n, plan.seed, sims)
    out = {}
    for name, hr in (("alt", h.hazard_ratio), ("null", 1.0))[: 2 if null else 1]:
        r = cox_binary(*retention_times(h, E, hr), arms(n))
        r["route"] = np.full(len(sims), "cox")
        r["tost_p"] = None
        if h.sesoi is not None:
            r["tost_p"] = tost(r, abs(np.log(h.sesoi)), stats.norm())
        out[name] = r
    return out


def run_chunk(plan, n_per_arm: int, sims) -> dict:
    """Simulate and analyse simulations ``sims`` of every hypothesis at ``n_per_arm``: per hypothesis id the
    scenario results (``alt``, and ``null`` when the plan asks for it) and the seconds spent.

    Parameters
    ----------
    plan : Plan
        The resolved plan.
    n_per_arm : int
        Participants per arm enrolled.
    sims : sequence of int
        The simulations' indices.

    Returns
    -------
    dict
        ``results`` (id -> scenario -> ``estimate, se, p_value, route, tost_p, ...`` arrays (len(sims),)) and
        ``seconds`` (id -> float).

    Examples
    --------
    >>> from rmstudy.planning.spec import EXAMPLE, parse_plan
    >>> c = run_chunk(parse_plan(EXAMPLE), 20, range(5))
    >>> sorted(c["results"]["H1"]), c["results"]["H1"]["alt"]["route"].tolist()
    (['alt', 'null'], ['closed_form', 'closed_form', 'closed_form', 'closed_form', 'closed_form'])
    >>> bool((run_chunk(parse_plan(EXAMPLE), 20, [4])["results"]["H1"]["alt"]["estimate"] ==
    ...       c["results"]["H1"]["alt"]["estimate"][4]).all())            # one simulation, whatever the chunk
    True
    """
    out, seconds = {}, {}
    for h in plan.hypotheses:
        t0 = time.perf_counter()
        fn = _retention if h.kind == "retention" else _survey
        out[h.id] = fn(h, plan, n_in_population(h, n_per_arm), sims, plan.null_scenario)
        seconds[h.id] = time.perf_counter() - t0
    return {"results": out, "seconds": seconds}


def decisions(plan, results: dict, scenario: str = "alt") -> tuple[np.ndarray, np.ndarray]:
    """Adjusted p-values and decisions (n_sims, n_hypotheses) across the plan's families, as a run decides.

    Parameters
    ----------
    plan : Plan
        Its hypotheses, families, multiplicity rules and alpha.
    results : dict
        :func:`run_chunk`'s ``results`` (or several chunks' concatenated).
    scenario : str
        ``alt`` or ``null``.

    Returns
    -------
    (ndarray, ndarray)
        Adjusted p-values (float) and decisions (``supported``, ``opposite``, ``equivalent``, ``inconclusive``).

    Examples
    --------
    >>> from rmstudy.planning.spec import EXAMPLE, parse_plan
    >>> plan = parse_plan({**EXAMPLE, "effect_d": 1.0})
    >>> adj, dec = decisions(plan, run_chunk(plan, 30, range(4))["results"])
    >>> np.round(adj[:, 0], 4), dec[:, 0].tolist()
    (array([0.0044, 0.006 , 0.0001, 0.0954]), ['supported', 'supported', 'supported', 'inconclusive'])
    """
    ids = [h.id for h in plan.hypotheses]
    P = np.column_stack([results[i][scenario]["p_value"] for i in ids])
    adj = P.copy()
    for family, rule in plan.multiplicity.items():
        cols = [k for k, h in enumerate(plan.hypotheses) if h.family == family]
        if cols and RULES[rule] is not None:
            adj[:, cols] = np.apply_along_axis(RULES[rule], 1, P[:, cols])
    rule = np.vectorize(decide, otypes=[object])
    dec = np.empty(P.shape, dtype=object)
    for k, h in enumerate(plan.hypotheses):
        r = results[h.id][scenario]
        tost = r["tost_p"] if r["tost_p"] is not None else np.full(len(P), None, dtype=object)
        dec[:, k] = rule(r["estimate"], adj[:, k], tost, plan.alpha, h.expected_sign)
    return adj, dec


def _share(k: int, n: int) -> dict:
    p = k / n
    z = stats.norm.ppf(0.975)
    mid = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return {"power": p, "mc_se": float(np.sqrt(p * (1 - p) / n)), "ci_low": float(max(0.0, mid - half)),
            "ci_high": float(min(1.0, mid + half))}


def analytic_power(h, plan, n: int) -> float | None:
    """Closed-form power of the single test (no multiplicity) where one exists: complete survey data without shared
    change (exact noncentral t), or retention (Schoenfeld's approximation).

    Parameters
    ----------
    h : SurveyHypothesis or RetentionHypothesis
        The hypothesis.
    plan : Plan
        Its alpha and waves.
    n : int
        Participants per arm in the hypothesis's population.

    Returns
    -------
    float or None
        None with attrition, shared change or no effect (or a hazard ratio of 1).

    Examples
    --------
    >>> from rmstudy.planning.spec import EXAMPLE, parse_plan
    >>> plan = parse_plan({**EXAMPLE, "effect_d": 0.5})
    >>> round(analytic_power(plan.hypotheses[0], plan, 64), 3)
    0.801
    >>> plan = parse_plan({**EXAMPLE, "attrition": 0.1})
    >>> analytic_power(plan.hypotheses[0], plan, 64) is None
    True
    """
    if h.kind == "retention":
        events = n * sum(analytic.voluntary_exit_probability(h.exit_rate, h.involuntary_rate, hr, h.follow_up_days)
                         for hr in (h.hazard_ratio, 1.0))
        return analytic.schoenfeld_power(h.hazard_ratio, events, plan.alpha) if h.hazard_ratio != 1 else None
    if any(h.attrition) or h.icc_change > 0 or h.effect_d == 0:
        return None
    return analytic.change_power(h.effect_d, h.rho, n, n, plan.alpha, len(plan.waves))


def _rows(plan, n_per_arm: int, results: dict, seconds: dict, n_sims: int) -> list[dict]:
    adj, dec = decisions(plan, results)
    adj0 = decisions(plan, results, "null")[0] if plan.null_scenario else None
    rows = []
    for k, h in enumerate(plan.hypotheses):
        n = n_in_population(h, n_per_arm)
        alt = results[h.id]["alt"]
        routes, counts = np.unique(alt["route"], return_counts=True)
        row = {"hypothesis": h.id, "outcome": h.outcome, "family": h.family, "direction": h.direction,
               "effect": h.effect_d if h.kind == "survey" else h.hazard_ratio,
               "effect_scale": "d" if h.kind == "survey" else "hazard_ratio", "n_per_arm": int(n_per_arm),
               "n_analysed_per_arm": n, **_share(int((dec[:, k] == "supported").sum()), n_sims), "n_sims": n_sims,
               "decisions": {d: float((dec[:, k] == d).mean()) for d in DECISIONS},
               "mean_estimate": float(np.mean(alt["estimate"])),
               "analytic_power": analytic_power(h, plan, n),
               "analysis": {str(r): int(c) for r, c in zip(routes, counts)}}
        if adj0 is not None:
            t1 = float((adj0[:, k] < plan.alpha).mean())
            row["type_i_error"] = t1
            row["type_i_error_mc_se"] = float(np.sqrt(t1 * (1 - t1) / n_sims))
        row["seconds"] = seconds[h.id]
        rows.append(row)
    return rows


def _merge(parts: list[dict]) -> tuple[dict, dict]:
    """Concatenate chunk results (in simulation order) and add up the seconds."""
    first = parts[0]["results"]
    results = {}
    for hid, scen in first.items():
        results[hid] = {}
        for name, r in scen.items():
            results[hid][name] = {key: (None if r[key] is None else
                                        np.concatenate([p["results"][hid][name][key] for p in parts]))
                                  for key in r}
    seconds = {hid: float(sum(p["seconds"][hid] for p in parts)) for hid in first}
    return results, seconds


def _map(tasks, plan, jobs: int, backend: str | None, progress: bool, desc: str) -> list:
    from tqdm.auto import tqdm

    bar = dict(total=len(tasks), desc=desc, unit="chunk", disable=None if progress else True, leave=False)
    if jobs == 1 and backend in (None, "loky", "sequential"):
        return [run_chunk(plan, n, sims) for n, sims in tqdm(tasks, **bar)]
    from joblib import Parallel, delayed, parallel_config

    with parallel_config(backend=backend or "loky", n_jobs=-1 if backend == "dask" else jobs):
        gen = Parallel(return_as="generator")(delayed(run_chunk)(plan, n, sims) for n, sims in tasks)
        return list(tqdm(gen, **bar))


def simulate_power(plan, jobs: int = 1, backend: str | None = None, progress: bool = False,
                   desc: str = "rmstudy power") -> dict:
    """Power of every hypothesis of ``plan`` at each of its sample sizes, by simulation.

    Parameters
    ----------
    plan : :class:`~rmstudy.planning.spec.Plan` (``load_plan`` / ``parse_plan``).
    jobs : processes (joblib); the result does not depend on it.
    backend : joblib backend (default loky; ``"dask"`` runs on the current ``dask.distributed`` client).
    progress : show a progress bar over chunks (on a terminal).
    desc : the progress bar's label.

    Returns
    -------
    dict
        ``schema_version, rmstudy_version, planning`` (the resolved plan), ``n_sims, seed, method``, ``power`` (one
        row per sample size x hypothesis: ``hypothesis, outcome, family, direction, effect, effect_scale, n_per_arm,
        n_analysed_per_arm, power, mc_se, ci_low, ci_high, n_sims, decisions, mean_estimate, analytic_power,
        analysis, type_i_error, type_i_error_mc_se, seconds``) and ``seconds`` (wall clock). Same plan and seed:
        the same dict apart from every ``seconds``.

    Examples
    --------
    A tiny plan (40 simulations at 20 and 40 per arm; a real plan runs 1,000 or more):

    >>> from rmstudy.planning.spec import EXAMPLE, parse_plan
    >>> out = simulate_power(parse_plan({**EXAMPLE, "effect_d": 0.8, "n_per_arm": [20, 40], "n_sims": 40}))
    >>> [(r["n_per_arm"], r["power"], round(r["analytic_power"], 3), r["type_i_error"]) for r in out["power"]]
    [(20, 0.7, 0.693, 0.0), (40, 0.95, 0.942, 0.1)]

    (The type I error of 0.1 is 4 null cohorts of 40: its Monte-Carlo SE is 0.047.)
    """
    t0 = time.perf_counter()
    tasks = []
    for n in plan.n_per_arm:
        c = chunk_size(plan, n)
        tasks += [(n, np.arange(s, min(s + c, plan.n_sims))) for s in range(0, plan.n_sims, c)]
    parts = _map(tasks, plan, jobs, backend, progress, desc)
    rows = []
    for n in plan.n_per_arm:
        results, seconds = _merge([p for (m, _), p in zip(tasks, parts) if m == n])
        rows += _rows(plan, n, results, seconds, plan.n_sims)
    return {"schema_version": OUTPUT_SCHEMA_VERSION, "rmstudy_version": __version__, "planning": plan.to_dict(),
            "n_sims": plan.n_sims, "seed": plan.seed, "method": METHOD, "power": rows,
            "seconds": time.perf_counter() - t0}
