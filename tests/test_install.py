"""`pip install .` into a fresh virtual environment, then `rmstudy run` on the demo from an unrelated folder.

The installed package (not the source tree) must carry what a run needs: the notebooks, the JSON Schemas and the
report templates as package data, found through importlib.resources. To stay fast and offline, the fresh
environment borrows the project environment's already-installed dependencies (a .pth file naming its
site-packages, and JUPYTER_PATH for the data files they install under share/jupyter) and installs rmstudy itself
with ``--no-deps --no-build-isolation`` from a copy of the source holding only what a source distribution holds.
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

from conftest import DEMO, ROOT

pytestmark = pytest.mark.e2e


def _purelib(python: Path) -> Path:
    out = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(python, rmstudy executable, environment variables) of a fresh venv with rmstudy installed non-editable."""
    base = tmp_path_factory.mktemp("install")
    source = base / "source"                      # pyproject.toml, README.md and src/: what an sdist holds
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    (_purelib(python) / "rmstudy-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    out = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                          "--quiet", str(source)], capture_output=True, text=True, env=env, cwd=base)
    assert out.returncode == 0, out.stdout + out.stderr
    return python, venv / "bin" / "rmstudy", env


def test_the_installed_package_is_not_the_source_tree(installed):
    python, _, env = installed
    code = ("import importlib.resources as r, rmstudy; p = r.files('rmstudy'); "
            "print(rmstudy.__file__); print(sorted(x.name for x in p.joinpath('notebooks').iterdir())); "
            "print(sorted(x.name for x in p.joinpath('contract', 'schemas').iterdir()))")
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=env, cwd=python.parents[2],
                         check=True).stdout.splitlines()
    where = Path(out[0]).resolve()
    assert where.is_relative_to(_purelib(python).resolve()), where
    assert not where.is_relative_to(ROOT.resolve()), where
    shipped = sorted(p.name for p in (ROOT / "src" / "rmstudy" / "notebooks").glob("*.ipynb"))
    assert [n for n in eval(out[1]) if n.endswith(".ipynb")] == shipped
    assert {"study.schema.json", "results.schema.json"} <= set(eval(out[2]))


def test_rmstudy_run_on_the_demo_from_an_unrelated_folder(installed, tmp_path):
    _, rmstudy, env = installed
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(DEMO, elsewhere / "cohort")
    out = subprocess.run([str(rmstudy), "run", "cohort", "--out", "run"], capture_output=True, text=True, env=env,
                         cwd=elsewhere, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    run = elsewhere / "run"
    res = json.loads((run / "results.json").read_text(encoding="utf-8"))
    plan_ids = [h["id"] for h in yaml.safe_load((DEMO / "study.yaml").read_text(encoding="utf-8"))["hypotheses"]]
    assert [h["id"] for h in res["hypotheses"]] == plan_ids
    assert all(h["decision"] in ("supported", "opposite", "equivalent", "inconclusive") for h in res["hypotheses"])
    assert res["parameters"]["cohort_dir"] == "cohort"            # relative to the folder the run started in
    assert (run / "academic_report.html").is_file()
    assert list(run.rglob("hr_report.pdf"))
    executed = sorted(p.name for p in (run / "notebooks").glob("*.ipynb"))
    assert "03_survey_hypotheses.ipynb" in executed
    assert not (elsewhere / "data").exists() and not (elsewhere / "notebooks").exists()
