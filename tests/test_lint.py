"""ruff (the whole package and the tests) and mypy (rmstudy.contract and rmstudy.stats), as pyproject.toml
configures them, with the versions pinned in requirements.lock: run here so that `make test` and CI run them."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT


def _tool(name: str) -> str:
    exe = Path(sys.executable).parent / name
    found = str(exe) if exe.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: `make test` installs it from requirements.lock")
    return found


def test_ruff_finds_nothing():
    out = subprocess.run([_tool("ruff"), "check", "--no-cache", "--output-format", "concise", "src", "tests", "tools"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_mypy_finds_nothing_in_contract_and_stats():
    out = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_tools_are_the_pinned_ones():
    lock = (ROOT / "requirements.lock").read_text()
    for name in ("ruff", "mypy"):
        version = subprocess.run([_tool(name), "--version"], capture_output=True, text=True).stdout.split()[1]
        assert f"\n{name}=={version}\n" in lock, (name, version)
