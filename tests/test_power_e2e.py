"""End to end: the planning notebook under papermill, `rmstudy power --from-run` on a real demo run, and the same
numbers on a local Dask cluster of two workers."""

import json
import threading

import pytest

from conftest import DEMO, ROOT
from rmstudy.cli import main
from rmstudy.planning.engine import simulate_power
from rmstudy.planning.spec import EXAMPLE, parse_plan

pytestmark = pytest.mark.e2e


def strip_seconds(o):
    if isinstance(o, dict):
        return {k: strip_seconds(v) for k, v in o.items() if k != "seconds"}
    if isinstance(o, list):
        return [strip_seconds(v) for v in o]
    return o


def execute(tmp_path, **params):
    import papermill as pm

    pm.execute_notebook(str(ROOT / "notebooks" / "00_planning.ipynb"), str(tmp_path / "00_planning.ipynb"),
                        parameters=params, kernel_name="python3", progress_bar=False, cwd=str(ROOT))


def test_planning_notebook_records_the_package_answer(tmp_path):
    out = tmp_path / "planning"
    execute(tmp_path, out_dir=str(out), n_sims=120, n_per_arm="60,120", seed=3)
    recorded = json.loads((out / "power.json").read_text())
    plan = parse_plan({**EXAMPLE, "n_per_arm": [60, 120], "n_sims": 120, "seed": 3})
    assert strip_seconds(recorded) == strip_seconds(json.loads(json.dumps(simulate_power(plan))))
    assert (out / "power_curves.png").stat().st_size > 10_000
    assert [r["n_per_arm"] for r in recorded["power"]] == [60, 120]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("power") / "demo_run"
    assert main(["run", str(DEMO), "--out", str(out), "--no-progress"]) == 0
    return out


def test_from_run_answers_sample_size_and_mde(demo_run, tmp_path):
    res_json = json.loads((demo_run / "results.json").read_text())
    rows = {r["id"]: r for r in res_json["hypotheses"]}
    out = tmp_path / "from_run.json"
    assert main(["power", "--from-run", str(demo_run), "--n-sims", "200", "--json", str(out), "--no-progress"]) == 0
    res = json.loads(out.read_text())
    assert {r["hypothesis"] for r in res["power"]} == set(rows)
    inconclusive = sorted(i for i, r in rows.items() if r["decision"] == "inconclusive")
    assert sorted(s["hypothesis"] for s in res["sample_size"]) == inconclusive
    for s in res["sample_size"]:
        assert s["n_per_arm"] is None or s["n_per_arm_ci_low"] <= s["n_per_arm"] <= s["n_per_arm_ci_high"]
        assert s["grid"] and all(0 <= g["power"] <= 1 for g in s["grid"])
    assert {m["hypothesis"] for m in res["mde"]} == set(rows)
    for hid, src in res["from_run"]["sources"].items():
        assert src["effect"] == ("sesoi" if rows[hid].get("sesoi") else "observed")
    h2 = next(h for h in res["planning"]["hypotheses"] if h["id"] == "H2")
    vc = res_json["models"]["H2"]["variance_components"]
    assert h2["pre_post_correlation"] == pytest.approx(vc["tau2"] / (vc["tau2"] + vc["sigma2"]))
    assert str(demo_run.parent) not in out.read_text()


def test_planning_notebook_from_a_run(demo_run, tmp_path):
    out = tmp_path / "planning"
    execute(tmp_path, out_dir=str(out), from_run=str(demo_run), n_sims=40, n_per_arm="200")
    res = json.loads((out / "power_from_run.json").read_text())
    assert res["from_run"]["run"] == demo_run.name and res["sample_size"] and res["mde"]


def test_dask_cluster_of_two_workers_gives_the_single_process_answer():
    """dask and distributed are pinned in requirements.lock: CI runs this (no skip). ~20 s, most of it the workers'
    start-up; the cluster's worker processes are gone when the test ends."""
    import psutil
    from dask import distributed

    before = {c.pid for c in psutil.Process().children(recursive=True)}
    plan = parse_plan({"waves": ["pre", "post"], "n_per_arm": [40, 80], "pre_post_correlation": 0.5, "attrition": 0.2,
                       "n_sims": 60, "seed": 9, "hypotheses": [
                           {"id": "S", "effect_d": 0.4}, {"id": "R", "outcome": "retention", "hazard_ratio": 0.6}]})
    single = simulate_power(plan)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        on_dask = simulate_power(plan, backend="dask")
    assert strip_seconds(on_dask) == strip_seconds(single)
    assert [r["power"] for r in single["power"]] != [0.0] * len(single["power"])   # a real answer, not an empty one
    left = [c.cmdline() for c in psutil.Process().children(recursive=True) if c.pid not in before
            and c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    # multiprocessing's resource tracker is the interpreter's one shared helper (it ends with the interpreter)
    assert not [c for c in left if "resource_tracker" not in " ".join(c)], f"worker processes left running: {left}"
    assert not [t for t in threading.enumerate() if not t.daemon and t is not threading.main_thread()]


def test_reports_next_cohort_is_the_planners(demo_run):
    """#14: the HR report's and the academic report's next-cohort sizes are the planner's (test_power_reports)."""
    from test_power_reports import assert_reports_use_the_planner

    nc = assert_reports_use_the_planner(demo_run)
    assert nc["hypotheses"] and all(e["n_per_arm"] for e in nc["hypotheses"].values())
