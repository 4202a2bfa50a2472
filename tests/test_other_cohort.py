"""`rmstudy run` on a cohort whose instruments are nothing like the demo's.

The fixture (tests/fixtures/other_cohort, built by make_other_cohort.py) has
other scale names, item codes, item counts (5 / 4 / 2), response ranges
(1-7 / 0-10 / 1-4), reverse keys, wave names (baseline / month6),
hypothesis ids (A1, A2, X1, R1), populations, families and anonymity
threshold (7). One arm x role group (comparison-group seniors) has 5 people,
below the threshold, so the HR report must suppress it.

The pipeline runs once per module, from a working directory that is not the
repo root, with absolute paths; every output must still carry only relative
paths.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest

from rmstudy.analysis.hypotheses import analyse_retention_hypothesis, analyse_survey_hypothesis, decide
from rmstudy.contract.cohort import COHORT_FILES, load_cohort
from rmstudy.run.pipeline import run
from rmstudy.stats.scoring import score_scales

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "other_cohort"
MAKER = REPO / "tests" / "fixtures" / "make_other_cohort.py"
DECISIONS = {"supported", "opposite", "equivalent", "inconclusive"}


def _maker():
    spec = importlib.util.spec_from_file_location("make_other_cohort", MAKER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def cohort():
    return load_cohort(FIXTURE)


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory):
    """Copy the fixture into a fresh folder, chdir there, run with absolute paths."""
    work = tmp_path_factory.mktemp("other_run")
    cohort_dir = work / "other_cohort"
    shutil.copytree(FIXTURE, cohort_dir)
    out = work / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)
        results = run(cohort_dir.resolve(), out.resolve(), progress=False, created="2026-01-01T00:00:00Z")
    return {"work": work, "out": out, "results": results,
            "results_json": json.loads((out / "results.json").read_text(encoding="utf-8")),
            "manifest": json.loads((out / "manifest.json").read_text(encoding="utf-8"))}


def _visible_text(html: str) -> str:
    """HTML without embedded images, styles and scripts, tags stripped."""
    html = re.sub(r"data:[a-z]+/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=\s]+", "", html)
    html = re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S | re.I)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _table_after(html: str, heading: str) -> list[list[str]]:
    """Rows (lists of cell texts) of the first HTML table after ``heading``."""
    start = html.index(heading)
    t0 = html.index("<table", start)
    t1 = html.index("</table>", t0)
    rows = []
    for tr in re.findall(r"<tr\b.*?</tr>", html[t0:t1], flags=re.S):
        cells = re.findall(r"<t[hd]\b[^>]*>(.*?)</t[hd]>", tr, flags=re.S)
        rows.append([re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
    return rows


# --- the fixture itself ------------------------------------------------------------


def test_fixture_is_reproducible(tmp_path):
    """make_other_cohort.py rebuilds the committed fixture byte for byte."""
    _maker().build(tmp_path / "again")
    for name in (*COHORT_FILES, "truth.json"):
        assert (tmp_path / "again" / name).read_bytes() == (FIXTURE / name).read_bytes(), name


def test_fixture_differs_from_demo(cohort):
    demo = load_cohort(REPO / "data" / "demo")
    assert not set(cohort.codebook.scales) & set(demo.codebook.scales)
    assert not set(cohort.codebook.items) & set(demo.codebook.items)
    assert not set(cohort.study.waves) & set(demo.study.waves)
    assert not {h.id for h in cohort.study.hypotheses} & {h.id for h in demo.study.hypotheses}
    ranges = {(s.min, s.max, s.n_items) for s in cohort.codebook.scales.values()}
    assert ranges == {(1, 7, 5), (0, 10, 4), (1, 4, 2)}
    assert cohort.study.anonymity_threshold == 7 != demo.study.anonymity_threshold


def _without_docstrings(text: str) -> str:
    import ast

    lines = text.splitlines()
    for node in ast.walk(ast.parse(text)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and \
                isinstance(getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str):
            for i in range(body[0].lineno - 1, body[0].end_lineno):
                lines[i] = ""
    return "\n".join(lines)


def test_no_code_names_an_item_scale_or_hypothesis():
    """No package module (bar the simulator) and no notebook code cell spells a
    scale, item or hypothesis id of either cohort."""
    names = set()
    for root in (FIXTURE, REPO / "data" / "demo"):
        c = load_cohort(root)
        names |= set(c.codebook.scales) | set(c.codebook.items) | {h.id for h in c.study.hypotheses}
    pattern = re.compile(r"""["'](%s)["']""" % "|".join(map(re.escape, sorted(names))))
    sources = {p: _without_docstrings(p.read_text(encoding="utf-8")) for p in (REPO / "src" / "rmstudy").rglob("*.py")
               if "simulate" not in p.parts}     # docstrings and their examples illustrate; they steer nothing
    for nb in (REPO / "notebooks").glob("*.ipynb"):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        sources[nb] = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    hits = [f"{p.relative_to(REPO)}: {m.group(0)}" for p, text in sources.items() for m in pattern.finditer(text)]
    assert not hits, hits


# --- the run -----------------------------------------------------------------------


@pytest.mark.e2e
def test_hypothesis_rows_follow_the_plan(pipeline_run, cohort):
    res = pipeline_run["results_json"]
    plan = cohort.study.hypotheses
    assert [r["id"] for r in res["hypotheses"]] == ["A1", "A2", "X1", "R1"] == [h.id for h in plan]
    for r, h in zip(res["hypotheses"], plan):
        assert r["outcome"] == h.outcome
        assert r["family"] == h.family
        assert r["contrast"] == (list(h.contrast) if h.contrast else None)
    by_id = {r["id"]: r for r in res["hypotheses"]}
    assert by_id["X1"]["contrast"] == ["baseline", "month6"]      # the plan's default contrast
    assert by_id["R1"]["outcome"] == "retention" and by_id["R1"]["contrast"] is None
    assert {r["adjustment"] for r in res["hypotheses"]} == {"Holm", "Benjamini-Hochberg", "none (exploratory)"}
    assert res["cohort"] == "other_cohort"


@pytest.mark.e2e
def test_reliability_covers_fixture_scales_and_waves(pipeline_run, cohort):
    rel = pipeline_run["results_json"]["reliability"]
    assert {r["scale"] for r in rel} == {"ageism_climate", "voice", "intent_to_stay"}
    assert {r["wave"] for r in rel} == {"baseline", "month6"}
    assert {r["role"] for r in rel} == {"junior", "senior", "all"}
    assert len(rel) == 3 * 2 * 3
    for r in rel:
        assert r["k"] == cohort.codebook[r["scale"]].n_items
        if r["scale"] == "intent_to_stay":
            assert r["omega"] is None                      # omega needs at least 3 items
        if r["role"] == "all":
            assert r["alpha"] is not None


@pytest.mark.e2e
def test_estimates_match_direct_analysis(pipeline_run, cohort):
    res = {r["id"]: r for r in pipeline_run["results_json"]["hypotheses"]}
    scores = score_scales(cohort.responses, cohort.codebook)
    for h in cohort.study.hypotheses:
        if h.is_retention:
            row = analyse_retention_hypothesis(cohort, h)[0]
        else:
            row = analyse_survey_hypothesis(cohort, scores, h)[0]
        for key in ("estimate", "se", "ci_low", "ci_high", "p_value"):
            assert res[h.id][key] == pytest.approx(row[key], abs=1e-10, rel=0), (h.id, key)
        assert res[h.id]["n"] == row["n"]
        # the pipeline's returned mapping is what it wrote
        assert pipeline_run["results"]["hypotheses"][[x.id for x in cohort.study.hypotheses].index(h.id)]["estimate"] \
            == res[h.id]["estimate"]


@pytest.mark.e2e
def test_decisions_are_valid(pipeline_run, cohort):
    alpha = cohort.study.alpha
    for r, h in zip(pipeline_run["results_json"]["hypotheses"], cohort.study.hypotheses):
        assert r["decision"] in DECISIONS
        assert 0 <= r["p_value"] <= r["p_adjusted"] <= 1
        assert r["decision"] == decide(r["estimate"], r["p_adjusted"], r.get("tost_p"), alpha, h.expected_sign)


@pytest.mark.e2e
def test_outputs_hold_only_relative_paths(pipeline_run):
    out, work = pipeline_run["out"], pipeline_run["work"]
    res, man = pipeline_run["results_json"], pipeline_run["manifest"]
    assert res["parameters"] == {"cohort_dir": "other_cohort", "out_dir": "run"}
    assert man["cohort_dir"] == "other_cohort" and man["out_dir"] == "run"
    assert man["command"] == "rmstudy run other_cohort --out run"
    assert not any(Path(p).is_absolute() for p in man["outputs"])
    assert {"results.json", "hr/hr_report.html", "hr/hr_report.pdf", "academic_report.html"} <= set(man["outputs"])
    # the run analysed the fixture's exact bytes
    assert res["inputs"] == {n: hashlib.sha256((FIXTURE / n).read_bytes()).hexdigest()
                             for n in COHORT_FILES if (FIXTURE / n).exists()}
    forbidden = {str(work), str(work.resolve()), str(REPO), str(REPO.resolve())}
    for name in ("results.json", "manifest.json", "hr/hr_report.html", "academic_report.html"):
        text = (out / name).read_text(encoding="utf-8")
        for f in forbidden:
            assert f not in text, f"{name} contains the absolute path {f}"


@pytest.mark.e2e
def test_hr_report_names_nobody_and_suppresses_the_small_group(pipeline_run, cohort):
    k = cohort.study.anonymity_threshold
    assert k == 7
    P = cohort.participants
    sizes = P.groupby(["arm", "role"]).size()
    # the fixture is built so that suppression MUST happen
    assert sizes[("control", "senior")] == 5 and sizes.min() < k

    html = (pipeline_run["out"] / "hr" / "hr_report.html").read_text(encoding="utf-8")
    text = _visible_text(html)
    leaked = [pid for pid in P["participant_id"] if re.search(rf"\b{re.escape(pid)}\b", text)]
    assert not leaked, leaked[:5]
    assert not re.search(r"\bP\d{4}\b", text)
    assert f"fewer than {k}" in text

    rows = _table_after(html, "Who took part")
    header, body = rows[0], rows[1:]
    cells = {(r[0], col): v for r in body for col, v in zip(header[1:], r[1:])}
    assert cells[("Senior", "Comparison group")] == f"fewer than {k}"
    for (label, col), v in cells.items():
        assert v in (f"fewer than {k}", "hidden") or (v.isdigit() and (int(v) == 0 or int(v) >= k)), \
            f"'Who took part' shows {v!r} for {label} / {col}"
    assert str(sizes[("control", "senior")]) not in [v for v in cells.values()]
    # arm sizes are public (docs/hr-report.md): a Total row of arm sizes may be shown, but no role totals, and an
    # arm holding a hidden cell holds at least two, so its total minus the shown cells never gives one back
    assert "Total" not in header
    if any(r[0] == "Total" for r in body):
        for col in header[1:]:
            hidden = [v for (label, c), v in cells.items() if c == col and label != "Total"
                      and v in (f"fewer than {k}", "hidden")]
            assert len(hidden) != 1, f"one hidden cell in '{col}' beside its total"


@pytest.mark.e2e
def test_small_retention_groups_get_no_rate_and_no_curve(pipeline_run, cohort):
    """A group with fewer than k people or fewer than k exits by a horizon shows no rate; no step curve at all."""
    k = cohort.study.anonymity_threshold
    res = pipeline_run["results_json"]
    km = res["retention"]["R1"]["km"]
    small = [r for r in km if r["n"] < k or r["events_by_horizon"] < k]
    assert small, "the fixture must contain a retention group below the threshold"
    html = (pipeline_run["out"] / "hr" / "hr_report.html").read_text(encoding="utf-8")
    row = next(r for r in res["hypotheses"] if r["id"] == "R1")
    if any(0 < v["events"] < k for v in row["n"].values()):
        # an arm with 1 to k - 1 leavers: its number follows from the hazard ratio's range (SE² = 1/d₁ + 1/d₂),
        # so R1 shows no result at all: no ratio, no range, no table of rates
        es = row["effect_size"]
        text = re.sub(r"<[^>]+>", " ", html)
        for v in (es["value"], es["ci_low"], es["ci_high"]):
            assert f"{v:.2f}" not in text, v
        assert "Had not resigned" not in html
        return
    question = next(h.question for h in cohort.study.hypotheses if h.id == "R1")
    start = html.index('id="h-', html.index("Each question in detail"))
    start = html.index(question, start)
    section = html[start:html.index("</section>", start)]
    # no step curve that could date one person's exit: at most a dot chart of the shares at the horizons
    assert all(alt.startswith("Dot chart") for alt in re.findall(r'<img [^>]*alt="([^"]*)"', section))
    rows = _table_after(html[start:], "Had not resigned")
    label = {"program": "Programme", "control": "Comparison group"}
    shown = {(r[0], r[1]): r[2] for r in rows[1:]}
    incidence = {(c["group"], c["horizon_days"]): c["incidence"]
                 for c in res["retention"]["R1"]["cumulative_incidence"] if c["cause"] == 1}
    for r in km:
        text = shown[(label[r["group"]], f"{round(r['horizon_days'] / 30.4)} months")]
        if r in small:
            assert ("not shown" in text or "(no rate shown)" in text) and "%" not in text, text
        else:                  # had not resigned = 1 - cumulative incidence of voluntary exit (Aalen-Johansen)
            assert text.startswith(f"{round(100 * (1 - incidence[(r['group'], r['horizon_days'])]))}%"), text


def test_next_cohort_advice_is_the_planners(pipeline_run):
    """#14: the HR sentence and the academic power table print results.json next_cohort, the planner's sizes
    (the check is tests/test_power_reports.py's, shared with the demo's in tests/test_power_e2e.py)."""
    from test_power_reports import assert_reports_use_the_planner

    assert_reports_use_the_planner(pipeline_run["out"])
