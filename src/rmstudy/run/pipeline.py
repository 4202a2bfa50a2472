"""`rmstudy run`: execute the notebooks with papermill and build the reports, all or nothing.

The run is built in a folder beside ``--out`` and swapped in whole on success, under a lock on ``--out``
(:mod:`rmstudy.run.rundir`), so ``--out`` always holds one complete run or the previous one. In that folder:

1. the cohort's files are copied to ``inputs/<cohort>/`` and checked there (the same checks as ``rmstudy
   validate``); every notebook reads that copy, so what is hashed is what is analysed;
2. stage 1 runs the analysis notebooks, two at a time on shared kernels (:mod:`rmstudy.run.kernels`); each
   analysis runs in exactly one of them, and each records its results; the survey notebook, the longest, runs
   as :data:`~rmstudy.run.parts.PARTS` parts, each fitting its share of the hypotheses, merged back into one
   record and one executed notebook (:mod:`rmstudy.run.parts`); validation.json is written beside them;
3. results.json is assembled from the records;
4. stage 2 runs the report notebooks, which read results.json and never refit; the HR report goes to ``hr/``
   (HTML and PDF, nothing else), the academic report stays with the analyst's files;
5. a manifest lists every file of the run with its SHA-256, and the folder is swapped in.

Every path written into an output is relative to the working directory the run was started from, and names
``--out``, never the build folder.
"""

from __future__ import annotations

__all__ = ["run", "NotebookFailed", "STAGES", "REPORTS", "HR_DIR", "notebook_dir", "scrub_notebook", "clear_papermill_cwd"]

import errno
import functools
import json
import os
import re
import shutil
import threading
import uuid
import queue
from concurrent.futures import FIRST_EXCEPTION, Future, wait
from dataclasses import dataclass, field
from pathlib import Path

from rmstudy.checks.validate import validate
from rmstudy.contract.cohort import apply_run_exclusions
from rmstudy.contract.jsonio import write_json
from rmstudy.contract.provenance import environment, file_sha256
from rmstudy.errors import CohortError, Problem, RmstudyError
from rmstudy.results.assemble import assemble_results
from rmstudy.run.kernels import RESET_SOURCE, KernelPool
from rmstudy.run.parts import PARTS, merge_notebooks, merge_records, part_name
from rmstudy.run.rundir import RunFolder, output_error, snapshot_inputs
from rmstudy.run.shared_cohort import SHARED_NAME, release_memory, write_shared_cohort

#: each stage's notebooks, longest task first: 03 runs as PARTS parts (SPLIT), each about half as long as 02 at
#: 100,000 participants, so 02 starts first and the parts share the other kernel (and 02's when it is done);
#: with 02 the shorter, as in the demo, the order finishes no later than parts first
STAGES = (("02_psychometrics", "03_survey_hypotheses", "04_retention", "01_data_quality"),
          ("06_academic_report", "05_hr_report"))
#: seconds a failed stage gives its running notebooks to end once their kernels are stopped
_STOP_WAIT = 20
#: the notebooks run as several parts at once when the run has more than one kernel (a ``part`` parameter)
SPLIT = ("03_survey_hypotheses",)
#: the folder of the run that HR receives: its report (HTML, PDF) and that report's figures, nothing else
HR_DIR = "hr"
REPORTS = {"hr": f"{HR_DIR}/hr_report.html", "hr_pdf": f"{HR_DIR}/hr_report.pdf",
           "academic": "academic_report.html", "academic_pdf": "academic_report.pdf"}
#: errors inside a notebook that are the run folder's, not the notebook's (a full disk, a read-only disk)
_OUTPUT_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


class NotebookFailed(RmstudyError, RuntimeError):
    """A notebook raised; names the cell and where the partial executed notebook is (``notebook``: its path).

    Parameters
    ----------
    message : str
    notebook : str, optional
        The executed notebook's path, kept as ``notebook``.

    Examples
    --------
    >>> e = NotebookFailed("notebook 04_retention failed in cell 3", notebook="notebooks/04_retention.ipynb")
    >>> e.notebook, isinstance(e, RuntimeError)
    ('notebooks/04_retention.ipynb', True)
    """

    def __init__(self, message: str, notebook: str | None = None):
        super().__init__(message)
        self.notebook = notebook


def notebook_dir() -> Path:
    """The notebooks shipped inside the package (``rmstudy/notebooks``; the project's ``notebooks/`` links there).

    ``RMSTUDY_NOTEBOOKS`` names another folder (a researcher's edited copies).

    Returns
    -------
    Path

    Examples
    --------
    >>> import os
    >>> if "RMSTUDY_NOTEBOOKS" not in os.environ:
    ...     print(notebook_dir().name, (notebook_dir() / "01_data_quality.ipynb").is_file())
    ... else:
    ...     print("notebooks True")
    notebooks True
    """
    env = os.environ.get("RMSTUDY_NOTEBOOKS")
    if env:
        return Path(env)
    from importlib import resources

    return Path(str(resources.files("rmstudy").joinpath("notebooks")))


def _rel(p: Path) -> str:
    return os.path.relpath(Path(p).resolve(), Path.cwd())


@dataclass
class _Run:
    """What the steps of one run share."""

    nb_dir: Path
    build: Path                 # the folder that becomes --out
    scratch: Path               # deleted with the build folder
    params: dict                # what the notebooks are given: the input snapshot and the build folder
    pool: KernelPool
    rename: dict = field(default_factory=dict)   # build-folder name -> --out's name, in executed notebooks


def _with_reset(src: Path, tmp_dir: Path) -> Path:
    """A copy of the notebook whose first cell resets a reused kernel's namespace (removed again by the scrub)."""
    import nbformat

    nb = nbformat.read(src, as_version=4)
    cell = nbformat.v4.new_code_cell(RESET_SOURCE)
    cell.metadata["tags"] = ["rmstudy-reset"]
    cell["id"] = "rmstudy-reset"
    nb.cells.insert(0, cell)
    path = tmp_dir / src.name
    nbformat.write(nb, path)
    return path


def _failure(name: str, e, reset: bool, part: str = "") -> Exception:
    """The error to raise for a failed cell: an OSError when the notebook only met a full or read-only disk (the
    run folder's problem, reported as such), else :class:`NotebookFailed` naming the cell."""
    m = re.search(r"\[Errno (\d+)\] ([^:'\n]+)(?:: '([^'\n]*)')?", str(e.evalue or ""))
    if m and int(m.group(1)) in _OUTPUT_ERRNOS:
        return OSError(int(m.group(1)), m.group(2).strip(), m.group(3))
    first = (e.source or "").strip().splitlines()[:1]
    index = e.cell_index - 1 if reset else e.cell_index      # the reset cell is not in the saved notebook
    where = f"notebook {name} failed in cell {index} of the executed notebook" + (
        f"'s part {part.replace('/', ' of ')} (the cells under 'Part {part.replace('/', ' of ')}')" if part else "")
    return NotebookFailed(where + (f", starting `{first[0][:80]}`" if first else "") + f": {e.ename}: {e.evalue}",
                          notebook=f"notebooks/{name}.ipynb")


def _execute(name: str, ctx: _Run, km, reset: bool = False, part: str = "") -> Path:
    """Run notebook ``name`` (or its part ``part``, "k/n", written as its own executed notebook) on kernel ``km``."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    src = ctx.nb_dir / f"{name}.ipynb"
    dst = ctx.build / "notebooks" / f"{part_name(name, part)}.ipynb"
    params = {**ctx.params, "part": part} if part else ctx.params
    tmp = ctx.scratch / f"reset-{dst.stem}"      # each notebook its own folder: two threads run at once
    if reset:
        tmp.mkdir(parents=True, exist_ok=True)
        src = _with_reset(src, tmp)
    failure = None
    if ctx.pool.closed:                          # the run is stopping: never let papermill start a new kernel
        raise RuntimeError("the run is stopping")
    try:
        # absolute paths for papermill's own I/O: its local handler keeps a process-global cwd that concurrent
        # runs in threads can leave stale; the paths it records are rewritten to relative ones by the scrub
        pm.execute_notebook(str(src.resolve()), str(dst.resolve()), parameters=params, progress_bar=False,
                            log_output=False, kernel_name="python3", cwd=None, km=km)
    except PapermillExecutionError as e:
        failure = _failure(name, e, reset, part)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    # reached only when papermill itself wrote the notebook; a notebook it could not finish writing (a full
    # disk) raised above with its own error, which a half-written file's JSON error must not hide
    try:
        scrub_notebook(dst, ctx.rename)
    except (OSError, ValueError):
        if failure is None:
            raise
    if failure is not None:
        raise failure
    return dst


@functools.lru_cache(maxsize=None)
def _machine_prefixes() -> list[tuple[str, str]]:
    """Absolute folders of this machine that outputs may name, longest first, with what to show instead."""
    import sys
    import sysconfig

    import rmstudy

    places = {sysconfig.get_paths()["purelib"]: "<site-packages>", sysconfig.get_paths()["platlib"]: "<site-packages>",
              sys.prefix: "<python>", sys.base_prefix: "<python>",
              str(Path(rmstudy.__file__).resolve().parent): "<rmstudy>", str(Path.cwd()): ".",
              str(Path.home()): "~"}
    project = Path(rmstudy.__file__).resolve().parents[2]        # an editable install's project folder
    if (project / "pyproject.toml").is_file():
        places[str(project)] = "."
    return sorted(((k, v) for k, v in places.items() if k and k != "/"), key=lambda kv: -len(kv[0]))


def _unpath(value):
    """``value`` (a string or a list of strings, as nbformat stores text) with machine folders replaced."""
    if isinstance(value, list):
        return [_unpath(v) for v in value]
    if not isinstance(value, str):
        return value
    for prefix, shown in _machine_prefixes():
        value = value.replace(prefix, shown)
    return value


def scrub_notebook(path: Path, rename: dict | None = None) -> None:
    """Keep absolute machine paths out of an executed notebook: its metadata, and the outputs where warnings and
    tracebacks name the files they come from. ``rename`` maps the build folder's name to ``--out``'s, so the
    injected parameters and any printed path name the run folder the notebook ends up in.

    Parameters
    ----------
    path : Path
        The executed notebook, rewritten in place (the reset cell dropped, cells numbered from 1).
    rename : dict, optional

    Examples
    --------
    >>> import json, sys, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.ipynb"
    >>> out = {"output_type": "stream", "name": "stderr", "text": [sys.prefix + "/lib/x.py:1: Warning"]}
    >>> _ = p.write_text(json.dumps({"metadata": {}, "cells": [
    ...     {"cell_type": "code", "metadata": {"tags": ["rmstudy-reset"]}, "execution_count": 7, "outputs": []},
    ...     {"cell_type": "code", "metadata": {}, "execution_count": 8, "source": "out = '.run-build'",
    ...      "outputs": [out]}]}))
    >>> scrub_notebook(p, rename={".run-build": "run"})
    >>> [(c["execution_count"], c["source"], c["outputs"][0]["text"]) for c in json.loads(p.read_text())["cells"]]
    [(1, "out = 'run'", ['<python>/lib/x.py:1: Warning'])]
    """
    text = path.read_text(encoding="utf-8")
    for old, new in (rename or {}).items():
        text = text.replace(json.dumps(old)[1:-1], json.dumps(new)[1:-1])
    nb = json.loads(text)
    nb["cells"] = [c for c in nb.get("cells", []) if "rmstudy-reset" not in c.get("metadata", {}).get("tags", [])]
    meta = nb.get("metadata", {}).get("papermill", {})
    if meta.get("input_path"):
        meta["input_path"] = f"notebooks/{Path(meta['input_path']).name}"   # where it lives in the project
    if meta.get("output_path"):
        meta["output_path"] = f"notebooks/{Path(meta['output_path']).name}"  # relative to the run folder
    count = 0                      # a shared kernel keeps counting: number the cells as a fresh kernel would
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and cell.get("execution_count") is not None:
            count += 1
            cell["execution_count"] = count
            for o in cell.get("outputs", []):
                if "execution_count" in o:
                    o["execution_count"] = count
        for o in cell.get("outputs", []):          # warnings and tracebacks print the files they come from
            for key in ("text", "traceback"):
                if key in o:
                    o[key] = _unpath(o[key])
            for mime, value in (o.get("data") or {}).items():
                if mime.startswith("text/"):
                    o["data"][mime] = _unpath(value)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _warm_exporters() -> None:
    """Import the report writers while a core is free (the end of the analysis stage)."""
    try:
        import weasyprint  # noqa: F401

        import rmstudy.report.hr  # noqa: F401
    except Exception:  # a failing import fails again, with its message, where it is used
        pass


def _stage(names, ctx: _Run, bar, after=None, when_one_left=None, side=()) -> None:
    """Run notebooks on the pool's kernels, longest first; ``after[name]`` runs when that notebook is done;
    ``when_one_left`` runs (in a thread) once fewer notebooks remain than there are kernels; each of ``side``
    (a function that needs no kernel) runs in a thread of its own beside the notebooks.

    On any error (a failed notebook, Ctrl-C) the notebooks not started are cancelled and the kernels are stopped,
    so one still running ends at once; the notebook threads are given a moment to finish, and a side job that has
    started is waited for (it writes a file of the run, such as validation.json, which is kept in ``OUT.failed``
    or removed with the build folder: it must not go on writing into a folder being moved), before the error goes
    on."""
    after = after or {}
    pool = ctx.pool

    def job(name, part):
        km, used = pool.acquire()
        try:
            _execute(name, ctx, km, reset=used, part=part)
        finally:
            pool.release(km)
        if name in after:
            after[name]()
        return part_name(name, part)

    jobs = [functools.partial(job, n, p) for n, p in _tasks(names, len(pool))]
    # side jobs on threads of their own: a thread free after one would take the next notebook and wait for a
    # kernel, which the notebook threads, re-acquiring theirs at once, need not hand over (a part ran last, 8 s late)
    sides = _start_daemon_jobs(list(side), len(side))
    notebooks = _start_daemon_jobs(jobs, len(pool))
    futures = sides + notebooks
    try:
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for f in done:
                if f.exception() is not None:
                    raise f.exception()
                bar.update(1)
                bar.set_postfix_str(f.result())
            if when_one_left is not None and len(pending.intersection(notebooks)) < len(pool):
                threading.Thread(target=when_one_left, daemon=True).start()
                when_one_left = None
    except BaseException:
        for f in futures:
            f.cancel()
        with _quiet("papermill", "traitlets", "nbclient"):     # kernels stopped on purpose: no error logged
            pool.shutdown()
            wait(notebooks, timeout=_STOP_WAIT)
            wait(sides)              # bounded work (a file written); a second Ctrl-C still interrupts it
        raise
    finally:
        for f in futures:
            f.cancel()


def _tasks(names, kernels: int) -> list[tuple[str, str]]:
    """``(notebook, part)`` for each notebook run: with more than one kernel, each notebook of :data:`SPLIT` as
    :data:`~rmstudy.run.parts.PARTS` parts ("k/n"), one after another in the queue; any other, whole ("")."""
    return [(n, f"{k}/{PARTS}" if n in SPLIT and kernels > 1 else "")
            for n in names for k in range(1, (PARTS if n in SPLIT and kernels > 1 else 1) + 1)]


def _merge_parts(build: Path, study, complete: bool = True) -> None:
    """Put each split notebook back together: one record (the plan's order) and one executed notebook. A failed
    run (``complete`` false) merges only the executed notebooks there are, so its message names one file."""
    for name in SPLIT:
        if complete and (build / "records" / f"{part_name(name, f'1/{PARTS}')}.json").is_file():
            merge_records(build, name, study)
        if any((build / "notebooks").glob(f"{name}.part*of{PARTS}.ipynb")):
            merge_notebooks(build / "notebooks", name)


def _start_daemon_jobs(jobs, workers: int) -> list[Future]:
    """Run ``jobs`` (callables) on ``workers`` daemon threads; one Future per job, in order.

    Not a ThreadPoolExecutor: its threads are joined when the interpreter exits, so one left waiting on a
    kernel that was stopped would keep the process (a test session, a notebook server) alive for ever.
    A daemon thread never does; a job not started when its Future is cancelled is skipped."""
    todo: queue.SimpleQueue = queue.SimpleQueue()
    futures = [Future() for _ in jobs]
    for pair in zip(jobs, futures):
        todo.put(pair)

    def worker():
        while True:
            try:
                fn, fut = todo.get_nowait()
            except queue.Empty:
                return
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn())
            except BaseException as e:   # handed to the waiting thread, which raises it
                fut.set_exception(e)

    for i in range(max(1, min(workers, len(futures)))):
        threading.Thread(target=worker, daemon=True, name=f"rmstudy-stage-{i}").start()
    return futures


class _quiet:
    """Silence some loggers for a while (the clients of kernels being stopped log errors as they lose them)."""

    def __init__(self, *names: str):
        import logging

        self.loggers = [logging.getLogger(n) for n in names]

    def __enter__(self):
        self.levels = [lg.level for lg in self.loggers]
        for lg in self.loggers:
            lg.setLevel(100)
        return self

    def __exit__(self, *exc):
        for lg, level in zip(self.loggers, self.levels):
            lg.setLevel(level)


def _write_manifest(build: Path, cohort, shown: dict, results: dict) -> dict:
    """manifest.json, written last: every other file of the run with its SHA-256, and the run's identity."""
    outputs = {p.relative_to(build).as_posix(): file_sha256(p)
               for p in sorted(build.rglob("*")) if p.is_file() and p.relative_to(build).as_posix() != "manifest.json"}
    manifest = {"run_id": uuid.uuid4().hex, "created": results["created"], "cohort": cohort.name,
                "cohort_dir": shown["cohort_dir"], "out_dir": shown["out_dir"],
                "command": f"rmstudy run {shown['cohort_dir']} --out {shown['out_dir']}",
                "inputs": results["inputs"], "plan_sha256": results["plan_sha256"], "parameters": shown,
                "environment": environment(), "outputs": outputs}
    write_json(manifest, build / "manifest.json")
    return manifest


def _academic_export(ctx: _Run, title: str):
    """Once notebook 06 has run: the academic report as offline HTML and an A4 PDF (analyst's part)."""
    def export():
        from rmstudy.report.academic_export import export_academic

        export_academic(ctx.build / "notebooks" / "06_academic_report.ipynb", ctx.build / REPORTS["academic"],
                        ctx.build / REPORTS["academic_pdf"], f"Academic report: {title}")
    return export


def _validation_json(report, build: Path):
    """validate's findings and row ledger as ``build/validation.json`` (a job for :func:`_stage`'s ``side``)."""
    def write():
        report.to_json(build / "validation.json")
        return "validation.json"
    return write


def _hr_folder(ctx: _Run, snap: Path):
    """The HR deliverable, from results.json, the plan and the codebook: ``hr/`` (HTML, PDF, figures only)."""
    def write():
        from rmstudy.report.hr import write_hr_folder

        write_hr_folder(ctx.build, snap)
        return HR_DIR
    return write


def _plan_only(cohort):
    """The loaded cohort without its tables: assembling results.json needs only its plan, root and name, and at
    100,000 participants the tables and the validation report hold most of a gigabyte in this process while the
    kernels load their own copies."""
    import dataclasses

    # copies: an empty slice is a view whose arrays keep the whole tables alive (about 130 MB at 100,000)
    return dataclasses.replace(cohort, participants=cohort.participants.iloc[:0].copy(),
                               responses=cohort.responses.iloc[:0].copy(), employment=None, excluded_responses=None)


def _build(rf: RunFolder, cohort_dir: Path, out_dir: Path, pool: KernelPool, progress: bool,
           created: str | None, checks: dict | None = None) -> dict:
    """Everything of a run inside the build folder; returns results.json's mapping."""
    from tqdm.auto import tqdm

    build = rf.build
    snap = snapshot_inputs(cohort_dir, build)
    # the same checks and messages as `rmstudy validate`; an invalid cohort is refused before any notebook runs
    report = validate(snap)
    if not report.ok:
        raise CohortError([Problem(f.file, f.message, f.fix, row=f.row, column=f.column) for f in report.errors])
    (build / "notebooks").mkdir(parents=True, exist_ok=True)
    if checks is not None:                        # what the CLI prints, without reading 150 MB of JSON back
        checks.update(report.summary_for_cli())
    by_check = report.warnings_by_check()         # results.json flow.checks
    # the notebooks read the cohort loaded here, not the CSVs again (run/shared_cohort.py); deleted before the manifest
    # in the scratch folder, which every exit path removes (a failed run kept it in OUT.failed)
    shared = write_shared_cohort(apply_run_exclusions(report.loaded), rf.scratch / SHARED_NAME)
    cohort = _plan_only(report.loaded)
    report.loaded = None                          # the notebooks read the shared file: free the tables here
    release_memory()
    shown = {"cohort_dir": _rel(cohort_dir), "out_dir": _rel(out_dir)}        # what results and manifest record
    ctx = _Run(nb_dir=notebook_dir(), build=build, scratch=rf.scratch, pool=pool,
               params={"cohort_dir": _rel(snap), "out_dir": _rel(build), "cohort_cache": _rel(shared)},
               rename={_rel(shared): "", f"{rf.root.name}/{build.name}": rf.name})   # the cache is gone after
    steps = sum(len(_tasks(s, len(pool))) for s in STAGES) + 2           # + validation.json and the HR folder
    with tqdm(total=steps, desc="rmstudy run", unit="step", disable=not progress) as bar:
        # validation.json (exclusions, warnings and the row ledger of this run's input; 150 MB at 100,000) is
        # written beside the analysis notebooks, which do not read it, and is complete before results.json
        _stage(STAGES[0], ctx, bar, when_one_left=_warm_exporters, side=[_validation_json(report, build)])
        del report
        _merge_parts(build, cohort.study)
        results = assemble_results(build, cohort, parameters=shown, created=created, checks=by_check)
        _stage(STAGES[1], ctx, bar, after={"06_academic_report": _academic_export(ctx, cohort.study.name)},
               side=[_hr_folder(ctx, snap)])
    pool.shutdown()
    shared.unlink(missing_ok=True)
    _write_manifest(build, cohort, shown, results)
    return results


def clear_papermill_cwd() -> None:
    """Forget the working folder papermill's local file handler keeps for the whole process.

    papermill sets it around each ``execute_notebook`` and puts the previous value back afterwards; two notebooks
    run in threads at once can leave a stale folder behind, and every later read chdirs into it. A run started
    after ``rmstudy reproduce`` deleted its scratch folder then failed with 'No such file or directory while
    reading <scratch>'. All our papermill paths are absolute, so no working folder is needed."""
    from papermill.iorw import papermill_io

    papermill_io.get_handler("local").cwd(None)


def run(cohort_dir: str | Path, out_dir: str | Path, parallel: bool = True, progress: bool = True,
        created: str | None = None, checks: dict | None = None) -> dict:
    """Validate the cohort, execute every notebook and write the reports into ``out_dir``, all or nothing.

    Returns the results.json mapping. Raises :class:`~rmstudy.errors.CohortError` for an invalid cohort (before
    any notebook runs), :class:`NotebookFailed` when a notebook fails (the partial run is kept beside ``out_dir``
    as ``<out_dir>.failed``, named in the message), :class:`~rmstudy.run.rundir.RunLocked` when another run is
    writing ``out_dir`` and :class:`~rmstudy.run.rundir.OutputError` when the run folder cannot be written (a
    full disk, a read-only folder, a file in the way). In every one of these cases, and on Ctrl-C, ``out_dir``
    is left as it was.

    Parameters
    ----------
    cohort_dir, out_dir : str or Path
        The cohort folder, and the run folder to (re)place.
    parallel : bool
        Two kernels (default) or one.
    progress : bool
        Show a progress bar.
    created : str, optional
        The timestamp recorded in results.json (default: now).
    checks : dict, optional
        Filled with ``exclusions`` (their count) and ``warnings`` (``check``, ``file``, ``message`` of each), as
        validation.json records them.

    Returns
    -------
    dict
        The results.json mapping.
    """
    cohort_dir, out_dir = Path(cohort_dir), Path(out_dir)
    clear_papermill_cwd()
    try:
        with RunFolder(out_dir) as rf:
            pool = KernelPool(2 if parallel else 1, rf.scratch)  # kernels boot while the inputs are copied and checked
            try:
                results = _build(rf, cohort_dir, out_dir, pool, progress, created, checks)
            except NotebookFailed as e:
                pool.shutdown()
                try:
                    _merge_parts(rf.build, None, complete=False)
                except (OSError, ValueError):      # a part cut off mid-write: the parts stay as they are
                    pass
                kept = rf.keep_failed()
                raise NotebookFailed(f"{e}\nThe partial executed notebook is at {_rel(kept / e.notebook)} (the "
                                     f"unfinished run is kept in {_rel(kept)}; {_rel(out_dir)} is unchanged)",
                                     notebook=str(kept / e.notebook)) from None
            finally:
                pool.shutdown()
            rf.commit()
    except OSError as e:
        raise output_error(e, out_dir) from None
    return results
