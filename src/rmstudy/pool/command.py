"""The CLI handlers of ``rmstudy pool`` and ``rmstudy run --register`` (cli.py only parses the arguments)."""

from __future__ import annotations

__all__ = ["pool_command", "register_command"]

import sys
from pathlib import Path


def _err(msg: str) -> int:
    print(f"rmstudy: {msg}", file=sys.stderr)
    return 2


def pool_command(a) -> int:
    """``rmstudy pool RUN_DIR... | --effects CSV | --registry CSV --out DIR``: pool, write and print a summary.

    Parameters
    ----------
    a : argparse.Namespace
        cli.py's parsed arguments (``run_dirs``, ``effects``, ``registry``, ``out``, ``method``, ``test``...).

    Returns
    -------
    int
        The exit code: 0 done, 1 nothing had two comparable studies, 2 unusable input.
    """
    from rmstudy.pool.core import pool_sources
    from rmstudy.pool.outputs import write_outputs
    from rmstudy.pool.sources import PoolError

    out = Path(a.out)
    if out.exists() and not out.is_dir():
        return _err(f"--out {a.out} is a file; give a folder for the pooled results")
    if not (a.run_dirs or a.effects or a.registry):
        return _err("nothing to pool: give run folders, --effects EFFECTS.csv or --registry REGISTRY.csv")
    if a.anonymity_threshold is not None and a.anonymity_threshold < 1:
        return _err("--anonymity-threshold must be a whole number of people, 1 or more")
    try:
        pooled = pool_sources(a.run_dirs, effects=a.effects, registry=a.registry, method=a.method, test=a.test,
                              match=a.match, scale=a.scale, pi_type=a.pi_type, raw=getattr(a, "raw", None))
    except PoolError as e:
        return _err(f"cannot pool.\n{e}")
    try:
        written = write_outputs(pooled, out, anonymity_threshold=a.anonymity_threshold)
    except OSError as e:
        return _err(f"cannot write {a.out} ({e.strerror or e})")
    p = pooled["parameters"]
    print(f"wrote {written['pooled']}, {written['academic']}, {written['table']} and {written['hr']}")
    print(f"method {p['method']}, test {p['test']} ({p['other_test']} beside it)")
    for h in pooled["hypotheses"]:
        pi = "" if h["pi_low"] is None else f"  PI [{h['pi_low']:+.3f}, {h['pi_high']:+.3f}]"
        print(f"  {h['hypothesis']:<8} k={h['k']:<3} {h['measure']:<20} {h['estimate']:+.3f} "
              f"[{h['ci_low']:+.3f}, {h['ci_high']:+.3f}]  p {h['p_value']:.4f}  tau2 {h['tau2']:.4f}  "
              f"I2 {'-' if h['i2'] is None else format(h['i2'], '.0f')}%{pi}")
    for c in (pooled.get("lmm_cross_check") or {}).get("hypotheses", []):
        print(f"  {c['hypothesis']:<8} pooled LMM (cohort random effect) {c['estimate']:+.3f} "
              f"[{c['ci_low']:+.3f}, {c['ci_high']:+.3f}]; meta-analysis {c['meta_estimate']:+.3f}")
    for x in (pooled.get("lmm_cross_check") or {}).get("skipped", []):
        print(f"  no pooled LMM for {x['hypothesis']}: {x['reason']}")
    for x in (pooled.get("lmm_cross_check") or {}).get("unmatched", []):
        print(f"  --raw {x['folder']} not used: {x['reason']}")
    for x in pooled["excluded"]:
        print(f"  left out: {x['study']} ({x['hypothesis']}): {x['reason']}")
    for x in pooled["not_pooled"]:
        print(f"  not pooled: {x['hypothesis']}: {x['reason']}")
    for it in written["hr_model"]["items"]:
        if not it["shown"]:
            print(f"  HR summary leaves out {it['hypothesis']}: {it['why_hidden']}")
    if not pooled["hypotheses"]:
        print("rmstudy: no hypothesis had two comparable studies; nothing was pooled", file=sys.stderr)
        return 1
    return 0


def register_command(run_dir, cohort_dir, registry) -> int:
    """After a successful ``rmstudy run``: append the run's effect rows to the registry (idempotent).

    Parameters
    ----------
    run_dir, cohort_dir, registry : str or Path
        The run folder, its cohort folder and the registry CSV (:func:`rmstudy.pool.registry.register_run`).

    Returns
    -------
    int
        The exit code: 0 appended or already there, 2 not registered.
    """
    from rmstudy.pool.registry import register_run
    from rmstudy.pool.sources import PoolError

    try:
        res = register_run(run_dir, registry, cohort_dir=cohort_dir)
    except PoolError as e:
        return _err(f"the run finished but was not registered.\n{e}")
    except OSError as e:
        return _err(f"the run finished but {registry} could not be written ({e.strerror or e})")
    if res["status"] == "already registered":
        print(f"{registry} already holds this run (the same input files, {res['inputs_sha256'][:12]}...): "
              "nothing appended")
    else:
        print(f"registered {res['rows']} effect row(s) in {registry}")
    return 0
