"""The academic report (issue #13): its building blocks, and the rendered reports of the demo and of the second
bundled cohort, read as a reviewer would (parsed HTML), plus `rmstudy reproduce`."""

import json
import math
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup

from conftest import DEMO, ROOT
from rmstudy.report import academic as A
from rmstudy.run.reproduce import check_inputs, compare_results, reproduce

OTHER = ROOT / "tests" / "fixtures" / "other_cohort"


# ------------------------------------------------------------------------------------------- formats
def test_apa_p_values():
    assert A.fmt_p(0.00001) == "< .001"
    assert A.fmt_p(0.0137) == ".014"
    assert A.fmt_p(0.05) == ".050"
    assert A.fmt_p(0.9996) == "> .999"
    assert A.fmt_p(None) == "–"
    assert A.fmt_p_eq(0.0004) == "<i>p</i> &lt; .001"


def test_apa_numbers_counts_and_bayes_factors():
    assert A.fmt_r(0.8991) == ".90"
    assert A.fmt_r(-0.123) == "\u2212.12"
    assert A.fmt_df(238.4586) == "238.5"
    assert A.fmt_num(-0.19358, 3) == "\u22120.194"
    assert A.fmt_num(-0.0001, 2) == "0.00"             # no "−0.00"
    assert A.fmt_bf(399889.77) == "> 100"
    assert A.fmt_bf(0.004) == "< 0.01"
    assert A.fmt_bf(2.3585) == "2.36"
    assert A.fmt_count(280.0) == "280"
    assert A.fmt_count(None) == "not recorded"
    assert A.fmt_count(float("nan")) == "not recorded"


def test_e_value_matches_vanderweele_ding():
    # VanderWeele & Ding (2017): RR = 3.9 gives E = 3.9 + sqrt(3.9 × 2.9) = 7.26; d converts with RR = exp(0.91 d)
    row = {"outcome": "x", "effect_size": {"value": math.log(3.9) / 0.91, "ci_low": math.log(1.8) / 0.91,
                                           "ci_high": math.log(8.45) / 0.91}}
    e = A.e_value(row)
    assert e["point"] == pytest.approx(7.26, abs=0.01)
    assert e["ci"] == pytest.approx(1.8 + math.sqrt(1.8 * 0.8), abs=1e-9)
    # a protective effect is inverted; a CI covering the null gives 1
    neg = {"outcome": "x", "effect_size": {"value": -0.5, "ci_low": -1.0, "ci_high": 0.1}}
    rr = 1 / math.exp(0.91 * -0.5)
    assert A.e_value(neg)["point"] == pytest.approx(rr + math.sqrt(rr * (rr - 1)))
    assert A.e_value(neg)["ci"] == 1.0
    # hazard ratio: rare outcome as is, common outcome converted (VanderWeele 2017)
    hr = {"outcome": "retention", "effect_size": {"value": 0.5, "ci_low": 0.3, "ci_high": 0.8}}
    assert A.e_value(hr, 0.05)["rr"] == 0.5
    conv = (1 - 0.5 ** math.sqrt(0.5)) / (1 - 0.5 ** math.sqrt(2))
    assert A.e_value(hr, 0.30)["rr"] == pytest.approx(conv)


def _study(assignment=None, invited=None):
    raw = {"design": {"assignment": assignment}} if assignment else {}
    return SimpleNamespace(raw=raw, waves=("pre", "post"), invited=invited or {})


def test_guideline_follows_the_design():
    assert A.guideline(_study())["name"] == "TREND"
    assert "CONSORT-SPI" not in A.guideline(_study())["sentence"]
    for a in ("randomised", "waitlist"):
        g = A.guideline(_study(a))
        assert "CONSORT 2010" in g["name"] and "CONSORT-SPI 2018" in g["name"]
    assert A.guideline(SimpleNamespace(design=SimpleNamespace(assignment="randomised")))["assignment"] == "randomised"


def test_flow_table_prints_integers_and_not_recorded():
    res = {"flow": {"stages": [{"stage": "invited", "program": None, "control": None},
                               {"stage": "enrolled", "program": 11.0, "control": 9},
                               {"stage": "responded_pre", "program": 11, "control": 9},
                               {"stage": "responded_post", "program": 8.0, "control": 7},
                               {"stage": "analysed", "program": 11, "control": 9}],
                    "exclusions": [], "ledger": {}}}
    t = A.flow_table(res, _study())
    first = t.iloc[0]
    assert (first["Programme"], first["Total"]) == ("not recorded", "not recorded")
    enrolled = t[t["Stage"].str.startswith("Enrolled")].iloc[0]
    assert (enrolled["Programme"], enrolled["Comparison"], enrolled["Total"]) == ("11", "9", "20")
    lost = t[t["Stage"] == "Did not respond at post"].iloc[0]
    assert (lost["Programme"], lost["Comparison"]) == ("3", "2")
    assert not t.map(lambda v: str(v).endswith(".0") or v in ("None", "nan")).to_numpy().any()


def test_user_text_is_escaped_in_tables():
    doc = A.AcademicDoc([("plan", "Plan")])
    html = doc.table(__import__("pandas").DataFrame({"A": ["<script>x</script>"]}), "T <b>")
    assert "<script>" not in html and "&lt;script&gt;" in html and "T &lt;b&gt;" in html


# ------------------------------------------------------------------------------------------- reproduce (no rerun)
def test_compare_results_ignores_created_and_names_paths():
    a = {"created": "x", "hypotheses": [{"id": "H1", "estimate": 0.1}], "n": 3}
    b = {"created": "y", "hypotheses": [{"id": "H1", "estimate": 0.2}], "n": 3, "extra": 1}
    d = compare_results(a, b)
    assert ("hypotheses[0].estimate", 0.1, 0.2) in d
    assert ("extra", "(absent)", 1) in d
    assert all(p != "created" for p, _, _ in d)
    assert compare_results(a, {**a, "created": "z"}) == []


# ------------------------------------------------------------------------------------------- rendered reports
def _run(cohort: Path, out: Path) -> Path:
    from rmstudy.run.pipeline import run

    run(cohort, out, progress=False)
    return out


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    return _run(DEMO, tmp_path_factory.mktemp("academic") / "demo")


@pytest.fixture(scope="module")
def other_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("academic_other")
    cohort = base / "other_cohort"
    shutil.copytree(OTHER, cohort)
    return _run(cohort, base / "out")


def _read(run_dir: Path):
    res = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    html = (run_dir / "academic_report.html").read_text(encoding="utf-8")
    return res, html, BeautifulSoup(html, "html.parser")


def _text(soup) -> str:
    """The page's text with a space between elements (for patterns)."""
    return re.sub(r"\s+", " ", soup.get_text(" "))


def _prose(soup) -> str:
    """The page's text as read ("<i>t</i>(238.5)" is "t(238.5)"), for whole sentences."""
    return re.sub(r"\s+", " ", soup.get_text(""))


COUNT_HEADERS = {"n", "Programme", "Comparison", "Total", "Rows in", "Included", "Excluded", "Enrolled",
                 "Completers", "Dropouts", "Count", "At risk", "Exits by then", "Events", "Improved", "Unchanged",
                 "Worsened", "Programme n", "Comparison n"}


@pytest.fixture(params=["demo", "other"])
def report(request):
    run_dir = request.getfixturevalue(f"{request.param}_run")
    return (request.param, run_dir, *_read(run_dir))


def test_no_network_references_and_no_scripts(report):
    _, _, _, html, soup = report
    assert soup.find("script") is None
    assert soup.find("link") is None
    for tag in soup.find_all(src=True):
        assert not re.match(r"(https?:)?//", tag["src"]), tag["src"][:80]
    for tag in soup.find_all(href=True):
        assert tag["href"].startswith("#"), tag["href"]
    assert not re.search(r"url\(\s*['\"]?(https?:)?//|@import", html)


def test_every_less_than_sign_in_the_text_is_an_entity(report):
    """A '<' that starts no tag is an HTML parse error ('ΔCFI < −0.01' in the invariance notes was one); the
    text's signs are written &lt;."""
    _, _, _, html, _ = report
    body = re.sub(r"<svg.*?</svg>", "", html, flags=re.S)
    assert not re.search(r"<(?![a-zA-Z/!?])", body), re.search(r".{40}<(?![a-zA-Z/!?]).{40}", body)


def test_headings_numbered_in_order_with_contents_and_appendix_last(report):
    _, _, res, _, soup = report
    h2 = [h for h in soup.find_all("h2") if "toc-title" not in (h.get("class") or [])]
    nums = [h.get_text().split(".")[0] for h in h2[:-1]]
    assert nums == [str(i) for i in range(1, len(h2))]
    assert h2[-1].get_text().startswith("Appendix")
    assert [t for _, t in A.outline(res)][: len(h2)] == [h.get_text().split(" ", 1)[1] if not h.get_text().startswith(
        "Appendix") else h.get_text().split(": ", 1)[1] for h in h2]
    toc = soup.find("nav", class_="toc")
    targets = {a["href"][1:] for a in toc.find_all("a")}
    assert {h["id"] for h in h2} <= targets
    assert {h["id"] for h in soup.find_all("h3")} <= targets | {h["id"] for h in soup.find_all("h3")
                                                                 if h["id"].startswith("ret-")}
    # hypotheses are headings
    h3 = " ".join(h.get_text() for h in soup.find_all("h3"))
    for r in res["hypotheses"]:
        assert f"{r['id']}: {r['label']}" in h3


def test_tables_and_figures_numbered_and_captioned(report):
    _, _, _, _, soup = report
    tables = soup.find_all("figure", class_="apa-table")
    assert tables and len(tables) == len(soup.find_all("table"))
    for i, f in enumerate(tables, 1):
        cap = f.find("figcaption")
        assert cap.find("b").get_text() == f"Table {i}" and cap.find("i").get_text().strip()
        heads = [th.get_text() for th in f.find_all("th")]
        assert heads and not any(re.fullmatch(r"[a-z]+(_[a-z]+)+", h) for h in heads), heads   # no program_mean
        assert f.find("th", string=re.compile(r"^Unnamed|^index$")) is None
    figs = soup.find_all("figure", class_="apa-figure")
    assert figs
    for i, f in enumerate(figs, 1):
        assert f.find("figcaption").get_text().startswith(f"Figure {i}.")
        assert f.find("svg") is not None or f.find("img")["src"].startswith("data:image/png;base64,")


def test_number_formats_are_apa(report):
    _, _, _, _, soup = report
    text = _text(soup)
    assert not re.search(r"\bp\s*[=<>]\s*0\.\d", text)              # p without a leading zero
    assert not re.search(r"\b0\.0000\b|\bnan\b|\bNone\b", text)
    assert not re.search(r"BF\s*10\s*=\s*\d{4,}", text)              # large Bayes factors as "> 100"
    for table in soup.find_all("table"):                               # counts print as integers
        heads = [th.get_text() for th in table.find_all("th")]
        for tr in table.find_all("tr")[1:]:
            for h, td in zip(heads, tr.find_all("td")):
                if h in COUNT_HEADERS or h.endswith(": n"):
                    assert re.fullmatch(r"\d+|–|not recorded|\d+(\.\d)?% \(\d+\)|[\d.−]+ \([\d.]+\), n = \d+", td.get_text()), \
                        (h, td.get_text())
    assert not re.search(r"t\(\d+\.\d{2,}\)", text)                    # df with one decimal


def test_flow_diagram_and_counts_match_results(report):
    _, _, res, _, soup = report
    stages = {s["stage"]: s for s in res["flow"]["stages"]}
    flow = next(f for f in soup.find_all("figure", class_="apa-table")
                if f.find("figcaption").get_text().endswith("Participant flow by arm"))
    rows = {tr.find_all("td")[0].get_text(): [td.get_text() for td in tr.find_all("td")[1:]]
            for tr in flow.find_all("tr")[1:]}
    inv = stages["invited"]
    assert rows["Invited (assessed for eligibility)"] == [str(inv["program"]), str(inv["control"]),
                                                          str(inv["program"] + inv["control"])]
    enrolled = next(v for k, v in rows.items() if k.startswith("Enrolled"))
    assert enrolled[:2] == [str(stages["enrolled"]["program"]), str(stages["enrolled"]["control"])]
    first_fig = soup.find("figure", class_="apa-figure")
    assert "Participant flow" in first_fig.find("figcaption").get_text()


def test_validate_warnings_by_check_come_from_results_and_match_validation_json(report):
    _, run_dir, res, _, soup = report
    found = json.loads((run_dir / "validation.json").read_text(encoding="utf-8"))["warnings"]
    checks = res["flow"]["checks"]
    # results.json holds every warning of validation.json, grouped by check in order of first appearance
    assert [c["check"] for c in checks] == list(dict.fromkeys(w["check"] for w in found))
    for c in checks:
        mine = [w["message"] for w in found if w["check"] == c["check"]]
        assert (c["count"], c["first_message"]) == (len(mine), mine[0])
    assert sum(c["count"] for c in checks) == len(found)
    fig = next((f for f in soup.find_all("figure", class_="apa-table")
                if "rmstudy validate warnings" in f.find("figcaption").get_text()), None)
    if not checks:
        assert fig is None and "raised no warnings" in _text(soup)
        return
    rows = [[td.get_text() for td in tr.find_all("td")] for tr in fig.find_all("tr")[1:]]
    assert rows == [[c["check"], str(c["count"]), c["first_message"]] for c in checks]


def test_guideline_is_trend_for_these_nonrandomised_cohorts(report):
    _, _, _, _, soup = report
    text = _text(soup)
    assert "TREND" in text and "Des Jarlais" in text
    assert "CONSORT-SPI" not in text


def test_result_sentences_and_e_values_match_results(report):
    _, _, res, _, soup = report
    text = _prose(soup)
    for r in res["hypotheses"]:
        if r["outcome"] == "retention":
            assert f"HR = {A.fmt_num(r['effect_size']['value'])}, 95% CI " \
                   f"{A.fmt_ci(r['effect_size']['ci_low'], r['effect_size']['ci_high'])}" in text
        else:
            t = r["estimate"] / r["se"]
            assert (f"b = {A.fmt_num(r['estimate'], 3)} scale points, 95% CI "
                    f"{A.fmt_ci(r['ci_low'], r['ci_high'], 3)}, t({r['df']:.1f}) = {A.fmt_num(t)}") in text
        if r["family"] == "primary":
            es = r["effect_size"]
            if r["outcome"] == "retention":
                d = res["retention"][r["id"]]["cox_efron"]
                common = d["events"] / d["n"] >= 0.15
                conv = (lambda h: (1 - 0.5 ** math.sqrt(h)) / (1 - 0.5 ** math.sqrt(1 / h))) if common else (lambda h: h)
                rr = conv(es["value"])
            else:
                rr = math.exp(0.91 * es["value"])
            rr = 1 / rr if rr < 1 else rr
            assert f"risk ratio of {rr + math.sqrt(rr * (rr - 1)):.2f} each" in text


def test_descriptives_table_holds_every_cell_mean(report):
    _, _, res, _, soup = report
    desc = next(f for f in soup.find_all("figure", class_="apa-table")
                if "Observed means" in f.find("figcaption").get_text())
    cells = [td.get_text() for td in desc.find_all("td")]
    for hid, cm in res["descriptives"]["cell_means"].items():
        for c in cm:
            assert f"{A.fmt_num(c['mean'])} ({A.fmt_num(c['sd'])})" in cells, (hid, c)


def test_baseline_per_population_with_flags(report):
    name, _, res, _, soup = report
    caps = [f.find("figcaption").get_text() for f in soup.find_all("figure", class_="apa-table")]
    base = [c for c in caps if "Baseline characteristics by arm" in c]
    pops = {A.population_label(r["population"]) for r in res["hypotheses"]}
    for p in pops:
        assert any(f": {p} (" in c for c in base), (p, base)
    # the whole cohort's baseline SMDs from results.json, flagged above 0.1
    text = _text(soup)
    for b in res["baseline"]["table"]:
        if b["smd"] is not None and abs(b["smd"]) > 0.1:
            assert f"{A.fmt_num(b['smd'])} †" in text


def test_attrition_names_dropouts_baseline_differences(report):
    _, _, res, _, soup = report
    text = _text(soup)
    for b in res["attrition"]["baseline_by_completion"]:
        if b["smd"] is not None and abs(b["smd"]) > 0.1:
            assert f"SMD = {A.fmt_num(b['smd'])}" in text
    assert "missing at random" in text


def test_moderation_multiplicity_and_honest_assumption_wording(report):
    _, _, res, _, soup = report
    text = _text(soup)
    mods = [m for ms in res.get("moderation", {}).values() for m in ms if m.get("estimable")]
    if mods:
        assert f"All {len(mods)} moderation and dose–response tests below are exploratory" in text
        assert "not adjusted" in text
    for d in res.get("retention", {}).values():
        assert "evidence against proportional hazards" in text
    assert "assumption holds" not in text.lower()


def test_methods_references_and_reproduce_command(report):
    _, _, res, _, soup = report
    text = _text(soup)
    assert f"rmstudy reproduce {res['parameters']['out_dir']} --cohort {res['parameters']['cohort_dir']}" in text
    refs = [li.get_text() for li in soup.find("ol", class_="references").find_all("li")]
    assert refs == sorted(refs, key=str.lower)
    for who in ("Satterthwaite", "Holm", "Benjamini", "Seabold", "Bates", "VanderWeele", "Appelbaum"):
        assert any(who in r for r in refs), who
    if res.get("retention"):
        assert any("Efron" in r for r in refs)
    assert f"SHA-256 {res['plan_sha256'][:12]}" in text


def test_programme_comparison_dates_and_reasons_from_the_plan(report):
    import yaml

    name, _, res, _, soup = report
    text = _prose(soup)
    cohort = DEMO if name == "demo" else OTHER
    plan = yaml.safe_load((cohort / "study.yaml").read_text(encoding="utf-8"))
    prog = plan.get("programme") or {}
    if prog.get("description"):
        assert "Programme. " + prog["description"] in text
        assert "Matching. " + prog["matching"] in text
        assert f"each lasting about {prog['session_length_minutes']:g} minutes" in text
    else:
        assert "Programme. Not described in study.yaml (add programme.description)." in text
    assert "Comparison group. " + plan["comparison_group"] in text
    for r in (plan.get("flow") or {}).get("not_enrolled_reasons") or []:
        assert f"{r['reason']} (programme {r['program']}, comparison {r['control']})" in text
    dates = next(f for f in soup.find_all("figure", class_="apa-table") if "Survey dates" in f.get_text())
    for w in plan["waves"]:
        assert dates.find("td", string=w) is not None


def test_pdf_has_bookmarks(report):
    import zlib

    _, run_dir, _, _, soup = report
    pdf = (run_dir / "academic_report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    text = pdf
    for m in re.finditer(rb"stream\r?\n", pdf):                       # object streams are compressed
        try:
            text += zlib.decompressobj().decompress(pdf[m.end():m.end() + 4_000_000])
        except zlib.error:
            continue
    assert b"/Outlines" in text
    for h in soup.find_all("h2"):
        title = h.get_text().replace("(", "\\(").replace(")", "\\)")
        if title.isascii():
            assert f"/Title ({title})".encode() in text, title


# ------------------------------------------------------------------------------------------- reproduce
def test_reproduce_names_a_tampered_input(demo_run, tmp_path, capsys):
    from rmstudy.cli import main

    cohort = tmp_path / "demo"
    shutil.copytree(DEMO, cohort)
    lines = (cohort / "responses.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    cells = lines[1].split(",")
    cells[-1] = "1\n" if cells[-1].strip() != "1" else "2\n"           # one changed cell
    lines[1] = ",".join(cells)
    (cohort / "responses.csv").write_text("".join(lines), encoding="utf-8")
    assert check_inputs(json.loads((demo_run / "results.json").read_text())["inputs"], cohort) == \
        [("responses.csv", "hash differs")]
    code = main(["reproduce", str(demo_run), "--cohort", str(cohort)])
    out = capsys.readouterr().out
    assert code == 1
    assert "responses.csv: hash differs" in out and "not rerun" in out


def test_reproduce_reruns_the_demo_identically(demo_run):
    rep = reproduce(demo_run)
    assert rep.rerun and not rep.inputs and not rep.differences, rep.lines
    assert rep.identical and rep.exit_code == 0


def test_uptake_sentence_counts_sessions_of_the_programme_arm_only():
    import pandas as pd

    p = pd.DataFrame({"arm": ["program"] * 4 + ["control"] * 2, "sessions_attended": [12, 10, "", 12, 0, 0]})
    study = SimpleNamespace(raw={"programme": {"sessions_planned": 12}})
    s = A.uptake_sentence(p, study)
    assert "M = 11.33 sessions (SD = 1.15; median 12, range 10–12; n = 3 of 4 with a recorded count)" in s
    assert "67% attended all 12 planned sessions" in s
    assert A.uptake_sentence(p.drop(columns="sessions_attended"), study) == ""


def test_single_arm_design_attrition_and_references():
    import datetime as dt

    res = {"hypotheses": [{"design": "single_arm", "family": "primary", "outcome": "x"}], "rmstudy_version": "0.1.0",
           "attrition": {"table": [{"arm": "program", "enrolled": 10, "dropout_rate": 0.2},
                                   {"arm": "control", "enrolled": 0, "dropout_rate": None}],
                         "test": None, "baseline_by_completion": [], "last_wave": "post"}}
    study = SimpleNamespace(raw={}, waves=("pre", "post"), programme_start=dt.date(2025, 1, 6),
                            censor_date=dt.date(2026, 1, 6), comparison_group="Colleagues")
    text = " ".join(A.design_paragraphs(study, res))
    assert "single-arm pre/post design" in text and "<b>Comparison group.</b> None" in text
    assert "Colleagues" not in text
    assert A.attrition_paragraphs(res)[0] == ("Dropout (no response at post) was 20% in the programme; with one arm "
                                              "(or one wave) there is no test of differential attrition.")
    assert "VanderWeele" not in A.references_html(res, study)        # no E-value without a comparison group


def test_invariance_table_and_flags_follow_results(report):
    """Issue #18: the measurement-invariance table holds results.json's rows; every hypothesis whose scale fails scalar
    invariance carries the mark and the note, no other does; the HR report says nothing about it."""
    _, run_dir, res, html, soup = report
    rows = res["psychometrics"]["invariance"]
    cap = soup.find(string=re.compile("Measurement invariance by scale"))
    assert rows and cap is not None
    table = cap.find_parent("figure").find("table")
    assert len(table.find("tbody").find_all("tr")) == len(rows)
    bad = A.noninvariant_scales(res)
    text = _prose(soup)
    ids = {}
    for title in ("Primary hypotheses", "Secondary and exploratory hypotheses"):
        fig = soup.find("i", string=title)
        for tr in (fig.find_parent("figure").find("tbody").find_all("tr") if fig else []):
            ids[tr.find("td").get_text()] = title
    for r in res["hypotheses"]:
        shown = f"{r['id']} {A.INVARIANCE_MARK}" if r["outcome"] in bad else r["id"]
        assert shown in ids, (r["id"], sorted(ids))
    for scale in bad:
        assert re.sub("<[^>]+>", "", A.invariance_note(res, scale)) in text
    hr = (run_dir / "hr" / "hr_report.html").read_text(encoding="utf-8")
    assert "invariance" not in hr.lower() and A.INVARIANCE_MARK not in hr


def test_an_exploratory_row_prints_no_adjusted_p():
    """other_cohort's X1 read 'none (exploratory)-adjusted p = .800': the sentence tested only for 'none'; the HR
    report and the narrative already used the full list (now narrative.UNADJUSTED, one place)."""
    from rmstudy.report.academic_results import result_sentence

    row = {"id": "X1", "outcome": "trust", "estimate": 0.21, "se": 0.08, "df": 95.3, "ci_low": 0.05,
           "ci_high": 0.37, "p_value": 0.8, "p_adjusted": 0.8, "tost_p": 0.4,
           "effect_size": {"name": "d_ppc2", "value": 0.3, "ci_low": 0.07, "ci_high": 0.53},
           "bayes_factor_10": 3.2, "decision": "inconclusive"}
    for adj in (None, "none", "none (exploratory)"):
        assert "adjusted" not in result_sentence({**row, "adjustment": adj})
    assert "holm-adjusted" in result_sentence({**row, "adjustment": "holm"})
