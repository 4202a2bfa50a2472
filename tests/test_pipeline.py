"""End to end: `rmstudy run` on the demo, checked against the package's direct answers and R."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from numpy.testing import assert_allclose

import rmstudy as rm
from rmstudy.errors import CohortError
from rmstudy.run.pipeline import NotebookFailed, run
from conftest import DEMO, ROOT, load_ref

pytestmark = pytest.mark.e2e
CREATED = "2026-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "demo"
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        res = run(DEMO, out, progress=False, created=CREATED)
    finally:
        os.chdir(cwd)
    return out, res


def test_outputs_exist(demo_run):
    out, _ = demo_run
    for f in ("results.json", "hr/hr_report.html", "hr/hr_report.pdf", "academic_report.html", "manifest.json"):
        assert (out / f).stat().st_size > 1000
    assert sorted(p.name for p in (out / "notebooks").glob("*.ipynb")) == [
        f"{n}.ipynb" for n in ("01_data_quality", "02_psychometrics", "03_survey_hypotheses", "04_retention",
                               "05_hr_report", "06_academic_report")]


def test_hr_folder_holds_only_what_hr_receives(demo_run):
    """OUT/hr/ is what goes to HR: its report as HTML and PDF and that report's figures, nothing else; the
    analyst's files (validation.json with pseudonymous ids, notebooks, records, results, inputs) stay outside."""
    out, _ = demo_run
    hr = sorted(p.relative_to(out / "hr").as_posix() for p in (out / "hr").rglob("*") if p.is_file())
    assert {"hr_report.html", "hr_report.pdf"} <= set(hr)
    assert all(n in ("hr_report.html", "hr_report.pdf") or n.endswith((".png", ".svg")) for n in hr), hr
    for name in ("validation.json", "results.json", "manifest.json", "academic_report.html", "notebooks", "records",
                 "inputs"):
        assert (out / name).exists() and not (out / "hr" / name).exists(), name
    for f in (out / "hr").rglob("*"):
        if f.is_file() and f.suffix in (".html", ".svg"):
            assert not PID.search(_without_images(f.read_text(encoding="utf-8"))), f.name


def test_run_analyses_a_snapshot_of_its_inputs_and_lists_every_file_in_the_manifest(demo_run):
    """The cohort files are copied into OUT/inputs/<cohort>/ at validation and every notebook reads that copy;
    the manifest, written last, names every other file of the run with its SHA-256."""
    import hashlib

    out, res = demo_run
    snap = out / "inputs" / "demo"
    assert sorted(p.name for p in snap.iterdir()) == sorted(res["inputs"])
    for name, sha in res["inputs"].items():
        assert hashlib.sha256((snap / name).read_bytes()).hexdigest() == sha
        assert (snap / name).read_bytes() == (DEMO / name).read_bytes()
    man = json.loads((out / "manifest.json").read_text())
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(man["outputs"]) == files
    for name, sha in man["outputs"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == sha, name
    assert len(man["run_id"]) == 32 and man["created"] == res["created"] and man["inputs"] == res["inputs"]
    params = json.loads((out / "notebooks" / "01_data_quality.ipynb").read_text())["metadata"]["papermill"]
    assert params["parameters"]["cohort_dir"].endswith(f"{out.name}/inputs/demo")


def test_nothing_of_the_build_folder_is_left_or_named(demo_run):
    """No build or scratch folder beside --out, no kernel connection file, and no output names the build folder
    (the executed notebooks' parameters name --out, where the notebooks now are)."""
    out, _ = demo_run
    assert _leftovers(out.parent) == []
    for f in out.rglob("*"):
        if f.is_file() and f.suffix in (".json", ".ipynb", ".html"):
            assert ".rmstudy-" not in f.read_text(encoding="utf-8"), f
    assert not list(out.rglob("kernel-*.json"))


def test_kernel_pool_keeps_its_own_bookkeeping(tmp_path):
    """The pool records which kernel has run a notebook itself (no attribute set on jupyter_client objects), and
    writes the connection files where it is told, removing them at shutdown."""
    from rmstudy.run.kernels import KernelPool

    pool = KernelPool(1, tmp_path / "k")
    try:
        assert [p.name for p in (tmp_path / "k").iterdir()] == ["kernel-0.json"]
        km, used = pool.acquire()
        assert not used and not [a for a in vars(km) if "rmstudy" in a]
        pool.release(km)
        assert pool.acquire() == (km, True)
    finally:
        pool.shutdown()
    assert list((tmp_path / "k").iterdir()) == []


def test_kernel_pool_stops_the_clients_notebooks_leave_running(tmp_path):
    """Regression: nbclient stops a kernel client only on a kernel it started itself, so every notebook run on a
    pool kernel left a client running (threads, sockets, a zmq context): late in the suite the test process held
    over 1,024 descriptors. Five notebooks on one kernel must leave no client, thread or descriptor behind."""
    import os
    import threading

    import nbformat
    import papermill as pm

    from rmstudy.run.kernels import KernelPool

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1 + 1")])
    nbformat.write(nb, tmp_path / "tiny.ipynb")
    pool = KernelPool(1, tmp_path / "k")
    try:
        counts = []
        for i in range(5):
            km, _ = pool.acquire()
            pm.execute_notebook(str(tmp_path / "tiny.ipynb"), str(tmp_path / f"out{i}.ipynb"), km=km,
                                kernel_name="python3", progress_bar=False)
            made = list(pool._clients[0])
            assert len(made) == 1
            pool.release(km)
            assert not made[0].channels_running and made[0].context.closed
            counts.append((len(os.listdir("/proc/self/fd")), threading.active_count()))
        assert counts[-1][0] <= counts[0][0] + 2, counts           # was about 8 more descriptors per notebook
        assert counts[-1][1] <= counts[0][1], counts
    finally:
        pool.shutdown()


def test_run_writes_its_validation_report_with_the_same_ledger(demo_run):
    out, res = demo_run
    rep = json.loads((out / "validation.json").read_text())
    assert rep["ok"] and rep["counts"]["errors"] == 0
    assert rep["ledger"] == res["flow"]["ledger"]
    assert str(ROOT) not in (out / "validation.json").read_text()


def test_run_refuses_what_only_validate_finds(tmp_path):
    """A header-only employment.csv in a plan without retention loads, but validate calls it an error; so does run."""
    bad = tmp_path / "bad"
    shutil.copytree(DEMO, bad)
    (bad / "employment.csv").write_text((bad / "employment.csv").read_text().splitlines()[0] + "\n")
    plan = yaml.safe_load((bad / "study.yaml").read_text())
    plan["hypotheses"] = [h for h in plan["hypotheses"] if h["outcome"] != "retention"]
    (bad / "study.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))
    rm.load_cohort(bad)                                    # the loader alone accepts it
    with pytest.raises(CohortError) as e:
        run(bad, tmp_path / "o", progress=False)
    assert "employment.csv: file has a header but no data rows" in str(e.value)
    assert not (tmp_path / "o").exists()


def test_results_validate_and_carry_design_fields(demo_run):
    out, res = demo_run
    on_disk = json.loads((out / "results.json").read_text())
    rm.validate_results(on_disk)
    for key in ("schema_version", "cohort", "rmstudy_version", "created", "inputs", "plan_sha256", "parameters",
                "flow", "reliability", "hypotheses"):
        assert key in on_disk
    assert set(on_disk["inputs"]) == {"participants.csv", "responses.csv", "employment.csv", "codebook.yaml", "study.yaml"}
    assert on_disk["plan_sha256"] == on_disk["inputs"]["study.yaml"]
    assert [h["id"] for h in on_disk["hypotheses"]] == ["H1a", "H1b", "H2", "H3", "H3b", "H4", "H5", "H6"]
    survey = [h["id"] for h in on_disk["hypotheses"] if h["outcome"] != "retention"]
    assert sorted(on_disk["sensitivity"]) == sorted(survey)
    assert all(h["bayes_factor_10"] > 0 for h in on_disk["hypotheses"] if h["id"] in survey)
    assert set(on_disk["psychometrics"]["rci"]) == set(survey)
    assert {k for k, v in on_disk["moderation"].items() if v} == {"H4", "H5", "H6"}
    for h in on_disk["hypotheses"]:
        for key in ("id", "label", "outcome", "population", "family", "direction", "method", "estimate", "se", "df",
                    "ci_low", "ci_high", "p_value", "p_adjusted", "effect_size", "n", "decision", "notes"):
            assert key in h, (h["id"], key)
    bad = dict(on_disk, schema_version=1)      # an old contract version is refused
    with pytest.raises(jsonschema.ValidationError):
        rm.validate_results(bad)


def test_results_equal_direct_package_answers(demo_run, demo_cohort, demo_scores):
    _, res = demo_run
    rows = {h["id"]: h for h in res["hypotheses"]}
    direct = []
    for h in demo_cohort.study.hypotheses:
        if h.is_retention:
            row = rm.analyse_retention_hypothesis(demo_cohort, h)[0]
        else:
            row = rm.analyse_survey_hypothesis(demo_cohort, demo_scores, h)[0]
        direct.append(row)
    for d in rm.finalise_hypotheses(direct, demo_cohort.study):
        r = rows[d["id"]]
        for key in ("estimate", "se", "p_value", "p_adjusted", "ci_low", "ci_high"):
            assert_allclose(r[key], d[key], rtol=1e-12, err_msg=(d["id"], key))
        assert r["decision"] == d["decision"]
    rel = rm.reliability_table(demo_cohort.responses, demo_cohort.participants, demo_cohort.codebook,
                               demo_cohort.study.waves)
    got = [float("nan") if r["alpha"] is None else r["alpha"] for r in res["reliability"]]
    assert_allclose(got, rel["alpha"].to_numpy(), rtol=1e-12)      # NaN where nobody answered (null in JSON)


def test_h1_h2_match_lme4(demo_run):
    _, res = demo_run
    ref = load_ref("lmm_demo.json")["hypotheses"]
    for h in res["hypotheses"]:
        if h["id"] in ("H1a", "H1b", "H2"):
            inter = {t["term"]: t for t in ref[h["id"]]["terms"]}["armprogram:wavepost"]
            assert abs(h["estimate"] - inter["estimate"]) < 1e-4
            assert abs(h["se"] / inter["se"] - 1) < 1e-4


def test_flow_ledger_reconciles(demo_run, demo_cohort):
    _, res = demo_run
    led = res["flow"]["ledger"]
    for name, l in led.items():
        assert l["rows_in"] == l["included"] + l["excluded"]
        assert l["excluded"] == sum(l["reasons"].values())
    assert led["responses.csv"]["rows_in"] == len(demo_cohort.responses)
    stages = {s["stage"]: s for s in res["flow"]["stages"]}
    assert stages["enrolled"]["program"] == 300 and stages["enrolled"]["control"] == 300
    assert stages["responded_post"]["program"] + stages["responded_post"]["control"] == int(
        (demo_cohort.responses["wave"] == "post").sum())


PID = re.compile(r"\bP\d{4}\b")


def _without_images(html: str) -> str:
    """HTML without embedded base64 data (whose letters may spell an id by chance)."""
    return re.sub(r"base64,[A-Za-z0-9+/=\s]+", "", html)


def test_hr_report_is_private_and_codeless(demo_run):
    out, res = demo_run
    html = (out / "hr" / "hr_report.html").read_text()
    assert not PID.search(_without_images(html)), "a participant id leaked into the HR report"
    for forbidden in ("import rmstudy", "rm.load_results", "cohort_dir", "out_dir =", "injected-parameters",
                      str(ROOT), str(out.resolve()), "In&nbsp;[", "Traceback"):
        assert forbidden not in html, forbidden
    assert "The answer first" in html and "Privacy" in html
    assert "too uncertain to say" in html or "clear improvement" in html


def test_academic_report_carries_provenance(demo_run):
    out, res = demo_run
    html = (out / "academic_report.html").read_text()
    assert res["plan_sha256"] in html
    for sha in res["inputs"].values():
        assert sha in html
    for section in ("Participant flow", "Baseline characteristics", "Attrition", "Measurement", "Primary results",
                    "Sensitivity analyses", "Moderation and dose", "Retention", "Assumption checks",
                    "Reproducibility"):
        assert section in html, section
    assert res["environment"]["packages"]["statsmodels"] in html
    warnings = json.loads((out / "validation.json").read_text())["warnings"]
    assert warnings and "Data checks that did not stop the run" in html
    for check in {w["check"] for w in warnings}:
        n = sum(w["check"] == check for w in warnings)
        assert re.search(rf"<td>{check}</td>\s*<td>{n}</td>", html), (check, n)
    assert str(ROOT) not in html
    assert not PID.search(_without_images(html))
    manifest = json.loads((out / "manifest.json").read_text())
    assert not any(os.path.isabs(v) for v in (manifest["cohort_dir"], manifest["out_dir"]))
    assert str(ROOT) not in (out / "manifest.json").read_text()
    for nb in (out / "notebooks").glob("*.ipynb"):
        assert str(ROOT) not in nb.read_text(), nb.name


def test_rerun_is_identical_apart_from_created(demo_run, tmp_path):
    out, res = demo_run
    before = json.loads((out / "manifest.json").read_text())
    (out / "figures" / "stale.png").write_bytes(b"an earlier run's figure")
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        again = run(DEMO, out, progress=False, parallel=False)   # same folder, serial mode
    finally:
        os.chdir(cwd)
    a = json.loads((out / "results.json").read_text())
    assert again["created"] != CREATED
    a.pop("created")
    b = dict(res)
    b.pop("created")
    assert a == b
    after = json.loads((out / "manifest.json").read_text())
    assert after["run_id"] != before["run_id"]
    assert not (out / "figures" / "stale.png").exists()           # the whole folder was replaced
    assert _leftovers(out.parent) == []


def test_failing_notebook_stops_the_run_and_leaves_out_as_it_was(tmp_path, monkeypatch):
    nbs = tmp_path / "nbs"
    shutil.copytree(ROOT / "notebooks", nbs)
    nb = json.loads((nbs / "03_survey_hypotheses.ipynb").read_text())
    nb["cells"][2]["source"] = "raise RuntimeError('planted failure')\n"
    (nbs / "03_survey_hypotheses.ipynb").write_text(json.dumps(nb))
    monkeypatch.setenv("RMSTUDY_NOTEBOOKS", str(nbs))
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    with pytest.raises(NotebookFailed) as e:
        run(DEMO, out, progress=False)
    msg = str(e.value)
    assert "03_survey_hypotheses" in msg and "planted failure" in msg
    # papermill inserts the injected-parameters cell, so source cell 2 is executed cell 3
    assert "cell 3 of the executed notebook" in msg and "raise RuntimeError('planted failure')" in msg
    # the unfinished run is kept beside --out for inspection; --out itself is not created
    assert "out.failed/notebooks/03_survey_hypotheses.ipynb" in msg and str(tmp_path) not in msg
    assert (tmp_path / "out.failed" / "notebooks" / "03_survey_hypotheses.ipynb").exists()
    assert not out.exists()
    assert not (tmp_path / "out.failed" / "hr").exists() and not (tmp_path / "out.failed" / "results.json").exists()
    assert _leftovers(tmp_path) == []


def _leftovers(parent: Path) -> list[str]:
    """What a run leaves beside --out apart from --out, OUT.failed and the lock file: nothing."""
    return sorted(p.name for p in parent.iterdir() if ".rmstudy-" in p.name and not p.name.endswith("rmstudy-lock"))


def test_invalid_cohort_refused_by_cli(tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(DEMO, bad)
    text = (bad / "responses.csv").read_text().splitlines()
    cells = text[1].split(",")
    cells[1] = "middle"
    text[1] = ",".join(cells)
    (bad / "responses.csv").write_text("\n".join(text) + "\n")
    exe = Path(sys.executable).with_name("rmstudy")
    p = subprocess.run([str(exe), "run", str(bad), "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert p.returncode == 2
    assert "responses.csv, row 2, column 'wave'" in p.stderr and "middle" in p.stderr
    assert not (tmp_path / "o" / "notebooks").exists()


def test_notebooks_by_hand_with_papermill(tmp_path):
    """A researcher runs the notebooks one by one with papermill; the report notebook assembles results.json."""
    exe = Path(sys.executable).with_name("papermill")
    out_dir = os.path.relpath(tmp_path / "manual", ROOT)
    for name in ("01_data_quality", "02_psychometrics", "03_survey_hypotheses", "04_retention", "05_hr_report"):
        p = subprocess.run([str(exe), f"notebooks/{name}.ipynb", str(tmp_path / f"{name}.ipynb"),
                            "-p", "cohort_dir", "data/demo", "-p", "out_dir", out_dir],
                           cwd=ROOT, capture_output=True, text=True)
        assert p.returncode == 0, (name, p.stderr[-2000:])
    rec = json.loads((tmp_path / "manual" / "records" / "01_data_quality.json").read_text())
    assert rec["flow"]["ledger"]["participants.csv"]["rows_in"] == 600
    res = json.loads((tmp_path / "manual" / "results.json").read_text())
    rm.validate_results(res)
    assert [h["id"] for h in res["hypotheses"]] == ["H1a", "H1b", "H2", "H3", "H3b", "H4", "H5", "H6"]
    assert all("p_adjusted" in h for h in res["hypotheses"])


def test_hr_report_pdf_is_a4(demo_run):
    """The PDF HR receives prints on A4 (the HR template's own print stylesheet)."""
    import weasyprint

    out, _ = demo_run
    pdf = (out / "hr" / "hr_report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
    doc = weasyprint.HTML(filename=str(out / "hr" / "hr_report.html")).render()
    assert len(doc.pages) >= 2
    for page in doc.pages:       # A4 = 210 x 297 mm = 793.7 x 1122.5 CSS px
        assert abs(page.width - 793.7) < 1 and abs(page.height - 1122.5) < 1


def _single_arm_copy(tmp_path) -> Path:
    """The demo cohort without its comparison group."""
    import pandas as pd

    d = tmp_path / "single"
    shutil.copytree(DEMO, d)
    P = pd.read_csv(d / "participants.csv", dtype=str, keep_default_na=False)
    keep = set(P.loc[P["arm"] == "program", "participant_id"])
    P[P["arm"] == "program"].to_csv(d / "participants.csv", index=False)
    for f in ("responses.csv", "employment.csv"):
        t = pd.read_csv(d / f, dtype=str, keep_default_na=False)
        t[t["participant_id"].isin(keep)].to_csv(d / f, index=False)
    return d


def test_single_arm_cohort_runs_and_says_change_is_not_attributable(tmp_path, monkeypatch):
    """The demo without its comparison group and without the retention hypothesis (which needs two arms)."""
    import yaml

    d = _single_arm_copy(tmp_path)
    plan = yaml.safe_load((d / "study.yaml").read_text())
    plan["hypotheses"] = [h for h in plan["hypotheses"] if h["outcome"] != "retention"]
    (d / "study.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))
    monkeypatch.chdir(tmp_path)
    res = run(d, tmp_path / "out", progress=False)
    assert {h["design"] for h in res["hypotheses"]} == {"single_arm"}
    assert all(h["method"].startswith("LMM score ~ wave") for h in res["hypotheses"])
    html = (tmp_path / "out" / "hr" / "hr_report.html").read_text()
    assert "no comparison group" in html.lower() and "cannot be attributed to the programme" in html


def test_single_arm_plan_with_retention_is_refused(tmp_path):
    d = _single_arm_copy(tmp_path)
    with pytest.raises(CohortError) as e:
        rm.load_cohort(d)
    assert any("H3" in p.message and "only" in p.message for p in e.value.problems)


def test_executed_notebooks_keep_no_machine_paths_in_outputs(tmp_path):
    """A warning printed by a cell names the file it comes from; _scrub shows such folders as placeholders."""
    import sysconfig

    from rmstudy.run.pipeline import scrub_notebook

    site = sysconfig.get_paths()["purelib"]
    pkg = str(Path(rm.__file__).resolve().parent)
    nb = {"cells": [{"cell_type": "code", "execution_count": 7, "metadata": {}, "source": "x", "outputs": [
        {"output_type": "stream", "name": "stderr", "text": [f"{site}/scipy/stats/_axis.py:3: RuntimeWarning: x\n"]},
        {"output_type": "error", "ename": "E", "evalue": "", "traceback": [f"File {pkg}/reliability.py:9"]},
        {"output_type": "execute_result", "execution_count": 7, "metadata": {},
         "data": {"text/plain": [f"'{ROOT}/data/demo'"]}}]}],
        "metadata": {"papermill": {"input_path": str(ROOT / "notebooks" / "a.ipynb")}}, "nbformat": 4,
        "nbformat_minor": 5}
    path = tmp_path / "a.ipynb"
    path.write_text(json.dumps(nb))
    scrub_notebook(path)
    text = path.read_text()
    assert site not in text and pkg not in text
    assert "<site-packages>/scipy/stats/_axis.py:3" in text and "<rmstudy>/reliability.py:9" in text
    assert str(ROOT) not in text


def test_a_run_clears_papermill_s_stale_working_folder(tmp_path):
    """papermill keeps one working folder for the whole process; threads can leave a stale one (e.g. a deleted
    `rmstudy reproduce` scratch folder) and every later read chdirs into it. run() clears it before anything else."""
    from papermill.iorw import papermill_io

    from rmstudy.errors import RmstudyError

    handler = papermill_io.get_handler("local")
    handler.cwd(str(tmp_path / "deleted-scratch"))
    with pytest.raises((RmstudyError, OSError)):
        run(tmp_path / "no-such-cohort", tmp_path / "out", progress=False)
    assert handler.cwd(None) is None


def test_kernels_share_the_cpus_out_between_their_blas_thread_pools(tmp_path, monkeypatch):
    """Two kernels at once on a 2-core machine each got OpenBLAS's 2 threads: the survey models spent as much CPU
    spinning as computing (27.6 CPU-s with 2 threads, 14.9 with 1, the same wall time alone). Each kernel gets
    cpus // kernels threads; a count the user set is kept."""
    from rmstudy.run.kernels import THREAD_VARS, KernelPool, kernel_env

    for var in THREAD_VARS:
        monkeypatch.delenv(var, raising=False)
    assert {kernel_env(2, cpus=2)[v] for v in THREAD_VARS} == {"1"}
    assert {kernel_env(1, cpus=2)[v] for v in THREAD_VARS} == {"2"}
    assert {kernel_env(2, cpus=8)[v] for v in THREAD_VARS} == {"4"}
    assert {kernel_env(3, cpus=2)[v] for v in THREAD_VARS} == {"1"}
    monkeypatch.setenv("OMP_NUM_THREADS", "3")          # the user's choice: none of the three is touched
    assert kernel_env(2, cpus=2)["OMP_NUM_THREADS"] == "3"
    assert not {"OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"} & set(kernel_env(2, cpus=2))
    monkeypatch.delenv("OMP_NUM_THREADS")
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)       # macOS has no affinity mask
    assert kernel_env(2)["OPENBLAS_NUM_THREADS"] == str(max(1, (os.cpu_count() or 1) // 2))
    monkeypatch.undo()
    for var in THREAD_VARS:
        monkeypatch.delenv(var, raising=False)
    pool = KernelPool(2, tmp_path / "k")
    try:
        km, _ = pool.acquire()
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
            out: list = []
            reply = kc.execute_interactive(
                "from threadpoolctl import threadpool_info as _t; import numpy as _n; _n.ones((9, 9)) @ _n.ones((9, 9))\n"
                "print(sorted({i['num_threads'] for i in _t() if i['user_api'] == 'blas'}))",
                output_hook=out.append, timeout=60)
        finally:
            kc.stop_channels()
        text = "".join(m["content"].get("text", "") for m in out if m["msg_type"] == "stream")
        assert reply["content"]["status"] == "ok" and text.strip() == f"[{max(1, len(os.sched_getaffinity(0)) // 2)}]"
        pool.release(km)
    finally:
        pool.shutdown()


def test_a_failed_stage_waits_for_its_side_jobs_before_the_folder_is_kept(tmp_path, monkeypatch):
    """validation.json is written by a side job beside stage 1. When a notebook fails, the stage stops the kernels,
    gives the notebooks _STOP_WAIT seconds and then waits for a side job that has started, however long it takes,
    so the folder moved to OUT.failed never has a file half written into it; then the notebook's error goes on.
    Scheduling: side jobs have threads of their own, and the notebooks queue longest task first."""
    import threading
    import time

    from rmstudy.run import pipeline as P

    class Pool:
        def __init__(self):
            self.free = threading.Semaphore(2)

        def __len__(self):
            return 2

        def acquire(self):
            self.free.acquire()
            return object(), False

        def release(self, km):
            self.free.release()

        def shutdown(self):
            pass

    class Bar:
        def update(self, n):
            pass

        def set_postfix_str(self, s):
            pass

    started = []

    def execute(name, ctx, km, reset=False, part=""):
        started.append((name, part))
        if name == "02_psychometrics":
            time.sleep(0.2)
            raise NotebookFailed("planted failure", notebook=f"notebooks/{name}.ipynb")
        time.sleep(0.05)

    def side():
        time.sleep(1.5)                                  # longer than the notebooks are given
        (tmp_path / "validation.json").write_text("{}")
        return "validation.json"

    monkeypatch.setattr(P, "_execute", execute)
    monkeypatch.setattr(P, "_STOP_WAIT", 0.1)
    ctx = P._Run(nb_dir=tmp_path, build=tmp_path, scratch=tmp_path, params={}, pool=Pool())
    with pytest.raises(NotebookFailed, match="planted failure"):
        P._stage(P.STAGES[0], ctx, Bar(), side=[side])
    assert (tmp_path / "validation.json").read_text() == "{}"
    assert started[:2] == [("02_psychometrics", ""), ("03_survey_hypotheses", f"1/{P.PARTS}")]


def test_an_earlier_failed_folder_goes_with_its_temporary_files_but_never_with_a_users_file(tmp_path):
    from rmstudy.run.rundir import RunFolder

    for extra, removed in ((".validation.json.123.tmp", True), ("my notes.txt", False)):
        failed = tmp_path / "out.failed"
        shutil.rmtree(failed, ignore_errors=True)
        (failed / "notebooks").mkdir(parents=True)
        (failed / "validation.json").write_text("{}")
        (failed / extra).write_text("x")
        with RunFolder(tmp_path / "out") as rf:
            rf._remove_failed()
        assert failed.exists() is not removed, extra


def test_a_shut_down_pool_starts_no_kernel_for_a_late_notebook(tmp_path):
    """nbclient starts a new kernel on a manager whose kernel is gone, without the pool's arguments (its warnings
    then ran into the run's one-line error). A pool's managers refuse once the pool is shut down."""
    from rmstudy.run.kernels import KernelPool

    pool = KernelPool(1, tmp_path / "k")
    km, _ = pool.acquire()
    pool.shutdown()
    assert not km.has_kernel
    with pytest.raises(RuntimeError, match="the run is stopping"):
        km.start_kernel()
    assert not km.has_kernel
