"""rmstudy.checks.validate: three tiers (errors, exclusions, warnings), the row ledger and `rmstudy validate`."""

import json
import shutil
from pathlib import Path

import pytest

import rmstudy as rm
from rmstudy.cli import main
from rmstudy.checks.validate import validate

from conftest import DEMO

MESSY = Path(__file__).resolve().parent / "fixtures" / "messy"


def _reconciles(ledger):
    for name, l in ledger.items():
        assert l["rows_in"] == l["included"] + l["excluded"], name
        assert l["excluded"] == sum(l["reasons"].values()), name


def _at(findings, **kw):
    return [f for f in findings if all(getattr(f, k) == v for k, v in kw.items())]


# --- the demo cohort ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_report():
    return validate(DEMO)


def test_demo_has_no_errors_and_every_ledger_reconciles(demo_report, demo_cohort):
    assert demo_report.ok and demo_report.errors == []
    assert set(demo_report.ledger) == {"participants.csv", "responses.csv", "employment.csv"}
    _reconciles(demo_report.ledger)
    for name, l in demo_report.ledger.items():
        assert l["rows_in"] == demo_cohort.row_counts[name]


def test_demo_exclusions_equal_the_participant_flow(demo_report, demo_cohort, demo_scores):
    flow = rm.participant_flow(demo_cohort, demo_scores)
    counts = demo_report.exclusion_counts()
    expected = {(e["analysis"], e["reason"]): e["program"] + e["control"] for e in flow["exclusions"]}
    assert expected                                  # the demo has exclusions to compare
    assert counts == expected                        # no post-exit responses in the demo, so nothing extra
    for name in flow["ledger"]:
        for key in ("rows_in", "included", "excluded", "reasons"):
            assert demo_report.ledger[name][key] == flow["ledger"][name][key], (name, key)


def test_every_finding_names_file_row_or_column_and_fix(demo_report):
    for f in demo_report.exclusions + demo_report.warnings:
        assert f.file in ("participants.csv", "responses.csv", "employment.csv")
        assert f.column and f.fix
        if f.tier == "exclusion":
            assert f.row and f.row >= 2


# --- the messy fixture -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def messy():
    return validate(MESSY)


def test_messy_loads(messy):
    rm.load_cohort(MESSY)                            # tier 2 and 3 findings never stop the load
    assert messy.ok


def test_messy_scale_exclusions_at_exact_rows(messy):
    too_few = _at(messy.exclusions, check="scale_too_few_items", row=3)
    assert [(f.file, f.column, f.analysis) for f in too_few] == [("responses.csv", "inc_1–inc_5", "inclusion at pre")]
    assert too_few[0].reason == "fewer than 80% of the scale's 5 items answered"
    assert "2 of 5 items answered, 4 needed" in too_few[0].message
    none = _at(messy.exclusions, check="scale_too_few_items", row=5)
    assert sorted(f.analysis for f in none) == ["inclusion at pre", "voice at pre"]
    post = _at(messy.exclusions, row=14)
    assert [(f.column, f.analysis) for f in post] == [("voc_1–voc_3", "voice at post")]


def test_messy_response_after_exit(messy):
    (f,) = _at(messy.exclusions, check="submitted_after_exit")
    assert (f.file, f.row, f.column, f.participant_id) == ("responses.csv", 12, "submitted_on", "P03")
    assert "2025-07-09" in f.message and "2025-05-20" in f.message and "employment.csv, row 4" in f.message


def test_messy_exit_before_programme_start(messy):
    (f,) = _at(messy.exclusions, check="retention")
    assert (f.file, f.row, f.column, f.participant_id) == ("employment.csv", 9, "exit_date", "C04")
    assert f.reason == "left on or before the programme start"


def test_messy_warnings(messy):
    (sl,) = _at(messy.warnings, check="straight_lining")
    assert (sl.file, sl.row, sl.column) == ("responses.csv", 4, "inc_1–inc_5")
    assert "'inclusion'" in sl.message
    # voice has 3 items: identical answers (row 2: 4, 4, 4) are not flagged
    assert not _at(messy.warnings, check="straight_lining", row=2)
    small = _at(messy.warnings, check="small_group")
    assert [(f.file, f.row, f.column) for f in small] == [("participants.csv", r, "arm, role") for r in (2, 3, 6, 7)]
    assert "rows 2, 4" in small[0].message and "threshold 5" in small[0].message
    (att,) = _at(messy.warnings, check="differential_attrition")
    assert (att.file, att.column) == ("responses.csv", "wave")
    # P03's post response came after the exit: the run leaves it out, so programme is 3 of 4, not 4 of 4
    assert "programme 75.0%" in att.message and "control 25.0%" in att.message


def test_messy_ledger(messy):
    _reconciles(messy.ledger)
    assert messy.ledger["participants.csv"] == {"rows_in": 8, "included": 8, "excluded": 0, "reasons": {}}
    # row 5 (no scale scored) and row 12 (after exit) are out; rows 3 and 14 keep one scale, so they stay in
    assert messy.ledger["responses.csv"] == {
        "rows_in": 13, "included": 11, "excluded": 2,
        "reasons": {"submitted after the participant's exit_date": 1, "no scale scorable (too few items answered)": 1}}
    assert messy.ledger["employment.csv"] == {"rows_in": 8, "included": 7, "excluded": 1,
                                              "reasons": {"left on or before the programme start": 1}}


def test_text_report_order(messy):
    text = messy.to_text()
    heads = [text.index(h) for h in ("Errors (0)", "Exclusions (6)", "Warnings (8)", "Row ledger")]
    assert heads == sorted(heads)
    assert "responses.csv: 13 rows in, 11 included, 2 excluded" in text


# --- errors ------------------------------------------------------------------------------------------------

def _copy(src, tmp_path, name="cohort"):
    dst = tmp_path / name
    shutil.copytree(src, dst)
    return dst


def test_load_cohort_problems_become_errors(tmp_path):
    d = _copy(MESSY, tmp_path)
    text = (d / "participants.csv").read_text().replace("P03,program,junior,PR2,29", "P03,program,junior,PR2,NA")
    (d / "participants.csv").write_text(text)
    rep = validate(d)
    assert not rep.ok and rep.exit_code == 2 and rep.ledger == {}
    (e,) = rep.errors
    assert (e.file, e.row, e.column, e.message) == ("participants.csv", 4, "age", "'NA' is not a number")
    assert "fix:" in str(e)


def test_header_only_employment_is_an_error(tmp_path):
    d = _copy(MESSY, tmp_path)
    (d / "study.yaml").write_text((d / "study.yaml").read_text().split("  - id: H2")[0])   # no retention: load_cohort accepts it
    (d / "employment.csv").write_text("participant_id,hire_date,exit_date,exit_reason\n")
    rm.load_cohort(d)
    rep = validate(d)
    (e,) = rep.errors
    assert (e.file, e.row, e.message) == ("employment.csv", None, "file has a header but no data rows")


def test_empty_file_reported_once(tmp_path):
    d = _copy(MESSY, tmp_path)
    (d / "responses.csv").write_text("")
    rep = validate(d)
    assert [(e.file, e.message) for e in rep.errors] == [("responses.csv", "file is empty")]


# --- command line ------------------------------------------------------------------------------------------

def test_cli_exit_codes(tmp_path, capsys):
    assert main(["validate", str(DEMO)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("demo: OK — 600 participants") and "Row ledger" in out
    bad = _copy(MESSY, tmp_path)
    (bad / "responses.csv").write_text((bad / "responses.csv").read_text().replace("C01,post", "C01,mid"))
    assert main(["validate", str(bad)]) == 2
    out = capsys.readouterr().out
    assert "responses.csv, row 14, column 'wave': unknown wave 'mid'" in out


def _strings(obj):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)
    elif isinstance(obj, str):
        yield obj


def test_cli_json_is_valid_with_relative_paths(tmp_path, capsys):
    d = _copy(MESSY, tmp_path, "messy")
    out = tmp_path / "report.json"
    assert main(["validate", str(d), "--json", str(out)]) == 0
    capsys.readouterr()
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["cohort"] == "messy" and data["ok"] is True
    assert data["counts"] == {"errors": 0, "exclusions": 6, "warnings": 8}   # 4 small groups, 2 small hypothesis populations, straight-lining, attrition
    assert {f["file"] for f in data["exclusions"]} == {"responses.csv", "employment.csv"}
    _reconciles(data["ledger"])
    for s in _strings(data):
        assert str(tmp_path) not in s and not s.startswith("/") and "\\" not in s
    # without --json nothing is written
    before = set(tmp_path.rglob("*"))
    assert main(["validate", str(d)]) == 0
    assert set(tmp_path.rglob("*")) == before


def test_hired_after_follow_up_is_a_retention_exclusion(tmp_path):
    d = _copy(MESSY, tmp_path)
    (d / "employment.csv").write_text((d / "employment.csv").read_text().replace("C03,2020-08-24", "C03,2026-02-01"))
    rep = validate(d)
    (f,) = _at(rep.exclusions, reason="hired after the end of follow-up")
    assert (f.file, f.row, f.column, f.analysis) == ("employment.csv", 8, "hire_date", "retention")
    assert rep.ledger["employment.csv"]["excluded"] == 2
    _reconciles(rep.ledger)


def test_missing_folder_is_an_error(tmp_path):
    rep = validate(tmp_path / "nope")
    assert [e.message for e in rep.errors] == ["cohort folder not found"] and rep.exit_code == 2


def test_run_leaves_out_late_responses_and_its_ledger_matches_validate():
    """The analyses drop responses dated after the person's exit, and the participant-flow ledger that goes
    into results.json counts them exactly as `rmstudy validate` does."""
    from conftest import ROOT

    messy = ROOT / "tests" / "fixtures" / "messy"
    rep = validate(messy)
    late = [f for f in rep.exclusions if f.check == "submitted_after_exit"]
    assert late
    c = rm.analysis_cohort(messy)
    assert sorted(c.excluded_responses["row"]) == sorted(f.row for f in late)
    assert len(c.responses) + len(late) == c.row_counts["responses.csv"]
    flow = rm.participant_flow(c, rm.score_scales(c.responses, c.codebook))
    assert flow["ledger"]["responses.csv"] == rep.ledger["responses.csv"]


# --- the vectorised checks against a plain loop; the JSON writer; duplicate submissions ---------------------

def _reference_scale_exclusions(c):
    """The definition, one response row × scale at a time: (row, column, analysis, reason, id, answered)."""
    import pandas as pd

    scores = rm.score_scales(c.responses, c.codebook)
    out = []
    for i in range(len(c.responses)):
        wave = str(c.responses["wave"].iat[i])
        for s in c.codebook.scales.values():
            if pd.isna(scores[s.name].iat[i]):
                answered = int(scores[f"{s.name}__answered"].iat[i])
                reason = (f"fewer than {s.min_answered:.0%} of the scale's {s.n_items} items answered" if answered
                          else "no item of the scale answered (or not asked)")
                out.append((i + 2, f"{s.items[0]}–{s.items[-1]}", f"{s.name} at {wave}", reason,
                            c.responses["participant_id"].iat[i], answered))
    return out


def _reference_straight_lining(c):
    out = []
    for s in c.codebook.scales.values():
        if s.n_items < 5:
            continue
        for i in range(len(c.responses)):
            vals = [v for v in c.responses[list(s.items)].iloc[i] if v == v]
            if len(vals) >= 2 and len(vals) / s.n_items >= s.min_answered - 1e-12 and len(set(vals)) == 1:
                out.append((i + 2, f"{s.items[0]}–{s.items[-1]}", c.responses["participant_id"].iat[i]))
    return out


@pytest.fixture(scope="module")
def small_sim(tmp_path_factory):
    """A small simulated cohort with many scales left unscored (10% of answers missing; a scale not asked at
    the first wave) and planted straight-lining (every item answered, or all but one)."""
    tables, _ = rm.simulate_cohort(n_pairs=15, n_control_juniors=15, n_control_seniors=15, item_missing=0.10,
                                   truth_mc=2000)
    d = tmp_path_factory.mktemp("small_sim")
    R = tables["responses"]
    rm.save_cohort(d, tables["participants"], R, tables["employment"], tables["codebook"], tables["study"])
    long_scales = [s for s in rm.load_cohort(d).codebook.scales.values() if s.n_items >= 5]
    for k, s in enumerate(long_scales[:3]):
        R.loc[[3 * k, 3 * k + 1], list(s.items)] = 2.0                  # flat, every item answered
        R.loc[3 * k + 2, list(s.items)] = [3.0] * (s.n_items - 1) + [None]  # flat with one gap
    rm.save_cohort(d, tables["participants"], R, tables["employment"], tables["codebook"], tables["study"])
    return d


@pytest.mark.parametrize("where", ["small_sim", "messy", "demo"])
def test_vectorised_checks_equal_the_plain_loop(where, request):
    d = {"small_sim": lambda: request.getfixturevalue("small_sim"), "messy": lambda: MESSY,
         "demo": lambda: DEMO}[where]()
    c = rm.load_cohort(d)
    rep = validate(d)
    got = [(f.row, f.column, f.analysis, f.reason, f.participant_id, f.message)
           for f in rep.exclusions if f.check == "scale_too_few_items"]
    ref = _reference_scale_exclusions(c)
    assert any(r[5] > 0 for r in ref) and any(r[5] == 0 for r in ref)    # too few items, and none at all
    assert [g[:5] for g in got] == [r[:5] for r in ref]                  # same findings, same order
    for g, r in zip(got, ref):
        assert (f"{r[5]} of " in g[5]) if r[5] else ("no item answered" in g[5])
    sl = [(f.row, f.column, f.participant_id) for f in rep.warnings if f.check == "straight_lining"]
    assert sl == _reference_straight_lining(c) and sl


def test_to_json_writes_the_json_dumps_value_a_finding_a_line(tmp_path):
    from rmstudy.checks.validate import Finding, ValidationReport

    odd = 'quote " backslash \\ newline \n tab \t nul \x00 \u2028 é 😀'
    rep = ValidationReport(cohort="odd ✓", summary={"participants": 2, "x": None, "f": 0.1},
                           ledger={"responses.csv": {"rows_in": 1, "reasons": {odd: 1}}})
    rep.exclusions = [Finding("exclusion", "c", "responses.csv", odd, "fix", row=2, column=odd, analysis="a",
                              reason=odd, participant_id="P1")] * 5_000    # > 65,536 chunks: several pieces
    rep.warnings = [Finding("warning", "w", "participants.csv", "m", "f")]
    out = tmp_path / "r.json"
    rep.to_json(out)
    # the same JSON value as json.dumps writes; each finding on a line of its own (jsonio's rows_per_line)
    text = out.read_bytes().decode("utf-8")
    assert json.loads(text) == json.loads(json.dumps(rep.to_dict(), indent=2, ensure_ascii=False))
    one = json.dumps(rep.to_dict()["exclusions"][0], ensure_ascii=False, separators=(", ", ": "))
    assert text.count("\n    " + one) == 5_000 and "é 😀" in text and text.endswith("}\n")
    from dataclasses import asdict
    assert rep.to_dict()["exclusions"][0] == asdict(rep.exclusions[0])
    # made a batch at a time (jsonio.Rows), the bytes are those of the whole mapping written at once, also for an
    # empty table (errors) and a row number that numpy gave
    import numpy as np
    from rmstudy.contract.jsonio import write_json
    rep.warnings.append(Finding("warning", "w", "participants.csv", "m", "f", row=np.int64(7)))
    rep.to_json(out)
    assert out.read_bytes() == write_json(rep.to_dict(), tmp_path / "whole.json", rows_per_line=True).read_bytes()
    assert '"errors": [],' in out.read_text() and json.loads(out.read_text())["warnings"][1]["row"] == 7


def test_duplicate_submissions_kept_by_the_plan_are_exclusions_not_late_responses(tmp_path):
    d = _copy(MESSY, tmp_path)
    study = (d / "study.yaml").read_text()
    (d / "study.yaml").write_text(study.replace("schema_version: 1",
                                                "schema_version: 3\nduplicate_submissions: keep_latest"))
    with open(d / "responses.csv", "a") as fh:
        fh.write("P01,post,2025-07-20,4,4,2,4,5,4,5,5\n")                # row 15, later than row 10
    rep = validate(d)
    (dup,) = _at(rep.exclusions, check="duplicate_submission")
    assert (dup.row, dup.column, dup.participant_id, dup.analysis) == (10, "wave", "P01", "all survey analyses")
    assert "row 15 is kept" in dup.message and "keep_latest" in dup.message
    (late,) = _at(rep.exclusions, check="submitted_after_exit")          # the late response is still the only one
    assert late.row == 12
    c = rm.analysis_cohort(d)
    flow = rm.participant_flow(c, rm.score_scales(c.responses, c.codebook))
    assert rep.exclusion_counts() == {(e["analysis"], e["reason"]): e["program"] + e["control"]
                                      for e in flow["exclusions"]}
    assert rep.ledger == flow["ledger"]


def test_a_row_left_out_entirely_gets_one_exclusion_and_counts_match_the_flow(tmp_path):
    """Row 12 of the messy fixture (P03 at post) is dated after P03's exit; with most of its items blank it would
    also miss both scales, but a row left out of every survey analysis is one exclusion, as in results.json."""
    d = tmp_path / "messy"
    shutil.copytree(MESSY, d)
    lines = (d / "responses.csv").read_text().splitlines()
    assert lines[11].startswith("P03,post,2025-07-09,")
    lines[11] = "P03,post,2025-07-09,5,,,,,,,"
    (d / "responses.csv").write_text("\n".join(lines) + "\n")
    rep = validate(d)
    assert [f.check for f in _at(rep.exclusions, row=12)] == ["submitted_after_exit"]
    run = rm.analysis_cohort(d)
    flow = rm.participant_flow(run, rm.score_scales(run.responses, run.codebook))
    assert rep.exclusion_counts() == {(e["analysis"], e["reason"]): e["program"] + e["control"]
                                      for e in flow["exclusions"]}
    assert rep.ledger == flow["ledger"]


def test_thousands_of_errors_print_grouped_and_json_holds_them_all(tmp_path):
    """N/A typed for every missing answer: each cell is an error; the text shows 5 per column and counts the rest."""
    d = _copy(DEMO, tmp_path)
    text = (d / "responses.csv").read_text()
    lines = text.splitlines()
    head = lines[0].split(",")
    out = [lines[0]]
    for ln in lines[1:]:
        cells = ln.split(",")
        out.append(",".join("N/A" if (c == "" and head[j] not in ("submitted_on",)) else c
                            for j, c in enumerate(cells)))
    (d / "responses.csv").write_text("\n".join(out) + "\n")
    rep = validate(d)
    n_missing = sum(c == "" for ln in lines[1:] for j, c in enumerate(ln.split(",")) if head[j] != "submitted_on")
    assert len(rep.errors) == n_missing > 100
    shown = rep.to_text()
    assert shown.count("is not a number") == 5 * len({f.column for f in rep.errors})
    col = rep.errors[0].column
    k = sum(f.column == col for f in rep.errors)
    assert k > 5 and f"... and {k - 5} more like it in responses.csv, column '{col}' (see --json)" in shown
    rep.to_json(tmp_path / "new" / "dir" / "v.json")           # the folder is made
    assert len(json.loads((tmp_path / "new" / "dir" / "v.json").read_text())["errors"]) == n_missing


def test_population_value_with_a_stray_space_is_a_warning(tmp_path):
    d = _copy(DEMO, tmp_path)
    plan = (d / "study.yaml").read_text()
    assert "department" in (d / "participants.csv").read_text().splitlines()[0]
    import yaml
    s = yaml.safe_load(plan)
    s["hypotheses"][0]["population"] = {"department": "Sales"}
    (d / "study.yaml").write_text(yaml.safe_dump(s, sort_keys=False))
    lines = (d / "participants.csv").read_text().splitlines()
    head = lines[0].split(",")
    j = head.index("department")
    k = next(i for i, ln in enumerate(lines[1:], start=1) if ln.split(",")[j] == "Sales")
    cells = lines[k].split(",")
    cells[j] = "Sales "
    lines[k] = ",".join(cells)
    (d / "participants.csv").write_text("\n".join(lines) + "\n")
    rep = validate(d)
    (w,) = _at(rep.warnings, check="population_spacing")
    assert (w.file, w.row, w.column) == ("participants.csv", k + 1, "department")
    assert "'Sales '" in w.message and s["hypotheses"][0]["id"] in w.message


def test_rows_left_out_of_every_analysis_are_not_checked_for_straight_lining(tmp_path):
    d = _copy(MESSY, tmp_path)
    lines = (d / "responses.csv").read_text().splitlines()
    assert lines[11].startswith("P03,post,2025-07-09,")           # row 12: after P03's exit
    lines[11] = "P03,post,2025-07-09,3,3,3,3,3,4,4,5"
    cells = lines[12].split(",")                                    # row 13: P04 at post, analysed
    cells[3:8] = ["3"] * 5
    lines[12] = ",".join(cells)
    (d / "responses.csv").write_text("\n".join(lines) + "\n")
    rep = validate(d)
    rows = {f.row for f in _at(rep.warnings, check="straight_lining")}
    assert 12 not in rows and 13 in rows                            # row 13 is analysed, so it is checked


def test_yaml_problems_name_the_file_not_its_path_and_refuse_a_key_written_twice(tmp_path):
    d = _copy(MESSY, tmp_path)
    plan = (d / "study.yaml").read_text()
    (d / "study.yaml").write_text(plan.replace("alpha: 0.05\n", "alpha: 0.05\nalpha: 0.2\n", 1))
    rep = validate(d)
    (e,) = rep.errors
    assert e.file == "study.yaml" and "key 'alpha' appears twice" in e.message
    (d / "study.yaml").write_text(plan.replace("waves: [pre, post]", "waves: [pre, post", 1))   # bad syntax
    rep = validate(d)
    rep.to_json(tmp_path / "v.json")
    text = (tmp_path / "v.json").read_text()
    assert rep.errors and "study.yaml" in text and str(tmp_path) not in text


def test_cohort_edited_after_ingest_is_a_warning_and_drops_the_raw_ledger(tmp_path):
    from rmstudy.ingest.core import ingest

    from conftest import ROOT

    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "tests" / "fixtures" / "ingest", raw)
    ingest(raw / "mapping.yaml", tmp_path / "out")
    out = tmp_path / "out"
    rep = validate(out)
    assert not _at(rep.warnings, check="edited_after_ingest")
    c = rm.analysis_cohort(out)
    assert "ingest" in rm.participant_flow(c, rm.score_scales(c.responses, c.codebook))
    lines = (out / "responses.csv").read_text().splitlines()
    (out / "responses.csv").write_text("\n".join(lines[:-1]) + "\n")        # a row deleted by hand
    rep = validate(out)
    (w,) = _at(rep.warnings, check="edited_after_ingest")
    assert w.file == "responses.csv" and "SHA-256" in w.message
    c = rm.analysis_cohort(out)
    assert "ingest" not in rm.participant_flow(c, rm.score_scales(c.responses, c.codebook))


def test_population_with_one_arm_of_a_two_arm_cohort_is_a_warning(tmp_path):
    import yaml

    d = _copy(DEMO, tmp_path)
    s = yaml.safe_load((d / "study.yaml").read_text())
    k = next(i for i, h in enumerate(s["hypotheses"]) if h["outcome"] != "retention")
    s["hypotheses"][k]["population"] = {"arm": "program"}
    (d / "study.yaml").write_text(yaml.safe_dump(s, sort_keys=False))
    (w,) = _at(validate(d).warnings, check="single_arm_population")
    assert (w.file, w.row, w.column) == ("study.yaml", None, f"hypotheses.{k}.population")
    assert s["hypotheses"][k]["id"] in w.message and "within-arm change" in w.message
    assert not _at(validate(DEMO).warnings, check="single_arm_population")


def test_cli_refuses_unusable_output_paths_without_a_traceback(tmp_path, capsys):
    assert main(["validate", str(MESSY), "--json", str(tmp_path)]) == 2
    assert "is a folder; give a file name" in capsys.readouterr().err
    (tmp_path / "f").write_text("")
    assert main(["validate", str(MESSY), "--json", str(tmp_path / "f" / "v.json")]) == 2
    assert "cannot write" in capsys.readouterr().err
    assert main(["run", str(MESSY), "--out", str(tmp_path / "f")]) == 2
    assert "is a file; give a folder" in capsys.readouterr().err
    assert main(["run", str(MESSY), "--out", str(MESSY)]) == 2
    assert "is the cohort folder itself" in capsys.readouterr().err


def test_cli_run_prints_the_checks_summary_and_each_kind_of_warning(tmp_path, capsys, monkeypatch):
    """`rmstudy run` shows validate's counts and the first warning of each check (pipeline.run stubbed here: the
    real run is tested in test_pipeline.py)."""
    import rmstudy.run.pipeline as pipeline

    rep = validate(MESSY)

    def fake_run(cohort_dir, out_dir, checks, **kw):
        rep.to_json(Path(out_dir) / "validation.json")
        checks.update(rep.summary_for_cli())
        return {"hypotheses": []}

    monkeypatch.setattr(pipeline, "run", fake_run)
    assert main(["run", str(MESSY), "--out", str(tmp_path / "o"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert f"checks: {len(rep.exclusions)} exclusion(s), {len(rep.warnings)} warning(s)" in out
    checks = {w.check for w in rep.warnings}
    assert out.count("  warning: ") == len(checks) >= 3
    assert "(and 3 more like it)" in out                        # the four small_group warnings
    # the summary holds what validation.json holds
    saved = json.loads((tmp_path / "o" / "validation.json").read_text(encoding="utf-8"))
    assert rep.summary_for_cli() == {"exclusions": saved["counts"]["exclusions"], "warnings": [
        {k: w[k] for k in ("check", "file", "message")} for w in saved["warnings"]]}


def test_later_wave_dated_before_the_programme_start_is_a_warning(tmp_path):
    """A pre export mapped to post: the 'post' rows carry pre dates."""
    d = _copy(MESSY, tmp_path)
    lines = (d / "responses.csv").read_text().splitlines()
    k = next(i for i, ln in enumerate(lines) if ",post," in ln)
    lines[k] = lines[k].replace(",post,2025-07-", ",post,2024-12-", 1)
    (d / "responses.csv").write_text("\n".join(lines) + "\n")
    (w,) = _at(validate(d).warnings, check="later_wave_before_start")
    assert (w.file, w.row, w.column) == ("responses.csv", k + 1, "submitted_on") and "wave 'post'" in w.message
    assert not _at(validate(MESSY).warnings, check="later_wave_before_start")


def test_population_filter_matches_either_unicode_form(tmp_path):
    import unicodedata

    P = rm.load_cohort(MESSY).participants.copy()
    P.loc[0, "department"] = unicodedata.normalize("NFD", "Réseau")
    got = rm.select_population(P, {"department": unicodedata.normalize("NFC", "Réseau")})
    assert list(got["participant_id"]) == [P.loc[0, "participant_id"]]


def test_warnings_by_check_read_back_from_validation_json_equal_the_reports_own(tmp_path):
    """What a researcher running the notebooks by hand gets into flow.checks from `rmstudy validate --json`."""
    from rmstudy.checks.quality import read_warnings_by_check
    from rmstudy.checks.validate import Finding, ValidationReport

    rep = ValidationReport(cohort="c")
    rep.warnings = [Finding("warning", k, "responses.csv", f"{k} {i}", "f") for i, k in enumerate("abab a")]
    rep.to_json(tmp_path / "validation.json")
    assert read_warnings_by_check(tmp_path / "validation.json") == rep.warnings_by_check() == [
        {"check": "a", "count": 3, "first_message": "a 0"}, {"check": "b", "count": 2, "first_message": "b 1"},
        {"check": " ", "count": 1, "first_message": "  4"}]
    assert read_warnings_by_check(tmp_path / "absent.json") is None
    (tmp_path / "other.json").write_text('{"cohort": "not a validation report"}')
    assert read_warnings_by_check(tmp_path / "other.json") is None
