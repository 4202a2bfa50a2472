"""Humility instruments and the planted actor–partner moderation in the simulator (#18)."""

import json

import numpy as np
import pytest

import rmstudy as rm
from conftest import DEMO
from rmstudy.simulate.cohort import DEMO_EXTRA_EFFECTS, simulate_cohort
from rmstudy.simulate.humility import ACTOR_PARTNER_EFFECTS, HUMILITY_SCALES, partner_index

SMALL = dict(n_pairs=40, n_control_juniors=30, n_control_seniors=30, truth_mc=4000)


def test_demo_codebook_carries_both_humility_instruments(demo_cohort):
    hh, eh = demo_cohort.codebook["honesty_humility"], demo_cohort.codebook["expressed_humility"]
    assert (hh.n_items, hh.min, hh.max) == (10, 1, 5) and len(hh.reverse) == 5
    assert (eh.n_items, eh.min, eh.max) == (9, 1, 5) and not eh.reverse
    assert not hh.item_text and not eh.item_text                    # codes only: wording not shipped
    assert "Owens, Johnson & Mitchell 2013" in eh.citation and "ipip.ori.org" in hh.citation


def test_partner_rated_humility_only_for_programme_pairs_at_baseline(demo_cohort):
    R, P = demo_cohort.responses, demo_cohort.participants
    items = list(demo_cohort.codebook["expressed_humility"].items)
    answered = R.loc[R[items].notna().any(axis=1)]
    assert set(answered["wave"]) == {"pre"}
    arms = answered["participant_id"].map(P.set_index("participant_id")["arm"])
    assert set(arms) == {"program"} and answered["participant_id"].nunique() > 140
    hh = list(demo_cohort.codebook["honesty_humility"].items)
    assert R.groupby("wave", observed=True)[hh].count().min().min() > 200            # self-rated: everyone, both waves


def test_demo_truth_states_what_was_planted():
    truth = json.loads((DEMO / "truth.json").read_text("utf-8"))
    for name, e in DEMO_EXTRA_EFFECTS.items():
        ap = truth["scales"][name]["actor_partner"]
        # the demo's outcomes predate the actor-partner plant: only the actor openness term is in them
        assert ap["latent"] == {"openness": {"actor": e["b_openness"], "partner": 0.0},
                                "humility": {"actor": 0.0, "partner": 0.0}}
        pops = set(e["roles"]) | ({"all"} if len(e["roles"]) == 2 else set())
        assert set(ap["observed"]) == pops
        for pop in pops:
            obs = ap["observed"][pop]
            assert set(obs) == {"openness", "honesty_humility", "expressed_humility"}
            assert abs(obs["honesty_humility"]["actor"]) < 0.01 and abs(obs["openness"]["partner"]) < 0.01
            if e["b_openness"]:
                assert 0.04 < obs["openness"]["actor"] < e["b_openness"] * 1.2


def test_the_plant_changes_only_the_secondary_outcomes():
    (off, t_off), (on, t_on) = (simulate_cohort(seed=5, actor_partner=a, **SMALL) for a in (False, True))
    Roff, Ron = off["responses"], on["responses"]
    assert list(Roff.columns) == list(Ron.columns)
    moved = {c for c in Roff.columns if not Roff[c].equals(Ron[c])}
    outcome_items = {i for s in ACTOR_PARTNER_EFFECTS for i in on["codebook"]["scales"][s]["items"]}
    assert moved and moved <= outcome_items
    assert t_on["scales"]["psych_safety"]["actor_partner"]["latent"]["humility"] == \
        ACTOR_PARTNER_EFFECTS["psych_safety"]["humility"]
    # the default: planted in a new cohort (any seed but the demo's)
    _, t_default = simulate_cohort(seed=5, **SMALL)
    assert t_default["scales"]["psych_safety"]["actor_partner"] == t_on["scales"]["psych_safety"]["actor_partner"]


def test_humility_columns_do_not_disturb_other_instruments():
    """A cohort with its own instruments (no secondary scales) gets no humility items."""
    one = {"bias_older": rm.simulate.cohort.DEMO_SCALES["bias_older"]}
    tables, truth = simulate_cohort(seed=3, scales=one, effects={}, **SMALL)
    assert not any(c.startswith(tuple(s["prefix"] for s in HUMILITY_SCALES.values())) for c in tables["responses"])
    assert set(truth["scales"]) == {"bias_older"}


def test_partner_index_pairs_two_members_only():
    arm = np.array(["program"] * 5 + ["control"])
    pair = np.array(["a", "b", "a", "c", "c", ""])
    assert partner_index(arm, pair).tolist() == [2, -1, 0, 4, 3, -1]


@pytest.mark.slow
def test_full_simulator_plants_what_truth_json_says(tmp_path):
    """The full simulator (items, missing answers, dropout) with the plant on: the actor–partner estimates of H6
    (both roles, pair random effect) lie within 4 SE of truth.json's observed slopes."""
    tables, truth = simulate_cohort(seed=77, n_pairs=1200, n_control_juniors=50, n_control_seniors=50,
                                    truth_mc=200_000)
    rm.save_cohort(tmp_path, tables["participants"], tables["responses"], tables["employment"], tables["codebook"],
                   tables["study"])
    cohort = rm.load_cohort(tmp_path)
    scores = rm.score_scales(cohort.responses, cohort.codebook)
    h = cohort.study.hypothesis("H6")
    _, _, _, data = rm.analyse_survey_hypothesis(cohort, scores, h)
    target = truth["scales"][h.outcome]["actor_partner"]["observed"]["all"]
    fits = {m["moderator"]: m["actor_partner"] for m in rm.moderation_for_hypothesis(cohort, scores, data, h)
            if "actor_partner" in m}
    for name in ("openness", "honesty_humility", "expressed_humility"):
        for side in ("actor", "partner"):
            got = fits[name][side]
            assert abs(got["estimate"] - target[name][side]) < 4 * got["se"], (name, side, got, target[name][side])
            assert target[name][side] > 0.05


def test_the_plant_does_not_depend_on_the_seed(tmp_path):
    """The plant was switched off by `seed == DEMO_SEED`, so any cohort simulated with the default seed (other sizes
    too) silently got the demo's generating model. Now only the shipped demo itself (default seed and sizes) has
    none."""
    import json

    from rmstudy.simulate.cohort import DEMO_SEED, write_demo

    _, t_demo_seed = simulate_cohort(seed=DEMO_SEED, **SMALL)
    _, t_other = simulate_cohort(seed=5, **SMALL)
    assert t_demo_seed["scales"]["psych_safety"]["actor_partner"]["latent"] == \
        t_other["scales"]["psych_safety"]["actor_partner"]["latent"] != {}
    small = json.loads((write_demo(tmp_path / "s", seed=DEMO_SEED, **SMALL) / "truth.json").read_text())
    assert small["scales"]["psych_safety"]["actor_partner"]["latent"]["humility"] == \
        ACTOR_PARTNER_EFFECTS["psych_safety"]["humility"]
