"""Fault injection on `rmstudy run`: killed at several points, interrupted, raced by a second run, fed inputs that
change mid-run, refused writing, out of disk. After each, --out must hold one consistent run (every file its
manifest lists, with the manifest's SHA-256 and nothing else; results.json and the manifest of the same run) or
the previous one, nothing may be left beside it once the next run has started, and the killed run's kernels must
be gone.

The `faults` tier (pyproject.toml); CI runs it with the rest (`make test`). To keep its CPU time modest every test
starts from one complete run of the demo cohort made once (copied per test, so each test has its own --out), and
kills its run as early as the point it tests allows. Real read-only and full file systems are small tmpfs mounts
when the tests may mount (root with CAP_SYS_ADMIN); the same faults are also injected as OSErrors, which always
run.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import DEMO

pytestmark = pytest.mark.faults
EXE = Path(sys.executable).with_name("rmstudy")


# ---------------------------------------------------------------------------------------------------- helpers
def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def consistent(out: Path) -> dict:
    """Assert that ``out`` holds one complete run and return its manifest: the manifest lists every other file
    with its SHA-256 and nothing else, results.json is the one the manifest was written with, and both reports
    and the HR folder are there."""
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {"manifest.json"}
    assert files == set(man["outputs"]), (sorted(files ^ set(man["outputs"]))[:5])
    for rel, sha in man["outputs"].items():
        assert _sha(out / rel) == sha, f"{rel} is not the file of run {man['run_id']}"
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert res["created"] == man["created"] and res["inputs"] == man["inputs"]
    for rel in ("hr/hr_report.html", "hr/hr_report.pdf", "academic_report.html", "validation.json",
                "notebooks/06_academic_report.ipynb"):
        assert rel in man["outputs"], rel
    return man


def leftovers(out: Path) -> list[str]:
    """Build or scratch folders of a run into ``out`` beside it (the lock file is meant to stay)."""
    return sorted(p.name for p in out.parent.iterdir()
                  if p.name.startswith(f".{out.name}.rmstudy-") and not p.name.endswith("-lock"))


def build_root(out: Path) -> Path | None:
    found = sorted(out.parent.glob(f".{out.name}.rmstudy-build-*"))
    return found[0] if found else None


def in_build(out: Path, rel: str):
    def check():
        root = build_root(out)
        return root is not None and (root / "run" / rel).exists()
    return check


def processes_naming(text: str) -> list[int]:
    """Processes whose command line holds ``text`` (a kernel holds its connection file's path)."""
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if text.encode() in (proc / "cmdline").read_bytes():
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def env_for(tmp: Path) -> dict:
    """The child's environment: its own Jupyter runtime folder and TMPDIR, to check that nothing lands there."""
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), TMPDIR=str(tmp / "tmpdir"))
    (tmp / "runtime").mkdir(exist_ok=True)
    (tmp / "tmpdir").mkdir(exist_ok=True)
    return env


def nothing_in_shared_folders(tmp: Path) -> None:
    assert not list((tmp / "runtime").glob("kernel-*.json")), "kernel connection files in Jupyter's runtime folder"
    assert not list((tmp / "tmpdir").glob("rmstudy-*")), "rmstudy-* temporary folders left in TMPDIR"


def start(cohort: Path, out: Path, tmp: Path) -> subprocess.Popen:
    return subprocess.Popen([str(EXE), "run", str(cohort), "--out", str(out), "--no-progress"], cwd=tmp,
                            env=env_for(tmp), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def wait_for(proc: subprocess.Popen, ready, what: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            pytest.fail(f"the run ended (status {proc.returncode}) before {what}:\n{proc.stderr.read()[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"no {what} within {timeout} s")
        time.sleep(0.02)


def one_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("rmstudy: "), stderr[-2000:]
    assert "Traceback" not in stderr and "JSONDecodeError" not in stderr
    return lines[0]


def can_mount() -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    probe = Path(f"/tmp/rmstudy-mount-probe-{os.getpid()}")
    probe.mkdir(exist_ok=True)
    try:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)],
                            capture_output=True).returncode == 0
        if ok:
            subprocess.run(["umount", str(probe)], capture_output=True)
        return ok
    finally:
        probe.rmdir()


# ---------------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    w = tmp_path_factory.mktemp("faults")
    shutil.copytree(DEMO, w / "cohort")
    return w


@pytest.fixture(scope="module")
def previous(work) -> tuple[Path, dict]:
    """One complete run of the demo, made once: every test's --out starts as a copy of it."""
    out = work / "previous" / "out"
    p = subprocess.run([str(EXE), "run", "cohort", "--out", str(out), "--no-progress"], cwd=work,
                       capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr[-3000:]
    return out, consistent(out)


@pytest.fixture
def out(previous, tmp_path) -> Path:
    dst = tmp_path / "reports" / "out"
    shutil.copytree(previous[0], dst)
    return dst


# ---------------------------------------------------------------------------------------------------- SIGKILL
KILL_POINTS = {
    "during stage 1": lambda out: in_build(out, "notebooks/02_psychometrics.ipynb")(),
    "after results.json": lambda out: in_build(out, "results.json")(),
    "during report export": lambda out: in_build(out, "hr/hr_report.html")(),
    "at the swap": lambda out: in_build(out, "manifest.json")(),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_sigkill_leaves_the_previous_run(point, previous, out, work, tmp_path):
    proc = start(work / "cohort", out, tmp_path)
    if point == "at the swap":             # the swap follows the manifest within milliseconds: a loaded machine's
        wait_for(proc, lambda: KILL_POINTS[point](out) or proc.poll() is not None, point)   # poll may miss it
        assert proc.poll() in (None, 0), proc.stderr.read()[-2000:]
    else:
        wait_for(proc, lambda: KILL_POINTS[point](out), point)
    root = build_root(out)
    if point == "during stage 1":          # meanwhile, a second run into the same --out is refused at once
        second = subprocess.run([str(EXE), "run", str(work / "cohort"), "--out", str(out), "--no-progress"],
                                cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert second.returncode == 5
        assert "another rmstudy run is writing" in one_line(second.stderr) and f"pid {proc.pid}" in second.stderr
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    man = consistent(out)
    if point != "at the swap":             # at the swap, killed just before or just after it: either run, whole
        assert man["run_id"] == previous[1]["run_id"]
    # the killed run's kernels notice their parent is gone and exit
    deadline = time.monotonic() + 30
    while root is not None and processes_naming(str(root)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert root is None or not processes_naming(str(root)), "kernels of the killed run still run"
    nothing_in_shared_folders(tmp_path)
    # the lock died with the process; the next run into --out clears what the killed one left
    from rmstudy.run.rundir import RunFolder

    with RunFolder(out):
        pass
    assert leftovers(out) == []
    assert consistent(out)["run_id"] == man["run_id"]


# ---------------------------------------------------------------------------------------------------- Ctrl-C, SIGTERM
@pytest.mark.parametrize("sig, status, said", [(signal.SIGINT, 130, "interrupted (Ctrl-C)"),
                                               (signal.SIGTERM, 143, "stopped (SIGTERM)")])
def test_interrupted_run_cleans_up_and_leaves_the_previous_run(sig, status, said, previous, out, work, tmp_path):
    proc = start(work / "cohort", out, tmp_path)
    wait_for(proc, in_build(out, "notebooks/02_psychometrics.ipynb"), "stage 1")
    root = build_root(out)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == status
    line = one_line(err)
    assert said in line and f"{out} is unchanged" in line
    assert consistent(out)["run_id"] == previous[1]["run_id"]
    assert leftovers(out) == [] and not processes_naming(str(root))
    nothing_in_shared_folders(tmp_path)


# ---------------------------------------------------------------------------------------------------- inputs
def test_inputs_replaced_mid_run_do_not_reach_the_analysis(previous, out, tmp_path):
    """The cohort's CSVs are replaced once the run has validated its snapshot: every notebook still reads the
    snapshot, so the results and the hashes are those of the original files (the same as the previous run's)."""
    cohort = tmp_path / "x" / "cohort"          # the same folder name as the previous run's cohort
    shutil.copytree(DEMO, cohort)
    proc = start(cohort, out, tmp_path)
    wait_for(proc, in_build(out, "validation.json"), "validation")
    resp = (cohort / "responses.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (cohort / "new.csv").write_text("".join(resp[: len(resp) // 3]), encoding="utf-8")
    os.replace(cohort / "new.csv", cohort / "responses.csv")           # a third of the answers
    emp = (cohort / "employment.csv").read_text(encoding="utf-8").replace(",voluntary", ",involuntary")
    (cohort / "employment.csv").write_text(emp, encoding="utf-8")      # rewritten in place: no voluntary exit
    _, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err[-3000:]
    man = consistent(out)
    assert man["run_id"] != previous[1]["run_id"]
    assert man["inputs"] == previous[1]["inputs"] == {n: _sha(DEMO / n) for n in man["inputs"]}
    for n in man["inputs"]:
        assert (out / "inputs" / "cohort" / n).read_bytes() == (DEMO / n).read_bytes()
    new, old = (json.loads((d / "results.json").read_text()) for d in (out, previous[0]))
    assert [(h["id"], h["estimate"], h["decision"]) for h in new["hypotheses"]] == \
        [(h["id"], h["estimate"], h["decision"]) for h in old["hypotheses"]]
    assert leftovers(out) == []


# ---------------------------------------------------------------------------------------------------- read-only, full
@pytest.fixture
def mounted(tmp_path):
    """A tmpfs mount point (unmounted afterwards); skips where the tests may not mount."""
    if not can_mount():
        pytest.skip("mounting a tmpfs needs root with CAP_SYS_ADMIN; the injected-OSError tests cover this")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _mount(mnt: Path, size_kb: int) -> None:
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(mnt)], check=True)


def test_read_only_file_system(previous, mounted, work, tmp_path):
    _mount(mounted, 64 * 1024)
    out = mounted / "out"
    shutil.copytree(previous[0], out)
    subprocess.run(["mount", "-o", "remount,ro", str(mounted)], check=True)
    p = subprocess.run([str(EXE), "run", str(work / "cohort"), "--out", str(out), "--no-progress"], cwd=tmp_path,
                       env=env_for(tmp_path), capture_output=True, text=True, timeout=300)
    assert p.returncode == 4
    line = one_line(p.stderr)
    assert "is on a read-only file system" in line and "mnt/out is unchanged" in line   # relative to the cwd
    assert consistent(out)["run_id"] == previous[1]["run_id"]


def test_read_only_out_folder(previous, out, work, tmp_path):
    """A folder without write permission (for root, which ignores permissions, the refusal is injected)."""
    from rmstudy.cli import main

    if os.geteuid() == 0:                  # root ignores permission bits: the refusal is injected
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(os, "access", lambda path, mode, **kw: False)
            code = main(["run", str(work / "cohort"), "--out", str(out), "--no-progress"])
    else:
        out.chmod(0o555)
        try:
            code = main(["run", str(work / "cohort"), "--out", str(out), "--no-progress"])
        finally:
            out.chmod(0o755)
    assert code == 4
    assert consistent(out)["run_id"] == previous[1]["run_id"] and leftovers(out) == []


def test_full_disk(previous, mounted, work, tmp_path):
    """A file system with room for the previous run and about 1.5 MB more: the new run fills it partway (the
    input snapshot and validation.json fit, the notebooks do not)."""
    used_kb = sum(p.stat().st_size for p in previous[0].rglob("*") if p.is_file()) // 1024
    _mount(mounted, used_kb + 1536)
    out = mounted / "out"
    shutil.copytree(previous[0], out)
    p = subprocess.run([str(EXE), "run", str(work / "cohort"), "--out", str(out), "--no-progress"], cwd=tmp_path,
                       env=env_for(tmp_path), capture_output=True, text=True, timeout=600)
    assert p.returncode == 4, p.stderr[-2000:]
    line = one_line(p.stderr)
    assert "the disk is full" in line and "mnt/out is unchanged" in line
    assert consistent(out)["run_id"] == previous[1]["run_id"]
    assert leftovers(out) == []                 # the partial run is gone, and its space with it
    nothing_in_shared_folders(tmp_path)


def test_full_disk_injected(previous, out, work, tmp_path, capsys, monkeypatch):
    """ENOSPC raised where results.json is written (after stage 1): one line, exit 4, the previous run kept."""
    import rmstudy.run.pipeline as pipeline
    from rmstudy.cli import main

    def full(build, *a, **kw):
        raise OSError(errno.ENOSPC, "No space left on device", str(build / "results.json"))

    monkeypatch.setattr(pipeline, "assemble_results", full)
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(work / "cohort"), "--out", str(out), "--no-progress"]) == 4
    line = one_line(capsys.readouterr().err)
    assert "the disk is full" in line and "results.json of the new run" in line
    assert consistent(out)["run_id"] == previous[1]["run_id"] and leftovers(out) == []


# ---------------------------------------------------------------------------------------------------- bad --out
def test_unusable_out_is_refused_in_one_line_before_anything_starts(previous, tmp_path, work, capsys):
    from rmstudy.cli import main

    (tmp_path / "afile").write_text("")
    assert main(["run", str(work / "cohort"), "--out", str(tmp_path / "afile" / "out")]) == 2
    assert "afile is a file, not a folder" in one_line(capsys.readouterr().err)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    assert main(["run", str(work / "cohort"), "--out", str(mine)]) == 2
    assert "holds files rmstudy did not write (notes.txt)" in one_line(capsys.readouterr().err)
    assert (mine / "notes.txt").read_text() == "keep me" and leftovers(mine) == []
