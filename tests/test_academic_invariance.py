"""Measurement invariance in results.json (analysis.measurement.measurement_invariance) and in the academic report
(report.academic_invariance): rows for every >= 3-item scale of any cohort, reasons instead of crashes, the table and
the flag beside a mean comparison whose scale fails scalar invariance; nothing depends on a scale's name."""

import jsonschema
import pandas as pd
import pytest

from conftest import DEMO, ROOT
from rmstudy.analysis.measurement import measurement_invariance
from rmstudy.contract.cohort import load_cohort
from rmstudy.contract.jsonio import to_jsonable
from rmstudy.contract.study import load_schema
from rmstudy.report import academic as A

OTHER = ROOT / "tests" / "fixtures" / "other_cohort"


def _row(scale, across, level, delta, reason=None, cfi=0.99):
    fitted = reason is None
    return {"scale": scale, "across": across, "level": level, "chisq": 10.0 if fitted else None,
            "df": 8 if fitted else None, "cfi": cfi if fitted else None, "rmsea": 0.03 if fitted else None,
            "delta_cfi": delta, "n": 200, "reason": reason, "note": None}


def _res(rows):
    return {"psychometrics": {"invariance": rows}}


RES = _res([_row("zz_a", "arm", "configural", None), _row("zz_a", "arm", "metric", -0.002),
            _row("zz_a", "arm", "scalar", -0.024),
            _row("zz_b", "wave", "configural", None), _row("zz_b", "wave", "metric", -0.05),
            _row("zz_b", "wave", "scalar", -0.03),
            _row("zz_c", "role", "configural", None), _row("zz_c", "role", "metric", 0.0),
            _row("zz_c", "role", "scalar", -0.009),
            *[_row("zz_d", "role", lv, None, reason="too few complete answers from group 'x' (4; needs at least 30)")
              for lv in ("configural", "metric", "scalar")]])


def test_noninvariant_scales_use_the_first_failing_level_and_the_cutoff():
    bad = A.noninvariant_scales(RES)
    assert set(bad) == {"zz_a", "zz_b"}                      # -0.009 passes; an unfitted comparison raises nothing
    assert bad["zz_a"] == [{"across": "arm", "level": "scalar", "delta_cfi": -0.024}]
    assert bad["zz_b"] == [{"across": "wave", "level": "metric", "delta_cfi": -0.05}]   # metric fails: scalar too
    assert A.invariance_flag(RES, "zz_a") == A.INVARIANCE_MARK and A.invariance_flag(RES, "zz_c") == ""
    note = A.invariance_note(RES, "zz_b")
    assert "fails scalar invariance across waves at the metric level (ΔCFI = \u2212.050)" in note
    assert A.invariance_note(RES, "zz_c") == "" and A.invariance_note({}, "zz_a") == ""


def test_invariance_table_formats_marks_and_reasons():
    t = A.invariance_table(RES)
    assert len(t) == 12 and list(t.columns) == ["Scale", "Across", "Level", "χ² (df)", "CFI", "RMSEA", "ΔCFI", "n", "Note"]
    assert t.loc[2, "ΔCFI"] == "\u2212.024 " + A.INVARIANCE_MARK and t.loc[8, "ΔCFI"] == "\u2212.009"
    assert t.loc[0, "ΔCFI"] == "–" and t.loc[0, "χ² (df)"] == "10.00 (8)" and t.loc[0, "CFI"] == ".990"
    assert t.loc[9, "Note"].startswith("not fitted: too few complete answers") and t.loc[9, "CFI"] == "–"
    assert A.invariance_table({}).empty and A.invariance_table({"psychometrics": {}}).empty


def test_section_measurement_escapes_user_text_in_the_table():
    res = {"reliability": [], "psychometrics": {"invariance": [_row("<b>x</b>", "arm", "configural", None)]}}
    doc = A.AcademicDoc([("measurement", "Measurement")])
    html = A.section_measurement(doc, {**res, "reliability": [{"scale": "s", "wave": "w", "role": "all", "n": 3, "k": 3,
                                                               "alpha": 0.8, "alpha_ci_low": 0.7, "alpha_ci_high": 0.9,
                                                               "omega": 0.8, "omega_h": None, "average_r": 0.5}]})
    assert "Measurement invariance by scale" in html and "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html


@pytest.fixture(scope="module", params=[DEMO, OTHER], ids=["demo", "other"])
def rows(request):
    cohort = load_cohort(request.param)
    return cohort, measurement_invariance(cohort)


def test_every_scale_with_three_items_gets_nine_rows_that_meet_the_schema(rows):
    cohort, t = rows
    scales = [s.name for s in cohort.codebook.scales.values() if s.n_items >= 3]
    assert t["scale"].drop_duplicates().tolist() == scales
    assert (t.groupby("scale").size() == 9).all()
    fitted = t[t["reason"].isna()]
    assert len(fitted) and fitted["chisq"].notna().all() and (fitted["df"] >= 0).all()
    assert t.loc[t["reason"].notna(), "chisq"].isna().all()
    root = load_schema("results")
    schema = {"$defs": root["$defs"], **root["properties"]["psychometrics"]["properties"]["invariance"]}
    jsonschema.Draft202012Validator(schema).validate(to_jsonable(t))


def test_a_cohort_without_roles_or_second_wave_gets_reasons_not_errors(rows):
    cohort, _ = rows
    P = cohort.participants.drop(columns=["role"])
    first = cohort.study.waves[0]
    small = type("C", (), {"participants": P, "responses": cohort.responses[cohort.responses["wave"] == first],
                           "codebook": cohort.codebook, "study": cohort.study})()
    t = measurement_invariance(small)
    assert t.loc[t["across"] == "role", "reason"].str.contains("no role column").all()
    assert t.loc[t["across"] == "wave", "reason"].notna().all()
    assert isinstance(t, pd.DataFrame)
