"""Property-based tests (hypothesis) of the input readers: random and damaged CSV/YAML bytes (issue #17).

``load_cohort``, ``validate`` and ``ingest`` must answer any bytes with a result or one of rmstudy's own errors
(``rmstudy.errors.RmstudyError`` and its subclasses: ``CohortError`` with the problems found), never a pandas,
YAML, Unicode or numpy exception, and within bounded time and memory. Each call runs in a forked child with an
address-space limit (RLIMIT_AS: what the parent uses plus 2 GiB) and a wall-clock limit; the child reports back
which exception, if any, ended the call.

The inputs start from small valid folders (tests/fixtures/other_cohort, tests/fixtures/ingest) and replace one
file by random bytes or by the valid file with a few edits: inserted quotes, delimiters, line breaks, NUL bytes,
byte order marks, invalid UTF-8, YAML anchors, tags and flow syntax, huge numbers, far dates. Heavy: the slow tier
(`pytest -m slow`, which CI runs too); the known crafted cases run in the fast tier.
"""

from __future__ import annotations

import os
import resource
import select
import shutil
import signal
import tempfile
import time
import traceback
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rmstudy.checks.validate  # noqa: F401  imported once here, so that each forked call does not pay for it
import rmstudy.contract.cohort  # noqa: F401
import rmstudy.ingest.core  # noqa: F401
from conftest import ROOT, examples

COHORT = ROOT / "tests" / "fixtures" / "other_cohort"
INGEST = ROOT / "tests" / "fixtures" / "ingest"
SECONDS = 60            # per call; the valid folders take 1-3 s
CHILD_EXIT = 77         # how a forked call ends, whatever happened in it
NO_ROOM_TO_REPORT = b"MemoryError: the child could not even write its report (address-space limit)"
EXTRA_MEMORY = 2 << 30  # bytes of address space beyond what the test process has when it forks

TOKENS = [b'"', b"'", b",", b";", b"\t", b"\n", b"\r\n", b"\r", b"\x00", b"\xef\xbb\xbf", b"\xff\xfe", b"\xc3",
          b"\xe2\x80\x8b", b"\xe2\x80\xa8", b" ", b"NaN", b"nan", b"inf", b"-inf", b"1e309", b"-1", b"0", b"-99",
          b"99999999999999999999", b"9999-12-31", b"0000-00-00", b"1700-01-01", b"2026-02-30", b"True", b"null",
          b"~", b"{", b"}", b"[", b"]", b"&a", b"*a", b"!!python/object/apply:os.system ['true']", b"!!binary",
          b": ", b"- ", b"---\n", b"...\n", b"<<: *a", b"%YAML 1.1\n", b"? ", b"|\n", b">\n", b"#", b"=cmd|' /C calc'!A0",
          b"\xe9", b"\xc3\xa9", b"program", b"control", b"junior", b"senior", b"pre", b"post", b"voluntary",
          b"participant_id", b"wave", b"arm"]


@st.composite
def damaged(draw, original: bytes):
    """Random bytes, or the original with a few insertions, deletions, replacements, a cut or a doubled part."""
    kind = draw(st.sampled_from(["random", "edit", "edit", "edit", "cut", "double"]))
    if kind == "random":
        return draw(st.binary(max_size=600))
    data = bytearray(original)
    if kind == "cut":
        return bytes(data[: draw(st.integers(0, len(data)))])
    if kind == "double":
        a = draw(st.integers(0, len(data)))
        b = draw(st.integers(a, min(len(data), a + 400)))
        return bytes(data[:b] + data[a:b] + data[b:])
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from(TOKENS) | st.binary(min_size=1, max_size=6))
        if op == "insert":
            data[pos:pos] = piece
        elif op == "delete":
            del data[pos: pos + draw(st.integers(1, 12))]
        else:
            data[pos: pos + len(piece)] = piece
    return bytes(data)


def _vm_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * resource.getpagesize()


def run_bounded(fn, *args) -> str:
    """Run fn(*args) in a forked child under the limits; return "ok", "rmstudy:<Error>" or a failure text."""
    limit = _vm_bytes() + EXTRA_MEMORY
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:                                     # child
        out = "child died"
        try:
            os.close(r)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            from rmstudy.errors import RmstudyError

            try:
                fn(*args)
                out = "ok"
            except RmstudyError as e:
                out = f"rmstudy:{type(e).__name__}"
            except MemoryError:
                out = "MemoryError: more than 2 GiB beyond the test process"
            except BaseException as e:                # noqa: BLE001 - the point of the test
                out = f"{type(e).__module__}.{type(e).__name__}: {e}\n{traceback.format_exc()}"[:6000]
        finally:
            # The child must never leave this block alive: a MemoryError (the address-space limit) raised while
            # reporting would otherwise carry the forked copy of pytest on through the rest of the suite, beside
            # the real one (CI saw exactly that: two sessions writing into one temporary folder).
            try:
                os.write(w, out.encode("utf-8", "replace")[:60000])
            except BaseException:                     # noqa: BLE001 - nothing may stop the exit below
                try:
                    os.write(w, NO_ROOM_TO_REPORT)        # a constant: needs no memory the limit may have used up
                except BaseException:                 # noqa: BLE001
                    pass
            finally:
                os._exit(CHILD_EXIT)
    os.close(w)
    start, chunks = time.monotonic(), []
    poller = select.poll()
    poller.register(r, select.POLLIN | select.POLLHUP)
    status = (0, 0)
    try:
        while True:
            left = SECONDS - (time.monotonic() - start)
            if left <= 0:
                return f"timeout: still running after {SECONDS} s"
            if poller.poll(int(min(left, 1.0) * 1000)):      # poll, not select: the pipe's fd may be above 1023
                b = os.read(r, 65536)
                if not b:
                    break
                chunks.append(b)
        while (status := os.waitpid(pid, os.WNOHANG)) == (0, 0):   # its report is in: the child must be ending
            if time.monotonic() - start > SECONDS:
                return "the child outlived its report (it did not end)"
            time.sleep(0.02)
    finally:
        os.close(r)
        if status == (0, 0):                 # on every way out (a timeout, an error here): no child left running
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status[1]) != CHILD_EXIT:
        return f"the child did not end through the harness (exit code {os.waitstatus_to_exitcode(status[1])})"
    return b"".join(chunks).decode("utf-8", "replace") or "the child ended without a report"


def _copy(src: Path, parent: Path) -> Path:
    """A fresh copy of src in a new folder of its own under parent (the previous example's copy is removed first)."""
    for old in parent.glob("copy-*"):
        shutil.rmtree(old, ignore_errors=True)
    dst = Path(tempfile.mkdtemp(prefix="copy-", dir=parent)) / src.name
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("truth.json"))
    return dst


def _load(folder):
    from rmstudy.contract.cohort import load_cohort

    load_cohort(folder)


def _validate(folder):
    from rmstudy.checks.validate import validate

    validate(folder)


def _ingest(folder):
    from rmstudy.ingest.core import ingest

    ingest(folder / "mapping.yaml", folder / "out")


def _assert_own_errors(outcome: str, what: str, data: bytes):
    assert outcome == "ok" or outcome.startswith("rmstudy:"), f"{what} on {data[:300]!r}...:\n{outcome}"


COHORT_FILES = sorted(p.name for p in COHORT.iterdir() if p.name != "truth.json")
INGEST_FILES = sorted(p.name for p in INGEST.iterdir())


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("inputs")


@pytest.mark.slow
@settings(max_examples=examples(40), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
@given(st.sampled_from(COHORT_FILES), st.data())
def test_load_cohort_and_validate_answer_any_bytes_with_our_errors(workdir, name, data):
    original = (COHORT / name).read_bytes()
    bad = data.draw(damaged(original))
    folder = _copy(COHORT, workdir)
    (folder / name).write_bytes(bad)
    _assert_own_errors(run_bounded(_load, folder), f"load_cohort ({name})", bad)
    _assert_own_errors(run_bounded(_validate, folder), f"validate ({name})", bad)


@pytest.mark.slow
@settings(max_examples=examples(40), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
@given(st.sampled_from(INGEST_FILES), st.data())
def test_ingest_answers_any_bytes_with_our_errors(workdir, name, data):
    original = (INGEST / name).read_bytes()
    bad = data.draw(damaged(original))
    folder = _copy(INGEST, workdir)
    (folder / name).write_bytes(bad)
    _assert_own_errors(run_bounded(_ingest, folder), f"ingest ({name})", bad)


# --- crafted cases (fast tier) -----------------------------------------------------------------------------------

YAML_BOMB = b"""a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
name: [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""

CRAFTED_COHORT = [
    ("study.yaml", YAML_BOMB),
    ("codebook.yaml", YAML_BOMB),
    ("study.yaml", b"!!python/object/apply:os.system ['echo pwned']\n"),
    ("study.yaml", b"\xff\xfe\x00\x00garbage"),
    ("study.yaml", b"- just\n- a list\n"),
    ("study.yaml", b"name: x\nhypotheses: 7\n"),
    ("codebook.yaml", b"scales: {a: {items: 5}}\n"),
    ("participants.csv", b"participant_id,arm\n" + b"p1,program\n" * 3),
    ("participants.csv", b'"unterminated\n'),
    ("responses.csv", b"\x00\x00\x00"),
    ("responses.csv", b"participant_id,wave\n" + b"x" * 300_000 + b",pre\n"),
    ("employment.csv", b"\xef\xbb\xbf\xef\xbb\xbfparticipant_id\n"),
]


@pytest.mark.parametrize("name,content", CRAFTED_COHORT, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CRAFTED_COHORT)])
def test_crafted_cohort_files(tmp_path, name, content):
    folder = _copy(COHORT, tmp_path)
    (folder / name).write_bytes(content)
    _assert_own_errors(run_bounded(_load, folder), f"load_cohort ({name})", content)
    _assert_own_errors(run_bounded(_validate, folder), f"validate ({name})", content)


CRAFTED_INGEST = [
    ("mapping.yaml", YAML_BOMB),
    ("mapping.yaml", b"codebook: codebook.yaml\nstudy: study.yaml\nsurveys: 3\n"),
    ("mapping.yaml", b"codebook: /etc/passwd\nstudy: study.yaml\n"),
    ("mapping.yaml", b"codebook: ../../../../../../etc/hostname\nstudy: study.yaml\n"),
    ("pre.csv", b"\x00" * 100),
    ("pre.csv", b"PK\x03\x04" + b"\x00" * 40),        # looks like an XLSX (zip) named .csv
    ("hr.csv", b'"a","b\n'),
]


@pytest.mark.parametrize("name,content", CRAFTED_INGEST, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CRAFTED_INGEST)])
def test_crafted_ingest_files(tmp_path, name, content):
    folder = _copy(INGEST, tmp_path)
    (folder / name).write_bytes(content)
    _assert_own_errors(run_bounded(_ingest, folder), f"ingest ({name})", content)


def test_a_quote_opened_in_the_header_is_a_problem_not_a_parser_error(tmp_path):
    """Regression (issue #17 fuzzing): '"unterminated' as participants.csv reached pandas' ParserError."""
    from rmstudy.contract.cohort import load_cohort
    from rmstudy.errors import CohortError

    folder = _copy(COHORT, tmp_path)
    (folder / "participants.csv").write_bytes(b'"unterminated\n')
    with pytest.raises(CohortError, match="participants.csv, row 1: the file cannot be read as a table"):
        load_cohort(folder)


def test_the_child_ends_even_when_it_cannot_report():
    """Regression: a child whose report failed went on running the rest of the suite beside the real session."""
    session = os.getpid()
    assert run_bounded(os.closerange, 3, 1 << 16) == "the child ended without a report"     # its pipe is gone
    assert os.getpid() == session


def test_the_harness_works_when_the_process_holds_over_1024_files():
    """Regression: late in the suite the test process holds more than 1,024 descriptors (kernels' sockets), and
    select() refused the pipe's ("filedescriptor out of range"), failing CI."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"the descriptor limit ({hard}) is below 1,200")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        assert max(held) >= 1024
        assert run_bounded(lambda: None) == "ok"
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_the_harness_reports_foreign_errors_timeouts_and_memory():
    assert run_bounded(lambda: None) == "ok"
    assert run_bounded(lambda: (_ for _ in ()).throw(KeyError("x"))).startswith("builtins.KeyError")
    assert run_bounded(lambda: bytearray(EXTRA_MEMORY + (1 << 30))).startswith("MemoryError")
