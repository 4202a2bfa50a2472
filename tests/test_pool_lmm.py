"""The pooled linear mixed model with a cohort random effect (rmstudy.pool.lmm), the cross-check of the
meta-analysis on raw data: agreement with lmerTest on stored data sets (tests/reference/pool_lmm/: make_data.py
writes the data, make_reference.R fits them), and the rows it fits are the runs' own analysed rows."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import DEMO, REF
from rmstudy.pool.lmm import TERM, _fit, load_raw, pooled_long

HERE = REF / "pool_lmm"
FITS = json.loads((HERE / "pool_lmm_reference.json").read_text(encoding="utf-8"))["fits"]


@pytest.mark.parametrize("name", sorted(FITS))
def test_pooled_lmm_matches_lmertest(name):
    ref = FITS[name]
    fit = _fit(pd.read_csv(HERE / ref["file"]), 0.95)
    for key in ("n_obs", "n_participants", "n_cohorts", "singular"):
        assert fit[key] == ref[key], key
    # the demo/spring fit is singular (cohort variance 0): lme4 stops ~1e-7 short of the optimum there
    for key in ("estimate", "se", "ci_low", "ci_high", "p_value"):
        assert fit[key] == pytest.approx(ref[key], abs=1e-6), key
    for key in ("tau2_participant", "sigma2", "df"):
        assert fit[key] == pytest.approx(ref[key], rel=1e-4), key
    assert fit["tau2_cohort"] == pytest.approx(ref["tau2_cohort"], rel=1e-4, abs=1e-8)
    assert fit["reml_criterion"] == pytest.approx(ref["reml_criterion"], abs=1e-6)


def test_five_cohorts_estimate_a_cohort_variance_the_demo_pair_does_not():
    assert FITS["five_cohorts"]["tau2_cohort"] > 0.05 and FITS["demo_spring_H2"]["tau2_cohort"] == 0


def test_pooled_rows_are_the_cohorts_analysed_rows():
    """pooled_long rebuilds the stored demo + seed-7 data exactly: the rows each run's primary model analysed at
    the contrast's two waves, relabelled base/later, participant ids prefixed with the cohort."""
    from rmstudy.simulate.cohort import write_demo
    import tempfile
    from pathlib import Path

    stored = pd.read_csv(HERE / "demo_spring_H2.csv")
    with tempfile.TemporaryDirectory() as tmp:
        spring = write_demo(Path(tmp) / "spring", seed=7)
        long = pooled_long([("demo", *load_raw(DEMO)), ("spring", *load_raw(spring))], "H2")
    assert list(long.columns) == list(stored.columns)
    assert long[["cohort", "participant", "arm", "wave"]].equals(stored[["cohort", "participant", "arm", "wave"]])
    assert (long["score"] - stored["score"]).abs().max() < 1e-9
    assert set(long["wave"]) == {"base", "later"} and long.groupby("cohort")["participant"].nunique().min() > 100


def test_the_term_is_the_difference_in_change():
    d = pd.read_csv(HERE / "five_cohorts.csv")
    shifted = d.assign(score=d["score"] + 0.5 * ((d["arm"] == "program") & (d["wave"] == "later")))
    assert _fit(shifted, 0.95)["estimate"] == pytest.approx(FITS["five_cohorts"]["estimate"] + 0.5, abs=1e-6)
    assert TERM == "arm[program]:wave[later]"


def test_pooling_by_outcome_takes_the_hypothesis_of_the_same_population():
    """With --match outcome the meta-analysis pools by outcome and population, but the cross-check took each
    cohort's first hypothesis on the outcome whatever its population (everyone and juniors only got the same rows)."""
    import dataclasses

    cohort, scores = load_raw(DEMO)
    h2 = cohort.study.hypothesis("H2")
    juniors = dataclasses.replace(h2, id="H2j", population={"role": "junior"})
    study = dataclasses.replace(cohort.study, hypotheses=(*cohort.study.hypotheses, juniors))
    c = dataclasses.replace(cohort, study=study)
    everyone = pooled_long([("demo", c, scores)], h2.outcome, "outcome", h2.population)
    young = pooled_long([("demo", c, scores)], h2.outcome, "outcome", {"role": "junior"})
    roles = cohort.participants.set_index("participant_id")["role"]
    ids = young["participant"].str.removeprefix("demo:")
    assert set(ids.map(roles)) == {"junior"} and len(young) < len(everyone)
    assert set(ids) <= set(everyone["participant"].str.removeprefix("demo:"))
