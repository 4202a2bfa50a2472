"""The docstrings: numpydoc sections on the public names, and ``Examples`` that run and give what they say (as
pingouin's and lifelines' do).

* Every module of the two bottom layers (``rmstudy.contract``, ``rmstudy.stats``), the errors, the typed result rows,
  the data-quality helpers and every module of ``EXAMPLE_MODULES`` is doctest-run; the examples use tiny tables, the
  numbers they show, or the demo cohort.
* A checker over the source (:func:`docstring_gaps`) requires of every public function and class (the names of a
  module's ``__all__``, else those without a leading ``_``) of the covered modules a docstring with a ``Parameters``
  section when it takes arguments (``Parameters`` or ``Attributes`` for a class built with arguments), ``Returns`` (or
  ``Yields``) when it returns a value, and, in ``EXAMPLE_MODULES``, an ``Examples`` section with a runnable example
  (``NO_EXAMPLE`` lists, with reasons, the names that cannot have a meaningful one). Methods are not checked.
"""

import ast
import doctest
import importlib
import re
import sys

import pytest

from conftest import ROOT

SRC = ROOT / "src" / "rmstudy"
PACKAGES = ("contract", "stats")
EXTRA = ("rmstudy.errors", "rmstudy.analysis.rows", "rmstudy.checks.quality", "rmstudy.analysis.hypotheses")

#: modules whose public functions and classes carry a numpydoc docstring: a ``Parameters`` section when they take
#: arguments, ``Returns`` when they return a value, and (for the first group) an ``Examples`` section that runs
EXAMPLE_MODULES = (
    "contract.codebook", "contract.coding", "contract.cohort", "contract.csvio", "contract.paths",
    "contract.population", "contract.provenance", "contract.rows", "contract.table_schemas", "contract.yamlio",
    "contract.cells",
    "stats.scoring", "stats.effects", "stats.multiplicity", "stats.decisions", "stats.meta",
    "stats.models.mixed", "stats.models.nested", "stats.models.survival",
    "stats.tipping", "stats.sensitivity", "stats.moderation", "stats.models.mmrm", "stats.reliability",
    "report.narrative",
    "checks.validate", "checks.quality",
    "ingest.values", "ingest.identifiers", "ingest.key", "ingest.report",
    "report.privacy", "report.escape", "report.tables",
    "contract.jsonio", "stats.invariance", "results.assemble", "cli",
    "report.academic_format", "report.academic_refs", "report.academic_invariance", "report.academic_export",
    "report.academic_figures", "report.hr_findings",
    "report.academic", "report.academic_sections", "report.academic_tables", "report.academic_baseline",
    "report.academic_results", "report.hr_rules",
    "errors", "contract.study", "contract.design",
    "checks.design", "analysis.hypotheses", "analysis.moderators", "analysis.rows",
    "simulate.cohort", "simulate.humility",
    "pool.sources", "pool.compare", "pool.core", "pool.registry", "pool.outputs",
    "run.parts", "run.pipeline", "run.reproduce", "run.rundir", "run.shared_cohort",
    "planning.analytic", "planning.cli", "planning.cox", "planning.draws", "planning.engine", "planning.fastlmm",
    "planning.figures", "planning.from_run", "planning.output", "planning.search", "planning.spec",
)
#: numpydoc sections required, examples not: these read a whole export, a workbook or a mapping from disk, or draw
#: and export figures and PDFs (their tests run them on the fixtures)
NUMPYDOC_MODULES = (
    "ingest.columns", "ingest.core", "ingest.hr", "ingest.layout", "ingest.mapping", "ingest.output",
    "ingest.read_csv", "ingest.read_xlsx", "ingest.surveys", "ingest.table",
    "report.figures", "report.export", "ingest.fields",
    "analysis.measurement",         # take a loaded cohort (plan, codebook, every answer) and fit CFAs per scale
    "pool.command",                 # the CLI handlers of `rmstudy pool` and `run --register` (tests/test_pool.py)
    "pool.lmm",                     # load and score whole raw cohorts and fit the pooled mixed model
    "run.kernels",                  # KernelPool starts Jupyter kernels (tests/test_pipeline.py runs them)
    "report.hr",                    # builds, renders and writes the whole HR report of a run
                                    # (tests/test_hr_report.py); its rules' examples: hr_rules, hr_findings
)
#: public names of the example modules without a runnable example, and why
NO_EXAMPLE = {
    "run.pipeline.run": "executes every notebook on Jupyter kernels: a whole run (tests/test_pipeline.py)",
    "run.pipeline.clear_papermill_cwd": "resets papermill's process-wide working folder: nothing to show",
    "run.reproduce.reproduce": "reruns a whole run (tests/test_academic_report.py)",
    "run.reproduce.rerun_in_scratch": "the same",
    "run.reproduce.cli": "the same, from parsed arguments",
    "run.shared_cohort.write_shared_cohort": "needs a loaded cohort; shared_cohort's example writes one and reads it back",
    "pool.sources.read_run": "reads a whole run folder (results.json, and the cohort's plan and codebook found by "
                             "hash); tests/test_pool.py runs it on real runs",
    "pool.sources.locate_materials": "looks for a run's study.yaml and codebook.yaml on disk by hash (tests/test_pool.py)",
    "pool.compare.group_effects": "69 lines of code: no room for an example under the 80-line rule; pool_effects' "
                                  "example groups effects through it, tests/test_pool.py checks every exclusion",
    "pool.registry.read_registry": "80 lines with its sections; register_run's example reads a registry back with it",
    "pool.outputs.plot_forest": "draws a forest plot (tests/test_pool.py draws them)",
    "pool.outputs.render_hr": "draws every shown question's forest plot into the page (tests/test_pool.py)",
    "pool.outputs.render_academic": "draws every hypothesis' forest plot into the page (tests/test_pool.py)",
    "pool.outputs.write_outputs": "draws and writes the figures and pages (tests/test_pool.py)",
    "analysis.hypotheses.analyse_survey": "runs the sensitivity analyses and the tipping-point MI (1.6 s on 8 "
                                          "people); tests/test_analysis.py runs it",
    "analysis.hypotheses.SurveyAnalysis": "analyse_survey's result (the same)",
    "analysis.hypotheses.RetentionAnalysis": "analyse_retention's result: its example builds one",
    "simulate.cohort.write_demo": "writes a cohort folder and truth.json to disk; simulate_cohort's example draws "
                                   "the tables it writes (tests/test_simulate.py writes one)",
    "report.tables.show": "displays HTML in a notebook through IPython; the HTML is pandas' own to_html",
    "results.assemble.assemble_results": "needs a loaded cohort and every notebook's records (tests/test_faults.py runs it)",
    "report.academic_figures.flow_diagram": "77 lines of drawing code: no room for an example (or spaced sections) "
                                            "under the 80-line rule until it is split; tests/test_academic_report.py "
                                            "draw it",
    "report.hr_findings.survey_finding": "draws the question's chart from a whole survey row, its codebook scale and the "
                                         "plan (tests/test_hr_report.py runs it on the demo's results)",
    "report.academic.section_flow": "draws the flow diagram from results.json's whole flow block "
                                    "(tests/test_academic_report.py checks it against results.json)",
    "report.academic.section_results": "draws each hypothesis' means figure from whole result rows, models and cell "
                                       "means (tests/test_academic_report.py)",
    "report.academic_sections.section_retention": "needs a whole retention block (Cox, KM, zph, incidence) of "
                                                  "results.json (tests/test_academic_report.py)",
    "report.academic_baseline.population_baselines": "needs a loaded cohort and its scores "
                                                     "(tests/test_academic_report.py runs it on the demo)",
    "stats.sensitivity.sensitivity_analyses": "needs a plan hypothesis and its primary model's result, and fits 5-8 "
                                              "models (tests/test_sensitivity.py runs it)",
}
#: modules (or module prefixes) the rule does not cover yet, and why (issue #16's follow-up)
NOT_YET = {
}


def _modules():
    names = []
    for pkg in PACKAGES:
        for p in sorted((SRC / pkg).rglob("*.py")):
            parts = p.relative_to(SRC).with_suffix("").parts
            names.append(".".join(("rmstudy",) + (parts[:-1] if parts[-1] == "__init__" else parts)))
    more = [f"rmstudy.{m}" for m in EXAMPLE_MODULES]
    return names + [m for m in dict.fromkeys(list(EXTRA) + more) if m not in names]


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name, monkeypatch):
    monkeypatch.chdir(ROOT)                       # examples name the demo cohort as data/demo
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} fail (python -m doctest)"


def test_the_public_functions_of_the_bottom_layers_show_an_example():
    """The functions a researcher calls first carry a runnable example (the rest: issue #16's follow-up)."""
    wanted = {
        "rmstudy.contract.rows": ["spreadsheet_row", "data_index"],
        "rmstudy.contract.population": ["select_population", "population_mask", "unmatched_values", "near_misses"],
        "rmstudy.contract.coding": ["arm_indicator", "covariate_columns"],
        "rmstudy.contract.jsonio": ["to_jsonable", "write_json"],
        "rmstudy.contract.cohort": ["load_cohort"],
        "rmstudy.contract.study": ["parse_study"],
        "rmstudy.stats.effects": ["d_ppc2", "pooled_baseline_sd", "hedges_correction", "d_per_raw", "sesoi_bound"],
        "rmstudy.stats.decisions": ["decide", "finalise_hypotheses"],
        "rmstudy.stats.multiplicity": ["holm", "benjamini_hochberg"],
        "rmstudy.stats.scoring": ["reverse_key", "score_scales"],
        "rmstudy.stats.reliability": ["cronbach_alpha"],
        "rmstudy.stats.models.mixed": ["mixed_model"],
    }
    bare = [f"{m}.{f}" for m, fs in wanted.items() for f in fs
            if ">>>" not in (getattr(importlib.import_module(m), f).__doc__ or "")]
    assert not bare, f"no runnable example: {bare}"


# ------------------------------------------------------------------ the numpydoc rule (issue #16), checked over the source

_SECTION = {s: re.compile(rf"^\s*{s}\n\s*-{{3,}}\s*$", re.M) for s in ("Parameters", "Attributes", "Returns",
                                                                        "Yields", "Examples")}


def _public(tree: ast.Module):
    """The module's public top-level functions and classes: the names of its ``__all__``, else those without ``_``."""
    listed = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            elts = getattr(node.value, "elts", [])
            if all(isinstance(e, ast.Constant) for e in elts):      # else (``[*OTHER, ...]``): the naming rule
                listed = {e.value for e in elts}
    return [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))
            and (n.name in listed if listed is not None else not n.name.startswith("_"))]


def _own_nodes(fn: ast.FunctionDef):
    """The nodes of a function's body, not those of the functions and classes defined inside it."""
    todo = list(fn.body)
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))


def _init_arguments(node: ast.ClassDef) -> bool:
    """A class built with arguments: a dataclass with fields, or an ``__init__`` taking more than ``self``."""
    for item in node.body:
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            return True
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            a = item.args
            return len(a.posonlyargs + a.args + a.kwonlyargs) > 1 or bool(a.vararg or a.kwarg)
    return False


def docstring_gaps(module: str, examples: bool) -> list[str]:
    """What the numpydoc rule finds missing in one module (``module`` relative to ``rmstudy``), one line a gap."""
    path = SRC.joinpath(*module.split(".")).with_suffix(".py")
    gaps = []
    for node in _public(ast.parse(path.read_text(encoding="utf-8"))):
        name, doc = f"{module}.{node.name}", ast.get_docstring(node) or ""
        has = {s: bool(rx.search(doc)) for s, rx in _SECTION.items()}
        if not doc:
            gaps.append(f"{name}: no docstring")
            continue
        if isinstance(node, ast.ClassDef):
            if _init_arguments(node) and not (has["Parameters"] or has["Attributes"]):
                gaps.append(f"{name}: no Parameters or Attributes section")
        else:
            a = node.args
            if a.posonlyargs + a.args + a.kwonlyargs or a.vararg or a.kwarg:
                if not has["Parameters"]:
                    gaps.append(f"{name}: no Parameters section")
            own = list(_own_nodes(node))
            gives = any(isinstance(n, ast.Return) and n.value is not None
                        and not (isinstance(n.value, ast.Constant) and n.value.value is None) for n in own)
            if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in own):
                if not has["Yields"]:
                    gaps.append(f"{name}: no Yields section")
            elif gives and not has["Returns"]:
                gaps.append(f"{name}: no Returns section")
        if examples and name not in NO_EXAMPLE and not (has["Examples"] and ">>>" in doc):
            gaps.append(f"{name}: no Examples section with a runnable example")
    return gaps


def docstring_report() -> tuple[int, int, list[str]]:
    """(public names checked, of which with a runnable example, every gap) over the covered modules."""
    names = with_example = 0
    gaps = []
    for group, examples in ((EXAMPLE_MODULES, True), (NUMPYDOC_MODULES, False)):
        for module in group:
            tree = ast.parse(SRC.joinpath(*module.split(".")).with_suffix(".py").read_text(encoding="utf-8"))
            for node in _public(tree):
                names += 1
                with_example += ">>>" in (ast.get_docstring(node) or "")
            gaps += docstring_gaps(module, examples)
    return names, with_example, gaps


def test_every_covered_public_name_has_a_numpydoc_docstring():
    names, with_example, gaps = docstring_report()
    assert not gaps, f"{len(gaps)} gaps in {names} public names ({with_example} with an example):\n" + "\n".join(gaps)


def test_the_allow_list_names_real_public_names_without_an_example():
    """An entry of NO_EXAMPLE that gained an example, or no longer exists, leaves the list."""
    stale = []
    for name, why in NO_EXAMPLE.items():
        module, attr = name.rsplit(".", 1)
        obj = getattr(importlib.import_module(f"rmstudy.{module}"), attr, None)
        if obj is None or ">>>" in (obj.__doc__ or "") or module not in EXAMPLE_MODULES or not why:
            stale.append(name)
    assert not stale, f"stale NO_EXAMPLE entries: {stale}"


def test_the_checker_finds_what_is_missing(tmp_path, monkeypatch):
    """The checker itself: a function without sections, a dataclass without attributes, an example-less function."""
    pkg = tmp_path / "fake"
    pkg.mkdir()
    (pkg / "m.py").write_text(
        '__all__ = ["f", "g", "C", "h"]\n'
        'from dataclasses import dataclass\n'
        'def f(x):\n    """Double."""\n    return 2 * x\n'
        'def g():\n    """Nothing.\n\n    Examples\n    --------\n    >>> g()\n    """\n'
        '@dataclass\nclass C:\n    """A row."""\n    a: int\n'
        'def h(x):\n    """Half.\n\n    Parameters\n    ----------\n    x : float\n\n'
        '    Returns\n    -------\n    float\n\n    Examples\n    --------\n    >>> h(1)\n    0.5\n    """\n'
        '    return x / 2\n'
        'def _private(x):\n    return x\n')
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path)
    assert docstring_gaps("fake.m", examples=True) == [
        "fake.m.f: no Parameters section", "fake.m.f: no Returns section",
        "fake.m.f: no Examples section with a runnable example",
        "fake.m.C: no Parameters or Attributes section", "fake.m.C: no Examples section with a runnable example"]


def test_every_module_is_covered_or_listed_as_not_yet():
    """A new module is placed: in EXAMPLE_MODULES, in NUMPYDOC_MODULES, or (with a reason) in NOT_YET."""
    placed = set(EXAMPLE_MODULES) | set(NUMPYDOC_MODULES)
    unplaced = []
    for p in sorted(SRC.rglob("*.py")):
        m = ".".join(p.relative_to(SRC).with_suffix("").parts)
        if p.name.startswith("_") or m in placed or any(m == n or m.startswith(n) for n in NOT_YET):
            continue                                # package docstrings, __main__, _version; covered; listed
        unplaced.append(m)
    assert not unplaced, f"modules in no list of tests/test_docstrings.py: {unplaced}"
