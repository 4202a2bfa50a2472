"""Notebooks are stripped, parameterised (first cell tagged, literals with type hints and help) and thin."""

import ast
import importlib.util
import json
import re

import pytest

from conftest import ROOT

NBS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_the_seven_notebooks():
    assert [p.stem for p in NBS] == ["00_planning", "01_data_quality", "02_psychometrics", "03_survey_hypotheses", "04_retention",
                                     "05_hr_report", "06_academic_report"]


@pytest.mark.parametrize("path", NBS, ids=lambda p: p.stem)
def test_stripped_and_parameters_first(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in code)
    first = code[0]
    assert first["metadata"]["tags"] == ["parameters"]
    src = "".join(first["source"])
    tree = ast.parse(src)
    for node in tree.body:
        assert isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Constant), ast.dump(node)
    for line in src.splitlines():
        assert re.match(r"^\w+: \w+ = .+  # \S", line), f"parameter without type hint or help: {line}"


@pytest.mark.parametrize("path", NBS, ids=lambda p: p.stem)
def test_notebooks_hold_no_statistics(path):
    src = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")
    for forbidden in ("statsmodels", "scipy", "pingouin", "np.mean", ".fit(", "smf.", "lmer"):
        assert forbidden not in src, forbidden


def test_committed_notebooks_match_build_script(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "tools" / "build_notebooks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(mod, "ROOT", tmp_path)
    (tmp_path / "notebooks").mkdir()
    mod.build()
    for p in NBS:
        assert (tmp_path / "notebooks" / p.name).read_text() == p.read_text(), p.name
