"""Write the stripped, parameterised notebooks in notebooks/ from the cell sources below.

The notebooks are the source researchers open; this script is how they are kept
reviewable as plain text. Run `python tools/build_notebooks.py` after editing;
tests/test_notebooks.py checks that the committed notebooks match it.
"""
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]

PARAMS = '''cohort_dir: str = "data/demo"  # cohort folder (participants.csv, responses.csv, employment.csv, codebook.yaml, study.yaml)
out_dir: str = "reports/manual"  # run folder: records/, figures/ and results.json are written here'''

SETUP = '''import rmstudy as rm
import pandas as pd
from IPython.display import Markdown, display

cohort = rm.analysis_cohort(rm.find_path(cohort_dir))   # responses dated after an exit are left out
out = rm.find_path(out_dir)
study = cohort.study'''

NB = {}

NB["01_data_quality"] = [
    ("md", "# Data quality and participant flow\nLoads and checks the cohort, scores every scale, and records the flow, "
           "the row ledger, response rates, the baseline table and the attrition analysis."),
    ("code", SETUP + "\nscores = rm.score_scales(cohort.responses, cohort.codebook)"),
    ("md", "## Participant flow and the row ledger"),
    ("code", '''flow = rm.participant_flow(cohort, scores)
display(pd.DataFrame(flow["stages"]))
display(pd.DataFrame(flow["ledger"]).T)
display(pd.DataFrame(flow["exclusions"]))'''),
    ("md", "## Response rates"),
    ("code", '''rates = rm.response_rates(cohort)
rates'''),
    ("md", "## Baseline table and attrition"),
    ("code", '''baseline = rm.baseline_table(cohort, scores)
attrition = rm.attrition(cohort, scores)
display(baseline)
display(pd.DataFrame(attrition["table"]), attrition["test"])'''),
    ("code", '''rm.record(out, "01_data_quality", {
    "flow": flow,
    "descriptives": {"response_rates": rates},
    "baseline": {"table": baseline},
    "attrition": attrition,
})'''),
]

NB["02_psychometrics"] = [
    ("md", "# Measurement: scoring and psychometrics\nReliability per scale × wave × role (alpha with a Feldt CI, omega total, "
           "omega hierarchical for scales with subscales), item statistics, flags, reliable change and % favourable. "
           "Everything is driven by the codebook."),
    ("code", SETUP + "\nscores = rm.score_scales(cohort.responses, cohort.codebook)"),
    ("code", '''psy = rm.psychometrics(cohort, scores)
display(psy["reliability"])
for f in psy["flags"]:
    display(Markdown("- **" + f["flag"] + "**: " + f["message"]))'''),
    ("code", '''# item statistics and distributions go to the academic report's appendix; here, reliable change per arm
display(pd.DataFrame([{"hypothesis": k, "arm": a, **c} for k, v in psy["rci"].items() for a, c in v["counts"].items()]))'''),
    ("code", '''rm.record(out, "02_psychometrics", {
    "reliability": psy["reliability"],
    "psychometrics": {k: psy[k] for k in ("items", "flags", "rci", "favourable", "favourable_by_hypothesis",
                                          "distributions", "threshold")},
})'''),
]

NB["03_survey_hypotheses"] = [
    ("md", "# Survey hypotheses: age bias (both directions), engagement and other survey outcomes\n"
           "Each survey hypothesis of the plan is fitted once here with the primary linear mixed model; "
           "figures go to the run folder for the reports."),
    ("code", SETUP + '''
from rmstudy.report import figures
scores = rm.score_scales(cohort.responses, cohort.codebook)'''),
    ("code", '''rows, models, means, power, sensitivity, moderation = [], {}, {}, {}, {}, {}
for h in study.hypotheses:
    if h.is_retention:
        continue
    row, detail, fit, data = rm.analyse_survey_hypothesis(cohort, scores, h)
    moderation[h.id] = rm.moderation_for_hypothesis(cohort, scores, data, h, alpha=study.alpha)   # figures: academic report
    sens = rm.sensitivity_analyses(data, row, h, cohort.participants, alpha=study.alpha)
    sensitivity[h.id] = sens
    row["bayes_factor_10"] = sens["bayes"]["bf10"]
    rows.append(row)
    models[h.id] = {k: detail[k] for k in ("terms", "variance_components", "diagnostics")}
    means[h.id] = detail["cell_means"]
    power[h.id] = rm.minimum_detectable_effect(row, study.alpha)
    display(Markdown(f"### {h.id}: {h.label}"), pd.DataFrame(detail["terms"]), pd.DataFrame(sens["rows"]))
    axes = figures.plot_residuals(data["fitted"].to_numpy(), data["resid"].to_numpy(), f"{h.id}: model residuals")
    figures.save(axes, out, f"residuals_{h.id}", close=True)'''),
    ("code", '''rm.record(out, "03_survey_hypotheses", {
    "hypotheses": rows, "models": models, "descriptives": {"cell_means": means}, "power": power,
    "sensitivity": sensitivity, "moderation": moderation,
})'''),
]

NB["04_retention"] = [
    ("md", "# Retention of younger talent\nTime from programme start to voluntary exit (involuntary exits and the "
           "censor date censor follow-up), Cox PH with Efron ties (Breslow as a check) and Kaplan–Meier retention at the plan's horizons."),
    ("code", SETUP + '''
from rmstudy.report import figures'''),
    ("code", '''rows, retention, power = [], {}, {}
for h in study.hypotheses:
    if not h.is_retention:
        continue
    row, detail, data = rm.analyse_retention_hypothesis(cohort, h)
    rows.append(row)
    last = max(study.horizons_days)
    at_risk = rm.km_horizons(data, [round(last * q / 4) for q in range(5)])[["group", "horizon_days", "n_at_risk"]]
    retention[h.id] = {**detail, "at_risk": at_risk}
    power[h.id] = rm.minimum_detectable_effect(row, study.alpha)
    display(Markdown(f"### {h.id}: {h.label}"), pd.DataFrame(detail["km"]))
    ax = figures.plot_km(data, f"{h.id}: time to voluntary exit")
    figures.save(ax, out, f"km_{h.id}", close=True)
if not rows:
    display(Markdown("The plan has no retention hypothesis."))'''),
    ("code", '''rm.record(out, "04_retention", {"hypotheses": rows, "retention": retention, "power": power})'''),
]

HR_SETUP = '''import rmstudy as rm
import pandas as pd
import matplotlib.pyplot as plt
from IPython.display import Markdown, display
from rmstudy.report import figures, narrative, privacy

out = rm.find_path(out_dir)
cohort_path = rm.find_path(cohort_dir)
res = rm.load_or_assemble(out, cohort_path)
codebook = rm.load_codebook(cohort_path / "codebook.yaml")
study = rm.load_study(cohort_path / "study.yaml", codebook)
k = study.anonymity_threshold
figures.set_style()
md = lambda s: display(Markdown(s))'''

NB["05_hr_report"] = [
    ("code", HR_SETUP),
    ("code", '''md(f"""# Reverse mentoring: what the programme achieved
**{study.name}** · results of {res['created'][:10]} · rmstudy {res['rmstudy_version']} · plan fingerprint `{res['plan_sha256'][:12]}`
""")
md("## The answer first")
for r in res["hypotheses"]:
    if r["family"] == "primary":
        md("- " + narrative.answer_sentence(r, codebook.scales.get(r["outcome"])))
md("Verdicts: *clear improvement*, *moved the wrong way*, *evidence of no meaningful change* or *too uncertain to say*. "
   "Each comes from a rule fixed in the study plan before the data were seen.")'''),
    ("code", '''md("## Who took part")
rates = pd.DataFrame(res["descriptives"]["response_rates"])
first = rates[rates["wave"] == study.waves[0]]
counts = first.pivot(index="role", columns="arm", values="enrolled").reindex(columns=["program", "control"]).fillna(0)
shown, hidden = privacy.suppress_counts(counts, k)
if hidden.to_numpy().any():
    # with a cell hidden, totals could give it away (programme pairs fix juniors = seniors), so none are shown
    shown, hidden = privacy.suppress_counts(counts, k, totals=False)
shown.columns = [{"program": "Programme", "control": "Comparison group"}.get(c, c) for c in shown.columns]
shown.index = [str(i).capitalize() for i in shown.index]
display(shown)
if counts.get("control", pd.Series(dtype=float)).sum() == 0:
    md("**There was no comparison group.** Every result below describes change within the programme only; "
       "without people outside it we cannot tell whether the programme caused that change.")
else:
    md(f"**The comparison group.** {study.comparison_group or 'Staff who did not take part in the programme.'}")
lines = []
for w in study.waves:
    g = rates[rates["wave"] == w].groupby("arm")[["enrolled", "responded"]].sum()
    for arm, row in g.iterrows():
        if row["enrolled"] < k or row["responded"] < k:
            lines.append(f"- {w}, {arm}: fewer than {k} people, so not shown")
            continue
        rate = row["responded"] / row["enrolled"]
        flag = " ⚠ below the {:.0%} mark".format(study.low_response_rate) if rate < study.low_response_rate else ""
        lines.append(f"- Survey '{w}', {'programme' if arm == 'program' else 'comparison group'}: {rate:.0%} answered{flag}")
md("**Response rate per survey**\\n\\n" + "\\n".join(lines))'''),
    ("code", '''footnotes = []
for r in res["hypotheses"]:
    if r["outcome"] == "retention":
        continue
    scale = codebook[r["outcome"]]
    md(f"## {r.get('question') or r['label']}")
    md(narrative.answer_sentence(r, scale, with_question=False))
    means = privacy.suppress_by_n(pd.DataFrame(res["descriptives"]["cell_means"][r["id"]]), k)
    fig, ax = plt.subplots(figsize=(6, 3.4))
    verdict = narrative.verdict(r["decision"])
    figures.plot_means(means, study.waves, f"{scale.label.split(' (')[0]}: {verdict}",
                       f"Average score ({scale.min:g} to {scale.max:g})", ax=ax)
    display(fig)
    plt.close(fig)
    if means["suppressed"].any():
        md(f"Groups with fewer than {k} answers are not shown.")
    footnotes.append(f"{r['id']}: p = {r['p_value']:.3f} (adjusted for the number of questions asked: "
                     f"{r['p_adjusted']:.3f}).")
    md(narrative.certainty_in_words(r) + f"<sup>{len(footnotes)}</sup>")
    planned = [m for m in res.get("moderation", {}).get(r["id"], []) if m["estimable"] and "exploratory" not in m["source"]]
    for m in planned:            # HR hears of a moderator only past a Bonferroni bar over the plan's moderators
        if m["interaction"]["p_value"] < study.alpha / len(planned):
            md(narrative.moderation_sentence(m))
    fav = privacy.suppress_by_n(pd.DataFrame(res["psychometrics"]["favourable_by_hypothesis"].get(r["id"], [])),
                                k, value_cols=("percent_favourable",))
    if not fav.empty:
        cells = fav.assign(shown=[f"{v:.0f}%" if pd.notna(v) else f"fewer than {k} answered"
                                  for v in fav["percent_favourable"]])
        tab = cells.pivot(index="wave", columns="arm", values="shown").reindex(list(study.waves))
        tab = tab.rename(columns={"program": "Programme", "control": "Comparison group"})
        md(f"**% favourable** (share of answers in the {'top' if scale.favourable == 'high' else 'bottom'} two options):")
        display(tab)'''),
    ("code", '''ret = [r for r in res["hypotheses"] if r["outcome"] == "retention"]
if ret:
    md("## Keeping younger talent")
    for r in ret:
        md(narrative.answer_sentence(r, with_question=False))
        km = privacy.suppressed_retention(pd.DataFrame(res["retention"][r["id"]]["km"]), k)
        table = pd.DataFrame({
            "Group": km["group"].map({"program": "Programme", "control": "Comparison group"}),
            "After": km["horizon_days"].map(lambda d: f"{round(d / 30.4)} months"),
            "Still with us": [f"{v:.0%} (95% CI {lo:.0%}–{hi:.0%})" if pd.notna(v) else f"not shown (fewer than {k} people or leavers)"
                              for v, lo, hi in zip(km["retention"], km["ci_low"], km["ci_high"])],
        })
        display(table.set_index(["Group", "After"]))
        footnotes.append(f"{r['id']}: p = {r['p_value']:.3f} (adjusted: {r['p_adjusted']:.3f}); "
                         "Cox model of time to voluntary exit.")
        md(narrative.certainty_in_words(r) + f"<sup>{len(footnotes)}</sup>")
        # the survey side of the same claim (the plan's H3 family: ids that extend this one, e.g. H3b)
        for s in res["hypotheses"]:
            if s["id"] != r["id"] and s["id"].startswith(r["id"]) and s["outcome"] != "retention":
                md("Beside actual exits, the survey asked about intentions: "
                   + narrative.answer_sentence(s, codebook.scales.get(s["outcome"])))'''),
    ("code", '''md("## What this does and does not mean")
att = pd.DataFrame(res["attrition"]["table"])
drop = (att["dropouts"].sum() / att["enrolled"].sum()) if att["enrolled"].sum() else float("nan")
md("- **People chose to join.** Participants were not assigned at random, so those who joined may differ from those who did not. "
   "The comparison tracks change over the same period, which removes stable differences but not all of them.")
md(f"- **Follow-up is short.** The last survey was '{study.waves[-1]}'; effects that take longer to show are not measured.")
md(f"- **Not everyone answered every survey.** About {drop:.0%} of participants missed the last survey. The analysis keeps "
   "everyone's available answers, which is sound if missing answers relate only to what we already know about people.")
mde = [p for p in res.get("power", {}).values() if "mde_d" in p]
if mde:
    lo = min(p["mde_d"] for p in mde)
    hi = max(p["mde_d"] for p in mde)
    md(f"- **Small effects can be missed.** With this many people, the study could reliably detect differences of about "
       f"{lo:.2f}–{hi:.2f} standard deviations; smaller real effects may show as 'too uncertain to say'.")'''),
    ("code", '''md("## What to do next")
need = [(hid, p["n_factor_for_sesoi"]) for hid, p in res.get("power", {}).items() if p.get("n_factor_for_sesoi")]
open_q = {r["id"] for r in res["hypotheses"] if r["decision"] == "inconclusive"}
lines = []
for hid, f in need:
    if hid in open_q:
        lines.append(f"- To settle {hid} with 80% power, the next cohort needs about {max(1.0, f):.1f} times this cohort's size.")
md("\\n".join(lines) if lines else "Every question has a clear answer with this cohort's size.")
md("(An approximation: it assumes the same design, response rate and spread of scores.)")'''),
    ("code", '''md("## Privacy")
md(f"No group of fewer than **{k}** people is shown anywhere in this report: small groups show as 'fewer than {k}', and "
   "where a hidden number could be worked out from a total, a second number is hidden too. Retention rates appear only where "
   f"a group has at least {k} people and at least {k} leavers, so no one's departure can be dated. The report holds no names, "
   "ids or free-text comments.")
if footnotes:
    md("---\\n**Notes**\\n\\n" + "\\n".join(f"{i}. {f}" for i, f in enumerate(footnotes, 1)))'''),
]

ACADEMIC_SETUP = '''import json
import rmstudy as rm
from IPython.display import HTML, display
from rmstudy.report import academic as A

out = rm.find_path(out_dir)
cohort_path = rm.find_path(cohort_dir)
res = rm.load_or_assemble(out, cohort_path)
# the analysis cohort, for two descriptive parts only: each population's baseline table and the survey dates
cohort = rm.analysis_cohort(cohort_path)
study, codebook = cohort.study, cohort.codebook
baselines = A.population_baselines(cohort, rm.score_scales(cohort.responses, codebook))
validation = out / "validation.json"        # written by rmstudy run; absent when the notebook runs by hand
warnings = json.loads(validation.read_text(encoding="utf-8"))["warnings"] if validation.is_file() else None
doc = A.AcademicDoc(A.outline(res))          # numbers sections, tables and figures in display order
sections = dict(doc.sections)
show = lambda *html: display(HTML("".join(html)))'''

NB["06_academic_report"] = [
    ("code", ACADEMIC_SETUP),
    ("code", '''show(A.title_block(res, study), doc.toc(A.subsections(res)))'''),
    ("code", '''show(A.section_plan(doc, res, study))
show(A.section_design(doc, res, study, cohort.responses))'''),
    ("code", '''show(A.section_flow(doc, res, study, warnings))'''),
    ("code", '''show(A.section_baseline(doc, res, codebook, baselines))
show(A.section_attrition(doc, res, codebook))'''),
    ("code", '''show(A.section_measurement(doc, res))
show(A.section_descriptives(doc, res, study, codebook))'''),
    ("code", '''for key in ("primary", "secondary"):
    if key in sections:
        show(A.section_results(doc, res, study, codebook, key))'''),
    ("code", '''if "sensitivity" in sections:
    show(A.section_sensitivity(doc, res))
if "moderation" in sections:
    show(A.section_moderation(doc, res, codebook))'''),
    ("code", '''if "retention" in sections:
    show(A.section_retention(doc, res, study, out / "figures"))
if "assumptions" in sections:
    show(A.section_assumptions(doc, res, out / "figures"))
if "power" in sections:
    show(A.section_power(doc, res))'''),
    ("code", '''show(A.section_methods(doc, res, study), A.section_reproducibility(doc, res, study),
     A.section_references(doc, res, study), A.section_appendix(doc, res))'''),
]


def build():
    for name, cells in NB.items():
        nb = new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        p = new_code_cell(PARAMS)
        p.metadata["tags"] = ["parameters"]
        nb.cells.append(p)
        for kind, src in cells:
            nb.cells.append(new_markdown_cell(src) if kind == "md" else new_code_cell(src))
        for i, c in enumerate(nb.cells):
            c["id"] = f"{name[:2]}-{i:02d}"
        path = ROOT / "notebooks" / f"{name}.ipynb"
        text = nbformat.writes(nb) + "\n"
        path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    build()
