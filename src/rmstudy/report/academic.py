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

__all__ = ["GUIDELINES", "REFERENCES", "assignment", "guideline", "esc", "fmt_num", "fmt_p", "fmt_p_eq", "fmt_r",
           "fmt_df", "fmt_bf", "fmt_count", "fmt_ci", "AcademicDoc", "outline", "plan_table", "design_paragraphs",
           "fielded_dates", "flow_counts", "flow_table", "flow_diagram", "descriptives_table", "baseline_table",
           "population_label", "population_baselines", "attrition_table", "attrition_paragraphs",
           "hypothesis_table", "result_sentence", "e_value", "e_value_sentence", "model_sentence",
           "moderation_statement", "moderation_table", "ph_sentence", "methods_paragraph", "references_html",
           "reproduce_command", "figure_style", "means_figure", "slopes_figure", "SMD_FLAG", "uptake_sentence",
           "title_block", "subsections", "hypothesis_anchor", "reliability_table", "item_table", "section_plan",
           "section_design", "section_flow", "section_baseline", "section_attrition", "section_measurement",
           "section_descriptives", "section_results", "section_sensitivity", "section_moderation",
           "section_retention", "section_assumptions", "section_power", "section_methods",
           "section_reproducibility", "section_references", "section_appendix"]

import io
import json
import math
import textwrap
from contextlib import contextmanager

import numpy as np
import pandas as pd

SMD_FLAG = 0.1          # |SMD| above this is flagged (Austin 2009; Stuart 2010)
MINUS = "\u2212"
ARM_NAMES = {"program": "Programme", "control": "Comparison"}
ARMS = ("program", "control")

# --------------------------------------------------------------------------------------------- references
REFERENCES = {
    "rmstudy": "rmstudy {version} [Computer software]. Reverse-mentoring study toolkit. (Cite the version that produced "
               "the run; the package versions are listed under Reproducibility.)",
    "trend": "Des Jarlais, D. C., Lyles, C., Crepaz, N., & the TREND Group. (2004). Improving the reporting quality of "
             "nonrandomized evaluations of behavioral and public health interventions: The TREND statement. "
             "<i>American Journal of Public Health, 94</i>(3), 361–366.",
    "consort": "Schulz, K. F., Altman, D. G., & Moher, D. (2010). CONSORT 2010 statement: Updated guidelines for "
               "reporting parallel group randomised trials. <i>BMJ, 340</i>, c332.",
    "consort_spi": "Montgomery, P., Grant, S., Mayo-Wilson, E., Macdonald, G., Michie, S., Hopewell, S., & Moher, D. "
                   "(2018). Reporting randomised trials of social and psychological interventions: The CONSORT-SPI 2018 "
                   "Extension. <i>Trials, 19</i>, 407.",
    "jars": "Appelbaum, M., Cooper, H., Kline, R. B., Mayo-Wilson, E., Nezu, A. M., & Rao, S. M. (2018). Journal article "
            "reporting standards for quantitative research in psychology: The APA Publications and Communications "
            "Board task force report. <i>American Psychologist, 73</i>(1), 3–25.",
    "statsmodels": "Seabold, S., & Perktold, J. (2010). statsmodels: Econometric and statistical modeling with Python. "
                   "In <i>Proceedings of the 9th Python in Science Conference</i> (pp. 92–96).",
    "lme4": "Bates, D., Mächler, M., Bolker, B., & Walker, S. (2015). Fitting linear mixed-effects models using lme4. "
            "<i>Journal of Statistical Software, 67</i>(1), 1–48.",
    "lmertest": "Kuznetsova, A., Brockhoff, P. B., & Christensen, R. H. B. (2017). lmerTest package: Tests in linear "
                "mixed effects models. <i>Journal of Statistical Software, 82</i>(13), 1–26.",
    "satterthwaite": "Satterthwaite, F. E. (1946). An approximate distribution of estimates of variance components. "
                     "<i>Biometrics Bulletin, 2</i>(6), 110–114.",
    "morris": "Morris, S. B. (2008). Estimating effect sizes from pretest-posttest-control group designs. "
              "<i>Organizational Research Methods, 11</i>(2), 364–386.",
    "holm": "Holm, S. (1979). A simple sequentially rejective multiple test procedure. <i>Scandinavian Journal of "
            "Statistics, 6</i>(2), 65–70.",
    "bh": "Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate: A practical and powerful approach "
          "to multiple testing. <i>Journal of the Royal Statistical Society: Series B, 57</i>(1), 289–300.",
    "lakens": "Lakens, D. (2017). Equivalence tests: A practical primer for t tests, correlations, and meta-analyses. "
              "<i>Social Psychological and Personality Science, 8</i>(4), 355–362.",
    "rouder": "Rouder, J. N., Speckman, P. L., Sun, D., Morey, R. D., & Iverson, G. (2009). Bayesian t tests for "
              "accepting and rejecting the null hypothesis. <i>Psychonomic Bulletin &amp; Review, 16</i>(2), 225–237.",
    "cox": "Cox, D. R. (1972). Regression models and life-tables. <i>Journal of the Royal Statistical Society: Series B, "
           "34</i>(2), 187–220.",
    "efron": "Efron, B. (1977). The efficiency of Cox's likelihood function for censored data. <i>Journal of the "
             "American Statistical Association, 72</i>(359), 557–565.",
    "kaplan_meier": "Kaplan, E. L., & Meier, P. (1958). Nonparametric estimation from incomplete observations. "
                    "<i>Journal of the American Statistical Association, 53</i>(282), 457–481.",
    "grambsch": "Grambsch, P. M., & Therneau, T. M. (1994). Proportional hazards tests and diagnostics based on "
                "weighted residuals. <i>Biometrika, 81</i>(3), 515–526.",
    "survival": "Therneau, T. M. (2024). <i>A package for survival analysis in R</i> (R package survival).",
    "feldt": "Feldt, L. S. (1965). The approximate sampling distribution of Kuder-Richardson reliability coefficient "
             "twenty. <i>Psychometrika, 30</i>(3), 357–370.",
    "mcdonald": "McDonald, R. P. (1999). <i>Test theory: A unified treatment</i>. Erlbaum.",
    "psych": "Revelle, W. (2024). <i>psych: Procedures for psychological, psychometric, and personality research</i> "
             "(R package).",
    "jacobson": "Jacobson, N. S., & Truax, P. (1991). Clinical significance: A statistical approach to defining "
                "meaningful change in psychotherapy research. <i>Journal of Consulting and Clinical Psychology, "
                "59</i>(1), 12–19.",
    "evalue": "VanderWeele, T. J., & Ding, P. (2017). Sensitivity analysis in observational research: Introducing the "
              "E-value. <i>Annals of Internal Medicine, 167</i>(4), 268–274.",
    "austin": "Austin, P. C. (2009). Balance diagnostics for comparing the distribution of baseline covariates between "
              "treatment groups in propensity-score matched samples. <i>Statistics in Medicine, 28</i>(25), 3083–3107.",
    "little_rubin": "Little, R. J. A., & Rubin, D. B. (2019). <i>Statistical analysis with missing data</i> (3rd ed.). "
                    "Wiley.",
    "aiken_west": "Aiken, L. S., & West, S. G. (1991). <i>Multiple regression: Testing and interpreting "
                  "interactions</i>. Sage.",
    "aalen_johansen": "Aalen, O. O., & Johansen, S. (1978). An empirical transition matrix for non-homogeneous Markov "
                      "chains based on censored observations. <i>Scandinavian Journal of Statistics, 5</i>(3), 141–150.",
    "papermill": "nteract contributors. (2024). <i>papermill: Parameterize, execute, and analyze notebooks</i> "
                 "[Computer software].",
}

GUIDELINES = {
    "nonrandomised": {"name": "TREND", "refs": ("trend", "jars"),
                      "sentence": "This report follows the TREND statement for non-randomised evaluations (Des Jarlais "
                                  "et al., 2004) and APA JARS-Quant, module B for non-random assignment (Appelbaum et "
                                  "al., 2018): participants chose to join the programme, so the comparison group was "
                                  "not formed by chance."},
    "randomised": {"name": "CONSORT 2010 and CONSORT-SPI 2018", "refs": ("consort", "consort_spi", "jars"),
                   "sentence": "This report follows CONSORT 2010 (Schulz et al., 2010) with its extension for social "
                               "and psychological interventions, CONSORT-SPI 2018 (Montgomery et al., 2018), and APA "
                               "JARS-Quant, module A for random assignment (Appelbaum et al., 2018)."},
    "waitlist": {"name": "CONSORT 2010 and CONSORT-SPI 2018", "refs": ("consort", "consort_spi", "jars"),
                 "sentence": "This report follows CONSORT 2010 (Schulz et al., 2010) with its extension for social and "
                             "psychological interventions, CONSORT-SPI 2018 (Montgomery et al., 2018), and APA "
                             "JARS-Quant, module A for random assignment (Appelbaum et al., 2018); the comparison "
                             "group was randomised to a wait list and joins the programme after follow-up."},
}


def assignment(study) -> str:
    """The plan's ``design.assignment`` (``nonrandomised`` when the plan does not say)."""
    design = getattr(study, "design", None)
    if design is None:
        design = (getattr(study, "raw", None) or {}).get("design")
    value = design.get("assignment") if isinstance(design, dict) else getattr(design, "assignment", None)
    return value if value in GUIDELINES else "nonrandomised"


def guideline(study) -> dict:
    """The reporting guideline of the plan's design: ``assignment``, ``name``, ``sentence``, ``refs``."""
    a = assignment(study)
    return {"assignment": a, **GUIDELINES[a]}


# --------------------------------------------------------------------------------------------- formatting
def esc(text) -> str:
    """User text (plan, codebook, reasons) made safe for HTML, by the reports' one helper (rmstudy.report.escape)."""
    from rmstudy.report import escape

    return escape.html(text)


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _minus(s: str) -> str:
    return s.replace("-", MINUS) if s.startswith("-") else s


def fmt_num(x, digits: int = 2, sign: bool = False) -> str:
    """An estimate: fixed decimals, a true minus sign, '–' when absent."""
    if _missing(x):
        return "–"
    s = f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"
    if float(s.replace("+", "")) == 0:
        s = s.lstrip("+-")
    return _minus(s)


def fmt_p(p) -> str:
    """APA p: '< .001', '.013', '> .999' (no leading zero, never 0.000)."""
    if _missing(p):
        return "–"
    if p < 0.001:
        return "< .001"
    if p > 0.999:
        return "> .999"
    return f"{p:.3f}"[1:]


def fmt_p_eq(p) -> str:
    """'p < .001' or 'p = .013' for running text."""
    s = fmt_p(p)
    return f"<i>p</i> {s}" if s[0] in "<>" else f"<i>p</i> = {s}"


def fmt_r(x, digits: int = 2) -> str:
    """A value bounded by 1 (r, α, ω, ICC): no leading zero."""
    if _missing(x):
        return "–"
    s = f"{x:.{digits}f}"
    if s.startswith("-0"):
        return MINUS + s[2:]
    return s[1:] if s.startswith("0") else s


def fmt_df(df) -> str:
    return "–" if _missing(df) else f"{df:.1f}"


def fmt_bf(bf) -> str:
    """A Bayes factor: '> 100' beyond 100, '< 0.01' below 0.01, else two decimals."""
    if _missing(bf):
        return "–"
    if bf > 100:
        return "> 100"
    if bf < 0.01:
        return "< 0.01"
    return f"{bf:.2f}"


def fmt_count(n) -> str:
    """A count as an integer; an absent count as 'not recorded'."""
    if _missing(n):
        return "not recorded"
    return f"{int(round(float(n))):d}"


def fmt_ci(lo, hi, digits: int = 2, r: bool = False) -> str:
    f = (lambda v: fmt_r(v, digits)) if r else (lambda v: fmt_num(v, digits))
    return f"[{f(lo)}, {f(hi)}]"


def _pct(x) -> str:
    return "–" if _missing(x) else f"{100 * x:.0f}%"


# --------------------------------------------------------------------------------------------- document
class AcademicDoc:
    """Numbers sections, tables and figures in order and renders them as HTML fragments.

    ``sections`` is the outline (see :func:`outline`): a list of ``(key, title)``; :meth:`heading` gives
    a section its number, :meth:`table` and :meth:`figure` number captions in the order they are called.
    """

    def __init__(self, sections):
        self.sections = list(sections)
        self.n_tables = 0
        self.n_figures = 0

    def number(self, key: str) -> str:
        keys = [k for k, _ in self.sections]
        i = keys.index(key)
        return "Appendix" if key.startswith("appendix") else str(i + 1 - sum(k.startswith("appendix") for k in keys[:i]))

    def heading(self, key: str, level: int = 2, intro: str = "") -> str:
        title = dict(self.sections)[key]
        num = self.number(key)
        text = f"{num}: {esc(title)}" if num == "Appendix" else f"{num}. {esc(title)}"
        return f'<h{level} id="sec-{key}">{text}</h{level}>' + (f"<p>{intro}</p>" if intro else "")

    def subheading(self, key: str, sub: int, title: str, anchor: str) -> str:
        return f'<h3 id="{esc(anchor)}">{self.number(key)}.{sub} {esc(title)}</h3>'

    def toc(self, subsections: dict | None = None) -> str:
        """Table of contents; ``subsections`` maps a section key to ``[(anchor, title), ...]``."""
        items = []
        for key, title in self.sections:
            num = self.number(key)
            label = f"{num}: {esc(title)}" if num == "Appendix" else f"{num}. {esc(title)}"
            sub = ""
            if subsections and subsections.get(key):
                sub = "<ol>" + "".join(f'<li><a href="#{esc(a)}">{num}.{j} {esc(t)}</a></li>'
                                       for j, (a, t) in enumerate(subsections[key], 1)) + "</ol>"
            items.append(f'<li><a href="#sec-{key}">{label}</a>{sub}</li>')
        return '<nav class="toc"><h2 class="toc-title">Contents</h2><ol>' + "".join(items) + "</ol></nav>"

    def table(self, df: pd.DataFrame, title: str, note: str = "", escape: bool = True, wrap=()) -> str:
        """An APA table: 'Table N' and its title above, a note below; cells as given (strings), no index.

        Cells never wrap, except those of the text columns named in ``wrap`` (labels, notes, reasons)."""
        self.n_tables += 1
        cls = [' class="wrap"' if c in wrap else "" for c in df.columns]
        head = "".join(f"<th{k}>{esc(c)}</th>" for c, k in zip(df.columns, cls))
        body = []
        for row in df.itertuples(index=False):
            cells = []
            for v, k in zip(row, cls):
                v = "–" if _missing(v) else v
                cells.append(f"<td{k}>{esc(v) if escape else v}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        note_html = f'<p class="table-note"><i>Note.</i> {note}</p>' if note else ""
        return (f'<figure class="apa-table" id="table-{self.n_tables}"><figcaption><b>Table {self.n_tables}</b><br>'
                f'<i>{esc(title)}</i></figcaption><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}'
                f"</tbody></table>{note_html}</figure>")

    def figure(self, fig, caption: str, close: bool = True) -> str:
        """A figure as inline SVG (vector), numbered, with its caption below."""
        import matplotlib.pyplot as plt

        self.n_figures += 1
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
        if close:
            plt.close(fig)
        svg = buf.getvalue()
        svg = svg[svg.index("<svg"):]                 # no XML prolog or DOCTYPE inside HTML
        a, b = svg.find("<metadata>"), svg.find("</metadata>")
        if a >= 0 and b > a:                          # matplotlib's RDF block names web namespaces: not needed
            svg = svg[:a] + svg[b + len("</metadata>"):]
        return (f'<figure class="apa-figure" id="figure-{self.n_figures}">{svg}<figcaption><b>Figure '
                f'{self.n_figures}.</b> {caption}</figcaption></figure>')

    def image(self, path, caption: str) -> str:
        """A figure saved by an analysis notebook (PNG), embedded, numbered and captioned."""
        import base64
        from pathlib import Path

        self.n_figures += 1
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        return (f'<figure class="apa-figure" id="figure-{self.n_figures}"><img src="data:image/png;base64,{data}" '
                f'alt="Figure {self.n_figures}"><figcaption><b>Figure {self.n_figures}.</b> {caption}</figcaption>'
                "</figure>")


def outline(res: dict) -> list[tuple[str, str]]:
    """The sections present in this run, in report order (a section without its analysis is left out)."""
    fam = {r["family"] for r in res["hypotheses"]}
    s = [("plan", "The preregistered plan"), ("design", "Design, programme and comparison group"),
         ("flow", "Participant flow"), ("baseline", "Baseline characteristics by arm"), ("attrition", "Attrition"),
         ("measurement", "Measurement"), ("descriptives", "Descriptive statistics")]
    if "primary" in fam:
        s.append(("primary", "Primary results"))
    if fam & {"secondary", "exploratory"}:
        s.append(("secondary", "Secondary and exploratory results"))
    if res.get("sensitivity"):
        s.append(("sensitivity", "Sensitivity analyses"))
    if any(res.get("moderation", {}).values()):
        s.append(("moderation", "Moderation and dose–response (exploratory)"))
    if res.get("retention"):
        s.append(("retention", "Retention"))
    if res.get("models"):
        s.append(("assumptions", "Assumption checks"))
    if res.get("power"):
        s.append(("power", "Power and sensitivity"))
    s += [("methods", "Statistical methods (for reuse)"), ("reproducibility", "Reproducibility"),
          ("references", "References"), ("appendix_items", "Item statistics")]
    return s


# --------------------------------------------------------------------------------------------- plan & design
def population_label(population: dict | None) -> str:
    """'everyone', 'role = junior', 'role = junior, age ≤ 35'."""
    if not population:
        return "everyone"
    parts = []
    for k, v in population.items():
        if k == "age" and isinstance(v, dict):
            if "min" in v:
                parts.append(f"age ≥ {v['min']:g}")
            if "max" in v:
                parts.append(f"age ≤ {v['max']:g}")
        elif isinstance(v, list):
            parts.append(f"{k} in {{{', '.join(map(str, v))}}}")
        else:
            parts.append(f"{k} = {v}")
    return ", ".join(parts)


def plan_table(study) -> pd.DataFrame:
    """The plan's hypotheses as a table (human column names)."""
    rows = []
    for h in study.hypotheses:
        sesoi = "–"
        if h.sesoi is not None:
            sesoi = {"d": f"d = {h.sesoi:g}", "raw": f"{h.sesoi:g} scale points",
                     "hazard_ratio": f"HR = {h.sesoi:g}"}.get(h.sesoi_units, f"{h.sesoi:g} ({h.sesoi_units})")
        rows.append({"ID": h.id, "Hypothesis": h.label, "Outcome": h.outcome, "Population": population_label(h.population),
                     "Contrast": " → ".join(h.contrast) if h.contrast else "time to voluntary exit",
                     "Expected": h.direction, "Family": h.family, "SESOI": sesoi})
    return pd.DataFrame(rows)


def fielded_dates(responses: pd.DataFrame, waves, offsets: dict | None = None, start=None) -> pd.DataFrame:
    """Survey dates per wave from ``submitted_on``: first, median and last date and the number of responses.

    ``offsets`` (study.yaml ``wave_offsets_days``) and ``start`` (programme start) add the planned date."""
    rows = []
    dates = pd.to_datetime(responses["submitted_on"], errors="coerce") if "submitted_on" in responses else None
    for w in waves:
        at = responses["wave"] == w
        d = dates[at].dropna() if dates is not None else pd.Series(dtype="datetime64[ns]")
        planned = "–"
        if offsets and w in offsets and start is not None:
            planned = (pd.Timestamp(start) + pd.Timedelta(days=int(offsets[w]))).date().isoformat()
        rows.append({"Wave": w, "Planned": planned,
                     "First response": d.min().date().isoformat() if len(d) else "not recorded",
                     "Median": d.sort_values().iloc[(len(d) - 1) // 2].date().isoformat() if len(d) else "not recorded",
                     "Last response": d.max().date().isoformat() if len(d) else "not recorded",
                     "Responses dated": f"{len(d)} of {int(at.sum())}"})
    return pd.DataFrame(rows)


def design_paragraphs(study, res: dict) -> list[str]:
    """Design, programme, comparison group and matching as HTML paragraphs (from the plan)."""
    g = guideline(study)
    prog = (getattr(study, "raw", None) or {}).get("programme") or {}
    out = [g["sentence"]]
    a = g["assignment"]
    design = {"nonrandomised": "a non-randomised (self-selected) controlled pre/post design",
              "randomised": "a randomised controlled design", "waitlist": "a randomised wait-list controlled design"}[a]
    waves = list(study.waves)
    single = any(r.get("design") == "single_arm" for r in res["hypotheses"])
    out.append(f"<b>Design.</b> The study used {design if not single else 'a single-arm pre/post design'} with "
               f"{len(waves)} survey wave{'s' if len(waves) != 1 else ''} ({', '.join(esc(w) for w in waves)}); the "
               f"programme started on {study.programme_start.isoformat()} and employment records were followed up to "
               f"{study.censor_date.isoformat()}.")
    if prog.get("description"):
        out.append(f"<b>Programme.</b> {esc(prog['description'])}")
    else:
        out.append("<b>Programme.</b> Not described in study.yaml (add <code>programme.description</code>).")
    details = []
    if prog.get("session_format"):
        details.append(f"sessions were {esc(prog['session_format'])}")
    if prog.get("session_length_minutes"):
        details.append(f"each lasting about {prog['session_length_minutes']:g} minutes")
    if prog.get("sessions_planned") is not None:
        details.append(f"{int(prog['sessions_planned'])} sessions were planned per pair")
    if prog.get("duration_weeks"):
        details.append(f"over {prog['duration_weeks']:g} weeks")
    if details:
        out.append("<b>Delivery.</b> " + "; ".join(details).capitalize() + ".")
    out.append("<b>Matching.</b> " + (esc(prog["matching"]) if prog.get("matching") else
                                       "How mentors and mentees were matched is not recorded in study.yaml "
                                       "(add <code>programme.matching</code>)."))
    if prog.get("materials"):
        out.append(f"<b>Materials.</b> {esc(prog['materials'])}")
    if single:
        out.append("<b>Comparison group.</b> None: every estimate is change within the programme, which cannot be "
                   "attributed to the programme.")
    else:
        out.append("<b>Comparison group.</b> " + (esc(study.comparison_group) if study.comparison_group else
                                                   "Not described in study.yaml (add <code>comparison_group</code>)."))
    return out


# --------------------------------------------------------------------------------------------- flow
def _stage(flow: dict, name: str) -> dict:
    for s in flow["stages"]:
        if s["stage"] == name:
            return s
    return {}


def flow_counts(res: dict, study) -> dict:
    """Per arm: invited, not enrolled (with reasons when given), enrolled, responded and lost per wave, analysed,
    response rows excluded from every survey analysis and retention exclusions, all as ints (None: not recorded)."""
    flow = res["flow"]
    waves = list(study.waves)
    reasons = ((getattr(study, "raw", None) or {}).get("flow") or {}).get("not_enrolled_reasons") or []
    out = {}
    for a in ARMS:
        inv = _stage(flow, "invited").get(a)
        enr = _stage(flow, "enrolled").get(a)
        waves_out = []
        for w in waves:
            n = _stage(flow, f"responded_{w}").get(a)
            waves_out.append({"wave": w, "responded": n, "missed": None if enr is None or n is None else enr - n})
        out[a] = {
            "invited": None if inv is None else int(inv), "enrolled": enr,
            "not_enrolled": None if inv is None or enr is None else int(inv) - int(enr),
            "not_enrolled_reasons": [(r["reason"], r.get(a)) for r in reasons if r.get(a)],
            "waves": waves_out, "analysed": _stage(flow, "analysed").get(a),
            "rows_excluded": [(e["reason"], e[a]) for e in flow["exclusions"]
                              if e["analysis"] == "all survey analyses" and e.get(a)],
            "retention_excluded": [(e["reason"], e[a]) for e in flow["exclusions"]
                                   if e["analysis"] == "retention" and e.get(a)],
        }
    return out


def flow_table(res: dict, study) -> pd.DataFrame:
    """The participant flow as a table of integer counts per arm and in total ('not recorded' when absent)."""
    fc = flow_counts(res, study)
    rows = []

    def add(stage, key):
        vals = [key(fc[a]) for a in ARMS]
        total = None if any(v is None for v in vals) else sum(vals)
        rows.append({"Stage": stage, "Programme": fmt_count(vals[0]), "Comparison": fmt_count(vals[1]),
                     "Total": fmt_count(total)})

    add("Invited (assessed for eligibility)", lambda f: f["invited"])
    add("Did not enrol", lambda f: f["not_enrolled"])
    add("Enrolled (allocated by self-selection)" if assignment(study) == "nonrandomised" else "Enrolled and allocated",
        lambda f: f["enrolled"])
    for i, w in enumerate(study.waves):
        add(f"Responded at {w}", lambda f, i=i: f["waves"][i]["responded"])
        if i:
            add(f"Did not respond at {w}", lambda f, i=i: f["waves"][i]["missed"])
    add("Analysed (at least one scored response)", lambda f: f["analysed"])
    return pd.DataFrame(rows)


def figure_style():
    """rmstudy's publication figure style (rc parameters): sans-serif, no top/right spines, 300 dpi, Okabe–Ito."""
    return {"figure.dpi": 100, "savefig.dpi": 300, "font.family": "DejaVu Sans", "font.size": 9,
            "axes.titlesize": 10, "axes.titleweight": "bold", "axes.labelsize": 9, "axes.spines.top": False,
            "axes.spines.right": False, "axes.linewidth": 0.8, "xtick.labelsize": 8.5, "ytick.labelsize": 8.5,
            "legend.fontsize": 8.5, "legend.frameon": False, "svg.fonttype": "none", "svg.hashsalt": "rmstudy",
            "lines.linewidth": 1.8, "text.parse_math": False}       # a '$' in a label is text, not mathtext


@contextmanager
def _style():
    import matplotlib as mpl

    with mpl.rc_context(figure_style()):
        yield


def flow_diagram(res: dict, study):
    """The participant-flow diagram (TREND/CONSORT style) per arm, drawn from results.json's flow and ledger.

    Invited → enrolled → responded at each wave → analysed, with the losses and their reasons beside the arrows.
    Returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    fc = flow_counts(res, study)
    waves = list(study.waves)
    stages = [("Enrolment", "Invited", lambda f: f["invited"]),
              ("Allocation", "Enrolled" + (" (self-selected)" if assignment(study) == "nonrandomised" else ""),
               lambda f: f["enrolled"])]
    for i, w in enumerate(waves):
        stages.append(("Follow-up" if i else "Baseline", f"Responded at {w}", lambda f, i=i: f["waves"][i]["responded"]))
    stages.append(("Analysis", "Analysed (≥ 1 scored response)", lambda f: f["analysed"]))

    def loss_text(f, k):             # text beside the arrow from stage k to stage k + 1
        if k == 0:
            if f["invited"] is None:
                return "invited count not recorded"
            return "\n".join([f"did not enrol: {fmt_count(f['not_enrolled'])}"]
                             + [f"  {r}: {fmt_count(n)}" for r, n in f["not_enrolled_reasons"]])
        if k <= len(waves):
            w = f["waves"][k - 1]
            lines = [f"no response at {w['wave']}: {fmt_count(w['missed'])}"]
            if k == 1:
                lines += [f"response rows excluded ({r}): {fmt_count(n)}" for r, n in f["rows_excluded"]]
            return "\n".join(lines)
        return ""

    def below_text(f):
        lines = ["dropouts kept in the mixed models"] if len(waves) > 1 else []
        lines += [f"left out of retention ({r}): {fmt_count(n)}" for r, n in f["retention_excluded"]]
        return "\n".join(lines)

    import textwrap

    from matplotlib.patches import Rectangle

    n = len(stages)
    with _style():
        fig, ax = plt.subplots(figsize=(7.2, 0.95 * n + 0.9))
        ax.set_xlim(0, 10)
        ax.set_ylim(-0.9, n)
        ax.axis("off")
        cols = {"program": 2.2, "control": 6.9}
        bw, bh = 2.9, 0.5
        for a, x in cols.items():
            ax.text(x, n - 0.2, ARM_NAMES[a] + (" group" if a == "control" else ""), ha="center", va="center",
                    fontsize=10, fontweight="bold")
        for k, (phase, label, get) in enumerate(stages):
            y = n - 0.85 - k
            ax.text(0.1, y, phase, ha="left", va="center", fontsize=7.5, color="#555555", rotation=90)
            for a, x in cols.items():
                f = fc[a]
                ax.add_patch(Rectangle((x - bw / 2, y - bh / 2), bw, bh, fc="white", ec="#333333", lw=0.8))
                ax.text(x, y, f"{label}\nn = {fmt_count(get(f))}", ha="center", va="center", fontsize=8.3)
                if k < n - 1:
                    ax.annotate("", xy=(x, y - 1 + bh / 2), xytext=(x, y - bh / 2),
                                arrowprops={"arrowstyle": "-|>", "color": "#333333", "lw": 0.8,
                                            "shrinkA": 0, "shrinkB": 0})
                    t = loss_text(f, k)
                    if t:
                        t = "\n".join(textwrap.fill(line, 30, subsequent_indent="  ") for line in t.split("\n"))
                        ax.text(x + 0.12, y - 0.5, t, ha="left", va="center", fontsize=6.6, color="#333333",
                                linespacing=1.1)
            if k == n - 1:
                for a, x in cols.items():
                    t = below_text(fc[a])
                    if t:
                        t = "\n".join(textwrap.fill(line, 52) for line in t.split("\n"))
                        ax.text(x, y - bh / 2 - 0.12, t, ha="center", va="top", fontsize=6.6, color="#333333")
        fig.subplots_adjust(left=0.01, right=0.99, top=0.99, bottom=0.01)
    return fig


# --------------------------------------------------------------------------------------------- descriptives
def _outcome_label(codebook, outcome: str) -> str:
    try:
        return codebook[outcome].label
    except (KeyError, TypeError, AttributeError):
        return outcome


def descriptives_table(res: dict, codebook, waves) -> pd.DataFrame:
    """Mean, SD and n by arm × wave for every survey outcome, in each hypothesis's analysed population."""
    rows = []
    for r in res["hypotheses"]:
        cm = res.get("descriptives", {}).get("cell_means", {}).get(r["id"])
        if not cm:
            continue
        d = pd.DataFrame(cm)
        for w in waves:
            row = {"Hypothesis": r["id"], "Outcome": _outcome_label(codebook, r["outcome"]).split(" (")[0],
                   "Population": population_label(r.get("population")), "Wave": w}
            for a in ARMS:
                c = d[(d["arm"] == a) & (d["wave"] == w)]
                if c.empty:
                    row.update({f"{ARM_NAMES[a]} M (SD)": "–", f"{ARM_NAMES[a]} n": "0"})
                    continue
                c = c.iloc[0]
                row.update({f"{ARM_NAMES[a]} M (SD)": f"{fmt_num(c['mean'])} ({fmt_num(c['sd'])})",
                            f"{ARM_NAMES[a]} n": fmt_count(c["n"])})
            rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------- baseline
def _flag(smd) -> str:
    if _missing(smd):
        return "–"
    return fmt_num(smd) + (" †" if abs(smd) > SMD_FLAG else "")


def baseline_table(rows: list[dict], codebook=None) -> pd.DataFrame:
    """A baseline table (rows as :func:`rmstudy.checks.quality.baseline_table` records them) in APA form:
    M (SD) or % (n) per arm and the SMD, flagged with † when |SMD| > 0.1. Rows with no data are left out."""
    out = []
    for r in rows:
        if not r.get("program_n") and not r.get("control_n"):
            continue
        var = r["variable"]
        if var.endswith(" (baseline)"):
            var = _outcome_label(codebook, var[: -len(" (baseline)")]) + " (baseline score)"
        cells = {}
        for a in ARMS:
            m, sd, n = r.get(f"{a}_mean"), r.get(f"{a}_sd"), r.get(f"{a}_n")
            if r["kind"] == "share":
                cells[ARM_NAMES[a]] = "–" if _missing(m) else f"{100 * m:.1f}% ({fmt_count(n)})"
            else:
                cells[ARM_NAMES[a]] = "–" if _missing(m) else f"{fmt_num(m)} ({fmt_num(sd)}), n = {fmt_count(n)}"
        out.append({"Characteristic": var, "Statistic": "% (n)" if r["kind"] == "share" else "M (SD)", **cells,
                    "SMD": _flag(r.get("smd"))})
    return pd.DataFrame(out)


def _populations(study) -> list[tuple[dict, list]]:
    """Distinct populations of the plan's hypotheses, each with the ids of its hypotheses and covariates."""
    seen: dict[str, tuple[dict, list, list]] = {}
    for h in study.hypotheses:
        key = json.dumps(h.population or {}, sort_keys=True, default=str)
        pop, ids, cov = seen.setdefault(key, (h.population or {}, [], []))
        ids.append(h.id)
        cov.extend(c for c in h.covariates if c not in cov)
    return [(p, ids, cov) for p, ids, cov in seen.values()]


def population_baselines(cohort, scores: pd.DataFrame) -> list[dict]:
    """The baseline table of every analysed population of the plan (everyone, juniors only, ...), each with the
    covariates its hypotheses name. Returns ``[{population, label, hypotheses, rows}]`` (rows as
    :func:`rmstudy.checks.quality.baseline_table`)."""
    import dataclasses

    from rmstudy.checks.quality import baseline_table as _baseline
    from rmstudy.checks.quality import standardised_mean_difference as _smd
    from rmstudy.contract.cohort import select_population

    out = []
    for pop, ids, covs in _populations(cohort.study):
        P = select_population(cohort.participants, pop)
        keep = cohort.responses["participant_id"].isin(P["participant_id"])
        sub = dataclasses.replace(cohort, participants=P, responses=cohort.responses[keep])
        rows = _baseline(sub, scores[scores["participant_id"].isin(P["participant_id"])]).to_dict(orient="records")
        have = {r["variable"].split(" = ")[0] for r in rows}
        for c in covs:
            if c in have or c not in P.columns:
                continue
            col = P[c]
            if pd.api.types.is_numeric_dtype(col):
                g = {a: col[P["arm"] == a] for a in ARMS}
                rows.append({"variable": c, "kind": "mean (sd)", **{f"{a}_mean": g[a].mean() for a in ARMS},
                             **{f"{a}_sd": g[a].std(ddof=1) for a in ARMS},
                             **{f"{a}_n": int(g[a].notna().sum()) for a in ARMS}, "smd": _smd(g["program"], g["control"])})
            else:
                col = col.replace("", np.nan)
                for level in sorted(col.dropna().astype(str).unique()):
                    g = {a: (col[P["arm"] == a].astype(str) == level).astype(float).where(col[P["arm"] == a].notna())
                         for a in ARMS}
                    p1, p0 = g["program"].mean(), g["control"].mean()
                    sd = math.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2) if p1 == p1 and p0 == p0 else 0
                    rows.append({"variable": f"{c} = {level}", "kind": "share", "program_mean": p1, "control_mean": p0,
                                 "program_sd": None, "control_sd": None, **{f"{a}_n": int(g[a].sum()) for a in ARMS},
                                 "smd": float((p1 - p0) / sd) if sd > 0 else None})
        out.append({"population": pop, "label": population_label(pop), "hypotheses": ids, "rows": rows})
    return out


# --------------------------------------------------------------------------------------------- attrition
def attrition_table(res: dict) -> pd.DataFrame:
    t = pd.DataFrame(res["attrition"]["table"])
    return pd.DataFrame({"Arm": t["arm"].map(ARM_NAMES), "Enrolled": t["enrolled"].map(fmt_count),
                         "Completers": t["completers"].map(fmt_count), "Dropouts": t["dropouts"].map(fmt_count),
                         "Dropout rate": t["dropout_rate"].map(_pct)})


def attrition_paragraphs(res: dict, codebook=None) -> list[str]:
    """Differential attrition, the dropouts' baseline differences (|SMD| > 0.1) and what they imply."""
    att = res["attrition"]
    out = []
    t = att.get("test")
    last = att.get("last_wave", "the last wave")
    rates = {r["arm"]: r for r in att["table"]}
    if t:
        out.append(f"Dropout (no response at {esc(last)}) was {_pct(rates['program']['dropout_rate'])} in the programme "
                   f"and {_pct(rates['control']['dropout_rate'])} in the comparison group; {esc(t['test'])}, "
                   f"χ²({t['df']}) = {t['chi2']:.2f}, {fmt_p_eq(t['p_value'])}.")
    else:
        shown = [f"{_pct(r['dropout_rate'])} in the {'programme' if a == 'program' else 'comparison group'}"
                 for a, r in rates.items() if r.get("enrolled")]
        out.append(f"Dropout (no response at {esc(last)}) was " + " and ".join(shown) +
                   "; with one arm (or one wave) there is no test of differential attrition.")
    big = [b for b in att["baseline_by_completion"] if not _missing(b.get("smd")) and abs(b["smd"]) > SMD_FLAG]
    if big:
        by_scale: dict[str, list] = {}
        for b in big:
            by_scale.setdefault(b["scale"], []).append(b)
        parts = []
        for scale, bs in by_scale.items():
            arms = "; ".join(f"{ARM_NAMES[b['arm']].lower()}: completers M = {fmt_num(b['completers_mean'])}, "
                             f"dropouts M = {fmt_num(b['dropouts_mean'])}, SMD = {fmt_num(b['smd'])}" for b in bs)
            parts.append(f"{esc(_outcome_label(codebook, scale))} ({arms})")
        lower = [b for b in big if b["smd"] > 0]
        out.append("At baseline, dropouts differed from completers by more than 0.1 SD on "
                   + "; ".join(parts) + ". " +
                   ("Completers scored higher than dropouts where the SMD is positive. " if lower else "") +
                   "Dropout is therefore related to the observed baseline score, so the data are not missing completely "
                   "at random. The mixed models keep every observed score, including dropouts' baseline, and are "
                   "unbiased if dropout depends only on what was observed (missing at random, MAR; Little &amp; Rubin, "
                   "2019); completers-only analyses (sensitivity section) are not, and would describe a more "
                   "favourable subgroup where completers scored higher. If dropout also depends on the unobserved "
                   "later score (missing not at random), every estimate may be biased in an unknown direction.")
    else:
        out.append("At baseline, dropouts and completers differed by no more than 0.1 SD on any scale, in either arm.")
    out.append("Missing-data method: the mixed models use all available observations (dropouts kept) under MAR given "
               "the observed scores; no values were imputed.")
    return out


# --------------------------------------------------------------------------------------------- results
def hypothesis_table(rows: list[dict]) -> pd.DataFrame:
    """One line per hypothesis: estimate, SE, df, 95% CI, p, adjusted p, effect size with CI, TOST p, BF10,
    decision (APA formats)."""
    out = []
    for r in rows:
        es = r["effect_size"]
        ret = r["outcome"] == "retention"
        es_name = {"d_ppc2": "d", "hazard_ratio": "HR"}.get(es["name"], es["name"])
        out.append({"ID": r["id"],
                    "Estimate": fmt_num(r["estimate"], 3), "SE": fmt_num(r["se"], 3), "df": fmt_df(r.get("df")),
                    "95% CI": fmt_ci(r["ci_low"], r["ci_high"], 3), "p": fmt_p(r["p_value"]),
                    "Adjusted p": fmt_p(r.get("p_adjusted")),
                    "Effect size [95% CI]": f"{es_name} = {fmt_num(es['value'])} {fmt_ci(es['ci_low'], es['ci_high'])}",
                    "TOST p": fmt_p(r.get("tost_p")),
                    "BF10": "–" if ret else fmt_bf(r.get("bayes_factor_10")), "Decision": r["decision"]})
    return pd.DataFrame(out)


def result_sentence(r: dict) -> str:
    """The APA results sentence of one hypothesis row."""
    es = r["effect_size"]
    adj = (f", {esc(r['adjustment'])}-adjusted {fmt_p_eq(r['p_adjusted'])}" if r.get("adjustment")
           and r.get("adjustment") != "none" else "")
    if r["outcome"] == "retention":
        z = r["estimate"] / r["se"] if r.get("se") else float("nan")
        return (f"The hazard ratio of voluntary exit (programme vs comparison) was HR = {fmt_num(es['value'])}, 95% CI "
                f"{fmt_ci(es['ci_low'], es['ci_high'])}; log HR = {fmt_num(r['estimate'], 3)} "
                f"(<i>SE</i> = {fmt_num(r['se'], 3)}), <i>z</i> = {fmt_num(z)}, {fmt_p_eq(r['p_value'])}{adj}. "
                f"Decision: <b>{esc(r['decision'])}</b>.")
    t = r["estimate"] / r["se"] if r.get("se") else float("nan")
    what = ("change within the programme" if r.get("design") == "single_arm"
            else "difference in change (programme minus comparison)")
    stat = (f"<i>t</i>({fmt_df(r['df'])}) = {fmt_num(t)}" if not _missing(r.get("df")) else f"<i>z</i> = {fmt_num(t)}")
    bf = ""
    if not _missing(r.get("bayes_factor_10")):
        b = fmt_bf(r["bayes_factor_10"])
        bf = f"; BF<sub>10</sub> {b}" if b[0] in "<>" else f"; BF<sub>10</sub> = {b}"
    tost = f"; TOST against the SESOI {fmt_p_eq(r['tost_p'])}" if not _missing(r.get("tost_p")) else ""
    return (f"The {what} was <i>b</i> = {fmt_num(r['estimate'], 3)} scale points, 95% CI "
            f"{fmt_ci(r['ci_low'], r['ci_high'], 3)}, {stat}, {fmt_p_eq(r['p_value'])}{adj}; "
            f"<i>d</i><sub>ppc2</sub> = {fmt_num(es['value'])}, 95% CI {fmt_ci(es['ci_low'], es['ci_high'])}"
            f"{tost}{bf}. Decision: <b>{esc(r['decision'])}</b>.")


def _e(rr: float) -> float:
    rr = 1 / rr if rr < 1 else rr
    return rr + math.sqrt(rr * (rr - 1))


def e_value(r: dict, event_rate: float | None = None) -> dict | None:
    """The E-value (VanderWeele & Ding, 2017) of a hypothesis row: the minimum strength of association, on the risk-
    ratio scale, that an unmeasured confounder would need with both arm and outcome to explain the estimate away
    (``point``), and to move the confidence limit nearer the null to the null (``ci``; 1 when the CI covers the null).

    Survey rows: the standardised difference d converts to RR ≈ exp(0.91 d). Retention rows: the hazard ratio is
    used as a risk ratio when the outcome is rare (``event_rate`` < 15%), else converted with
    RR = (1 − 0.5^√HR) / (1 − 0.5^√(1/HR)) (VanderWeele, 2017)."""
    es = r.get("effect_size") or {}
    v, lo, hi = es.get("value"), es.get("ci_low"), es.get("ci_high")
    if _missing(v):
        return None
    if r["outcome"] == "retention":
        common = event_rate is not None and event_rate >= 0.15

        def to_rr(h):
            return (1 - 0.5 ** math.sqrt(h)) / (1 - 0.5 ** math.sqrt(1 / h)) if common else h
        rr, rlo, rhi = to_rr(v), to_rr(lo), to_rr(hi)
        conv = ("hazard ratio converted for a common outcome (≥ 15% exits)" if common
                else "hazard ratio taken as a risk ratio (rare outcome)")
    else:
        rr, rlo, rhi = (math.exp(0.91 * x) for x in (v, lo, hi))
        conv = "d converted with RR ≈ exp(0.91 d)"
    covers = rlo <= 1 <= rhi
    near = rlo if rr >= 1 else rhi
    return {"rr": rr, "point": _e(rr), "ci": 1.0 if covers else _e(near), "conversion": conv}


def e_value_sentence(r: dict, event_rate: float | None = None) -> str:
    e = e_value(r, event_rate)
    if e is None:
        return ""
    ci = ("the confidence interval already includes no effect, so no confounding is needed to reach it (E-value "
          "for the CI = 1)" if e["ci"] == 1.0 else
          f"to move the confidence limit nearer the null to no effect, the E-value is {e['ci']:.2f}")
    return (f"<b>E-value</b> (VanderWeele &amp; Ding, 2017; {e['conversion']}): an unmeasured confounder associated with "
            f"both programme participation and the outcome by a risk ratio of {e['point']:.2f} each could explain away the "
            f"point estimate; weaker confounding could not; {ci}.")


def model_sentence(m: dict) -> str:
    vc = m["variance_components"]
    return (f"Variance components: participant intercept τ² = {vc['tau2']:.3f}, residual σ² = {vc['sigma2']:.3f}, "
            f"ICC = {fmt_r(vc['icc'])}; {fmt_count(vc['n_obs'])} observations of {fmt_count(vc['n_groups'])} "
            f"participants" + (" (singular fit)" if vc.get("singular") else "") + ".")


def moderation_statement(res: dict) -> str:
    """Multiplicity for moderation: how many tests, that they are exploratory and unadjusted."""
    mods = [m for ms in res.get("moderation", {}).values() for m in ms if m.get("estimable")]
    n = len(mods)
    small = sum(m["interaction"]["p_value"] < 0.05 for m in mods)
    return (f"All {n} moderation and dose–response tests below are <b>exploratory</b>: their p-values are "
            f"<b>not adjusted</b> for multiplicity (the plan's Holm and Benjamini–Hochberg corrections cover the "
            f"hypotheses, not their moderators). With {n} tests at α = .05, about {0.05 * n:.1f} would fall below .05 by "
            f"chance alone when no moderation exists; {small} did. No moderator result is reported as a finding, and the HR report "
            f"shows a moderator only past a Bonferroni bar over the plan's moderators.")


def moderation_table(res: dict) -> pd.DataFrame:
    rows = []
    for hid, mods in res.get("moderation", {}).items():
        for m in mods:
            if not m.get("estimable"):
                rows.append({"Hypothesis": hid, "Moderator": m["moderator"], "Kind": m.get("kind", ""),
                             "n": fmt_count(m.get("n_participants")), "Interaction [95% CI]": "not estimable",
                             "t (df)": "–", "Unadjusted p": "–", "Per SD": "–"})
                continue
            i = m["interaction"]
            rows.append({"Hypothesis": hid, "Moderator": m["moderator"], "Kind": m["kind"].replace("_", "–"),
                         "n": fmt_count(m["n_participants"]),
                         "Interaction [95% CI]": f"{fmt_num(i['estimate'], 3)} {fmt_ci(i['ci_low'], i['ci_high'], 3)}",
                         "t (df)": f"{fmt_num(i['t'])} ({fmt_df(i['df'])})", "Unadjusted p": fmt_p(i["p_value"]),
                         "Per SD": fmt_num(m["per_sd"]["estimate"], 3)})
    return pd.DataFrame(rows)


def ph_sentence(d: dict, alpha: float) -> str:
    """The proportional-hazards check in honest words: 'no evidence against', never 'the assumption holds'."""
    g = next((z for z in d["zph"] if z["term"] == "GLOBAL"), d["zph"][-1])
    test = f"global χ²({g['df']}) = {g['chisq']:.2f}, {fmt_p_eq(g['p_value'])}"
    if g["p_value"] >= alpha:
        return (f"The Grambsch–Therneau test found no evidence against proportional hazards ({test}); with "
                f"{fmt_count(d['cox_efron']['events'])} events the test has limited power, so this does not show that "
                "the hazards are proportional.")
    return (f"The Grambsch–Therneau test found evidence against proportional hazards ({test}). The hazard ratio is "
            "then an average over follow-up: read the retention at the horizons and the Kaplan–Meier curves.")


def methods_paragraph(res: dict, study) -> str:
    """A methods paragraph generated from the plan and the results, to paste into a paper."""
    g = guideline(study)
    survey = [r for r in res["hypotheses"] if r["outcome"] != "retention"]
    ret = [r for r in res["hypotheses"] if r["outcome"] == "retention"]
    single = any(r.get("design") == "single_arm" for r in survey)
    fams = sorted({r["family"] for r in res["hypotheses"]}, key=["primary", "secondary", "exploratory"].index)
    counts = ", ".join(f"{sum(r['family'] == f for r in res['hypotheses'])} {f}" for f in fams)
    parts = [f"We report this {'non-randomised' if g['assignment'] == 'nonrandomised' else 'randomised'} evaluation "
             f"following {g['name']} and APA JARS-Quant. The analysis plan (study.yaml, SHA-256 "
             f"{res['plan_sha256'][:12]}…) fixed {len(res['hypotheses'])} hypotheses "
             f"({counts}) before analysis."]
    if survey:
        parts.append(
            "Scale scores were the mean of answered items when at least the codebook's share of items was answered. "
            "Reliability was estimated as Cronbach's α with a Feldt 95% CI and McDonald's ω total (one-factor). "
            + ("Change within the programme was estimated with a linear mixed model score ~ wave "
               if single else "Each survey outcome was analysed with a linear mixed model score ~ arm × wave ")
            + "with a random intercept per participant, fitted by REML on all available observations (dropouts kept; "
            "valid under missing at random), in Python with statsmodels (Seabold &amp; Perktold, 2010) and checked "
            "against R lme4 (Bates et al., 2015); degrees of freedom and p-values used the Satterthwaite approximation "
            "as in lmerTest (Satterthwaite, 1946; Kuznetsova et al., 2017). The effect was the arm × wave coefficient "
            "for the plan's contrast (the difference in change, programme minus comparison), standardised as "
            "d<sub>ppc2</sub> with the pooled baseline SD (Morris, 2008).")
    if ret:
        parts.append("Time from programme start to voluntary exit, censored at involuntary exit or the censor date, "
                     "was compared with Kaplan–Meier estimates (Kaplan &amp; Meier, 1958), the log-rank test and a Cox "
                     "proportional-hazards model with Efron ties (Cox, 1972; Efron, 1977; Breslow as a check); "
                     "proportional hazards were checked with the Grambsch–Therneau test (Grambsch &amp; Therneau, "
                     "1994), and competing involuntary exits with Aalen–Johansen cumulative incidence.")
    parts.append(f"Two-sided p-values were adjusted with Holm's method within the primary family (Holm, 1979) and the "
                 f"Benjamini–Hochberg procedure within the secondary family (Benjamini &amp; Hochberg, 1995); "
                 f"exploratory analyses, including all moderation tests, were not adjusted. A hypothesis was supported "
                 f"when its adjusted p was below α = {study.alpha:g} in the expected direction; evidence of absence "
                 f"used two one-sided tests against the smallest effect size of interest (Lakens, 2017) and a JZS Bayes "
                 f"factor (r = .707) on completers' change scores (Rouder et al., 2009).")
    if not single and g["assignment"] == "nonrandomised":
        parts.append("Because participants self-selected, sensitivity analyses added baseline covariates and "
                     "propensity weighting, and E-values quantify how strong unmeasured confounding would have to be "
                     "to explain each primary effect away (VanderWeele &amp; Ding, 2017).")
    parts.append(f"All analyses ran with rmstudy {esc(res['rmstudy_version'])} in Python "
                 f"{esc(res.get('environment', {}).get('python', ''))} through parameterised notebooks (papermill); "
                 "`rmstudy reproduce` reruns them and compares the results field by field.")
    return " ".join(parts)


_CITED = {"nonrandomised": ("trend", "jars"), "randomised": ("consort", "consort_spi", "jars"),
          "waitlist": ("consort", "consort_spi", "jars")}


def references_html(res: dict, study) -> str:
    """The reference list (APA 7, alphabetical) of the guideline, software and methods this report used."""
    keys = list(_CITED[assignment(study)]) + ["rmstudy", "statsmodels", "papermill", "feldt", "mcdonald", "psych",
                                              "jacobson", "holm", "bh", "lakens", "rouder", "little_rubin", "austin"]
    if any(r["outcome"] != "retention" for r in res["hypotheses"]):
        keys += ["lme4", "lmertest", "satterthwaite", "morris"]
    if any(r["family"] == "primary" and r.get("design") != "single_arm" for r in res["hypotheses"]):
        keys.append("evalue")
    if res.get("retention"):
        keys += ["cox", "efron", "kaplan_meier", "grambsch", "survival", "aalen_johansen"]
    if any(res.get("moderation", {}).values()):
        keys.append("aiken_west")
    seen = []
    for k in keys:
        if k not in seen:
            seen.append(k)
    texts = [REFERENCES[k].replace("{version}", esc(res["rmstudy_version"])) for k in seen]
    texts.sort(key=lambda t: t.lower())
    return '<ol class="references">' + "".join(f"<li>{t}</li>" for t in texts) + "</ol>"


def reproduce_command(res: dict) -> str:
    """The command that reruns this run and compares its results.json."""
    p = res.get("parameters", {})
    return f"rmstudy reproduce {p.get('out_dir', 'RUN_DIR')} --cohort {p.get('cohort_dir', 'COHORT_DIR')}"


# --------------------------------------------------------------------------------------------- figures
def means_figure(cell_means: list[dict], waves, title: str, ylabel: str):
    """Observed means by wave and arm with 95% CIs, in the report's figure style."""
    import matplotlib.pyplot as plt

    from rmstudy.report.figures import plot_means

    with _style():
        fig, ax = plt.subplots(figsize=(5.2, 3.0))
        title = textwrap.fill(title, 60)
        plot_means(pd.DataFrame(cell_means), waves, title, ylabel, ax=ax)
        fig.subplots_adjust(left=0.13, right=0.97, top=0.82 if "\n" in title else 0.88, bottom=0.17)
    return fig


def slopes_figure(m: dict, title: str):
    import matplotlib.pyplot as plt

    from rmstudy.report.figures import plot_simple_slopes

    with _style():
        fig, ax = plt.subplots(figsize=(5.2, 3.0))
        title = textwrap.fill(title, 60)
        plot_simple_slopes(m, title, ax=ax)
        fig.subplots_adjust(left=0.14, right=0.97, top=0.82 if "\n" in title else 0.88, bottom=0.17)
    return fig


# --------------------------------------------------------------------------------------------- sections
# Each returns the HTML of one numbered section; the notebook displays them in order. ``doc`` numbers the
# tables and figures in the order they are called, so call them in the order of the outline.

def _p(*paras) -> str:
    return "".join(f"<p>{x}</p>" for x in paras if x)


def title_block(res: dict, study) -> str:
    g = guideline(study)
    return (f"<h1>Academic report: {esc(study.name)}</h1>"
            f'<p class="meta">Cohort <code>{esc(res["cohort"])}</code> · results of {esc(res["created"][:10])} · rmstudy '
            f'{esc(res["rmstudy_version"])} · plan SHA-256 <code>{esc(res["plan_sha256"][:16])}…</code><br>'
            f'<span class="confidential">Confidential: for the research team and reviewers.</span> '
            f"Reporting guideline: {esc(g['name'])} and APA JARS-Quant.</p>")


def hypothesis_anchor(hid: str) -> str:
    return "hyp-" + "".join(c if c.isalnum() else "-" for c in hid)


def subsections(res: dict) -> dict:
    """Hypotheses as sub-headings of the results sections (for the table of contents)."""
    out = {"primary": [], "secondary": []}
    for r in res["hypotheses"]:
        key = "primary" if r["family"] == "primary" else "secondary"
        out[key].append((hypothesis_anchor(r["id"]), f"{r['id']}: {r['label']}"))
    return out


def section_plan(doc: AcademicDoc, res: dict, study) -> str:
    dev = ("".join(f"<li>{esc(d['what'])}: {esc(d['why'])}</li>" for d in study.deviations)
           if study.deviations else "")
    return (doc.heading("plan")
            + _p(f"The analysis plan is study.yaml, SHA-256 <code>{esc(res['plan_sha256'])}</code>. Registration: "
                 f"{esc(study.preregistration.rstrip('.')) if study.preregistration else 'not stated'}.")
            + doc.table(plan_table(study), "Preregistered hypotheses", wrap=("Hypothesis",),
                        note="SESOI = smallest effect size of interest (d: standardised; HR: hazard ratio). Contrast: "
                             "the waves whose difference in change is tested; retention runs from programme start to "
                             "the censor date.")
            + (f"<p><b>Deviations log.</b></p><ul>{dev}</ul>" if dev else
               _p("<b>Deviations log.</b> No deviations from the plan were recorded (study.yaml <code>deviations</code> "
                  "is empty)."))
            + _p(f"<b>Decision rule.</b> <i>Supported</i> when the adjusted p is below α = {study.alpha:g} in the "
                 f"expected direction; <i>opposite</i> when it is below α against it; <i>equivalent</i> when the two "
                 "one-sided tests against the SESOI both reject; otherwise <i>inconclusive</i>. Holm within the primary "
                 "family, Benjamini–Hochberg within the secondary family, no adjustment for exploratory hypotheses."))


def uptake_sentence(participants: pd.DataFrame | None, study) -> str:
    """Dose delivered (TREND item 4, CONSORT-SPI 5): sessions attended by programme participants, beside the
    sessions planned when the plan gives them. Empty when participants.csv has no ``sessions_attended``."""
    if participants is None or "sessions_attended" not in participants:
        return ""
    x = pd.to_numeric(participants.loc[participants["arm"] == "program", "sessions_attended"], errors="coerce").dropna()
    if x.empty:
        return ""
    planned = ((getattr(study, "raw", None) or {}).get("programme") or {}).get("sessions_planned")
    share = (f"; {100 * (x >= planned).mean():.0f}% attended all {int(planned)} planned sessions"
             if planned else "")
    n_prog = int((participants["arm"] == "program").sum())
    return (f"<b>Uptake.</b> Programme participants attended M = {fmt_num(x.mean())} sessions (SD = "
            f"{fmt_num(x.std(ddof=1))}; median {x.median():g}, range {x.min():g}–{x.max():g}; n = {len(x)} of "
            f"{n_prog} with a recorded count){share}.")


def section_design(doc: AcademicDoc, res: dict, study, responses: pd.DataFrame | None = None,
                   participants: pd.DataFrame | None = None) -> str:
    out = doc.heading("design") + _p(*design_paragraphs(study, res), uptake_sentence(participants, study))
    if responses is not None:
        dates = fielded_dates(responses, study.waves, (study.raw or {}).get("wave_offsets_days"),
                              study.programme_start)
        out += doc.table(dates, "Survey dates per wave",
                         note="Fielded dates from responses.csv <code>submitted_on</code>; planned dates from "
                              "study.yaml <code>wave_offsets_days</code> relative to the programme start.",
                         escape=True)
    reasons = ((study.raw or {}).get("flow") or {}).get("not_enrolled_reasons") or []
    if reasons:
        out += _p("<b>Reasons for non-enrolment</b> (study.yaml <code>flow.not_enrolled_reasons</code>): "
                  + "; ".join(f"{esc(r['reason'])} (programme {fmt_count(r.get('program'))}, comparison "
                              f"{fmt_count(r.get('control'))})" for r in reasons) + ".")
    else:
        out += _p("Reasons for non-enrolment were not recorded (study.yaml <code>flow.not_enrolled_reasons</code>).")
    return out


def section_flow(doc: AcademicDoc, res: dict, study, warnings: list | None = None) -> str:
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
    if warnings is not None:
        if warnings:
            w = pd.DataFrame(warnings)
            g = w.groupby("check", sort=False).agg(n=("message", "size"), first=("message", "first")).reset_index()
            g = pd.DataFrame({"Check": g["check"], "Count": g["n"].map(fmt_count), "First message": g["first"]})
            out += doc.table(g, "Data checks that did not stop the run (rmstudy validate warnings)",
                             note="Every warning is listed in validation.json.", wrap=("First message",))
        else:
            out += _p("<code>rmstudy validate</code> raised no warnings.")
    return out


def section_baseline(doc: AcademicDoc, res: dict, codebook, baselines: list[dict] | None = None) -> str:
    out = doc.heading("baseline") + _p(
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
    att = res["attrition"]
    out = doc.heading("attrition") + doc.table(attrition_table(res), "Completers and dropouts by arm",
                                               note=f"Completers answered the last wave ({esc(att['last_wave'])}).")
    out += _p(*attrition_paragraphs(res, codebook))
    rows = [{"Arm": ARM_NAMES[b["arm"]], "Scale": _outcome_label(codebook, b["scale"]),
             "Completers M (n)": f"{fmt_num(b['completers_mean'])} ({fmt_count(b['completers_n'])})",
             "Dropouts M (n)": f"{fmt_num(b['dropouts_mean'])} ({fmt_count(b['dropouts_n'])})",
             "SMD": _flag(b["smd"])} for b in att["baseline_by_completion"] if b.get("completers_n") or b.get("dropouts_n")]
    out += doc.table(pd.DataFrame(rows), "Baseline scores of completers and dropouts",
                     note="SMD = completers minus dropouts; † |SMD| > 0.1.")
    return out


def reliability_table(rows: list[dict]) -> pd.DataFrame:
    d = pd.DataFrame(rows)
    return pd.DataFrame({"Scale": d["scale"], "Wave": d["wave"], "Group": d["role"], "n": d["n"].map(fmt_count),
                         "k": d["k"].map(fmt_count), "α": d["alpha"].map(fmt_r),
                         "95% CI": [fmt_ci(a, b, r=True) for a, b in zip(d["alpha_ci_low"], d["alpha_ci_high"])],
                         "ω total": d["omega"].map(fmt_r),
                         "ω h": d["omega_h"].map(fmt_r) if "omega_h" in d else "–",
                         "Mean r": d["average_r"].map(fmt_r)})


def section_measurement(doc: AcademicDoc, res: dict) -> str:
    psy = res.get("psychometrics", {})
    out = doc.heading("measurement") + _p(
        "Cronbach's α from pairwise covariances (as psych::alpha) with a Feldt (1965) 95% CI; McDonald's ω total from "
        "a one-factor minres solution; ω hierarchical for scales with subscales.")
    out += doc.table(reliability_table(res["reliability"]), "Reliability by scale, wave and group")
    flags = psy.get("flags", [])
    out += _p(f"<b>Flags</b> (α below {fmt_r(psy.get('threshold'))}, negative item–rest correlations, α differing "
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
    out += _p("Item statistics are in the appendix.")
    return out


def section_descriptives(doc: AcademicDoc, res: dict, study, codebook) -> str:
    t = descriptives_table(res, codebook, study.waves)
    return doc.heading("descriptives") + (doc.table(
        t, "Observed means, standard deviations and n by arm and wave", wrap=("Outcome",),
        note="Each outcome in the population its hypothesis analyses; scored responses only.") if not t.empty
        else _p("No survey outcome in this plan."))


def _event_rate(res: dict, hid: str) -> float | None:
    d = res.get("retention", {}).get(hid)
    if not d:
        return None
    c = d["cox_efron"]
    return c["events"] / c["n"] if c.get("n") else None


def section_results(doc: AcademicDoc, res: dict, study, codebook, key: str = "primary") -> str:
    rows = [r for r in res["hypotheses"] if (r["family"] == "primary") == (key == "primary")]
    out = doc.heading(key)
    if key == "secondary":
        out += _p("Secondary hypotheses (Benjamini–Hochberg within the family) and exploratory ones (no adjustment; "
                  "labelled <i>exploratory</i>) are reported here; neither is a confirmatory finding.")
    adj = sorted({f"{r['id']}: {r['adjustment']}" for r in rows if r.get("adjustment")})
    adj_note = ("Adjusted p: " + "; ".join(esc(a) for a in adj) + ". ") if adj else ""
    out += doc.table(hypothesis_table(rows), "Primary hypotheses" if key == "primary" else
                     "Secondary and exploratory hypotheses",
                     note=adj_note + "Estimate: difference in change in scale points (programme minus comparison), or the log "
                          "hazard ratio for retention. d = d<sub>ppc2</sub> (Morris, 2008). TOST: two one-sided tests "
                          "against the SESOI. BF10: JZS Bayes factor on completers' change scores.", escape=False)
    for j, r in enumerate(rows, 1):
        out += doc.subheading(key, j, f"{r['id']}: {r['label']}"
                              + (" (exploratory)" if r["family"] == "exploratory" else ""), hypothesis_anchor(r["id"]))
        out += _p(f"<i>Method:</i> {esc(r['method'])}. <i>Population:</i> {esc(population_label(r.get('population')))}; "
                  + ", ".join(f"{ARM_NAMES[a].lower()} {fmt_count(v.get('participants'))} participants"
                              for a, v in r["n"].items()) + ".",
                  result_sentence(r), " ".join(esc(n) for n in r.get("notes", [])))
        if r["family"] == "primary" and r.get("design") != "single_arm":
            out += _p(e_value_sentence(r, _event_rate(res, r["id"])))
        m = res.get("models", {}).get(r["id"])
        if m:
            out += _p(model_sentence(m))
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
            out += doc.figure(means_figure(cm, study.waves, f"{r['id']}: {_outcome_label(codebook, r['outcome'])}",
                                           ylabel),
                              f"Observed mean of {esc(_outcome_label(codebook, r['outcome']))} by wave and arm, with "
                              f"95% CIs ({esc(population_label(r.get('population')))}).")
    return out


def section_sensitivity(doc: AcademicDoc, res: dict) -> str:
    out = doc.heading("sensitivity") + _p(
        "The primary estimate beside completers-only, ANCOVA, covariate-adjusted, propensity-weighted and (where pairs "
        "or clusters exist) multilevel versions; all in scale points, programme minus comparison. The JZS Bayes factor "
        "(r = .707) compares completers' change scores.")
    for hid, sv in res["sensitivity"].items():
        b = sv["bayes"]
        t = pd.DataFrame([{"Analysis": x["analysis"], "Estimate": fmt_num(x["estimate"], 3), "SE": fmt_num(x["se"], 3),
                           "df": fmt_df(x.get("df")), "95% CI": fmt_ci(x["ci_low"], x["ci_high"], 3),
                           "p": fmt_p(x["p_value"]), "n": fmt_count(x.get("n_participants")),
                           "Note": x.get("note") or "–"} for x in sv["rows"]])
        bf = fmt_bf(b["bf10"])
        note = (f"BF<sub>10</sub> {bf}" if bf[0] in "<>" else f"BF<sub>10</sub> = {bf}") + \
            f" (n = {fmt_count(b['n_program'])} + {fmt_count(b['n_control'])} completers)."
        if sv.get("lords_paradox"):
            note += " " + esc(sv["lords_paradox"])
        out += doc.table(t, f"Sensitivity analyses for {hid}", note=note, wrap=("Analysis", "Note"))
    return out


def section_moderation(doc: AcademicDoc, res: dict, codebook) -> str:
    out = doc.heading("moderation") + _p(
        "Moderators measured in both arms enter as arm × wave × moderator (centred); a moderator measured only in the "
        "programme (sessions attended, relationship quality after the programme) gives a dose–response model within "
        "the programme. The pair partner's baseline value of a moderator is analysed the same way.",
        moderation_statement(res))
    out += doc.table(moderation_table(res), "Moderation and dose–response tests (exploratory, unadjusted p)",
                     note="Interaction: change in the difference in change (moderation) or in the within-programme "
                          "change (dose–response) per unit of the moderator. Per SD: the same per standard deviation.")
    outcome = {r["id"]: r["outcome"] for r in res["hypotheses"]}
    for hid, mods in res["moderation"].items():
        for m in mods:
            if not m.get("estimable"):
                continue
            label = _outcome_label(codebook, outcome.get(hid, hid)).split(" (")[0]
            out += doc.figure(slopes_figure(m, f"{hid}: {label} by {m['moderator'].replace('_', ' ')}"),
                              f"{esc(hid)} × {esc(m['moderator'])} (exploratory): estimate across the moderator with a "
                              f"95% band; simple slopes at the mean and ±1 SD. Source: {esc(m['source'])}.")
    return out


def section_retention(doc: AcademicDoc, res: dict, study, figures_dir=None) -> str:
    from pathlib import Path

    out = doc.heading("retention")
    for j, (hid, d) in enumerate(res["retention"].items(), 1):
        out += doc.subheading("retention", j, hid, f"ret-{hypothesis_anchor(hid)}")
        fig = Path(figures_dir) / f"km_{hid}.png" if figures_dir is not None else None
        if fig is not None and fig.exists():
            out += doc.image(fig, f"Kaplan–Meier estimate of remaining (not having left voluntarily) by arm for "
                                  f"{esc(hid)}, with log-type 95% bands.")
        ar = pd.DataFrame(d["at_risk"])
        if not ar.empty:
            piv = ar.pivot(index="group", columns="horizon_days", values="n_at_risk")
            tab = pd.DataFrame({"Arm": [ARM_NAMES.get(g, g) for g in piv.index],
                                **{f"Day {c}": piv[c].map(fmt_count).to_list() for c in piv.columns}})
            out += doc.table(tab, f"Numbers at risk for {hid}")
        cox = pd.DataFrame([{"Ties": c["ties"].capitalize(), "log HR": fmt_num(c["estimate"], 3),
                             "SE": fmt_num(c["se"], 3), "z": fmt_num(c["z"]), "p": fmt_p(c["p_value"]),
                             "HR [95% CI]": f"{fmt_num(c['hazard_ratio'])} {fmt_ci(c['hr_ci_low'], c['hr_ci_high'])}",
                             "n": fmt_count(c["n"]), "Events": fmt_count(c["events"])}
                            for c in (d["cox_efron"], d["cox_breslow"])])
        lr = d["logrank"]
        out += doc.table(cox, f"Cox proportional-hazards model of voluntary exit for {hid} (unadjusted)",
                         note=f"Log-rank test: χ²({lr['df']}) = {lr['chisq']:.2f}, {fmt_p_eq(lr['p_value'])}.",
                         escape=True)
        if d.get("adjusted"):
            adj = pd.DataFrame([{"Term": t["term"], "log HR": fmt_num(t["coef"], 3), "SE": fmt_num(t["se"], 3),
                                 "z": fmt_num(t["z"]), "p": fmt_p(t["p_value"]),
                                 "HR [95% CI]": f"{fmt_num(t['hazard_ratio'])} {fmt_ci(t['hr_ci_low'], t['hr_ci_high'])}"}
                                for t in d["adjusted"]["table"]])
            out += doc.table(adj, f"Cox model for {hid} adjusted for {', '.join(d['adjusted']['covariates'])} (Efron)")
        out += _p("<b>Proportional hazards.</b> " + ph_sentence(d, study.alpha))
        z = pd.DataFrame([{"Term": t["term"], "χ²": fmt_num(t["chisq"]), "df": fmt_count(t["df"]),
                           "p": fmt_p(t["p_value"])} for t in d["zph"]])
        out += doc.table(z, f"Proportional-hazards test for {hid} (as survival::cox.zph, KM time transform)")
        km = pd.DataFrame([{"Arm": ARM_NAMES.get(k["group"], k["group"]), "Day": fmt_count(k["horizon_days"]),
                            "n": fmt_count(k["n"]), "At risk": fmt_count(k["n_at_risk"]),
                            "Exits by then": fmt_count(k["events_by_horizon"]),
                            "Retention [95% CI]": f"{fmt_num(k['retention'], 3)} {fmt_ci(k['ci_low'], k['ci_high'], 3)}"}
                           for k in d["km"]])
        out += doc.table(km, f"Kaplan–Meier retention at the plan's horizons for {hid}", note="Log-type CIs.")
        ci = pd.DataFrame([{"Arm": ARM_NAMES.get(k["group"], k["group"]), "Day": fmt_count(k["horizon_days"]),
                            "Cause": "voluntary" if k["cause"] == 1 else "involuntary",
                            "Cumulative incidence [95% CI]": f"{fmt_num(k['incidence'], 3)} "
                                                             f"{fmt_ci(k['ci_low'], k['ci_high'], 3)}"}
                           for k in d["cumulative_incidence"]])
        out += doc.table(ci, f"Cumulative incidence of voluntary and involuntary exit for {hid} (Aalen–Johansen)")
        if d.get("excluded"):
            out += _p("Left out of this analysis: " + "; ".join(
                f"{esc(e['reason'])} ({ARM_NAMES.get(e['arm'], e['arm']).lower()}: {fmt_count(e['count'])})"
                for e in d["excluded"]) + ".")
    return out


def section_assumptions(doc: AcademicDoc, res: dict, figures_dir=None) -> str:
    from pathlib import Path

    out = doc.heading("assumptions") + _p(
        "Conditional residuals of each mixed model: normal Q–Q plot and residuals against fitted values. Influential "
        "participants are counted, never named. The checks look for evidence against normality and constant "
        "variance; their absence does not prove the assumptions.")
    rows = []
    for hid, m in res.get("models", {}).items():
        dg = m["diagnostics"]
        rows.append({"Hypothesis": hid, "Residuals beyond 3 SD": fmt_count(dg["n_large_residuals"]),
                     "From participants": fmt_count(dg["n_participants_with_large_residuals"]),
                     "Skew": fmt_num(dg["residual_skew"]), "Excess kurtosis": fmt_num(dg["residual_excess_kurtosis"])})
    out += doc.table(pd.DataFrame(rows), "Residual diagnostics of the mixed models")
    for hid in res.get("models", {}):
        fig = Path(figures_dir) / f"residuals_{hid}.png" if figures_dir is not None else None
        if fig is not None and fig.exists():
            out += doc.image(fig, f"Residual diagnostics for {esc(hid)}: Q–Q plot (left) and residuals against fitted "
                                  "values (right).")
    return out


def section_power(doc: AcademicDoc, res: dict) -> str:
    rows = []
    for hid, p in res["power"].items():
        if "mde_d" in p:
            mde = f"d = {fmt_num(p['mde_d'])} ({fmt_num(p['mde_raw'], 3)} points)"
        else:
            mde = f"HR = {fmt_num(p.get('mde_hazard_ratio'))}"
        rows.append({"Hypothesis": hid, "Power": f"{100 * p['power']:.0f}%", "α": fmt_r(p["alpha"]),
                     "Minimum detectable effect": mde,
                     "Size needed for the SESOI": "–" if _missing(p.get("n_factor_for_sesoi"))
                     else f"{p['n_factor_for_sesoi']:.1f} × this cohort"})
    return doc.heading("power") + doc.table(pd.DataFrame(rows), "Minimum detectable effects of this cohort",
                                            note="Two-sided, unadjusted α, from each model's standard error.")


def section_methods(doc: AcademicDoc, res: dict, study) -> str:
    return doc.heading("methods") + _p("The paragraph below is generated from the plan and the results; it may be "
                                       "pasted into a paper's method section.", methods_paragraph(res, study))


def section_reproducibility(doc: AcademicDoc, res: dict, study) -> str:
    cmd = reproduce_command(res)
    p = res.get("parameters", {})
    out = doc.heading("reproducibility") + _p(
        f"Run: <code>rmstudy run {esc(p.get('cohort_dir', ''))} --out {esc(p.get('out_dir', ''))}</code>. "
        f"Reproduce: <code>{esc(cmd)}</code> checks the input hashes, the plan hash and the package versions, reruns, "
        "and compares results.json field by field (identical apart from <code>created</code>); it exits 0 only when "
        f"they are identical. Seed in the plan: {esc(study.seed)}. Paths are relative to the folder the run started in.")
    out += doc.table(pd.DataFrame([{"File": f, "SHA-256": h} for f, h in res["inputs"].items()]), "Input files")
    env = res.get("environment", {})
    out += doc.table(pd.DataFrame([{"Package": "python", "Version": env.get("python", "–")}]
                                  + [{"Package": k, "Version": v} for k, v in env.get("packages", {}).items()]),
                     "Software versions")
    return out


def section_references(doc: AcademicDoc, res: dict, study) -> str:
    return doc.heading("references") + references_html(res, study)


def item_table(items: list[dict], waves) -> pd.DataFrame:
    """Item statistics of the whole sample ('all'), one row per item and the waves side by side: M (SD), item–rest r
    and α if deleted. (Per-role item statistics are in results.json, psychometrics.items.)"""
    d = pd.DataFrame(items)
    if d.empty:
        return d
    d = d[d["role"] == "all"] if (d["role"] == "all").any() else d
    rows = []
    for (scale, item), g in d.groupby(["scale", "item"], sort=False):
        row = {"Scale": scale, "Item": item}
        for w in waves:
            x = g[g["wave"] == w]
            if x.empty:
                row.update({f"{w}: n": "–", f"{w}: M (SD)": "–", f"{w}: r drop": "–", f"{w}: α if del.": "–"})
                continue
            x = x.iloc[0]
            row.update({f"{w}: n": fmt_count(x["n"]), f"{w}: M (SD)": f"{fmt_num(x['mean'])} ({fmt_num(x['sd'])})",
                        f"{w}: r drop": fmt_r(x["r_drop"]), f"{w}: α if del.": fmt_r(x["alpha_if_deleted"])})
        rows.append(row)
    return pd.DataFrame(rows)


def section_appendix(doc: AcademicDoc, res: dict, waves=None) -> str:
    items = res.get("psychometrics", {}).get("items", [])
    waves = list(waves) if waves is not None else list(dict.fromkeys(i["wave"] for i in items))
    t = item_table(items, waves)
    return doc.heading("appendix_items") + _p(
        "Item–rest correlation (r drop) and α if the item is deleted, from pairwise covariances as psych::alpha, for "
        "the whole sample; the same statistics per role are in results.json (psychometrics.items).") + (
        doc.table(t, "Item statistics by scale and wave") if not t.empty else "")
