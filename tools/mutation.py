"""Mutation testing (mutmut 3) of the code that decides what a reader sees or what a number is.

    python tools/mutation.py core            # decisions, multiplicity, privacy (the CI gate; ~minutes)
    python tools/mutation.py all             # core + effects, TOST, scoring, reliability, models, narrative
    python tools/mutation.py privacy tost    # any named modules
    options: --table FILE (write the markdown table there; `make mutation` writes benchmarks/mutation.md)
             --json FILE (per-module figures and every survivor with its diff; `make mutation`: benchmarks/out/)
             --keep (leave the scratch folders, to look at a mutant with `mutmut show NAME` there)
             --sample N (a deterministic sample of N mutants per module, for the slow ones; the table says so)
             --max-children N (mutants run at once; default one per CPU)
             --recheck JSON (run again only the mutants an earlier run left alive, after new tests; merge figures)

How it runs. mutmut reads its settings from the folder it runs in and mutates a copy of ``src/`` in
``mutants/``; it runs each mutant against the tests that call the mutated function (it records which tests call
which function in one run of the selected tests first). So each module runs in a scratch folder of its own, with
a ``[tool.mutmut]`` section that mutates that one file and selects only that module's test files: a mutant of
``decide`` is never tried against the papermill pipeline. Hypothesis runs with the ``mutation`` profile
(tests/conftest.py: derandomised, no example database), so a kill does not depend on the draw.

A survivor is either killed by a new test or listed, with the reason it is equivalent (no input can tell it from
the original), in ``benchmarks/mutation_equivalent.toml``; mutants are matched there by module, function and the
changed line (``-`` original, ``+`` mutant), not by mutmut's number, so an entry stays valid while the function
is edited elsewhere and goes stale (and the survivor counts again) when the line itself changes.

Exit status 1 when a module misses its goal: every non-equivalent mutant killed in decisions, multiplicity and
privacy; at least 90 % elsewhere (for a module run on a --sample: the one-sided 95 % Clopper-Pearson lower bound of
the share killed reaches 90 %). A timeout counts as killed (the mutant loops or slows the tests 15-fold).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENT_FILE = ROOT / "benchmarks" / "mutation_equivalent.toml"


@dataclass(frozen=True)
class Module:
    name: str
    source: str                      # path of the file to mutate, from the repository root
    tests: tuple[str, ...]           # the test files run against its mutants
    goal: float                      # % of non-equivalent mutants killed
    functions: tuple[str, ...] = ()  # only these functions of the file (empty: all of them)
    core: bool = False
    data: bool = False               # the tests read data/demo


CORE_GOAL, OTHER_GOAL = 100.0, 90.0
MODULES = {m.name: m for m in [
    Module("decisions", "src/rmstudy/stats/decisions.py",
           ("tests/test_decisions.py", "tests/test_properties_decisions.py"), CORE_GOAL, core=True),
    Module("multiplicity", "src/rmstudy/stats/multiplicity.py",
           ("tests/test_multiplicity.py", "tests/test_properties_decisions.py"), CORE_GOAL, core=True),
    Module("privacy", "src/rmstudy/report/privacy.py",
           ("tests/test_privacy.py", "tests/test_privacy_rules.py", "tests/test_properties_suppression.py"), CORE_GOAL,
           core=True,
           # the functions with boundary tests (tests/test_privacy_rules.py); a function added to privacy.py joins
           # the gate when its boundaries are tested (tests/test_mutation_gate.py names the ones outside it)
           functions=("fewer_than", "suppress_counts", "_complement_for_disclosure", "suppress_by_n",
                      "suppressed_retention", "arm_sizes", "too_small", "means_publishable", "retention_cells",
                      "adjusted_p_shown", "recoverable_lines")),
    Module("effects", "src/rmstudy/stats/effects.py",
           ("tests/test_effects_rules.py", "tests/test_analysis.py", "tests/test_effects_reference.py"), OTHER_GOAL,
           data=True),
    Module("tost", "src/rmstudy/analysis/hypotheses.py",
           ("tests/test_decisions.py", "tests/test_analysis.py", "tests/test_effects_reference.py"), OTHER_GOAL,
           functions=("tost_p",), data=True),
    Module("scoring", "src/rmstudy/stats/scoring.py",
           ("tests/test_scoring.py", "tests/test_scoring_rules.py", "tests/test_keyed_answers.py"), OTHER_GOAL, data=True),
    Module("reliability", "src/rmstudy/stats/reliability.py",
           ("tests/test_reliability.py", "tests/test_psychometrics.py", "tests/test_reliability_mutants.py",
            "tests/test_favourable_edges.py"), OTHER_GOAL, data=True),
    Module("models.mixed", "src/rmstudy/stats/models/mixed.py",
           ("tests/test_mixed.py", "tests/test_lmm_fixtures.py", "tests/test_properties_estimators.py",
            "tests/test_wave_order.py", "tests/test_mixed_mutants.py", "tests/test_mixed_edge_cases.py"), OTHER_GOAL,
           data=True),
    Module("models.nested", "src/rmstudy/stats/models/nested.py",
           ("tests/test_lmm_fixtures.py", "tests/test_mixed.py", "tests/test_nested_mutants.py",
            "tests/test_nested_sums.py"), OTHER_GOAL, data=True),
    Module("models.survival", "src/rmstudy/stats/models/survival.py",
           ("tests/test_survival.py", "tests/test_survival_reference.py", "tests/test_survival_mutants.py"), OTHER_GOAL,
           data=True),
    Module("narrative", "src/rmstudy/report/narrative.py",
           ("tests/test_narrative.py", "tests/test_narrative_mutants.py",
            # the HR report's unit tests of the sentence builders (not its pipeline runs: minutes per mutant)
            *(f"tests/test_hr_report.py::{t}" for t in (
                "test_no_negative_zero", "test_signs_and_ranges", "test_population_in_words",
                "test_direction_label_from_codebook", "test_certainty_uses_the_interval_of_the_decision",
                "test_equivalence_shows_the_90_interval_and_the_band", "test_sentences_hold_the_row_numbers"))),
           OTHER_GOAL),
]}
CORE = [n for n, m in MODULES.items() if m.core]

KILLED = {"killed", "timeout", "caught by type check", "segfault"}


@dataclass
class Result:
    module: Module
    counts: dict[str, int] = field(default_factory=dict)
    survivors: list[dict] = field(default_factory=list)      # not listed as equivalent
    equivalent: list[dict] = field(default_factory=list)     # survivors listed as equivalent
    seconds: float = 0.0
    error: str = ""
    generated: int = 0                                       # mutants generated (more than run when sampled)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def killed(self) -> int:
        return sum(v for k, v in self.counts.items() if k in KILLED)

    @property
    def score(self) -> float:
        denom = self.total - len(self.equivalent)
        return 100.0 * self.killed / denom if denom else 100.0

    @property
    def sampled(self) -> bool:
        """A deterministic sample of the module's mutants ran, not all of them."""
        return bool(self.generated) and self.total < self.generated

    @property
    def lower_bound(self) -> float:
        """One-sided 95 % Clopper-Pearson lower bound (%) of the share of non-equivalent mutants killed, the sample
        read as draws from all the module's mutants: beta.ppf(0.05, killed, survived + 1); with none surviving it is
        0.05 ** (1 / killed), so a 90 % goal needs 29 killed and none alive."""
        from scipy.stats import beta

        survived = self.total - len(self.equivalent) - self.killed
        return 100.0 * float(beta.ppf(0.05, self.killed, survived + 1)) if self.killed else 0.0

    @property
    def ok(self) -> bool:
        """The goal is met: by the share killed when every mutant ran; by its 95 % lower bound for a sample."""
        figure = self.lower_bound if self.sampled else self.score
        return not self.error and self.total > 0 and figure >= self.module.goal - 1e-9


def _present(paths) -> list[str]:
    return [p for p in paths if (ROOT / p.split("::")[0]).exists()]


def _mutmut_section(m: Module) -> str:
    tests = _present(m.tests)
    if not tests:
        raise SystemExit(f"{m.name}: none of its test files exist: {m.tests}")
    lines = [
        "[tool.mutmut]",
        'source_paths = ["src"]',
        f"only_mutate = [{json.dumps(m.source)}]",
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}",
        'pytest_add_cli_args = ["-p", "no:cacheprovider"]',   # nothing written into the scratch copy
        "use_git_change_detection = false",
        # a mutant that loops (changed = True in the suppression loop) is stopped after 3 x (its tests' time + 1 s)
        # of CPU x 2, not mutmut's default 15 x: minutes saved per looping mutant
        "timeout_multiplier = 3.0",
        *(['also_copy = ["data"]'] if m.data else []),     # tests/conftest.py finds data/demo beside tests/
        "track_dependencies = false",
    ]
    return "\n".join(lines) + "\n"


def _prepare(m: Module, work: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".hypothesis", ".pytest_cache")
    shutil.copytree(ROOT / "src", work / "src", ignore=ignore)
    shutil.copytree(ROOT / "tests", work / "tests", ignore=ignore)
    if m.data:
        shutil.copytree(ROOT / "data" / "demo", work / "data" / "demo", ignore=ignore)
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    text = re.sub(r"(?ms)^\[tool\.mutmut\].*?(?=^\[|\Z)", "", text)   # ours replaces any in the repository
    (work / "pyproject.toml").write_text(text + "\n" + _mutmut_section(m), encoding="utf-8")


def _mutant_globs(m: Module) -> list[str]:
    mod = m.source[len("src/"):-len(".py")].replace("/", ".")
    return [f"{mod}.x_{f}__mutmut_*" for f in m.functions]


_READ_RESULTS = r"""
import json, sys
from mutmut.__main__ import walk_mutatable_files, SourceFileMutationData
from mutmut.stats import status_by_exit_code
from mutmut.mutation.diff_apply import get_diff_for_mutant
out = []
for path in walk_mutatable_files():
    m = SourceFileMutationData(path=path)
    m.load()
    for k, v in m.exit_code_by_key.items():
        st = status_by_exit_code[v]
        out.append({"name": k, "status": st,
                    "diff": get_diff_for_mutant(k, path=path) if st not in ("killed", "timeout", "not checked") else ""})
json.dump(out, sys.stdout)
"""


def _changed_lines(diff: str) -> tuple[list[str], list[str]]:
    minus = [l[1:].strip() for l in diff.splitlines() if l.startswith("-") and not l.startswith("---")]
    plus = [l[1:].strip() for l in diff.splitlines() if l.startswith("+") and not l.startswith("+++")]
    return minus, plus


def load_equivalents() -> list[dict]:
    if not EQUIVALENT_FILE.exists():
        return []
    return tomllib.loads(EQUIVALENT_FILE.read_text(encoding="utf-8")).get("equivalent", [])


def _function_of(mutant: str) -> str:
    """The mutated function's name: ``x_holm`` for a function, ``xǁClassǁmethod`` for a method (mutmut 3's names)."""
    name = mutant.partition("__mutmut_")[0].rpartition(".")[2]
    return name.rpartition("ǁ")[2] if "ǁ" in name else name.removeprefix("x_")


def is_equivalent(module: str, mutant: dict, equivalents: list[dict]) -> dict | None:
    minus, plus = _changed_lines(mutant["diff"])
    for e in equivalents:
        if e["module"] == module and e["function"] == _function_of(mutant["name"]) \
                and [e["original"].strip()] == minus and [e["mutant"].strip()] == plus:
            return e
    return None


def _sample(names: list[str], n: int) -> list[str]:
    """A deterministic sample of ``n`` mutant names (the same names on every machine and run): the first ``n`` by
    the SHA-256 of the name, so a mutant is in or out whatever else the file holds."""
    import hashlib

    return sorted(sorted(names, key=lambda x: hashlib.sha256(x.encode()).hexdigest())[:n])


def _first_function(m: Module) -> str:
    """The longest top-level function of the file: mutmut certainly makes a mutant 1 of it."""
    import ast

    tree = ast.parse((ROOT / m.source).read_text(encoding="utf-8"))
    fns = [f for f in tree.body if isinstance(f, ast.FunctionDef) and (not m.functions or f.name in m.functions)]
    return max(fns, key=lambda f: (f.end_lineno or f.lineno) - f.lineno).name


def run_module(m: Module, keep: bool = False, equivalents: list[dict] | None = None,
               max_children: int | None = None, sample: int | None = None, only: list[str] | None = None) -> Result:
    equivalents = load_equivalents() if equivalents is None else equivalents
    res = Result(m)
    t0 = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix=f"rmstudy-mutation-{m.name}-"))
    try:
        _prepare(m, work)
        env = {**os.environ, "RMSTUDY_HYPOTHESIS_PROFILE": "mutation", "PYTHONDONTWRITEBYTECODE": "1",
               "MPLBACKEND": "Agg"}
        env.pop("PYTHONPATH", None)
        mutmut = [sys.executable, "-m", "mutmut"]
        children = [f"--max-children={max_children}"] if max_children else []
        names = list(only) if only else _mutant_globs(m)
        if sample and not only:
            # generate every mutant and collect which tests call what, running one mutant; then run the sample
            mod = m.source[len("src/"):-len(".py")].replace("/", ".")
            first = subprocess.run(mutmut + ["run"] + children + [f"{mod}.x_{_first_function(m)}__mutmut_1"], cwd=work,
                                   env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            listed = subprocess.run([sys.executable, "-c", _READ_RESULTS], cwd=work, env=env, text=True,
                                    capture_output=True)
            if first.returncode != 0 or listed.returncode != 0:
                res.error = "mutmut's first run failed: " + "\n".join((first.stdout + listed.stderr).splitlines()[-25:])
                return res
            every = [x["name"] for x in json.loads(listed.stdout)]
            if m.functions:
                every = [x for x in every if _function_of(x) in m.functions]
            res.generated = len(every)
            names = _sample(every, sample)
        proc = subprocess.run(mutmut + ["run"] + children + names, cwd=work, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        log = proc.stdout
        (work / "mutmut-run.log").write_text(log, encoding="utf-8")
        if proc.returncode != 0:
            res.error = f"mutmut run exited {proc.returncode}: " + "\n".join(log.strip().splitlines()[-25:])
            return res
        read = subprocess.run([sys.executable, "-c", _READ_RESULTS], cwd=work, env=env, text=True,
                              capture_output=True)
        if read.returncode != 0:
            res.error = "reading mutmut's results failed: " + read.stderr[-2000:]
            return res
        mutants = json.loads(read.stdout)
        if m.functions:
            wanted = {f"x_{f}" for f in m.functions}
            mutants = [x for x in mutants if x["name"].partition("__mutmut_")[0].rpartition(".")[2] in wanted]
        mutants = [x for x in mutants if x["status"] != "not checked"] if m.functions else mutants
        if sample or only:
            mutants = [x for x in mutants if x["name"] in set(names)]      # not the first run's one unless sampled
        for x in mutants:
            res.counts[x["status"]] = res.counts.get(x["status"], 0) + 1
            if x["status"] in KILLED:
                continue
            e = is_equivalent(m.name, x, equivalents)
            entry = {"name": x["name"], "status": x["status"], "diff": x["diff"]}
            if e is not None and x["status"] == "survived":
                res.equivalent.append({**entry, "reason": e["reason"]})
            else:
                res.survivors.append(entry)
        if not mutants:
            res.error = "no mutants were generated"
    finally:
        res.seconds = time.monotonic() - t0
        if keep:
            print(f"[{m.name}] scratch folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return res


def _from_json(items: list[dict]) -> list[Result]:
    """Results of earlier runs; for a module run more than once, the last run that did not fail to start."""
    last: dict[str, dict] = {}
    for d in items:
        if not d["error"]:                       # a run that failed to start counts as not run
            last[d["module"]] = d
    out, equivalents = [], load_equivalents()
    for d in last.values():
        # survivors are matched again against today's mutation_equivalent.toml (their diffs are stored)
        still = [x for x in d["survivors"] if x["status"] != "survived" or not is_equivalent(d["module"], x, equivalents)]
        listed = d["equivalent"] + [{**x, "reason": is_equivalent(d["module"], x, equivalents)["reason"]}
                                    for x in d["survivors"] if x not in still]
        out.append(Result(MODULES[d["module"]], counts=d["counts"], survivors=still, equivalent=listed,
                          seconds=d["seconds"], error=d["error"], generated=d.get("generated", 0)))
    return out


def recheck(earlier: dict, max_children: int | None = None) -> Result:
    """Run again only the mutants that an earlier run (one module's --json entry) did not kill, against today's
    tests, and merge: the earlier counts with those mutants' new statuses (a survivor killed by a test written
    since counts as killed; one still alive is matched against today's equivalents)."""
    m = MODULES[earlier["module"]]
    names = [x["name"] for x in earlier["survivors"] + earlier["equivalent"]]
    if not names:
        return _from_json([earlier])[0]
    new = run_module(m, only=names, max_children=max_children)
    counts = dict(earlier["counts"])
    for x in earlier["survivors"] + earlier["equivalent"]:
        counts[x["status"]] -= 1
    for k, v in new.counts.items():
        counts[k] = counts.get(k, 0) + v
    return Result(m, counts={k: v for k, v in counts.items() if v}, survivors=new.survivors, equivalent=new.equivalent,
                  seconds=earlier["seconds"] + new.seconds, error=new.error, generated=earlier.get("generated", 0))


def table(results: list[Result], all_modules: bool = False) -> str:
    head = ("| module | file | mutants | killed | survived | equivalent (listed) | no tests | killed of non-equivalent "
            "| 95 % lower bound (sample) | goal | met | seconds |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    rows = []
    for r in results:
        m = r.module
        fn = f" ({', '.join(m.functions)})" if m.functions else ""
        survived = r.counts.get("survived", 0) - len(r.equivalent)
        total = f"{r.total} (sample of {r.generated})" if r.sampled else f"{r.total}"
        rows.append(f"| {m.name} | `{m.source.removeprefix('src/rmstudy/')}`{fn} | {total} | {r.killed} | {survived} "
                    f"| {len(r.equivalent)} | {r.counts.get('no tests', 0)} | {r.score:.1f} % | "
                    f"{f'{r.lower_bound:.1f} %' if r.sampled else 'all run'} | "
                    f"{'100 %' if m.goal >= 100 else f'≥ {m.goal:.0f} %'} | {'yes' if r.ok else 'NO'} "
                    f"| {r.seconds:.0f} |")
    if all_modules:
        done = {r.module.name: row for r, row in zip(results, rows)}
        rows = []
        for m in MODULES.values():
            if m.name in done:
                rows.append(done[m.name])
            else:
                fn = f" ({', '.join(m.functions)})" if m.functions else ""
                rows.append(f"| {m.name} | `{m.source.removeprefix('src/rmstudy/')}`{fn} | not run | | | | | | | "
                            f"{'100 %' if m.goal >= 100 else f'≥ {m.goal:.0f} %'} | not run | |")
    return head + "\n" + "\n".join(rows) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("modules", nargs="*", default=["core"], help="core, all, or module names: " + ", ".join(MODULES))
    ap.add_argument("--table", type=Path, help="write the markdown table to this file")
    ap.add_argument("--json", type=Path, help="write per-module figures and the survivors as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folders (for `mutmut browse` there)")
    ap.add_argument("--max-children", type=int, help="mutants run at once (mutmut's default: one per CPU)")
    ap.add_argument("--sample", type=int, metavar="N",
                    help="run a deterministic sample of N mutants per module (the table says so): for modules whose "
                         "every mutant would take hours")
    ap.add_argument("--recheck", type=Path, metavar="JSON",
                    help="run again only the mutants an earlier --json run did not kill (after writing tests) and "
                         "merge the figures; --json writes the merged result")
    ap.add_argument("--table-from", type=Path, nargs="+", metavar="JSON",
                    help="run nothing: write the table from earlier --json files (modules in none: 'not run')")
    a = ap.parse_args(argv)
    if a.table_from:
        results = _from_json([d for f in a.table_from for d in json.loads(f.read_text(encoding="utf-8"))])
        results.sort(key=lambda r: list(MODULES).index(r.module.name))
        _write_table(a.table, table(results, all_modules=True)) if a.table else print(table(results, True))
        return 0 if all(r.ok for r in results) else 1
    if a.recheck:
        results = [recheck(d, a.max_children) for d in json.loads(a.recheck.read_text(encoding="utf-8")) if not d["error"]]
        for r in results:
            print(f"[{r.module.name}] rechecked: {len(r.survivors)} not killed", file=sys.stderr)
            for s in r.survivors:
                print(f"  {s['status']}: {s['name']}\n    " + "\n    ".join(s["diff"].splitlines()[2:]), file=sys.stderr)
        print(table(results))
        if a.json:
            _write_json(a.json, results)
        return 0 if all(r.ok for r in results) else 1
    names: list[str] = []
    for n in a.modules:
        names += CORE if n == "core" else list(MODULES) if n == "all" else [n]
    unknown = [n for n in names if n not in MODULES]
    if unknown:
        ap.error(f"unknown module(s) {unknown}; known: {list(MODULES)}")
    equivalents = load_equivalents()
    results = []
    for n in dict.fromkeys(names):
        print(f"[{n}] mutating {MODULES[n].source} ...", file=sys.stderr, flush=True)
        r = run_module(MODULES[n], keep=a.keep, equivalents=equivalents, max_children=a.max_children,
                       sample=a.sample)
        results.append(r)
        print(f"[{n}] {r.total} mutants, {r.killed} killed, {len(r.survivors)} not killed, "
              f"{len(r.equivalent)} equivalent, {r.seconds:.0f} s" + (f"\n  ERROR {r.error}" if r.error else ""),
              file=sys.stderr, flush=True)
        for s in r.survivors:
            print(f"  {s['status']}: {s['name']}\n    " + "\n    ".join(s["diff"].splitlines()[2:]), file=sys.stderr)
    text = table(results)
    print(text)
    if a.table:
        _write_table(a.table, table(results, all_modules=True))
    if a.json:
        _write_json(a.json, results)
    return 0 if all(r.ok for r in results) else 1


def _write_json(path: Path, results: list[Result]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([{"module": r.module.name, "counts": r.counts, "score": r.score,
                                 "goal": r.module.goal, "ok": r.ok, "seconds": round(r.seconds, 1),
                                 "generated": r.generated,
                                 "error": r.error, "survivors": r.survivors, "equivalent": r.equivalent}
                                for r in results], indent=1), encoding="utf-8")


def _write_table(path: Path, text: str) -> None:
    path.write_text(
        "# Mutation testing: latest table\n\nWritten by `make mutation` (`python tools/mutation.py all --table "
        "benchmarks/mutation.md`); mutmut " + _mutmut_version() + ". Survivors that no input can tell from the "
        "original are listed with their reason in `mutation_equivalent.toml`; every other survivor fails the "
        "goal. Timeouts count as killed. Goal: every non-equivalent mutant killed in decisions, multiplicity and "
        "privacy (CI runs these three: `tests/test_mutation_gate.py`); at least 90 % elsewhere. Seconds are wall "
        "time on the machine that ran it. A module whose mutants read 'N (sample of M)' ran a deterministic sample "
        "(`--sample N`: the first N mutant names by SHA-256), because all M would take hours on a shared 2-core "
        "machine; its percentage is that sample's, and its '95 % lower bound' is the one-sided 95 % Clopper-Pearson "
        "lower bound of the share killed among all its non-equivalent mutants (beta.ppf(0.05, killed, survived + 1)): "
        "for a sampled module 'met' says whether that lower bound reaches the goal (with none alive, 29 killed "
        "clear 90 %), for a module run in full whether the share itself does. Figures after `--recheck` (survivors "
        "run again once tests were written for them) add the two runs' seconds.\n\n" + text, encoding="utf-8")


def _mutmut_version() -> str:
    from importlib.metadata import version

    return version("mutmut")


if __name__ == "__main__":
    sys.exit(main())
