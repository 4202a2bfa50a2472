"""`rmstudy reproduce RUN_DIR [--cohort DIR]`: check a run's inputs and versions, rerun it, compare results.json.

Steps, each reported in plain words:

1. read the run's results.json (and manifest.json when present): the input files' SHA-256, the plan's
   SHA-256, the package versions and the paths the run was given;
2. hash the cohort's files now (the folder the run names, or ``--cohort``) and name every file whose hash
   differs, is missing or is new; compare the plan hash and the package versions (naming each that differs);
3. rerun: the cohort is copied into a scratch folder laid out like the original working directory, and the
   run starts from there, so the relative paths results.json records are the same strings as before;
4. compare the new results.json with the old one field by field; every difference is listed by its path
   (``hypotheses[2].estimate``). ``created`` is the only field allowed to differ.

Exit 0 only when the results are identical apart from ``created``. When an input's hash differs, the run is
not repeated (the data are not the data that produced the results) unless ``rerun_anyway`` is set.
"""

from __future__ import annotations

__all__ = ["reproduce", "compare_results", "check_inputs", "check_versions", "rerun_in_scratch", "ReproduceReport",
           "cli"]

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from rmstudy.contract.provenance import environment, file_sha256

IGNORED = ("created",)


@dataclass
class ReproduceReport:
    """What reproduce found; ``lines`` is what the CLI prints, ``exit_code`` 0 only when identical.

    Attributes
    ----------
    inputs : list of (str, str)
        (file, problem) for each input that differs.
    plan : str or None
        A sentence when the plan hash differs.
    versions, differences : list of tuples
        (package, then, now); (path, then, now) of results.json.
    rerun, identical : bool
    lines : list of str

    Examples
    --------
    >>> ReproduceReport().exit_code, ReproduceReport(rerun=True, identical=True).exit_code
    (1, 0)
    """
    inputs: list = field(default_factory=list)        # (file, problem) for each input that differs
    plan: str | None = None                           # a sentence when the plan hash differs
    versions: list = field(default_factory=list)      # (package, then, now)
    differences: list = field(default_factory=list)   # (path, then, now) of results.json
    rerun: bool = False
    identical: bool = False
    lines: list = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 0 if self.identical else 1


def _short(v) -> str:
    s = json.dumps(v, ensure_ascii=False, default=str)
    return s if len(s) <= 60 else s[:57] + "..."


def compare_results(old: dict, new: dict, ignore=IGNORED) -> list[tuple[str, object, object]]:
    """Every field of two results.json mappings that differs, as ``(path, old, new)``; top-level keys in
    ``ignore`` are skipped. Numbers compare exactly (a rerun of the same inputs gives the same bits).

    Parameters
    ----------
    old, new : dict
    ignore : tuple of str
        Default: ``("created",)``.

    Returns
    -------
    list of (str, object, object)
        ``(absent)`` stands for a key or item one side lacks.

    Examples
    --------
    >>> old = {"created": "2026-01-01", "hypotheses": [{"estimate": 0.5, "p_value": 0.01}]}
    >>> new = {"created": "2026-02-01", "hypotheses": [{"estimate": 0.52, "p_value": 0.01}], "notes": []}
    >>> compare_results(old, new)
    [('hypotheses[0].estimate', 0.5, 0.52), ('notes', '(absent)', [])]
    >>> compare_results({"n": 1}, {"n": 1.0})
    []
    """
    out: list = []

    def walk(a, b, path):
        if isinstance(a, dict) and isinstance(b, dict):
            for k in list(a) + [k for k in b if k not in a]:
                if not path and k in ignore:
                    continue
                p = f"{path}.{k}" if path else str(k)
                if k not in a:
                    out.append((p, "(absent)", b[k]))
                elif k not in b:
                    out.append((p, a[k], "(absent)"))
                else:
                    walk(a[k], b[k], p)
        elif isinstance(a, list) and isinstance(b, list):
            for i in range(max(len(a), len(b))):
                p = f"{path}[{i}]"
                if i >= len(a):
                    out.append((p, "(absent)", b[i]))
                elif i >= len(b):
                    out.append((p, a[i], "(absent)"))
                else:
                    walk(a[i], b[i], p)
        elif a != b or type(a) is not type(b) and not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
            out.append((path, a, b))

    walk(old, new, "")
    return out


def check_inputs(recorded: dict, cohort_dir: Path) -> list[tuple[str, str]]:
    """Files whose SHA-256 now differs from the run's record: ``(file, 'hash differs' | 'missing' | 'new file')``.

    Parameters
    ----------
    recorded : dict
        File name -> SHA-256 (results.json ``inputs``).
    cohort_dir : Path

    Returns
    -------
    list of (str, str)

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from rmstudy.contract.provenance import file_sha256
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "study.yaml").write_text("x"), (d / "responses.csv").write_text("y")
    >>> check_inputs({"study.yaml": file_sha256(d / "study.yaml"), "codebook.yaml": "00"}, d)
    [('codebook.yaml', 'missing'), ('responses.csv', 'new file (the run did not have it)')]
    """
    from rmstudy.contract.cohort import COHORT_FILES

    out = []
    for name, sha in recorded.items():
        p = cohort_dir / name
        if not p.is_file():
            out.append((name, "missing"))
        elif file_sha256(p) != sha:
            out.append((name, "hash differs"))
    for name in COHORT_FILES:
        if name not in recorded and (cohort_dir / name).is_file():
            out.append((name, "new file (the run did not have it)"))
    return out


def check_versions(recorded: dict, now: dict | None = None) -> list[tuple[str, str, str]]:
    """Python and package versions that differ between the run's record and this environment.

    Parameters
    ----------
    recorded : dict
        results.json ``environment`` (``python``, ``packages``).
    now : dict, optional
        Default: this environment (:func:`rmstudy.contract.provenance.environment`).

    Returns
    -------
    list of (str, str, str)
        (package, then, now).

    Examples
    --------
    >>> then = {"python": "3.11.7", "packages": {"pandas": "2.2.2", "numpy": "1.26.4"}}
    >>> check_versions(then, {"python": "3.11.7", "packages": {"pandas": "2.2.3", "numpy": "1.26.4"}})
    [('pandas', '2.2.2', '2.2.3')]
    """
    now = now or environment()
    out = []
    if recorded.get("python") != now.get("python"):
        out.append(("python", recorded.get("python"), now.get("python")))
    then_p, now_p = recorded.get("packages", {}), now.get("packages", {})
    for k in sorted(set(then_p) | set(now_p)):
        if then_p.get(k) != now_p.get(k):
            out.append((k, then_p.get(k, "(not recorded)"), now_p.get(k, "(not recorded)")))
    return out


def _mirror_root(*rels: str) -> int:
    """How many folder levels a scratch root needs so that every relative path stays inside it."""
    depth = 0
    for r in rels:
        parts = Path(os.path.normpath(r)).parts
        depth = max(depth, sum(1 for p in parts if p == ".."))
    return depth


def reproduce(run_dir: str | Path, cohort_dir: str | Path | None = None, out: str | Path | None = None,
              rerun_anyway: bool = False, progress: bool = False) -> ReproduceReport:
    """Check a run's inputs and versions, rerun it and compare results.json (see the module docstring).

    ``cohort_dir``: the cohort folder to check and rerun (default: the one the run names, relative to the
    working directory). ``out``: keep the rerun's folder there (default: a scratch folder, deleted).
    Raises FileNotFoundError (one line naming the path and the fix) when the run or the cohort is not found.

    Parameters
    ----------
    run_dir : str or Path
    cohort_dir, out : str or Path, optional
    rerun_anyway : bool
        Rerun even when an input's hash differs.
    progress : bool

    Returns
    -------
    ReproduceReport
    """
    run_dir = Path(run_dir)
    res_path = run_dir / "results.json"
    if not res_path.is_file():
        raise FileNotFoundError(f"{res_path}: no results.json; give the folder of a finished `rmstudy run`")
    old = json.loads(res_path.read_text(encoding="utf-8"))
    manifest = {}
    if (run_dir / "manifest.json").is_file():
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    params = old.get("parameters") or manifest.get("parameters") or {}
    cohort = Path(cohort_dir) if cohort_dir is not None else Path(params.get("cohort_dir", ""))
    if not cohort.is_dir():
        raise FileNotFoundError(f"{cohort}: the cohort folder of this run is not there; pass --cohort DIR")
    rep = ReproduceReport()
    say = rep.lines.append
    say(f"run {run_dir}: cohort {old.get('cohort')}, created {old.get('created')}, rmstudy {old.get('rmstudy_version')}")
    rep.inputs = check_inputs(old.get("inputs", {}), cohort)
    for name, what in rep.inputs:
        say(f"  input {cohort / name}: {what}")
    if not rep.inputs:
        say(f"  inputs: the {len(old.get('inputs', {}))} files in {cohort} have the recorded SHA-256")
    plan = cohort / "study.yaml"
    if plan.is_file() and file_sha256(plan) != old.get("plan_sha256"):
        rep.plan = f"  plan: study.yaml's SHA-256 differs from the run's plan_sha256 ({old.get('plan_sha256', '')[:12]}...)"
        say(rep.plan)
    rep.versions = check_versions(old.get("environment") or manifest.get("environment") or {})
    for name, then, now in rep.versions:
        say(f"  version: {name} was {then}, is {now}")
    if not rep.versions:
        say("  versions: python and every recorded package are the versions the run used")
    if rep.inputs and not rerun_anyway:
        say("not rerun: the inputs are not the ones that produced these results (restore them, or pass "
            "--rerun-anyway to see what changes)")
        return rep

    new = rerun_in_scratch(cohort, params.get("cohort_dir") or cohort.name, params.get("out_dir") or run_dir.name,
                           keep=out, progress=progress, say=say)
    rep.rerun = True
    rep.differences = compare_results(old, new)
    if rep.differences:
        say(f"results.json differs in {len(rep.differences)} field(s) (besides created):")
        for path, a, b in rep.differences[:25]:
            say(f"  {path}: {_short(a)} -> {_short(b)}")
        if len(rep.differences) > 25:
            say(f"  ... and {len(rep.differences) - 25} more")
    else:
        rep.identical = True
        say("results.json is identical apart from created: the run is reproduced")
    return rep


def rerun_in_scratch(cohort: Path, cohort_rel: str, out_rel: str, keep=None, progress: bool = False,
                     say=print) -> dict:
    """Run ``cohort`` again in a scratch folder laid out like the original working directory (the cohort at
    ``cohort_rel``, the run at ``out_rel``, both relative to it), so results.json records the same path strings;
    return the new results.json. ``keep``: copy the rerun's folder there.

    Parameters
    ----------
    cohort : Path
    cohort_rel, out_rel : str
    keep : str or Path, optional
    progress : bool
    say : callable
        Prints what is done.

    Returns
    -------
    dict
        The rerun's results.json.
    """
    from rmstudy.run.pipeline import run

    scratch = Path(tempfile.mkdtemp(prefix="rmstudy-reproduce-"))
    try:
        base = scratch.joinpath(*[f"d{i}" for i in range(_mirror_root(cohort_rel, out_rel))] or ["."])
        base.mkdir(parents=True, exist_ok=True)
        new_cohort = Path(os.path.normpath(base / cohort_rel))
        new_out = Path(os.path.normpath(base / out_rel))
        shutil.copytree(cohort, new_cohort)
        if new_out.exists():                       # the run folder inside the cohort's copy (unusual): start clean
            shutil.rmtree(new_out)
        say(f"rerunning rmstudy run {cohort_rel} --out {out_rel} (in a scratch copy laid out like the original)")
        here = Path.cwd()
        os.chdir(base)
        try:
            run(os.path.relpath(new_cohort, base), os.path.relpath(new_out, base), progress=progress)
        finally:
            os.chdir(here)
        new = json.loads((new_out / "results.json").read_text(encoding="utf-8"))
        if keep is not None:
            dest = Path(keep)
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(new_out, dest)
            say(f"  the rerun is kept in {dest}")
        return new
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def cli(a) -> int:
    """``rmstudy reproduce``: print what :func:`reproduce` found; exit 0 only when identical, 2 when the run or the
    cohort is not found.

    Parameters
    ----------
    a : argparse.Namespace
        ``run_dir``, ``cohort``, ``out``, ``rerun_anyway``.

    Returns
    -------
    int
    """
    import sys

    try:
        rep = reproduce(a.run_dir, cohort_dir=a.cohort, out=a.out, rerun_anyway=a.rerun_anyway, progress=True)
    except FileNotFoundError as e:
        print(f"rmstudy: {e}", file=sys.stderr)
        return 2
    print("\n".join(rep.lines))
    return rep.exit_code
