"""Check requirements.lock for packages with known vulnerabilities: pip-audit first, a stored advisory list when
pip-audit cannot reach its vulnerability service.

``make audit`` runs it (CI runs ``make audit`` before ``make test``)::

    python tools/audit.py [--lock requirements.lock] [--pip-audit PATH] [--advisories tools/advisories.json]

pip-audit (pinned in tools/audit-requirements.lock, in its own venv) asks PyPI's JSON API about each pinned version,
or OSV. Where that service cannot be reached, or answers "not found" for a version (as on this project's CI machines,
which reach PyPI's package index only), pip-audit skips the package and would report "No known vulnerabilities
found". This script never takes a skip for a pass: every package pip-audit could not audit is checked against
tools/advisories.json, a stored list of published advisories (CVE ids, affected versions), and the output says
which check covered which packages. Exit code 0: nothing known; 1: a known vulnerability; 2: the check itself
could not run (an unreadable lock or advisory list).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parents[1]


def read_lock(path: Path) -> dict[str, str]:
    """``name==version`` lines of a lock file as canonical name -> version (comments and blank lines skipped)."""
    pins = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-!]+)", line)
        if not m:
            raise ValueError(f"{path.name}, line {n}: '{line}' is not an exact name==version pin")
        pins[canonicalize_name(m.group(1))] = m.group(2)
    return pins


def stored_findings(pins: dict[str, str], advisories: list[dict]) -> list[dict]:
    """The advisories of the stored list that affect a pinned version."""
    found = []
    for a in advisories:
        name = canonicalize_name(a["package"])
        if name not in pins:
            continue
        try:
            version = Version(pins[name])
        except InvalidVersion:
            continue
        if any(version in SpecifierSet(spec) for spec in a["affected"]):
            found.append({"package": name, "version": pins[name], "id": a["id"], "fixed": a.get("fixed"),
                          "summary": a.get("summary", ""), "source": "stored advisory list"})
    return found


def run_pip_audit(exe: str, lock: Path, timeout: float = 600) -> tuple[dict[str, list], dict[str, str], str | None]:
    """pip-audit over the lock: (audited package -> vulnerabilities, skipped package -> reason, why it failed)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.json"
        cmd = [exe, "--no-deps", "--disable-pip", "--progress-spinner", "off", "-r", str(lock), "-f", "json",
               "-o", str(out)]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            return {}, {}, f"pip-audit did not run ({type(e).__name__}: {e})"
        if not out.exists():
            last = (p.stderr.strip().splitlines() or ["no output"])[-1]
            return {}, {}, f"pip-audit stopped (exit {p.returncode}): {last[:200]}"
        data = json.loads(out.read_text())
    audited, skipped = {}, {}
    for dep in data.get("dependencies", []):
        name = canonicalize_name(dep["name"])
        if dep.get("skip_reason"):
            skipped[name] = dep["skip_reason"]
        else:
            audited[name] = dep.get("vulns", [])
    return audited, skipped, None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lock", type=Path, default=ROOT / "requirements.lock")
    ap.add_argument("--advisories", type=Path, default=ROOT / "tools" / "advisories.json")
    ap.add_argument("--pip-audit", dest="pip_audit", default=None, help="the pip-audit program (none: stored list only)")
    a = ap.parse_args(argv)
    try:
        pins = read_lock(a.lock)
        stored = json.loads(a.advisories.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        print(f"audit: cannot run: {e}", file=sys.stderr)
        return 2
    audited, failure = {}, "no pip-audit given"
    if a.pip_audit:
        audited, skipped, failure = run_pip_audit(a.pip_audit, a.lock)
        if failure is None and skipped:
            reason = next(iter(skipped.values()))
            failure = f"pip-audit could not audit {len(skipped)} of {len(pins)} packages (e.g. {reason})"
    findings = [{"package": name, "version": pins.get(name, "?"), "id": v.get("id"),
                 "fixed": ", ".join(v.get("fix_versions", [])), "summary": v.get("description", "")[:120],
                 "source": "pip-audit"} for name, vulns in audited.items() for v in vulns]
    rest = {name: v for name, v in pins.items() if name not in audited}
    findings += stored_findings(rest, stored["advisories"])
    print(f"audit: {a.lock.name}, {len(pins)} pinned packages")
    if audited:
        print(f"  pip-audit (its vulnerability service): {len(audited)} packages")
    if rest:
        why = f" ({failure})" if failure else ""
        print(f"  stored advisory list tools/advisories.json of {stored.get('updated', '?')}, "
              f"{len(stored['advisories'])} advisories: {len(rest)} packages{why}")
    for f in findings:
        print(f"  VULNERABLE {f['package']}=={f['version']}: {f['id']} ({f['summary']}); fixed in {f['fixed']} "
              f"[{f['source']}]")
    print(f"audit: {len(findings)} known vulnerabilit{'y' if len(findings) == 1 else 'ies'}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
