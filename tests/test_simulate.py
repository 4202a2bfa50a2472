"""The simulator: the demo regenerates byte for byte, and planted effects are recovered."""


import numpy as np
import pandas as pd
import pytest

import rmstudy as rm
from rmstudy.simulate.cohort import DEMO_SEED, simulate_cohort, write_demo
from conftest import DEMO


def test_demo_regenerates_byte_for_byte(tmp_path):
    write_demo(tmp_path / "demo", seed=DEMO_SEED)
    names = sorted(p.name for p in DEMO.iterdir())
    assert names == ["codebook.yaml", "employment.csv", "participants.csv", "responses.csv", "study.yaml", "truth.json"]
    for n in names:
        assert (tmp_path / "demo" / n).read_bytes() == (DEMO / n).read_bytes(), n


def test_demo_design(demo_cohort):
    P, R, E = demo_cohort.participants, demo_cohort.responses, demo_cohort.employment
    counts = P.groupby(["arm", "role"]).size().to_dict()
    assert counts == {("control", "junior"): 150, ("control", "senior"): 150, ("program", "junior"): 150,
                      ("program", "senior"): 150}
    post = (R["wave"] == "post").sum() / len(P)
    assert 0.70 < post < 0.85                                  # ~15% dropout plus leavers before the post survey
    items = [i for s in ("bias_older", "bias_younger", "engagement", "turnover_intention")
             for i in demo_cohort.codebook[s].items]
    miss = R[items].isna().to_numpy().mean()
    assert 0.02 < miss < 0.04                                  # ~3% missing items
    assert set(E["exit_reason"].dropna()) == {"voluntary", "involuntary"}
    for s in ("bias_older", "bias_younger", "turnover_intention", "psych_safety", "openness"):
        assert demo_cohort.codebook[s].reverse, s              # these instruments carry reverse keys
    # item wording ships only where it is public domain (IPIP)
    assert [s.name for s in demo_cohort.codebook.scales.values() if s.item_text] == ["openness"]
    # relationship quality: programme members, after the programme only
    rq = R[list(demo_cohort.codebook["relationship_quality"].items)].notna().any(axis=1)
    arm = R["participant_id"].map(P.set_index("participant_id")["arm"])
    assert not rq[(R["wave"] == "pre") | (arm == "control")].any() and rq[(R["wave"] == "post") & (arm == "program")].mean() > 0.9
    assert demo_cohort.codebook["engagement"].n_items == 9 and demo_cohort.codebook["engagement"].max == 6


def test_ids_carry_no_arm_information(demo_cohort):
    P = demo_cohort.participants
    first_half = P["participant_id"].str[1:].astype(int) <= 300
    share = (P.loc[first_half, "arm"] == "program").mean()
    assert 0.4 < share < 0.6


def _write(tmp_path, **kw):
    tables, truth = simulate_cohort(**kw)
    rm.save_cohort(tmp_path, tables["participants"], tables["responses"], tables["employment"], tables["codebook"],
                   tables["study"])
    return rm.load_cohort(tmp_path), truth


@pytest.mark.slow
def test_large_cohort_recovers_planted_effects(tmp_path):
    """A 12,000-person cohort: every LMM estimate lies within 4 SE of the planted raw effect, the Cox HR
    of juniors within 4 SE (log scale) of the planted 0.75."""
    cohort, truth = _write(tmp_path, seed=7, n_pairs=3000, n_control_juniors=3000, n_control_seniors=3000,
                           truth_mc=400_000)
    scores = rm.score_scales(cohort.responses, cohort.codebook)
    for h in cohort.study.hypotheses:
        if h.is_retention:
            row = rm.analyse_retention_hypothesis(cohort, h)[0]
            target = np.log(truth["retention"]["hazard_ratio"]["junior"])
        else:
            row = rm.analyse_survey_hypothesis(cohort, scores, h)[0]
            ts = truth["scales"][h.outcome]
            roles = h.population.get("role", ["junior", "senior"])
            roles = [roles] if isinstance(roles, str) else roles
            # the population's expected difference in change: the mean planted effect over its roles (equal sizes)
            target = np.mean([ts["raw_effect"].get(r, 0.0) for r in roles])
        assert abs(row["estimate"] - target) < 4 * row["se"], (h.id, row["estimate"], target, row["se"])


@pytest.mark.slow
def test_null_scenario_gives_no_effect(tmp_path):
    null = {k: {"d": 0.0, "roles": v["roles"]} for k, v in rm.simulate.cohort.DEMO_EFFECTS.items()}
    null_extra = {k: {"d": 0.0, "roles": v["roles"]} for k, v in rm.simulate.cohort.DEMO_EXTRA_EFFECTS.items()}
    ret = {"exit_12m": {"junior": 0.2, "senior": 0.08}, "involuntary_12m": 0.04, "hazard_ratio": {"junior": 1.0, "senior": 1.0}}
    cohort, truth = _write(tmp_path, seed=11, n_pairs=1500, n_control_juniors=1500, n_control_seniors=1500,
                           effects=null, extra_effects=null_extra, retention=ret, truth_mc=20_000, actor_partner=False)
    outcomes = [s for s in truth["scales"].values() if "raw_effect" in s]
    assert len(outcomes) == 7 and all(v == 0 for s in outcomes for v in s["raw_effect"].values())
    assert all(v == 0 for s in outcomes if "actor_partner" in s for m in s["actor_partner"]["latent"].values()
               for v in m.values())                                   # no actor-partner moderation either (#18)
    scores = rm.score_scales(cohort.responses, cohort.codebook)
    for h in cohort.study.hypotheses:
        row = (rm.analyse_retention_hypothesis(cohort, h)[0] if h.is_retention
               else rm.analyse_survey_hypothesis(cohort, scores, h)[0])
        assert abs(row["estimate"]) < 4 * row["se"], h.id


@pytest.mark.slow
def test_ci_coverage_of_the_difference_in_change():
    """Over 1,000 simulated cohorts the 95% CI of H1a covers the planted raw effect at a rate inside the
    binomial acceptance band at alpha = .001."""
    from scipy import stats
    from rmstudy.stats.models.mixed import mixed_model
    from rmstudy.contract.codebook import parse_codebook
    from rmstudy.stats.scoring import score_scales, long_scores

    n_sims, hits = 1000, 0
    one = {"bias_older": rm.simulate.cohort.DEMO_SCALES["bias_older"]}
    eff = {"bias_older": rm.simulate.cohort.DEMO_EFFECTS["bias_older"]}
    _, truth = simulate_cohort(seed=1, n_pairs=60, n_control_juniors=60, n_control_seniors=60, scales=one,
                               effects=eff, truth_mc=1_000_000)
    target = truth["scales"]["bias_older"]["raw_effect"]["junior"]
    for i in range(n_sims):
        t, _ = simulate_cohort(seed=1000 + i, n_pairs=60, n_control_juniors=60, n_control_seniors=60, scales=one,
                               effects=eff, truth_mc=10)
        cb = parse_codebook(t["codebook"])
        P = t["participants"]
        juniors = P[P["role"] == "junior"]
        long = long_scores(score_scales(t["responses"], cb), juniors, "bias_older")
        long = long[long["participant_id"].isin(juniors["participant_id"])].dropna(subset=["score"])
        long["wave"] = pd.Categorical(long["wave"], ["pre", "post"], ordered=True)
        tab = mixed_model(long, "score", between_ref="control").set_index("term")
        r = tab.loc["arm[program]:wave[post]"]
        hits += r["ci_low"] <= target <= r["ci_high"]
    lo, hi = stats.binom.ppf([0.0005, 0.9995], n_sims, 0.95)
    assert lo <= hits <= hi, (hits, lo, hi)


@pytest.mark.slow
def test_cox_recovers_planted_hazard_ratio_and_ci_covers():
    """1,000 simulated cohorts (300 per arm, 20% 12-month voluntary exit, HR 0.75 planted, involuntary exits
    competing): the Efron Cox 95% CI covers log(0.75) at a rate inside the binomial band at alpha = .001, and
    the mean estimate is within 4 Monte Carlo SEs of the truth."""
    from scipy import stats
    from rmstudy.stats.models.survival import cox_ph
    from rmstudy.simulate.cohort import simulate_retention

    n_sims, truth = 1000, np.log(0.75)
    est, hits = [], 0
    for i in range(n_sims):
        r = cox_ph(simulate_retention(seed=50_000 + i, hazard_ratio=0.75))
        est.append(r["estimate"])
        hits += r["ci_low"] <= truth <= r["ci_high"]
    lo, hi = stats.binom.ppf([0.0005, 0.9995], n_sims, 0.95)
    assert lo <= hits <= hi, (hits, lo, hi)
    est = np.array(est)
    assert abs(est.mean() - truth) < 4 * est.std(ddof=1) / np.sqrt(n_sims)
