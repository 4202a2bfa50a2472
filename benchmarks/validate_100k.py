"""Time `rmstudy validate` on a simulated 100,000-participant cohort.

    python benchmarks/validate_100k.py [--participants 100000] [--repeat 3] [--seed N]

The cohort is simulated with rmstudy.simulate_cohort (sized like scale_100k.py: a
quarter of the participants in each of programme juniors, programme seniors,
control juniors and control seniors) and written with rmstudy.save_cohort into a
temporary folder; neither is timed as validation. Then, --repeat times, each in a
fresh child process:

* the import floor, `python -c "import rmstudy.checks.validate"`;
* the real command line, `rmstudy validate DIR --json OUT.json` (the project's
  console script; `python -m rmstudy.cli` where it is not installed);
* the same work in one process, split into phases: load_cohort, the checks and the
  ledger (validate() without its load_cohort), to_json and to_text.

Peak resident memory is per child: each child is reaped with os.wait4, which gives
that child's own rusage. (resource.RUSAGE_CHILDREN would not do: it is the maximum
over every child waited for so far, so after the first repeat it repeats the
largest.) On Linux a child's ru_maxrss also starts at the parent's peak resident
size when it was spawned (exec keeps the parent's high-water mark), so this script
holds nothing big itself: the simulation and the reading of the JSON report run in
children too, and the parent stays at ~15 MB (printed at the end). For the phases,
the peak is the child's high-water mark at the end of the phase, so it only grows
from one phase to the next. The table goes to stdout, progress to stderr.

`python -m rmstudy.cli` is the fallback where the console script is not installed (`python -m rmstudy` works too).
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
# ru_maxrss is in kilobytes on Linux, in bytes on macOS
_RSS_TO_MB = 1 / 1024 / 1024 if sys.platform == "darwin" else 1 / 1024

# In-process phases. validate() looks load_cohort up in its module when called, so wrapping it there splits
# the load from the rest without touching anything private.
_PHASES = r"""
import json, resource, sys, time
t0 = time.perf_counter()
import rmstudy.checks.validate as v
t_import = time.perf_counter() - t0
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = {"import rmstudy.checks.validate": (t_import, peak())}
real_load = v.load_cohort
def timed_load(root):
    t = time.perf_counter()
    c = real_load(root)
    out["load_cohort"] = (time.perf_counter() - t, peak())
    return c
v.load_cohort = timed_load
t = time.perf_counter()
rep = v.validate(sys.argv[1])
out["checks + ledger (validate() - load)"] = (time.perf_counter() - t - out["load_cohort"][0], peak())
t = time.perf_counter()
rep.to_json(sys.argv[2])
out["to_json"] = (time.perf_counter() - t, peak())
t = time.perf_counter()
rep.to_text()
out["to_text"] = (time.perf_counter() - t, peak())
print(json.dumps(out))
"""

# The counts and summary of a report (read in a child: ~170,000 findings parsed would bloat this process)
_COUNTS = r"""
import json, sys
rep = json.load(open(sys.argv[1], encoding="utf-8"))
print(json.dumps({"counts": rep["counts"], "summary": rep["summary"]}))
"""


def child_json(cmd) -> dict:
    """Run a child that prints one JSON object; return it."""
    with tempfile.TemporaryFile() as fh:
        run_child(cmd, stdout=fh)
        fh.seek(0)
        return json.loads(fh.read())


def run_child(cmd, stdout=subprocess.DEVNULL) -> tuple[float, float, int]:
    """Run ``cmd`` in a fresh child: (wall seconds, the child's own peak resident MB, exit code)."""
    with tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=stdout, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        p.returncode = code = os.waitstatus_to_exitcode(status)
        if code not in (0, 2):                  # 2: the cohort has errors (a finding, not a failure)
            err.seek(0)
            sys.exit(f"{' '.join(map(str, cmd))} exited with {code}:\n{err.read().decode(errors='replace')}")
    return wall, usage.ru_maxrss * _RSS_TO_MB, code


# Simulate and write the cohort (in a child: see the module docstring). argv: DIR PARTICIPANTS [SEED]
_SIMULATE = r"""
import sys
import rmstudy as rm
d, n = sys.argv[1], int(sys.argv[2])
q = n // 4
kw = {"seed": int(sys.argv[3])} if len(sys.argv) > 3 else {}
t, _ = rm.simulate_cohort(n_pairs=q, n_control_juniors=q, n_control_seniors=n - 3 * q, truth_mc=20_000, **kw)
rm.save_cohort(d, t["participants"], t["responses"], t["employment"], t["codebook"], t["study"])
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--participants", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, help="simulation seed (default: the demo's)")
    a = ap.parse_args()
    script = BIN / "rmstudy"
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "rmstudy.cli"]
    floor_cmd = [sys.executable, "-c", "import rmstudy.checks.validate"]

    with tempfile.TemporaryDirectory(prefix="rmstudy-validate-") as tmp:
        d, out = Path(tmp) / "cohort", Path(tmp) / "report.json"
        print(f"simulating {a.participants:,} participants into {d} ...", file=sys.stderr)
        t = time.perf_counter()
        run_child([sys.executable, "-c", _SIMULATE, str(d), str(a.participants),
                   *([] if a.seed is None else [str(a.seed)])])
        t_sim = time.perf_counter() - t
        validate_cmd = [*cli, "validate", str(d), "--json", str(out)]
        run_child(floor_cmd)                     # warm the file cache
        rows: dict[str, list[tuple[float, float]]] = {}
        counts, summary, codes = set(), None, set()
        for k in range(a.repeat):
            print(f"repeat {k + 1}/{a.repeat}: import floor, command line, phases ...", file=sys.stderr)
            rows.setdefault("import rmstudy.checks.validate (floor)", []).append(run_child(floor_cmd)[:2])
            out.unlink(missing_ok=True)
            wall, mb, code = run_child(validate_cmd)
            codes.add(code)
            rows.setdefault("rmstudy validate DIR --json OUT.json", []).append((wall, mb))
            rep = child_json([sys.executable, "-c", _COUNTS, str(out)])
            counts.add(tuple(rep["counts"][x] for x in ("errors", "exclusions", "warnings")))
            summary = rep["summary"]
            phases = child_json([sys.executable, "-c", _PHASES, str(d), str(Path(tmp) / "phases.json")])
            for name, (s, rss) in phases.items():
                rows.setdefault(f"  {name}", []).append((s, rss * _RSS_TO_MB))

    errors, exclusions, warnings = sorted(counts)[0]
    print(f"cohort: {a.participants:,} participants, {summary.get('response_rows', 0):,} response rows "
          f"(simulated and written in {t_sim:.1f} s, not timed below)")
    print(f"command: {' '.join([Path(cli[0]).name, *cli[1:], 'validate', 'DIR', '--json', 'OUT.json'])}; "
          f"exit code {', '.join(map(str, sorted(codes)))}")
    print(f"findings: {errors:,} errors, {exclusions:,} exclusions, {warnings:,} warnings"
          + ("" if len(counts) == 1 else f" (WARNING: counts differ between repeats: {sorted(counts)})"))
    print(f"{'measure':<44}{'median s':>10}{'min s':>9}{'max s':>9}{'peak MB':>9}")
    header = False
    for name, vals in rows.items():
        if name.startswith("  ") and not header:
            header = True
            print("in one process, by phase (peak MB = high-water mark at the end of the phase):")
        secs = [s for s, _ in vals]
        print(f"{name:<44}{statistics.median(secs):>10.2f}{min(secs):>9.2f}{max(secs):>9.2f}"
              f"{max(m for _, m in vals):>9.0f}")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * _RSS_TO_MB
    print(f"each row: {a.repeat} repeat(s), each in its own child process; peak MB is the largest of them "
          f"(this script's own peak, {own:.0f} MB, is a floor under every child's on Linux)")


if __name__ == "__main__":
    main()
