"""The project's own files install and run everything: pins, environment.yml, README, CI."""

import re
import tomllib

import yaml

from conftest import ROOT


def _lock():
    return [l.strip() for l in (ROOT / "requirements.lock").read_text().splitlines()
            if l.strip() and not l.startswith("#")]


def test_every_lock_line_is_pinned():
    for line in _lock():
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[A-Za-z0-9_.+\-]+", line), line


def test_environment_yml_pins_equal_the_lock():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert [p for p in pip if p != "-e ."] == _lock()


def test_every_dependency_is_in_the_lock():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    locked = {l.split("==")[0].lower().replace("_", "-") for l in _lock()}
    for d in deps + ["pytest"]:
        name = re.split(r"[<>=\[ ]", d, maxsplit=1)[0].lower().replace("_", "-")
        assert name in locked, name


def test_run_environment_is_lean():
    names = {l.split("==")[0].lower() for l in _lock()}
    assert "jupyterlab" not in names and "rfc3987-syntax" not in names


def test_readme_quick_start_has_exactly_two_commands_and_ci_runs_the_second():
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1]
    block = re.search(r"```(?:sh|bash)?\n(.*?)```", section, re.S).group(1)
    cmds = [l for l in block.splitlines() if l.strip() and not l.strip().startswith("#")]
    assert cmds == ["make demo", "make test"]
    ci = [l for l in (ROOT / ".ci" / "run").read_text().splitlines() if l.strip() and not l.startswith("#")]
    assert ci[-1] == cmds[1]
    make = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo: \$\(STAMP\)", make, re.M) and re.search(r"^test: \$\(STAMP\)", make, re.M)
    assert "rmstudy run data/demo --out reports/demo" in make
