"""`rmstudy run`: execute the notebooks with papermill and build the reports.

Stage 1 runs the analysis notebooks in parallel (each analysis runs in exactly
one of them, and each records its results); results.json is then assembled;
stage 2 runs the report notebooks, which read results.json and never refit;
finally the two reports are exported to HTML without code or the injected
parameters, and a manifest is written. Every path written into an output is
relative to the working directory the run was started from.
"""

from __future__ import annotations

__all__ = ["run", "NotebookFailed", "STAGES", "export_html", "notebook_dir"]

import functools
import json
import os
import shutil
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path

from rmstudy.errors import CohortError, Problem, RmstudyError
from rmstudy.checks.validate import validate
from rmstudy.contract.provenance import environment
from rmstudy.results.assemble import _dump, assemble_results

STAGES = (("02_psychometrics", "03_survey_hypotheses", "04_retention", "01_data_quality"),   # longest first
          ("05_hr_report", "06_academic_report"))
REPORTS = {"05_hr_report": "hr_report.html", "06_academic_report": "academic_report.html"}


class NotebookFailed(RmstudyError, RuntimeError):
    """A notebook raised; names the cell and where the partial executed notebook is."""


def notebook_dir() -> Path:
    """The notebooks shipped inside the package (``rmstudy/notebooks``; the project's ``notebooks/`` links there).

    ``RMSTUDY_NOTEBOOKS`` names another folder (a researcher's edited copies)."""
    env = os.environ.get("RMSTUDY_NOTEBOOKS")
    if env:
        return Path(env)
    from importlib import resources

    return Path(str(resources.files("rmstudy").joinpath("notebooks")))


def _rel(p: Path) -> str:
    return os.path.relpath(Path(p).resolve(), Path.cwd())


_KERNEL_ARGS = ["--IPKernelApp.log_level=ERROR"]   # no TCP-encryption chatter on stderr
_RESET = ("get_ipython().run_line_magic('reset', '-f')\n"
          "import sys as _s\n"
          "_s.modules.get('matplotlib.pyplot') and _s.modules['matplotlib.pyplot'].close('all')\n"
          "del _s\n")


class _KernelPool:
    """A few long-lived kernels shared by the notebooks of one run.

    Each kernel imports pandas, statsmodels and matplotlib once; between notebooks
    its user namespace is reset (``%reset -f``) and open figures are closed, so each
    notebook still starts from an empty namespace, as it does when run by hand.
    """

    def __init__(self, n: int):
        import queue

        from jupyter_client import KernelManager

        self._free: "queue.Queue" = queue.Queue()
        self._all = []
        for _ in range(n):
            km = KernelManager(kernel_name="python3")
            # every notebook needs these: load them while the cohort is being checked
            km.start_kernel(extra_arguments=_KERNEL_ARGS + [
                "--IPKernelApp.exec_lines=['import importlib as _i; [_i.import_module(m) for m in (\"pandas\", "
                "\"scipy.stats\", \"matplotlib.pyplot\", \"rmstudy.contract.cohort\")]; del _i']"])   # no names left behind
            km.rmstudy_used = False
            self._all.append(km)
            self._free.put(km)

    def acquire(self):
        """A kernel, and whether the notebook run on it must first reset its namespace."""
        km = self._free.get()
        used, km.rmstudy_used = km.rmstudy_used, True
        return km, used

    def __len__(self) -> int:
        return len(self._all)

    def release(self, km) -> None:
        self._free.put(km)

    def shutdown(self) -> None:
        import threading

        def stop(km):
            try:
                km.shutdown_kernel(now=True)
            except Exception:  # a kernel that already died needs no shutdown
                pass

        threads = [threading.Thread(target=stop, args=(km,)) for km in self._all]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)


def _with_reset(src: Path, tmp_dir: Path) -> Path:
    """A copy of the notebook whose first cell resets a reused kernel's namespace (removed again by _scrub)."""
    import nbformat

    nb = nbformat.read(src, as_version=4)
    cell = nbformat.v4.new_code_cell(_RESET)
    cell.metadata["tags"] = ["rmstudy-reset"]
    cell["id"] = "rmstudy-reset"
    nb.cells.insert(0, cell)
    path = tmp_dir / src.name
    nbformat.write(nb, path)
    return path


def _execute(name: str, nb_dir: Path, out_dir: Path, params: dict, km=None, reset: bool = False) -> Path:
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    src = nb_dir / f"{name}.ipynb"
    dst = out_dir / "notebooks" / f"{name}.ipynb"
    if reset:                                   # each notebook its own folder: two threads run at once
        import tempfile

        tmp = Path(tempfile.mkdtemp(prefix=f"rmstudy-{name}-"))
        src = _with_reset(src, tmp)
    try:
        # absolute paths for papermill's own I/O: its local handler keeps a process-global cwd that concurrent
        # runs in threads can leave stale; the paths it records are rewritten to relative ones by _scrub
        kw = {"km": km} if km is not None else {"extra_arguments": _KERNEL_ARGS}
        pm.execute_notebook(str(src.resolve()), str(dst.resolve()), parameters=params, progress_bar=False,
                            log_output=False, kernel_name="python3", cwd=None, **kw)
    except PapermillExecutionError as e:
        first = (e.source or "").strip().splitlines()[:1]
        index = e.cell_index - 1 if reset else e.cell_index      # the reset cell is not in the saved notebook
        raise NotebookFailed(
            f"notebook {name} failed in cell {index} of the executed notebook"
            + (f", starting `{first[0][:80]}`" if first else "") + f": {e.ename}: {e.evalue}\n"
            f"The partial executed notebook is at {_rel(dst)}") from None
    finally:
        if dst.exists():
            _scrub(dst)
        if reset:
            shutil.rmtree(tmp, ignore_errors=True)
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


def _scrub(path: Path) -> None:
    """Keep absolute machine paths out of the executed notebook: its metadata, and the outputs where warnings and
    tracebacks name the files they come from."""
    nb = json.loads(path.read_text(encoding="utf-8"))
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


def export_html(executed: Path, dest: Path, title: str) -> Path:
    """Export an executed report notebook to self-contained HTML with no code,
    no prompts and no parameters / injected-parameters cell."""
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    nb = nbformat.read(executed, as_version=4)
    tags = TagRemovePreprocessor(remove_cell_tags={"parameters", "injected-parameters", "remove-cell"})
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    exporter.register_preprocessor(tags, enabled=True)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    dest.write_text(body, encoding="utf-8")
    return dest


PDF_CSS = """
@page { size: A4; margin: 16mm 14mm; @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; } }
body { font-size: 10pt; }
img { max-width: 100%; break-inside: avoid; }
h1, h2, h3 { break-after: avoid; }
table, .jp-OutputArea-output { break-inside: avoid; }
"""


def export_pdf(html: Path, dest: Path) -> Path:
    """Print the HR report's HTML to an A4 PDF with weasyprint."""
    import weasyprint

    weasyprint.HTML(filename=str(html)).write_pdf(str(dest), stylesheets=[weasyprint.CSS(string=PDF_CSS)])
    return dest


def _warm_exporters() -> None:
    """Import the report exporters while a core is free (the end of the analysis stage)."""
    try:
        import nbconvert  # noqa: F401
        import weasyprint  # noqa: F401
    except Exception:  # a failing import fails again, with its message, where it is used
        pass


def _stage(names, nb_dir, out_dir, params, pool, bar, after=None, when_one_left=None):
    """Run notebooks on the pool's kernels, longest first; ``after[name]`` runs when that notebook is done;
    ``when_one_left`` runs (in a thread) once fewer notebooks remain than there are kernels."""
    after = after or {}

    def job(name):
        km, used = pool.acquire()
        try:
            _execute(name, nb_dir, out_dir, params, km=km, reset=used)
        finally:
            pool.release(km)
        if name in after:
            after[name]()
        return name

    with ThreadPoolExecutor(max_workers=len(pool)) as ex:
        futures = [ex.submit(job, n) for n in names]
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for f in done:
                exc = f.exception()
                if exc is not None:
                    for p in pending:
                        p.cancel()
                    raise exc
                bar.update(1)
                bar.set_postfix_str(f.result())
            if when_one_left is not None and len(pending) < len(pool):
                import threading

                threading.Thread(target=when_one_left, daemon=True).start()
                when_one_left = None


def run(cohort_dir: str | Path, out_dir: str | Path, parallel: bool = True, progress: bool = True,
        created: str | None = None) -> dict:
    """Validate the cohort, execute every notebook and write the reports.

    Returns the results.json mapping. Raises :class:`~rmstudy.errors.CohortError`
    for an invalid cohort (before any notebook runs) and :class:`NotebookFailed`
    when a notebook fails.
    """
    from tqdm.auto import tqdm

    cohort_dir, out_dir = Path(cohort_dir), Path(out_dir)
    nb_dir = notebook_dir()
    pool = _KernelPool(2 if parallel else 1)  # kernels boot while the cohort is checked
    try:
        # the same checks and messages as `rmstudy validate`; an invalid cohort is refused before any notebook runs
        report = validate(cohort_dir)
        if not report.ok:
            raise CohortError([Problem(f.file, f.message, f.fix, row=f.row, column=f.column) for f in report.errors])
        cohort = report.loaded
    except BaseException:
        pool.shutdown()
        raise
    for sub in ("records", "notebooks", "figures"):
        shutil.rmtree(out_dir / sub, ignore_errors=True)   # no stale results from an earlier run
    (out_dir / "notebooks").mkdir(parents=True, exist_ok=True)
    report.to_json(out_dir / "validation.json")     # exclusions, warnings and the row ledger of this run's input
    params = {"cohort_dir": _rel(cohort_dir), "out_dir": _rel(out_dir)}
    total = sum(len(s) for s in STAGES)
    def hr_outputs():
        export_html(out_dir / "notebooks" / "05_hr_report.ipynb", out_dir / REPORTS["05_hr_report"],
                    f"HR report: {cohort.study.name}")
        export_pdf(out_dir / REPORTS["05_hr_report"], out_dir / "hr_report.pdf")

    def academic_outputs():     # offline HTML of our own (no CDN scripts) and an A4 PDF with bookmarks
        from rmstudy.report.academic_export import export_academic

        export_academic(out_dir / "notebooks" / "06_academic_report.ipynb", out_dir / REPORTS["06_academic_report"],
                        out_dir / "academic_report.pdf", f"Academic report: {cohort.study.name}")

    try:
        with tqdm(total=total, desc="rmstudy run", unit="notebook", disable=not progress) as bar:
            _stage(STAGES[0], nb_dir, out_dir, params, pool, bar, when_one_left=_warm_exporters)
            results = assemble_results(out_dir, cohort, parameters=params, created=created)
            _stage(STAGES[1], nb_dir, out_dir, params, pool, bar,
                   after={"05_hr_report": hr_outputs, "06_academic_report": academic_outputs})
    finally:
        pool.shutdown()
    manifest = {"cohort": cohort.name, "cohort_dir": params["cohort_dir"], "out_dir": params["out_dir"],
                "command": f"rmstudy run {params['cohort_dir']} --out {params['out_dir']}",
                "inputs": results["inputs"], "plan_sha256": results["plan_sha256"], "parameters": params,
                "environment": environment(), "outputs": sorted(
                    str(p.relative_to(out_dir)) for p in out_dir.rglob("*") if p.is_file() and p.name != "manifest.json")}
    _dump(manifest, out_dir / "manifest.json")
    return results
