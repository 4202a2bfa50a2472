"""The academic report's attrition paragraph says which way completers differ in the words of each scale's
favourable end (codebook ``favourable``), not by assuming that higher is better."""

import re

from rmstudy.contract.codebook import Codebook, Scale
from rmstudy.report.academic_baseline import attrition_paragraphs


def _res(rows):
    t = [{"arm": "program", "enrolled": 40, "dropout_rate": 0.2}, {"arm": "control", "enrolled": 40, "dropout_rate": 0.1}]
    return {"attrition": {"table": t, "last_wave": "T2", "baseline_by_completion": rows}}


def _row(scale, arm, smd, c=3.0, d=2.5):
    return {"scale": scale, "arm": arm, "smd": smd, "completers_mean": c, "dropouts_mean": d,
            "completers_n": 30, "dropouts_n": 8}


CB = Codebook({"bias": Scale("bias", ("b1", "b2"), 1, 5, label="Age bias", favourable="low"),
               "engage": Scale("engage", ("e1", "e2"), 1, 5, label="Engagement", favourable="high"),
               "quit": Scale("quit", ("q1", "q2"), 0, 20, label="Turnover intention", favourable={"at_most": 8.0})})


def test_higher_completers_on_a_low_is_favourable_scale_started_worse_off():
    text = attrition_paragraphs(_res([_row("bias", "program", 0.4)]), CB)[1]
    assert "who started worse off than the dropouts on Age bias (programme)" in text
    assert "better off" not in text and "more favourable" not in text


def test_each_scale_is_worded_by_its_own_favourable_end():
    rows = [_row("bias", "control", -0.3, 2.0, 2.4), _row("engage", "program", 0.5), _row("engage", "control", -0.2),
            _row("quit", "program", 0.25)]
    text = attrition_paragraphs(_res(rows), CB)[1]
    m = re.search(r"who started better off than the dropouts on (.*?) and worse off than the dropouts on (.*?)\. If", text)
    assert m, text
    assert m.group(1) == "Age bias (comparison), Engagement (programme)"
    assert m.group(2) == "Engagement (comparison), Turnover intention (programme)"


def test_without_a_codebook_the_sentence_says_only_higher_or_lower():
    text = attrition_paragraphs(_res([_row("x", "program", 0.3), _row("y", "program", -0.3)]))[1]
    assert "who started higher than the dropouts on x (programme) and lower than the dropouts on y (programme)" in text
    assert "better off" not in text and "worse off" not in text


def test_small_differences_make_no_claim():
    assert attrition_paragraphs(_res([_row("bias", "program", 0.05)]), CB)[1] == (
        "At baseline, dropouts and completers differed by no more than 0.1 SD on any scale, in either arm.")
