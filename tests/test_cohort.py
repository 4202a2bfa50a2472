"""Loading the cohort folder: every basic check names file, row and column."""

import shutil

import numpy as np
import pandas as pd
import pytest

import rmstudy as rm
from rmstudy.errors import CohortError
from conftest import DEMO


@pytest.fixture()
def cohort_dir(tmp_path):
    d = tmp_path / "cohort"
    shutil.copytree(DEMO, d)
    return d


def _edit(path, fn):
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df = fn(df)
    df.to_csv(path, index=False)


def _problems(d):
    with pytest.raises(CohortError) as e:
        rm.load_cohort(d)
    return e.value.problems


def _one(probs, **kw):
    hits = [p for p in probs if all(getattr(p, k) == v for k, v in kw.items())]
    assert hits, f"no problem with {kw} among {probs}"
    return hits[0]


def test_demo_loads_typed(demo_cohort):
    c = demo_cohort
    assert len(c.participants) == 600
    assert list(c.responses["wave"].cat.categories) == ["pre", "post"]
    assert c.responses["fsa_01"].dtype == float
    assert pd.api.types.is_datetime64_any_dtype(c.employment["exit_date"])
    assert set(c.participants["arm"]) == {"program", "control"}


@pytest.mark.parametrize("name", ["participants.csv", "responses.csv", "codebook.yaml", "study.yaml"])
def test_missing_file(cohort_dir, name):
    (cohort_dir / name).unlink()
    p = _one(_problems(cohort_dir), file=name)
    assert "missing" in p.message and "cohort folder" in p.fix


def test_missing_column(cohort_dir):
    _edit(cohort_dir / "participants.csv", lambda d: d.drop(columns="role"))
    p = _one(_problems(cohort_dir), file="participants.csv", column="role")
    assert p.row is None and "missing" in p.message


def test_missing_item_column(cohort_dir):
    _edit(cohort_dir / "responses.csv", lambda d: d.drop(columns="uwes_04"))
    p = _one(_problems(cohort_dir), file="responses.csv", column="uwes_04")
    assert "engagement" in p.message


def test_unknown_wave_names_row(cohort_dir):
    def f(d):
        d.loc[4, "wave"] = "postt"
        return d
    _edit(cohort_dir / "responses.csv", f)
    p = _one(_problems(cohort_dir), file="responses.csv", column="wave")
    assert p.row == 6 and "postt" in p.message and "pre" in p.fix


def test_unknown_arm_and_role(cohort_dir):
    def f(d):
        d.loc[0, "arm"] = "treatment"
        d.loc[9, "role"] = "mentor"
        return d
    _edit(cohort_dir / "participants.csv", f)
    probs = _problems(cohort_dir)
    assert _one(probs, file="participants.csv", column="arm").row == 2
    assert _one(probs, file="participants.csv", column="role").row == 11


@pytest.mark.parametrize("value,needle", [("9", "outside the codebook range"), ("four", "not a number"),
                                          ("2.5", "not one of the scale's answer points"), ("-1", "outside")])
def test_item_value_checks(cohort_dir, value, needle):
    def f(d):
        d.loc[10, "fsa_03"] = value
        return d
    _edit(cohort_dir / "responses.csv", f)
    p = _one(_problems(cohort_dir), file="responses.csv", column="fsa_03", row=12)
    assert needle in p.message


def test_padded_and_decimal_forms_of_valid_answers_are_accepted(cohort_dir):
    def f(d):
        d.loc[10, "fsa_03"] = " 4 "
        d.loc[11, "fsa_03"] = "4.0"
        return d
    _edit(cohort_dir / "responses.csv", f)
    c = rm.load_cohort(cohort_dir)
    assert c.responses.loc[10, "fsa_03"] == 4 and c.responses.loc[11, "fsa_03"] == 4


def test_duplicate_participant_wave(cohort_dir):
    def f(d):
        return pd.concat([d, d.iloc[[3]]], ignore_index=True)
    _edit(cohort_dir / "responses.csv", f)
    p = _one(_problems(cohort_dir), file="responses.csv", column="wave")
    assert "duplicate" in p.message and "row 5" in p.message


def test_response_from_unknown_participant(cohort_dir):
    def f(d):
        d.loc[0, "participant_id"] = "P9999"
        return d
    _edit(cohort_dir / "responses.csv", f)
    p = _one(_problems(cohort_dir), file="responses.csv", column="participant_id", row=2)
    assert "P9999" in p.message


def test_pair_needs_one_junior_and_one_senior(cohort_dir):
    changed = {}

    def f(d):
        i = d.index[(d["arm"] == "program") & (d["role"] == "senior")][0]
        d.loc[i, "role"] = "junior"
        changed["pair"] = d.loc[i, "pair_id"]
        changed["row"] = int(d.index[d["pair_id"] == changed["pair"]][0]) + 2
        return d
    _edit(cohort_dir / "participants.csv", f)
    p = _one(_problems(cohort_dir), file="participants.csv", column="pair_id")
    assert changed["pair"] in p.message and "not one junior and one senior" in p.message
    assert p.row == changed["row"]


def test_exit_before_hire(cohort_dir):
    def f(d):
        d.loc[7, "exit_date"] = "1990-01-01"
        d.loc[7, "exit_reason"] = "voluntary"
        return d
    _edit(cohort_dir / "employment.csv", f)
    _one(_problems(cohort_dir), file="employment.csv", column="exit_date", row=9)


def test_bad_date_format(cohort_dir):
    def f(d):
        d.loc[2, "hire_date"] = "03/04/2020"
        return d
    _edit(cohort_dir / "employment.csv", f)
    p = _one(_problems(cohort_dir), file="employment.csv", column="hire_date", row=4)
    assert "YYYY-MM-DD" in p.fix


def test_header_only_file(cohort_dir):
    path = cohort_dir / "responses.csv"
    path.write_text(path.read_text().splitlines()[0] + "\n")
    _one(_problems(cohort_dir), file="responses.csv")


def test_all_problems_reported_together(cohort_dir):
    def f(d):
        d.loc[1, "wave"] = "x"
        d.loc[2, "fsa_01"] = "7"
        return d
    _edit(cohort_dir / "responses.csv", f)
    probs = _problems(cohort_dir)
    assert {(p.row, p.column) for p in probs} >= {(3, "wave"), (4, "fsa_01")}
    assert "responses.csv, row 3, column 'wave'" in str(CohortError(probs))


def test_study_schema_violation_names_key(cohort_dir):
    text = (cohort_dir / "study.yaml").read_text().replace("family: primary", "family: main", 1)
    (cohort_dir / "study.yaml").write_text(text)
    p = _one(_problems(cohort_dir), file="study.yaml")
    assert p.column.startswith("hypotheses.0") and "main" in p.message


def test_outcome_must_be_in_codebook(cohort_dir):
    text = (cohort_dir / "study.yaml").read_text().replace("outcome: bias_older", "outcome: bias_old", 1)
    (cohort_dir / "study.yaml").write_text(text)
    p = _one(_problems(cohort_dir), file="study.yaml")
    assert "bias_old" in p.message and "bias_older" in p.fix


def test_codebook_reverse_item_must_belong_to_scale(cohort_dir):
    text = (cohort_dir / "codebook.yaml").read_text().replace("- fsa_02\n    - fsa_05", "- fsa_33\n    - fsa_05", 1)
    assert "fsa_33" in text
    (cohort_dir / "codebook.yaml").write_text(text)
    p = _one(_problems(cohort_dir), file="codebook.yaml")
    assert "fsa_33" in p.message


def test_codebook_unknown_key_is_an_error(cohort_dir):
    text = (cohort_dir / "codebook.yaml").read_text().replace("    reverse:\n", "    reverse_items:\n", 1)
    (cohort_dir / "codebook.yaml").write_text(text)
    p = _one(_problems(cohort_dir), file="codebook.yaml")
    assert "reverse_items" in p.message


def test_impossible_plan_date(cohort_dir):
    text = (cohort_dir / "study.yaml").read_text().replace("programme_start: '2025-01-06'", "programme_start: '2025-02-30'")
    assert "2025-02-30" in text
    (cohort_dir / "study.yaml").write_text(text)
    p = _one(_problems(cohort_dir), file="study.yaml", column="programme_start")
    assert "calendar date" in p.message


def test_sesoi_units_must_fit_the_outcome(cohort_dir):
    text = (cohort_dir / "study.yaml").read_text().replace("sesoi_units: hazard_ratio", "sesoi_units: d")
    (cohort_dir / "study.yaml").write_text(text)
    p = _one(_problems(cohort_dir), file="study.yaml")
    assert "hazard ratio" in p.message and p.column.endswith("sesoi_units")


def test_population_column_checked_before_any_analysis(cohort_dir):
    text = (cohort_dir / "study.yaml").read_text().replace("role: junior", "rank: junior", 1)
    (cohort_dir / "study.yaml").write_text(text)
    p = _one(_problems(cohort_dir), file="study.yaml")
    assert "'rank'" in p.message and "population" in p.column


def test_population_value_that_matches_nobody(cohort_dir):
    text = (cohort_dir / "study.yaml").read_text().replace("role: junior", "role: Junior", 1)
    (cohort_dir / "study.yaml").write_text(text)
    p = _one(_problems(cohort_dir), file="study.yaml")
    assert "matches nobody" in p.message


def test_blank_line_keeps_row_numbers(cohort_dir):
    lines = (cohort_dir / "responses.csv").read_text().splitlines()
    lines.insert(3, "")                     # becomes spreadsheet row 4
    cells = lines[5].split(",")             # spreadsheet row 6
    cells[1] = "later"
    lines[5] = ",".join(cells)
    (cohort_dir / "responses.csv").write_text("\n".join(lines) + "\n")
    probs = _problems(cohort_dir)
    assert _one(probs, file="responses.csv", message="blank line").row == 4
    assert "later" in _one(probs, file="responses.csv", column="wave", row=6).message


def test_date_must_be_zero_padded_iso(cohort_dir):
    def f(d):
        d.loc[0, "hire_date"] = "2020-1-6"
        return d
    _edit(cohort_dir / "employment.csv", f)
    _one(_problems(cohort_dir), file="employment.csv", column="hire_date", row=2)


def test_unquoted_impossible_date_is_a_listed_problem(cohort_dir):
    text = (cohort_dir / "study.yaml").read_text().replace("programme_start: '2025-01-06'", "programme_start: 2025-02-30")
    assert "2025-02-30" in text
    (cohort_dir / "study.yaml").write_text(text)
    p = _one(_problems(cohort_dir), file="study.yaml")
    assert "YAML" in p.message


def test_codebook_subscales_must_be_a_mapping(cohort_dir):
    text = (cohort_dir / "codebook.yaml").read_text().replace("    subscales:\n", "    subscales: vigor\n    x_subscales:\n", 1)
    (cohort_dir / "codebook.yaml").write_text(text)
    probs = _problems(cohort_dir)
    assert any("subscales is not a mapping" in p.message for p in probs)


def test_population_list_with_a_misspelt_value(cohort_dir):
    text = (cohort_dir / "study.yaml").read_text().replace("role: junior", "role: [junior, junoir]", 1)
    (cohort_dir / "study.yaml").write_text(text)
    p = _one(_problems(cohort_dir), file="study.yaml")
    assert "junoir" in p.message


def test_population_that_matches_nobody_as_a_whole(cohort_dir):
    text = (cohort_dir / "study.yaml").read_text().replace("    role: junior\n", "    role: junior\n    age:\n      min: 60\n", 1)
    (cohort_dir / "study.yaml").write_text(text)
    p = _one(_problems(cohort_dir), file="study.yaml")
    assert "matches nobody" in p.message and "H1a" in p.message


def test_study_schema_v1_still_loads_and_v2_key_needs_v2(cohort_dir):
    path = cohort_dir / "study.yaml"
    text = path.read_text()
    assert "schema_version: 2" in text and "reliability_threshold: 0.7" in text
    v1 = (text.replace("schema_version: 2", "schema_version: 1").replace("reliability_threshold: 0.7\n", "")
          .replace("  cluster: department\n", ""))
    path.write_text(v1)
    c = rm.load_cohort(cohort_dir)
    assert c.study.reliability_threshold == 0.70                 # the default
    path.write_text(v1.replace("low_response_rate: 0.6", "low_response_rate: 0.6\nreliability_threshold: 0.7"))
    p = _one(_problems(cohort_dir), file="study.yaml")           # a v1 plan cannot use the v2 key
    assert "reliability_threshold" in p.message and "schema_version: 2" in p.fix and len(str(p)) < 300
    path.write_text(text.replace("reliability_threshold: 0.7", "reliability_threshold: 0.8"))
    assert rm.load_cohort(cohort_dir).study.reliability_threshold == 0.8


@pytest.mark.parametrize("rule,kept", [("keep_latest", 4), ("keep_earliest", 2), ("keep_most_complete", 3)])
def test_duplicate_rules_pick_one_of_three_submissions(rule, kept):
    """P1 answered 'pre' three times: rows 2 (2025-01-02, 2 items), 3 (2025-01-03, 3 items) and 4 (2025-01-03, 2
    items; same day as row 3, later in the file). P2's single row is never touched; P3 has an undated duplicate
    pair (rows 6 and 7) under keep_most_complete only, where the complete one wins regardless of dates."""
    from rmstudy.contract.cohort import _duplicate_losers

    d = lambda s: pd.Timestamp(s) if s else pd.NaT
    R = pd.DataFrame({"participant_id": ["P1", "P1", "P1", "P2", "P3", "P3"],
                      "wave": ["pre"] * 6,
                      "submitted_on": [d("2025-01-02"), d("2025-01-03"), d("2025-01-03"), d("2025-01-02"),
                                       d("2025-01-05"), d("2025-01-04")],
                      "a": [1, 1, 1, 1, 1, None], "b": [1, 1, 1, 1, 1, None], "c": [None, 1, None, 1, None, 1]})
    eligible = np.ones(len(R), dtype=bool)
    lose, keep = _duplicate_losers(R, eligible, rule, ["a", "b", "c"])
    p1 = {int(p) + 2: int(k) + 2 for p, k in zip(lose, keep) if R["participant_id"].iat[p] == "P1"}
    assert set(p1) == {2, 3, 4} - {kept} and set(p1.values()) == {kept}
    p3 = {int(p) + 2: int(k) + 2 for p, k in zip(lose, keep) if R["participant_id"].iat[p] == "P3"}
    # P3: row 6 (2025-01-05, 2 items) vs row 7 (2025-01-04, 1 item)
    assert p3 == ({7: 6} if rule in ("keep_latest", "keep_most_complete") else {6: 7})
    # a row set aside beforehand (late) never wins: without row 6, P3 has no duplicate left
    eligible[4] = False
    lose, _ = _duplicate_losers(R, eligible, rule, ["a", "b", "c"])
    assert not any(R["participant_id"].iat[p] == "P3" for p in lose)


def test_stray_quote_in_a_large_file_is_a_problem_not_a_traceback(cohort_dir):
    """A quote that never closes makes Python's csv reader hit its field-size limit on a file of this size."""
    lines = (cohort_dir / "responses.csv").read_text().splitlines()
    assert sum(map(len, lines[5:])) > 131072                   # csv.field_size_limit() default
    lines[4] = lines[4].replace(",", ',"', 1)                    # spreadsheet row 5
    (cohort_dir / "responses.csv").write_text("\n".join(lines) + "\n")
    (p,) = _problems(cohort_dir)
    assert (p.file, p.row, p.column) == ("responses.csv", 5, None) and "never closes" in p.message


def test_non_breaking_spaces_around_a_number_are_removed(cohort_dir):
    def f(d):
        d.loc[0, "age"] = "26\u00a0"
        return d
    _edit(cohort_dir / "participants.csv", f)
    assert rm.load_cohort(cohort_dir).participants.loc[0, "age"] == 26


def test_plan_value_in_nfd_matches_the_same_rows_at_load_and_in_the_analysis(cohort_dir):
    """One population matcher: a department typed in the plan with a combining accent (NFD) is the department
    participants.csv holds precomposed (NFC), for load_cohort's check, validate and the analysis alike."""
    import unicodedata

    import yaml

    nfc, nfd = unicodedata.normalize("NFC", "Réseau"), unicodedata.normalize("NFD", "Réseau")
    assert nfc != nfd
    P = pd.read_csv(cohort_dir / "participants.csv", dtype=str, keep_default_na=False)
    P.loc[P["department"] == "Operations", "department"] = nfc
    P.to_csv(cohort_dir / "participants.csv", index=False)
    plan = yaml.safe_load((cohort_dir / "study.yaml").read_text(encoding="utf-8"))
    h = plan["hypotheses"][2]
    h["population"] = {"department": nfd}
    (cohort_dir / "study.yaml").write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), encoding="utf-8")

    c = rm.load_cohort(cohort_dir)                 # before: "department = ['Réseau'] matches nobody"
    expected = set(c.participants.loc[c.participants["department"] == nfc, "participant_id"])
    assert 0 < len(expected) < len(c.participants)
    hyp = c.study.hypothesis(h["id"])
    assert set(rm.select_population(c.participants, hyp.population, hyp.id)["participant_id"]) == expected
    scores = rm.score_scales(c.responses, c.codebook)
    row = rm.analyse_survey_hypothesis(c, scores, hyp)[0]
    assert sum(v["participants"] for v in row.n.values()) == len(
        expected & set(scores.dropna(subset=[hyp.outcome])["participant_id"]))


def test_number_and_text_checks_read_each_distinct_text_once_and_give_every_cell_its_reading():
    # the text pass reads each distinct cell once and spreads the reading back over the rows: every cell must
    # get its own reading, in its own row, whatever the mix and order of texts
    from rmstudy.contract import table_schemas as ts
    texts = ["4", " 4 ", "4.0", "\u00a03\u00a0", "", "  ", "four", "inf", "nan", "2.5", "-1", "1e1", "4", ""]
    rng = np.random.default_rng(5)
    cells = pd.Series(rng.choice(np.array(texts, dtype=object), 300), index=np.arange(300) + 7)
    parsed = ts.Parsed()
    t = ts.responses_text(["pre"], {"q": "s"}, parsed)
    found = ts.problems(t, pd.DataFrame({"participant_id": "P1", "wave": "pre", "q": cells}))
    one_by_one = {x: float(x.strip()) if x.strip() not in ("", "four", "inf", "nan") else np.nan for x in texts}
    assert parsed["q"].index.equals(cells.index)
    assert np.array_equal(parsed["q"].to_numpy(), cells.map(one_by_one).to_numpy(), equal_nan=True)
    bad = {p.row for p in found}
    assert bad == {int(i) + 2 for i, x in cells.items() if x.strip() in ("four", "inf", "nan")}
    from rmstudy.contract.cells import stripped
    assert stripped(cells).tolist() == [x.strip() for x in cells]


def test_pair_and_group_rules_flag_the_first_row_of_each_bad_pair_or_group_as_a_plain_loop_does():
    """table_schemas._pair_ok / _group_ok count roles per pair or group (vectorised); the rule, read plainly: a
    programme pair is exactly one junior and one senior, a programme group has at least one of each; the first row
    of each one that is not is flagged."""
    import numpy as np

    from rmstudy.contract.table_schemas import _group_ok, _pair_ok

    rng = np.random.default_rng(11)
    for trial in range(40):
        n = int(rng.integers(1, 60))
        d = pd.DataFrame({"arm": rng.choice(["program", "control"], n, p=[0.8, 0.2]),
                          "role": rng.choice(["junior", "senior", "Junior", ""], n, p=[0.45, 0.45, 0.05, 0.05]),
                          "pair_id": rng.choice(["", "p1", "p2", "p3", "p4", "p5", "nan"], n),
                          "group_id": rng.choice(["", "g1", "g2", "g3"], n)},
                         index=rng.permutation(np.arange(100, 100 + n)))
        for col, rule, good in (("pair_id", _pair_ok, lambda roles: sorted(roles) == ["junior", "senior"]),
                                ("group_id", _group_ok, lambda roles: {"junior", "senior"} <= set(roles))):
            want = pd.Series(True, index=d.index)
            seen = set()
            for i, r in d.iterrows():
                key = r[col]
                if r["arm"] != "program" or key == "" or key in seen:
                    continue
                seen.add(key)
                same = d[(d["arm"] == "program") & (d[col] == key)]
                want[i] = good(list(same["role"]))
            assert rule(d).equals(want), (trial, col)


def test_date_cells_read_once_per_distinct_text_equal_the_cell_by_cell_reading():
    """table_schemas' date check reads each distinct text once (contract.cells.per_text); every cell gets what
    reading it alone gives (the reading before, restated here), for odd and hostile texts and missing cells."""
    import numpy as np

    from rmstudy.contract.cells import stripped
    from rmstudy.contract.cells import FIRST_DAY as _FIRST_DAY
    from rmstudy.contract.cells import ISO_DATE as _ISO
    from rmstudy.contract.cells import LAST_DAY as _LAST_DAY
    from rmstudy.contract.table_schemas import _date_check

    texts = ["2024-02-29", " 2024-02-29 ", "2023-02-29", "9999-12-31", "1899-12-31", "1900-01-01", "2100-12-31",
             "2024-1-1", "24-01-01", "", "  ", "\u00a02024-03-01", "\u0662\u0660\u0662\u0664-01-01", "2024-13-01",
             "2024-01-01T00:00", "nan", "NaT", "x", None, float("nan")]
    rng = np.random.default_rng(5)
    s = pd.Series(rng.choice(np.array(texts, dtype=object), 500), index=rng.permutation(np.arange(1000, 1500)))
    parsed: dict = {}
    ok = _date_check("d", parsed, required=False)[0]
    got = ok(s) if not hasattr(ok, "_check_fn") else ok._check_fn(s)
    t = stripped(s)
    want = pd.to_datetime(t.where(t.str.fullmatch(_ISO)), format="%Y-%m-%d", errors="coerce")
    want = want.where((want >= _FIRST_DAY) & (want <= _LAST_DAY))
    assert parsed["d"].equals(want) and parsed["d"].notna().sum() > 100
    assert got.equals((t == "") | want.notna())


def test_record_problems_without_quotes_equal_the_csv_readers():
    """csvio.record_problems reads a quote-free text line by line; it finds what Python's csv reader finds (the
    same problems, rows and messages) for odd line ends, blank and space-only lines, a duplicated header name and
    rows with too few or too many cells; a line over the reader's field-size limit goes to the reader itself."""
    import csv

    import numpy as np

    from rmstudy.contract.csvio import _csv_record_problems, record_problems

    rng = np.random.default_rng(17)
    pieces = ["a", " b ", "", "x y", "\u00a0", "\t", "c"]
    ends = ["\n", "\r\n", "\r"]
    found = 0
    for trial in range(300):
        header = ",".join(rng.choice(["id", "arm", " id", "wave", "q1"], int(rng.integers(1, 5))))
        lines = [header] + [",".join(rng.choice(pieces, int(rng.integers(1, 6)))) for _ in range(int(rng.integers(0, 8)))]
        text = "".join(line + str(rng.choice(ends)) for line in lines)
        if rng.random() < 0.3:
            text = text.rstrip("\r\n")                       # no line end after the last row
        want = [(p.row, p.column, p.message, p.fix) for p in _csv_record_problems(text, "t.csv")]
        assert [(p.row, p.column, p.message, p.fix) for p in record_problems(text, "t.csv")] == want, repr(text)
        found += len(want)
    assert found > 100
    long = "id,arm\nP1," + "x" * (csv.field_size_limit() + 1) + "\n"
    assert [p.message for p in record_problems(long, "t.csv")] == [p.message for p in _csv_record_problems(long, "t.csv")]
