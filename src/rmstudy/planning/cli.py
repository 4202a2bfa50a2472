"""``rmstudy power``: simulation-based power for a planning file or a finished run (the handler behind rmstudy.cli).

Importing this module is cheap (argparse only); numpy and the simulation load when the command runs.
"""

from __future__ import annotations

__all__ = ["add_parser", "run_power"]

import argparse
import sys
from pathlib import Path


def add_parser(sub) -> argparse.ArgumentParser:
    """Add the ``power`` subcommand to rmstudy's subparsers.

    Parameters
    ----------
    sub : argparse subparsers
        What ``ArgumentParser.add_subparsers()`` returned.

    Returns
    -------
    ArgumentParser
        The ``power`` parser (its handler, :func:`run_power`, is the ``fn`` default).

    Examples
    --------
    >>> sub = argparse.ArgumentParser(prog="rmstudy").add_subparsers()
    >>> a = add_parser(sub).parse_args(["PLANNING.yaml", "--n-sims", "200"])
    >>> a.planning, a.from_run, a.n_sims, a.jobs, a.fn is run_power
    ('PLANNING.yaml', None, 200, 1, True)
    """
    p = sub.add_parser("power", help="simulation-based power and sample size for a planned cohort (docs/planning.md)",
                       description="Power of each hypothesis of a planned cohort by simulation, analysed as a run "
                                   "would (primary LMM, Cox PH, multiplicity, decision rule); or, with --from-run, the "
                                   "sample size that gives the target power for each inconclusive hypothesis of a "
                                   "finished run and the run's minimum detectable effects.")
    p.add_argument("planning", nargs="?", help="PLANNING.yaml (docs/planning.md)")
    p.add_argument("--from-run", metavar="RUN_DIR", help="a finished run folder (its results.json) instead of a file")
    p.add_argument("--json", metavar="OUT.json", help="write the results as JSON")
    p.add_argument("--n-sims", type=int, help="simulations per sample size (default: the file's n_sims, or 1000)")
    p.add_argument("--seed", type=int, help="seed (default: the file's seed, or 1)")
    p.add_argument("--jobs", type=int, default=1, help="processes (results do not depend on it)")
    p.add_argument("--target-power", type=float, help="target power of --from-run's sample sizes (default 0.8)")
    p.add_argument("--backend", choices=["loky", "dask"], default="loky",
                   help="joblib backend; dask runs on a dask.distributed cluster (--scheduler, or a local one of "
                        "--jobs workers)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="address of a running Dask scheduler (with --backend dask)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(fn=run_power)
    return p


def _dask(a):
    """(client, cluster) for --backend dask: the scheduler at --scheduler, else a local cluster of --jobs workers."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise SystemExit("rmstudy: --backend dask needs dask.distributed (pip install 'dask[distributed]')") from None
    if a.scheduler:
        return Client(a.scheduler), None
    cluster = LocalCluster(n_workers=max(1, a.jobs), threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster), cluster


def _compute(a, progress: bool) -> dict:
    from dataclasses import replace

    from rmstudy.planning.engine import simulate_power
    from rmstudy.planning.from_run import power_from_run
    from rmstudy.planning.spec import load_plan

    backend = None if a.backend == "loky" else "dask"
    if a.from_run:
        return power_from_run(a.from_run, n_sims=a.n_sims or 1000, seed=1 if a.seed is None else a.seed,
                              target_power=a.target_power or 0.8, jobs=a.jobs, backend=backend, progress=progress)
    plan = load_plan(a.planning)
    plan = replace(plan, **{k: v for k, v in (("n_sims", a.n_sims), ("seed", a.seed), ("target_power", a.target_power))
                            if v is not None})
    return simulate_power(plan, jobs=a.jobs, backend=backend, progress=progress)


def run_power(a) -> int:
    """Handler of ``rmstudy power``: prints the summary, writes ``--json``.

    Parameters
    ----------
    a : argparse.Namespace
        The parsed arguments of :func:`add_parser`'s parser.

    Returns
    -------
    int
        The exit code: 0, or 2 for a planning file or run that cannot be used (the reason on stderr).

    Examples
    --------
    >>> import json, tempfile
    >>> parser = add_parser(argparse.ArgumentParser(prog="rmstudy").add_subparsers())
    >>> run_power(parser.parse_args([]))                  # neither PLANNING.yaml nor --from-run
    2
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     plan = Path(tmp) / "PLANNING.yaml"
    ...     _ = plan.write_text(json.dumps({"waves": ["pre", "post"], "n_per_arm": 20, "effect_d": 0.5, "n_sims": 20,
    ...                                     "pre_post_correlation": 0.5, "attrition": 0}), encoding="utf-8")
    ...     run_power(parser.parse_args([str(plan), "--no-progress"]))
      H1     n/arm     20  power ... (MC SE ...; analytic 0.338; type I error ...)  ... s
    0
    """
    from rmstudy.planning.output import summary_lines, write_json
    from rmstudy.planning.spec import PlanningError

    if bool(a.planning) == bool(a.from_run):
        print("rmstudy: give either PLANNING.yaml or --from-run RUN_DIR (one of them)", file=sys.stderr)
        return 2
    if a.json and Path(a.json).is_dir():
        print(f"rmstudy: --json {a.json} is a folder; give a file name, e.g. {Path(a.json) / 'power.json'}",
              file=sys.stderr)
        return 2
    if a.jobs < 1 or (a.n_sims is not None and a.n_sims < 10):
        print("rmstudy: --jobs must be at least 1 and --n-sims at least 10", file=sys.stderr)
        return 2
    client, cluster = _dask(a) if a.backend == "dask" else (None, None)
    try:
        out = _compute(a, progress=not a.no_progress)
    except PlanningError as e:
        print(f"rmstudy: power stopped.\n{e}", file=sys.stderr)
        return 2
    finally:
        for c in (client, cluster):
            if c is not None:
                c.close()
    print("\n".join(summary_lines(out)))
    if a.json:
        try:
            write_json(out, a.json)
        except OSError as e:
            print(f"rmstudy: cannot write {a.json} ({e.strerror})", file=sys.stderr)
            return 2
        print(f"wrote {a.json}")
    return 0
