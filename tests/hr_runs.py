"""Runs of `rmstudy run` shared by the HR report's tests (tests/test_hr_report.py, tests/test_browser.py).

Each cohort is run once per test process (cached), into a temporary folder removed at exit; the HR folder is
written by the pipeline with ``rmstudy.report.hr.write_hr_folder`` (called here when a pipeline has not). ``hostile_cohort`` is the demo with a payload catalogue in every text field of study.yaml and
codebook.yaml, a folder name holding markup, and hypotheses on a 4-person department and a 2-person age band.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
OTHER = ROOT / "tests" / "fixtures" / "other_cohort"
_TMP = Path(tempfile.mkdtemp(prefix="rmstudy-hr-"))
atexit.register(shutil.rmtree, _TMP, True)

#: text that must reach a report only as text
PAYLOADS = [
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    "[click me](javascript:alert(1))",
    "<a href=\"javascript:alert(1)\">link</a>",
    r"$\href{javascript:alert(1)}{math}$",
    "<a rel=\"attachment\" href=\"file:///etc/passwd\">attached</a>",
    "<img src=\"http://example.invalid/pixel.png\">",
    "![pixel](http://example.invalid/p.png)",
    "**bold** _it_ `code` # heading",
]
MARK = " ".join(PAYLOADS)
#: folder names cannot hold '/'
FOLDER = "cohort <img src=x onerror=alert(1)> $x$"


def hostile_cohort() -> Path:
    """The demo cohort with payloads in every text field and two hypotheses on groups below the threshold."""
    d = _TMP / "input" / FOLDER
    if d.exists():
        return d
    shutil.copytree(DEMO, d)
    P = pd.read_csv(d / "participants.csv", dtype=str, keep_default_na=False)
    R = pd.read_csv(d / "responses.csv", dtype=str, keep_default_na=False)
    both = set(R.loc[R["wave"] == "pre", "participant_id"]) & set(R.loc[R["wave"] == "post", "participant_id"])
    pick = lambda arm, role, n: list(P.index[(P["arm"] == arm) & (P["role"] == role) & P["participant_id"].isin(both)][:n])
    # a 4-person department (2 + 2: each arm's baseline SD defined, so the analysis runs) ...
    P.loc[pick("program", "junior", 2) + pick("control", "junior", 2), "department"] = "Legal"
    # ... and a 2-person age band (two programme seniors given an age nobody else has)
    young = 1 + int(pd.to_numeric(P["age"]).max())
    P.loc[pick("program", "senior", 2), "age"] = str(young)
    P.to_csv(d / "participants.csv", index=False)
    plan = yaml.safe_load((d / "study.yaml").read_text(encoding="utf-8"))
    plan["name"] = "Study " + MARK
    plan["comparison_group"] = "Peers " + MARK
    plan["preregistration"] = "Reg " + MARK
    plan["deviations"] = [{"what": "What " + MARK, "why": "Why " + MARK}]
    for h in plan["hypotheses"]:
        h["label"] = h["label"] + " " + MARK
        h["question"] = h.get("question", "Q") + " " + MARK
    eng = next(h for h in plan["hypotheses"] if h["outcome"] == "engagement")
    plan["hypotheses"].append({**eng, "id": "L1", "family": "exploratory", "population": {"department": "Legal"},
                               "label": "Legal " + MARK, "question": "Did Legal staff engage more? " + MARK})
    plan["hypotheses"].append({**eng, "id": "A9", "family": "exploratory",
                               "population": {"age": {"min": young, "max": young}},
                               "label": "Age band", "question": "Did the oldest engage more? " + MARK})
    plan = json.loads(json.dumps(plan))            # no shared objects: safe_dump would write YAML anchors
    (d / "study.yaml").write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True), encoding="utf-8")
    cb = yaml.safe_load((d / "codebook.yaml").read_text(encoding="utf-8"))
    for s in cb["scales"].values():
        s["label"] = "Scale " + MARK
        s["anchors"] = {k: f"{v} {MARK}" for k, v in (s.get("anchors") or {}).items()}
        if s.get("higher_is"):
            s["higher_is"] = "more " + MARK
    (d / "codebook.yaml").write_text(yaml.safe_dump(cb, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return d


@functools.lru_cache(maxsize=None)
def run_cohort(name: str) -> tuple[Path, Path]:
    """(run folder, cohort folder) of one run of ``name`` in 'demo', 'other', 'hostile'; the HR folder written."""
    from rmstudy.report.hr import write_hr_folder
    from rmstudy.run.pipeline import run

    cohort = {"demo": DEMO, "other": OTHER}.get(name) or hostile_cohort()
    out = _TMP / "runs" / name
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        run(cohort, out, progress=False, created="2026-01-01T00:00:00Z")
        if not (out / "hr" / "hr_report.html").is_file():      # the pipeline writes it; older pipelines did not
            write_hr_folder(out, cohort)
    finally:
        os.chdir(cwd)
    return out, cohort


def screenshot_dir() -> Path:
    """Where the browser tests save screenshots for review: $RMSTUDY_SCREENSHOTS, else tmp/report (git-ignored)."""
    d = Path(os.environ.get("RMSTUDY_SCREENSHOTS") or ROOT / "tmp" / "report")
    d.mkdir(parents=True, exist_ok=True)
    return d
