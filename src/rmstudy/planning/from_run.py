"""A plan built from a finished run (``rmstudy power --from-run RUN_DIR``), and the run's power questions.

What is taken from the run's results.json (every value and its source go into OUT.json's ``from_run.sources``):

* waves: the ``responded_<wave>`` stages of the participant flow, in order; participants per arm: the ``enrolled``
  stage (mean of the arms);
* per survey hypothesis: its population's share of each arm (participants analysed / enrolled), the pre-post
  correlation tau2 / (tau2 + sigma2) of its primary model's variance components, its attrition (two waves: the share
  of analysed participants without the later wave, 1 - (observations - participants) / participants; more waves: the
  flow's responded_<wave> over responded_<first>, the same for every hypothesis), and dropout that is missing at
  random on the baseline score with log-odds slope -SMD, the standardised baseline difference between completers and
  dropouts of its outcome in the attrition table (to first order, a logistic dropout model with slope g moves the
  dropouts' baseline mean g SDs from the completers'); when that is missing, completely at random;
* per retention hypothesis: its population's share, the comparison arm's voluntary-exit probability at the last KM
  horizon (1 - retention), its involuntary-exit cumulative incidence there, and that horizon as follow-up;
* alpha from the run's power section (else 0.05); families and directions from the rows; the multiplicity rules of
  a run (Holm, Benjamini-Hochberg, none).

The assumed true effect of each hypothesis is its SESOI, the smallest effect the plan cares about (d, or a hazard
ratio), in the expected direction; without a SESOI, the run's own estimate (d_ppc2, or the hazard ratio), labelled
``observed`` (a post-hoc effect overstates what a replication will see when it was selected for being large; one
against the expected direction counts as 0, for which no sample size reaches the target). The run's
design (pairs, groups) is not in results.json, so the plan has no pair/group ICC: the primary model ignores pairs, and
a pair intercept constant over waves does not change its test of the difference in change.
"""

from __future__ import annotations

__all__ = ["plan_from_run", "power_from_run", "next_cohort", "NEXT_COHORT_SIMS", "NEXT_COHORT_SEED",
           "NEXT_COHORT_MAX_FACTOR"]

import json
import math
import time
from pathlib import Path

import numpy as np

from rmstudy.errors import Problem
from rmstudy.planning.engine import simulate_power
from rmstudy.planning.search import minimum_detectable_effect, sample_size
from rmstudy.planning.spec import PlanningError, parse_plan


def _read(run_dir: Path) -> dict:
    path = run_dir / "results.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError:
        raise PlanningError(Problem("results.json", f"no results.json in {run_dir.name}",
                                    "give the folder of a finished run (rmstudy run COHORT --out RUN_DIR)")) from None
    except json.JSONDecodeError as e:
        raise PlanningError(Problem("results.json", f"results.json is not valid JSON ({e.msg}, line {e.lineno})",
                                    "rerun the run that wrote it")) from None


def _need(res: dict, *keys):
    cur = res
    for k in keys:
        if not isinstance(cur, dict) or k not in cur:
            raise PlanningError(Problem("results.json", f"results.json has no {'.'.join(map(str, keys))}",
                                        "rerun the run with this rmstudy version (docs/results-format.md)",
                                        column=".".join(map(str, keys))))
        cur = cur[k]
    return cur


def _flow(res: dict) -> tuple[list[str], float, dict]:
    stages = {s["stage"]: s for s in _need(res, "flow", "stages")}
    waves = [s[len("responded_"):] for s in stages if s.startswith("responded_")]
    enrolled = stages.get("enrolled")
    if enrolled is None or len(waves) < 1:
        raise PlanningError(Problem("results.json", "the participant flow has no enrolled or responded_<wave> stages",
                                    "rerun the run with this rmstudy version", column="flow.stages"))
    per_arm = (enrolled["program"] + enrolled["control"]) / 2
    first = stages[f"responded_{waves[0]}"]
    kept = {w: (stages[f"responded_{w}"]["program"] + stages[f"responded_{w}"]["control"]) /
            max(1, first["program"] + first["control"]) for w in waves}
    return waves, per_arm, kept


def _mar_slope(res: dict, outcome: str):
    smds = [r["smd"] for r in (res.get("attrition") or {}).get("baseline_by_completion", [])
            if r.get("scale") == outcome and r.get("smd") is not None and math.isfinite(r["smd"])]
    return -float(np.mean(smds)) if smds else None


def _observed(along: float) -> float:
    """An observed effect measured along the expected direction; one against it counts as 0 (no effect to power)."""
    return max(0.0, along)


def _survey_entry(res, row, waves, per_arm, kept, sources) -> dict:
    hid = row["id"]
    vc = _need(res, "models", hid, "variance_components")
    n = row["n"]
    people = (n["program"]["participants"] + n["control"]["participants"]) / 2
    obs = (n["program"]["observations"] + n["control"]["observations"]) / 2
    if len(waves) == 2:
        attrition = {waves[1]: float(min(0.95, max(0.0, 1 - (obs - people) / people)))}
        how = "1 - (observations - participants) / participants of the row"
    else:
        attrition = {w: float(min(0.95, max(0.0, 1 - kept[w]))) for w in waves[1:]}
        how = "flow responded_<wave> / responded_<first>"
    entry = {"id": hid, "outcome": row["outcome"], "family": row["family"], "direction": row["direction"],
             "contrast": row.get("contrast") or [waves[0], waves[-1]],
             "population_share": float(min(1.0, people / per_arm)),
             "pre_post_correlation": float(min(0.99, vc["tau2"] / (vc["tau2"] + vc["sigma2"]))),
             "attrition": attrition}
    slope = _mar_slope(res, row["outcome"])
    if slope is not None:
        entry.update(attrition_mechanism="mar", mar_log_odds_per_sd=float(np.clip(slope, -5, 5)))
    sign = 1 if row["direction"] == "increase" else -1
    if row.get("sesoi"):
        d = row["sesoi"] if row.get("sesoi_units", "d") == "d" else row["sesoi"] / row["baseline_sd"]
        entry.update(effect_d=sign * float(d), sesoi=float(d))
        source = "sesoi"
    else:
        entry["effect_d"], source = _observed(float(row["effect_size"]["value"]) * sign) * sign, "observed"
    sources[hid] = {"effect": source, "pre_post_correlation": "models.variance_components: tau2 / (tau2 + sigma2)",
                    "attrition": how, "attrition_mechanism": "mar: -SMD completers vs dropouts at baseline"
                    if slope is not None else "mcar (no baseline comparison of completers and dropouts)",
                    "population_share": "row n participants / flow enrolled"}
    return entry


def _retention_entry(res, row, per_arm, sources) -> dict:
    hid = row["id"]
    ret = _need(res, "retention", hid)
    last = max(r["horizon_days"] for r in ret["km"])
    km = next(r for r in ret["km"] if r["group"] == "control" and r["horizon_days"] == last)
    inv = [r["incidence"] for r in ret.get("cumulative_incidence", [])
           if r["group"] == "control" and r["cause"] == 2 and r["horizon_days"] == last]
    people = (row["n"]["program"]["participants"] + row["n"]["control"]["participants"]) / 2
    sign = -1 if row["direction"] == "increase" else 1
    if row.get("sesoi"):
        hr, source = math.exp(sign * abs(math.log(row["sesoi"]))), "sesoi"
    else:
        hr, source = math.exp(sign * _observed(sign * math.log(row["effect_size"]["value"]))), "observed"
    entry = {"id": hid, "outcome": "retention", "family": row["family"], "direction": row["direction"],
             "hazard_ratio": hr,
             "population_share": float(min(1.0, people / per_arm)), "follow_up_days": int(last),
             "exit_rate": float(min(0.99, max(1e-4, 1 - km["retention"]))),
             "involuntary_rate": float(min(0.9, inv[0])) if inv else 0.0}
    if row.get("sesoi"):
        entry["sesoi"] = float(row["sesoi"])
    sources[hid] = {"effect": source, "exit_rate": f"1 - KM retention of the comparison arm at day {last}",
                    "involuntary_rate": "comparison arm's involuntary-exit cumulative incidence at that day",
                    "population_share": "row n participants / flow enrolled"}
    return entry


def _plan(res: dict, run_dir: Path, n_sims: int, seed: int, target_power: float):
    waves, per_arm, kept = _flow(res)
    sources, hyps = {}, []
    for row in _need(res, "hypotheses"):
        if row.get("design") == "single_arm":
            continue
        if row["outcome"] == "retention":
            hyps.append(_retention_entry(res, row, per_arm, sources))
        else:
            hyps.append(_survey_entry(res, row, waves, per_arm, kept, sources))
    alphas = [p.get("alpha") for p in (res.get("power") or {}).values() if isinstance(p, dict)]
    raw = {"name": f"{res.get('cohort', run_dir.name)} as run", "n_per_arm": int(round(per_arm)),
           "alpha": float(alphas[0]) if alphas and alphas[0] else 0.05, "hypotheses": hyps,
           "n_sims": int(n_sims), "seed": int(seed), "target_power": target_power, "null_scenario": False}
    if len(waves) >= 2:
        raw["waves"] = waves
    return parse_plan(raw, file=f"{run_dir.name}/results.json"), sources


NEXT_COHORT_SIMS = 200      # simulations per grid point of the run's own next-cohort search (results.json next_cohort)
NEXT_COHORT_SEED = 1
NEXT_COHORT_MAX_FACTOR = 12  # sizes beyond 12 times this cohort are not searched (the HR report: "more than ten times")
NEXT_COHORT_BUDGET = 5e7     # simulated participants per grid point (n_sims x 2 arms x the largest n) a run may spend


def _size_entry(s: dict, per_arm: float, source: str) -> dict:
    """One ``next_cohort`` entry from :func:`~rmstudy.planning.search.sample_size` (no timings: results.json is
    reproducible byte for byte). ``more_than_factor``: no size up to that many times this cohort reaches the target
    for a non-zero effect."""
    n = s["n_per_arm"]
    zero = s["effect"] == (0 if s["effect_scale"] == "d" else 1)
    return {"more_than_factor": NEXT_COHORT_MAX_FACTOR if n is None and not zero else None,"n_per_arm": n, "n_per_arm_ci_low": s["n_per_arm_ci_low"], "n_per_arm_ci_high": s["n_per_arm_ci_high"],
            "n_total": None if n is None else 2 * n, "factor": None if n is None else n / per_arm,
            "power_at_n": s.get("power_at_n"), "target_power": s["target_power"], "effect": s["effect"],
            "effect_scale": s["effect_scale"], "effect_source": source, "note": s["note"]}


def next_cohort(results: dict, n_sims: int = NEXT_COHORT_SIMS, seed: int = NEXT_COHORT_SEED,
                target_power: float = 0.8) -> dict:
    """results.json ``next_cohort``: for each inconclusive two-arm hypothesis, the participants per arm (and in
    all) a next cohort with this run's design needs for ``target_power`` to settle it, by the planner's simulation
    (:func:`~rmstudy.planning.search.sample_size` on :func:`plan_from_run`'s plan: the run's decision rule,
    multiplicity, attrition and correlation, the SESOI as the true effect). ``factor`` is that size over this
    cohort's per arm. The reports read these numbers; :func:`power_from_run` with the same ``n_sims`` and ``seed``
    gives the same ones up to about 7.5 times the cohort (beyond, this search's grid is cut at the maximum). Sizes
    above ``NEXT_COHORT_MAX_FACTOR`` times this cohort are not searched, and a cohort so large that the search would
    simulate more than ``NEXT_COHORT_BUDGET`` participants per grid point is left to ``rmstudy power --from-run``
    (a note says so).

    Parameters
    ----------
    results : dict
        The run's results (results.json as a mapping, before ``next_cohort`` is added).
    n_sims, seed : int
        Simulations per grid point, and their seed.
    target_power : float
        The power the next cohort should have.

    Returns
    -------
    dict
        ``method, n_sims, seed, target_power, n_per_arm_now, note`` and ``hypotheses`` (id -> ``n_per_arm`` with
        its interval, ``n_total, factor, power_at_n, effect, effect_source, more_than_factor, note``).

    Examples
    --------
    A toy run of 50 per arm whose one hypothesis (SESOI d = 0.3) is inconclusive; 20 simulations a point, so the
    interval is wide (a run uses 200):

    >>> row = {"id": "H2", "outcome": "engagement", "family": "primary", "direction": "increase", "sesoi": 0.3,
    ...        "decision": "inconclusive", "effect_size": {"value": 0.15},
    ...        "n": {"program": {"participants": 50, "observations": 90}, "control": {"participants": 50, "observations": 85}}}
    >>> res = {"cohort": "toy", "hypotheses": [row], "models": {"H2": {"variance_components": {"tau2": 0.6, "sigma2": 0.4}}},
    ...        "flow": {"stages": [{"stage": "enrolled", "program": 50, "control": 50},
    ...                            {"stage": "responded_pre", "program": 50, "control": 50},
    ...                            {"stage": "responded_post", "program": 40, "control": 35}]}}
    >>> h = next_cohort(res, n_sims=20)["hypotheses"]["H2"]
    >>> h["n_per_arm"], h["n_per_arm_ci_low"], h["n_per_arm_ci_high"], h["factor"], h["effect_source"]
    (139, 0, 287, 2.78, 'sesoi')
    >>> next_cohort({"hypotheses": [{"id": "H1", "decision": "supported"}]})["hypotheses"]     # nothing to settle
    {}
    """
    out = {"method": "simulation (rmstudy.planning.sample_size on the run's plan)", "n_sims": n_sims, "seed": seed,
           "target_power": target_power, "n_per_arm_now": None, "hypotheses": {}, "note": None}
    open_ = [r["id"] for r in results.get("hypotheses", [])
             if r.get("decision") == "inconclusive" and r.get("design") != "single_arm"]
    if not open_:
        return out
    try:
        plan, sources = _plan(results, Path(str(results.get("cohort") or "run")), n_sims, seed, target_power)
    except PlanningError as e:
        return {**out, "note": f"no simulation: {e}"}
    per_arm = plan.n_per_arm[0]
    out["n_per_arm_now"] = per_arm
    max_n = int(NEXT_COHORT_MAX_FACTOR * per_arm)
    if n_sims * 2 * max_n * 1.6 > NEXT_COHORT_BUDGET:
        return {**out, "note": f"this cohort is too large to simulate its next cohort within a run ({per_arm} per arm): "
                               "rmstudy power --from-run RUN_DIR answers it"}
    for hid in open_:
        out["hypotheses"][hid] = _size_entry(sample_size(plan, hid, target_power, max_n=max_n), per_arm,
                                             sources[hid]["effect"])
    return out


def plan_from_run(run_dir: str | Path, n_sims: int = 1000, seed: int = 1, target_power: float = 0.8):
    """The plan of a run as it was: ``(Plan, sources)`` (see the module notes for what comes from where).

    Parameters
    ----------
    run_dir : str or Path
        A finished run's folder (its results.json).
    n_sims, seed : int
        The plan's simulations per sample size and seed.
    target_power : float
        The plan's target power.

    Returns
    -------
    (Plan, dict)
        The plan, and per hypothesis id where each of its values came from.

    Raises
    ------
    PlanningError
        Without a readable results.json, or with one that lacks what the plan needs.

    Examples
    --------
    >>> row = {"id": "H2", "outcome": "engagement", "family": "primary", "direction": "increase", "sesoi": 0.3,
    ...        "decision": "inconclusive", "effect_size": {"value": 0.15},
    ...        "n": {"program": {"participants": 50, "observations": 90}, "control": {"participants": 50, "observations": 85}}}
    >>> res = {"cohort": "toy", "hypotheses": [row], "models": {"H2": {"variance_components": {"tau2": 0.6, "sigma2": 0.4}}},
    ...        "flow": {"stages": [{"stage": "enrolled", "program": 50, "control": 50},
    ...                            {"stage": "responded_pre", "program": 50, "control": 50},
    ...                            {"stage": "responded_post", "program": 40, "control": 35}]}}
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "results.json").write_text(json.dumps(res), encoding="utf-8")
    ...     plan, sources = plan_from_run(tmp)
    >>> h = plan.hypotheses[0]
    >>> plan.waves, plan.n_per_arm, h.effect_d, h.rho, h.attrition, sources["H2"]["effect"]
    (('pre', 'post'), (50,), 0.3, 0.6, (0.0, 0.25), 'sesoi')
    """
    run_dir = Path(run_dir)
    return _plan(_read(run_dir), run_dir, n_sims, seed, target_power)


def power_from_run(run_dir: str | Path, n_sims: int = 1000, seed: int = 1, target_power: float = 0.8,
                   jobs: int = 1, backend: str | None = None, progress: bool = False) -> dict:
    """The run's power questions: its power as it was for the assumed effects, the sample size per arm for
    ``target_power`` for each inconclusive hypothesis, and each hypothesis's minimum detectable effect.

    Parameters
    ----------
    run_dir : str or Path
        A finished run's folder (its results.json).
    n_sims, seed : int
        Simulations per sample size (and grid point), and their seed.
    target_power : float
        Target of the sample sizes and minimum detectable effects.
    jobs, backend, progress
        As :func:`~rmstudy.planning.engine.simulate_power`.

    Returns
    -------
    dict
        :func:`~rmstudy.planning.engine.simulate_power`'s result with ``from_run`` (the run and every value's
        source), ``sample_size`` and ``mde`` (:mod:`rmstudy.planning.search`).

    Examples
    --------
    >>> row = {"id": "H2", "outcome": "engagement", "family": "primary", "direction": "increase", "sesoi": 0.3,
    ...        "decision": "inconclusive", "effect_size": {"value": 0.15},
    ...        "n": {"program": {"participants": 50, "observations": 90}, "control": {"participants": 50, "observations": 85}}}
    >>> res = {"cohort": "toy", "hypotheses": [row], "models": {"H2": {"variance_components": {"tau2": 0.6, "sigma2": 0.4}}},
    ...        "flow": {"stages": [{"stage": "enrolled", "program": 50, "control": 50},
    ...                            {"stage": "responded_pre", "program": 50, "control": 50},
    ...                            {"stage": "responded_post", "program": 40, "control": 35}]}}
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "results.json").write_text(json.dumps(res), encoding="utf-8")
    ...     out = power_from_run(tmp, n_sims=20)
    >>> out["power"][0]["power"], out["sample_size"][0]["n_per_arm"], round(float(out["mde"][0]["mde_d"]), 3)
    (0.3, 139, 0.453)
    """
    t0 = time.perf_counter()
    run_dir = Path(run_dir)
    res = _read(run_dir)
    plan, sources = _plan(res, run_dir, n_sims, seed, target_power)
    decision = {r["id"]: r["decision"] for r in res["hypotheses"]}
    out = simulate_power(plan, jobs=jobs, backend=backend, progress=progress, desc="as run")
    out["from_run"] = {"run": run_dir.name, "cohort": res.get("cohort"), "created": res.get("created"),
                       "plan_sha256": res.get("plan_sha256"), "decisions": decision, "sources": sources}
    out["sample_size"] = [{**sample_size(plan, h.id, target_power, jobs, backend, progress), "decision": decision[h.id]}
                          for h in plan.hypotheses if decision.get(h.id) == "inconclusive"]
    out["mde"] = [minimum_detectable_effect(plan, h.id, plan.n_per_arm[0], target_power, jobs, backend, progress)
                  for h in plan.hypotheses]
    out["seconds"] = time.perf_counter() - t0
    return out
