"""stats/models/nested.py details the lme4 comparisons do not reach (issue #17 mutation run): what a fit reports
besides the estimates (its contrast's interval and keys, the variance shares, the counts)."""

import numpy as np
import pytest
from scipy import stats

import rmstudy as rm
from rmstudy.errors import ModelError
from rmstudy.stats.models.nested import _prepare, _profiled, fit_nested_intercepts
from test_lmm_fixtures import REF, _load


def test_nested_fit_reports_what_it_fitted():
    d = _load("dyad", REF["dyad"]["wave_levels"])
    _, fit = rm.mixed_model(d, "score", between_ref="control", cluster="pair_id", return_fit=True)
    vc = fit.variance_components()
    total = vc["tau2_pair"] + vc["tau2_participant"] + vc["sigma2"]
    assert vc["icc_pair"] == pytest.approx(vc["tau2_pair"] / total, rel=1e-12)
    assert vc["n_participants"] == d["participant_id"].nunique() and vc["n_obs"] == len(d)
    L = np.eye(len(fit.terms))[-1]
    c = fit.contrast(L, "last")
    assert set(c) == {"term", "estimate", "se", "df", "t", "p_value", "ci_low", "ci_high"} and c["term"] == "last"
    half = stats.t.ppf(0.975, c["df"]) * c["se"]
    assert c["ci_low"] == pytest.approx(c["estimate"] - half, rel=1e-12)
    assert c["ci_high"] == pytest.approx(c["estimate"] + half, rel=1e-12)
    assert c["t"] == pytest.approx(c["estimate"] / c["se"], rel=1e-12)


def test_fit_defaults_are_the_95_interval_and_the_label_contrast():
    # lme4/lmerTest's dyad fit (tests/reference/lmm_fixtures.json): table() with no alpha gives the 95 % interval
    # estimate +- qt(.975, df) se of the reference's own figures; contrast() with no label names its row "contrast"
    ref = REF["dyad"]["model_tight_bobyqa"]["terms"]
    d = _load("dyad", REF["dyad"]["wave_levels"])
    _, fit = rm.mixed_model(d, "score", between_ref="control", cluster="pair_id", return_fit=True)
    tab = fit.table()
    for row, r in zip(tab.itertuples(), ref):
        half = stats.t.ppf(0.975, r["df"]) * r["se"]
        assert row.ci_low == pytest.approx(r["estimate"] - half, abs=1e-4)
        assert row.ci_high == pytest.approx(r["estimate"] + half, abs=1e-4)
        assert row.ci_low < row.estimate < row.ci_high
    assert fit.contrast(np.eye(len(fit.terms))[-1])["term"] == "contrast"


def test_groups_that_are_not_nested_are_one_clear_error():
    # participant 2 is in pair A and in pair B
    with pytest.raises(ModelError) as err:
        fit_nested_intercepts([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], np.ones((6, 1)), [1, 1, 2, 2, 3, 3], ["A", "A", "A", "B", "B", "B"])
    assert str(err.value) == ("fit_nested_intercepts: a participant appears in more than one pair; the groups must be "
                              "nested")


# 12 scores of 5 participants in 3 pairs whose REML criterion, profiled over the two sd ratios (pair, participant),
# has its minimum at (0.167, 0) while L-BFGS-B started at (1, 1) or (1, 0.3) stops in the corner (0, 0): only the
# start (0.3, 1) reaches it
CORNER = dict(y=[1.0, -3.0, 2.0, -7.0, -2.0, -2.0, -2.0, -1.0, -1.0, 1.0, 1.0, -5.0],
              inner=[0, 0, 0, 1, 2, 2, 2, 3, 3, 4, 4, 4], outer=[0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2])


@pytest.mark.parametrize("case", [CORNER], ids=["corner"])
def test_the_fit_is_the_minimum_of_the_reml_criterion(case):
    # REML is the minimum over the sd ratios (theta >= 0): no point of a 0.05 grid on [0, 3]^2 may lie lower than the
    # fit's criterion, and the fit's criterion is the profiled criterion at its own theta
    y, inner, outer = case["y"], case["inner"], case["outer"]
    X = np.ones((len(y), 1))
    fit = fit_nested_intercepts(y, X, inner, outer)
    q = _prepare(y, X, inner, outer)
    assert fit.reml_criterion == pytest.approx(_profiled(np.array(fit.theta), q)[0], rel=1e-12)
    g = np.linspace(0, 3, 61)
    grid = min(_profiled(np.array([a, b]), q)[0] for a in g for b in g)
    assert fit.reml_criterion <= grid + 1e-9


@pytest.mark.parametrize("level", [0.0, 2.0, 3.7, 999.7])
def test_an_outcome_fitted_exactly_is_one_clear_error(level):
    # every score the same: no residual variance, so no SE (t = estimate / 0 was a bare ZeroDivisionError); the
    # residual sum of squares is then 0 up to rounding (2.8e-9 at 999.7), below 1e-10 of sum(y^2)
    with pytest.raises(ModelError) as err:
        fit_nested_intercepts(np.full(8, level), np.ones((8, 1)), np.repeat([1, 2, 3, 4], 2), np.repeat([1, 1, 2, 2], 2))
    assert str(err.value) == ("fit_nested_intercepts: the outcome is fitted exactly (no residual variance, e.g. every "
                              "score the same): there is no uncertainty to estimate; check the outcome column")



def test_variance_components_report_the_fit_and_the_boundary():
    d = _load("dyad", REF["dyad"]["wave_levels"])
    _, fit = rm.mixed_model(d, "score", between_ref="control", cluster="pair_id", return_fit=True)
    vc = fit.variance_components()
    assert vc["reml_criterion"] == fit.reml_criterion and vc["theta"] == list(fit.theta)
    assert vc["n_pairs"] == fit.n_outer == d["pair_id"].nunique() == REF["dyad"]["model"]["n_groups"]["pair_id"]
    assert vc["singular"] is False                      # lme4: is_singular FALSE, theta (1.04, 0.96)
    assert REF["dyad"]["model_tight_bobyqa"]["is_singular"] is False
    # the corner data's participant sd ratio is 0 (4e-8 from the optimiser): a boundary fit
    corner = fit_nested_intercepts(CORNER["y"], np.ones((12, 1)), CORNER["inner"], CORNER["outer"])
    assert corner.variance_components()["singular"] is True and corner.variance_components()["n_pairs"] == 3


def test_p_values_are_lmertest_s_and_alpha_sets_the_interval():
    ref = REF["dyad"]["model_tight_bobyqa"]["terms"]
    d = _load("dyad", REF["dyad"]["wave_levels"])
    _, fit = rm.mixed_model(d, "score", between_ref="control", cluster="pair_id", return_fit=True)
    t95, t90 = fit.table(), fit.table(0.10)
    for j, r in enumerate(ref):
        assert t95["p_value"][j] == pytest.approx(r["p"], rel=1e-3)
        half = stats.t.ppf(0.95, r["df"]) * r["se"]
        assert t90["ci_low"][j] == pytest.approx(r["estimate"] - half, abs=1e-4)
        assert t90["ci_high"][j] == pytest.approx(r["estimate"] + half, abs=1e-4)


def test_a_rank_deficient_design_is_one_clear_error():
    with pytest.raises(ModelError) as err:
        fit_nested_intercepts(CORNER["y"], np.ones((12, 2)), CORNER["inner"], CORNER["outer"])
    assert str(err.value) == "fit_nested_intercepts: the fixed-effects design is rank deficient"


def test_the_sd_ratios_are_never_negative():
    # the criterion depends on theta only through theta^2: without the bounds theta >= 0 an optimiser can end at a
    # negative ratio (on these 7 scores, from the start (1, 1): -0.150), which would read as a negative sd and flag
    # the fit as singular
    y = [-1.1707319757858579, -0.6131279592631117, 0.39718727745368554, 1.6269680845754784, 0.9308051712316341,
         -1.0413693363453491, -0.33361267495752045]
    fit = fit_nested_intercepts(y, np.ones((7, 1)), [0, 0, 1, 2, 2, 2, 3], [0, 0, 1, 2, 2, 2, 2])
    assert min(fit.theta) >= 0 and min(fit.theta) > 0.1
    assert fit.variance_components()["singular"] is False
    assert fit.tau2_inner == pytest.approx(fit.theta[1] ** 2 * fit.sigma2, rel=1e-12)
