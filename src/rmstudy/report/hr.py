"""The HR report: a report model built from results.json and the plan, rendered by our own template.

``build_report(results, study, codebook)`` returns a plain mapping (the *model*) holding every sentence, table,
figure and footnote the HR report shows, already suppressed; ``render_html(model)`` lays it out with the Jinja2
template ``report/templates/hr_report.html.j2`` (autoescaped: every piece of cohort text is escaped once, there);
``write_hr_folder(run_dir, cohort_dir)`` writes the HR deliverable, a folder holding only ``hr_report.html``,
``hr_report.pdf`` and ``figures/`` (the SVG charts the HTML embeds).

The rules that decide what HR sees are functions of :mod:`rmstudy.report.privacy` (suppression) and of this
module (``moderators_to_show``, ``next_steps``, ``limits``); the words are :mod:`rmstudy.report.narrative`.
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
from rmstudy.report.hr_findings import (ARM_WORDS, FindingContext, moderators_to_show, privacy_section,
                                        retention_finding, survey_finding, svg_item)
from rmstudy.report.narrative import fmt, fmt_range, pct

HR_FILES = ("hr_report.html", "hr_report.pdf")
TEMPLATES = Path(__file__).resolve().parent / "templates"
FAMILY_WORDS = {"primary": "Main question", "secondary": "Further question", "exploratory": "Exploratory question"}


# ---------------------------------------------------------------- rules


def _round_up(n: float, step: int = 10) -> int:
    return int(math.ceil(n / step) * step)


MEETING_WORDS = {"pairs": "time for the pairs to meet", "groups": "time for the groups to meet"}


def next_steps(rows: list[dict], power: dict, hidden: dict, questions: dict, cohort_size: int,
               mentoring: str = "pairs") -> list[str]:
    """What managers can do with the answers: what to keep, what to look into, what to stop expecting, and how
    large the next cohort should be to settle what is open. ``power`` is results.json ``next_cohort.hypotheses``:
    the planner's simulated size per open question (``factor`` times this cohort, ``n_total`` people; rounded up
    to tens here, never recomputed). ``cohort_size`` is kept for callers; the sizes are the planner's.

    Parameters
    ----------
    rows : the hypothesis rows (results.json). power : the planner's sizes by hypothesis id.
    hidden : the ids of hypotheses not shown. questions : id -> the question in words.
    cohort_size : this cohort's size (unused). mentoring : the plan's mentoring design (its meeting words).

    Returns
    -------
    list of str
        One paragraph per kind of step.

    Examples
    --------
    >>> rows = [{"id": "H1", "family": "primary", "decision": "supported"},
    ...         {"id": "H2", "family": "primary", "decision": "inconclusive"}]
    >>> steps = next_steps(rows, {"H2": {"factor": 2.4, "n_total": 113}}, {}, {"H1": "Trust?", "H2": "Voice?"}, 50)
    >>> [s.split(":")[0] for s in steps], "roughly 120 people" in steps[1]
    (['Keep', 'Try again, larger'], True)
    """
    keep, fix, same, open_, within = [], [], [], [], []
    for r in rows:
        if r["id"] in hidden or r["family"] == "exploratory":
            continue
        q = questions[r["id"]]
        if r["decision"] == "supported" and r.get("design") == "single_arm":
            within.append((r, q))
            continue
        {"supported": keep, "opposite": fix, "equivalent": same, "inconclusive": open_}[r["decision"]].append((r, q))
    out = []
    if within:       # no comparison group: a change within the programme is not the programme's doing
        out.append("Improved within the programme: " + _join([f"“{q}”" for _, q in within]) + ". With no comparison "
                   "group the study cannot tell whether the programme caused this; keep the programme's strong points "
                   "and add a comparison group (for example people waiting for the next round) to find out.")
    if keep:
        out.append("Keep: the programme clearly helped on " + _join([f"“{q}”" for _, q in keep]) +
                   f". Protect what made it work ({MEETING_WORDS.get(mentoring, 'time to take part')}, sponsor "
                   "support) in the next round.")
    if fix:
        out.append("Look into: " + _join([f"“{q}”" for _, q in fix]) + " moved the wrong way. Talk with "
                   "participants and their managers before the next cohort starts, and change the programme there.")
    if same:
        out.append("Do not expect the programme alone to move " + _join([f"“{q}”" for _, q in same]) +
                   ": the study found no meaningful change. If that matters, try something aimed at it directly.")
    sizes = []
    for r, q in open_:
        size = power.get(r["id"]) or {}
        f = size.get("factor") or size.get("more_than_factor")     # the planner's: no size up to that factor did
        if f and math.isfinite(f):
            sizes.append((r, q, f))
    settle = [(r, q, f) for r, q, f in sizes if f <= 10]
    too_big = [(r, q, f) for r, q, f in sizes if f > 10]
    if settle:
        f = max(f for _, _, f in settle)
        people = max(power[r["id"]]["n_total"] for r, _, _ in settle)        # the largest size the planner found
        out.append("Try again, larger: " + _join([f"“{q}”" for _, q, _ in settle]) + " cannot be answered yet. "
                   f"A next cohort about {fmt(max(1.0, f), 1)} times this one (roughly {_round_up(people)} "
                   "people, with the same surveys" + ("" if all(r.get("design") == "single_arm" for r, _, _ in settle)
                                                       else " and a similar comparison group") +
                   ") would be large enough to settle "
                   + ("it." if len(settle) == 1 else "them."))
    if too_big:
        out.append(_join([f"“{q}”" for _, q, _ in too_big]) + " would need more than ten times this cohort to "
                   "settle: pool several cohorts (the academic report lists what to combine) rather than wait for one.")
    elif open_ and not sizes:
        out.append(_join([f"“{q}”" for _, q in open_]) + " cannot be answered yet; a larger cohort would help.")
    if not out:
        out.append("There is nothing to act on yet: no question has a result that can be shown.")
    return out


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def limits(results: dict, study, assignment: str, shown_rows: list[dict], k: int) -> list[tuple[str, str]]:
    """What the results do and do not mean: (title, sentence) pairs built from the design and results.json.

    Parameters
    ----------
    results : results.json. study : the plan. assignment : the design's assignment.
    shown_rows : the hypothesis rows shown. k : the anonymity threshold.

    Returns
    -------
    list of (str, str)
    """
    out = []
    caveat = narrative.causal_caveat(assignment)
    single = bool(shown_rows) and all(r.get("design") == "single_arm" for r in shown_rows if r["outcome"] != "retention")
    if single:
        out.append(("There was no comparison group.", "Every result is a change within the programme. Such a change "
                    "may have happened anyway (a company-wide event, the time of year, people answering a survey a "
                    "second time), so it cannot be credited to the programme."))
    elif caveat:
        out.append(("People chose to join.", "Participants were not assigned at random, so those who joined may "
                    "differ from those who did not. Comparing change over the same period removes stable "
                    "differences between the groups, but not all of them."))
    offsets = study.raw.get("wave_offsets_days") or {}
    last = study.waves[-1]
    when = f" (about {round(offsets[last] / 30.4)} months after the start)" if last in offsets and offsets[last] > 0 else ""
    out.append(("Follow-up is short.", f"The last survey was '{last}'{when}; effects that take longer to show are "
                "not measured."))
    att = results.get("attrition") or {}
    table = att.get("table") or []
    enrolled = sum(int(t["enrolled"]) for t in table)
    drop = sum(int(t["dropouts"]) for t in table)
    if enrolled:
        if drop == 0:
            share = "Everyone answered the last survey."
        elif drop < k:
            share = f"Fewer than {k} participants missed the last survey."
        else:
            share = f"About {pct(drop / enrolled)} of participants missed the last survey."
        out.append(("Not everyone answered every survey.", share + " The analysis keeps everyone's available "
                    "answers, which is sound if missing answers relate only to what we already know about people."))
    mde = [p["mde_d"] for hid, p in (results.get("power") or {}).items()
           if "mde_d" in p and hid in {r["id"] for r in shown_rows}]
    if mde:
        lo, hi = min(mde), max(mde)
        span = fmt(lo) if fmt(lo) == fmt(hi) else f"{fmt(lo)} to {fmt(hi)}"
        out.append(("Small effects can be missed.", f"With this many people, the study could reliably detect "
                    f"differences of about {span} standard deviations; smaller real effects may show as 'too "
                    "uncertain to say'."))
    return out


def participation(results: dict, study, k: int) -> dict:
    """Who took part: counts by role and group (suppressed), response rates per survey, the comparison group and
    the starting differences above 0.1 SD.

    Parameters
    ----------
    results : results.json. study : the plan. k : the anonymity threshold.

    Returns
    -------
    dict
        ``table``, ``mask``, ``totals``, ``rates``, ``comparison``, ``single_arm``, ``gaps`` and ``shares``.
    """
    rates = results.get("descriptives", {}).get("response_rates") or []
    first = [r for r in rates if r["wave"] == study.waves[0]]
    roles = sorted({str(r.get("role")) for r in first if r.get("role") not in (None, "")}) or ["everyone"]
    arms = [a for a in ("program", "control") if any(r["arm"] == a and r["enrolled"] for r in first)]
    import pandas as pd

    counts = pd.DataFrame(0, index=roles, columns=arms, dtype=int)
    for r in first:
        if r["arm"] in arms:
            counts.loc[str(r.get("role")) if r.get("role") not in (None, "") else "everyone", r["arm"]] += int(r["enrolled"])
    shown, mask = privacy.suppress_counts(counts, k)
    totals = True
    if mask.to_numpy().any():
        # an arm's size is public (every rate and share is a fraction of it): arm totals shown, each arm's column
        # suppressed against its total, no row totals (they would give a hidden cell back across arms)
        shown, mask = privacy.suppress_by_column(counts, k)
        totals = "columns"
    header = ["Role"] + [ARM_WORDS[a] for a in shown.columns if a in ARM_WORDS] + (["Total"] if totals is True else [])
    body = []
    for idx, row in shown.iterrows():
        name = "Total" if idx == "Total" else ("Everyone" if idx == "everyone" else str(idx).capitalize())
        body.append([name] + [str(v) for v in row.tolist()])
    if len(roles) == 1 and totals is True:
        body = body[:1]                     # one role (or none recorded): its row is the total
    table = {"caption": "People enrolled, by role and group", "header": header, "rows": body}
    lines = []
    for w in study.waves:
        for arm in arms:
            g = [r for r in rates if r["wave"] == w and r["arm"] == arm]
            enrolled = sum(int(r["enrolled"]) for r in g)
            responded = sum(int(r["responded"]) for r in g)
            who = ARM_WORDS[arm].lower() if arm == "control" else "programme"
            if enrolled < k or responded < k:
                lines.append({"text": f"Survey '{w}', {who}: fewer than {k} people, so not shown.", "low": False})
                continue
            if 0 < enrolled - responded < k:
                lines.append({"text": f"Survey '{w}', {who}: all but fewer than {k} people answered.", "low": False})
                continue
            rate = responded / enrolled
            low = rate < study.low_response_rate
            lines.append({"text": f"Survey '{w}', {who}: {pct(rate)} answered" +
                          (f" (low: below {pct(study.low_response_rate)})" if low else "") + ".", "low": low})
    gaps = []
    cand = [b for b in (results.get("baseline") or {}).get("table") or []
            if b.get("smd") is not None and abs(b["smd"]) > 0.1 and "(baseline)" not in b["variable"]]
    arm_n = {a: int(counts[a].sum()) for a in arms}
    shares_ok = privacy.publishable_shares(cand, arm_n, k, arms=tuple(arms))
    shares: list[dict] = []
    for b in cand:
        if min(int(b.get("program_n") or 0), int(b.get("control_n") or 0)) < k:
            continue
        if b["kind"] == "share" and b["variable"] not in shares_ok:
            continue
        var = b["variable"]
        if b["kind"] == "share":
            col, _, val = var.partition(" = ")
            shares += [{"kind": "share", "variable": var, "arm": a, "count": int(b.get(f"{a}_n") or 0), "arm_n": arm_n[a]}
                       for a in arms]
            gaps.append(f"Share with {col.replace('_', ' ')} {val}: {pct(b['program_mean'])} in the programme, "
                        f"{pct(b['control_mean'])} in the comparison group ({fmt(abs(b['smd']))} standard deviations apart).")
        else:
            gaps.append(f"Average {var.replace('_', ' ')}: {fmt(b['program_mean'], 1)} in the programme, "
                        f"{fmt(b['control_mean'], 1)} in the comparison group ({fmt(abs(b['smd']))} standard deviations apart).")
    comparison = None if "control" not in arms else (study.comparison_group or "Staff who did not take part in the programme.")
    return {"table": table, "mask": mask, "totals": totals, "rates": lines, "comparison": comparison,
            "single_arm": "control" not in arms, "gaps": gaps, "shares": shares}


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
    if adj in (None, "none", "none (exploratory)"):
        return base + "; exploratory, not adjusted for other questions."
    if family_size <= 1:
        return base + f"; the only question of this family, so the adjustment for several questions ({adj}) " \
                      "leaves it unchanged."
    if not adjusted_ok:
        return base + f"; the verdict allowed for all {family_size} questions of this family ({adj}), whose adjusted " \
                      "value is not printed because a result of the family is not shown."
    return base + f"; adjusted for the {family_size} questions of this family ({adj}): {p_is(r['p_adjusted'])}."


def build_report(results: dict, study, codebook) -> dict:
    """The HR report's content, suppressed and worded, from results.json, the plan and the codebook."""
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
