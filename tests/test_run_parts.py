"""The survey notebook run as two parts at once (rmstudy.run.parts): every hypothesis in exactly one part, and the
merged record is the one the whole notebook writes, byte for byte."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace as NS

import nbformat
import pytest

from rmstudy.contract.codebook import load_codebook
from rmstudy.contract.study import load_study
from rmstudy.errors import RmstudyError
from rmstudy.results.assemble import record
from rmstudy.run.parts import PARTS, merge_notebooks, merge_records, parse_part, part_name, survey_part
from rmstudy.run.pipeline import SPLIT, _tasks

ROOT = Path(__file__).resolve().parents[1]
PLANS = [ROOT / "data" / "demo", ROOT / "tests" / "fixtures" / "other_cohort"]


def _study(folder: Path):
    return load_study(folder / "study.yaml", load_codebook(folder / "codebook.yaml"))


@pytest.mark.parametrize("folder", PLANS, ids=lambda p: p.name)
@pytest.mark.parametrize("n", [1, 2, 3])
def test_every_survey_hypothesis_in_exactly_one_part_in_plan_order(folder, n):
    study = _study(folder)
    survey = [h.id for h in study.hypotheses if not h.is_retention]
    parts = [[h.id for h in survey_part(study, f"{k}/{n}")] for k in range(1, n + 1)]
    assert sorted(i for p in parts for i in p) == sorted(survey)
    for p in parts:
        assert p == [i for i in survey if i in p]            # each part keeps the plan's order
    assert [h.id for h in survey_part(study)] == survey       # no part: the whole notebook
    assert parts == [[h.id for h in survey_part(study, f"{k}/{n}")] for k in range(1, n + 1)]   # deterministic


def test_parts_are_balanced_on_the_demo_plan():
    """The costly hypothesis (whole cohort, clustered) is not put with the other whole-cohort ones."""
    study = _study(PLANS[0])
    parts = [{h.id for h in survey_part(study, f"{k}/2")} for k in (1, 2)]
    whole = [h.id for h in study.hypotheses if not h.is_retention and not h.population]
    assert all(any(i in p for i in whole) for p in parts)


@pytest.mark.parametrize("bad", ["1", "0/2", "3/2", "a/b", "1/2/3"])
def test_a_malformed_part_is_refused(bad):
    with pytest.raises(RmstudyError):
        parse_part(bad)


def test_part_names_and_tasks():
    assert part_name("x", "2/3") == "x.part2of3" and part_name("x", "") == "x"
    names = ("03_survey_hypotheses", "02_psychometrics")
    assert "03_survey_hypotheses" in SPLIT
    assert PARTS == 3
    assert _tasks(names, 2) == [*(("03_survey_hypotheses", f"{k}/3") for k in (1, 2, 3)), ("02_psychometrics", "")]
    assert _tasks(names, 1) == [("03_survey_hypotheses", ""), ("02_psychometrics", "")]


def test_merge_refuses_a_hypothesis_fitted_twice(tmp_path):
    study = NS(hypotheses=[NS(id="A"), NS(id="B")])
    record(tmp_path, "x.part1of2", {"hypotheses": [{"id": "A"}], "power": {"A": 1}})
    record(tmp_path, "x.part2of2", {"hypotheses": [{"id": "B"}], "power": {"A": 2, "B": 1}})
    with pytest.raises(RmstudyError, match="two parts"):
        merge_records(tmp_path, "x", study, n=2)


def test_merge_notebooks_names_a_part_that_did_not_run(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    nb.cells[0]["id"] = "a-01"
    nbformat.write(nb, tmp_path / "n.part1of2.ipynb")
    merged = nbformat.read(merge_notebooks(tmp_path, "n", n=2), as_version=4)
    nbformat.validate(merged)
    assert [c.cell_type for c in merged.cells] == ["markdown", "code", "markdown"]
    assert "did not run" in merged.cells[2].source and not (tmp_path / "n.part1of2.ipynb").exists()


@pytest.mark.e2e
def test_the_parts_merge_to_the_whole_notebooks_record(tmp_path):
    """Notebook 03 on the demo, whole and as its PARTS parts run at once: the merged record is the whole one's
    bytes."""
    exe = Path(sys.executable).with_name("papermill")
    env = {**os.environ, "PYTHONHASHSEED": "0"}

    def start(out: str, part: str):
        extra = ["-p", "part", part] if part else []
        return subprocess.Popen([str(exe), "notebooks/03_survey_hypotheses.ipynb", str(tmp_path / f"{out}{part[:1]}.ipynb"),
                                 "-p", "cohort_dir", "data/demo", "-p", "out_dir", str(tmp_path / out), *extra],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)

    procs = [start("whole", ""), *(start("split", f"{k}/{PARTS}") for k in range(1, PARTS + 1))]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-2000:]
    merge_records(tmp_path / "split", "03_survey_hypotheses", _study(PLANS[0]))
    whole = (tmp_path / "whole" / "records" / "03_survey_hypotheses.json").read_bytes()
    merged = (tmp_path / "split" / "records" / "03_survey_hypotheses.json").read_bytes()
    assert merged == whole
    assert sorted(p.name for p in (tmp_path / "split" / "records").iterdir()) == ["03_survey_hypotheses.json"]
    ids = [r["id"] for r in json.loads(merged)["hypotheses"]]
    assert len(ids) == len(set(ids)) > 2
