"""study.yaml schema_version 4 ``design`` (issue #12): the columns a design needs, groups, and the plan checked
against its data before any notebook runs (a constant covariate)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from rmstudy.checks.validate import validate
from rmstudy.contract.cohort import load_cohort
from rmstudy.contract.design import Design, required_columns
from rmstudy.contract.population import select_population
from rmstudy.contract.study import parse_study
from rmstudy.errors import CohortError

TRIAL = Path(__file__).parent / "fixtures" / "trial_cohort"


def _copy(tmp_path: Path, src: Path = TRIAL) -> Path:
    dst = tmp_path / src.name
    shutil.copytree(src, dst)
    return dst


def _edit_study(d: Path, fn) -> None:
    raw = yaml.safe_load((d / "study.yaml").read_text(encoding="utf-8"))
    fn(raw)
    (d / "study.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")


def _plan(**extra) -> dict:
    return {"schema_version": 4, "name": "x", "programme_start": "2025-01-06", "censor_date": "2026-01-06",
            "waves": ["pre", "post"], **extra,
            "hypotheses": [{"id": "H1", "label": "L", "outcome": "wellbeing", "direction": "increase",
                            "family": "primary"}]}


def test_older_plans_default_to_the_demo_design():
    s = parse_study({**_plan(), "schema_version": 3})
    assert s.design == Design("nonrandomised", "pairs") and s.hypotheses[0].model == "lmm"
    assert set(required_columns(s)) == {"role", "pair_id"}


def test_design_parsed_and_refused_in_an_older_version():
    s = parse_study(_plan(design={"assignment": "waitlist", "mentoring": "groups"}))
    assert (s.design.assignment, s.design.mentoring, s.design.cluster_column) == ("waitlist", "groups", "group_id")
    with pytest.raises(CohortError) as e:
        parse_study({**_plan(design={"mentoring": "none"}), "schema_version": 3})
    (p,) = e.value.problems
    assert p.column == "schema_version" and "design" in p.message and "schema_version 4" in p.message
    with pytest.raises(CohortError) as e:
        parse_study(_plan(design={"mentoring": "triads"}))
    assert e.value.problems[0].column == "design.mentoring"


def test_mmrm_is_accepted_for_survey_outcomes_only():
    raw = _plan()
    raw["hypotheses"][0]["model"] = "mmrm"
    assert parse_study(raw).hypotheses[0].model == "mmrm"
    raw["hypotheses"][0]["outcome"] = "retention"
    with pytest.raises(CohortError) as e:
        parse_study(raw)
    assert any(p.column == "hypotheses.0.model" and "retention" in p.message for p in e.value.problems)


def test_trial_without_age_role_or_pairs_loads_and_filters_by_age_band():
    c = load_cohort(TRIAL)
    assert not {"age", "role", "pair_id"} & set(c.participants.columns)
    assert c.study.design == Design("randomised", "none")
    h = c.study.hypothesis("T2")
    pop = select_population(c.participants, h.population, h.id)
    assert 0 < len(pop) < len(c.participants) and set(pop["age_band"]) == {"18-24", "25-34"}
    assert validate(TRIAL).ok


def test_a_plan_needing_a_missing_column_is_refused(tmp_path):
    d = _copy(tmp_path)
    _edit_study(d, lambda raw: raw["design"].update(mentoring="pairs"))
    rep = validate(d)
    cols = {(f.file, f.column) for f in rep.errors}
    assert cols == {("participants.csv", "role"), ("participants.csv", "pair_id")}
    assert all("design.mentoring" in f.fix for f in rep.errors)
    d = _copy(tmp_path / "b")
    _edit_study(d, lambda raw: raw["hypotheses"][0].update(population={"age": {"max": 35}}))
    (f,) = validate(d).errors
    assert (f.file, f.column) == ("participants.csv", "age") and "population of T1" in f.fix


def _groups(tmp_path: Path, senior_in_g2: bool = True) -> Path:
    """The trial as group mentoring: programme participants in groups of one junior with three seniors."""
    d = _copy(tmp_path)
    P = pd.read_csv(d / "participants.csv", dtype=str)
    prog = P.index[P["arm"] == "program"]
    P["role"] = "senior"
    P["group_id"] = ""
    for k, i in enumerate(prog):
        P.loc[i, "group_id"] = f"G{k // 4 + 1}"
        P.loc[i, "role"] = "junior" if k % 4 == 0 else "senior"
    if not senior_in_g2:
        P.loc[P["group_id"] == "G2", "role"] = "junior"
    P.to_csv(d / "participants.csv", index=False)
    _edit_study(d, lambda raw: raw["design"].update(mentoring="groups"))
    return d


def test_groups_of_one_junior_and_three_seniors(tmp_path):
    c = load_cohort(_groups(tmp_path))
    sizes = c.participants.loc[c.participants["arm"] == "program"].groupby("group_id").size()
    assert sizes.max() == 4 and c.study.design.cluster_column == "group_id"
    with pytest.raises(CohortError) as e:
        load_cohort(_groups(tmp_path / "b", senior_in_g2=False))
    (p,) = e.value.problems
    assert p.column == "group_id" and "group 'G2'" in p.message and "at least one junior (mentor) and one senior" in p.fix


def test_constant_standard_covariate_is_refused_before_any_model(tmp_path):
    """The issue's crash: an invented constant age made the adjusted sensitivity model rank deficient after
    validate had passed. Now validate names the column and the fix."""
    d = _copy(tmp_path)
    P = pd.read_csv(d / "participants.csv", dtype=str)
    P["age"] = "40"
    P.to_csv(d / "participants.csv", index=False)
    rep = validate(d)
    assert not rep.ok and len(rep.errors) == 2                      # T1 and T2 both adjust for it
    f = rep.errors[0]
    assert (f.file, f.column, f.check) == ("participants.csv", "age", "covariate")
    assert "standard covariate 'age' of T1 takes the one value 40 among the 100" in f.message
    assert "remove the 'age' column" in f.fix


def test_named_covariate_constant_or_determined_by_arm(tmp_path):
    d = _copy(tmp_path)
    P = pd.read_csv(d / "participants.csv", dtype=str)
    P["unit"] = P["arm"].map({"program": "A", "control": "B"})      # the arm decides it
    P["country"] = "NL"
    P.to_csv(d / "participants.csv", index=False)
    _edit_study(d, lambda raw: raw["hypotheses"][0].update(covariates=["site", "unit", "country"]))
    rep = validate(d)
    got = {(f.file, f.column): f.message for f in rep.errors}
    assert set(got) == {("study.yaml", "hypotheses.0.covariates")} and len(rep.errors) == 2
    msgs = [f.message for f in rep.errors]
    assert "covariate 'unit' of T1 is determined by the arm" in msgs[0]
    assert "covariate 'country' of T1 takes the one value 'NL'" in msgs[1]


def test_group_mentoring_gets_a_group_random_effect(tmp_path):
    """mentoring: groups fits (1 | group_id) + (1 | participant_id) as the sensitivity model of the dyads; with
    mentoring: none there is no pair model at all."""
    from rmstudy.analysis.hypotheses import analyse_survey
    from rmstudy.stats.scoring import score_scales

    for d, want in ((_groups(tmp_path), "Group LMM: (1 | group_id) + (1 | participant_id)"), (TRIAL, None)):
        c = load_cohort(d)
        a = analyse_survey(c, score_scales(c.responses, c.codebook), c.study.hypothesis("T1"))
        names = [r["analysis"] for r in a.sensitivity["rows"]]
        assert not any(n.startswith("Dyad") for n in names)
        if want is None:
            assert not any(n.startswith("Group") for n in names)
            continue
        (g,) = [r for r in a.sensitivity["rows"] if r["analysis"] == want]
        assert g["n_participants"] == a.row.n["program"]["participants"] + a.row.n["control"]["participants"]
        assert "group ICC" in g["note"] and abs(g["estimate"] - a.row.estimate) < 3 * a.row.se


def test_favourable_cut_off_in_the_codebook(tmp_path):
    from rmstudy.contract.codebook import load_codebook
    from rmstudy.stats.reliability import percent_favourable

    def book(fav):
        p = tmp_path / "codebook.yaml"
        p.write_text(yaml.safe_dump({"scales": {"total": {"min": 0, "max": 63, "items": ["t"], "favourable": fav}}}),
                     encoding="utf-8")
        return load_codebook(p)

    assert book({"at_most": 13})["total"].favourable == {"at_most": 13.0}
    for bad in ({"at_most": 99}, {"below": 13}, {"at_most": 13, "at_least": 2}):
        with pytest.raises(CohortError) as e:
            book(bad)
        assert e.value.problems[0].column == "scales.total.favourable"
    R = pd.DataFrame({"participant_id": ["a", "b", "c"], "wave": ["pre"] * 3, "t": [5.0, 13.0, 30.0]})
    P = pd.DataFrame({"participant_id": ["a", "b", "c"], "arm": ["program"] * 3})
    (row,) = percent_favourable(R, P, book({"at_most": 13})).to_dict(orient="records")
    assert np.isclose(row["percent_favourable"], 200 / 3)
    assert percent_favourable(R, P, book("low")).empty      # a total score's "bottom two points" mean nothing


def test_a_constant_integer_covariate_is_named_as_a_number():
    """numpy integers failed the message's isinstance(v, (int, float)) and showed as a quoted string ('30')."""
    from types import SimpleNamespace as NS

    from rmstudy.checks.design import covariate_problems
    from rmstudy.contract.study import Hypothesis

    h = Hypothesis("H1", "L", "wellbeing", "increase", "primary", contrast=("pre", "post"), covariates=("age",))
    P = pd.DataFrame({"participant_id": list("abcd"), "arm": ["program"] * 2 + ["control"] * 2,
                      "age": pd.Series([30] * 4, dtype="int64")})
    S = pd.DataFrame({"participant_id": list("abcd"), "wave": ["pre"] * 4, "wellbeing": [3.0, 2.0, 4.0, 3.5]})
    (p,) = covariate_problems(NS(study=NS(hypotheses=(h,)), participants=P), S)
    assert "takes the one value 30 among the 4" in p.message and "'30'" not in p.message
