"""Command line: ``rmstudy run | simulate | validate | ingest | pool | power`` (thin; the work is in the package)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _run(a) -> int:

    from rmstudy.run.pipeline import HR_DIR, run

    out, cohort = Path(a.out), Path(a.cohort_dir)
    if cohort.is_dir() and out.resolve() == cohort.resolve():
        print("rmstudy: --out is the cohort folder itself; give a separate folder (e.g. reports/NAME) so that the "
              "cohort's inputs stay as they were", file=sys.stderr)
        return 2
    checks: dict = {}
    res = run(a.cohort_dir, a.out, parallel=not a.serial, progress=not a.no_progress, checks=checks)
    hr = out / HR_DIR
    hr_files = sorted(p.name for p in hr.iterdir() if p.is_file()) if hr.is_dir() else []
    print(f"wrote {out} (results.json, academic_report.html, notebooks, manifest.json); for HR: {hr}/ "
          f"({', '.join(hr_files)})")
    for h in res["hypotheses"]:
        print(f"  {h['id']:<6} {h['decision']:<13} estimate {h['estimate']:+.3f}  p_adj {h['p_adjusted']:.4f}")
    warnings = checks["warnings"]
    print(f"checks: {checks['exclusions']} exclusion(s), {len(warnings)} warning(s) "
          f"(every one in {out / 'validation.json'})")
    seen: dict[str, int] = {}
    for w in warnings:
        seen[w["check"]] = seen.get(w["check"], 0) + 1
    counts = dict(seen)
    for w in warnings:                           # the first warning of each check, so none goes unseen
        if seen.pop(w["check"], None) is not None:
            more = counts[w["check"]] - 1
            print(f"  warning: {w['file']}: {w['message']}" + (f" (and {more} more like it)" if more else ""))
    if a.register:                               # the living evidence base (docs/pooling.md)
        from rmstudy.pool.command import register_command
        return register_command(out, a.cohort_dir, a.register)
    return 0


def _pool(a) -> int:
    from rmstudy.pool.command import pool_command
    return pool_command(a)


def _simulate(a) -> int:
    from rmstudy.simulate.cohort import write_demo

    kw = {k: v for k, v in (("n_pairs", a.n_pairs), ("n_control_juniors", a.n_control_juniors),
                            ("n_control_seniors", a.n_control_seniors)) if v is not None}
    write_demo(a.out, seed=a.seed, **kw)
    print(f"wrote cohort to {a.out}")
    return 0


def _validate(a) -> int:
    from rmstudy.checks.validate import validate

    if a.json and Path(a.json).is_dir():
        print(f"rmstudy: --json {a.json} is a folder; give a file name, e.g. {Path(a.json) / 'validation.json'}",
              file=sys.stderr)
        return 2
    rep = validate(a.cohort_dir)
    print(rep.to_text())
    if a.json:
        try:
            rep.to_json(a.json)
        except OSError as e:
            print(f"rmstudy: cannot write {a.json} ({e.strerror})", file=sys.stderr)
            return 2
        print(f"wrote {a.json}")
    return rep.exit_code


def _ingest(a) -> int:
    from rmstudy.errors import CohortError, Problem
    from rmstudy.ingest.core import REPORT_NAME, ingest

    try:
        rep = ingest(a.mapping, a.out)
    except CohortError as e:
        print(f"rmstudy: ingest stopped; nothing was written.\n{e}", file=sys.stderr)
        return 2
    out = Path(a.out)

    def rows(numbers, most=20):
        shown = ", ".join(str(n) for n in numbers[:most])
        more = f", ... ({len(numbers) - most} more in {REPORT_NAME})" if len(numbers) > most else ""
        return f"row{'s' if len(numbers) > 1 else ''} {shown}{more}"

    for f in rep["inputs"]:
        style = (f"sheet '{f['sheet']}', " if f.get("sheet") is not None else "") + f["header_style"] + \
            (f", {f['encoding']}" if f["encoding"] else "") + (f", {f['delimiter']}-delimited" if f["delimiter"] else "")
        print(f"  {f['file']}: {f['rows_read']} rows read, {f['rows_written']} written ({f['format']}, {style}); "
              f"{len(f['dropped_columns'])} column(s) dropped")
        led = f["ledger"]
        print(f"    ledger: {led['rows_in']} row(s) after the header = {led['written']} written + "
              f"{led['excluded']} excluded")
        for reason, numbers in led["reasons"].items():
            print(f"      excluded, {reason}: {rows(numbers)}")
        for reason, numbers in (f.get("test_responses_kept") or {}).items():
            print(f"      kept (keep_test_responses: true), {reason}: {rows(numbers)}")
        if f.get("text_normalised"):
            print(f"    text normalised in {f['text_normalised']} cell(s) (surrounding spaces, Unicode NFC form, "
                  "zero-width characters)")
    print(f"  participant ids: {'pseudonymised' if rep['pseudonymised'] else 'employee ids (NOT pseudonymised)'}")
    if rep.get("participants_without_responses"):
        k = rep["participants_without_responses"]
        print(f"  participants without responses: {k} of {rep['participants']} employee(s) of the HR extract answered "
              "no survey wave; they are written as participants and count as enrolled non-responders in the "
              "analysis. If they were never part of the study, remove them from the HR extract")
    for w in rep["warnings"]:
        print(f"  warning: {w}")
    print(f"wrote {out} ({', '.join(rep['written'])}) and {out / REPORT_NAME}")
    if not rep["cohort"]["ok"]:
        problems = [Problem(**p) for p in rep["cohort"]["problems"]]
        print(f"rmstudy: the written cohort cannot be analysed yet.\n{CohortError(problems)}", file=sys.stderr)
        return 2
    print(f"{out}: {rep['cohort']['summary']}")
    return 0


EXIT_CODES = """exit status:
  0    done
  1    the output pipe was closed (e.g. `rmstudy validate DIR | head`)
  2    the cohort cannot be analysed (every problem is listed), or an argument cannot be used: --out is a file,
       lies under a file, is the cohort folder, or holds files rmstudy did not write; nothing was written
  3    a notebook failed: the cell and its error are named; the unfinished run is kept in OUT.failed
  4    the run folder could not be written: a full disk, a read-only folder or file system, no permission;
       --out is unchanged (it holds the previous run, if there was one)
  5    another rmstudy run is writing the same --out; nothing was done
  130  interrupted (Ctrl-C); 143 stopped by SIGTERM. --out is unchanged
rmstudy run replaces --out only when the whole run has succeeded (docs/running.md)."""


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread so that a run cleans up as it does on Ctrl-C."""


def _on_sigterm(signum, frame):
    raise _Terminated()


def _parser():
    from rmstudy.simulate.cohort import DEMO_SEED

    fmt = argparse.RawDescriptionHelpFormatter
    p = argparse.ArgumentParser(prog="rmstudy", description="Evaluate a reverse-mentoring programme.", epilog=EXIT_CODES,
                                formatter_class=fmt)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="validate a cohort, run every notebook, write results.json and both reports",
                       description="Validate a cohort, run every notebook and write results.json and both reports "
                                   "into --out, all or nothing: the run is built beside --out and replaces it only "
                                   "when complete; the HR report goes to OUT/hr/.", epilog=EXIT_CODES,
                       formatter_class=fmt)
    r.add_argument("cohort_dir")
    r.add_argument("--out", required=True, help="run folder, e.g. reports/NAME (replaced whole when the run succeeds)")
    r.add_argument("--serial", action="store_true", help="run notebooks one at a time")
    r.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    r.add_argument("--register", metavar="REGISTRY.csv", help="after the run, append its effect rows to this registry "
                   "CSV (no participant data; a run already in it is not added again; docs/pooling.md)")
    r.set_defaults(fn=_run)
    s = sub.add_parser("simulate", help="write a simulated cohort with known truth (the demo by default)")
    s.add_argument("out")
    s.add_argument("--seed", type=int, default=DEMO_SEED)
    s.add_argument("--n-pairs", type=int)
    s.add_argument("--n-control-juniors", type=int)
    s.add_argument("--n-control-seniors", type=int)
    s.set_defaults(fn=_simulate)
    v = sub.add_parser("validate", help="check a cohort folder; exit 0 when it can be analysed")
    v.add_argument("cohort_dir")
    v.add_argument("--json", metavar="PATH", help="also write the report as JSON (paths in it are relative)")
    v.set_defaults(fn=_validate)
    g = sub.add_parser("ingest", help="turn survey exports and an HR extract into a cohort folder (docs/ingest.md)")
    g.add_argument("mapping", help="the mapping YAML")
    g.add_argument("--out", required=True, help="cohort folder to write, e.g. data/my-cohort")
    g.set_defaults(fn=_ingest)
    x = sub.add_parser("reproduce", help="check a run's input hashes and versions, rerun it and compare results.json "
                                         "(exit 0 only when identical apart from 'created')")
    x.add_argument("run_dir", help="the folder of a finished `rmstudy run`")
    x.add_argument("--cohort", help="the cohort folder to check and rerun (default: the one the run names)")
    x.add_argument("--out", help="keep the rerun's folder here (default: a scratch folder, deleted)")
    x.add_argument("--rerun-anyway", action="store_true", help="rerun even when an input's hash differs")
    from rmstudy.run.reproduce import cli as _reproduce     # light: the rerun's imports wait until it runs
    x.set_defaults(fn=_reproduce)
    m = sub.add_parser("pool", help="meta-analyse runs, published effects or a registry (docs/pooling.md)",
                       description="Pool the runs' (or published studies') effects per hypothesis: random-effects "
                                   "meta-analysis with heterogeneity, a prediction interval, leave-one-out and "
                                   "cumulative analyses; writes OUT/pooled.json, forest plots, an academic table "
                                   "and an HR-safe summary (OUT/hr/).")
    m.add_argument("run_dirs", nargs="*", metavar="RUN_DIR", help="run folders written by `rmstudy run`")
    m.add_argument("--effects", metavar="EFFECTS.csv", help="published effects: study, estimate, se[, hypothesis, year]")
    m.add_argument("--registry", metavar="REGISTRY.csv", help="a registry written by `rmstudy run --register`")
    m.add_argument("--out", required=True, help="folder for pooled.json and the summaries")
    m.add_argument("--method", choices=("REML", "DL", "FE"), default="REML", help="tau² estimator (default REML)")
    m.add_argument("--test", choices=("knha", "z"), help="test of the pooled effect (default knha, Knapp-Hartung; "
                   "z for FE); the other is reported beside it")
    m.add_argument("--match", choices=("id", "outcome"), default="id", help="pool by hypothesis id (default) or by "
                   "outcome and population")
    m.add_argument("--scale", choices=("auto", "raw", "d"), default="auto", help="survey effects in scale points "
                   "when the instruments match, else d_ppc2 (auto); or always one of them")
    m.add_argument("--pi-type", choices=("default", "riley"), default="default", help="prediction interval: the "
                   "test's distribution (metafor's default) or t with k-2 df")
    m.add_argument("--anonymity-threshold", type=int, metavar="K", help="for the HR summary, at least K people per "
                   "group (a run's own threshold applies when larger)")
    m.add_argument("--raw", nargs="+", metavar="COHORT_DIR", help="the cohort folders the runs analysed: adds the "
                   "pooled mixed model with a cohort random effect as a cross-check (docs/pooling.md)")
    m.set_defaults(fn=_pool)
    from rmstudy.planning.cli import add_parser as add_power_parser   # rmstudy power: handler in rmstudy.planning

    add_power_parser(sub)
    return p


def _say(message: str, code: int) -> int:
    print(f"rmstudy: {message}", file=sys.stderr)
    return code


def _exit_now(code: int) -> None:
    """End the process at once after a stopped run: a notebook thread still waiting on a kernel that was shut
    down must not keep it alive (the run has already cleaned up)."""
    import os

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv=None) -> int:
    """The ``rmstudy`` command. Run from the command line (``argv`` None), a command that stopped with an error
    ends the process at once once it has cleaned up and said so in one line: no thread left waiting on a stopped
    kernel keeps it alive, and no event loop of a stopped notebook client prints a traceback as it is collected.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``rmstudy`` (default: the command line's).

    Returns
    -------
    int
        The exit code (the epilog of ``rmstudy --help`` lists them: 0 done, 2 the cohort or the arguments, ...).

    Examples
    --------
    >>> main(["validate", "no/such/folder"])
    folder: the cohort cannot be analysed — 1 error(s)
    ...
      - folder: cohort folder not found — fix: pass the folder that holds participants.csv, ...
    ...
    2
    """
    code = _main(argv)
    if argv is None and code not in (0, 1):
        _exit_now(code)
    return code


def _main(argv=None) -> int:
    import errno
    import signal
    import threading

    a = _parser().parse_args(argv)
    from rmstudy.errors import CohortError
    from rmstudy.run.pipeline import NotebookFailed
    from rmstudy.run.rundir import OutputError, RunLocked

    where = f"; {a.out} is unchanged" if a.cmd == "run" else ""
    old_term = None
    if threading.current_thread() is threading.main_thread():
        old_term = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return a.fn(a)
    except CohortError as e:
        return _say(f"the cohort cannot be analysed.\n{e}", 2)
    except NotebookFailed as e:
        return _say(str(e), 3)
    except OutputError as e:
        return _say(str(e), 2 if e.usage else 4)
    except RunLocked as e:
        return _say(str(e), 5)
    except KeyboardInterrupt:
        return _say(f"interrupted (Ctrl-C){where}. Run the command again to start over", 130)
    except _Terminated:
        return _say(f"stopped (SIGTERM){where}", 143)
    except BrokenPipeError:                       # the reader went away (e.g. `rmstudy validate DIR | head`)
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())   # no second error when Python flushes
        return 1
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM):
            raise
        return _say(f"{e.strerror}: {e.filename}" if e.filename else str(e.strerror), 4)
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)


if __name__ == "__main__":
    sys.exit(main())
