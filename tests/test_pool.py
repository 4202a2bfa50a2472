"""rmstudy.pool: run folders, published effects and a registry pooled into pooled.json, the forest plots, the
academic table and the HR-safe summary (docs/pooling.md).

Two run folders are built from the public API (the demo cohort and a simulated cohort with another seed: the
analysis functions the notebooks call, then ``record`` and ``assemble_results``), with the cohort's plan and
codebook snapshotted into ``inputs/<cohort>/`` as ``rmstudy run`` does; the full ``rmstudy run --register`` path
runs once in an e2e test at the end.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from numpy.testing import assert_allclose

from rmstudy.cli import main as cli
from rmstudy.pool.core import pool_effects, pool_sources, validate_pooled
from rmstudy.pool.outputs import hr_model, pooled_decision
from rmstudy.pool.registry import REGISTRY_COLUMNS, read_registry, register_run
from rmstudy.pool.sources import PoolError, read_effects_csv, read_run
from rmstudy.stats.meta import meta_analysis

from conftest import DEMO, load_ref

CREATED = "2026-01-01T00:00:00Z"


def make_run(cohort_dir: Path, out_dir: Path, snapshot: bool = True) -> dict:
    """A minimal run folder from the public results API: every hypothesis row, the flow and the cell means."""
    import rmstudy as rm
    from rmstudy.results.assemble import assemble_results, record

    cohort = rm.analysis_cohort(cohort_dir)
    scores = rm.score_scales(cohort.responses, cohort.codebook)
    rows, means = [], {}
    for h in cohort.study.hypotheses:
        if h.is_retention:
            row, *_ = rm.analyse_retention_hypothesis(cohort, h)
        else:
            row, detail, *_ = rm.analyse_survey_hypothesis(cohort, scores, h)
            means[h.id] = detail["cell_means"]
        rows.append(row)
    record(out_dir, "01_data_quality", {"flow": rm.participant_flow(cohort, scores), "hypotheses": rows,
                                        "descriptives": {"cell_means": means}})
    res = assemble_results(out_dir, cohort, parameters={"cohort_dir": "elsewhere", "out_dir": "elsewhere"},
                           created=CREATED)
    if snapshot:
        snap = out_dir / "inputs" / cohort_dir.name
        snap.mkdir(parents=True, exist_ok=True)
        for f in ("study.yaml", "codebook.yaml"):
            shutil.copy2(cohort_dir / f, snap / f)
    return res


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from rmstudy.simulate.cohort import write_demo

    work = tmp_path_factory.mktemp("pool_runs")
    second = write_demo(work / "spring", seed=7)
    out = {"demo": work / "run_demo", "spring": work / "run_spring"}
    out["demo_results"] = make_run(DEMO, out["demo"])
    out["spring_results"] = make_run(second, out["spring"])
    out["spring_cohort"] = second
    out["work"] = work
    return out


@pytest.fixture(scope="module")
def pooled_two(runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("pooled")
    code = cli(["pool", str(runs["demo"]), str(runs["spring"]), "--out", str(out)])
    assert code == 0
    return out, json.loads((out / "pooled.json").read_text(encoding="utf-8"))


# ---- reading a run -------------------------------------------------------------------------------------------------
def test_read_run_gives_each_hypothesis_on_every_scale(runs):
    effects, info = read_run(runs["demo"])
    res = runs["demo_results"]
    assert info["plan_found"] and info["codebook_found"]
    by = {e.hypothesis: e for e in effects}
    assert set(by) == {h["id"] for h in res["hypotheses"]}
    row = next(h for h in res["hypotheses"] if h["id"] == "H1a")
    e = by["H1a"]
    assert (e.estimate, e.se, e.outcome, e.direction) == (row["estimate"], row["se"], "bias_older", "decrease")
    assert e.d == row["effect_size"]["value"]
    # SE of d_ppc2: c/SD_pre read off the CIs, plus the baseline SD's own uncertainty d²/(2 df)
    cm = res["descriptives"]["cell_means"]["H1a"]
    n_t, n_c = (next(c["n"] for c in cm if c["arm"] == a and c["wave"] == "pre") for a in ("program", "control"))
    c = 1 - 3 / (4 * (n_t + n_c - 2) - 1)
    se_cond = row["se"] * c / row["baseline_sd"]
    assert_allclose(e.se_d, math.sqrt(se_cond ** 2 + e.d ** 2 / (2 * (n_t + n_c - 2))), rtol=1e-9)
    assert e.instrument["min"] == 1 and e.instrument["max"] == 5 and len(e.instrument["items"]) == 9
    assert e.anonymity_threshold == 5 and e.order == "2025-01-06"
    h3 = by["H3"]
    assert h3.kind == "retention" and h3.d is None and h3.estimate == next(
        h["estimate"] for h in res["hypotheses"] if h["id"] == "H3")


def test_a_plan_whose_hash_differs_is_not_used(runs, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(runs["demo"], run)
    study = next(run.glob("inputs/*/study.yaml"))
    study.write_text(study.read_text(encoding="utf-8").replace("anonymity_threshold: 5", "anonymity_threshold: 3"),
                     encoding="utf-8")
    effects, info = read_run(run)
    assert not info["plan_found"] and info["codebook_found"]
    assert all(e.anonymity_threshold is None for e in effects)


# ---- pooling two runs ----------------------------------------------------------------------------------------------
def test_pool_two_runs_end_to_end(runs, pooled_two):
    out, pooled = pooled_two
    validate_pooled(pooled)
    assert pooled["parameters"] == {"method": "REML", "test": "knha", "other_test": "z", "level": 0.95,
                                    "pi_type": "default", "match": "id", "scale": "auto"}
    ids = [h["id"] for h in runs["demo_results"]["hypotheses"]]
    assert [h["hypothesis"] for h in pooled["hypotheses"]] == ids
    rows = {r: {h["id"]: h for h in runs[f"{r}_results"]["hypotheses"]} for r in ("demo", "spring")}
    for h in pooled["hypotheses"]:
        a, b = rows["demo"][h["hypothesis"]], rows["spring"][h["hypothesis"]]
        assert h["k"] == 2
        want = "log_hazard_ratio" if a["outcome"] == "retention" else "difference_in_change"   # same instruments
        assert h["measure"] == want
        direct = meta_analysis([a["estimate"], b["estimate"]], sei=[a["se"], b["se"]], method="REML", test="knha")
        for key in ("estimate", "se", "ci_low", "ci_high", "p_value", "tau2", "i2", "q", "pi_low", "pi_high"):
            assert_allclose(h[key], direct[key], rtol=1e-12, atol=1e-15, err_msg=f"{h['hypothesis']} {key}")
        z = meta_analysis([a["estimate"], b["estimate"]], sei=[a["se"], b["se"]], method="REML", test="z")
        assert_allclose(h["other_test"]["p_value"], z["p_value"], rtol=1e-12)
        assert_allclose(sum(s["weight"] for s in h["studies"]), 100, rtol=1e-12)
        assert len(h["leave_one_out"]) == 2 and [c["k"] for c in h["cumulative"]] == [1, 2]
        if want == "log_hazard_ratio":
            assert_allclose(h["hazard_ratio"]["estimate"], math.exp(h["estimate"]))
    assert pooled["excluded"] == [] and pooled["not_pooled"] == []


def test_outputs_are_written_and_the_forest_plot_draws(pooled_two):
    from PIL import Image

    out, pooled = pooled_two
    for h in pooled["hypotheses"]:
        png = out / "figures" / f"forest_{h['hypothesis']}.png"
        with Image.open(png) as im:
            w, hgt = im.size
            rgb = np.asarray(im.convert("RGB")).reshape(-1, 3).astype(np.uint32)
            colours = len(np.unique(rgb[:, 0] << 16 | rgb[:, 1] << 8 | rgb[:, 2]))   # 1-D: fast (axis=0 took ~100 s)
        assert w > 500 and hgt > 250 and colours > 20                # a drawn plot, not a blank canvas
    with open(out / "pooled_table.csv", encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert [r["hypothesis"] for r in table] == [h["hypothesis"] for h in pooled["hypotheses"]]
    assert_allclose(float(table[0]["estimate"]), pooled["hypotheses"][0]["estimate"], rtol=1e-15)
    page = (out / "academic_summary.html").read_text(encoding="utf-8")
    assert "Leave-one-out" in page and "Cumulative" in page and "<svg" in page and "http://" not in page.split(
        "<svg")[0]
    assert (out / "hr" / "hr_summary.html").is_file()


def test_hr_summary_sentences_carry_pooled_json_numbers(pooled_two):
    from rmstudy.report.narrative import fmt_signed

    out, pooled = pooled_two
    model = hr_model(pooled)
    page = (out / "hr" / "hr_summary.html").read_text(encoding="utf-8")
    for it, h in zip(model["items"], pooled["hypotheses"]):
        assert it["shown"], it["why_hidden"]
        text = " ".join(it["sentences"])
        if h["measure"] == "difference_in_change":
            assert f"changed by {fmt_signed(h['estimate'])} points" in text
        assert f"Across {h['k']} cohorts" in text
        for s in it["sentences"]:
            assert s.replace("'", "&#39;") in page
    assert "n (programme" not in page and "head count" in page         # no counts; it says so
    for h in pooled["hypotheses"]:                                        # nor the cohorts' sizes in its text
        for st in h["studies"]:
            assert f">{st['n_program']}<" not in page and f">{st['n_control']}<" not in page


def test_same_run_given_twice_counts_once(runs, tmp_path):
    copy = tmp_path / "again"
    shutil.copytree(runs["demo"], copy)
    pooled = pool_sources([runs["demo"], copy, runs["spring"]], created=CREATED)
    assert all(h["k"] == 2 for h in pooled["hypotheses"])
    assert {x["reason"].split(" as ")[0] for x in pooled["excluded"]} == {"the same run (the same input files)"}
    assert len(pooled["excluded"]) == len(pooled["hypotheses"])


def _effects(runs):
    a, _ = read_run(runs["demo"])
    b, _ = read_run(runs["spring"])
    return a, b


def test_incomparable_plans_are_left_out_with_the_reason(runs):
    a, b = _effects(runs)
    c, _ = read_run(runs["spring"])
    for e in c:
        e.inputs_sha256, e.study = "f" * 64, "autumn"
    for e in b:
        if e.hypothesis == "H1a":
            e.population = {"role": "senior"}
        if e.hypothesis == "H2":
            e.direction = "decrease"
        if e.hypothesis == "H4":
            e.instrument = {**e.instrument, "higher_is": "less confidence"}
    for e in a + c:
        if e.hypothesis == "H4":
            e.instrument = {**e.instrument, "higher_is": "more confidence"}
    pooled = pool_effects(a + b + c, created=CREATED)
    why = {(x["study"], x["hypothesis"]): x["reason"] for x in pooled["excluded"]}
    assert "another population" in why[("spring", "H1a")] and "senior" in why[("spring", "H1a")]
    assert "another expected direction (decrease vs increase)" in why[("spring", "H2")]
    assert "the scale runs the other way" in why[("spring", "H4")]
    k = {h["hypothesis"]: h["k"] for h in pooled["hypotheses"]}
    assert k["H1a"] == k["H2"] == k["H4"] == 2 and k["H1b"] == 3


def test_other_instruments_pool_on_d_ppc2_and_raw_refuses_them(runs):
    a, b = _effects(runs)
    for e in b:
        if e.hypothesis == "H2":
            e.instrument = {**e.instrument, "min": 1.0, "max": 9.0}
    pooled = pool_effects(a + b, created=CREATED)
    h2 = next(h for h in pooled["hypotheses"] if h["hypothesis"] == "H2")
    assert h2["measure"] == "d_ppc2" and "(spring: response range 1-9 vs " in h2["scale_reason"]
    assert [s["estimate"] for s in h2["studies"]] == [next(e.d for e in x if e.hypothesis == "H2") for x in (a, b)]
    raw = pool_effects(a + b, scale="raw", created=CREATED)
    assert any(x["hypothesis"] == "H2" and "another instrument (response range" in x["reason"]
               for x in raw["excluded"])
    assert {x["hypothesis"] for x in raw["not_pooled"]} == {"H2"}


def test_unknown_codebook_pools_on_d_ppc2(runs, tmp_path):
    bare = tmp_path / "bare"
    shutil.copytree(runs["spring"], bare)
    shutil.rmtree(bare / "inputs")
    pooled = pool_sources([runs["demo"], bare], created=CREATED)
    h = next(h for h in pooled["hypotheses"] if h["hypothesis"] == "H1a")
    assert h["measure"] == "d_ppc2" and "unknown" in h["scale_reason"]
    assert next(h for h in pooled["hypotheses"] if h["hypothesis"] == "H3")["measure"] == "log_hazard_ratio"


def test_match_by_outcome_pools_other_ids(runs):
    a, b = _effects(runs)
    for e in b:
        e.hypothesis = "X" + e.hypothesis
    by_id = pool_effects(a + b, created=CREATED)
    assert by_id["hypotheses"] == [] and len(by_id["not_pooled"]) == 16
    by_outcome = pool_effects(a + b, match="outcome", created=CREATED)
    keys = [h["hypothesis"] for h in by_outcome["hypotheses"]]
    assert "bias_older (role junior)" in keys and "engagement" in keys and all(
        h["k"] == 2 for h in by_outcome["hypotheses"])


# ---- HR safety -----------------------------------------------------------------------------------------------------
def test_hr_summary_never_shows_a_group_below_a_runs_threshold(runs, tmp_path):
    """A cohort whose H1b comparison group has 3 people (threshold 5): the HR summary leaves H1b out (its pooled
    result with the other cohort's published one would give the small group's result back), shows the rest."""
    small = tmp_path / "small"
    shutil.copytree(runs["spring"], small)
    res = json.loads((small / "results.json").read_text(encoding="utf-8"))
    for h in res["hypotheses"]:
        if h["id"] == "H1b":
            h["n"]["control"]["participants"] = 3
    (small / "results.json").write_text(json.dumps(res), encoding="utf-8")
    out = tmp_path / "out"
    assert cli(["pool", str(runs["demo"]), str(small), "--out", str(out)]) == 0
    pooled = json.loads((out / "pooled.json").read_text(encoding="utf-8"))
    h1b = next(h for h in pooled["hypotheses"] if h["hypothesis"] == "H1b")
    model = hr_model(pooled)
    item = next(i for i in model["items"] if i["hypothesis"] == "H1b")
    assert not item["shown"] and "fewer than 5" in item["why_hidden"] and item["sentences"] == []
    assert all(i["shown"] for i in model["items"] if i["hypothesis"] != "H1b")
    page = (out / "hr" / "hr_summary.html").read_text(encoding="utf-8")
    section = page.split(h1b["question"].replace("'", "&#39;"))[1].split("<h2>")[0]
    assert "Not shown" in section and "<svg" not in section
    from rmstudy.report.narrative import fmt_signed
    assert fmt_signed(h1b["estimate"]) not in section
    # the academic outputs keep everything
    assert "H1b" in (out / "academic_summary.html").read_text(encoding="utf-8")


def test_unknown_threshold_hides_until_one_is_given(runs, tmp_path):
    bare = tmp_path / "bare"
    shutil.copytree(runs["spring"], bare)
    shutil.rmtree(bare / "inputs")
    pooled = pool_sources([runs["demo"], bare], created=CREATED)
    assert not any(i["shown"] for i in hr_model(pooled)["items"])
    assert all("not recorded" in i["why_hidden"] for i in hr_model(pooled)["items"])
    assert all(i["shown"] for i in hr_model(pooled, anonymity_threshold=5)["items"])
    assert not any(i["shown"] for i in hr_model(pooled, anonymity_threshold=400)["items"])


def test_hr_summary_hides_results_that_differ_by_fewer_than_k_people():
    def study(name, n_p, n_c):
        return {"study": name, "estimate": 0.1, "se": 0.1, "ci_low": -0.1, "ci_high": 0.3, "weight": 50.0,
                "order": None, "source": "run", "origin": name, "n_program": n_p, "n_control": n_c,
                "anonymity_threshold": 5}

    def hyp(hid, pop, sizes):
        return {"hypothesis": hid, "outcome": "engagement", "population": pop, "measure": "difference_in_change",
                "k": 2, "estimate": 0.1, "p_value": 0.5, "direction": "increase", "studies":
                [study("A", *sizes), study("B", 100, 100)], "i2": 0.0, "ci_low": -0.1, "ci_high": 0.3,
                "pi_low": None, "pi_high": None, "method": "REML", "test": "knha"}

    pooled = {"parameters": {"level": 0.95}, "hypotheses": [hyp("H2", {}, (100, 100)),
                                                            hyp("H2j", {"role": "junior"}, (97, 100))]}
    items = {i["hypothesis"]: i for i in hr_model(pooled)["items"]}
    assert items["H2"]["shown"] and not items["H2j"]["shown"]
    assert "fewer than 5 people" in items["H2j"]["why_hidden"]


def test_pooled_decision_follows_the_expected_direction():
    base = {"p_value": 0.01, "measure": "difference_in_change"}
    assert pooled_decision({**base, "estimate": -0.2, "direction": "decrease"}, 0.05) == "supported"
    assert pooled_decision({**base, "estimate": 0.2, "direction": "decrease"}, 0.05) == "opposite"
    assert pooled_decision({**base, "estimate": -0.2, "direction": "increase", "measure": "log_hazard_ratio"},
                           0.05) == "supported"
    assert pooled_decision({**base, "p_value": 0.2, "estimate": 0.2, "direction": "increase"}, 0.05) == "inconclusive"


# ---- registry ------------------------------------------------------------------------------------------------------
def test_registry_appends_once_and_pools_like_the_run_folders(runs, pooled_two, tmp_path):
    reg = tmp_path / "evidence" / "registry.csv"
    first = register_run(runs["demo"], reg)
    assert first["status"] == "appended" and first["rows"] == 8
    before = reg.read_bytes()
    again = register_run(runs["demo"], reg)
    assert again["status"] == "already registered" and reg.read_bytes() == before
    assert register_run(runs["spring"], reg, cohort_dir=runs["spring_cohort"])["rows"] == 8
    with open(reg, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == REGISTRY_COLUMNS and len(rows) == 16
    assert not {"participant_id", "age", "department"} & set(rows[0])
    assert {r["date"] for r in rows} == {"2025-01-06"} and {r["anonymity_threshold"] for r in rows} == {"5"}
    pooled = pool_sources(registry=reg, created=CREATED)
    _, from_runs = pooled_two
    for h, g in zip(pooled["hypotheses"], from_runs["hypotheses"]):
        assert h["hypothesis"] == g["hypothesis"] and h["measure"] == g["measure"]
        for key in ("estimate", "se", "tau2", "ci_low", "ci_high", "pi_low", "pi_high"):
            assert_allclose(h[key], g[key], rtol=1e-12, atol=1e-15)
    assert all(i["shown"] for i in hr_model(pooled)["items"])


def test_registry_neutralises_formula_cells_and_reads_them_back(runs, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(runs["demo"], run)
    res = json.loads((run / "results.json").read_text(encoding="utf-8"))
    res["cohort"] = "=HYPERLINK(\"x\")"
    (run / "results.json").write_text(json.dumps(res), encoding="utf-8")
    reg = tmp_path / "reg.csv"
    register_run(run, reg)
    assert "'=HYPERLINK" in reg.read_text(encoding="utf-8")
    assert {e.study for e in read_registry(reg)} == {"=HYPERLINK(\"x\")"}


def test_registry_problems_name_the_row(tmp_path, runs):
    reg = tmp_path / "reg.csv"
    register_run(runs["demo"], reg)
    with open(reg, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    rows[2][REGISTRY_COLUMNS.index("se")] = "abc"
    with open(reg, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    with pytest.raises(PoolError) as e:
        read_registry(reg)
    assert "row 3" in str(e.value) and "column 'se'" in str(e.value)
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(PoolError, match="not an rmstudy registry"):
        register_run(runs["demo"], other)


# ---- published effects ---------------------------------------------------------------------------------------------
def test_effects_csv_pools_like_metafor(tmp_path):
    ref = load_ref("meta_reference.json")["datasets"]["bcg"]
    d = ref["data"]
    path = tmp_path / "bcg.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:   # a BOM, as Excel writes it
        fh.write("Study;Estimate;SE;Year\n")
        for s, y, v, yr in zip(d["study"], d["yi"], d["vi"], d["year"]):
            fh.write(f"{s};{y!r};{math.sqrt(v)!r};{yr}\n")
    out = tmp_path / "out"
    assert cli(["pool", "--effects", str(path), "--out", str(out)]) == 0
    h = json.loads((out / "pooled.json").read_text(encoding="utf-8"))["hypotheses"][0]
    f = ref["fits"]["REML_knha"]
    assert h["hypothesis"] == "all" and h["measure"] == "as_given" and h["k"] == 13
    assert_allclose([h["estimate"], h["ci_low"], h["ci_high"], h["pi_low"], h["pi_high"]],
                    [f["fit"]["estimate"], f["fit"]["ci_lb"], f["fit"]["ci_ub"], f["predict"]["pi_lb"],
                     f["predict"]["pi_ub"]], atol=1e-6)
    assert_allclose(h["tau2_ci_high"], f["confint"]["tau2_ub"], atol=1e-4)
    assert [c["added"] for c in h["cumulative"]] == f["cumul"]["order"]
    assert_allclose([c["estimate"] for c in h["cumulative"]], f["cumul"]["estimate"], atol=1e-6)
    assert all(i["shown"] for i in hr_model(json.loads((out / "pooled.json").read_text()))["items"])


def test_effects_csv_with_several_hypotheses(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("study,estimate,se,hypothesis\nA,0.1,0.1,bias\nB,0.3,0.2,bias\nA,0.5,0.1,engagement\n"
                    "C,0.2,0.1,engagement\nD,0.0,0.3,lonely\n", encoding="utf-8")
    pooled = pool_sources(effects=path, method="DL", test="z", created=CREATED)
    assert [h["hypothesis"] for h in pooled["hypotheses"]] == ["bias", "engagement"]
    assert pooled["not_pooled"] == [{"hypothesis": "lonely", "k": 1, "study": "D",
                                     "reason": "only one study: nothing to pool"}]
    assert pooled["hypotheses"][0]["cumulative_order"] == "input order"


@pytest.mark.parametrize("text,needle", [
    ("study,estimate\nA,0.1\n", "has no column se"),
    ("study,estimate,se\nA,0.1,0.1\nB,x,0.1\n", "row 3, column 'estimate': 'x' is not a number"),
    ("study,estimate,se\nA,0.1,0\n", "row 2, column 'se'"),
    ("study,estimate,se\nA,0.1,0.1\nA,0.2,0.1\n", "appears twice"),
    ("study,estimate,se\n,0.1,0.1\n", "no study label"),
    ("study,estimate,se\n", "holds no effect rows"),
    ("", "is empty"),
])
def test_effects_csv_problems_name_row_and_column(tmp_path, text, needle):
    path = tmp_path / "e.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PoolError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        read_effects_csv(path)


def test_cli_refuses_unusable_arguments(tmp_path, capsys):
    assert cli(["pool", "--out", str(tmp_path / "o")]) == 2
    assert "nothing to pool" in capsys.readouterr().err
    f = tmp_path / "file"
    f.write_text("x", encoding="utf-8")
    assert cli(["pool", str(tmp_path), "--out", str(f)]) == 2
    assert cli(["pool", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_pooled_schema_rejects_a_missing_field(pooled_two):
    _, pooled = pooled_two
    broken = json.loads(json.dumps(pooled))
    del broken["hypotheses"][0]["tau2_ci_low"]
    with pytest.raises(jsonschema.ValidationError):
        validate_pooled(broken)


# ---- the real CLI path ---------------------------------------------------------------------------------------------
@pytest.mark.e2e
def test_rmstudy_run_register_then_pool_the_registry(runs, tmp_path):
    """`rmstudy run COHORT --out RUN --register REG` (the real pipeline) appends 8 rows, a second registration of
    the same run adds none, and `rmstudy pool --registry` pools it with the spring run's rows."""
    exe = Path(sys.executable).parent / "rmstudy"
    reg = tmp_path / "registry.csv"
    assert register_run(runs["spring"], reg)["rows"] == 8
    cohort = tmp_path / "demo"
    shutil.copytree(DEMO, cohort)
    p = subprocess.run([str(exe), "run", "demo", "--out", "run", "--register", "registry.csv", "--no-progress"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr
    assert "registered 8 effect row(s)" in p.stdout
    with open(reg, encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == 16
    p = subprocess.run([str(exe), "pool", "--registry", "registry.csv", "run", "--out", "pooled"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    pooled = json.loads((tmp_path / "pooled" / "pooled.json").read_text(encoding="utf-8"))
    assert all(h["k"] == 2 for h in pooled["hypotheses"])            # the run folder and its registry rows: once
    assert len(pooled["excluded"]) == 8 and "left out" in p.stdout
    assert all(i["shown"] for i in hr_model(pooled)["items"])


def test_effects_and_registry_csvs_with_a_huge_line_are_one_problem(tmp_path):
    """A line over 1 MB (or a file over MAX_CSV_BYTES) is refused before the file is read, for both readers."""
    from rmstudy.pool.registry import read_registry
    from rmstudy.pool.sources import PoolError, read_effects_csv

    bad = tmp_path / "effects.csv"
    bad.write_text("study,estimate,se\n" + "a" * 2_000_000 + ",0.1,0.2\n", encoding="utf-8")
    for reader in (read_effects_csv, read_registry):
        with pytest.raises(PoolError) as e:
            reader(bad)
        assert "row 2 is longer than" in str(e.value) and "effects.csv" in str(e.value)


# ---- the pooled mixed model (cross-check on raw data; rmstudy.pool.lmm, R: tests/reference/pool_lmm/) --------------

def test_pooled_lmm_cross_check_sits_beside_the_meta_analysis(runs, pooled_two):
    import pandas as pd

    from conftest import REF
    from rmstudy.pool.lmm import _fit, lmm_cross_check

    _, pooled = pooled_two
    other = DEMO.parent.parent / "tests" / "fixtures" / "other_cohort"
    cc = lmm_cross_check(pooled, [DEMO, runs["spring_cohort"], other], hypotheses=["H2", "H3"])
    assert [c["hypothesis"] for c in cc["hypotheses"]] == ["H2"]
    assert [s["hypothesis"] for s in cc["skipped"]] == ["H3"] and "log_hazard_ratio" in cc["skipped"][0]["reason"]
    assert cc["unmatched"] == [{"folder": "other_cohort", "reason": cc["unmatched"][0]["reason"]}]
    c = cc["hypotheses"][0]
    stored = _fit(pd.read_csv(REF / "pool_lmm" / "demo_spring_H2.csv"), 0.95)    # the data R fitted
    assert c["estimate"] == pytest.approx(stored["estimate"], abs=1e-7) and c["studies"] == ["demo", "spring"]
    h2 = next(h for h in pooled["hypotheses"] if h["hypothesis"] == "H2")
    assert c["meta_estimate"] == h2["estimate"] and c["difference_from_meta"] == c["estimate"] - h2["estimate"]
    # one programme effect for all cohorts: near the common-effect estimate (a cohort's raw data vs its own run)
    assert abs(c["difference_from_fe"]) < 0.25 * c["se"]
    validate_pooled({**pooled, "lmm_cross_check": cc})
    with pytest.raises(jsonschema.ValidationError):
        validate_pooled({**pooled, "lmm_cross_check": {**cc, "hypotheses": [{"hypothesis": "H2"}]}})


def test_cli_raw_folders_that_no_run_analysed_are_listed_not_used(runs, tmp_path, capsys):
    other = DEMO.parent.parent / "tests" / "fixtures" / "other_cohort"
    assert cli(["pool", str(runs["demo"]), str(runs["spring"]), "--raw", str(other), "--out", str(tmp_path)]) == 0
    pooled = json.loads((tmp_path / "pooled.json").read_text(encoding="utf-8"))
    cc = pooled["lmm_cross_check"]
    assert cc["hypotheses"] == [] and cc["unmatched"][0]["folder"] == "other_cohort"
    assert {s["hypothesis"] for s in cc["skipped"]} == {h["hypothesis"] for h in pooled["hypotheses"]}
    assert "--raw other_cohort not used" in capsys.readouterr().out
    assert "Raw data folder other_cohort not used" in (tmp_path / "academic_summary.html").read_text(encoding="utf-8")
    assert cli(["pool", str(runs["demo"]), "--raw", str(tmp_path), "--out", str(tmp_path / "x")]) == 2
