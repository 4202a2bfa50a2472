"""The HR report's findings: one question's sentences, table, chart and published numbers (retention or survey).

Split from :mod:`rmstudy.report.hr`, which orders the findings and lays out the page; both share one
:class:`FindingContext` (the run's results, the plan, the codebook, the threshold and the running figure number).
Every number a finding publishes is appended to ``ctx.data`` with what it rests on, for the subtraction-attack tests.
"""

from __future__ import annotations

__all__ = ["FindingContext", "retention_finding", "survey_finding", "moderators_to_show", "privacy_section",
           "svg_item", "cell_means", "baseline_gap", "ARM_WORDS"]

import base64
import math
from dataclasses import dataclass, field

from rmstudy.report import narrative, privacy
from rmstudy.report.narrative import fmt, fmt_range, pct

ARM_WORDS = {"program": "Programme", "control": "Comparison group"}


@dataclass
class FindingContext:
    """What every finding of one HR report reads, and the lists it appends to.

    Attributes
    ----------
    results : results.json. study : the plan. codebook : the codebook.
    k : the anonymity threshold. alpha : the plan's alpha. conf : its confidence level in words ('95%').
    assignment : the design's assignment (for the causal caveat). questions : hypothesis id -> the question HR asked.
    data : every published number, appended. figures : the figures drawn, appended. figure_number : the last figure's.

    Examples
    --------
    >>> row = {"id": "H4", "family": "primary", "outcome": "retention", "population": None, "decision": "supported",
    ...        "effect_size": {"value": 0.5, "ci_low": 0.3, "ci_high": 0.8}, "p_value": 0.001, "p_adjusted": 0.002}
    >>> ctx = FindingContext(results={"hypotheses": [row]}, study=None, codebook=None, k=5, alpha=0.05, conf="95%",
    ...                      assignment="nonrandomised", questions={"H4": "Do people stay?"})
    >>> ctx.next_figure(), ctx.next_figure(), ctx.family_size("primary")
    (1, 2, 1)
    """

    results: dict
    study: object
    codebook: object
    k: int
    alpha: float
    conf: str
    assignment: str
    questions: dict
    data: list = field(default_factory=list)
    figures: list = field(default_factory=list)
    figure_number: int = 0

    def next_figure(self) -> int:
        """The number of the next figure (figures are numbered in the order they appear)."""
        self.figure_number += 1
        return self.figure_number

    def family_size(self, family: str) -> int:
        return sum(r["family"] == family for r in self.results["hypotheses"])


def moderators_to_show(moderation: list[dict], alpha: float, k: int) -> list[dict]:
    """The moderation results HR hears of: planned (not exploratory) and estimable ones whose interaction passes a
    Bonferroni bar over the plan's moderators for that hypothesis, resting on at least k people.

    Parameters
    ----------
    moderation : the hypothesis's moderation results (results.json). alpha : the plan's alpha.
    k : the anonymity threshold.

    Returns
    -------
    list of dict

    Examples
    --------
    >>> ms = [{"moderator": m, "estimable": True, "source": "plan", "n_participants": n, "interaction": {"p_value": p}}
    ...       for m, n, p in [("age_gap", 40, 0.01), ("tenure", 40, 0.04), ("dose", 3, 0.001)]]
    >>> [m["moderator"] for m in moderators_to_show(ms, 0.05, 5)]      # bar: .05 / 3
    ['age_gap']
    """
    planned = [m for m in moderation or [] if m.get("estimable") and "exploratory" not in str(m.get("source", ""))]
    return [m for m in planned if m["interaction"]["p_value"] < alpha / len(planned)
            and int(m.get("n_participants") or 0) >= k]


def svg_item(svg: str, number: int, caption: str, alt: str, name: str) -> dict:
    """A numbered figure of the report: the SVG, its caption and alt text, and a data: URI for the page.

    Parameters
    ----------
    svg : the figure's SVG text. number : its number. caption, alt : its caption and alt text.
    name : its file name (without extension).

    Returns
    -------
    dict
        ``number``, ``caption``, ``alt``, ``svg``, ``name`` and ``src`` (the data: URI).

    Examples
    --------
    >>> item = svg_item("<svg/>", 2, "Retention by group.", "Dot chart.", "retention-h4")
    >>> item["number"], item["src"]
    (2, 'data:image/svg+xml;base64,PHN2Zy8+')
    """
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return {"number": number, "caption": caption, "alt": alt, "svg": svg, "name": name,
            "src": f"data:image/svg+xml;base64,{data}"}


def cell_means(results: dict, hid: str) -> list[dict]:
    """The recorded means by arm and wave of one hypothesis (empty when none were recorded).

    Parameters
    ----------
    results : results.json. hid : the hypothesis id.

    Returns
    -------
    list of dict

    Examples
    --------
    >>> res = {"descriptives": {"cell_means": {"H1": [{"arm": "program", "wave": "T0", "mean": 3.2}]}}}
    >>> cell_means(res, "H1"), cell_means(res, "H2"), cell_means({}, "H1")
    ([{'arm': 'program', 'wave': 'T0', 'mean': 3.2}], [], [])
    """
    return list((results.get("descriptives") or {}).get("cell_means", {}).get(hid) or [])


def baseline_gap(cells: list[dict], wave: str) -> float | None:
    """Programme minus comparison at ``wave`` in pooled standard deviations (None without both arms or SDs).

    Parameters
    ----------
    cells : the cell means (``arm``, ``wave``, ``mean``, ``sd``). wave : the baseline wave.

    Returns
    -------
    float or None

    Examples
    --------
    >>> cells = [{"arm": "program", "wave": "T0", "mean": 3.5, "sd": 0.8}, {"arm": "control", "wave": "T0", "mean": 3.1,
    ...                                                                       "sd": 0.6}]
    >>> round(baseline_gap(cells, "T0"), 3), baseline_gap(cells, "T1")
    (0.566, None)
    """
    by = {c["arm"]: c for c in cells if c["wave"] == wave}
    if set(by) != {"program", "control"}:
        return None
    p, c = by["program"], by["control"]
    if p.get("sd") is None or c.get("sd") is None:
        return None
    s = math.sqrt((p["sd"] ** 2 + c["sd"] ** 2) / 2)
    return (p["mean"] - c["mean"]) / s if s > 0 else None


def retention_finding(ctx: FindingContext, f: dict, r: dict, two_arm: bool) -> None:
    """Fill finding ``f`` of retention row ``r``: answer, caveat, certainty, the retention table and its chart.

    Parameters
    ----------
    ctx : the report's context. f : the finding (``anchor``, ``sentences``), filled in place.
    r : the retention hypothesis row. two_arm : whether the design compares two arms (adds the causal caveat).

    Examples
    --------
    >>> row = {"id": "H4", "family": "primary", "outcome": "retention", "population": None, "decision": "supported",
    ...        "effect_size": {"value": 0.5, "ci_low": 0.3, "ci_high": 0.8}, "p_value": 0.001, "p_adjusted": 0.002}
    >>> ctx = FindingContext(results={"hypotheses": [row]}, study=None, codebook=None, k=5, alpha=0.05, conf="95%",
    ...                      assignment="nonrandomised", questions={"H4": "Do people stay?"})
    >>> f = {"anchor": "h4", "sentences": []}
    >>> retention_finding(ctx, f, row, two_arm=True)
    >>> f["sentences"][0]
    'Among ..., people in the programme resigned at 0.50 times the rate of the comparison group (50% less often).'
    >>> f["table"]["rows"], "figure" in f                  # no Kaplan–Meier rows recorded: no table rows, no chart
    ([], False)
    """
    from rmstudy.report import figures

    results, k, alpha, conf = ctx.results, ctx.k, ctx.alpha, ctx.conf
    assignment, questions, data, figures_out = ctx.assignment, ctx.questions, ctx.data, ctx.figures
    hid, anchor, fsize = r["id"], f["anchor"], ctx.family_size(r["family"])
    f["sentences"].append(narrative.retention_answer(r))
    if two_arm:
        f["caveat"] = narrative.causal_caveat(assignment)
    f["sentences"].append(narrative.retention_certainty(r, alpha, fsize))
    det = (results.get("retention") or {}).get(hid) or {}
    cells = privacy.retention_cells(det.get("km") or [], det.get("cumulative_incidence") or [], k)
    horizons = {c["horizon_days"]: f"{round(c['horizon_days'] / 30.4)} months" for c in cells}
    table_rows = []
    for c in sorted(cells, key=lambda c: (c["horizon_days"], c["group"] != "program")):
        km = next(x for x in det["km"] if x["group"] == c["group"] and x["horizon_days"] == c["horizon_days"])
        data.append({"kind": "retention", "hypothesis": hid, "group": c["group"], "horizon": c["horizon_days"],
                     "n": km["n"], "events": km["events_by_horizon"], "shown": c["shown"],
                     "not_resigned": c["not_resigned"], "still_employed": c["still_employed"]})
        if c["shown"]:
            nr = f"{pct(c['not_resigned'])} ({pct(c['ci_low'])} to {pct(c['ci_high'])})"
            se = pct(c["still_employed"]) if c["still_employed"] is not None else \
                f"not shown (fewer than {k} other leavers)"
        elif km["n"] >= k:     # a count below k is a 'fewer than k' cell, as everywhere in the report
            nr = f"fewer than {k} of {km['n']} had resigned (no rate shown)"
            se = f"not shown (fewer than {k} leavers)"
        else:
            nr = se = f"not shown (fewer than {k} people)"
        table_rows.append([ARM_WORDS[c["group"]], horizons[c["horizon_days"]], nr, se])
    f["table"] = {"caption": f"Retention by group: the share who had not resigned ({conf} range) and the share "
                  "still employed for any reason",
                  "header": ["Group", "After", "Had not resigned", "Still employed (any reason)"],
                  "rows": table_rows}
    if any(c["shown"] for c in cells):
        figures.set_style()
        ax = figures.plot_retention(cells, horizons)
        ax.figure.set_size_inches(6.4, 0.45 * len(cells) + 1.0)
        fig_no = ctx.next_figure()
        alt = "; ".join(f"{ARM_WORDS[c['group']]} after {horizons[c['horizon_days']]}: " +
                        (f"{pct(c['not_resigned'])} had not resigned" if c["shown"] else "not shown")
                        for c in cells)
        f["figure"] = svg_item(figures.to_svg(ax.figure, f"retention-{anchor}"), fig_no,
                                f"{questions[hid]} Share of {narrative.population_in_words(r.get('population'))} "
                                f"who had not resigned, by group, with {conf} ranges. Small groups are not drawn.",
                                f"Dot chart of the share who had not resigned. {alt}.", f"retention-{anchor}")
        figures_out.append(f["figure"])
    f["sentences"].append("‘Had not resigned’ counts everyone who had not left of their own accord; people "
                          "who left for other reasons (for example a contract ending) count as not "
                          "resigned. ‘Still employed’ counts every kind of exit.")


def _survey_text(ctx: FindingContext, f: dict, r: dict, two_arm: bool, scale, cells: list, show_means: bool) -> None:
    """The sentences of a survey finding (answer, caveat, certainty, baseline gap, moderators)."""
    k, alpha = ctx.k, ctx.alpha
    f["sentences"].append(narrative.survey_answer(r, scale))
    if two_arm and r.get("design") != "single_arm":
        f["caveat"] = narrative.causal_caveat(ctx.assignment)
    f["sentences"].append(narrative.survey_certainty(r, alpha, ctx.family_size(r["family"])))
    if show_means and r.get("contrast"):
        gap = baseline_gap(cells, r["contrast"][0])
        s = narrative.baseline_gap_sentence(gap, narrative.scale_words(scale), r["contrast"][0]) \
            if gap is not None else None
        if s:
            f["sentences"].append(s)
    elif cells:
        f["sentences"].append(f"Average scores are not shown: a group answered with fewer than {k} people at "
                              "some survey, and its average could be worked out from the others.")
    for m in moderators_to_show((ctx.results.get("moderation") or {}).get(r["id"]) or [], alpha, k):
        f["sentences"].append(narrative.moderation_sentence(m))


def survey_finding(ctx: FindingContext, f: dict, r: dict, two_arm: bool) -> None:
    """Fill finding ``f`` of survey row ``r``: sentences, the question chart and the % favourable table.

    Parameters
    ----------
    ctx : the report's context. f : the finding (``anchor``, ``sentences``), filled in place.
    r : the survey hypothesis row. two_arm : whether the design compares two arms.
    """
    results, k, data, hid = ctx.results, ctx.k, ctx.data, r["id"]
    scale = ctx.codebook[r["outcome"]]
    cells = cell_means(results, hid)
    show_means = privacy.means_publishable(cells, k)
    for c in cells:
        data.append({"kind": "mean", "hypothesis": hid, "outcome": r["outcome"], "arm": c["arm"],
                     "wave": c["wave"], "n": c["n"], "shown": show_means, "value": c["mean"] if show_means else None})
    _survey_text(ctx, f, r, two_arm, scale, cells, show_means)
    _survey_figure(ctx, f, r, two_arm, scale, cells, show_means)
    _favourable_table(ctx, f, r, scale)


def _survey_figure(ctx: FindingContext, f: dict, r: dict, two_arm: bool, scale, cells: list, show_means: bool) -> None:
    """The question's chart: levels by survey and group (when publishable) and the effect against its band."""
    from rmstudy.report import figures

    alpha, conf, study, anchor = ctx.alpha, ctx.conf, ctx.study, f["anchor"]
    lo90, hi90 = narrative.equivalence_interval(r, alpha)
    band = narrative.equivalence_band(r)
    effect = {"value": r["estimate"], "lo95": r["ci_low"], "hi95": r["ci_high"], "lo90": lo90, "hi90": hi90,
              "decision": r["decision"]}
    rng = f"{fmt(scale.min, 0) if float(scale.min).is_integer() else scale.min} to " \
          f"{fmt(scale.max, 0) if float(scale.max).is_integer() else scale.max}"
    axes = figures.plot_question(
        [c for c in cells] if show_means else None, [w for w in study.waves], (scale.min, scale.max),
        f"Score ({rng}; {narrative.direction_label(scale)})", effect,
        "Programme minus comparison, in points" if two_arm else "Change within the programme, in points",
        band=band, effect_title="Difference in change" if two_arm else "Change within the programme")
    change = "difference in change" if two_arm else "change within the programme"
    fig = axes[1].figure
    fig_no = ctx.next_figure()
    what = narrative.scale_words(scale)
    alt = (f"Average {what} by survey and group, on the full {rng} scale: " + "; ".join(
        f"{ARM_WORDS[c['arm']]} at '{c['wave']}' {fmt(c['mean'])}" for c in cells) + ". ") if show_means else ""
    alt += (f"{change.capitalize()} {narrative.fmt_signed(r['estimate'])} points ({conf} range "
            f"{fmt_range(r['ci_low'], r['ci_high'])})" + (f" against a band of ±{fmt(band)} points" if band else "")
            + ".")
    cap = (f"{scale.label}: " if scale.label else "") + (
        f"average score by survey and group ({conf} ranges, full scale), and the {change} "
        if show_means else f"the {change} ") + \
        f"with its {conf} range (thin) and the range used for 'no meaningful change' (thick), against the band " \
        "set in advance as too small to matter (grey)."
    f["figure"] = svg_item(figures.to_svg(fig, f"question-{anchor}"), fig_no, cap, alt, f"question-{anchor}")
    ctx.figures.append(f["figure"])


def _favourable_table(ctx: FindingContext, f: dict, r: dict, scale) -> None:
    """The % favourable table of a question, only when every cell rests on at least k answers, and when the
    codebook's favourable end is the end the plan hopes for (a scale 'higher = more bias' without ``favourable:
    low`` counted the top answers, more bias, as favourable under a 'clear improvement' verdict)."""
    results, study, k, data, hid = ctx.results, ctx.study, ctx.k, ctx.data, r["id"]
    fav = (results.get("psychometrics") or {}).get("favourable_by_hypothesis", {}).get(hid) or []
    low = getattr(scale, "favourable", "high") == "low" or "at_most" in (getattr(scale, "favourable", None) or "")
    if r.get("direction") in ("increase", "decrease") and low != (r["direction"] == "decrease"):
        return
    if fav and all(int(c["n"]) >= k for c in fav):
        arms_present = [a for a in ("program", "control") if any(c["arm"] == a for c in fav)]
        by = {(c["wave"], c["arm"]): c for c in fav}
        f["table"] = {"caption": f"% favourable: {narrative.favourable_words(scale)}",
                      "header": ["Survey"] + [ARM_WORDS[a] for a in arms_present],
                      "rows": [[w] + [_share(by[(w, a)], k) if (w, a) in by else "–"
                                      for a in arms_present] for w in study.waves
                               if any((w, a) in by for a in arms_present)]}
        for c in fav:
            label = _share(c, k)
            data.append({"kind": "favourable", "hypothesis": hid, "arm": c["arm"], "wave": c["wave"], "n": c["n"],
                         "value": c["percent_favourable"] if label[:1].isdigit() else None, "shown": label})


def _share(cell: dict, k: int) -> str:
    """A % favourable cell as HR sees it (privacy.share_label: a bound near 0% or 100%)."""
    answers = int(cell.get("answers") or 0)
    if answers <= 0:
        return "–"
    return privacy.share_label(round(float(cell["percent_favourable"]) * answers / 100), answers, k)


def privacy_section(findings: list[dict], rows: list[dict], part: dict, k: int) -> list[str]:
    """The privacy section's sentences: the threshold, what is hidden and why, in general terms.

    Parameters
    ----------
    findings : the report's findings (``shown``, ``table``). rows : the hypothesis rows.
    part : the 'Who took part' table with its ``mask``. k : the anonymity threshold.

    Returns
    -------
    list of str

    Examples
    --------
    >>> import pandas as pd
    >>> lines = privacy_section([{"shown": False}], [{"outcome": "trust"}], {"mask": pd.DataFrame({"n": [False]})}, 5)
    >>> len(lines), lines[-1]
    (3, '1 question of the plan is not reported for these reasons.')
    """
    suppressed = [f for f in findings if not f["shown"]]
    lines = [
        f"No group of fewer than {k} people is shown anywhere in this report. Small groups show as ‘fewer than {k}’, "
        "and where a hidden number could be worked out from the numbers shown (a total, or another result on the "
        "same measure), a second number is hidden too.",
        *([f"Retention rates appear only where a group has at least {k} people and at least {k} leavers, so no "
           "one's departure can be dated. No step curves of leaving are drawn."]
          if any(r["outcome"] == "retention" for r in rows) else []),
        "The report holds no names, ids or free-text comments.",
    ]
    bounds = [str(c) for f in findings for r in (f.get("table") or {}).get("rows", []) for c in r
              if str(c).startswith("at ")]
    if bounds:
        lines.append(f"A share of favourable answers within {k - 1} answer{'s' if k > 2 else ''} of none or of all "
                     f"shows as a bound (such as ‘{bounds[0]}’ above), so no one can tell that everyone in a group "
                     "answered alike.")
    if suppressed:
        lines.append(f"{len(suppressed)} question{'s' if len(suppressed) > 1 else ''} of the plan "
                             f"{'are' if len(suppressed) > 1 else 'is'} not reported for these reasons.")
    if part["mask"].to_numpy().any():
        lines.append("Some counts in ‘Who took part’ are hidden, with a second count of the same group where "
                             "its total would give the first back; totals by role are left out there.")
    return lines
