"""tests/fixtures/trial_cohort, a design unlike the demo's (issue #12): randomised, mentoring none, no age, role or
pair columns, four waves whose names sort wrongly as text, heavy attrition, a one-item total score with a
codebook cut-off for % favourable. It must run end to end through ``rmstudy run``."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rmstudy.contract.cohort import COHORT_FILES, load_cohort
from rmstudy.stats.models.mixed import mixed_model
from rmstudy.stats.scoring import long_scores, score_scales

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "trial_cohort"
MAKER = FIXTURE.parent / "make_trial_cohort.py"


def _maker():
    spec = importlib.util.spec_from_file_location("make_trial_cohort", MAKER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_fixture_is_reproducible(tmp_path):
    _maker().main(tmp_path / "again")
    for name in (*[f for f in COHORT_FILES if f != "employment.csv"], "truth.json"):
        assert (tmp_path / "again" / name).read_bytes() == (FIXTURE / name).read_bytes(), name
    assert not (FIXTURE / "employment.csv").exists()


def test_fixture_has_the_design_it_claims():
    c = load_cohort(FIXTURE)
    assert not {"age", "role", "pair_id", "group_id"} & set(c.participants.columns)
    assert c.study.design.assignment == "randomised" and c.study.design.mentoring == "none"
    assert list(c.study.waves) == ["baseline", "month3", "month6", "month12"]
    last = c.responses.loc[c.responses["wave"] == "month12", "participant_id"].nunique()
    assert last / len(c.participants) < 0.6                     # heavy attrition: under 60% answer the last wave
    assert [s.n_items for s in c.codebook.scales.values()] == [1]


@pytest.fixture(scope="module")
def trial_run(tmp_path_factory):
    from rmstudy.cli import main

    work = tmp_path_factory.mktemp("trial_run")
    cohort_dir = work / "trial_cohort"
    shutil.copytree(FIXTURE, cohort_dir)
    out = work / "run"
    import contextlib
    import io

    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(printed):
        mp.chdir(work)
        code = main(["run", str(cohort_dir), "--out", str(out)])
    return {"code": code, "out": out, "printed": printed.getvalue(),
            "results": json.loads((out / "results.json").read_text(encoding="utf-8")) if code == 0 else None}


@pytest.mark.e2e
def test_the_run_prints_the_counts_validation_json_holds(trial_run):
    v = json.loads((trial_run["out"] / "validation.json").read_text(encoding="utf-8"))
    assert (f"checks: {v['counts']['exclusions']} exclusion(s), {v['counts']['warnings']} warning(s)"
            in trial_run["printed"])
    assert trial_run["printed"].count("  warning: ") == len({w["check"] for w in v["warnings"]})


@pytest.mark.e2e
def test_trial_runs_end_to_end(trial_run):
    assert trial_run["code"] == 0
    out = trial_run["out"]
    assert (out / "hr" / "hr_report.html").is_file() and (out / "academic_report.html").is_file()
    r = trial_run["results"]
    assert [h["id"] for h in r["hypotheses"]] == ["T1", "T2"]
    assert all(h["decision"] in {"supported", "opposite", "equivalent", "inconclusive"} for h in r["hypotheses"])


@pytest.mark.e2e
def test_trial_estimates_match_a_direct_fit_with_the_plan_wave_order(trial_run):
    """The primary contrast is month12 − baseline against the plan's first wave, not the alphabetical first."""
    c = load_cohort(FIXTURE)
    long = long_scores(score_scales(c.responses, c.codebook), c.participants, "symptoms").dropna(subset=["score"])
    long = long.assign(wave=long["wave"].astype(str))             # plain text: the order must come from the plan
    tab = mixed_model(long, "score", between_ref="control", within_order=list(c.study.waves)).set_index("term")
    (t1,) = [h for h in trial_run["results"]["hypotheses"] if h["id"] == "T1"]
    direct = tab.loc["arm[program]:wave[month12]"]
    assert t1["contrast"] == ["baseline", "month12"]
    assert np.isclose(t1["estimate"], direct["estimate"], rtol=1e-6) and np.isclose(t1["se"], direct["se"], rtol=1e-6)
    assert t1["n"]["program"]["participants"] + t1["n"]["control"]["participants"] == 100


@pytest.mark.e2e
def test_single_item_reliability_and_favourable_cut_off(trial_run):
    psy = trial_run["results"]["psychometrics"]
    (flag,) = [f for f in psy["flags"] if f["scale"] == "symptoms"]
    assert flag["flag"] == "single_item" and "alpha" in flag["message"] and "two or more items" in flag["message"]
    c = load_cohort(FIXTURE)
    R = c.responses.merge(c.participants[["participant_id", "arm"]], on="participant_id")
    fav = {(f["wave"], f["arm"]): f["percent_favourable"] for f in psy["favourable"]}
    for (w, arm), g in R.groupby([R["wave"].astype(str), "arm"]):
        assert np.isclose(fav[(w, arm)], 100 * (g["sym_total"] <= 13).mean())   # the codebook's {at_most: 13}
    assert pd.Series(list(fav.values())).between(0, 100).all()


@pytest.mark.e2e
def test_group_mentoring_runs_end_to_end_with_a_group_random_effect(tmp_path):
    """The trial as reverse-mentoring circles (design.mentoring: groups; one junior with three seniors per
    group_id) runs through rmstudy run, and its sensitivity analyses hold the group random-effect model."""
    import yaml

    from rmstudy.cli import main

    d = tmp_path / "circles"
    shutil.copytree(FIXTURE, d)
    P = pd.read_csv(d / "participants.csv", dtype=str)
    k = P.groupby("arm").cumcount()
    prog = P["arm"] == "program"
    P["role"] = np.where(prog & (k % 4 == 0), "junior", "senior")
    P["group_id"] = np.where(prog, "G" + (k // 4 + 1).astype(str), "")
    P.to_csv(d / "participants.csv", index=False)
    plan = yaml.safe_load((d / "study.yaml").read_text(encoding="utf-8"))
    plan["design"]["mentoring"] = "groups"
    (d / "study.yaml").write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        assert main(["run", str(d), "--out", str(tmp_path / "run")]) == 0
    r = json.loads((tmp_path / "run" / "results.json").read_text(encoding="utf-8"))
    rows = {row["analysis"]: row for row in r["sensitivity"]["T1"]["rows"]}
    g = rows["Group LMM: (1 | group_id) + (1 | participant_id)"]
    assert "group ICC" in g["note"] and not any(a.startswith("Dyad") for a in rows)
    assert g["n_participants"] == rows["Primary: LMM, all available data"]["n_participants"]
