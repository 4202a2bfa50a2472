"""A catalogue of hostile and broken input files (issue #11): each is refused with one clear problem line, no
traceback, inside resource limits set by the harness — not wall-clock timings.

Every case runs in a subprocess with ``RLIMIT_AS`` (address space, 1.5 GiB) and ``RLIMIT_CPU`` (20 s of CPU time,
imports included) set before it starts: a case that needs more memory ends in a MemoryError, one that needs more CPU
is killed by SIGXCPU, and either fails the test. Before these fixes an alias bomb in study.yaml ran past 60 s at
4.8 GB, a 1 GB CSV line took 7.4 GB, and 1,500 levels of nesting ended in a RecursionError traceback.

Big inputs are generated in tmp_path when the test runs (never committed) and deleted when it ends.
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import DEMO, ROOT

MEMORY_LIMIT = 1536 << 20          # bytes of address space for the subprocess
CPU_LIMIT = 20                     # seconds of CPU time for the subprocess
FIXTURE = ROOT / "tests" / "fixtures" / "ingest"
KEY = "2f6258b591043f94100c1151ecc845bb16ec1ca9969c2c78ec657d01d0269c8f"     # secrets.token_hex(32)

# load_cohort or ingest, with no handling but CohortError's: any other exception leaves a traceback on stderr
RUNNER = """
import sys
from rmstudy.errors import CohortError
try:
    if sys.argv[1] == "load":
        from rmstudy.contract.cohort import load_cohort
        load_cohort(sys.argv[2])
    else:
        from rmstudy.ingest.core import ingest
        ingest(sys.argv[2], sys.argv[3])
except CohortError as e:
    print(e, file=sys.stderr)
    sys.exit(2)
print("accepted")
"""


def _limits():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT, CPU_LIMIT))


def _run(args: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("RMSTUDY_")}
    # one BLAS thread: each thread reserves address space, which RLIMIT_AS counts
    base.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, preexec_fn=_limits,
                          env={**base, **(env or {})}, timeout=300)


def _refused(p: subprocess.CompletedProcess, *fragments: str) -> str:
    """The run ended by itself with exit code 2 and one problem line holding every fragment; no traceback."""
    out = p.stdout + p.stderr
    assert p.returncode >= 0, f"killed by signal {-p.returncode} (SIGXCPU is the CPU limit): {out[-2000:]}"
    assert "Traceback" not in out and "MemoryError" not in out and "RecursionError" not in out, out[-3000:]
    assert p.returncode == 2, out[-3000:]
    lines = [line for line in out.splitlines() if line.startswith("  - ")]
    assert len(lines) == 1, out[-3000:]
    for f in fragments:
        assert f in lines[0], lines[0]
    return lines[0]


def _load(folder: Path) -> subprocess.CompletedProcess:
    return _run(["-c", RUNNER, "load", str(folder)])


def _ingest(mapping: Path, out: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return _run(["-c", RUNNER, "ingest", str(mapping), str(out)], env)


@pytest.fixture()
def cohort(tmp_path):
    d = tmp_path / "cohort"
    shutil.copytree(DEMO, d)
    return d


@pytest.fixture()
def raw(tmp_path):
    d = tmp_path / "raw"
    shutil.copytree(FIXTURE, d)
    return d


def _write_big(path: Path, head: bytes, size: int, fill: bytes = b"a", tail: bytes = b"") -> None:
    """``head``, then ``size`` bytes of ``fill`` without a line break, then ``tail`` (written in 1 MiB blocks)."""
    block = fill * ((1 << 20) // len(fill))
    with open(path, "wb") as fh:
        fh.write(head)
        left = size
        while left > 0:
            fh.write(block[:left])
            left -= len(block)
        fh.write(tail)


# ----------------------------------------------------------------------------------------------------- YAML

BILLION_LAUGHS = ('a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
                  + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n"
                            for i in range(8)))


def test_billion_laughs_in_study_yaml(cohort):
    """Was: past 60 s at 4.8 GB."""
    (cohort / "study.yaml").write_text(BILLION_LAUGHS)
    _refused(_load(cohort), "study.yaml", "line 1 holds the YAML anchor '&a'", "write the value out in full")


def test_codebook_label_built_from_aliases(cohort):
    """Was: accepted after 32 s at 3.1 GB."""
    text = (cohort / "codebook.yaml").read_text()
    words = "w0: &w0 'lol lol lol lol lol lol lol lol lol lol'\n" + "".join(
        f"w{i}: &w{i} [{', '.join([f'*w{i - 1}'] * 10)}]\n" for i in range(1, 8))
    text = text.replace("    label: Bias about older workers (juniors' view)\n", "    label: *w7\n", 1)
    (cohort / "codebook.yaml").write_text(words.replace("w0: ", "# aliases\nx_w0: ").replace("x_w0", "w0") + text)
    _refused(_load(cohort), "codebook.yaml", "YAML anchor '&w0'")


def test_merge_key_in_study_yaml(cohort):
    text = (cohort / "study.yaml").read_text()
    (cohort / "study.yaml").write_text(text + "defaults: &d {alpha: 0.05}\nother:\n  <<: *d\n")
    _refused(_load(cohort), "study.yaml", "anchor '&d'")


def test_a_50_mb_study_yaml(cohort):
    """Was: accepted after 25 s."""
    text = (cohort / "study.yaml").read_bytes()
    _write_big(cohort / "study.yaml", text + b"# ", 50 << 20, b"padding ", b"\n")
    _refused(_load(cohort), "study.yaml", "the file is 52,", "more than the 1,000,000")


@pytest.mark.parametrize("style", ["block", "flow_list", "json_object"])
def test_1500_levels_of_nesting(cohort, style):
    """Was: a RecursionError traceback."""
    n = 1500
    if style == "block":          # compact block sequences: "- - - x" is [[[x]]]
        nested = "deep:\n  " + "- " * n + "x\n"
    elif style == "flow_list":
        nested = "deep: " + "[" * n + "]" * n + "\n"
    else:                         # JSON is YAML too
        nested = "deep: " + '{"a": ' * n + "1" + "}" * n + "\n"
    (cohort / "study.yaml").write_text((cohort / "study.yaml").read_text() + nested)
    _refused(_load(cohort), "study.yaml", "nests more than 50 levels")


@pytest.mark.parametrize("content, fragment", [
    (b"", "the file is empty"),
    (b"\x00" * 4096, "cannot be read as YAML"),
    (bytes(random.Random(11).randrange(256) for _ in range(65536)), "not UTF-8 text"),
])
def test_empty_nul_and_binary_study_yaml(cohort, content, fragment):
    (cohort / "study.yaml").write_bytes(content)
    _refused(_load(cohort), "study.yaml", fragment)


def test_a_codebook_label_that_is_a_mapping(cohort):
    text = (cohort / "codebook.yaml").read_text()
    (cohort / "codebook.yaml").write_text(text.replace("    label: Bias about older workers (juniors' view)\n",
                                                       "    label: {text: Bias, more: [1, 2]}\n", 1))
    _refused(_load(cohort), "codebook.yaml", "scales.bias_older.label is a mapping, not a text")


def test_billion_laughs_in_the_ingest_mapping(raw, tmp_path):
    (raw / "mapping.yaml").write_text(BILLION_LAUGHS)
    _refused(_ingest(raw / "mapping.yaml", tmp_path / "out"), "mapping.yaml", "YAML anchor")
    assert not (tmp_path / "out").exists()


def test_a_huge_ingest_mapping(raw, tmp_path):
    _write_big(raw / "mapping.yaml", (raw / "mapping.yaml").read_bytes() + b"# ", 20 << 20, b"x", b"\n")
    _refused(_ingest(raw / "mapping.yaml", tmp_path / "out"), "mapping.yaml", "more than the 1,000,000")


# ----------------------------------------------------------------------------------------------------- CSV

def test_a_1_gb_cohort_csv_line_without_a_line_break(cohort):
    """Was: 7.4 GB of memory and 'a quote character opens a cell' in a file without a quote."""
    path = cohort / "participants.csv"
    header = path.read_bytes().split(b"\n", 1)[0] + b"\n"
    try:
        _write_big(path, header + b"P001,program,junior,PR1,", 1 << 30, b"abcdefgh")
        _refused(_load(cohort), "participants.csv, row 2:", "row 2 is longer than 1,048,576 bytes")
    finally:
        path.unlink()


def test_a_huge_single_cohort_cell(cohort):
    path = cohort / "responses.csv"
    lines = path.read_bytes().split(b"\n")
    lines[3] = lines[3] + b',"' + b"x" * (5 << 20) + b'"'
    path.write_bytes(b"\n".join(lines))
    _refused(_load(cohort), "responses.csv, row 4:", "row 4 is longer than 1,048,576 bytes")


@pytest.mark.parametrize("content, fragment", [
    (b"", "file is empty"),
    (b"\x00" * 4096, "NUL byte"),
    (bytes(random.Random(7).randrange(256) for _ in range(65536)), "not UTF-8 text"),
])
def test_empty_nul_and_binary_cohort_csv(cohort, content, fragment):
    (cohort / "responses.csv").write_bytes(content)
    _refused(_load(cohort), "responses.csv", fragment)


def test_a_1_gb_raw_export_line_without_a_line_break(raw, tmp_path):
    path = raw / "post.csv"
    header = path.read_bytes().split(b"\n", 1)[0] + b"\n"
    try:
        _write_big(path, header + b"E101,", 1 << 30, b"abcdefgh")
        _refused(_ingest(raw / "mapping.yaml", tmp_path / "out"), "post.csv, row 2:",
                 "row 2 is longer than 67,108,864 bytes (64 MB)")
    finally:
        path.unlink()
    assert not (tmp_path / "out").exists()


def test_a_100_mb_cell_in_a_raw_export(raw, tmp_path):
    """A cell may hold up to 50 MB of free text; a quoted cell of 100 MB on one line is refused by its length."""
    path = raw / "pre.csv"
    lines = path.read_bytes().split(b"\n")
    try:
        _write_big(path, b"\n".join(lines[:3]) + b'\n"', 100 << 20, b"free text ", b'"\n' + b"\n".join(lines[3:]))
        _refused(_ingest(raw / "mapping.yaml", tmp_path / "out"), "pre.csv, row 4:", "longer than 67,108,864")
    finally:
        path.unlink()


@pytest.mark.parametrize("content, fragment", [
    (b"", "file is empty"),
    (b"\x00" * 4096, "NUL byte"),
    (bytes(random.Random(5).randrange(1, 256) for _ in range(65536)).replace(b"\x00", b""), None),
])
def test_empty_nul_and_binary_raw_exports(raw, tmp_path, content, fragment):
    (raw / "hr.csv").write_bytes(content)
    p = _ingest(raw / "mapping.yaml", tmp_path / "out")
    if fragment is not None:
        _refused(p, "hr.csv", fragment)
    else:                # random bytes without NUL read as Latin-1: refused, with problems naming hr.csv only
        out = p.stdout + p.stderr
        assert p.returncode == 2 and "Traceback" not in out and "hr.csv" in out, out[-3000:]
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------------------------------- key

def _pseudonymise(raw: Path, **extra) -> None:
    m = yaml.safe_load((raw / "mapping.yaml").read_text())
    m.update(pseudonymise=True, **extra)
    (raw / "mapping.yaml").write_text(yaml.safe_dump(m, sort_keys=False))


@pytest.mark.parametrize("key, fragment", [
    ("secret-password-2024", "is not hexadecimal"),
    ("0f1e2d3c4b5a6978" * 4, "repeats a block of 16 characters"),
    (KEY[:32], "fewer than 64 (256 bits)"),
])
def test_weak_pseudonym_keys(raw, tmp_path, key, fragment):
    _pseudonymise(raw)
    p = _ingest(raw / "mapping.yaml", tmp_path / "out", {"RMSTUDY_PSEUDONYM_KEY": key})
    line = _refused(p, "mapping.yaml", fragment)
    assert key not in line


def test_key_env_naming_an_ordinary_variable(raw, tmp_path):
    _pseudonymise(raw, key_env="PATH")
    _refused(_ingest(raw / "mapping.yaml", tmp_path / "out"), "'PATH' is not a variable of rmstudy")


def test_a_huge_key_file(raw, tmp_path):
    key_file = tmp_path / "keys" / "pseudonym.key"
    key_file.parent.mkdir()
    _write_big(key_file, KEY.encode() + b"\n", 100 << 20, b"0")
    key_file.chmod(0o600)
    _pseudonymise(raw, key_file=str(key_file))
    _refused(_ingest(raw / "mapping.yaml", tmp_path / "out"), "the key file is larger than 4,096 bytes")


# ----------------------------------------------------------------------------------------------------- CLI

def test_the_cli_shows_one_line_for_a_hostile_study_yaml(cohort):
    """What a person sees: rmstudy validate prints the one problem, with no traceback."""
    (cohort / "study.yaml").write_text(BILLION_LAUGHS)
    p = _run(["-m", "rmstudy", "validate", str(cohort)])
    _refused(p, "study.yaml", "YAML anchor '&a'")


def test_the_cli_shows_one_line_for_a_1_gb_raw_line(raw, tmp_path):
    path = raw / "hr.csv"
    try:
        _write_big(path, path.read_bytes().split(b"\n", 1)[0] + b"\n", 1 << 30, b"Z")
        p = _run(["-m", "rmstudy", "ingest", str(raw / "mapping.yaml"), "--out", str(tmp_path / "out")])
        line = _refused(p, "hr.csv, row 2:", "row 2 is longer than 67,108,864 bytes")
        assert "ingest stopped; nothing was written" in p.stderr and line
    finally:
        path.unlink()


# ----------------------------------------------------------------------------------------------------- XLSX

def test_an_xlsx_zip_bomb(raw, tmp_path):
    """A workbook of about a megabyte whose sheet unpacks to 1 GiB: refused from the zip directory."""
    import zipfile

    m = yaml.safe_load((raw / "mapping.yaml").read_text())
    m["surveys"][1]["file"] = "post.xlsx"
    (raw / "mapping.yaml").write_text(yaml.safe_dump(m, sort_keys=False))
    with zipfile.ZipFile(raw / "post.xlsx", "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            block = b"<row>" + b" " * ((1 << 20) - 11) + b"</row>"
            for _ in range(1024):
                fh.write(block)
    assert (raw / "post.xlsx").stat().st_size < 20 << 20
    _refused(_ingest(raw / "mapping.yaml", tmp_path / "out"), "post.xlsx", "the workbook unpacks to 1,073,",
             "more than the 536,870,912")


def test_binary_garbage_named_xlsx(raw, tmp_path):
    m = yaml.safe_load((raw / "mapping.yaml").read_text())
    m["hr"]["file"] = "hr.xlsx"
    (raw / "mapping.yaml").write_text(yaml.safe_dump(m, sort_keys=False))
    (raw / "hr.xlsx").write_bytes(bytes(random.Random(3).randrange(256) for _ in range(65536)))
    _refused(_ingest(raw / "mapping.yaml", tmp_path / "out"), "hr.xlsx", "cannot be read as an XLSX workbook")
