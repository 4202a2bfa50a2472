"""The HR report: a report model built from results.json and the plan, rendered by our own template.

``build_report(results, study, codebook)`` returns a plain mapping (the *model*) holding every sentence, table,
figure and footnote the HR report shows, already suppressed; ``render_html(model)`` lays it out with the Jinja2
template ``report/templates/hr_report.html.j2`` (autoescaped: every piece of cohort text is escaped once, there);
``write_hr_folder(run_dir, cohort_dir)`` writes the HR deliverable, a folder holding only ``hr_report.html``,
``hr_report.pdf`` and ``figures/`` (the SVG charts the HTML embeds).

The rules that decide what HR sees are functions of :mod:`rmstudy.report.privacy` (suppression), of
:mod:`rmstudy.report.hr_findings` (``moderators_to_show``) and of :mod:`rmstudy.report.hr_rules` (``next_steps``,
``limits``, ``participation``; re-exported here); the words are :mod:`rmstudy.report.narrative`.
Nothing here knows a hypothesis id, a scale or a wave of the demo: the plan and the codebook name them.

``model["data"]`` lists every number the report publishes, with what it rests on (arm sizes, cell sizes), so a
test can try subtraction attacks on the published values alone.
"""

from __future__ import annotations

__all__ = ["build_report", "render_html", "render_fragment", "write_hr_folder", "moderators_to_show", "next_steps",
           "limits", "participation", "load_inputs", "HR_FILES"]

import math
import textwrap
from pathlib import Path

from rmstudy.report import narrative, privacy
from rmstudy.report.hr_findings import (FindingContext, moderators_to_show, privacy_section, retention_finding,
                                        survey_finding, svg_item)
from rmstudy.report.hr_rules import limits, next_steps, participation
from rmstudy.report.narrative import fmt, fmt_range

HR_FILES = ("hr_report.html", "hr_report.pdf")
TEMPLATES = Path(__file__).resolve().parent / "templates"
FAMILY_WORDS = {"primary": "Main question", "secondary": "Further question", "exploratory": "Exploratory question"}


# ---------------------------------------------------------------- figures


def _wrap(s: str, width: int = 34) -> str:
    return "\n".join(textwrap.wrap(s, width)[:3])


def _toward_goal(row: dict, expected_sign: int, alpha: float) -> dict:
    """A survey effect in standard deviations, signed so that positive is the direction the plan hoped for."""
    es = row["effect_size"]
    scale = es["value"] / row["estimate"] if row["estimate"] else 1.0 / float(row.get("baseline_sd") or 1.0)
    lo90, hi90 = narrative.equivalence_interval(row, alpha)
    lo90, hi90 = sorted((lo90 * scale, hi90 * scale))
    band = narrative.equivalence_band(row)
    item = {"value": es["value"], "lo95": es["ci_low"], "hi95": es["ci_high"], "lo90": lo90, "hi90": hi90,
            "decision": row["decision"], "band": abs(band * scale) if band else None}
    if expected_sign < 0:
        item.update(value=-item["value"], lo95=-item["hi95"], hi95=-item["lo95"], lo90=-item["hi90"], hi90=-item["lo90"])
    return item


def _effects_figure(shown: list[dict], study, alpha: float, questions: dict, number: int) -> dict | None:
    import matplotlib.pyplot as plt

    from rmstudy.report import figures

    surveys = [r for r in shown if r["outcome"] != "retention"]
    rets = [r for r in shown if r["outcome"] == "retention"]
    if not surveys and not rets:
        return None
    figures.set_style()
    conf = f"{round(100 * (1 - alpha))}%"      # the plan's alpha sets every interval in results.json
    heights = [max(len(surveys), 1) * 0.62 + 0.9 if surveys else 0, len(rets) * 0.62 + 0.9 if rets else 0]
    heights = [h for h in heights if h]
    fig, axes = plt.subplots(len(heights), 1, figsize=(7.4, sum(heights) + 0.2),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    axes = list(axes[:, 0])
    alt = []
    if surveys:
        items = []
        for r in surveys:
            it = _toward_goal(r, study.hypothesis(r["id"]).expected_sign, alpha)
            it["label"] = _wrap(questions[r["id"]])
            items.append(it)
            alt.append(f"{questions[r['id']]}: {fmt_signed_sd(it['value'])} standard deviations toward the goal "
                       f"({conf} range {fmt_range(it['lo95'], it['hi95'])}), {narrative.verdict(r['decision'])}")
        within = all(r.get("design") == "single_arm" for r in surveys)
        figures.plot_effects(items, ("Change within the programme" if within else "Difference in change") +
                             ", in standard deviations\n← away from the goal · toward the "
                             "goal →", ax=axes[0])
    if rets:
        items = []
        for r in rets:
            es = r["effect_size"]
            lo90, hi90 = narrative.equivalence_interval(r, alpha)
            band = r.get("sesoi")
            items.append({"label": _wrap(questions[r["id"]]), "value": es["value"], "lo95": es["ci_low"],
                          "hi95": es["ci_high"], "lo90": math.exp(lo90), "hi90": math.exp(hi90),
                          "decision": r["decision"], "band": band})
            alt.append(f"{questions[r['id']]}: rate of resigning {fmt(es['value'])} times the comparison group's "
                       f"({conf} range {fmt_range(es['ci_low'], es['ci_high'], signed=False)}), "
                       f"{narrative.verdict(r['decision'])}")
        figures.plot_effects(items, "Rate of resigning, programme ÷ comparison group (log scale)\n← fewer "
                             "resignations in the programme · more →", ax=axes[-1], log=True)
    total = sum(heights) + 0.2
    fig.subplots_adjust(left=0.38, right=0.97, top=1 - 0.15 / total, bottom=0.85 / total,
                        hspace=1.1 / (total / len(heights)))
    svg = figures.to_svg(fig, "effects")
    caption = (f"Every result at a glance. Dots: the estimate; thin line: {conf} range; thick line: the "
               f"{round(100 * (1 - 2 * alpha))}% range used to judge 'no meaningful change'; grey band: changes the "
               "study set in advance as too small to matter. Colours follow the verdicts.")
    return svg_item(svg, number, caption, "Chart of every result. " + "; ".join(alt) + ".", "effects")


def fmt_signed_sd(x: float) -> str:
    return narrative.fmt_signed(x)


# ---------------------------------------------------------------- the model


def _p_note(r: dict, family_size: int, adjusted_ok: bool) -> str:
    from rmstudy.report.tables import apa_p

    def p_is(p) -> str:             # "p = .041", "p < .001" (never "p = < .001")
        v = apa_p(p)
        return f"p {v}" if v.startswith("<") else f"p = {v}"

    base = f"{p_is(r['p_value'])} (two-sided)"
    adj = r.get("adjustment")
    if adj in narrative.UNADJUSTED:
        return base + "; exploratory, not adjusted for other questions."
    if family_size <= 1:
        return base + f"; the only question of this family, so the adjustment for several questions ({adj}) " \
                      "leaves it unchanged."
    if not adjusted_ok:
        return base + f"; the verdict allowed for all {family_size} questions of this family ({adj}), whose adjusted " \
                      "value is not printed because a result of the family is not shown."
    return base + f"; adjusted for the {family_size} questions of this family ({adj}): {p_is(r['p_adjusted'])}."


def _findings(ctx: FindingContext, rows: list[dict], hidden: dict, plan_order: dict, family_size: dict,
              adjusted_ok: dict, footnotes: list[str], fig_no: int) -> tuple[list[dict], list[dict]]:
    """(cards, findings) of every hypothesis row in order: hidden ones with their reason, shown ones worded and
    drawn (their footnote appended to ``footnotes``, their published numbers to ``ctx.data``)."""
    questions, data, assignment = ctx.questions, ctx.data, ctx.assignment
    cards, findings = [], []
    for r in rows:
        hid = r["id"]
        anchor = f"q-{plan_order.get(hid, 0) + 1}"
        f = {"id": hid, "anchor": anchor, "question": questions[hid], "family": FAMILY_WORDS.get(r["family"], ""),
             "shown": hid not in hidden, "reason": hidden.get(hid), "sentences": [], "caveat": None, "table": None,
             "figure": None, "note": None, "kind": "retention" if r["outcome"] == "retention" else "survey"}
        if hid in hidden:
            f["reason_text"] = f"Not reported: {hidden[hid]}."
            findings.append(f)
            if r["family"] == "primary":
                cards.append({**f, "verdict": None, "change": None, "uncertainty": None})
            continue
        f["verdict"] = {"key": r["decision"], **narrative.VERDICT_STYLE[r["decision"]]}
        fsize = family_size.get(r["family"], 1)
        footnotes.append(_p_note(r, fsize, adjusted_ok.get(r["family"], True)))
        f["note"] = len(footnotes)
        sizes = privacy.arm_sizes(r)
        data.append({"kind": "result", "hypothesis": hid, "outcome": r["outcome"], "arms": sizes,
                     "estimate": r["estimate"], "p_adjusted_shown": adjusted_ok.get(r["family"], True)})
        two_arm = len(sizes) == 2
        ctx.figure_number = fig_no
        if r["outcome"] == "retention":
            retention_finding(ctx, f, r, two_arm)
        else:
            survey_finding(ctx, f, r, two_arm)
        fig_no = ctx.figure_number
        findings.append(f)
        if r["family"] == "primary":
            cards.append({**f, "change": f["sentences"][0], "uncertainty": f["sentences"][1],
                          "caveat": narrative.causal_caveat(assignment, short=True) if f["caveat"] else None})
    return cards, findings


def build_report(results: dict, study, codebook) -> dict:
    """The HR report's content, suppressed and worded, from results.json, the plan and the codebook.

    Parameters
    ----------
    results : results.json. study : the plan. codebook : the codebook.

    Returns
    -------
    dict
        The report model: ``cards``, ``effects``, ``participation``, ``findings``, ``limits``, ``next_steps``,
        ``privacy``, ``footnotes``, ``figures`` (SVG), ``hidden`` and ``data`` (every published number, with what it
        rests on), beside the title block's fields.
    """
    import matplotlib.pyplot as plt

    k = int(study.anonymity_threshold)
    alpha = float(study.alpha)
    conf = f"{round(100 * (1 - alpha))}%"      # the plan's alpha sets every interval in results.json
    assignment = str((study.raw.get("design") or {}).get("assignment", "nonrandomised"))
    rows = list(results["hypotheses"])
    plan_order = {h.id: i for i, h in enumerate(study.hypotheses)}
    rows.sort(key=lambda r: (privacy.FAMILY_RANK.get(r["family"], 3), plan_order.get(r["id"], 99)))
    hidden = privacy.hidden_hypotheses(rows, k)
    adjusted_ok = privacy.adjusted_p_shown(rows, set(hidden))
    questions = {r["id"]: (r.get("question") or r["label"]).strip() for r in rows}
    family_size = {f: sum(r["family"] == f for r in rows) for f in privacy.FAMILY_RANK}
    shown = [r for r in rows if r["id"] not in hidden]
    data: list[dict] = []
    footnotes: list[str] = []
    fig_no = 0
    figures_out = []

    effects = _effects_figure(shown, study, alpha, questions, fig_no + 1)
    if effects:
        fig_no += 1
        figures_out.append(effects)

    ctx = FindingContext(results=results, study=study, codebook=codebook, k=k, alpha=alpha, conf=conf,
                         assignment=assignment, questions=questions, data=data, figures=figures_out)
    cards, findings = _findings(ctx, rows, hidden, plan_order, family_size, adjusted_ok, footnotes, fig_no)
    plt.close("all")
    part = participation(results, study, k)
    data.append({"kind": "count_table", "name": "who took part", "mask": part["mask"], "totals": part["totals"]})
    data += part["shares"]
    cohort_size = sum(int(r["enrolled"]) for r in (results.get("descriptives") or {}).get("response_rates") or []
                      if r["wave"] == study.waves[0])
    privacy_lines = privacy_section(findings, rows, part, k)
    return {
        "title": "Reverse mentoring: what the programme achieved",
        "study_name": study.name, "cohort": results.get("cohort", ""), "created": str(results.get("created", ""))[:10],
        "version": results.get("rmstudy_version", ""), "plan_hash": str(results.get("plan_sha256", ""))[:12],
        "k": k, "alpha": alpha, "assignment": assignment,
        "cards": cards, "effects": effects, "participation": part, "findings": findings,
        "limits": limits(results, study, assignment, shown, k),
        "next_steps": next_steps(rows, (results.get("next_cohort") or {}).get("hypotheses") or {}, hidden, questions,
                                 cohort_size,
                                 str((study.raw.get("design") or {}).get("mentoring", "pairs"))),
        "privacy": privacy_lines, "footnotes": footnotes, "figures": figures_out, "data": data,
        "hidden": hidden,
    }


# ---------------------------------------------------------------- rendering and files


def _env():
    import jinja2

    from rmstudy.report import escape

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["e_text"] = escape.html       # the one helper (Jinja's autoescape calls the same markupsafe.escape)
    env.filters["keep_p"] = _keep_p_together
    return env


def _keep_p_together(text: str):
    """Escaped ``text`` with each "p = .052" / "p < .001" kept on one line (the PDF renderer would otherwise
    break "p = ." from "052")."""
    import re

    import markupsafe

    from rmstudy.report import escape

    return markupsafe.Markup(re.sub(r"p (?:=|&lt;) \.\d+", lambda m: f'<span class="nb">{m.group(0)}</span>',
                                    escape.html(text)))


def render_html(model: dict) -> str:
    """The complete HR report page (HTML with its screen and print stylesheets, figures embedded).

    Parameters
    ----------
    model : the report's content (:func:`build_report`).

    Returns
    -------
    str
    """
    from rmstudy.report.export import CSP

    return _env().get_template("hr_report.html.j2").render(m=model, csp=CSP, fragment=False)


def render_fragment(model: dict) -> str:
    """The report's body and styles only, for display inside a notebook.

    Parameters
    ----------
    model : the report's content (:func:`build_report`).

    Returns
    -------
    str
    """
    return _env().get_template("hr_report.html.j2").render(m=model, csp="", fragment=True)


def load_inputs(run_dir: Path, cohort_dir: Path):
    """results.json of the run, and the plan and codebook of the cohort.

    Parameters
    ----------
    run_dir : the run folder. cohort_dir : the cohort folder.

    Returns
    -------
    tuple
        ``(results, study, codebook)``.
    """
    from rmstudy.contract.codebook import load_codebook
    from rmstudy.contract.study import load_study
    from rmstudy.results.assemble import load_results

    codebook = load_codebook(Path(cohort_dir) / "codebook.yaml")
    study = load_study(Path(cohort_dir) / "study.yaml", codebook)
    results = load_results(Path(run_dir))
    return results, study, codebook


def write_hr_folder(run_dir: Path, cohort_dir: Path) -> Path:
    """Write the HR deliverable: ``run_dir/hr/`` with ``hr_report.html`` (self-contained: figures embedded),
    ``hr_report.pdf`` and ``figures/*.svg``, and nothing else (a stale folder is replaced). Returns the folder.

    Parameters
    ----------
    run_dir : the run folder (holds results.json). cohort_dir : the cohort folder (plan and codebook).

    Returns
    -------
    pathlib.Path
    """
    import shutil

    from rmstudy.report.export import pdf_from_string

    results, study, codebook = load_inputs(run_dir, cohort_dir)
    model = build_report(results, study, codebook)
    out = Path(run_dir) / "hr"
    shutil.rmtree(out, ignore_errors=True)
    (out / "figures").mkdir(parents=True)
    html = render_html(model)
    (out / "hr_report.html").write_text(html, encoding="utf-8")
    for fig in model["figures"]:
        (out / "figures" / f"figure-{fig['number']}-{fig['name']}.svg").write_text(fig["svg"], encoding="utf-8")
    pdf_from_string(html, out / "hr_report.pdf")
    return out
