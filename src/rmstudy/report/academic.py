"""The academic report's content: tables, sentences and figures built from results.json and the plan.

The notebook ``06_academic_report`` only lays out what these functions return, so every number a
reviewer reads here has passed through a function a test compares with results.json
(tests/test_academic_report.py). Rounding happens here and only here, in APA style:

* p-values without a leading zero, three decimals, ``< .001`` below that (never ``0.000``);
* correlations, α and ω without a leading zero (they cannot exceed 1);
* degrees of freedom with one decimal, estimates with two or three decimals, a minus sign (U+2212);
* Bayes factors above 100 as ``> 100``, below 0.01 as ``< 0.01``;
* counts as integers, an absent count as "not recorded".

The reporting guideline follows the plan's design (``design.assignment``): TREND (Des Jarlais et al.,
2004) for a non-randomised cohort, CONSORT 2010 with its CONSORT-SPI 2018 extension for randomised
and wait-list designs; APA JARS-Quant (Appelbaum et al., 2018) in both cases (module B, non-random
assignment, or module A, random assignment).

User text from study.yaml or the codebook (labels, descriptions, reasons) is HTML-escaped where it
is rendered, by :func:`esc`.

Two parts read the cohort rather than results.json: the baseline table of a sub-population (a
juniors-only hypothesis gets its juniors' baseline; descriptive statistics, no model) and the survey
dates per wave (``submitted_on``). Both are descriptive and computed by :func:`population_baselines`
and :func:`fielded_dates` from the same analysis cohort the analysis notebooks use.
"""

from __future__ import annotations

from rmstudy.report.academic_baseline import *  # noqa: F401,F403
from rmstudy.report.academic_baseline import __all__ as _baseline_all
from rmstudy.report.academic_figures import *  # noqa: F401,F403  (one namespace for the notebook and tests)
from rmstudy.report.academic_figures import __all__ as _figures_all
from rmstudy.report.academic_format import *  # noqa: F401,F403
from rmstudy.report.academic_format import __all__ as _format_all
from rmstudy.report.academic_invariance import *  # noqa: F401,F403
from rmstudy.report.academic_invariance import __all__ as _invariance_all
from rmstudy.report.academic_refs import *  # noqa: F401,F403
from rmstudy.report.academic_refs import __all__ as _refs_all
from rmstudy.report.academic_sections import *  # noqa: F401,F403
from rmstudy.report.academic_sections import __all__ as _sections_all
from rmstudy.report.academic_tables import *  # noqa: F401,F403
from rmstudy.report.academic_tables import __all__ as _tables_all

import pandas as pd

from rmstudy.report.academic_baseline import attrition_paragraphs, attrition_table, baseline_table, smd_flag
from rmstudy.report.academic_figures import flow_diagram, flow_table, means_figure
from rmstudy.report.academic_format import (ARM_NAMES, AcademicDoc, esc, fmt_ci, fmt_count, fmt_df, fmt_num, fmt_p,
                                            fmt_r)
from rmstudy.report.academic_invariance import INVARIANCE_MARK, invariance_flag, invariance_note, invariance_table
from rmstudy.report.academic_refs import guideline
from rmstudy.report.academic_sections import hypothesis_anchor, paras
from rmstudy.report.academic_tables import (descriptives_table, design_paragraphs, e_value_sentence, fielded_dates,
                                            hypothesis_table, model_sentence, outcome_label, plan_table, population_label,
                                            reliability_table, result_sentence, uptake_sentence)

_SECTIONS = ["title_block", "subsections", "section_plan", "section_design", "section_flow", "section_baseline",
             "section_attrition", "section_measurement", "section_descriptives", "section_results"]
__all__ = [*_format_all, *_refs_all, *_figures_all, *_tables_all, *_baseline_all, *_invariance_all, *_SECTIONS,
           *_sections_all]

# --------------------------------------------------------------------------------------------- sections
# Each returns the HTML of one numbered section; the notebook displays them in order. ``doc`` numbers the
# tables and figures in the order they are called, so call them in the order of the outline.

def title_block(res: dict, study) -> str:
    """The report's title, cohort, results date, rmstudy version, plan hash and reporting guideline.

    Parameters
    ----------
    res : a results.json mapping. study : the plan (``name``, ``design``).

    Returns
    -------
    str
        HTML.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> res = {"cohort": "demo", "created": "2024-06-30T12:00:00", "rmstudy_version": "1.0", "plan_sha256": "ab" * 32}
    >>> html = title_block(res, NS(name="Pilot <2024>", design={"assignment": "randomised"}))
    >>> html[:49], "Reporting guideline: CONSORT 2010" in html
    ('<h1>Academic report: Pilot &lt;2024&gt;</h1><p cl', True)
    """
    g = guideline(study)
    return (f"<h1>Academic report: {esc(study.name)}</h1>"
            f'<p class="meta">Cohort <code>{esc(res["cohort"])}</code> · results of {esc(res["created"][:10])} · rmstudy '
            f'{esc(res["rmstudy_version"])} · plan SHA-256 <code>{esc(res["plan_sha256"][:16])}…</code><br>'
            f'<span class="confidential">Confidential: for the research team and reviewers.</span> '
            f"Reporting guideline: {esc(g['name'])} and APA JARS-Quant.</p>")


def subsections(res: dict) -> dict:
    """Hypotheses as sub-headings of the results sections (for the table of contents).

    Parameters
    ----------
    res : a results.json mapping (its ``hypotheses``).

    Returns
    -------
    dict
        ``primary`` and ``secondary`` (secondary and exploratory): lists of (anchor, title).

    Examples
    --------
    >>> subsections({"hypotheses": [{"id": "H1", "label": "Trust", "family": "primary"},
    ...                             {"id": "H2", "label": "Voice", "family": "exploratory"}]})
    {'primary': [('hyp-H1', 'H1: Trust')], 'secondary': [('hyp-H2', 'H2: Voice')]}
    """
    out = {"primary": [], "secondary": []}
    for r in res["hypotheses"]:
        key = "primary" if r["family"] == "primary" else "secondary"
        out[key].append((hypothesis_anchor(r["id"]), f"{r['id']}: {r['label']}"))
    return out


def section_plan(doc: AcademicDoc, res: dict, study) -> str:
    """The preregistered plan: its hypotheses table, the deviations from the plan and the decision rule.

    Parameters
    ----------
    doc, res : the report's numbering (:class:`AcademicDoc`) and a results.json mapping.
    study : the plan.

    Returns
    -------
    str
        HTML.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> h = NS(id="H1", label="Trust rises", outcome="trust", population=None, contrast=["T0", "T1"],
    ...        direction="increase", family="primary", sesoi=0.2, sesoi_units="d")
    >>> study = NS(hypotheses=[h], deviations=[], preregistration="", alpha=0.05)
    >>> html = section_plan(AcademicDoc([("plan", "Plan")]), {"plan_sha256": "ab" * 32}, study)
    >>> "<td>T0 → T1</td>" in html, "No deviations from the plan were recorded" in html
    (True, True)
    """
    dev = ("".join(f"<li>{esc(d['what'])}: {esc(d['why'])}</li>" for d in study.deviations)
           if study.deviations else "")
    return (doc.heading("plan")
            + paras(f"The analysis plan is study.yaml, SHA-256 <code>{esc(res['plan_sha256'])}</code>. Registration: "
                 f"{esc(study.preregistration.rstrip('.')) if study.preregistration else 'not stated'}.")
            + doc.table(plan_table(study), "Preregistered hypotheses", wrap=("Hypothesis",),
                        note="SESOI = smallest effect size of interest (d: standardised; HR: hazard ratio). Contrast: "
                             "the waves whose difference in change is tested; retention runs from programme start to "
                             "the censor date.")
            + (f"<p><b>Deviations log.</b></p><ul>{dev}</ul>" if dev else
               paras("<b>Deviations log.</b> No deviations from the plan were recorded (study.yaml <code>deviations</code> "
                  "is empty)."))
            + paras(f"<b>Decision rule.</b> <i>Supported</i> when the adjusted p is below α = {study.alpha:g} in the "
                 f"expected direction; <i>opposite</i> when it is below α against it; <i>equivalent</i> when the two "
                 "one-sided tests against the SESOI both reject; otherwise <i>inconclusive</i>. Holm within the primary "
                 "family, Benjamini–Hochberg within the secondary family, no adjustment for exploratory hypotheses."))


def section_design(doc: AcademicDoc, res: dict, study, responses: pd.DataFrame | None = None,
                   participants: pd.DataFrame | None = None) -> str:
    """Design, programme and comparison group: the design paragraphs, uptake, the survey dates per wave and the
    reasons for non-enrolment.

    Parameters
    ----------
    doc, res : the report's numbering (:class:`AcademicDoc`) and a results.json mapping.
    study : the plan. responses : DataFrame, optional
        The analysis cohort's responses, for the survey dates.
    participants : DataFrame, optional
        participants.csv, for the uptake sentence.

    Returns
    -------
    str
        HTML.

    Examples
    --------
    >>> from datetime import date
    >>> from types import SimpleNamespace as NS
    >>> study = NS(design={"assignment": "randomised"}, raw={}, waves=["T0", "T1"], programme_start=date(2024, 1, 1),
    ...            censor_date=date(2024, 12, 31), comparison_group="Wait-list.")
    >>> html = section_design(AcademicDoc([("design", "Design")]), {"hypotheses": []}, study)
    >>> "a randomised controlled design" in html, "Reasons for non-enrolment were not recorded" in html
    (True, True)
    """
    out = doc.heading("design") + paras(*design_paragraphs(study, res), uptake_sentence(participants, study))
    if responses is not None:
        dates = fielded_dates(responses, study.waves, (study.raw or {}).get("wave_offsets_days"),
                              study.programme_start)
        out += doc.table(dates, "Survey dates per wave",
                         note="Fielded dates from responses.csv <code>submitted_on</code>; planned dates from "
                              "study.yaml <code>wave_offsets_days</code> relative to the programme start.",
                         escape=True)
    reasons = ((study.raw or {}).get("flow") or {}).get("not_enrolled_reasons") or []
    if reasons:
        out += paras("<b>Reasons for non-enrolment</b> (study.yaml <code>flow.not_enrolled_reasons</code>): "
                  + "; ".join(f"{esc(r['reason'])} (programme {fmt_count(r.get('program'))}, comparison "
                              f"{fmt_count(r.get('control'))})" for r in reasons) + ".")
    else:
        out += paras("Reasons for non-enrolment were not recorded (study.yaml <code>flow.not_enrolled_reasons</code>).")
    return out


def section_flow(doc: AcademicDoc, res: dict, study) -> str:
    """Participant flow: the flow diagram and table, exclusions, the row ledger, ingest and the validate warnings
    by check (``flow.checks``; no table when results.json has none, as for notebooks run by hand without
    ``rmstudy validate --json``).

    Parameters
    ----------
    doc, res : the report's numbering (:class:`AcademicDoc`) and a results.json mapping.
    study : the plan.

    Returns
    -------
    str
        HTML.
    """
    flow = res["flow"]
    out = doc.heading("flow")
    out += doc.figure(flow_diagram(res, study),
                      f"Participant flow by arm ({esc(guideline(study)['name'])} style), from the run's row ledger. "
                      "Losses between stages are given beside the arrows; 'analysed' counts everyone with at least one "
                      "scored response, since the mixed models keep dropouts.")
    ft = flow_table(res, study)
    missing = (ft == "not recorded").to_numpy().any()
    out += doc.table(ft, "Participant flow by arm",
                     note="Counts are people." + (" 'Not recorded': study.yaml gives no invited count "
                                                  "(flow.invited), so neither the losses before enrolment nor a "
                                                  "total can be given." if missing else ""))
    ex = pd.DataFrame([{"Analysis": e["analysis"], "Reason": e["reason"], "Programme": fmt_count(e["program"]),
                        "Comparison": fmt_count(e["control"])} for e in flow["exclusions"]])
    if not ex.empty:
        out += doc.table(ex, "Exclusions by analysis and reason",
                         note="Counts are response rows (scales and 'all survey analyses') or people (retention).",
                         wrap=("Reason",))
    led = pd.DataFrame([{"File": f, "Rows in": fmt_count(v["rows_in"]), "Included": fmt_count(v["included"]),
                         "Excluded": fmt_count(v["excluded"]),
                         "Reasons": "; ".join(f"{r}: {n}" for r, n in v["reasons"].items()) or "–"}
                        for f, v in flow["ledger"].items()])
    out += doc.table(led, "Row ledger of the input files", note="Every input row is included or excluded with a reason.",
                     wrap=("Reasons",))
    if flow.get("ingest"):
        ing = pd.DataFrame([{"File": f["file"], "Kind": f["kind"], "Rows in": fmt_count(f["rows_in"]),
                             "Written": fmt_count(f["written"]), "Excluded": fmt_count(f["excluded"]),
                             "Reasons": "; ".join(f"{n} × {r}" for r, n in f["reasons"].items()) or "–"}
                            for f in flow["ingest"]])
        out += doc.table(ing, "Raw exports brought in with rmstudy ingest", wrap=("Reasons",))
    checks = flow.get("checks")
    if checks is not None:
        if checks:
            g = pd.DataFrame([{"Check": c["check"], "Count": fmt_count(c["count"]), "First message": c["first_message"]}
                              for c in checks])
            out += doc.table(g, "Data checks that did not stop the run (rmstudy validate warnings)",
                             note="Every warning is listed in validation.json.", wrap=("First message",))
        else:
            out += paras("<code>rmstudy validate</code> raised no warnings.")
    return out


def section_baseline(doc: AcademicDoc, res: dict, codebook, baselines: list[dict] | None = None) -> str:
    """Baseline characteristics by arm (standardised mean differences), one table per population.

    Parameters
    ----------
    doc, res : the report's numbering (:class:`AcademicDoc`) and a results.json mapping.
    codebook : the codebook, for the scales' labels. baselines : list of dict, optional
        :func:`population_baselines` (default: results.json's baseline table, everyone).

    Returns
    -------
    str
        HTML.

    Examples
    --------
    >>> row = {"variable": "age", "kind": "mean (sd)", "program_mean": 34.0, "program_sd": 6.1, "program_n": 40,
    ...        "control_mean": 36.5, "control_sd": 7.0, "control_n": 38, "smd": -0.38}
    >>> res = {"hypotheses": [{"id": "H1"}], "baseline": {"table": [row]}}
    >>> html = section_baseline(AcademicDoc([("baseline", "Baseline")]), res, None)
    >>> "Baseline characteristics by arm: everyone (hypotheses H1)" in html
    True
    >>> "<i>Note.</i> † |SMD| > 0.1: age." in html
    True
    """
    out = doc.heading("baseline") + paras(
        "Standardised mean difference (SMD) = programme minus comparison over the root mean of the two variances "
        "(for shares, of p(1 − p)). † marks |SMD| > 0.1, the usual threshold for a meaningful imbalance (Austin, 2009). "
        "Each analysed population has its own table, with the covariates its hypotheses name.")
    pops = baselines or [{"label": "everyone", "population": {}, "hypotheses": [r["id"] for r in res["hypotheses"]],
                          "rows": res["baseline"]["table"]}]
    pops = sorted(pops, key=lambda b: b["label"] != "everyone")
    for b in pops:
        if b["label"] == "everyone":
            rows = res["baseline"]["table"] + [r for r in b["rows"] if r["variable"] not in
                                               {x["variable"] for x in res["baseline"]["table"]}]
        else:                         # a column the population fixes (role = junior) has nothing to compare
            fixed = {k for k, v in (b.get("population") or {}).items() if k != "age" and not isinstance(v, list)}
            rows = [r for r in b["rows"] if r["variable"].split(" = ")[0] not in fixed]
        t = baseline_table(rows, codebook)
        flagged = [c for c, s in zip(t["Characteristic"], t["SMD"]) if s.endswith("†")] if not t.empty else []
        note = ("† |SMD| > 0.1: " + "; ".join(esc(f) for f in flagged) + "." if flagged else
                "No characteristic differs by more than 0.1 SD.")
        out += doc.table(t, f"Baseline characteristics by arm: {b['label']} (hypotheses {', '.join(b['hypotheses'])})",
                         note=note, wrap=("Characteristic",))
    return out


def section_attrition(doc: AcademicDoc, res: dict, codebook) -> str:
    """Attrition: completers and dropouts by arm and the baseline scores of both.

    Parameters
    ----------
    doc, res : the report's numbering (:class:`AcademicDoc`) and a results.json mapping.
    codebook : the codebook, for the scales' labels.

    Returns
    -------
    str
        HTML.

    Examples
    --------
    >>> t = [{"arm": "program", "enrolled": 40, "completers": 34, "dropouts": 6, "dropout_rate": 0.15}]
    >>> att = {"table": t, "last_wave": "T1", "baseline_by_completion": []}
    >>> html = section_attrition(AcademicDoc([("attrition", "Attrition")]), {"attrition": att}, None)
    >>> "<td>Programme</td><td>40</td><td>34</td><td>6</td><td>15%</td>" in html
    True
    """
    att = res["attrition"]
    out = doc.heading("attrition") + doc.table(attrition_table(res), "Completers and dropouts by arm",
                                               note=f"Completers answered the last wave ({esc(att['last_wave'])}).")
    out += paras(*attrition_paragraphs(res, codebook))
    rows = [{"Arm": ARM_NAMES[b["arm"]], "Scale": outcome_label(codebook, b["scale"]),
             "Completers M (n)": f"{fmt_num(b['completers_mean'])} ({fmt_count(b['completers_n'])})",
             "Dropouts M (n)": f"{fmt_num(b['dropouts_mean'])} ({fmt_count(b['dropouts_n'])})",
             "SMD": smd_flag(b["smd"])} for b in att["baseline_by_completion"] if b.get("completers_n") or b.get("dropouts_n")]
    out += doc.table(pd.DataFrame(rows), "Baseline scores of completers and dropouts",
                     note="SMD = completers minus dropouts; † |SMD| > 0.1.")
    return out


def section_measurement(doc: AcademicDoc, res: dict, codebook=None) -> str:
    """Measurement: reliability by scale, wave and group, its flags, reliable change and measurement invariance.

    Parameters
    ----------
    doc, res : the report's numbering (:class:`AcademicDoc`) and a results.json mapping.
    codebook : the codebook, for the scales' labels (optional).

    Returns
    -------
    str
        HTML.

    Examples
    --------
    >>> row = dict(scale="trust", wave="T0", role="all", n=120, k=4, alpha=0.84, alpha_ci_low=0.79,
    ...            alpha_ci_high=0.88, omega=0.86, omega_h=0.8, average_r=0.57)
    >>> res = {"reliability": [row], "psychometrics": {"threshold": 0.7, "flags": []}}
    >>> html = section_measurement(AcademicDoc([("measurement", "Measurement")]), res)
    >>> "<td>.84</td><td>[.79, .88]</td>" in html, "(α below .70, " in html
    (True, True)
    """
    psy = res.get("psychometrics", {})
    out = doc.heading("measurement") + paras(
        "Cronbach's α from pairwise covariances (as psych::alpha) with a Feldt (1965) 95% CI; McDonald's ω total from "
        "a one-factor minres solution; ω hierarchical for scales with subscales.")
    out += doc.table(reliability_table(res["reliability"]), "Reliability by scale, wave and group")
    flags = psy.get("flags", [])
    out += paras(f"<b>Flags</b> (α below {fmt_r(psy.get('threshold'))}, negative item–rest correlations, α differing "
              "between waves or roles): " + ("none raised." if not flags else ""))
    if flags:
        out += "<ul>" + "".join(f"<li>{esc(f['message'])}</li>" for f in flags) + "</ul>"
    if psy.get("rci"):
        rci = pd.DataFrame([{"Hypothesis": hid, "Arm": ARM_NAMES.get(a, a), "Improved": fmt_count(c.get("improved")),
                             "Unchanged": fmt_count(c.get("unchanged")), "Worsened": fmt_count(c.get("worsened")),
                             "S diff": fmt_num(v["s_diff"], 3), "r xx": fmt_r(v["reliability"])}
                            for hid, v in psy["rci"].items() for a, c in v["counts"].items()])
        out += doc.table(rci, "Reliable change (Jacobson–Truax) by hypothesis and arm",
                         note="|RCI| > 1.96 with the baseline sample's reliability; participants with both waves.")
    inv = invariance_table(res, codebook)
    if not inv.empty:
        out += doc.table(inv, "Measurement invariance by scale (one-factor CFA, maximum likelihood)", wrap=("Note",),
                         note="Across role and arm at the first wave (multiple-group CFA) and across waves (one factor "
                              "per wave, residuals of the same item correlated); configural, metric (equal loadings) "
                              "and scalar (equal loadings and intercepts) levels, as lavaan::cfa; listwise complete "
                              f"answers. ΔCFI = this level's CFI minus the level below; {INVARIANCE_MARK} ΔCFI &lt; "
                              "−0.01 (Cheung &amp; Rensvold, 2002): the scale's means may not be comparable there.")
    out += paras("Item statistics are in the appendix.")
    return out


def section_descriptives(doc: AcademicDoc, res: dict, study, codebook) -> str:
    """Descriptive statistics: the observed means by scale, wave and arm.

    Parameters
    ----------
    doc, res : the report's numbering (:class:`AcademicDoc`) and a results.json mapping.
    study : the plan (its ``waves``). codebook : the codebook, for the outcomes' labels.

    Returns
    -------
    str
        HTML.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> doc = AcademicDoc([("descriptives", "Descriptive statistics")])
    >>> section_descriptives(doc, {"hypotheses": []}, NS(waves=["T0"]), None)
    '<h2 id="sec-descriptives">1. Descriptive statistics</h2><p>No survey outcome in this plan.</p>'
    """
    t = descriptives_table(res, codebook, study.waves)
    return doc.heading("descriptives") + (doc.table(
        t, "Observed means, standard deviations and n by arm and wave", wrap=("Outcome",),
        note="Each outcome in the population its hypothesis analyses; scored responses only.") if not t.empty
        else paras("No survey outcome in this plan."))


def _event_rate(res: dict, hid: str) -> float | None:
    d = res.get("retention", {}).get(hid)
    if not d:
        return None
    c = d["cox_efron"]
    return c["events"] / c["n"] if c.get("n") else None


def section_results(doc: AcademicDoc, res: dict, study, codebook, key: str = "primary") -> str:
    """The primary (``key`` 'primary') or the secondary and exploratory results: the hypotheses table, then each
    hypothesis's sentence, model terms, trajectory and means figure.

    Parameters
    ----------
    doc, res : the report's numbering (:class:`AcademicDoc`) and a results.json mapping.
    study : the plan. codebook : the codebook. key : {'primary', 'secondary'}

    Returns
    -------
    str
        HTML.
    """
    rows = [r for r in res["hypotheses"] if (r["family"] == "primary") == (key == "primary")]
    out = doc.heading(key)
    if key == "secondary":
        out += paras("Secondary hypotheses (Benjamini–Hochberg within the family) and exploratory ones (no adjustment; "
                  "labelled <i>exploratory</i>) are reported here; neither is a confirmatory finding.")
    adj = sorted({f"{r['id']}: {r['adjustment']}" for r in rows if r.get("adjustment")})
    adj_note = ("Adjusted p: " + "; ".join(esc(a) for a in adj) + ". ") if adj else ""
    table = hypothesis_table(rows)
    marks = [invariance_flag(res, r["outcome"]) for r in rows]
    if any(marks):
        table["ID"] = [f"{i} {m}" if m else i for i, m in zip(table["ID"], marks)]
        adj_note += (f"{INVARIANCE_MARK} the outcome's scale fails scalar invariance (ΔCFI &lt; −0.01; see Measurement): "
                     "its means may not be comparable across groups or waves. ")
    out += doc.table(table, "Primary hypotheses" if key == "primary" else
                     "Secondary and exploratory hypotheses",
                     note=adj_note + "Estimate: difference in change in scale points (programme minus comparison), or the log "
                          "hazard ratio for retention. d = d<sub>ppc2</sub> (Morris, 2008). TOST: two one-sided tests "
                          "against the SESOI. BF10: JZS Bayes factor on completers' change scores.")
    for j, r in enumerate(rows, 1):
        out += doc.subheading(key, j, f"{r['id']}: {r['label']}"
                              + (" (exploratory)" if r["family"] == "exploratory" else ""), hypothesis_anchor(r["id"]))
        out += paras(f"<i>Method:</i> {esc(r['method'])}. <i>Population:</i> {esc(population_label(r.get('population')))}; "
                  + ", ".join(f"{ARM_NAMES[a].lower()} {fmt_count(v.get('participants'))} participants"
                              for a, v in r["n"].items()) + ".",
                  result_sentence(r), " ".join(esc(n) for n in r.get("notes", [])), invariance_note(res, r["outcome"]))
        if r["family"] == "primary" and r.get("design") != "single_arm":
            out += paras(e_value_sentence(r, _event_rate(res, r["id"])))
        m = res.get("models", {}).get(r["id"])
        if m:
            out += paras(model_sentence(m))
            terms = pd.DataFrame([{"Term": t["term"], "b": fmt_num(t["estimate"], 3), "SE": fmt_num(t["se"], 3),
                                   "df": fmt_df(t["df"]), "t": fmt_num(t["t"]), "p": fmt_p(t["p_value"]),
                                   "95% CI": fmt_ci(t["ci_low"], t["ci_high"], 3)} for t in m["terms"]])
            out += doc.table(terms, f"Fixed effects of the mixed model for {r['id']}")
        cm = res.get("descriptives", {}).get("cell_means", {}).get(r["id"])
        if cm:
            try:
                sc = codebook[r["outcome"]]
                ylabel = f"Mean score ({sc.min:g}–{sc.max:g})"
            except (KeyError, TypeError):
                ylabel = "Mean score"
            out += doc.figure(means_figure(cm, study.waves, f"{r['id']}: {outcome_label(codebook, r['outcome'])}",
                                           ylabel),
                              f"Observed mean of {esc(outcome_label(codebook, r['outcome']))} by wave and arm, with "
                              f"95% CIs ({esc(population_label(r.get('population')))}).")
    return out
