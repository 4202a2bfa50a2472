"""Seconds per 1,000 simulated cohorts of `rmstudy power`, against its goals and against the equivalent R loop.

    .venv/bin/python benchmarks/power.py [--n-per-arm 200] [--n-sims 1000] [--repeat 3] [--r-sims 100]

Each simulated cohort has n per arm (default 200, i.e. 400 participants) at waves pre and post, pre-post
correlation 0.5 and effect d = 0.3, and is analysed with the primary model (LMM score ~ arm * wave +
(1 | participant), REML, Satterthwaite df) and the run's decision rule; the null scenario is off, so one cohort is one
fit. Rows (median wall seconds of --repeat runs, scaled to 1,000 cohorts):

  complete, J=1 / J=2       no dropout: the closed form (the change-score t-test the LMM equals)
  20% MAR dropout, J=1 / J=2  batched REML (equal to rmstudy's fit_random_intercept cohort by cohort)
  retention, J=1            Cox PH, HR 0.75, 12-month exit 20%
  per-cohort fitter, J=1    the same dropout cohorts through rmstudy's fit_random_intercept + contrast one at a
                            time (what the batched path replaces), on --loop-sims cohorts
  R lmerTest loop           benchmarks/_power_lmer.R: simulate + lmerTest::lmer + summary() per cohort, on --r-sims
                            cohorts (when Rscript with lmerTest and jsonlite is on PATH)

J=2 is timed after one warm-up call, so it does not include starting the worker processes (about 4 s here once).
Goals (issue 14): <= 10 s per 1,000 cohorts of 400 participants on one core; <= 0.1 x the R loop.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from rmstudy.planning.draws import draw_survey
from rmstudy.planning.engine import simulate_power
from rmstudy.planning.fastlmm import contrast_vector
from rmstudy.planning.spec import parse_plan
from rmstudy.stats.models.mixed import fit_random_intercept

HERE = Path(__file__).resolve().parent
GOAL_ONE_CORE = 10.0
GOAL_R_RATIO = 0.1


def plan_for(n: int, n_sims: int, attrition: float = 0.0, retention: bool = False):
    if retention:
        return parse_plan({"n_per_arm": n, "n_sims": n_sims, "seed": 1, "null_scenario": False,
                           "hypotheses": [{"id": "R", "outcome": "retention", "hazard_ratio": 0.75}]})
    return parse_plan({"waves": ["pre", "post"], "n_per_arm": n, "effect_d": 0.3, "pre_post_correlation": 0.5,
                       "attrition": attrition, "attrition_mechanism": "mar", "n_sims": n_sims, "seed": 1,
                       "null_scenario": False})


def timed(plan, jobs: int, repeat: int) -> tuple[float, dict]:
    if jobs > 1:
        simulate_power(plan, jobs=jobs)                       # start the workers and import in them (untimed)
    times, row = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        row = simulate_power(plan, jobs=jobs)["power"][0]
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000 / plan.n_sims, row


def per_cohort_loop(n: int, n_sims: int) -> float:
    """rmstudy's own fitter, one cohort at a time (simulation included, as the batched rows)."""
    plan = plan_for(n, n_sims, attrition=0.2)
    h = plan.hypotheses[0]
    t0 = time.perf_counter()
    draw = draw_survey(h, n, 2, plan.seed, range(n_sims))
    y = draw.with_effect(h.effect)
    L = contrast_vector(2, (0, 1))
    for b in range(n_sims):
        i, w = np.nonzero(draw.observed[b])
        a = draw.arm[i]
        X = np.column_stack([np.ones(len(i)), a, w == 1, a * (w == 1)]).astype(float)
        fit_random_intercept(y[b, i, w], X, i).contrast(L)
    return (time.perf_counter() - t0) * 1000 / n_sims


def r_loop(n: int, n_sims: int) -> dict:
    if shutil.which("Rscript") is None:
        return {"status": "not available", "reason": "Rscript is not on PATH"}
    r = subprocess.run(["Rscript", str(HERE / "_power_lmer.R"), str(n), str(n_sims), "0.5", "0.3", "0.2", "1"],
                       capture_output=True, text=True)
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"status": "not available", "reason": (r.stderr.strip().splitlines() or ["no output"])[-1]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-per-arm", type=int, default=200)
    ap.add_argument("--n-sims", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--loop-sims", type=int, default=200)
    ap.add_argument("--r-sims", type=int, default=100)
    a = ap.parse_args(argv)
    n = a.n_per_arm
    rows = []
    for label, plan, jobs in (("complete, J=1", plan_for(n, a.n_sims), 1),
                              ("complete, J=2", plan_for(n, a.n_sims), 2),
                              ("20% MAR dropout, J=1", plan_for(n, a.n_sims, 0.2), 1),
                              ("20% MAR dropout, J=2", plan_for(n, a.n_sims, 0.2), 2),
                              ("retention, J=1", plan_for(n, a.n_sims, retention=True), 1)):
        print(f"timing {label} ...", file=sys.stderr)
        sec, row = timed(plan, jobs, a.repeat)
        goal = f"<= {GOAL_ONE_CORE:g} s (one core)" if jobs == 1 else "(J=2: about half of J=1 on 2 free cores)"
        rows.append((label, sec, goal, f"power {row['power']:.3f}"))
    print("timing the per-cohort fitter ...", file=sys.stderr)
    loop = per_cohort_loop(n, a.loop_sims)
    rows.append(("per-cohort fit_random_intercept, J=1", loop, "(what the batched path replaces)",
                 f"{a.loop_sims} cohorts, scaled"))
    print("timing the R loop ...", file=sys.stderr)
    r = r_loop(n, a.r_sims)
    ours = rows[2][1]
    if "seconds" in r:
        r_sec = r["seconds"] * 1000 / r["n_sims"]
        rows.append(("R: simulate + lmerTest::lmer + summary, J=1", r_sec, "",
                     f"{r['n_sims']} cohorts, scaled; power {r['power']:.3f}"))
    print(f"\nrmstudy power: seconds per 1,000 simulated cohorts of {2 * n} participants (pre/post, d = 0.3, r = 0.5)")
    print(f"{'case':<45} {'s / 1000':>9}  {'goal':<42} note")
    for label, sec, goal, note in rows:
        print(f"{label:<45} {sec:>9.2f}  {goal:<42} {note}")
    if "seconds" in r:
        print(f"\nratio rmstudy (20% MAR dropout, J=1) / R loop = {ours / r_sec:.4f}  (goal <= {GOAL_R_RATIO:g})")
    else:
        print(f"\nR loop not available: {r.get('reason')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
