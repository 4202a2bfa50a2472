"""`rmstudy run` end to end on a simulated 100,000-participant cohort: the whole run and each of its stages.

    .venv/bin/python benchmarks/scale_100k.py [--pairs 25000] [--controls 25000] [--cohort DIR] [--keep]

1. `rmstudy simulate` writes a cohort with ``--pairs`` programme pairs and ``--controls`` comparison juniors and
   as many comparison seniors (default 25,000 each: 100,000 participants) into a temporary folder (timed, but not
   part of the run's goal); ``--cohort DIR`` reuses a cohort written before.
2. `rmstudy run COHORT --out OUT --no-progress` runs in a child process. While it runs, this script polls the
   run's build folder every 50 ms for the files that mark its stages, and samples the resident memory of the
   run and all its descendants (the two kernels) every 100 ms from /proc.

Prints one row per stage with its wall seconds, and the whole run's wall seconds and peak resident memory (sum
over the process tree at the worst sample, and the largest single process), each beside its goal: the whole run,
reports included, in <= 60 s with peak RSS <= 2 GB on a 2-core machine. Also the CPU seconds (user + sys) of the
run and every process it started (kernels, PDF writers), which a shared, loaded machine inflates far less than
wall time, and the load average. Stage boundaries:

  start .. analysis cohort      kernels start, inputs snapshotted and validated, the checked cohort written for
                                the notebooks
  .. results.json               stage 1 (the four analysis notebooks, and validation.json written beside them)
                                and assembling results.json
  .. manifest.json              stage 2 (academic report notebook + HTML/PDF, HR folder, notebook 05)
  .. exit                       manifest written, folder swapped in, kernels stopped, the CLI's summary

Also the time at which each analysis record and each report file appeared.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from rmstudy.run.parts import PARTS  # noqa: E402  (the survey notebook's parts, each with its record)

GOAL_SECONDS = 60.0
GOAL_RSS_MB = 2048.0
BIN = Path(sys.executable).parent
SHARED = "../scratch/.analysis_cohort.*.pickle"   # the checked cohort the notebooks read (run/shared_cohort.py)
MARKS = [SHARED, "validation.json", "records/01_data_quality.json", "records/02_psychometrics.json",
         *(f"records/03_survey_hypotheses.part{k}of{PARTS}.json" for k in range(1, PARTS + 1)),
         "records/03_survey_hypotheses.json", "records/04_retention.json", "results.json", "hr/hr_report.html",
         "hr/hr_report.pdf", "academic_report.html", "academic_report.pdf", "manifest.json"]


def _name(pid: int, root: int) -> str:
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "gone"
    if pid == root:
        return "rmstudy run"
    text = b" ".join(args).decode(errors="replace")
    return "kernel" if "ipykernel" in text else Path(args[0].decode(errors="replace")).name


def tree_rss_mb(pid: int) -> tuple[float, float, list]:
    """(sum, max, [(name, MB) of each process]) resident MB of ``pid`` and its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, float] = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            ppid, pages = int(fields[1]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(proc.name))
        rss[int(proc.name)] = pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo.extend(children.get(p, []))
    values = [rss.get(p, 0.0) for p in seen]
    return sum(values), max(values, default=0.0), [(p, rss.get(p, 0.0)) for p in seen]


def _there(root: Path, mark: str) -> bool:
    if mark == SHARED:                            # in the scratch folder beside the build folder, named by its hash
        return any((root.parent / "scratch").glob(".analysis_cohort.*.pickle"))
    return (root / mark).exists()


def watch(proc: subprocess.Popen, out: Path, marks: dict, peak: dict) -> None:
    t0 = time.monotonic()
    last_rss = 0.0
    while proc.poll() is None:
        now = time.monotonic() - t0
        builds = sorted(out.parent.glob(f".{out.name}.rmstudy-build-*"))
        roots = [b / "run" for b in builds] + [out]
        for m in MARKS:
            if m not in marks and any(_there(r, m) for r in roots):
                marks[m] = now
        if now - last_rss >= 0.1:
            total, single, each = tree_rss_mb(proc.pid)
            if total > peak.get("total", 0.0):        # who held what at the worst moment
                peak["at"] = now
                peak["each"] = sorted(((_name(p, proc.pid), mb) for p, mb in each), key=lambda x: -x[1])
            peak["total"] = max(peak.get("total", 0.0), total)
            peak["single"] = max(peak.get("single", 0.0), single)
            last_rss = now
        time.sleep(0.05)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=25_000)
    ap.add_argument("--controls", type=int, default=25_000)
    ap.add_argument("--cohort", help="reuse a cohort folder written by rmstudy simulate")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (cohort and run)")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="rmstudy-scale-"))
    try:
        if a.cohort:
            cohort, sim = Path(a.cohort), None
        else:
            cohort = tmp / "big"
            t = time.perf_counter()
            subprocess.run([str(BIN / "rmstudy"), "simulate", str(cohort), "--n-pairs", str(a.pairs),
                            "--n-control-juniors", str(a.controls), "--n-control-seniors", str(a.controls)],
                           check=True, stdout=subprocess.DEVNULL)
            sim = time.perf_counter() - t
        out = tmp / "run"
        marks: dict[str, float] = {}
        peak: dict[str, float] = {}
        t = time.perf_counter()
        cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.Popen([str(BIN / "rmstudy"), "run", str(cohort), "--out", str(out), "--no-progress"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        watcher = threading.Thread(target=watch, args=(proc, out, marks, peak))
        watcher.start()
        stdout, stderr = proc.communicate()
        total = time.perf_counter() - t
        watcher.join()
        cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)    # the run and every process it waited for
        peak["cpu"] = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        peak["load"] = os.getloadavg()[1]
        report(a, sim, total, marks, peak, proc.returncode, stderr)
        if proc.returncode == 0:
            print(stdout.splitlines()[0] if stdout else "")
    finally:
        if a.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def report(a, sim, total, marks, peak, status, stderr) -> None:
    n = 2 * a.pairs + 2 * a.controls
    print(f"cohort: {a.pairs:,} pairs + {a.controls:,} comparison juniors + {a.controls:,} comparison seniors "
          f"= {n:,} participants" + (f"; rmstudy simulate took {sim:.1f} s" if sim is not None else ""))
    if status != 0:
        print(f"rmstudy run FAILED (exit {status}) after {total:.1f} s:\n{stderr[-3000:]}")
    print(f"\n{'stage':<46}{'seconds':>9}")
    bounds = [("start .. analysis cohort (kernels, snapshot, validate)", SHARED),
              (".. results.json (stage 1: notebooks, validation.json, assemble)", "results.json"),
              (".. manifest.json (stage 2: reports, HR folder)", "manifest.json")]
    prev = 0.0
    for label, mark in bounds:
        if mark in marks:
            print(f"{label:<58}{marks[mark] - prev:>7.1f}")
            prev = marks[mark]
        else:
            print(f"{label:<58}{'-':>7}")
    print(f"{'.. exit (swap, kernels stopped, summary)':<58}{total - prev:>7.1f}")
    print("\nfile appeared at (seconds after start):")
    for m in MARKS:
        name = "analysis cohort (scratch)" if m == SHARED else m
        print(f"  {name:<40}{marks[m]:>7.1f}" if m in marks else f"  {name:<40}{'-':>7}")
    ok_t, ok_m = total <= GOAL_SECONDS and status == 0, peak.get("total", 0.0) <= GOAL_RSS_MB
    print(f"\nwhole run (wall)                     {total:7.1f} s    goal <= {GOAL_SECONDS:.0f} s    "
          f"{'met' if ok_t else 'NOT met'}")
    print(f"peak RSS, run + kernels (sum)        {peak.get('total', 0.0):7.0f} MB   goal <= {GOAL_RSS_MB:.0f} MB "
          f"{'met' if ok_m else 'NOT met'}")
    print(f"peak RSS, largest single process     {peak.get('single', 0.0):7.0f} MB")
    if "each" in peak:
        print(f"  at the peak ({peak['at']:.1f} s after start): "
              + ", ".join(f"{name} {mb:.0f} MB" for name, mb in peak["each"] if mb >= 1))
    cpu = peak.get("cpu", 0.0)
    print(f"CPU, run + kernels (user + sys)      {cpu:7.1f} s    (/ 2 cores = {cpu / 2:.1f} s: the least wall time on "
          f"an idle 2-core machine; load average over the run's last 5 min: {peak.get('load', 0.0):.1f})")


if __name__ == "__main__":
    main()
