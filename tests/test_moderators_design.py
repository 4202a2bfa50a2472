"""The partner moderation follows the plan's design (contract.design.mentoring_column, the one rule): a groups plan
used to stop with KeyError 'pair_id', and a 'mentoring: none' plan with a stray pair_id column reported a partner
moderator built from it."""

import pandas as pd

from types import SimpleNamespace as NS

from rmstudy.analysis.moderators import moderation_for_hypothesis
from rmstudy.contract.design import Design
from rmstudy.contract.study import Hypothesis
from rmstudy.stats.moderation import partner_means


def _case(mentoring, column, labels):
    ids = [f"p{i}" for i in range(24)]
    rng = __import__("numpy").random.default_rng(3)
    P = pd.DataFrame({"participant_id": ids, "arm": ["program"] * 12 + ["control"] * 12,
                      column: labels + [""] * 12, "age": rng.integers(22, 60, 24)})
    pre = rng.normal(3, 0.5, 24)
    A = pd.DataFrame({"participant_id": ids * 2, "arm": list(P["arm"]) * 2, "wave": ["pre"] * 24 + ["post"] * 24,
                      "score": list(pre) + list(pre + rng.normal(0.3, 0.3, 24))})
    c = NS(codebook={}, participants=P, study=NS(waves=("pre", "post"), design=Design(mentoring=mentoring)))
    h = Hypothesis("X", "L", "wellbeing", "increase", "primary", contrast=("pre", "post"), moderators=("age",))
    return c, A, h


def test_groups_plan_gets_the_other_members_mean_as_partner():
    c, A, h = _case("groups", "group_id", [f"g{i // 4}" for i in range(12)])
    res = moderation_for_hypothesis(c, None, A, h)
    partner = next(r for r in res if r["moderator"] == "partner_age")
    assert "other group members (mean)" in partner["source"]
    want = partner_means(c.participants, c.participants.set_index("participant_id")["age"].astype(float), "group_id")
    assert partner["n_participants"] == len(want) == 12


def test_no_mentoring_plan_has_no_partner_even_with_a_pair_column():
    c, A, h = _case("none", "pair_id", [f"q{i // 2}" for i in range(12)])
    res = moderation_for_hypothesis(c, None, A, h)
    assert [r["moderator"] for r in res] == ["age"] and "actor_partner" not in res[0]


def test_pairs_plan_keeps_the_pair_partner():
    c, A, h = _case("pairs", "pair_id", [f"q{i // 2}" for i in range(12)])
    res = moderation_for_hypothesis(c, None, A, h)
    partner = next(r for r in res if r["moderator"] == "partner_age")
    assert partner["source"].startswith("pair partner's")
