"""design.mentoring: groups (issue #12): the trial fixture as 1 junior : 3 seniors reverse-mentoring circles. The
group random effect matches lme4 (tests/reference/mmrm/make_group_reference.R), and the pair or group model
follows the plan's design through one rule (rmstudy.contract.design.mentoring_column)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from rmstudy.contract.cohort import load_cohort
from rmstudy.contract.design import Design, mentoring_column
from rmstudy.stats.models.mixed import mixed_model
from rmstudy.stats.scoring import long_scores, score_scales

HERE = Path(__file__).resolve().parent
TRIAL = HERE / "fixtures" / "trial_cohort"
REF = json.loads((HERE / "reference" / "mmrm" / "group_trial.json").read_text(encoding="utf-8"))


def circles(dest: Path, mentoring: str = "groups") -> Path:
    """The trial as circles (the rule of make_group_reference.R): in file order the k-th programme participant is
    in group G(k // 4 + 1), a junior when k % 4 == 0; controls have no group."""
    shutil.copytree(TRIAL, dest)
    P = pd.read_csv(dest / "participants.csv", dtype=str, keep_default_na=False)
    k = P.groupby("arm").cumcount()
    prog = P["arm"] == "program"
    P["role"] = np.where(prog & (k % 4 == 0), "junior", "senior")
    P["group_id"] = np.where(prog, "G" + (k // 4 + 1).astype(str), "")
    P.to_csv(dest / "participants.csv", index=False)
    plan = yaml.safe_load((dest / "study.yaml").read_text(encoding="utf-8"))
    plan["design"]["mentoring"] = mentoring
    (dest / "study.yaml").write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return dest


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    return load_cohort(circles(tmp_path_factory.mktemp("circles") / "c"))


def _long(c, waves):
    long = long_scores(score_scales(c.responses, c.codebook), c.participants, "symptoms").dropna(subset=["score"])
    long = long[long["wave"].astype(str).isin(waves)].copy()
    long["wave"] = pd.Categorical(long["wave"].astype(str), waves, ordered=True)
    return long


@pytest.mark.parametrize("part", ["all_waves", "contrast_waves"])
def test_group_random_effect_matches_lme4(cohort, part):
    ref = REF[part]
    waves = list(cohort.study.waves) if part == "all_waves" else REF["contrast"]
    long = _long(cohort, waves)
    assert cohort.participants["group_id"].replace("", np.nan).nunique() == REF["groups"]
    tab, fit = mixed_model(long, "score", between_ref="control", cluster="group_id", return_fit=True)
    want = pd.DataFrame(ref["coef"])
    assert len(tab) == len(want) and len(long) == ref["n_obs"]
    np.testing.assert_allclose(tab["estimate"], want["estimate"], atol=1e-4)
    np.testing.assert_allclose(tab["se"], want["se"], atol=1e-4)
    np.testing.assert_allclose(tab["df"], want["df"], rtol=1e-2)
    vc = fit.variance_components()
    assert vc["tau2_pair"] == pytest.approx(ref["tau2_group"], rel=1e-3)
    assert vc["tau2_participant"] == pytest.approx(ref["tau2_participant"], rel=1e-3)
    assert vc["sigma2"] == pytest.approx(ref["sigma2"], rel=1e-3)


def test_the_sensitivity_row_is_the_lme4_group_model(cohort):
    from rmstudy.analysis.hypotheses import analyse_survey

    a = analyse_survey(cohort, score_scales(cohort.responses, cohort.codebook), cohort.study.hypothesis("T1"))
    (g,) = [r for r in a.sensitivity["rows"] if r["analysis"].startswith("Group LMM")]
    ref = pd.DataFrame(REF["contrast_waves"]["coef"]).set_index("term").loc["armprogram:wavemonth12"]
    assert g["estimate"] == pytest.approx(ref["estimate"], abs=1e-4) and g["se"] == pytest.approx(ref["se"], abs=1e-4)
    assert g["data"] == "all scored rows at baseline and month12"
    assert not any(r["analysis"].startswith("Dyad") for r in a.sensitivity["rows"])


def test_one_rule_for_the_pair_or_group_model(tmp_path):
    """The plan's design.mentoring decides; a stray column of the other kind does not add a model."""
    assert mentoring_column(Design(mentoring="groups"), ["group_id", "pair_id"]) == "group_id"
    assert mentoring_column(Design(mentoring="pairs"), ["group_id"]) is None
    assert mentoring_column(Design(mentoring="none"), ["group_id", "pair_id"]) is None
    from rmstudy.analysis.hypotheses import analyse_survey

    c = load_cohort(circles(tmp_path / "none", mentoring="none"))        # group_id present, design says none
    assert "group_id" in c.participants.columns
    a = analyse_survey(c, score_scales(c.responses, c.codebook), c.study.hypothesis("T1"))
    assert not any(r["analysis"].startswith(("Group", "Dyad")) for r in a.sensitivity["rows"])
