"""The HR report: private (suppression, no subtraction attack), safe (user text only as text, nothing fetched),
truthful (every sentence's numbers from results.json), on the demo, the other-instruments fixture and a hostile
cohort. Unit tests first (fast), then end-to-end runs (marked e2e)."""

from __future__ import annotations

import html as htmlmod
import json
import math
import re
from itertools import combinations

import numpy as np
import pytest

from rmstudy.contract.codebook import parse_codebook
from rmstudy.report import escape, hr, narrative, privacy
from rmstudy.report.narrative import MINUS, fmt, fmt_range, fmt_signed

from hr_runs import FOLDER, PAYLOADS, run_cohort

K = 5


def _row(hid="Q1", outcome="eng", family="primary", decision="inconclusive", est=0.1, se=0.05, df=200.0, d=None,
         p=0.2, p_adj=None, n=(40, 40), sesoi=0.2, tost=0.5, population=None):
    d = est if d is None else d
    return {"id": hid, "label": "L", "question": f"Question {hid}?", "outcome": outcome, "family": family,
            "population": population or {}, "decision": decision, "estimate": est, "se": se, "df": df,
            "ci_low": est - 1.96 * se, "ci_high": est + 1.96 * se, "p_value": p,
            "p_adjusted": p if p_adj is None else p_adj, "adjustment": "Holm", "sesoi": sesoi, "sesoi_units": "d",
            "tost_p": tost, "baseline_sd": 1.0, "design": "two_arm",
            "effect_size": {"name": "d_ppc2", "value": d, "ci_low": d - 1.96 * se, "ci_high": d + 1.96 * se},
            "n": {"program": {"participants": n[0]}, "control": {"participants": n[1]}}}


SCALE = parse_codebook({"scales": {"eng": {"items": ["a", "b"], "min": 0, "max": 6, "label": "Work engagement (UWES-9)",
                                           "higher_is": "more engaged"}}})["eng"]


# ---------------------------------------------------------------- numbers and words


@pytest.mark.parametrize("x", [-0.0001, -0.004, 0.0, 0.004, -1e-12])
def test_no_negative_zero(x):
    assert fmt(x) == "0.00" and fmt_signed(x) == "0.00"


def test_signs_and_ranges():
    assert fmt_signed(0.16) == "+0.16" and fmt_signed(-0.19) == MINUS + "0.19"
    assert fmt_range(0.5612, 0.5649) == "+0.561 to +0.565"          # never "0.56 to 0.56"
    assert fmt_range(0.561, 0.562, sep=" and ") == "+0.561 and +0.562"
    assert fmt_range(0.25, 0.83, signed=False) == "0.25 to 0.83"


def test_population_in_words():
    w = narrative.population_in_words
    assert w({"role": "junior", "age": {"max": 35}}) == "juniors aged 35 or under"
    assert w({}) == "everyone in the study" and w(None) == "everyone in the study"
    assert w({"age": {"max": 30}}) == "people aged 30 or under"
    assert w({"role": "senior", "age": {"min": 50}}) == "seniors aged 50 or over"
    assert w({"department": ["Legal", "Sales"]}) == "people whose department is Legal or Sales"
    assert "{" not in w({"role": ["junior", "senior"], "site": "North", "age": {"min": 20, "max": 29}})


def test_direction_label_from_codebook():
    assert narrative.direction_label(SCALE) == "higher = more engaged"
    low = parse_codebook({"scales": {"b": {"items": ["a"], "min": 1, "max": 5, "favourable": "low"}}})["b"]
    assert narrative.direction_label(low) == "lower = more favourable"


def test_certainty_uses_the_interval_of_the_decision():
    sup = _row(decision="supported", est=0.3, p=0.001, p_adj=0.004)
    s = narrative.survey_certainty(sup, 0.05, 3)
    assert fmt_range(sup["ci_low"], sup["ci_high"], sep=" and ") in s and "3 questions" in s
    # raw range leaves out zero, adjusted p does not: the words say so, never "includes no change"
    cut = _row(decision="inconclusive", est=-0.18, se=0.085, p=0.035, p_adj=0.07)
    assert cut["ci_high"] < 0
    s = narrative.survey_certainty(cut, 0.05, 4)
    assert "after allowing for the 4 questions" in s and "includes no change" not in s
    plain = _row(decision="inconclusive", est=0.05, p=0.3, p_adj=0.6)
    assert "includes no change" in narrative.survey_certainty(plain, 0.05, 4)


def test_equivalence_shows_the_90_interval_and_the_band():
    eq = _row(decision="equivalent", est=0.02, se=0.05, df=300.0, d=0.02, p=0.7, p_adj=0.7, tost=0.001)
    lo, hi = narrative.equivalence_interval(eq, 0.05)
    from scipy import stats

    q = stats.t.ppf(0.95, 300.0)
    assert lo == pytest.approx(0.02 - q * 0.05) and hi == pytest.approx(0.02 + q * 0.05)
    s = narrative.survey_certainty(eq, 0.05)
    assert "90% confidence" in s and fmt_range(lo, hi, sep=" and ") in s and "±0.20 points" in s
    assert fmt_range(eq["ci_low"], eq["ci_high"]) not in s          # not the 95% range


def test_equivalence_interval_agrees_with_the_recorded_tost(tmp_path):
    """The (1 − 2α) interval lies inside the band exactly when the recorded TOST p is below α (demo-like rows)."""
    from rmstudy.analysis.hypotheses import tost_p

    rng = np.random.default_rng(3)
    for _ in range(200):
        est, se, df = rng.normal(0, 0.1), rng.uniform(0.02, 0.12), rng.uniform(20, 400)
        r = _row(est=est, se=se, df=df, d=est * 1.3)
        band = narrative.equivalence_band(r)
        lo, hi = narrative.equivalence_interval(r, 0.05)
        inside = -band < lo and hi < band
        assert inside == (tost_p(est, se, band, df) < 0.05)


def test_sentences_hold_the_row_numbers():
    r = _row(decision="supported", est=-0.1936, d=-0.2851, p=0.01, p_adj=0.04)
    s = narrative.survey_answer(r, SCALE)
    assert "fell by 0.19 points more" in s and "0–6 scale" in s and "about a quarter" in s
    r0 = _row(est=-0.001, d=-0.001)
    s0 = narrative.survey_answer(r0, SCALE)
    assert "about as much" in s0 and "-0.00" not in s0 and MINUS + "0.00" not in s0
    ret = {**_row(outcome="retention", decision="supported", est=math.log(0.457), se=0.3, df=None,
                  population={"role": "junior", "age": {"max": 35}}),
           "effect_size": {"name": "hazard_ratio", "value": 0.457, "ci_low": 0.2516, "ci_high": 0.8304}}
    a = narrative.retention_answer(ret)
    assert "juniors aged 35 or under" in a and "0.46 times" in a and "54% less often" in a
    assert "between 0.25 and 0.83 times" in narrative.retention_certainty(ret, 0.05)


# ---------------------------------------------------------------- privacy rules


def test_too_small_hides_a_small_population_or_arm():
    assert privacy.too_small(_row(n=(40, 40)), K) is None
    assert "one side" in privacy.too_small(_row(n=(40, 4)), K)
    assert privacy.too_small(_row(n=(3, 0)), K)           # a 3-person population, one arm
    assert privacy.too_small({"n": {}}, K)


def test_differencing_conflicts_hide_the_less_important_of_two_near_identical_groups():
    a = _row("P1", n=(150, 150))
    b = _row("S1", family="secondary", n=(148, 150))          # could be P1 minus 2 people
    c = _row("S2", family="secondary", n=(140, 150))          # 10 fewer: fine
    d = _row("X1", outcome="other", n=(149, 150))              # another measure: fine
    assert privacy.differencing_conflicts([b, a, c, d], K) == {"S1": "P1"}
    assert privacy.hidden_hypotheses([a, b, c, d], K).keys() == {"S1"}
    # not nested (one bigger in one arm, smaller in the other): cannot be subtracted
    e = _row("S3", family="secondary", n=(152, 147))
    assert privacy.differencing_conflicts([a, e], K) == {}


def test_means_all_or_none():
    cells = [{"arm": a, "wave": w, "n": 30, "mean": 3.0} for a in ("program", "control") for w in ("pre", "post")]
    assert privacy.means_publishable(cells, K)
    cells[3]["n"] = 4
    assert not privacy.means_publishable(cells, K)
    assert not privacy.means_publishable([], K)


def test_retention_cells():
    km = [{"group": "program", "horizon_days": 365, "n": 40, "events_by_horizon": 6},
          {"group": "control", "horizon_days": 365, "n": 40, "events_by_horizon": 3}]
    inc = [{"group": g, "horizon_days": 365, "cause": c, "incidence": v, "ci_low": v / 2, "ci_high": v * 1.5}
           for g, c, v in (("program", 1, 0.15), ("program", 2, 0.05), ("control", 1, 0.075), ("control", 2, 0.0))]
    cells = {c["group"]: c for c in privacy.retention_cells(km, inc, K)}
    assert cells["control"]["shown"] is False and cells["control"]["not_resigned"] is None
    p = cells["program"]
    assert p["not_resigned"] == pytest.approx(0.85) and p["ci_low"] == pytest.approx(1 - 0.225)
    assert p["still_employed"] is None          # 40 × 0.05 = 2 involuntary exits: fewer than 5, not shown
    inc[1]["incidence"] = 0.15
    assert privacy.retention_cells(km, inc, K)[0]["still_employed"] == pytest.approx(0.70)


def test_adjusted_p_hidden_when_a_family_member_is_hidden():
    rows = [_row("A"), _row("B"), _row("C", family="secondary")]
    assert privacy.adjusted_p_shown(rows, {"B"}) == {"primary": False, "secondary": True}


def test_escape_markdown_and_html():
    for p in PAYLOADS:
        h = escape.html(p)
        assert "<" not in h and ">" not in h
        m = escape.markdown(p)
        assert "<" not in m and "](" not in m and "$" not in m.replace("\\$", "")


def test_escaped_markdown_renders_to_exactly_its_text():
    """What the Markdown renderer (mistune, as nbconvert uses) makes of escape.markdown(text) reads as text, character
    for character: "those people's answers" read "those people&#39;s answers" (the quote was made an entity first,
    then its '#' was escaped)."""
    import mistune

    texts = PAYLOADS + ["those people's answers", 'say "hi" & <b>bye</b>', "&amp; stays as typed", r"a\b \*",
                        "50% of #1 -- ok: see https://x.invalid/?a=1"]
    for t in texts:
        rendered = mistune.html(escape.markdown(t))
        assert "<a " not in rendered and "<img" not in rendered and "<script" not in rendered
        assert htmlmod.unescape(re.sub(r"<[^>]+>", "", rendered)).strip() == t, (t, rendered)


# ---------------------------------------------------------------- end to end

e2e = pytest.mark.e2e
COHORTS = ["demo", "other", "hostile"]


def _model(name):
    out, cohort = run_cohort(name)
    results, study, codebook = hr.load_inputs(out, cohort)
    return results, study, codebook, hr.build_report(results, study, codebook), out


def _text(html: str) -> str:
    body = re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S)
    body = re.sub(r'src="data:[^"]*"', "", body)
    return htmlmod.unescape(re.sub(r"<[^>]+>", " ", body))


@e2e
@pytest.mark.parametrize("name", COHORTS)
def test_hr_folder_holds_only_the_deliverable(name):
    out, _ = run_cohort(name)
    files = sorted(str(p.relative_to(out / "hr")) for p in (out / "hr").rglob("*") if p.is_file())
    assert "hr_report.html" in files and "hr_report.pdf" in files
    assert all(f in hr.HR_FILES or re.fullmatch(r"figures/figure-\d+-[a-z0-9-]+\.svg", f) for f in files), files
    assert not any("validation" in f or f.endswith(".ipynb") or f.endswith(".json") for f in files)
    pdf = (out / "hr" / "hr_report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000


@e2e
def test_pdf_is_a4_with_bookmarks_and_a_confidential_header():
    import weasyprint

    out, _ = run_cohort("demo")
    html = (out / "hr" / "hr_report.html").read_text(encoding="utf-8")
    doc = weasyprint.HTML(string=html, base_url=None).render()
    assert len(doc.pages) >= 3
    for page in doc.pages:                       # A4 = 793.7 x 1122.5 CSS px
        assert abs(page.width - 793.7) < 1 and abs(page.height - 1122.5) < 1
    def labels(tree):                             # weasyprint: (label, target, children, state) per bookmark
        for b in tree:
            yield b[0]
            yield from labels(b[2])

    flat = list(labels(doc.make_bookmark_tree()))
    assert flat[0].startswith("Reverse mentoring")
    for h in ("The answer first", "Who took part", "Each question in detail", "Privacy"):
        assert h in flat, h
    assert not any("Did juniors" in b and "card" in b for b in flat)
    assert "@top-left { content: \"Confidential\"" in html and "counter(pages)" in html


@e2e
@pytest.mark.parametrize("name", COHORTS)
def test_every_sentence_matches_results_json(name):
    results, study, codebook, model, out = _model(name)
    rows = {r["id"]: r for r in results["hypotheses"]}
    html = (out / "hr" / "hr_report.html").read_text(encoding="utf-8")
    text = _text(html)
    for f in model["findings"]:
        r = rows[f["id"]]
        if not f["shown"]:
            continue
        if r["outcome"] == "retention":
            es = r["effect_size"]
            assert f"{fmt(es['value'])} times" in f["sentences"][0] or "about the same rate" in f["sentences"][0]
            if r["decision"] != "equivalent":
                assert fmt_range(es["ci_low"], es["ci_high"], signed=False, sep=" and ") in f["sentences"][1]
            assert narrative.population_in_words(r["population"]) in f["sentences"][0]
        else:
            est = r["estimate"]
            assert fmt(abs(est)) in f["sentences"][0] or fmt_signed(est) in f["sentences"][0]
            if r["decision"] == "equivalent":
                lo, hi = narrative.equivalence_interval(r, study.alpha)
                band = narrative.equivalence_band(r)
                assert -band < lo and hi < band
                assert fmt_range(lo, hi, sep=" and ") in f["sentences"][1] and f"±{fmt(band)}" in f["sentences"][1]
            elif r["p_value"] < study.alpha <= r["p_adjusted"]:
                assert "after allowing for" in f["sentences"][1]
            else:
                assert fmt_range(r["ci_low"], r["ci_high"], sep=" and ") in f["sentences"][1]
        for s in f["sentences"]:
            assert s in text or htmlmod.unescape(s) in text
    verdicts = {r["decision"] for r in results["hypotheses"] if r["id"] not in model["hidden"]}
    for bad in ("-0.00", MINUS + "0.00", "{'", "people in this group", "Keeping younger talent", "Beside actual exits",
                "with 80% power", "No description has been provided"):
        assert bad not in text, bad
    assert not re.search(r"(\d+\.\d+)(?:%)? (?:to|and|–) \1(?!\d)", text.replace("+", "").replace(MINUS, "-"))
    if "inconclusive" in verdicts:
        assert "Every question has a clear answer" not in text
    if any(r["outcome"] == "retention" and r["id"] not in model["hidden"] for r in results["hypotheses"]):
        assert "Had not resigned" in text and "Still employed (any reason)" in text
    if study.raw.get("design", {}).get("assignment", "nonrandomised") == "nonrandomised" and \
            any(len(privacy.arm_sizes(r)) == 2 for r in results["hypotheses"] if r["id"] not in model["hidden"]):
        for c in model["cards"]:               # the causal caveat sits in the answer itself
            assert not c["shown"] or c["caveat"]


@e2e
@pytest.mark.parametrize("name", COHORTS)
def test_primary_cards_in_plan_order_and_every_result_in_the_chart(name):
    results, study, codebook, model, out = _model(name)
    assert [c["id"] for c in model["cards"]] == [h.id for h in study.hypotheses if h.family == "primary"]
    shown = [r for r in results["hypotheses"] if r["id"] not in model["hidden"]]
    if shown:
        alt = model["effects"]["alt"]
        for r in shown:
            assert (r.get("question") or r["label"]).strip() in alt
    for f in model["figures"]:
        assert f["alt"] and f["caption"] and f["svg"].lstrip().startswith(("<?xml", "<svg"))


def _attacks(model: dict, results: dict, k: int) -> list[str]:
    """Try the subtraction attacks on what the model publishes; return the successful ones."""
    found = []
    for d in model["data"]:
        if d["kind"] == "count_table":
            if d["totals"] == "columns":           # arm totals shown (arm sizes are public), no row totals
                m = d["mask"].to_numpy()
                found += [f"count table: column {c}" for j, c in enumerate(d["mask"].columns) if m[:, j].sum() == 1]
            elif d["totals"]:
                found += [f"count table: {x}" for x in privacy.recoverable_lines(d["mask"])]
            elif d["mask"].to_numpy().any() and "Total" in list(d["mask"].index) + list(d["mask"].columns):
                found.append("count table: a total beside a hidden cell")
    found += _share_attacks([d for d in model["data"] if d["kind"] == "share"], k)
    results_shown = [d for d in model["data"] if d["kind"] == "result"]
    for d in results_shown:
        if any(n < k for n in d["arms"].values()) or sum(d["arms"].values()) < k:
            found.append(f"{d['hypothesis']}: result on fewer than {k}")
    for a, b in combinations(results_shown, 2):
        if a["outcome"] != b["outcome"]:
            continue
        arms = set(a["arms"]) | set(b["arms"])
        diff = [a["arms"].get(x, 0) - b["arms"].get(x, 0) for x in arms]
        for dd in (diff, [-x for x in diff]):
            if all(x >= 0 for x in dd) and any(0 < x < k for x in dd):
                found.append(f"{a['hypothesis']} - {b['hypothesis']}: groups differ by fewer than {k}")
    by_h = {}
    for d in model["data"]:
        if d["kind"] == "mean":
            by_h.setdefault(d["hypothesis"], []).append(d)
    shown_ids = {d["hypothesis"] for d in results_shown}
    for hid, cells in by_h.items():
        vis = [c for c in cells if c["shown"]]
        if vis and len(vis) < len(cells) and hid in shown_ids:
            found.append(f"{hid}: {len(cells) - len(vis)} hidden mean(s) recoverable from the estimate")
        if any(c["n"] < k for c in vis):
            found.append(f"{hid}: a shown mean rests on fewer than {k}")
    for d in model["data"]:
        if d["kind"] == "retention" and d["shown"] and (d["n"] < k or d["events"] < k):
            found.append(f"{d['hypothesis']}: retention rate on fewer than {k} people or leavers")
        if d["kind"] == "favourable" and d["n"] < k:
            found.append(f"{d['hypothesis']}: % favourable on fewer than {k}")
    hidden = set(model["hidden"])
    for d in results_shown:
        if not d["p_adjusted_shown"]:
            continue
        fam = next(r["family"] for r in results["hypotheses"] if r["id"] == d["hypothesis"])
        if any(r["family"] == fam and r["id"] in hidden for r in results["hypotheses"]):
            found.append(f"{d['hypothesis']}: adjusted p printed beside a hidden result of its family")
    return found


@e2e
@pytest.mark.parametrize("name", COHORTS)
def test_no_subtraction_attack_succeeds(name):
    results, study, codebook, model, out = _model(name)
    assert _attacks(model, results, study.anonymity_threshold) == []


@e2e
def test_the_attack_finder_finds_what_it_should():
    """Plant the issue's leak (a hidden control cell of 4 people beside three shown means and the estimate) and
    a near-duplicate population: the model withholds them, and the attack finder flags a model that would not."""
    results, study, codebook, model, out = _model("demo")
    res = json.loads(json.dumps(results))
    first = next(r for r in res["hypotheses"] if r["outcome"] != "retention")
    cell = next(c for c in res["descriptives"]["cell_means"][first["id"]] if c["arm"] == "control" and c["wave"] != study.waves[0])
    cell["n"] = 4
    m = hr.build_report(res, study, codebook)
    cells = [d for d in m["data"] if d["kind"] == "mean" and d["hypothesis"] == first["id"]]
    assert cells and not any(d["shown"] for d in cells)               # all four withheld, estimate kept
    assert first["id"] not in m["hidden"] and _attacks(m, res, study.anonymity_threshold) == []
    leaky = json.loads(json.dumps({**m, "participation": None, "effects": None, "figures": [], "findings": [],
                                   "cards": []}, default=str))
    leaky["data"] = [dict(d, shown=(d.get("arm") != "control" or d.get("wave") == study.waves[0]))
                     if d["kind"] == "mean" and d["hypothesis"] == first["id"] else d
                     for d in m["data"] if d["kind"] != "count_table"]
    assert any("recoverable from the estimate" in a for a in _attacks(leaky, res, study.anonymity_threshold))


@e2e
def test_small_populations_show_no_result_anywhere():
    """Hostile cohort: a 4-person department and a 2-person age band get no estimate, range, verdict, chart or mean."""
    results, study, codebook, model, out = _model("hostile")
    k = study.anonymity_threshold
    rows = {r["id"]: r for r in results["hypotheses"]}
    assert {"L1", "A9"} <= set(model["hidden"])
    html = (out / "hr" / "hr_report.html").read_text(encoding="utf-8")
    text = _text(html)
    for hid in ("L1", "A9"):
        r = rows[hid]
        assert sum(privacy.arm_sizes(r).values()) < k
        f = next(f for f in model["findings"] if f["id"] == hid)
        assert not f["shown"] and f["figure"] is None and f["table"] is None and not f["sentences"]
        q = f["question"]
        assert q not in model["effects"]["alt"]
        sec = text[text.index(q, text.index("Each question in detail")):]
        sec = sec[:sec.index("Not reported") + 200]
        for v in (r["estimate"], r["ci_low"], r["ci_high"], r["effect_size"]["value"]):
            assert fmt(abs(v)) not in sec
        assert not any(d.get("hypothesis") == hid for d in model["data"])


def _live_markup(html: str) -> list[str]:
    """Elements and attributes of the parsed page that could run, link or fetch (text content is ignored)."""
    from html.parser import HTMLParser

    found = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag in ("script", "iframe", "object", "embed", "base", "link"):
                found.append(f"<{tag}>")
            for name, value in attrs:
                v = (value or "").strip().lower()
                if name.startswith("on"):
                    found.append(f"<{tag} {name}=...>")
                if name in ("href", "src", "xlink:href", "action", "data") and v and not v.startswith(("#", "data:")):
                    found.append(f"<{tag} {name}={v[:40]}>")
                if tag == "a" and name == "rel" and "attachment" in v:
                    found.append("<a rel=attachment>")

    P().feed(html)
    return found


def _no_live_payload(html: str, where: str):
    assert _live_markup(html) == [], where


def test_live_markup_finder():
    assert _live_markup('<p>&lt;a href="javascript:x"&gt; <svg><text>&lt;img src=x onerror=y&gt;</text></svg></p>') == []
    assert len(_live_markup('<a href="javascript:x">a</a><img src=x onerror=y><script></script>'
                            '<a rel="attachment" href="file:///etc/passwd">f</a><img src="http://e/x.png">')) == 7


@e2e
def test_payloads_reach_the_reports_only_as_text():
    out, cohort = run_cohort("hostile")
    html = (out / "hr" / "hr_report.html").read_text(encoding="utf-8")
    _no_live_payload(html, "hr_report.html")
    text = _text(html)
    for p in PAYLOADS:                         # shown, as the characters typed (study name, labels, questions...)
        assert p in text, p
    assert FOLDER in text                        # the cohort folder name, as text
    pdf = (out / "hr" / "hr_report.pdf").read_bytes()
    assert b"/EmbeddedFile" not in pdf and b"javascript:" not in pdf and b"/URI (http" not in pdf
    academic = out / "academic_report.html"
    if academic.exists():
        _no_live_payload(academic.read_text(encoding="utf-8"), "academic_report.html")


@e2e
def test_nothing_depends_on_the_demos_ids():
    """The demo's results with every id renamed give the same report text (ids never steer the wording)."""
    results, study, codebook, model, out = _model("demo")
    import dataclasses

    ren = {h.id: f"Z{i}" for i, h in enumerate(study.hypotheses)}
    res = json.loads(json.dumps(results))
    for r in res["hypotheses"]:
        r["id"] = ren[r["id"]]
    for key in ("power", "moderation", "retention"):
        res[key] = {ren.get(k, k): v for k, v in (res.get(key) or {}).items()}
    if res.get("next_cohort"):          # keyed by hypothesis id too
        res["next_cohort"]["hypotheses"] = {ren[k]: v for k, v in res["next_cohort"]["hypotheses"].items()}
    res["descriptives"]["cell_means"] = {ren[k]: v for k, v in res["descriptives"]["cell_means"].items()}
    fav = res["psychometrics"]["favourable_by_hypothesis"]
    res["psychometrics"]["favourable_by_hypothesis"] = {ren.get(k, k): v for k, v in fav.items()}
    st = dataclasses.replace(study, hypotheses=tuple(dataclasses.replace(h, id=ren[h.id]) for h in study.hypotheses))
    m2 = hr.build_report(res, st, codebook)
    strip = lambda m: [(f["question"], f["sentences"], f["shown"]) for f in m["findings"]]
    assert strip(m2) == strip(model) and m2["next_steps"] == model["next_steps"]
    assert not any(re.search(r"\b(" + "|".join(map(re.escape, ren)) + r")\b", s) for s in model["next_steps"])


def test_validate_warns_about_hypotheses_below_the_threshold():
    from rmstudy.checks.validate import validate

    from hr_runs import hostile_cohort

    rep = validate(hostile_cohort())
    msgs = [w.message for w in rep.warnings if w.check == "small_hypothesis_population"]
    assert any(m.startswith("the population of L1 ") for m in msgs), msgs
    assert any(m.startswith("the population of A9 ") for m in msgs), msgs
    assert not any(m.startswith("the population of H2 ") for m in msgs)


def test_moderators_to_show_planned_clear_and_large_enough():
    def m(name, p, n=40, source="plan", estimable=True):
        return {"moderator": name, "source": source, "estimable": estimable, "n_participants": n, "kind": "moderation",
                "interaction": {"p_value": p, "estimate": 0.2}}

    mods = [m("openness", 0.01), m("tenure", 0.04), m("partner_openness", 0.001, source="exploratory: partner"),
            m("dose", 0.001, n=4), m("x", 0.001, estimable=False)]
    # Bonferroni over the 3 planned, estimable moderators: .05 / 3; the 4-person one is never shown
    assert [x["moderator"] for x in hr.moderators_to_show(mods, 0.05, K)] == ["openness"]
    assert hr.moderators_to_show([], 0.05, K) == []


def test_next_steps_speak_to_managers():
    rows = [_row("K1", decision="supported"), _row("W1", decision="opposite"), _row("E1", decision="equivalent"),
            _row("O1", decision="inconclusive"), _row("O2", decision="inconclusive"), _row("H1", decision="supported"),
            _row("X1", family="exploratory", decision="supported")]
    questions = {r["id"]: f"Question about {r['id'].lower()}" for r in rows}
    power = {"O1": {"factor": 2.31, "n_total": 1386}, "O2": {"factor": 40.0, "n_total": 24000}}   # next_cohort
    steps = hr.next_steps(rows, power, {"H1": "small"}, questions, 600)
    text = " ".join(steps)
    assert steps[0].startswith("Keep:") and "question about k1" in text.lower() and "question about h1" not in text.lower()
    assert any(s.startswith("Look into:") for s in steps) and any(s.startswith("Do not expect") for s in steps)
    assert "2.3 times this one (roughly 1390 people" in text            # 2.31 x 600 = 1386, rounded up to tens
    assert "more than ten times this cohort" in text and "pool several cohorts" in text
    assert "question about x1" not in text.lower()                      # exploratory results are not acted on
    assert not re.search(r"\b(K1|W1|E1|O1|O2|H1|X1)\b", text) and "power" not in text.lower()


def test_p_footnotes_read_as_sentences():
    """A p-value below .001 reads "p < .001", never "p = < .001" (raw and adjusted)."""
    r = _row(decision="supported", est=0.5, p=0.00001, p_adj=0.00004)
    note = hr._p_note(r, 4, True)
    assert "= <" not in note and note.startswith("p < .001") and "Holm): p < .001." in note
    assert hr._p_note(_row(p=0.0412, p_adj=0.0824), 4, True) == (
        "p = .041 (two-sided); adjusted for the 4 questions of this family (Holm): p = .082.")


def _participation_inputs():
    """The other-instruments fixture's shape: 5 comparison seniors (k = 7) beside 35 comparison juniors."""
    from types import SimpleNamespace

    enrolled = {("program", "junior"): 40, ("program", "senior"): 40, ("control", "junior"): 35, ("control", "senior"): 5}
    rates = [{"wave": w, "arm": a, "role": r, "enrolled": n, "responded": n if w == "t0" else n - (n // 5)}
             for w in ("t0", "t1") for (a, r), n in enrolled.items()]

    def share(var, p, c, smd):
        return {"variable": var, "kind": "share", "program_mean": p / 80, "control_mean": c / 40, "program_n": p,
                "control_n": c, "smd": smd}

    baseline = [share("role = junior", 40, 35, -0.88), share("department = Sales", 19, 7, 0.15),
                share("gender = man", 40, 20, 0.3), share("gender = woman", 38, 20, -0.3),
                share("gender = another", 2, 0, 0.2),
                {"variable": "age", "kind": "mean (sd)", "program_mean": 38.7, "control_mean": 29.9, "program_n": 80,
                 "control_n": 40, "smd": 0.8}]
    results = {"descriptives": {"response_rates": rates}, "baseline": {"table": baseline}}
    study = SimpleNamespace(waves=["t0", "t1"], low_response_rate=0.6, comparison_group="Peers")
    return results, study


def _share_attacks(shares: list[dict], k: int) -> list[str]:
    """A printed share is a count over a public arm size: flag a count or a remainder of 1 to k − 1 people."""
    found = []
    for d in shares:
        if 0 < d["count"] < k or 0 < d["arm_n"] - d["count"] < k:
            found.append(f"share {d['variable']} ({d['arm']}): {d['count']} of {d['arm_n']}")
    by = {}
    for d in shares:
        col = d["variable"].partition(" = ")[0]
        by.setdefault((col, d["arm"]), [d["arm_n"], 0])[1] += d["count"]
    found += [f"shares of {c} ({a}) leave {n - s} people" for (c, a), (n, s) in by.items() if 0 < n - s < k]
    return found


def test_who_took_part_holds_when_arm_sizes_are_public():
    """An arm's size is public (rates and shares are fractions of it): the table hides a second cell of the arm
    holding a small cell and shows arm totals; a share that gives back a small group is not printed (the fixture's
    "88% juniors in the comparison group" beside "35 juniors" gave back its 5 seniors)."""
    results, study = _participation_inputs()
    k = 7
    part = hr.participation(results, study, k)
    rows = {r[0]: r[1:] for r in part["table"]["rows"]}
    assert part["table"]["header"] == ["Role", "Programme", "Comparison group"]          # no row totals
    assert rows["Total"] == ["80", "40"]
    assert rows["Senior"][1] == "fewer than 7" and not rows["Junior"][1].isdigit()       # 35 = 40 − 5 hidden
    assert rows["Junior"][0] == "40" and rows["Senior"][0] == "40"
    m = part["mask"].to_numpy()
    assert all(m[:, j].sum() != 1 for j in range(m.shape[1]))
    text = " ".join(part["gaps"])
    assert "role" not in text and "88%" not in text                                     # 40 − 35 = 5 seniors
    assert "another" not in text and "Sales" in text                                    # 7 of 40 and 19 of 80
    assert ("gender man" in text) != ("gender woman" in text)                           # not both: 2 people left over
    assert "Average age" in text
    assert _share_attacks(part["shares"], k) == []
    assert {d["variable"] for d in part["shares"]} == {v for v in ("department = Sales", "gender = man",
                                                                   "gender = woman") if v.replace(" = ", " ") + ":" in text}


def test_withheld_starting_differences_are_counted_not_silently_dropped():
    """The list of starting differences must not read as complete when some are withheld for privacy: its last
    line counts them (without naming them)."""
    results, study = _participation_inputs()
    k = 7
    gaps = hr.participation(results, study, k)["gaps"]
    cand = [b for b in results["baseline"]["table"] if b.get("smd") is not None and abs(b["smd"]) > 0.1
            and "(baseline)" not in b["variable"]]
    shown = [g for g in gaps if "standard deviations apart" in g]
    withheld = len(cand) - len(shown)
    assert withheld >= 2                                             # the role share and one gender share
    assert gaps[-1] == (f"{withheld} further differences above 0.1 standard deviations are not shown: showing them "
                        f"could reveal groups of fewer than {k} people.")
    assert "role" not in gaps[-1] and "gender" not in gaps[-1]
    every = hr.participation(results, study, 200)["gaps"]             # k above every group: nothing can be shown
    assert every == [f"{len(cand)} differences above 0.1 standard deviations are not shown: showing them could "
                     "reveal groups of fewer than 200 people."]


def test_share_and_column_rules():
    shown, mask = privacy.suppress_by_column(
        __import__("pandas").DataFrame({"a": [10, 3, 0], "b": [8, 9, 10]}, index=["x", "y", "z"]), 5)
    assert shown["a"].tolist() == ["hidden", "fewer than 5", "0", "13"] and shown["b"].tolist() == ["8", "9", "10", "27"]
    rows = [{"variable": "g = a", "kind": "share", "program_n": 10, "control_n": 10},
            {"variable": "g = b", "kind": "share", "program_n": 8, "control_n": 10}]
    assert privacy.publishable_shares(rows, {"program": 20, "control": 20}, 5) == {"g = a"}   # both: 2 left over
    assert privacy.publishable_shares(rows, {"program": 18, "control": 20}, 5) == {"g = a", "g = b"}


def test_single_arm_results_are_not_credited_to_the_programme():
    """With no comparison group a 'supported' change is not 'the programme clearly helped', the limits do not speak
    of groups, and the certainty sentence speaks of a change, not a difference."""
    from types import SimpleNamespace

    one = {**_row("S1", decision="supported", est=0.3, p=0.001, p_adj=0.002), "design": "single_arm",
           "n": {"program": {"participants": 80}}}
    two = _row("T1", decision="supported", est=0.3, p=0.001, p_adj=0.002)
    q = {"S1": "Did engagement rise?", "T1": "Did voice rise?"}
    steps = " ".join(hr.next_steps([one], {}, {}, q, 80))
    assert "clearly helped" not in steps and "Improved within the programme" in steps and "comparison group" in steps
    assert "clearly helped on “Did voice rise?”" in " ".join(hr.next_steps([two], {}, {}, q, 80))
    study = SimpleNamespace(raw={}, waves=["t0", "t1"])
    lim = dict(hr.limits({}, study, "nonrandomised", [one], K))
    assert "There was no comparison group." in lim and "People chose to join." not in lim
    assert "People chose to join." in dict(hr.limits({}, study, "nonrandomised", [two], K))
    s = narrative.survey_certainty(one, 0.05, 3)
    assert "the change is likely between" in s and "difference" not in s
    assert "the difference is likely" in narrative.survey_certainty(two, 0.05, 3)


def test_p_footnote_of_a_family_of_one():
    note = hr._p_note(_row(p=0.428, p_adj=0.428), 1, True)
    assert "1 questions" not in note and note.startswith("p = .428") and "only question" in note


def test_p_values_stay_on_one_line_and_footnotes_stay_text():
    out = str(hr._keep_p_together("p = .039 (two-sided); adjusted (Holm): p < .001. <b>x</b>"))
    assert out.count('<span class="nb">') == 2 and '<span class="nb">p &lt; .001</span>' in out
    assert "<b>" not in out and "&lt;b&gt;x" in out


def test_tables_keep_words_whole_and_their_caption():
    """At 390 px 'overflow-wrap: anywhere' let table columns shrink to one letter ('Programm/e'), and weasyprint
    broke short words; a table's caption was left at the foot of a page without its rows (demo, retention)."""
    env = hr._env()
    src = (hr.TEMPLATES / "hr_report.html.j2").read_text(encoding="utf-8")
    css = src[src.index("<style>"):src.index("</style>")]
    assert "anywhere" not in re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    assert re.search(r"\.table-block\s*\{[^}]*break-inside:\s*avoid", css)
    t = {"caption": "Cap <i>", "header": ["A", "B"], "rows": [["x", "1"]]}
    out = env.from_string(src[src.index("{% macro table"):src.index("{%- endmacro %}", src.index("{% macro table")) + 15]
                          + "{{ table(t) }}").render(t=t)
    assert re.search(r'<div class="table-block">\s*<table>\s*<caption>Cap &lt;i&gt;</caption>', out)


def test_differencing_across_three_results_is_caught():
    """k = 3: everyone (299/297) − all but Legal and Audit (294/292) − Audit (3/3) = Legal (2/2), a hidden group:
    the review's k = 3 run showed all three. One of them must go."""
    rows = [_row("H2", n=(299, 297)), _row("D3", family="exploratory", n=(3, 3)),
            _row("D4", family="exploratory", n=(294, 292))]
    hidden = privacy.hidden_hypotheses(rows, 3)
    assert "D4" in hidden and "H2" not in hidden
    # sizes that cannot leave a small group are left alone (juniors + seniors = everyone)
    ok = [_row("E", n=(300, 300)), _row("J", n=(150, 150)), _row("S", n=(150, 150))]
    assert privacy.hidden_hypotheses(ok, 5) == {}


def test_single_arm_chart_is_titled_as_a_change_within_the_programme():
    from rmstudy.report import figures

    eff = {"value": 0.3, "lo95": 0.1, "hi95": 0.5, "lo90": 0.15, "hi90": 0.45, "decision": "supported"}
    axes = figures.plot_question(None, ["t0", "t1"], (1, 5), "Score", eff, "Change within the programme, in points",
                                 band=0.2, effect_title="Change within the programme")
    svg = figures.to_svg(axes[1].figure, "t")
    assert "Change within the programme" in svg and "Difference in change" not in svg


def test_next_steps_of_a_single_arm_cohort_ask_for_no_similar_comparison_group():
    one = {**_row("S1"), "design": "single_arm", "n": {"program": {"participants": 80}}}
    text = " ".join(hr.next_steps([one], {"S1": {"factor": 2.0, "n_total": 160}}, {}, {"S1": "Q?"}, 80))
    assert "roughly 160 people, with the same surveys)" in text and "similar comparison group" not in text
    two = _row("T1")
    assert "similar comparison group" in " ".join(hr.next_steps([two], {"T1": {"factor": 2.0, "n_total": 160}}, {},
                                                                {"T1": "Q?"}, 80))


def test_interval_level_follows_the_plans_alpha():
    """results.json's intervals are at 1 − alpha: with alpha = .10 the chart's caption and alt text say 90%."""
    from types import SimpleNamespace

    rows = [_row("Q1", decision="inconclusive")]
    study = SimpleNamespace(hypothesis=lambda hid: SimpleNamespace(expected_sign=1))
    fig = hr._effects_figure(rows, study, 0.10, {"Q1": "Question one?"}, 1)
    assert "thin line: 90% range" in fig["caption"] and "(90% range" in fig["alt"] and "95%" not in fig["alt"]


def test_next_steps_speak_of_pairs_only_when_the_plan_has_pairs():
    q = {"K1": "Q?"}
    rows = [_row("K1", decision="supported")]
    assert "time for the pairs to meet" in hr.next_steps(rows, {}, {}, q, 80)[0]
    assert "pairs" not in hr.next_steps(rows, {}, {}, q, 80, mentoring="groups")[0]
    assert "pairs" not in hr.next_steps(rows, {}, {}, q, 80, mentoring="none")[0]


def test_favourable_cut_off_is_worded_and_sets_the_direction():
    """A codebook cut-off ({at_most: 13}) counts scores at or below 13 and makes low favourable; it was captioned
    'bottom two options' (and, without higher_is, 'higher = more favourable')."""
    cut = parse_codebook({"scales": {"s": {"items": ["a"], "min": 0, "max": 63, "favourable": {"at_most": 13}}}})["s"]
    assert narrative.favourable_words(cut) == "share of scores at or below 13"
    assert narrative.direction_label(cut) == "lower = more favourable"
    assert narrative.favourable_words(SCALE) == "share of answers in the top two options"
    low = parse_codebook({"scales": {"b": {"items": ["a"], "min": 1, "max": 5, "favourable": "low"}}})["b"]
    assert narrative.favourable_words(low) == "share of answers in the bottom two options"


def test_who_took_part_without_roles_has_no_duplicate_total_row():
    from types import SimpleNamespace

    rates = [{"wave": w, "arm": a, "role": "All", "enrolled": 50, "responded": 40} for w in ("t0", "t1")
             for a in ("program", "control")]
    part = hr.participation({"descriptives": {"response_rates": rates}, "baseline": {"table": []}},
                            SimpleNamespace(waves=["t0", "t1"], low_response_rate=0.6, comparison_group="Peers"), K)
    assert part["table"]["rows"] == [["All", "50", "50", "100"]]
