"""stats/models/nested.py details the lme4 comparisons do not reach (issue #17 mutation run): what a fit reports
besides the estimates (its contrast's interval and keys, the variance shares, the counts)."""

import numpy as np
import pytest
from scipy import stats

import rmstudy as rm
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
