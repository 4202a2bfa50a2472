"""Actor–partner moderation (#18) against lme4/lmerTest (tests/reference/actor_partner/make_reference.R):
the demo's plan moderators, and the other_cohort fixture (which shares no name with the demo) with pairs and with
groups of two pairs."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import rmstudy as rm
from rmstudy.analysis.moderators import actor_partner_for
from rmstudy.contract.design import Design
from rmstudy.stats.moderation import actor_partner_analysis, partner_means

HERE = Path(__file__).parent
REF = json.loads((HERE / "reference" / "actor_partner" / "actor_partner_reference.json").read_text("utf-8"))["models"]
OTHER = HERE / "fixtures" / "other_cohort"


@pytest.fixture(scope="module")
def demo_fits(demo_cohort, demo_scores):
    out = {}
    for h in demo_cohort.study.hypotheses:
        if not h.moderators:
            continue
        _, _, _, data = rm.analyse_survey_hypothesis(demo_cohort, demo_scores, h)
        for res in rm.moderation_for_hypothesis(demo_cohort, demo_scores, data, h):
            if "actor_partner" in res:
                out[f"demo/{h.id}/{res['moderator']}"] = res["actor_partner"]
    return out


def _merged_groups(P: pd.DataFrame) -> pd.Series:
    """As make_reference.R: group = "G" + ceiling(pair number / 2)."""
    pr = P[P["pair_id"].astype(str).str.strip() != ""]
    num = pr["pair_id"].str[1:].astype(int)
    return pd.Series(("G" + np.ceil(num / 2).astype(int).astype(str)).to_numpy(), index=pr["participant_id"].to_numpy())


@pytest.fixture(scope="module")
def other_fits():
    cohort = rm.load_cohort(OTHER)
    scores = rm.score_scales(cohort.responses, cohort.codebook)
    h = dataclasses.replace(cohort.study.hypothesis("A1"), moderators=("voice", "tenure_years"))
    _, _, _, data = rm.analyse_survey_hypothesis(cohort, scores, h)
    P = cohort.participants
    merged = _merged_groups(P)
    grouped = cohort.participants.assign(group_id=P["participant_id"].map(merged).fillna(""))
    as_groups = dataclasses.replace(cohort, participants=grouped,
                                    study=dataclasses.replace(cohort.study, design=Design(mentoring="groups")))
    out = {}
    for name in h.moderators:
        values, source = rm.moderator_values(cohort, scores, name, h.contrast[0])
        out[f"other_cohort/A1/{name}"] = actor_partner_for(cohort, data, h, values, name, source)
        out[f"other_cohort_groups/A1/{name}"] = actor_partner_for(as_groups, data, h, values, name, source)
    return out


def test_every_reference_model_is_fitted(demo_fits, other_fits):
    assert sorted({**demo_fits, **other_fits}) == sorted(REF)
    assert any(r["shared_group"] for r in REF.values()) and not all(r["shared_group"] for r in REF.values())
    assert any(k.startswith("other_cohort_groups/") and r["n_groups"] * 2 < r["n_participants"] for k, r in REF.items())


@pytest.mark.parametrize("key", sorted(REF))
def test_matches_lmertest(demo_fits, other_fits, key):
    got, ref = {**demo_fits, **other_fits}[key], REF[key]
    assert got["estimable"] and got["kind"] == "actor_partner"
    assert got["exploratory"] is True and got["adjusted"] is False
    assert (got["n_participants"], got["n_groups"], got["n_obs"]) == (ref["n_participants"], ref["n_groups"], ref["n_obs"])
    assert (got["random_effects"] == "group and participant") == ref["shared_group"]
    for side in ("actor", "partner"):
        assert_allclose([got["scale"][side]["mean"], got["scale"][side]["sd"]],
                        [ref["scale"][side]["mean"], ref["scale"][side]["sd"]], rtol=1e-10)
        assert_allclose(got[side]["estimate"], ref[side]["estimate"], atol=1e-4)
        assert_allclose(got[side]["se"], ref[side]["se"], rtol=1e-4)
        assert_allclose(got[side]["df"], ref[side]["df"], rtol=2e-3)


def test_partner_means_of_pairs_equal_partner_values(demo_cohort, demo_scores):
    values, _ = rm.moderator_values(demo_cohort, demo_scores, "openness", "pre")
    a = partner_means(demo_cohort.participants, values).sort_index()
    b = rm.partner_values(demo_cohort.participants, values).sort_index()
    pd.testing.assert_series_equal(a, b, check_names=False)


def test_identical_partner_values_are_not_estimable():
    """Pair members sharing one value (e.g. a pair-level rating): actor and partner cannot be told apart."""
    rng = np.random.default_rng(5)
    n = 40
    pid = [f"x{i}" for i in range(n)]
    pair = [f"q{i // 2}" for i in range(n)]
    shared = pd.Series(np.repeat(rng.normal(size=n // 2), 2), index=pid)
    d = pd.DataFrame({"participant_id": pid * 2, "wave": ["t0"] * n + ["t1"] * n, "arm": "program",
                      "score": rng.normal(size=2 * n)})
    h = type("H", (), {"contrast": ("t0", "t1")})()
    P = pd.DataFrame({"participant_id": pid, "pair_id": pair})
    res = actor_partner_analysis(d, h, shared, partner_means(P, shared), pd.Series(pair, index=pid), "m", "s")
    assert res["estimable"] is False and "cannot be told apart" in res["note"]


def test_no_pairs_in_the_design_means_no_actor_partner_model(demo_cohort, demo_scores):
    h = demo_cohort.study.hypothesis("H6")
    _, _, _, data = rm.analyse_survey_hypothesis(demo_cohort, demo_scores, h)
    none = dataclasses.replace(demo_cohort, study=dataclasses.replace(demo_cohort.study, design=Design(mentoring="none")))
    values, source = rm.moderator_values(demo_cohort, demo_scores, "openness", "pre")
    assert actor_partner_for(none, data, h, values, "openness", source) is None


def test_academic_moderation_table_and_statement_carry_actor_partner(demo_fits, demo_cohort, demo_scores):
    from rmstudy.report.academic_tables import moderation_statement, moderation_table

    h = demo_cohort.study.hypothesis("H6")
    _, _, _, data = rm.analyse_survey_hypothesis(demo_cohort, demo_scores, h)
    res = {"moderation": {"H6": json.loads(json.dumps(rm.moderation_for_hypothesis(demo_cohort, demo_scores, data, h)))}}
    table = moderation_table(res)
    ap = table[table["Kind"].str.startswith("actor–partner")]
    n_ap = sum(1 for m in res["moderation"]["H6"] if (m.get("actor_partner") or {}).get("estimable"))
    assert len(ap) == 2 * n_ap and n_ap >= 4
    row = ap[(ap["Moderator"] == "honesty_humility") & (ap["Kind"] == "actor–partner: partner")].iloc[0]
    assert row["Per SD"] == f"{demo_fits['demo/H6/honesty_humility']['partner']['estimate']:.3f}".replace("-", "−") \
        or row["Per SD"] == f"{demo_fits['demo/H6/honesty_humility']['partner']['estimate']:.3f}"
    text = moderation_statement(res)
    assert f"These {2 * n_ap} tests are also <b>exploratory</b> and <b>not adjusted</b>" in text
    assert "actor–partner" in text
