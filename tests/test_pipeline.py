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
    for f in ("results.json", "hr_report.html", "academic_report.html", "manifest.json"):
        assert (out / f).stat().st_size > 1000
    assert sorted(p.name for p in (out / "notebooks").glob("*.ipynb")) == [
        f"{n}.ipynb" for n in ("01_data_quality", "02_psychometrics", "03_survey_hypotheses", "04_retention",
                               "05_hr_report", "06_academic_report")]


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


def test_hr_report_is_private_and_codeless(demo_run):
    out, res = demo_run
    html = (out / "hr_report.html").read_text()
    assert not PID.search(html), "a participant id leaked into the HR report"
    for forbidden in ("import rmstudy", "rm.load_results", "cohort_dir", "out_dir =", "injected-parameters",
                      str(ROOT), str(out.resolve()), "In&nbsp;[", "Traceback"):
        assert forbidden not in html, forbidden
    assert "The answer first" in html and "Privacy" in html
    assert "Beside actual exits" in html          # turnover intention (H3b) reported beside retention (H3)
    assert "too uncertain to say" in html or "clear improvement" in html


def test_academic_report_carries_provenance(demo_run):
    out, res = demo_run
    html = (out / "academic_report.html").read_text()
    assert res["plan_sha256"] in html
    for sha in res["inputs"].values():
        assert sha in html
    for section in ("Participant flow", "Baseline table", "Attrition", "Measurement", "Primary results",
                    "Sensitivity analyses", "Moderation and dose-response", "Retention", "Assumption checks",
                    "Reproducibility"):
        assert section in html, section
    assert res["environment"]["packages"]["statsmodels"] in html
    warnings = json.loads((out / "validation.json").read_text())["warnings"]
    assert warnings and "Data checks that did not stop the run" in html
    for check in {w["check"] for w in warnings}:
        n = sum(w["check"] == check for w in warnings)
        assert re.search(rf"<td>{check}</td>\s*<td>{n}</td>", html), (check, n)
    assert str(ROOT) not in html and not PID.search(html)
    manifest = json.loads((out / "manifest.json").read_text())
    assert not any(os.path.isabs(v) for v in (manifest["cohort_dir"], manifest["out_dir"]))
    assert str(ROOT) not in (out / "manifest.json").read_text()
    for nb in (out / "notebooks").glob("*.ipynb"):
        assert str(ROOT) not in nb.read_text(), nb.name


def test_rerun_is_identical_apart_from_created(demo_run, tmp_path):
    out, res = demo_run
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


def test_failing_notebook_stops_the_run(tmp_path, monkeypatch):
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
    assert "out/notebooks/03_survey_hypotheses.ipynb" in msg and str(tmp_path) not in msg
    assert (out / "notebooks" / "03_survey_hypotheses.ipynb").exists()
    assert not (out / "hr_report.html").exists() and not (out / "results.json").exists()


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
    import weasyprint

    from rmstudy.run.pipeline import PDF_CSS

    out, _ = demo_run
    pdf = (out / "hr_report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
    doc = weasyprint.HTML(filename=str(out / "hr_report.html")).render(stylesheets=[weasyprint.CSS(string=PDF_CSS)])
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
    html = (tmp_path / "out" / "hr_report.html").read_text()
    assert "no comparison group" in html.lower() and "cannot be attributed to the programme" in html


def test_single_arm_plan_with_retention_is_refused(tmp_path):
    d = _single_arm_copy(tmp_path)
    with pytest.raises(CohortError) as e:
        rm.load_cohort(d)
    assert any("H3" in p.message and "only" in p.message for p in e.value.problems)


def test_executed_notebooks_keep_no_machine_paths_in_outputs(tmp_path):
    """A warning printed by a cell names the file it comes from; _scrub shows such folders as placeholders."""
    import sysconfig

    from rmstudy.run.pipeline import _scrub

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
    _scrub(path)
    text = path.read_text()
    assert site not in text and pkg not in text
    assert "<site-packages>/scipy/stats/_axis.py:3" in text and "<rmstudy>/reliability.py:9" in text
    assert str(ROOT) not in text
