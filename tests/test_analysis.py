"""Plan -> decisions: multiplicity, TOST, effect sizes, MDE."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

import rmstudy as rm
from rmstudy.analysis.hypotheses import decide, finalise_hypotheses, minimum_detectable_effect, tost_p
from rmstudy.stats.effects import d_ppc2, hedges_correction


def test_decision_rule():
    assert decide(-0.3, 0.01, None, 0.05, -1) == "supported"
    assert decide(0.3, 0.01, None, 0.05, -1) == "opposite"
    assert decide(0.01, 0.8, 0.01, 0.05, 1) == "equivalent"
    assert decide(0.01, 0.8, 0.2, 0.05, 1) == "inconclusive"
    assert decide(0.3, 0.2, None, 0.05, 1) == "inconclusive"


def test_tost_against_z_formula():
    # estimate 0.02, se 0.05, bound 0.15: both one-sided tests reject at .05
    p = tost_p(0.02, 0.05, 0.15, None)
    assert_allclose(p, stats.norm.cdf((0.02 - 0.15) / 0.05))
    assert tost_p(0.02, 0.2, 0.15, 30) > 0.05


def test_holm_within_primary_bh_within_secondary(demo_cohort):
    study = demo_cohort.study
    ps = {"H1a": 0.01, "H1b": 0.04, "H2": 0.03, "H3": 0.5, "H3b": 0.02, "H4": 0.001, "H5": 0.04, "H6": 0.3}
    rows = [{"id": h.id, "estimate": -1.0 * h.expected_sign * -1, "p_value": ps[h.id], "tost_p": None}
            for h in study.hypotheses]
    out = {r["id"]: r for r in finalise_hypotheses(rows, study)}
    # Holm over the four primary p-values 0.01, 0.03, 0.04, 0.5
    assert_allclose([out[i]["p_adjusted"] for i in ("H1a", "H2", "H1b", "H3")], [0.04, 0.09, 0.09, 0.5])
    # Benjamini-Hochberg over the four secondary p-values 0.02, 0.001, 0.04, 0.3
    assert_allclose([out[i]["p_adjusted"] for i in ("H3b", "H4", "H5", "H6")], [0.04, 0.004, 0.0533333333, 0.3])
    assert out["H3b"]["adjustment"] == "Benjamini-Hochberg"
    assert out["H1a"]["decision"] == "supported"
    assert [r["id"] for r in finalise_hypotheses(rows, study)] == [h.id for h in study.hypotheses]


def test_d_ppc2_morris_correction():
    es = d_ppc2(0.5, 0.1, 0.9, sd_pre=1.0, n_t=10, n_c=12)
    c = 1 - 3 / (4 * 20 - 1)
    assert_allclose(hedges_correction(20), c)
    assert_allclose([es["value"], es["ci_low"], es["ci_high"]], [0.5 * c, 0.1 * c, 0.9 * c])


def test_mde_survey_row():
    row = {"id": "X", "outcome": "s", "se": 0.1, "df": 100.0, "estimate": 0.2, "effect_size": {"value": 0.4},
           "sesoi": 0.2, "sesoi_units": "d", "baseline_sd": 0.5}
    m = minimum_detectable_effect(row, 0.05)
    k = stats.t.ppf(0.975, 100) + stats.t.ppf(0.8, 100)
    assert_allclose(m["mde_raw"], k * 0.1)
    assert_allclose(m["mde_d"], k * 0.1 * 2)
    assert_allclose(m["n_factor_for_sesoi"], (k * 0.1 / 0.1) ** 2)


def test_demo_rows_are_internally_consistent(demo_cohort, demo_scores):
    h = demo_cohort.study.hypothesis("H2")
    row, detail, fit, data = rm.analyse_survey_hypothesis(demo_cohort, demo_scores, h)
    assert row["ci_low"] < row["estimate"] < row["ci_high"]
    per_arm = data.groupby("arm")["participant_id"].nunique()
    assert row["n"]["program"]["participants"] == per_arm["program"] <= 300
    assert row["n"]["control"]["participants"] == per_arm["control"] <= 300
    assert row["n"]["program"]["observations"] + row["n"]["control"]["observations"] == fit.n_obs
    es = row["effect_size"]
    assert np.sign(es["value"]) == np.sign(row["estimate"])
    assert_allclose(es["value"] / row["estimate"], es["ci_low"] / row["ci_low"])


def test_baseline_scores_that_do_not_vary_are_a_clear_problem(demo_cohort, demo_scores):
    """All baseline engagement scores equal: d_ppc2 would divide by zero; the analysis says why instead."""
    from rmstudy.errors import CohortError

    h = next(h for h in demo_cohort.study.hypotheses if h.outcome == "engagement")
    scores = demo_scores.copy()
    scores.loc[scores["wave"] == h.contrast[0], "engagement"] = 3.0
    with pytest.raises(CohortError) as e:
        rm.analyse_survey_hypothesis(demo_cohort, scores, h)
    (p,) = e.value.problems
    assert f"{h.id}: the scores of 'engagement' at wave '{h.contrast[0]}'" in p.message and "SD 0" in p.message


def test_typed_rows_are_built_once_and_recorded_unchanged(demo_cohort, demo_scores):
    """analyse_survey returns the finished row (its Bayes factor is the sensitivity analysis's), which nothing can
    change afterwards; the JSON mapping keeps results.json's key order and leaves out what does not apply."""
    import dataclasses

    from rmstudy.analysis.rows import HypothesisRow
    from rmstudy.errors import ResultsError

    h = demo_cohort.study.hypotheses[0]
    a = rm.analyse_survey(demo_cohort, demo_scores, h)
    assert isinstance(a.row, HypothesisRow)
    assert a.row.bayes_factor_10 == a.sensitivity["bayes"]["bf10"] > 0
    primary = rm.analyse_survey_hypothesis(demo_cohort, demo_scores, h)[0]
    assert primary.bayes_factor_10 is None and "bayes_factor_10" not in primary.to_dict()
    assert dataclasses.replace(a.row, bayes_factor_10=None, log10_bayes_factor_10=None) == primary   # only completed
    with pytest.raises(TypeError):
        a.row["bayes_factor_10"] = 1.0                                           # no notebook can change a row
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.row.estimate = 0.0
    d = a.row.to_dict()
    assert list(d)[:9] == ["id", "label", "question", "outcome", "population", "family", "direction", "contrast",
                           "design"]
    assert list(d)[-3:] == ["notes", "bayes_factor_10", "log10_bayes_factor_10"]
    assert HypothesisRow.from_dict(d) == a.row
    with pytest.raises(ResultsError, match="unknown keys"):
        HypothesisRow.from_dict({**d, "bayes_factor": 3.0})
    retention = next(x for x in demo_cohort.study.hypotheses if x.is_retention)
    r = rm.analyse_retention(demo_cohort, retention).row
    assert "design" not in r and "bayes_factor_10" not in r and r["df"] is None
    done = {x.id: x for x in rm.finalise_hypotheses([a.row, r], demo_cohort.study)}
    assert isinstance(done[h.id], HypothesisRow) and done[h.id].decision in ("supported", "opposite", "equivalent",
                                                                            "inconclusive")
    assert a.row.decision is None                                                # the input rows are untouched
