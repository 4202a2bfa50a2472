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
out_dir: str = "reports/manual"  # run folder: records/, figures/ and results.json are written here
cohort_cache: str = ""  # the cohort as rmstudy run loaded and checked it (empty: load cohort_dir)'''

SETUP = '''import rmstudy as rm
import pandas as pd
from IPython.display import Markdown, display
from rmstudy.run.shared_cohort import shared_cohort

# rm.analysis_cohort (responses dated after an exit are left out), as rmstudy run loaded it once for every notebook
cohort = shared_cohort(rm.find_path(cohort_dir), cohort_cache and rm.find_path(cohort_cache))
out = rm.find_path(out_dir)
study = cohort.study'''

NB = {}
PARAMS_OF = {}   # notebooks whose parameters cell differs from PARAMS

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
    ("code", '''# measurement invariance (one-factor CFA, ML): across role and arm at the first wave, and across waves
display(psy["invariance"])'''),
    ("code", '''rm.record(out, "02_psychometrics", {
    "reliability": psy["reliability"],
    "psychometrics": {k: psy[k] for k in ("items", "flags", "rci", "favourable", "favourable_by_hypothesis",
                                          "distributions", "invariance", "threshold")},
})'''),
]

NB["03_survey_hypotheses"] = [
    ("md", "# Survey hypotheses: age bias (both directions), engagement and other survey outcomes\n"
           "Each survey hypothesis of the plan is fitted once here with the primary linear mixed model; "
           "figures go to the run folder for the reports."),
    ("code", SETUP + '''
from rmstudy.report import figures
from rmstudy.run.parts import part_name, survey_part
scores = rm.score_scales(cohort.responses, cohort.codebook)'''),
    ("code", '''rows, models, means, power, sensitivity, moderation = [], {}, {}, {}, {}, {}
for h in survey_part(study, part):            # every survey hypothesis, or this part's share of them
    a = rm.analyse_survey(cohort, scores, h)   # primary model, sensitivity (Bayes factor in the row), moderators, MDE
    rows.append(a.row)
    models[h.id] = {k: a.detail[k] for k in ("terms", "variance_components", "diagnostics")}
    means[h.id] = a.detail["cell_means"]
    sensitivity[h.id], moderation[h.id], power[h.id] = a.sensitivity, a.moderation, a.power
    display(Markdown(f"### {h.id}: {h.label}"), pd.DataFrame(a.detail["terms"]), pd.DataFrame(a.sensitivity["rows"]))
    axes = figures.plot_residuals(a.data["fitted"].to_numpy(), a.data["resid"].to_numpy(), f"{h.id}: model residuals")
    figures.save(axes, out, f"residuals_{h.id}", close=True)'''),
    ("code", '''rm.record(out, part_name("03_survey_hypotheses", part), {
    "hypotheses": rows, "models": models, "descriptives": {"cell_means": means}, "power": power,
    "sensitivity": sensitivity, "moderation": moderation,
})'''),
]

PARAMS_OF["03_survey_hypotheses"] = PARAMS + '''
part: str = ""  # "k/n": fit only part k of n of the survey hypotheses (rmstudy run runs n at once); empty: all'''

NB["04_retention"] = [
    ("md", "# Retention of younger talent\nTime from programme start to voluntary exit (involuntary exits and the "
           "censor date censor follow-up), Cox PH with Efron ties (Breslow as a check) and Kaplan–Meier retention at the plan's horizons."),
    ("code", SETUP + '''
from rmstudy.report import figures'''),
    ("code", '''rows, retention, power = [], {}, {}
for h in study.hypotheses:
    if not h.is_retention:
        continue
    a = rm.analyse_retention(cohort, h)        # Cox model, Kaplan-Meier at the horizons and at risk, MDE
    rows.append(a.row)
    retention[h.id], power[h.id] = a.detail, a.power
    display(Markdown(f"### {h.id}: {h.label}"), pd.DataFrame(a.detail["km"]))
    ax = figures.plot_km(a.data, f"{h.id}: time to voluntary exit")
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

ACADEMIC_SETUP = '''import rmstudy as rm
from IPython.display import HTML, display
from rmstudy.report import academic as A
from rmstudy.run.shared_cohort import shared_cohort

out = rm.find_path(out_dir)
cohort_path = rm.find_path(cohort_dir)
res = rm.load_or_assemble(out, cohort_path)
# the analysis cohort, for two descriptive parts only: each population's baseline table and the survey dates
cohort = shared_cohort(cohort_path, cohort_cache and rm.find_path(cohort_cache))
study, codebook = cohort.study, cohort.codebook
baselines = A.population_baselines(cohort, rm.score_scales(cohort.responses, codebook))
doc = A.AcademicDoc(A.outline(res))          # numbers sections, tables and figures in display order
sections = dict(doc.sections)
show = lambda *html: display(HTML("".join(html)))'''

NB["06_academic_report"] = [
    ("code", ACADEMIC_SETUP),
    ("code", '''show(A.title_block(res, study), doc.toc(A.subsections(res)))'''),
    ("code", '''show(A.section_plan(doc, res, study))
show(A.section_design(doc, res, study, cohort.responses, cohort.participants))'''),
    ("code", '''show(A.section_flow(doc, res, study))'''),
    ("code", '''show(A.section_baseline(doc, res, codebook, baselines))
show(A.section_attrition(doc, res, codebook))'''),
    ("code", '''show(A.section_measurement(doc, res, codebook))
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


# --- 00_planning: power curves and sample sizes (rmstudy.planning); run by hand or papermill, not by `rmstudy run`
PARAMS_OF["00_planning"] = \
    """planning_file: str = ""  # PLANNING.yaml (docs/planning.md); empty: the minimal example plan
from_run: str = ""  # a finished run folder: also the sample size per inconclusive hypothesis and each MDE
out_dir: str = "reports/planning"  # power.json, power_curves.png (and power_from_run.json) are written here
n_per_arm: str = "100,150,200,300,400"  # participants per arm for the curves, comma-separated; empty: the plan's own
n_sims: int = 1000  # simulated cohorts per sample size
seed: int = 1  # seed: the same seed gives the same numbers
jobs: int = 1  # processes (the numbers do not depend on it)"""

NB["00_planning"] = [
    ("md", "# Planning the next cohort: power by simulation\n"
           "Each simulated cohort is analysed as a run analyses a real one (primary LMM with Satterthwaite df, Cox PH "
           "for retention, the plan's multiplicity rule and decision rule), so power is the probability that the "
           "decision says *supported*. Intervals are Monte-Carlo 95% intervals. docs/planning.md explains every "
           "input."),
    ("code", """from dataclasses import replace
import rmstudy as rm
from rmstudy import planning
from rmstudy.planning import spec
from IPython.display import Markdown, display

out = rm.find_path(out_dir)
out.mkdir(parents=True, exist_ok=True)
if from_run:
    plan, sources = planning.plan_from_run(rm.find_path(from_run), n_sims=n_sims, seed=seed)
else:
    plan = planning.load_plan(rm.find_path(planning_file)) if planning_file else planning.parse_plan(spec.EXAMPLE)
sizes = tuple(int(s) for s in n_per_arm.split(",") if s.strip()) or plan.n_per_arm
plan = replace(plan, n_sims=n_sims, seed=seed, n_per_arm=sizes)
display(Markdown(f"**{plan.name}**: {len(plan.hypotheses)} hypothesis(es), {n_sims} simulations per size, seed {seed}."))"""),
    ("md", "## Power curves per hypothesis"),
    ("code", """res = planning.simulate_power(plan, jobs=jobs)
display(planning.curve_table(res))
ax = planning.plot_power_curves(res)
ax.figure.savefig(out / "power_curves.png", dpi=150, bbox_inches="tight")
planning.write_json(res, out / "power.json")"""),
    ("md", "## The finished run: sample size for each inconclusive hypothesis and the minimum detectable effects\n"
           "Only with `from_run`."),
    ("code", """if from_run:
    run_res = planning.power_from_run(rm.find_path(from_run), n_sims=n_sims, seed=seed, jobs=jobs)
    print("\\n".join(planning.summary_lines(run_res)))
    planning.write_json(run_res, out / "power_from_run.json")
else:
    display(Markdown("No run given (`from_run`): the curves above are the whole answer."))"""),
]


def build():
    for name, cells in NB.items():
        nb = new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        p = new_code_cell(PARAMS_OF.get(name, PARAMS))
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
