"""HR wording: verdicts, sizes and certainty follow the numbers."""

from rmstudy.report import narrative
from rmstudy.contract.codebook import parse_codebook

SCALE = parse_codebook({"scales": {"eng": {"items": ["a", "b"], "min": 0, "max": 6,
                                           "label": "Work engagement (UWES-9)"}}})["eng"]


def _row(d, decision="supported", est=0.3, design="two_arm"):
    return {"id": "H", "question": "Did it work?", "outcome": "eng", "decision": decision, "estimate": est,
            "ci_low": est - 0.2, "ci_high": est + 0.2, "p_value": 0.3, "p_adjusted": 0.3, "family": "primary",
            "design": design, "effect_size": {"name": "d_ppc2", "value": d, "ci_low": d - 0.2, "ci_high": d + 0.2}}


def test_verdicts_map_decisions():
    assert [narrative.verdict(x) for x in ("supported", "opposite", "equivalent", "inconclusive")] == [
        "clear improvement", "moved the wrong way", "evidence of no meaningful change", "too uncertain to say"]
    for style in narrative.VERDICT_STYLE.values():          # icon + word, never colour alone
        assert style["icon"] and style["word"] and style["css"]


def test_size_words():
    assert narrative.size_in_words(0.33) == "about a third of a standard deviation"
    assert narrative.size_in_words(-0.21) == "about a fifth of a standard deviation"
    assert narrative.size_in_words(0.01) == "practically no difference"


def test_answer_sentence_direction_and_tiny_effects():
    s = narrative.survey_answer(_row(0.33), SCALE)
    assert "rose by 0.30 points more" in s and "on the 0–6 scale" in s and "about a third" in s
    assert not s.lower().startswith("clear improvement")          # the verdict is the badge beside it
    tiny = narrative.survey_answer(_row(0.01, "inconclusive", 0.01), SCALE)
    assert "about as much as in the comparison group" in tiny and "no difference more" not in tiny
    single = narrative.survey_answer(_row(0.4, design="single_arm"), SCALE)
    assert "cannot be attributed to the programme" in single


def test_certainty_names_the_interval():
    s = narrative.survey_certainty(_row(0.3, "inconclusive"), 0.05)
    assert "+0.10 and +0.50" in s and "cannot yet tell" in s


def test_causal_caveat_only_without_random_assignment():
    assert "chose" in narrative.causal_caveat("nonrandomised")
    assert narrative.causal_caveat("randomised") is None and narrative.causal_caveat("waitlist") is None


def test_baseline_gap_only_above_a_tenth_of_an_sd():
    assert narrative.baseline_gap_sentence(0.08, "engagement", "pre") is None
    s = narrative.baseline_gap_sentence(-0.3, "engagement", "pre")
    assert "0.30 standard deviations lower" in s and "'pre'" in s


def test_flow_table_reads_as_consort_and_adds_up():
    from rmstudy.report.tables import flow_table

    flow = {"stages": [{"stage": "invited", "program": None, "control": None},
                       {"stage": "enrolled", "program": 10, "control": 12},
                       {"stage": "responded_pre", "program": 9, "control": 11},
                       {"stage": "scored_pre", "program": 9, "control": 10},
                       {"stage": "analysed", "program": 9, "control": 10}],
            "exclusions": [{"analysis": "engagement at pre", "reason": "too few", "program": 0, "control": 1},
                           {"analysis": "all survey analyses", "reason": "submitted after the participant's exit_date",
                            "program": 1, "control": 0}]}
    t = flow_table(flow)
    assert list(t["Stage"]) == ["Assessed for eligibility (invited)", "Allocated (enrolled)",
                                "Response rows excluded from every survey analysis: submitted after the "
                                "participant's exit_date", "Responded at pre",
                                "  of whom scored at pre (at least one scale)",
                                "Analysed (at least one scored response)"]
    assert t["Total"].tolist() == [None, 22, 1, 20, 19, 19]
    assert list(t.columns) == ["Stage", "Programme", "Comparison", "Total"]


def test_survey_answer_names_the_population_of_a_hypothesis_about_some_people():
    from rmstudy.contract.codebook import Scale
    from rmstudy.report.narrative import survey_answer
    s = Scale("bias", ("b1", "b2"), 1, 7, label="Bias toward younger colleagues", favourable="low")
    row = {"estimate": -0.5, "effect_size": {"value": -0.4}, "population": {"role": ["senior"], "age": {"min": 50}}}
    both = survey_answer(row, s)
    assert both.startswith("For seniors aged 50 or over: in the programme, ") and "fell by 0.50 points" in both
    one = survey_answer({**row, "design": "single_arm"}, s)
    assert one.startswith("For seniors aged 50 or over: within the programme, ")
    assert survey_answer({**row, "population": None}, s).startswith("In the programme, ")
    assert survey_answer({**row, "population": {}}, s) == survey_answer({**row, "population": None}, s)
