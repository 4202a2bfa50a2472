"""The reporting guideline, the reference list and the methods paragraph of the academic report."""

from __future__ import annotations

__all__ = ["REFERENCES", "GUIDELINES", "assignment", "guideline", "methods_paragraph", "references_html",
           "reproduce_command"]

from rmstudy.report.academic_format import esc

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
    """The plan's ``design.assignment`` (``nonrandomised`` when the plan does not say).

    Parameters
    ----------
    study : the plan (a Study, or any object with ``design`` or ``raw["design"]``).

    Returns
    -------
    str
        ``nonrandomised``, ``randomised`` or ``waitlist``.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> assignment(NS(design={"assignment": "waitlist"})), assignment(NS(design=None, raw={}))
    ('waitlist', 'nonrandomised')
    """
    design = getattr(study, "design", None)
    if design is None:
        design = (getattr(study, "raw", None) or {}).get("design")
    value = design.get("assignment") if isinstance(design, dict) else getattr(design, "assignment", None)
    return value if value in GUIDELINES else "nonrandomised"


def guideline(study) -> dict:
    """The reporting guideline of the plan's design: ``assignment``, ``name``, ``sentence``, ``refs``.

    Parameters
    ----------
    study : the plan.

    Returns
    -------
    dict

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> g = guideline(NS(design={"assignment": "randomised"}))
    >>> g["name"], g["refs"]
    ('CONSORT 2010 and CONSORT-SPI 2018', ('consort', 'consort_spi', 'jars'))
    """
    a = assignment(study)
    return {"assignment": a, **GUIDELINES[a]}


def methods_paragraph(res: dict, study) -> str:
    """A methods paragraph generated from the plan and the results, to paste into a paper.

    Parameters
    ----------
    res : a results.json mapping. study : the plan (``alpha``, ``design``).

    Returns
    -------
    str
        HTML text.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> res = {"hypotheses": [{"outcome": "retention", "family": "primary"}], "plan_sha256": "ab" * 32,
    ...        "rmstudy_version": "1.0", "environment": {"python": "3.11"}}
    >>> methods_paragraph(res, NS(design=None, raw={}, alpha=0.05))[:80]
    'We report this non-randomised evaluation following TREND and APA JARS-Quant. The'
    """
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
    """The reference list (APA 7, alphabetical) of the guideline, software and methods this report used.

    Parameters
    ----------
    res : a results.json mapping. study : the plan.

    Returns
    -------
    str
        An HTML ordered list.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> html = references_html({"hypotheses": [], "rmstudy_version": "1.0"}, NS(design={"assignment": "randomised"}))
    >>> html.count("<li>"), "CONSORT 2010" in html, "TREND" in html
    (16, True, False)
    """
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
    """The command that reruns this run and compares its results.json.

    Parameters
    ----------
    res : a results.json mapping (its ``parameters``).

    Returns
    -------
    str

    Examples
    --------
    >>> reproduce_command({"parameters": {"out_dir": "reports/demo", "cohort_dir": "data/demo"}})
    'rmstudy reproduce reports/demo --cohort data/demo'
    """
    p = res.get("parameters", {})
    return f"rmstudy reproduce {p.get('out_dir', 'RUN_DIR')} --cohort {p.get('cohort_dir', 'COHORT_DIR')}"


