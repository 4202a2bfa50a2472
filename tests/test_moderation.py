"""Moderation and dose-response models against lme4/lmerTest (tests/reference/make_moderation_reference.R)."""

import pandas as pd
import pytest
from numpy.testing import assert_allclose

import rmstudy as rm
from conftest import load_ref

REF = load_ref("moderation_demo.json")["models"]


@pytest.fixture(scope="module")
def fits(demo_cohort, demo_scores):
    out = {}
    for h in demo_cohort.study.hypotheses:
        if not h.moderators:
            continue
        row, _, _, data = rm.analyse_survey_hypothesis(demo_cohort, demo_scores, h)
        for res in rm.moderation_for_hypothesis(demo_cohort, demo_scores, data, h):
            out[f"{h.id}/{res['moderator']}"] = res
    return out


def test_every_reference_model_is_fitted(fits):
    planned = {k: v for k, v in fits.items() if "/partner_" not in k}
    assert sorted(planned) == sorted(REF)
    # and each baseline moderator measured in both arms brings its exploratory partner model
    both_arms = [k.replace("/", "/partner_") for k, v in REF.items() if v["kind"] == "moderation"]
    assert "H4/partner_openness" in both_arms and "H6/partner_honesty_humility" in both_arms
    assert sorted(k for k in fits if "/partner_" in k) == sorted(both_arms)


@pytest.mark.parametrize("key", sorted(REF))
def test_matches_lmertest(fits, key):
    got, ref = fits[key], REF[key]
    assert got["kind"] == ref["kind"] and got["n_participants"] == ref["n_participants"]
    assert_allclose([got["mean"], got["sd"]], [ref["mean"], ref["sd"]], rtol=1e-10)
    inter = {t["term"]: t for t in ref["terms"]}[ref["interaction_term"]]
    i = got["interaction"]
    assert_allclose(i["estimate"], inter["estimate"], atol=1e-6)
    assert_allclose(i["se"], inter["se"], rtol=1e-5)
    assert_allclose(i["df"], inter["df"], rtol=1e-3)
    for g, r in zip(got["slopes"], ref["simple_slopes"]):
        assert g["at"] == r["at"]
        assert_allclose([g["estimate"], g["se"]], [r["estimate"], r["se"]], rtol=1e-5, atol=1e-6)
        assert_allclose(g["df"], r["df"], rtol=1e-3)


def test_dose_is_read_within_the_programme(fits):
    assert fits["H4/sessions_attended"]["kind"] == "dose_response"       # empty for the comparison group
    assert fits["H4/relationship_quality"]["kind"] == "dose_response"    # asked of pairs after the programme
    assert "read as a dose" in fits["H4/relationship_quality"]["source"]
    assert fits["H4/openness"]["kind"] == "moderation"


def test_partner_values_swap_within_pairs():
    import pandas as pd

    parts = pd.DataFrame({"participant_id": ["a", "b", "c", "d", "e"], "pair_id": ["R1", "R1", "R2", "R2", ""]})
    v = pd.Series({"a": 1.0, "b": 2.0, "c": 3.0, "d": None, "e": 5.0})
    got = rm.partner_values(parts, v)
    assert got.to_dict() == {"a": 2.0, "b": 1.0, "d": 3.0}          # c's partner d has no value; e has no pair


def test_partner_moderation_is_a_within_programme_model(demo_cohort, demo_scores):
    h = demo_cohort.study.hypothesis("H4")
    _, _, _, data = rm.analyse_survey_hypothesis(demo_cohort, demo_scores, h)
    values, _ = rm.moderator_values(demo_cohort, demo_scores, "openness", "pre")
    res = rm.moderation_analysis(data, h, rm.partner_values(demo_cohort.participants, values), "partner_openness", "x")
    assert res["kind"] == "dose_response" and res["estimable"]
    assert res["n_participants"] <= 150


def test_an_empty_id_cell_is_one_rule_for_pairs_groups_and_the_validation():
    """contract.cells.blank: missing or spaces only is no pair or group; any other text (also 'nan') is an id, as
    participants.csv's checks read it. Before, partner_values paired two missing pair ids with each other, and the
    group helpers dropped a group named 'nan'."""
    from rmstudy.stats.moderation import partner_means, partner_values

    values = pd.Series({"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0, "e": 5.0, "f": 6.0})
    P = pd.DataFrame({"participant_id": list("abcdef"), "pair_id": ["p1", "p1", None, float("nan"), " ", "\t"]})
    assert partner_values(P, values).to_dict() == {"a": 2.0, "b": 1.0}
    G = pd.DataFrame({"participant_id": list("abcdef"), "g": ["nan", "nan", "nan", " ", None, "g2"]})
    assert partner_means(G, values, "g").to_dict() == {"a": 2.5, "b": 2.0, "c": 1.5}
