"""The catalogue of malformed inputs (issue: "at least 40 distinct malformed inputs").

Every case starts from a small clean input, breaks one thing, and asserts

* the exact file, row (as a spreadsheet numbers it: header = row 1) and column the message names, and its tier;
* that nothing is lost:
  - an **error** stops the run (``load_cohort`` raises) and the errors are exactly the expected
    ones: nothing else is flagged and the broken row is not skipped silently;
  - an **exclusion** or **warning** lets the run go on, and the row ledger accounts for every line of
    every CSV file: ``rows_in`` equals the data lines on disk and ``included + excluded == rows_in``,
    with the excluded rows counted under their reason.

Part 1 breaks a cohort folder (``rmstudy validate``); part 2 breaks raw exports (``rmstudy ingest``),
where nothing lost means the per-file ingest ledger reconciles and every data row is written or
excluded with a reason.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
import yaml

import rmstudy as rm
from rmstudy.errors import CohortError
from rmstudy.checks.validate import validate

# ---------------------------------------------------------------------------------------------- a clean cohort

# 12 people: three programme pairs (rows 2-7, junior then senior), three control juniors (rows 8-10) and three
# control seniors (rows 11-13); k = 3, so no group is small. Responses: pre at rows 2-13, post at rows 14-25.
ENG = [f"eng_{j}" for j in range(1, 6)]      # 1-5, five items (straight-lining is checked on >= 5 items)
DIG = [f"dig_{j}" for j in range(1, 4)]      # 1-7, three items
PIDS = [f"P{k:02d}" for k in range(1, 13)]

CODEBOOK = {"scales": {
    "engagement": {"label": "Engagement", "citation": "test items", "min": 1, "max": 5, "items": ENG,
                   "reverse": ["eng_3"], "min_answered": 0.8},
    "digital": {"label": "Digital confidence", "citation": "test items", "min": 1, "max": 7, "items": DIG,
                "min_answered": 0.66},
}}


def _study(**extra) -> dict:
    return {"schema_version": 3, "name": "Catalogue", "preregistration": "none (test)",
            "programme_start": "2025-01-06", "censor_date": "2026-01-06", "waves": ["pre", "post"],
            "anonymity_threshold": 3, **extra,
            "hypotheses": [
                {"id": "H1", "label": "Engagement rises", "outcome": "engagement", "direction": "increase",
                 "family": "primary"},
                {"id": "H2", "label": "Fewer leave", "outcome": "retention", "direction": "increase",
                 "family": "secondary"}]}


def _participant_rows() -> list[list[str]]:
    rows = []
    for k, pid in enumerate(PIDS):
        arm = "program" if k < 6 else "control"
        role = ("junior" if k % 2 == 0 else "senior") if k < 6 else ("junior" if k < 9 else "senior")
        pair = f"PR{k // 2 + 1}" if k < 6 else ""
        age = 24 + k if role == "junior" else 50 + k
        rows.append([pid, arm, role, pair, str(age), "Sales" if k % 2 else "Ops"])
    return rows


def _response_rows() -> list[list[str]]:
    rows = []
    for w, (wave, day) in enumerate((("pre", "2025-01-0"), ("post", "2025-06-1"))):
        for k, pid in enumerate(PIDS):
            eng = [str((k + j + w) % 5 + 1) for j in range(5)]          # never all equal
            dig = [str((k * 2 + j + w) % 7 + 1) for j in range(3)]
            rows.append([pid, wave, f"{day}{k % 9 + 1}", *eng, *dig])
    return rows


def _employment_rows() -> list[list[str]]:
    return [[pid, f"20{10 + k}-03-01", "", ""] for k, pid in enumerate(PIDS)]


HEADERS = {"participants.csv": ["participant_id", "arm", "role", "pair_id", "age", "department"],
           "responses.csv": ["participant_id", "wave", "submitted_on", *ENG, *DIG],
           "employment.csv": ["participant_id", "hire_date", "exit_date", "exit_reason"]}


def _write(path: Path, header, rows) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *rows])
    path.write_text(buf.getvalue(), encoding="utf-8")


@pytest.fixture()
def clean(tmp_path) -> Path:
    d = tmp_path / "cohort"
    d.mkdir()
    _write(d / "participants.csv", HEADERS["participants.csv"], _participant_rows())
    _write(d / "responses.csv", HEADERS["responses.csv"], _response_rows())
    _write(d / "employment.csv", HEADERS["employment.csv"], _employment_rows())
    (d / "codebook.yaml").write_text(yaml.safe_dump(CODEBOOK, sort_keys=False))
    (d / "study.yaml").write_text(yaml.safe_dump(_study(), sort_keys=False))
    return d


def test_the_clean_cohort_is_clean(clean):
    rep = validate(clean)
    assert rep.ok and not rep.exclusions and not rep.warnings, rep.to_text()
    assert {f: (l["rows_in"], l["excluded"]) for f, l in rep.ledger.items()} == {
        "participants.csv": (12, 0), "responses.csv": (24, 0), "employment.csv": (12, 0)}


# ---------------------------------------------------------------------------------------------- editing helpers


def _rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def cell(file: str, row: int, column: str, value: str) -> Callable[[Path], None]:
    """Set one cell (spreadsheet numbering)."""
    def edit(d: Path) -> None:
        rows = _rows(d / file)
        rows[row - 1][rows[0].index(column)] = value
        _write(d / file, rows[0], rows[1:])
    return edit


def cells(*edits) -> Callable[[Path], None]:
    def edit(d: Path) -> None:
        for e in edits:
            e(d)
    return edit


def text(file: str, fn: Callable[[str], str]) -> Callable[[Path], None]:
    def edit(d: Path) -> None:
        (d / file).write_text(fn((d / file).read_text(encoding="utf-8")), encoding="utf-8")
    return edit


def raw_bytes(file: str, fn: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def edit(d: Path) -> None:
        (d / file).write_bytes(fn((d / file).read_bytes()))
    return edit


def drop_column(file: str, column: str) -> Callable[[Path], None]:
    def edit(d: Path) -> None:
        rows = _rows(d / file)
        j = rows[0].index(column)
        _write(d / file, [c for k, c in enumerate(rows[0]) if k != j], [[c for k, c in enumerate(r) if k != j]
                                                                          for r in rows[1:]])
    return edit


def append_row(file: str, row: list[str] | Callable[[list[list[str]]], list[str]]) -> Callable[[Path], None]:
    def edit(d: Path) -> None:
        rows = _rows(d / file)
        rows.append(row(rows) if callable(row) else row)
        _write(d / file, rows[0], rows[1:])
    return edit


def study(**extra) -> Callable[[Path], None]:
    def edit(d: Path) -> None:
        (d / "study.yaml").write_text(yaml.safe_dump(_study(**extra), sort_keys=False))
    return edit


def study_raw(fn: Callable[[dict], None]) -> Callable[[Path], None]:
    def edit(d: Path) -> None:
        s = _study()
        fn(s)
        (d / "study.yaml").write_text(yaml.safe_dump(s, sort_keys=False))
    return edit


def _lines(line_no: int, fn: Callable[[str], str]) -> Callable[[str], str]:
    def f(t: str) -> str:
        lines = t.split("\n")
        lines[line_no - 1] = fn(lines[line_no - 1])
        return "\n".join(lines)
    return f


# ---------------------------------------------------------------------------------------------- part 1: the cohort


@dataclass(frozen=True)
class Case:
    name: str
    edit: Callable[[Path], None]
    tier: str                       # error | exclusion | warning
    where: tuple                    # ((file, row, column), ...) every finding of this tier the case must produce
    needle: str = ""                # a phrase the (first) message must contain
    check: str | None = None        # for exclusions and warnings: the check that must produce the findings


R, P, E = "responses.csv", "participants.csv", "employment.csv"
dup_of_row_3 = append_row(R, lambda rows: list(rows[2]))            # P02 at pre again, as row 26

COHORT_CASES = [
    # -- file-level problems
    Case("empty participants file", text(P, lambda t: ""), "error", ((P, None, None),), "file is empty"),
    Case("header-only responses file", text(R, lambda t: t.split("\n")[0] + "\n"), "error", ((R, None, None),),
         "header but no responses"),
    Case("header-only employment file", text(E, lambda t: t.split("\n")[0] + "\n"), "error",
         ((E, None, None), (E, None, "participant_id")), "header but no data rows"),
    Case("Latin-1 bytes in a UTF-8 cohort file", raw_bytes(P, lambda b: b.replace(b"Sales", "Sälës".encode("latin-1"), 1)),
         "error", ((P, 3, None),), "not UTF-8"),
    Case("semicolon-delimited cohort file", text(P, lambda t: t.replace(",", ";")), "error", ((P, 1, None),),
         "separated by semicolons"),
    Case("tab-delimited cohort file", text(E, lambda t: t.replace(",", "\t")), "error", ((E, 1, None),),
         "separated by tabs"),
    Case("row with an extra cell", text(R, _lines(5, lambda ln: ln + ",3")), "error", ((R, 5, None),),
         "row has 12 cells but the header has 11"),
    Case("truncated row", text(R, _lines(9, lambda ln: ln.rsplit(",", 2)[0])), "error", ((R, 9, None),),
         "row has 9 cells but the header has 11"),
    Case("blank line between rows", text(P, _lines(4, lambda ln: "\n" + ln)), "error", ((P, 4, None),),
         "blank line"),
    Case("line of spaces between rows", text(R, _lines(7, lambda ln: "   \n" + ln)), "error", ((R, 7, None),),
         "blank line"),
    Case("same column twice in the header", text(R, lambda t: t.replace("dig_3\n", "dig_3,eng_2\n", 1).replace(
        "\n", ",3\n").replace("dig_3,eng_2,3\n", "dig_3,eng_2\n", 1)), "error", ((R, 1, "eng_2"),),
         "column 'eng_2' appears 2 times in the header"),
    Case("same column twice, once with a trailing space", text(P, lambda t: t.replace("department", "age ", 1)),
         "error", ((P, 1, "age"),), "appears 2 times in the header (counting names with surrounding spaces)"),
    Case("NUL byte in a cell", raw_bytes(R, lambda b: b.replace(b"\nP05,pre,", b"\nP05,\x00pre,", 1)), "error",
         ((R, 6, None),), "NUL byte"),
    Case("empty first line above the header", text(E, lambda t: "\n" + t), "error", ((E, 1, None),),
         "the first line is empty"),
    Case("stray quote that opens a cell", text(P, _lines(6, lambda ln: ln.replace(",Ops", ',"Ops', 1))), "error",
         ((P, 6, None),), "a quote character"),
    Case("header name differing only in case", text(P, lambda t: t.replace("participant_id", "Participant_ID", 1)),
         "error", ((P, None, "participant_id"),), "required column 'participant_id' is missing"),
    Case("open-ended exit date 9999-12-31", cells(cell(E, 10, "exit_date", "9999-12-31"),
                                                  cell(E, 10, "exit_reason", "voluntary")), "error",
         ((E, 10, "exit_date"),), "outside 1900–2100"),
    Case("open-ended exit date for someone still employed", cell(E, 11, "exit_date", "9999-12-31"), "error",
         ((E, 11, "exit_date"),), "outside 1900–2100"),
    Case("hire date typed with the wrong century", cell(E, 5, "hire_date", "1700-09-01"), "error",
         ((E, 5, "hire_date"),), "'1700-09-01' is not a date rmstudy can use"),
    # -- missing columns
    Case("missing required column role", drop_column(P, "role"), "error", ((P, None, "role"),),
         "required column 'role' is missing"),
    Case("missing item column", drop_column(R, "dig_2"), "error", ((R, None, "dig_2"),),
         "item column 'dig_2' (scale 'digital') is missing"),
    Case("missing employment column exit_reason", drop_column(E, "exit_reason"), "error",
         ((E, None, "exit_reason"),), "required column 'exit_reason' is missing"),
    # -- values outside the codebook
    Case("answer above the scale maximum", cell(R, 6, "eng_2", "9"), "error", ((R, 6, "eng_2"),),
         "outside the codebook range 1–5"),
    Case("answer of 0 on a 1-7 scale", cell(R, 20, "dig_3", "0"), "error", ((R, 20, "dig_3"),),
         "outside the codebook range 1–7"),
    Case("answer between answer points", cell(R, 7, "eng_4", "3.5"), "error", ((R, 7, "eng_4"),),
         "not one of the scale's answer points"),
    Case("answer written as a word", cell(R, 8, "eng_1", "four"), "error", ((R, 8, "eng_1"),),
         "'four' is not a number"),
    Case("answer 'nan' typed into a cell", cell(R, 9, "dig_1", "nan"), "error", ((R, 9, "dig_1"),),
         "'nan' is not a number"),
    Case("answer 'inf' typed into a cell", cell(R, 11, "eng_5", "inf"), "error", ((R, 11, "eng_5"),),
         "'inf' is not a number"),
    Case("answer with a unit", cell(R, 10, "dig_2", "5 pts"), "error", ((R, 10, "dig_2"),), "not a number"),
    Case("age written as a word", cell(P, 5, "age", "thirty"), "error", ((P, 5, "age"),), "'thirty' is not a number"),
    Case("age missing", cell(P, 6, "age", ""), "error", ((P, 6, "age"),), "value is missing"),
    Case("age written as a missing-value code", cell(P, 7, "age", "-99"), "error", ((P, 7, "age"),),
         "age -99 is not plausible (expected 14–100)"),
    Case("age with a typing slip", cell(P, 12, "age", "270"), "error", ((P, 12, "age"),), "age 270 is not plausible"),
    # -- identities and choices
    Case("empty participant_id", cell(P, 9, "participant_id", " "), "error",
         ((P, 9, "participant_id"),), "participant_id is empty"),
    Case("duplicate participant_id", cells(cell(P, 10, "participant_id", "P07")), "error",
         ((P, 10, "participant_id"),), "duplicate participant_id 'P07' (first at row 8)"),
    Case("unknown arm", cell(P, 8, "arm", "treatment"), "error", ((P, 8, "arm"),), "unknown arm 'treatment'"),
    Case("unknown role", cell(P, 12, "role", "mentor"), "error", ((P, 12, "role"),), "unknown role 'mentor'"),
    Case("unknown wave", cell(R, 15, "wave", "t3"), "error", ((R, 15, "wave"),), "unknown wave 't3'"),
    Case("response from someone not in participants.csv", cell(R, 11, "participant_id", "P99"), "error",
         ((R, 11, "participant_id"),), "'P99' is not in participants.csv"),
    Case("duplicate participant x wave without a rule", dup_of_row_3, "error", ((R, 26, "wave"),),
         "duplicate participant × wave ('P02', 'pre') (first at row 3)"),
    # -- pairs
    Case("pair with two juniors", cell(P, 3, "role", "junior"), "error", ((P, 2, "pair_id"),),
         "pair 'PR1' has roles ['junior', 'junior']"),
    Case("pair with a third member", cells(cell(P, 8, "arm", "program"), cell(P, 8, "pair_id", "PR2")), "error",
         ((P, 4, "pair_id"),), "pair 'PR2' has roles ['junior', 'junior', 'senior']"),
    Case("programme participant without a pair", cell(P, 7, "pair_id", ""), "error",
         ((P, 6, "pair_id"), (P, 7, "pair_id")), "pair 'PR3' has roles ['junior']"),
    Case("control participant with a pair", cell(P, 11, "pair_id", "PR9"), "error", ((P, 11, "pair_id"),),
         "control participant has a pair_id"),
    # -- employment
    Case("exit before hire", cells(cell(E, 4, "exit_date", "2009-12-31"), cell(E, 4, "exit_reason", "voluntary")),
         "error", ((E, 4, "exit_date"),), "exit_date is before hire_date"),
    Case("exit date without reason", cell(E, 5, "exit_date", "2025-08-01"), "error", ((E, 5, "exit_reason"),),
         "exit_date given without exit_reason"),
    Case("exit reason without date", cell(E, 6, "exit_reason", "voluntary"), "error", ((E, 6, "exit_date"),),
         "exit_reason given without exit_date"),
    Case("unknown exit reason", cells(cell(E, 7, "exit_date", "2025-08-01"), cell(E, 7, "exit_reason", "quit")),
         "error", ((E, 7, "exit_reason"),), "unknown exit_reason 'quit'"),
    Case("date in dd/mm/yyyy form", cell(E, 3, "hire_date", "03/04/2012"), "error", ((E, 3, "hire_date"),),
         "'03/04/2012' is not a date in YYYY-MM-DD form"),
    Case("impossible calendar date", cell(E, 8, "hire_date", "2016-02-30"), "error", ((E, 8, "hire_date"),),
         "not a date"),
    Case("Excel serial number in a cohort date", cell(R, 4, "submitted_on", "45663"), "error",
         ((R, 4, "submitted_on"),), "'45663' is not a date in YYYY-MM-DD form"),
    Case("hire date missing", cell(E, 9, "hire_date", ""), "error", ((E, 9, "hire_date"),), "date is missing"),
    Case("participant without an employment row", text(E, lambda t: t.replace("P12,2021-03-01,,\n", "")), "error",
         ((E, None, "participant_id"),), "1 participant(s) have no employment row (first: P12)"),
    Case("employment row of an unknown person", append_row(E, ["P77", "2019-01-01", "", ""]), "error",
         ((E, 14, "participant_id"),), "'P77' is not in participants.csv"),
    # -- the duplicate-submission rule
    Case("date rule without submitted_on", cells(study(duplicate_submissions="keep_latest"),
                                                 drop_column(R, "submitted_on"), dup_of_row_3), "error",
         ((R, None, "submitted_on"),), "has no submitted_on column"),
    Case("undated duplicate under a date rule", cells(study(duplicate_submissions="keep_earliest"), dup_of_row_3,
                                                      cell(R, 26, "submitted_on", "")), "error",
         ((R, 26, "submitted_on"),), "has no submitted_on date"),
    Case("duplicate rule in a version 2 plan", study_raw(lambda s: s.update(schema_version=2,
                                                                             duplicate_submissions="keep_latest")),
         "error", (("study.yaml", None, "schema_version"),), "schema_version 3"),
    Case("unknown duplicate rule", study(duplicate_submissions="keep_best"), "error",
         (("study.yaml", None, "duplicate_submissions"),), "is not one of"),
    # -- exclusions: recorded, the run goes on
    Case("scale with too few items answered", cells(cell(R, 5, "eng_1", ""), cell(R, 5, "eng_2", "")), "exclusion",
         ((R, 5, "eng_1–eng_5"),), "3 of 5 items answered, 4 needed", check="scale_too_few_items"),
    Case("response dated after the exit", cells(cell(E, 13, "exit_date", "2025-05-30"),
                                                cell(E, 13, "exit_reason", "voluntary")), "exclusion",
         ((R, 25, "submitted_on"),), "after the exit_date 2025-05-30", check="submitted_after_exit"),
    Case("exit before the programme started", cells(cell(E, 12, "exit_date", "2024-12-20"),
                                                    cell(E, 12, "exit_reason", "involuntary")), "exclusion",
         ((E, 12, "exit_date"),),
         "on or before the programme start", check="retention"),
    Case("duplicate resolved by keep_latest", cells(study(duplicate_submissions="keep_latest"), dup_of_row_3,
                                                    cell(R, 26, "submitted_on", "2025-01-01")), "exclusion",
         ((R, 26, "wave"),), "row 3 is kept", check="duplicate_submission"),
    Case("duplicate resolved by keep_earliest", cells(study(duplicate_submissions="keep_earliest"), dup_of_row_3,
                                                      cell(R, 26, "submitted_on", "2025-01-01")), "exclusion",
         ((R, 3, "wave"),), "row 26 is kept", check="duplicate_submission"),
    Case("duplicate resolved by keep_most_complete", cells(study(duplicate_submissions="keep_most_complete"),
                                                           dup_of_row_3, cell(R, 3, "dig_1", "")), "exclusion",
         ((R, 3, "wave"),), "row 26 is kept", check="duplicate_submission"),
    # -- warnings: the run goes on
    Case("straight-lining", cells(*(cell(R, 16, c, "4") for c in ENG)), "warning", ((R, 16, "eng_1–eng_5"),),
         "all 5 answered items of scale 'engagement'", check="straight_lining"),
    Case("group below the anonymity threshold", cells(cell(P, 13, "role", "junior")), "warning",
         ((P, 11, "arm, role"),), "has 2 participant(s)", check="small_group"),
    Case("heavy differential attrition", text(R, lambda t: "\n".join(
        ln for ln in t.split("\n") if not (",post," in ln and ln.split(",")[0] in {"P07", "P08", "P09", "P10"}))),
        "warning", ((R, None, "wave"),), "control 33.3%", check="differential_attrition"),
]


def _data_lines(path: Path) -> int:
    """Data records of a CSV on disk (blank lines included), header excluded."""
    with open(path, newline="", encoding="utf-8") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


@pytest.mark.parametrize("case", COHORT_CASES, ids=lambda c: c.name)
def test_malformed_cohort(case: Case, clean: Path):
    case.edit(clean)
    rep = validate(clean)
    if case.tier == "error":
        got = {(f.file, f.row, f.column) for f in rep.errors}
        assert got == set(case.where), "\n".join(str(f) for f in rep.errors)
        first = next(f for f in rep.errors if (f.file, f.row, f.column) == case.where[0])
        assert case.needle in first.message, str(first)
        assert first.fix and not rep.ledger and rep.exit_code != 0
        with pytest.raises(CohortError):                 # rmstudy run refuses it with the same problems
            rm.load_cohort(clean)
        return
    assert rep.ok, "\n".join(str(f) for f in rep.errors)
    found = rep.exclusions if case.tier == "exclusion" else rep.warnings
    mine = [f for f in found if f.check == case.check]
    assert {(f.file, f.row, f.column) for f in mine} == set(case.where), "\n".join(str(f) for f in found)
    assert case.needle in mine[0].message, str(mine[0])
    assert all(f.fix for f in mine)
    # nothing lost: every record of every file is in the ledger, as included or excluded with a reason
    for name, entry in rep.ledger.items():
        assert entry["rows_in"] == _data_lines(clean / name), name
        assert entry["included"] + entry["excluded"] == entry["rows_in"], name
        assert sum(entry["reasons"].values()) == entry["excluded"], name
    if case.tier == "exclusion" and case.check in ("submitted_after_exit", "duplicate_submission"):
        assert rep.ledger[R]["excluded"] == len(mine)
        analysed = rm.analysis_cohort(clean)
        assert len(analysed.responses) + len(analysed.excluded_responses) == _data_lines(clean / R)
        assert sorted(analysed.excluded_responses["row"]) == sorted(f.row for f in mine)


# ---------------------------------------------------------------------------------------------- part 2: raw exports

# tests/fixtures/ingest: pre.csv (Qualtrics: three header rows, data rows 4-11, E101-E108), post.csv (plain CSV,
# data rows 2-7), hr.csv (data rows 2-9), mapping.yaml. Scale inclusion: 1-5, anchors 1/3/5 labelled.
from conftest import ROOT  # noqa: E402

import openpyxl  # noqa: E402
import shutil  # noqa: E402

from rmstudy.ingest.core import ingest  # noqa: E402

FIX = ROOT / "tests" / "fixtures" / "ingest"
PRE, POST, HR = "pre.csv", "post.csv", "hr.csv"


@pytest.fixture()
def raw(tmp_path) -> Path:
    d = tmp_path / "raw"
    shutil.copytree(FIX, d)
    return d


def _raw_rows(path: Path, delimiter=",", encoding="utf-8") -> list[list[str]]:
    with open(path, newline="", encoding=encoding) as fh:
        return list(csv.reader(fh, delimiter=delimiter))


def _raw_write(path: Path, rows, delimiter=",", encoding="utf-8") -> None:
    with open(path, "w", newline="", encoding=encoding) as fh:
        csv.writer(fh, delimiter=delimiter, lineterminator="\n").writerows(rows)


def rcell(file: str, row: int, column: str, value: str) -> Callable[[Path], None]:
    """Set one cell of a raw CSV (spreadsheet numbering; the header is row 1, Qualtrics data start at row 4)."""
    def edit(d: Path) -> None:
        rows = _raw_rows(d / file)
        rows[row - 1][rows[0].index(column)] = value
        _raw_write(d / file, rows)
    return edit


def reencode(file: str, encoding: str, delimiter: str = ",", change=None) -> Callable[[Path], None]:
    def edit(d: Path) -> None:
        rows = _raw_rows(d / file)
        if change:
            change(rows)
        _raw_write(d / file, rows, delimiter=delimiter, encoding=encoding)
    return edit


def mapping(fn: Callable[[dict], None]) -> Callable[[Path], None]:
    def edit(d: Path) -> None:
        m = yaml.safe_load((d / "mapping.yaml").read_text())
        fn(m)
        (d / "mapping.yaml").write_text(yaml.safe_dump(m, sort_keys=False, allow_unicode=True))
    return edit


def to_xlsx(file: str, survey: int | None, edit_ws=None) -> Callable[[Path], None]:
    """Turn a CSV input into an XLSX workbook (optionally edited), and point the mapping at it."""
    def edit(d: Path) -> None:
        rows = _raw_rows(d / file)
        wb = openpyxl.Workbook()
        ws = wb.active
        for r in rows:
            ws.append(r)
        if edit_ws:
            edit_ws(ws)
        new = file.replace(".csv", ".xlsx")
        wb.save(d / new)
        (d / file).unlink()
        mapping(lambda m: (m["surveys"][survey] if survey is not None else m["hr"]).update(file=new))(d)
    return edit


def _hr_serials(ws) -> None:
    """Start dates as bare Excel serial numbers, leaving dates as date cells, ages as numbers."""
    import datetime as dt

    head = [c.value for c in ws[1]]
    s, l, a = head.index("Start date") + 1, head.index("Leaving date") + 1, head.index("Age") + 1
    for r in range(2, ws.max_row + 1):
        start = dt.datetime.strptime(ws.cell(r, s).value, "%d/%m/%Y").date()
        ws.cell(r, s).value = (start - dt.date(1899, 12, 30)).days
        left = ws.cell(r, l).value
        ws.cell(r, l).value = dt.datetime.strptime(left, "%d/%m/%Y") if left else None
        ws.cell(r, a).value = int(ws.cell(r, a).value)


def _hr_serials_1904(ws) -> None:
    """The HR dates as bare serial numbers of a Mac workbook's 1904 date system."""
    import datetime as dt

    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    ws.parent.epoch = CALENDAR_MAC_1904
    head = [c.value for c in ws[1]]
    for col in ("Start date", "Leaving date"):
        j = head.index(col) + 1
        for r in range(2, ws.max_row + 1):
            v = ws.cell(r, j).value
            ws.cell(r, j).value = (dt.datetime.strptime(v, "%d/%m/%Y").date() - dt.date(1904, 1, 1)).days if v else None
    a = head.index("Age") + 1
    for r in range(2, ws.max_row + 1):
        ws.cell(r, a).value = int(ws.cell(r, a).value)


def _hr_cell(ws, row: int, column: str, value) -> None:
    ws.cell(row, [c.value for c in ws[1]].index(column) + 1).value = value


def replace_in(file: str, old: str, new: str) -> Callable[[Path], None]:
    """Replace text in a raw file (once; it must be there)."""
    def edit(d: Path) -> None:
        t = (d / file).read_text(encoding="utf-8")
        assert old in t, old
        (d / file).write_text(t.replace(old, new, 1), encoding="utf-8")
    return edit


def xlsx_named_csv(file: str) -> Callable[[Path], None]:
    """The CSV saved as an XLSX workbook under its old .csv name."""
    def edit(d: Path) -> None:
        wb = openpyxl.Workbook()
        for r in _raw_rows(d / file):
            wb.active.append(r)
        wb.save(d / file)
    return edit


def pseudonymised_with_key_file(d: Path) -> None:
    """pseudonymise: true with a key file next to the mapping (outside the output folder and any repository)."""
    (d / "pseudonym.key").write_text("2f6258b591043f94100c1151ecc845bb16ec1ca9969c2c78ec657d01d0269c8f\n")   # token_hex(32)
    (d / "pseudonym.key").chmod(0o600)
    mapping(lambda m: m.update(pseudonymise=True, key_file="pseudonym.key"))(d)


def _hidden_first_sheet(ws) -> None:
    """An older copy of the export as the workbook's first sheet, hidden; the real sheet comes second."""
    old = ws.parent.create_sheet("Responses (v1)", 0)
    for row in ws.iter_rows(values_only=True):
        old.append(row)
    old.sheet_state = "hidden"
    ws.parent.active = 1


def _employment(out: Path, pid: str) -> str:
    return next(ln for ln in (out / "employment.csv").read_text().splitlines() if ln.startswith(pid + ","))


@dataclass(frozen=True)
class IngestCase:
    name: str
    edit: Callable[[Path], None]
    outcome: str                    # "problems": ingest stops; "ok": it writes the cohort
    where: tuple = ()               # problems: every (file, row, column); ok: every excluded (file, row)
    needle: str = ""                # in the first problem's message, or in the excluded rows' reason
    check: Callable | None = None   # ok: more assertions on (report, out_dir)


def _answers(out: Path, pid: str, wave: str) -> list[float]:
    r = [x for x in csv.DictReader((out / "responses.csv").open()) if x["participant_id"] == pid and x["wave"] == wave]
    assert len(r) == 1
    return [float(r[0][f"inc_{j}"]) if r[0][f"inc_{j}"] else None for j in range(1, 5)]


def _inputs(report) -> dict:
    return {f["file"]: f for f in report["inputs"]}


INGEST_CASES = [
    # -- encodings and delimiters: read, every row written
    IngestCase("Latin-1 export with accented names", reencode(POST, "latin-1", change=lambda rows: rows[3].__setitem__(1, "Dï Fíxture")),
               "ok", (), check=lambda rep, out: _inputs(rep)[POST]["encoding"] == "latin-1"),
    IngestCase("UTF-16 export", reencode(POST, "utf-16"), "ok", (),
               check=lambda rep, out: _inputs(rep)[POST]["encoding"] == "utf-16"),
    IngestCase("UTF-8 with a byte-order mark", reencode(POST, "utf-8-sig"), "ok", (),
               check=lambda rep, out: _inputs(rep)[POST]["encoding"] == "utf-8 with BOM"),
    IngestCase("semicolons and decimal commas", reencode(POST, "utf-8", ";", change=lambda rows: rows[1].__setitem__(4, "4,0")),
               "ok", (), check=lambda rep, out: _inputs(rep)[POST]["delimiter"] == "semicolon"
               and _answers(out, "E101", "post")[0] == 4.0),
    IngestCase("tab-delimited export", reencode(HR, "utf-8", "\t"), "ok", (),
               check=lambda rep, out: _inputs(rep)[HR]["delimiter"] == "tab"),
    # -- numbers that look numeric, or not
    IngestCase("answers ' 4 ' and '4.0' are the number 4", cells(rcell(POST, 2, "Q1_1", " 4 "), rcell(POST, 2, "Q1_2", "4.0")),
               "ok", (), check=lambda rep, out: _answers(out, "E101", "post")[:2] == [4.0, 4.0]),
    IngestCase("answer 'four'", rcell(POST, 3, "Q1_2", "four"), "problems", ((POST, 3, "Q1_2"),),
               "'four' is neither a number nor an answer label"),
    IngestCase("answer '4.5'", rcell(PRE, 6, "Q1_4", "4.5"), "problems", ((PRE, 6, "Q1_4"),),
               "not one of the scale's answer points"),
    IngestCase("answer out of range", rcell(PRE, 9, "Q1_1", "7"), "problems", ((PRE, 9, "Q1_1"),),
               "outside the codebook range 1–5"),
    IngestCase("answer label not in the codebook", rcell(POST, 5, "Q1_3", "Agree a bit"), "problems",
               ((POST, 5, "Q1_3"),), "'Agree a bit' is neither a number nor an answer label"),
    # -- structure
    IngestCase("empty export", lambda d: (d / POST).write_text(""), "problems", ((POST, None, None),), "file is empty"),
    IngestCase("header-only export", lambda d: (d / POST).write_text((d / POST).read_text().split("\n")[0] + "\n"),
               "problems", ((POST, None, None),), "has a header but no responses"),
    IngestCase("Qualtrics export with only its header rows",
               lambda d: (d / PRE).write_text("".join((d / PRE).read_text().splitlines(True)[:3])),
               "problems", ((PRE, None, None),), "three Qualtrics header rows but no responses"),
    IngestCase("row with more cells than the header", lambda d: (d / POST).write_text(
        (d / POST).read_text().replace("E105,Ed Fixture,ed.fixture@example.org,2025-07-11,3,3,3,2",
                                       "E105,Ed Fixture,ed.fixture@example.org,2025-07-11,3,3,3,2,5")),
        "problems", ((POST, 5, None),), "row has 9 cells but the header has 8"),
    IngestCase("blank row between responses", lambda d: (d / POST).write_text(
        (d / POST).read_text().replace("\nE105,", "\n,,,,,,,\nE105,")), "ok", ((POST, 5),), "blank row"),
    IngestCase("merged header cells in an XLSX export",
               to_xlsx(POST, 1, edit_ws=lambda ws: (ws.__setitem__("E1", "Engagement"), ws.merge_cells("E1:H1"))),
               "problems", (("post.xlsx", 1, "E1:H1 'Engagement'"),), "header cells E1:H1 are merged"),
    IngestCase("merged data cells in an XLSX export", to_xlsx(POST, 1, edit_ws=lambda ws: ws.merge_cells("E3:E4")),
               "problems", (("post.xlsx", 3, "E3:E4 'Q1_1'"),), "cells E3:E4 are merged"),
    IngestCase("Excel date serials and date cells in an XLSX HR extract", to_xlsx(HR, None, edit_ws=_hr_serials), "ok",
               (), check=lambda rep, out: "E101,2023-09-01,," in (out / "employment.csv").read_text()),
    IngestCase("Excel date serial in a CSV HR extract", rcell(HR, 3, "Start date", "37697"), "problems",
               ((HR, 3, "Start date"),), "looks like an Excel date serial number (37697 would be 2003-03-17)"),
    IngestCase("impossible HR date", rcell(HR, 5, "Start date", "31/02/2010"), "problems", ((HR, 5, "Start date"),),
               "'31/02/2010' is not a date in the form %d/%m/%Y"),
    # -- Qualtrics response types
    IngestCase("Qualtrics preview and test rows", cells(rcell(PRE, 5, "Status", "Survey Preview"),
                                                        rcell(PRE, 8, "Status", "2")),
               "ok", ((PRE, 5), (PRE, 8)), "Qualtrics preview/test/spam response"),
    IngestCase("unknown Qualtrics Status", rcell(PRE, 10, "Status", "Draft"), "problems", ((PRE, 10, "Status"),),
               "unknown Status 'Draft'"),
    # -- identities
    IngestCase("respondent not in the HR extract", rcell(POST, 6, "EmpID", "E999"), "problems",
               ((POST, 6, "EmpID"),), "respondent id 'E999' is not in the HR extract"),
    IngestCase("empty respondent id", rcell(PRE, 7, "EmpID", ""), "problems", ((PRE, 7, "EmpID"),),
               "respondent id is empty"),
    IngestCase("one respondent answering a wave twice", rcell(POST, 7, "EmpID", "E102"), "problems",
               ((POST, 7, "EmpID"),), "respondent 'E102' answered wave 'post' twice (first at row 3)"),
    IngestCase("duplicate employee in the HR extract", rcell(HR, 9, "Personnel no.", "E107"), "problems",
               ((HR, 9, "Personnel no."), (PRE, 11, "EmpID")), "duplicate employee id 'E107' (first at row 8)"),
    IngestCase("HR label the mapping does not know", rcell(HR, 6, "Programme", "Mentoring 2026"), "problems",
               ((HR, 6, "Programme"),), "unknown arm 'Mentoring 2026'"),
    IngestCase("HR age written as a word", rcell(HR, 7, "Age", "fifty"), "problems", ((HR, 7, "Age"),),
               "'fifty' is not a number"),
    IngestCase("mapped export column missing from the file", mapping(lambda m: m.update(id="EmployeeID")), "problems",
               ((PRE, None, "EmployeeID"), (POST, None, "EmployeeID")), "id column 'EmployeeID' is not in the file"),
    # -- review: rows whose width is not the header's (nothing padded, cut or shifted)
    IngestCase("decimal comma adding a cell to a row whose last cells are empty",
               replace_in(POST, "E106,Flo Fixture,flo.fixture@example.org,,3,,,", "E106,Flo Fixture,flo.fixture@example.org,,3,5,,,"),
               "problems", ((POST, 6, None),), "row has 9 cells but the header has 8"),
    IngestCase("trailing delimiter on one data line", replace_in(POST, "2025-07-09,2,3,3,3", "2025-07-09,2,3,3,3,"),
               "problems", ((POST, 7, None),), "row has 9 cells but the header has 8"),
    IngestCase("short row with its last answers missing",
               replace_in(POST, "2025-07-11,3,3,3,2", "2025-07-11,3,3"),
               "problems", ((POST, 5, None),), "row has 6 cells but the header has 8"),
    IngestCase("stray quote swallowing the following lines", replace_in(POST, "E104,Di Fixture", 'E104,"Di Fixture'),
               "problems", ((POST, 4, "Name"),), "a quote character opens a cell that runs over 4 lines (lines 4 to 7"),
    IngestCase("trailing delimiter on every line, the header's included",
               text(POST, lambda t: t.replace("\n", ",\n")), "ok", (),
               check=lambda rep, out: _answers(out, "E104", "post") == [5.0, 4.0, 1.0, 5.0]),
    # -- review: XLSX formulas without a saved value, date systems and implausible dates
    IngestCase("formula answers with no saved value in an XLSX export",
               to_xlsx(POST, 1, edit_ws=lambda ws: (ws.__setitem__("H3", "=2+1"), ws.__setitem__("H5", "=1+1"))),
               "problems", (("post.xlsx", 3, "Q1_4"), ("post.xlsx", 5, "Q1_4")), "formula with no saved value"),
    IngestCase("formula hire date with no saved value in an XLSX HR extract",
               to_xlsx(HR, None, edit_ws=lambda ws: (_hr_serials(ws), _hr_cell(ws, 4, "Start date", "=DATE(2021,11,8)"))),
               "problems", (("hr.xlsx", 4, "Start date"),), "formula with no saved value"),
    IngestCase("bare date serials of a 1904 date system workbook", to_xlsx(HR, None, edit_ws=_hr_serials_1904), "ok", (),
               check=lambda rep, out: _employment(out, "E101") == "E101,2023-09-01,,"
               and _employment(out, "E103") == "E103,2021-11-08,2025-05-20,voluntary"),
    IngestCase("year typed as a number in an XLSX date column",
               to_xlsx(HR, None, edit_ws=lambda ws: (_hr_serials(ws), _hr_cell(ws, 2, "Start date", 2023))),
               "problems", (("hr.xlsx", 2, "Start date"),), "date serial number for 1905-07-15"),
    IngestCase("open-ended exit date 31/12/9999 for 'still employed'", rcell(HR, 2, "Leaving date", "31/12/9999"),
               "problems", ((HR, 2, "Leaving date"),), "'31/12/9999' (9999-12-31) is outside the plausible range"),
    IngestCase("typo year 3023 in a hire date", rcell(HR, 3, "Start date", "17/03/3023"), "problems",
               ((HR, 3, "Start date"),), "(3023-03-17) is outside the plausible range"),
    # -- review: names, privacy, the mapping, files that are not CSV
    IngestCase("mapped column differing only in case", replace_in(POST, "Q1_4\n", "q1_4\n"), "problems",
               ((POST, 1, "q1_4"),), "the mapping's column 'Q1_4' (columns.Q1_4: inc_4) is not in the file, but 'q1_4' is"),
    IngestCase("pair ids built from employee ids, pseudonymised",
               cells(pseudonymised_with_key_file, *[rcell(HR, r, "Pair", v) for r, v in
                                                    ((2, "E101-E102"), (3, "E101-E102"), (4, "E103-E104"), (5, "E103-E104"))]),
               "problems", ((HR, 2, "Pair"), (HR, 3, "Pair"), (HR, 4, "Pair"), (HR, 5, "Pair")),
               "'E101-E102' contains the employee id(s) E101, E102"),
    IngestCase("manager's name mapped as a participant column",
               cells(rcell(HR, 1, "Manager", "Manager name"),
                     mapping(lambda m: m["hr"]["columns"].update(manager="Manager name"))),
               "problems", (("mapping.yaml", None, "hr.columns.manager"),), "looks like a direct identifier"),
    IngestCase("XLSX workbook saved with a .csv name", xlsx_named_csv(POST), "problems", ((POST, None, None),),
               "this is an XLSX workbook saved with a .csv name"),
    IngestCase("delimiter of two characters in the mapping", mapping(lambda m: m["surveys"][1].update(delimiter="\\t")),
               "problems", (("mapping.yaml", None, "surveys.1.delimiter"),), "is 2 characters, not one"),
    IngestCase("date_format with an unknown code", mapping(lambda m: m["hr"].update(date_format="%d/%m/%Y %Q")),
               "problems", (("mapping.yaml", None, "hr.date_format"),), "cannot be used to read dates"),
    IngestCase("key written twice in the mapping",
               lambda d: (d / "mapping.yaml").write_text((d / "mapping.yaml").read_text() + "pseudonymise: true\n"),
               "problems", (("mapping.yaml", None, None),), "key 'pseudonymise' appears twice"),
    # -- second review: one export read twice, a hidden first sheet, colliding labels, numeric missing codes
    IngestCase("one export under two survey entries (copy-pasted file:)",
               mapping(lambda m: m["surveys"][1].update(file="pre.csv", submitted_on="RecordedDate")),
               "problems", (("mapping.yaml", None, "surveys.1.file"),), "surveys.0 and surveys.1 both read pre.csv"),
    IngestCase("hidden first sheet of a workbook and no sheet: given", to_xlsx(POST, 1, edit_ws=_hidden_first_sheet),
               "problems", (("post.xlsx", None, None),), "first sheet, 'Responses (v1)', is hidden"),
    IngestCase("hr.values labels that differ only in case and spaces",
               mapping(lambda m: m["hr"]["values"]["arm"].update({"not  ENROLLED": "program"})),
               "problems", (("mapping.yaml", None, "hr.values.arm.not  ENROLLED"),),
               "labels 'Not enrolled' and 'not  ENROLLED' of hr.values.arm are the same label for ingest"),
    IngestCase("wave_values label mapped to a wave study.yaml lacks",
               mapping(lambda m: (m["surveys"][1].pop("wave"),
                                  m["surveys"][1].update(wave_column="Submitted", wave_values={"6 months": "Post"}))),
               "problems", (("mapping.yaml", None, "surveys.1.wave_values.6 months"),),
               "'Post' is not a wave of study.yaml"),
    IngestCase("missing value code -99 written as -99.0 and -99,0",
               cells(mapping(lambda m: m.update(missing_values=[-99])), rcell(POST, 2, "Q1_2", "-99.0"),
                     rcell(POST, 3, "Q1_4", "-99,0")),
               "ok", (), check=lambda rep, out: _answers(out, "E101", "post") == [4.0, None, 2.0, 4.0]
               and _answers(out, "E102", "post") == [3.0, 4.0, 3.0, None]
               and _inputs(rep)[POST]["missing_value_codes"] == 2),
]


def _disk_rows(path: Path, info: dict) -> int:
    """Data rows of an input on disk, counted independently of rmstudy (header rows excluded, blank rows included)."""
    if path.suffix == ".xlsx":
        return openpyxl.load_workbook(path, read_only=True).active.max_row - info["header_rows"]
    data = path.read_bytes()
    for enc in ("utf-16", "utf-8-sig", "latin-1"):
        try:
            text = data.decode(enc)
            if enc == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
                continue
            break
        except UnicodeDecodeError:
            continue
    delim = {"comma": ",", "semicolon": ";", "tab": "\t"}[info["delimiter"]]
    return sum(1 for _ in csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delim)) - info["header_rows"]


@pytest.mark.parametrize("case", INGEST_CASES, ids=lambda c: c.name)
def test_malformed_export(case: IngestCase, raw: Path):
    case.edit(raw)
    out = raw.parent / "out"
    if case.outcome == "problems":
        with pytest.raises(CohortError) as e:
            ingest(raw / "mapping.yaml", out)
        probs = e.value.problems
        assert {(p.file, p.row, p.column) for p in probs} == set(case.where), "\n".join(map(str, probs))
        first = next(p for p in probs if (p.file, p.row, p.column) == case.where[0])
        assert case.needle in first.message, str(first)
        assert first.fix
        assert not out.exists()                          # nothing half-written
        return
    report = ingest(raw / "mapping.yaml", out)
    assert report["cohort"]["ok"], report["cohort"]
    excluded = set()
    for f in report["inputs"]:
        led = f["ledger"]
        assert led["rows_in"] == _disk_rows(raw / f["file"], f), f["file"]
        assert led["written"] + led["excluded"] == led["rows_in"], f["file"]
        for reason, rows in led["reasons"].items():
            assert case.needle in reason, reason
            excluded |= {(f["file"], r) for r in rows}
    assert excluded == set(case.where)
    surveys = sum(f["ledger"]["written"] for f in report["inputs"] if f["kind"] == "survey")
    hr = next(f for f in report["inputs"] if f["kind"] == "hr")
    assert surveys == _data_lines(out / "responses.csv") and hr["ledger"]["written"] == _data_lines(out / "participants.csv")
    if case.check:
        assert case.check(report, out)


def test_catalogue_has_at_least_40_distinct_malformed_inputs():
    names = [c.name for c in COHORT_CASES] + [c.name for c in INGEST_CASES]
    assert len(set(names)) == len(names) >= 40
