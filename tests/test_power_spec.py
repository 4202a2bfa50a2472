"""rmstudy.planning.spec and `rmstudy power` on the command line: the planning file, its schema, its errors."""

import json

import jsonschema
import pytest
import yaml

from rmstudy.cli import main
from rmstudy.contract.study import load_schema
from rmstudy.planning.spec import EXAMPLE, PlanningError, load_plan, parse_plan

MINIMAL = "{waves: [pre, post], n_per_arm: 200, effect_d: 0.3, pre_post_correlation: 0.5, attrition: 0.0, alpha: 0.05, n_sims: 1000, seed: 1}\n"

FULL = {
    "name": "Next cohort", "design": {"assignment": "randomised", "mentoring": "pairs", "icc": 0.2, "icc_change": 0.1},
    "waves": ["pre", "post", "follow_up"], "n_per_arm": [100, 200], "pre_post_correlation": 0.6,
    "attrition": {"post": 0.2, "follow_up": 0.4}, "attrition_mechanism": "mar", "mar_log_odds_per_sd": -0.5,
    "alpha": 0.05, "n_sims": 200, "seed": 3, "target_power": 0.9,
    "multiplicity": {"secondary": "holm"},
    "hypotheses": [
        {"id": "H1a", "effect_d": -0.3, "population_share": 0.5, "family": "primary", "sesoi": 0.2},
        {"id": "H2", "effect_d": {"post": 0.2, "follow_up": 0.1}, "contrast": ["pre", "post"], "family": "secondary"},
        {"id": "H3", "outcome": "retention", "hazard_ratio": 0.75, "exit_rate": 0.2, "direction": "increase",
         "sesoi": 0.9},
    ],
}


def problems(raw):
    with pytest.raises(PlanningError) as e:
        parse_plan(raw)
    return e.value.problems


def test_minimal_example_resolves_with_documented_defaults(tmp_path):
    path = tmp_path / "PLANNING.yaml"
    path.write_text(MINIMAL)
    plan = load_plan(path)
    assert plan == parse_plan(EXAMPLE)
    (h,) = plan.hypotheses
    assert (h.id, h.kind, h.family, h.direction, h.effect, h.contrast, h.rho, h.attrition) == \
        ("H1", "survey", "primary", "increase", (0.0, 0.3), (0, 1), 0.5, (0.0, 0.0))
    assert plan.n_per_arm == (200,) and plan.n_sims == 1000 and plan.seed == 1 and plan.alpha == 0.05
    assert plan.multiplicity == {"primary": "holm", "secondary": "benjamini_hochberg", "exploratory": "none"}


def test_full_plan_resolves_overrides_and_round_trips_through_the_schema():
    plan = parse_plan(FULL)
    h1a, h2, h3 = plan.hypotheses
    assert h1a.direction == "decrease" and h1a.cluster_size == 1 and h1a.icc == 0.2 and h1a.icc_change == 0.1
    assert h2.cluster_size == 2 and h2.effect == (0.0, 0.2, 0.1) and h2.effect_d == 0.2
    assert h2.attrition == (0.0, 0.2, 0.4) and h2.mechanism == "mar"
    assert h3.kind == "retention" and h3.expected_sign == -1 and h3.direction == "increase"
    assert plan.multiplicity["secondary"] == "holm"
    written = plan.to_dict()
    jsonschema.Draft202012Validator(load_schema("planning")).validate(written)
    assert parse_plan(json.loads(json.dumps(written))) == plan


def test_attrition_as_one_number_grows_to_the_last_wave():
    plan = parse_plan({**EXAMPLE, "waves": ["pre", "post", "follow_up"], "attrition": 0.4})
    assert plan.hypotheses[0].attrition == pytest.approx((0.0, 0.2, 0.4))


def test_variance_components_give_the_correlation_and_the_cluster_share():
    raw = {k: v for k, v in EXAMPLE.items() if k != "pre_post_correlation"}
    plan = parse_plan({**raw, "variance_components": {"cluster": 0.1, "participant": 0.5, "residual": 0.4}})
    h = plan.hypotheses[0]
    assert h.rho == pytest.approx(0.6) and h.icc == pytest.approx(0.1)


@pytest.mark.parametrize("change, needle", [
    ({"n_per_arm": 1}, "n_per_arm"),
    ({"waves": ["pre"]}, "waves"),
    ({"colour": "blue"}, "(top level)"),
    ({"attrition": 1.5}, "attrition"),
    ({"alpha": 0.7}, "alpha"),
    ({"design": {"mentoring": "trios"}}, "design.mentoring"),
])
def test_schema_errors_name_the_key(change, needle):
    probs = problems({**EXAMPLE, **change})
    assert any(p.column == needle for p in probs), [str(p) for p in probs]


@pytest.mark.parametrize("raw, words", [
    ({**EXAMPLE, "hypotheses": [{"id": "H1", "effect_d": 0.2}]}, "both effect_d"),
    ({**EXAMPLE, "direction": "decrease"}, "contradicts its effect_d 0.3"),
    ({**EXAMPLE, "waves": ["pre", "post", "fu"], "attrition": {"post": 0.3, "fu": 0.1}}, "falls from 0.3 to 0.1"),
    ({**EXAMPLE, "effect_d": {"later": 0.3}}, "not a later wave"),
    ({**EXAMPLE, "design": {"icc": 0.6}}, "exceeds pre_post_correlation"),
    ({k: v for k, v in EXAMPLE.items() if k != "pre_post_correlation"}, "no pre_post_correlation"),
    ({k: v for k, v in EXAMPLE.items() if k != "attrition"}, "no attrition"),
    ({k: v for k, v in EXAMPLE.items() if k != "effect_d"}, "names no effect"),
    ({**EXAMPLE, "pre_post_correlation": 0.5, "variance_components": {"participant": 1, "residual": 1}},
     "both pre_post_correlation and variance_components"),
    ({**EXAMPLE, "design": {"assignment": "randomised", "baseline_difference_d": 0.2}}, "no baseline difference"),
    ({"n_per_arm": 100, "hypotheses": [{"id": "R", "outcome": "retention", "hazard_ratio": 0.8, "effect_d": 0.1}]},
     "effect_d is for survey outcomes"),
    ({"n_per_arm": 100, "hypotheses": [{"id": "R", "outcome": "retention"}]}, "without hazard_ratio"),
    ({"n_per_arm": 100, "hypotheses": [{"id": "R", "outcome": "retention", "hazard_ratio": 0.8},
                                       {"id": "R", "outcome": "retention", "hazard_ratio": 0.9}]}, "used twice"),
    ({"n_per_arm": 100, "hypotheses": [{"id": "S", "effect_d": 0.2}]}, "has no waves"),
    ({**EXAMPLE, "n_per_arm": 5, "hypotheses": [{"id": "S", "effect_d": 0.2, "population_share": 0.3}],
      "effect_d": None}, "per arm in its population"),
])
def test_plan_level_problems_say_what_and_how_to_fix(raw, words):
    raw = {k: v for k, v in raw.items() if v is not None}
    probs = problems(raw)
    text = "\n".join(str(p) for p in probs)
    assert words in text and "fix:" in text


def test_a_key_written_twice_and_a_missing_file_are_planning_errors(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("n_per_arm: 100\nn_per_arm: 200\n")
    with pytest.raises(PlanningError, match="appears twice"):
        load_plan(path)
    with pytest.raises(PlanningError, match="cannot read"):
        load_plan(tmp_path / "missing.yaml")


def test_cli_minimal_example_writes_power_mc_se_n_sims_seconds(tmp_path, capsys):
    plan = tmp_path / "PLANNING.yaml"
    plan.write_text(MINIMAL)
    out = tmp_path / "OUT.json"
    assert main(["power", str(plan), "--json", str(out), "--n-sims", "100", "--no-progress"]) == 0
    res = json.loads(out.read_text())
    (row,) = res["power"]
    for key in ("power", "mc_se", "n_sims", "seconds"):
        assert key in row
    assert row["hypothesis"] == "H1" and row["n_sims"] == 100 and res["n_sims"] == 100 and res["seed"] == 1
    assert row["mc_se"] == pytest.approx((row["power"] * (1 - row["power"]) / 100) ** 0.5)
    assert "H1" in capsys.readouterr().out
    jsonschema.Draft202012Validator(load_schema("planning")).validate(res["planning"])


def test_cli_a_list_of_sizes_gives_a_row_per_size_and_hypothesis(tmp_path):
    plan = tmp_path / "PLANNING.yaml"
    plan.write_text(yaml.safe_dump({**FULL, "n_sims": 20}))
    out = tmp_path / "OUT.json"
    assert main(["power", str(plan), "--json", str(out), "--no-progress"]) == 0
    rows = json.loads(out.read_text())["power"]
    assert [(r["n_per_arm"], r["hypothesis"]) for r in rows] == [(n, h) for n in (100, 200) for h in ("H1a", "H2", "H3")]
    assert all(r["seconds"] >= 0 and r["n_sims"] == 20 for r in rows)


def test_cli_refuses_bad_calls_with_exit_2(tmp_path, capsys):
    plan = tmp_path / "PLANNING.yaml"
    plan.write_text(MINIMAL)
    assert main(["power", "--json", str(tmp_path / "o.json")]) == 2
    assert main(["power", str(plan), "--from-run", str(tmp_path)]) == 2
    assert main(["power", str(plan), "--json", str(tmp_path)]) == 2
    assert main(["power", str(plan), "--jobs", "0"]) == 2
    capsys.readouterr()
    bad = tmp_path / "bad.yaml"
    bad.write_text("waves: [pre, post]\nn_per_arm: 100\neffect_d: 0.3\nattrition: 0\n")
    assert main(["power", str(bad), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "no pre_post_correlation" in err and str(tmp_path) not in err
    assert main(["power", "--from-run", str(tmp_path / "nowhere")]) == 2
    assert "no results.json" in capsys.readouterr().err
