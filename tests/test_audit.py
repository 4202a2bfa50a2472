"""tools/audit.py: requirements.lock against known vulnerabilities (pip-audit, or the stored advisory list)."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT

AUDIT = ROOT / "tools" / "audit.py"


def _run(*args):
    return subprocess.run([sys.executable, str(AUDIT), *map(str, args)], capture_output=True, text=True)


def _fake_pip_audit(tmp_path, deps):
    """A stand-in for pip-audit that writes the JSON report pip-audit writes (``-o FILE``)."""
    exe = tmp_path / "pip-audit"
    exe.write_text(f"#!{sys.executable}\nimport json, sys\nout = sys.argv[sys.argv.index('-o') + 1]\n"
                   f"json.dump({{'dependencies': {deps!r}}}, open(out, 'w'))\n")
    exe.chmod(0o755)
    return exe


def test_the_lock_pins_setuptools_past_its_published_advisories():
    p = _run()
    assert p.returncode == 0, p.stdout + p.stderr
    assert "audit: 0 known vulnerabilities" in p.stdout
    lock = (ROOT / "requirements.lock").read_text().splitlines()
    (pin,) = [line for line in lock if line.startswith("setuptools==")]
    major, minor, patch = (int(x) for x in pin.split("==")[1].split(".")[:3])
    assert (major, minor, patch) >= (78, 1, 1)          # CVE-2025-47273; the venv's 65.5.0 had three CVEs


def test_a_vulnerable_pin_fails_with_its_advisories(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("# header\nsetuptools==65.5.0\nJinja2==3.1.6\nurllib3==2.2.1\n")
    p = _run("--lock", lock)
    assert p.returncode == 1
    for cve in ("CVE-2022-40897", "CVE-2024-6345", "CVE-2025-47273", "CVE-2024-37891", "CVE-2025-50181"):
        assert cve in p.stdout
    assert "jinja2==3.1.6" not in p.stdout                 # 3.1.6 has every fix of the list
    assert "audit: 5 known vulnerabilities" in p.stdout


def test_packages_pip_audit_skips_are_checked_against_the_stored_list(tmp_path):
    """pip-audit reports 'No known vulnerabilities' when its service answers 'not found' for every version (as on
    CI here): a skip is never taken for a pass."""
    lock = tmp_path / "requirements.lock"
    lock.write_text("setuptools==65.5.0\nrequests==2.34.2\n")
    exe = _fake_pip_audit(tmp_path, [{"name": "setuptools", "skip_reason": "Dependency not found on PyPI"},
                                     {"name": "requests", "version": "2.34.2", "vulns": []}])
    p = _run("--lock", lock, "--pip-audit", exe)
    assert p.returncode == 1
    assert "pip-audit (its vulnerability service): 1 packages" in p.stdout
    assert "could not audit 1 of 2 packages" in p.stdout and "CVE-2024-6345" in p.stdout


def test_what_pip_audit_finds_is_reported(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("tqdm==4.70.1\n")
    exe = _fake_pip_audit(tmp_path, [{"name": "tqdm", "version": "4.70.1", "vulns": [
        {"id": "PYSEC-0000-0", "fix_versions": ["4.70.2"], "description": "made up for the test"}]}])
    p = _run("--lock", lock, "--pip-audit", exe)
    assert p.returncode == 1 and "PYSEC-0000-0" in p.stdout and "[pip-audit]" in p.stdout


def test_an_unpinned_lock_line_stops_the_check(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("numpy>=2\n")
    p = _run("--lock", lock)
    assert p.returncode == 2 and "not an exact name==version pin" in p.stderr


def test_the_stored_list_is_well_formed():
    from packaging.specifiers import SpecifierSet

    data = json.loads((ROOT / "tools" / "advisories.json").read_text())
    assert data["updated"] and len(data["advisories"]) >= 30
    for a in data["advisories"]:
        assert a["id"].startswith(("CVE-", "GHSA-", "PYSEC-")) and a["affected"] and a["fixed"]
        for spec in a["affected"]:
            SpecifierSet(spec)                          # raises on a malformed specifier
        assert not any(a["fixed"] in SpecifierSet(spec) for spec in a["affected"]), a["id"]
