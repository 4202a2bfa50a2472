"""The academic report's sections after the results (sensitivity, moderation, retention, assumptions, power,
methods, reproducibility, references, appendix) and the two HTML helpers every section uses.

Split from :mod:`rmstudy.report.academic`, which re-exports every name; each section returns the HTML of one
numbered section of the notebook ``06_academic_report``."""

from __future__ import annotations

__all__ = ["paras", "hypothesis_anchor", "section_sensitivity", "section_moderation", "section_retention",
           "section_assumptions", "section_power", "section_methods", "section_reproducibility",
           "section_references", "section_appendix"]

import pandas as pd

from rmstudy.report import figures
from rmstudy.report.academic_figures import slopes_figure
from rmstudy.report.academic_format import (ARM_NAMES, AcademicDoc, esc, fmt_bf, fmt_ci, fmt_count, fmt_df,
                                            fmt_num, fmt_p, fmt_p_eq, fmt_r, is_missing)
from rmstudy.report.academic_refs import methods_paragraph, references_html, reproduce_command
from rmstudy.report.academic_tables import (item_table, moderation_statement, moderation_table, outcome_label,
                                            ph_sentence)


def paras(*paras) -> str:
    """The given texts as HTML paragraphs, empty ones left out.

    Parameters
    ----------
    *paras : str
        HTML texts (escaped already).

    Returns
    -------
    str

    Examples
    --------
    >>> paras("First.", "", None, "Second.")
    '<p>First.</p><p>Second.</p>'
    """
    return "".join(f"<p>{x}</p>" for x in paras if x)


def hypothesis_anchor(hid: str) -> str:
    """The HTML anchor of a hypothesis ('hyp-' and its id, other characters than letters and digits as '-').

    Parameters
    ----------
    hid : str
        The hypothesis id.

    Returns
    -------
    str

    Examples
    --------
    >>> hypothesis_anchor("H1.b")
    'hyp-H1-b'
    """
    return "hyp-" + "".join(c if c.isalnum() else "-" for c in hid)


def trajectory_table(doc: AcademicDoc, row: dict) -> str:
    """The primary model's trajectory (issue #12) when there are three or more waves: the difference in change from
    the first wave at every later wave, the joint test of arm × wave in the note.

    Parameters
    ----------
    doc : the report's numbering (:class:`AcademicDoc`). row : dict
        A results.json ``hypotheses`` row (``trajectory``, ``joint_test``, ``method``).

    Returns
    -------
    str
        HTML; '' with two waves.

    Examples
    --------
    >>> trajectory_table(AcademicDoc([]), {"id": "H1", "trajectory": [{"wave": "T1"}]})
    ''
    """
    traj = row.get("trajectory") or []
    if len(traj) < 2:
        return ""
    t = pd.DataFrame([{"Wave": x["wave"], "Estimate": fmt_num(x["estimate"], 3), "SE": fmt_num(x["se"], 3),
                       "df": fmt_df(x["df"]), "95% CI": fmt_ci(x["ci_low"], x["ci_high"], 3), "p": fmt_p(x["p_value"])}
                      for x in traj])
    j = row.get("joint_test")
    note = (f"Programme minus comparison, change from the first wave, scale points ({esc(row['method'])})." +
            (f" Joint test of arm × wave: <i>F</i>({j['df1']}, {fmt_df(j['df2'])}) = {fmt_num(j['F'], 2)}, "
             f"{fmt_p_eq(j['p_value'])}." if j else ""))
    return doc.table(t, f"Trajectory for {row['id']}", note=note)


def section_sensitivity(doc: AcademicDoc, res: dict) -> str:
    """Sensitivity analyses: the primary estimate beside the other analyses, one table per hypothesis (with the
    trajectory, the Bayes factor, Lord's paradox and the tipping point in its note).

    Parameters
    ----------
    doc, res : the report's numbering (:class:`AcademicDoc`) and a results.json mapping.

    Returns
    -------
    str
        HTML.

    Examples
    --------
    >>> x = dict(analysis="ANCOVA", estimate=0.2, se=0.09, df=77.0, ci_low=0.02, ci_high=0.38, p_value=0.03,
    ...          n_participants=80)
    >>> b = {"bf10": 2.4, "log10_bf10": 0.38, "n_program": 34, "n_control": 35}
    >>> res = {"hypotheses": [{"id": "H1"}], "sensitivity": {"H1": {"rows": [x], "bayes": b}}}
    >>> html = section_sensitivity(AcademicDoc([("sensitivity", "Sensitivity analyses")]), res)
    >>> "<i>Sensitivity analyses for H1</i>" in html, "BF<sub>10</sub> = 2.40 (n = 34 + 35 completers)" in html
    (True, True)
    """
    out = doc.heading("sensitivity") + paras(
        "The primary estimate beside completers-only, ANCOVA, covariate-adjusted, propensity-weighted and (where pairs "
        "or clusters exist) multilevel versions; all in scale points, programme minus comparison. The JZS Bayes factor "
        "(r = .707) compares completers' change scores.")
    for hid, sv in res["sensitivity"].items():
        out += trajectory_table(doc, next((r for r in res["hypotheses"] if r["id"] == hid), {}))
        b = sv["bayes"]
        t = pd.DataFrame([{"Analysis": x["analysis"], "Estimate": fmt_num(x["estimate"], 3), "SE": fmt_num(x["se"], 3),
                           "df": fmt_df(x.get("df")), "95% CI": fmt_ci(x["ci_low"], x["ci_high"], 3),
                           "p": fmt_p(x["p_value"]), "n": fmt_count(x.get("n_participants")),
                           "Note": x.get("note") or "–"} for x in sv["rows"]])
        bf = fmt_bf(b["bf10"], b.get("log10_bf10"))
        if b.get("log10_bf10") is not None and abs(b["log10_bf10"]) > 2:     # the power of ten, even beyond a float
            bf += f" (log<sub>10</sub> BF<sub>10</sub> = {fmt_num(b['log10_bf10'], 1)})"
        note = (f"BF<sub>10</sub> {bf}" if bf[0] in "<>" else f"BF<sub>10</sub> = {bf}") + \
            f" (n = {fmt_count(b['n_program'])} + {fmt_count(b['n_control'])} completers)."
        if sv.get("lords_paradox"):
            note += " " + esc(sv["lords_paradox"])
        if sv.get("tipping_point"):                 # delta-adjusted multiple imputation (issue #12)
            tp, d = sv["tipping_point"], sv["tipping_point"]["tipping"]["programme"]
            note += (f" Missing not at random (delta-adjusted multiple imputation, m = {tp['m']}): under MAR "
                     f"{fmt_num(tp['mar']['estimate'], 3)}, {fmt_p_eq(tp['mar']['p_value'])}; " +
                     (f"the conclusion would change if the programme's dropouts scored {fmt_num(abs(d), 2)} scale points "
                      f"{'lower' if d < 0 else 'higher'} than imputed under MAR." if d is not None else "no shift of the programme's dropouts "
                      "within three baseline SDs changes the conclusion."))
        out += doc.table(t, f"Sensitivity analyses for {hid}", note=note, wrap=("Analysis", "Note"))
    return out


def section_moderation(doc: AcademicDoc, res: dict, codebook) -> str:
    """Moderation and dose–response (exploratory): the tests' table and the simple-slopes figures.

    Parameters
    ----------
    doc, res : the report's numbering (:class:`AcademicDoc`) and a results.json mapping.
    codebook : the codebook, for the outcomes' labels.

    Returns
    -------
    str
        HTML.

    Examples
    --------
    >>> res = {"hypotheses": [{"id": "H1", "outcome": "trust"}],
    ...        "moderation": {"H1": [{"moderator": "age", "kind": "moderation", "estimable": False}]}}
    >>> html = section_moderation(AcademicDoc([("moderation", "Moderation")]), res, None)
    >>> "All 0 moderation and dose–response tests" in html, "not estimable" in html
    (True, True)
    """
    out = doc.heading("moderation") + paras(
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
            label = outcome_label(codebook, outcome.get(hid, hid)).split(" (")[0]
            out += doc.figure(slopes_figure(m, f"{hid}: {label} by {m['moderator'].replace('_', ' ')}"),
                              f"{esc(hid)} × {esc(m['moderator'])} (exploratory): estimate across the moderator with a "
                              f"95% band; simple slopes at the mean and ±1 SD. Source: {esc(m['source'])}.")
    return out


def section_retention(doc: AcademicDoc, res: dict, study, figures_dir=None) -> str:
    """Retention: Kaplan–Meier figures and numbers at risk, Cox models, the proportional-hazards test and cumulative
    incidence, per retention hypothesis.

    Parameters
    ----------
    doc, res : the report's numbering (:class:`AcademicDoc`) and a results.json mapping.
    study : the plan (its ``alpha``). figures_dir : path, optional
        The run's figures (``km_<id>.png``), embedded when present.

    Returns
    -------
    str
        HTML.
    """
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
        out += paras("<b>Proportional hazards.</b> " + ph_sentence(d, study.alpha))
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
            out += paras("Left out of this analysis: " + "; ".join(
                f"{esc(e['reason'])} ({ARM_NAMES.get(e['arm'], e['arm']).lower()}: {fmt_count(e['count'])})"
                for e in d["excluded"]) + ".")
    return out


def section_assumptions(doc: AcademicDoc, res: dict, figures_dir=None) -> str:
    """Assumption checks: residual diagnostics of the mixed models, with their figures.

    Parameters
    ----------
    doc, res : the report's numbering (:class:`AcademicDoc`) and a results.json mapping.
    figures_dir : path, optional
        The run's figures (``residuals_<id>.png``), embedded when present.

    Returns
    -------
    str
        HTML.

    Examples
    --------
    >>> dg = dict(n_large_residuals=3, n_participants_with_large_residuals=2, residual_skew=0.12,
    ...           residual_excess_kurtosis=0.4)
    >>> doc = AcademicDoc([("assumptions", "Assumptions")])
    >>> html = section_assumptions(doc, {"models": {"H1": {"diagnostics": dg}}})
    >>> "<td>H1</td><td>3</td><td>2</td><td>0.12</td><td>0.40</td>" in html
    True
    """
    from pathlib import Path

    out = doc.heading("assumptions") + paras(
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
                                  f"values (right). {_LARGE_RESIDUALS}")
    return out


_LARGE_RESIDUALS = (f"The Q–Q plot of a model of more than {figures.QQ_POINTS:,} residuals shows {figures.QQ_POINTS:,} "
                    f"of its order statistics (every one of the {figures.QQ_POINTS // 8:,} at each end; its title "
                    f"says so), and above {figures.SCATTER_POINTS:,} residuals those against fitted values are drawn "
                    "as a density of hexagonal bins, shaded by the log of their counts.")


def _next_size(nc: dict, hid: str) -> str:
    """The planner's next-cohort size of an open hypothesis (results.json ``next_cohort``), as it computed it."""
    e = (nc.get("hypotheses") or {}).get(hid)
    if not e:
        return "–"
    if is_missing(e["n_per_arm"]):
        return f"more than {e['more_than_factor']} × this cohort" if e.get("more_than_factor") else "not reached"
    return (f"{fmt_count(e['n_per_arm'])} per arm [{fmt_count(e['n_per_arm_ci_low'])}, "
            f"{fmt_count(e['n_per_arm_ci_high'])}] ({e['factor']:.1f} × this cohort)")


def section_power(doc: AcademicDoc, res: dict) -> str:
    """Power and sensitivity: the minimum detectable effects of this cohort and the next cohort's sizes (as the
    planner computed them, results.json ``next_cohort``).

    Parameters
    ----------
    doc, res : the report's numbering (:class:`AcademicDoc`) and a results.json mapping.

    Returns
    -------
    str
        HTML.

    Examples
    --------
    >>> res = {"power": {"H1": {"power": 0.8, "alpha": 0.05, "mde_d": 0.45, "mde_raw": 0.36}}}
    >>> html = section_power(AcademicDoc([("power", "Power")]), res)
    >>> "<td>H1</td><td>80%</td><td>.05</td><td>d = 0.45 (0.360 points)</td><td>–</td>" in html
    True
    """
    rows = []
    nc = res.get("next_cohort") or {}
    for hid, p in res["power"].items():
        if "mde_d" in p:
            mde = f"d = {fmt_num(p['mde_d'])} ({fmt_num(p['mde_raw'], 3)} points)"
        else:
            mde = f"HR = {fmt_num(p.get('mde_hazard_ratio'))}"
        rows.append({"Hypothesis": hid, "Power": f"{100 * p['power']:.0f}%", "α": fmt_r(p["alpha"]),
                     "Minimum detectable effect": mde,
                     "Next cohort for the SESOI": _next_size(nc, hid)})
    note = "Two-sided, unadjusted α, from each model's standard error."
    if nc.get("hypotheses"):
        note += (f" Next cohort (inconclusive hypotheses): participants per arm for which the plan's decision says "
                 f"supported with {100 * nc['target_power']:.0f}% probability at the SESOI, by simulating this "
                 f"design ({fmt_count(nc['n_sims'])} cohorts per size, the run's multiplicity and decision rule, "
                 f"attrition and pre–post correlation), with its 95% Monte-Carlo interval.")
    return doc.heading("power") + doc.table(pd.DataFrame(rows), "Minimum detectable effects of this cohort",
                                            note=note)


def section_methods(doc: AcademicDoc, res: dict, study) -> str:
    """The statistical methods paragraph, to paste into a paper.

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
    >>> res = {"hypotheses": [{"outcome": "retention", "family": "primary"}], "plan_sha256": "ab" * 32,
    ...        "rmstudy_version": "1.0", "environment": {"python": "3.11"}}
    >>> html = section_methods(AcademicDoc([("methods", "Methods")]), res, NS(design=None, raw={}, alpha=0.05))
    >>> html[:89]
    '<h2 id="sec-methods">1. Methods</h2><p>The paragraph below is generated from the plan and'
    """
    return doc.heading("methods") + paras("The paragraph below is generated from the plan and the results; it may be "
                                       "pasted into a paper's method section.", methods_paragraph(res, study))


def section_reproducibility(doc: AcademicDoc, res: dict, study) -> str:
    """Reproducibility: the command that reruns the run, the input files' hashes and the versions.

    Parameters
    ----------
    doc, res : the report's numbering (:class:`AcademicDoc`) and a results.json mapping.
    study : the plan (its ``seed``).

    Returns
    -------
    str
        HTML.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> res = {"parameters": {"cohort_dir": "data/demo", "out_dir": "reports/demo"}, "inputs": {"plan": "ab12"},
    ...        "environment": {"python": "3.11.9", "packages": {"pandas": "2.2.2"}}}
    >>> html = section_reproducibility(AcademicDoc([("reproducibility", "Reproducibility")]), res, NS(seed=7))
    >>> "<code>rmstudy reproduce reports/demo --cohort data/demo</code>" in html
    True
    >>> "<td>pandas</td><td>2.2.2</td>" in html
    True
    """
    cmd = reproduce_command(res)
    p = res.get("parameters", {})
    out = doc.heading("reproducibility") + paras(
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
    """The reference list.

    Parameters
    ----------
    doc, res : the report's numbering (:class:`AcademicDoc`) and a results.json mapping.
    study : the plan (its design).

    Returns
    -------
    str
        HTML.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> res = {"hypotheses": [], "rmstudy_version": "1.0"}
    >>> doc = AcademicDoc([("references", "References")])
    >>> html = section_references(doc, res, NS(design={"assignment": "randomised"}))
    >>> html.count("<li>")
    16
    """
    return doc.heading("references") + references_html(res, study)


def section_appendix(doc: AcademicDoc, res: dict, waves=None) -> str:
    """Appendix: item statistics by scale and wave.

    Parameters
    ----------
    doc, res : the report's numbering (:class:`AcademicDoc`) and a results.json mapping.
    waves : the waves to show, optional (default: those of the items, in order).

    Returns
    -------
    str
        HTML.

    Examples
    --------
    >>> it = dict(scale="trust", item="t1", role="all", wave="T0", n=120, mean=3.4, sd=0.9, r_drop=0.61,
    ...           alpha_if_deleted=0.8)
    >>> html = section_appendix(AcademicDoc([("appendix_items", "Items")]), {"psychometrics": {"items": [it]}})
    >>> html[:48], "<i>Item statistics by scale and wave</i>" in html
    ('<h2 id="sec-appendix_items">Appendix: Items</h2>', True)
    """
    items = res.get("psychometrics", {}).get("items", [])
    waves = list(waves) if waves is not None else list(dict.fromkeys(i["wave"] for i in items))
    t = item_table(items, waves)
    return doc.heading("appendix_items") + paras(
        "Item–rest correlation (r drop) and α if the item is deleted, from pairwise covariances as psych::alpha, for "
        "the whole sample; the same statistics per role are in results.json (psychometrics.items).") + (
        doc.table(t, "Item statistics by scale and wave") if not t.empty else "")
