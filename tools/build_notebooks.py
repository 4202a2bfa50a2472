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
    ("md", "# HR report\nThe HR report's content (verdict cards, sentences, charts, tables, suppression) is built by "
           "`rmstudy.report.hr.build_report` from results.json, the plan and the codebook, and laid out by its template. "
           "`rmstudy run` writes the HR deliverable to its own folder (`hr/`: HTML, PDF and figures, nothing else); this "
           "notebook shows the same report to the analyst."),
    ("code", '''import rmstudy as rm
from IPython.display import HTML, Markdown, display
from rmstudy.report import escape, hr

out = rm.find_path(out_dir)
cohort_path = rm.find_path(cohort_dir)
res = rm.load_or_assemble(out, cohort_path)        # assembles results.json when the notebooks ran by hand
codebook = rm.load_codebook(cohort_path / "codebook.yaml")
study = rm.load_study(cohort_path / "study.yaml", codebook)
model = hr.build_report(res, study, codebook)'''),
    ("code", '''hidden = model["hidden"]
display(Markdown(f"Anonymity threshold: **{model['k']}**. " + (
    "Not reported to HR: " + "; ".join(f"{escape.markdown(h)} ({escape.markdown(why)})" for h, why in hidden.items())
    if hidden else "Every hypothesis of the plan is reported to HR.")))
display(HTML(hr.render_fragment(model)))'''),
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
show(A.section_design(doc, res, study, cohort.responses, cohort.participants))'''),
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
     A.section_references(doc, res, study), A.section_appendix(doc, res, study.waves))'''),
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
