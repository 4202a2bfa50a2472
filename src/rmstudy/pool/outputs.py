"""What ``rmstudy pool`` writes beside pooled.json, built from pooled.json only (never refits):

* ``figures/forest_<hypothesis>.png``: one forest plot per pooled hypothesis (:func:`plot_forest`);
* ``pooled_table.csv``: the academic table, one row per hypothesis, numbers unrounded (:func:`academic_table`);
* ``academic_summary.html``: that table in APA style, each hypothesis's studies, forest plot, leave-one-out and
  cumulative meta-analyses, the studies left out and why, and the methods in words;
* ``hr/hr_summary.html``: the HR-safe summary (:func:`hr_model`): per question, the verdict across cohorts in
  plain words, how big, how consistent, what a new cohort could expect, and a forest plot. It never shows a group
  below a run's anonymity threshold: a pooled question is left out of it (with the reason) when any of its
  cohorts' results is one that cohort's own HR report must hide (an arm or the population below the threshold,
  or a result that differs from another on the same measure by fewer than that many people) or when a cohort's
  threshold is unknown, because the pooled estimate and the other cohorts' published results would give the
  hidden result back. It shows no head counts at all (counts from several reports could be subtracted).
  Published effects (``--effects``) carry no people and are always shown.

Every HTML page is self-contained (figures inline as SVG) and fetches nothing; user text (study labels, questions,
hypothesis ids) is escaped by :func:`rmstudy.report.escape.html`.
"""

from __future__ import annotations

__all__ = ["plot_forest", "academic_table", "hr_model", "hr_sentences", "render_hr", "render_academic",
           "write_outputs", "slug", "pooled_decision"]

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd


_NULL = {"log_hazard_ratio": 1.0}
_AXIS = {"difference_in_change": "Difference in change (scale points)",
         "d_ppc2": "d_ppc2 (difference in change in baseline SDs)",
         "log_hazard_ratio": "Hazard ratio of voluntary exit (log scale)",
         "as_given": "Effect (as published)"}


def slug(text: str) -> str:
    """A file-name-safe form of a hypothesis key (letters, digits, ``-``, ``_``; at most 60 characters).

    Parameters
    ----------
    text : str

    Returns
    -------
    str
        ``hypothesis`` when nothing usable is left.

    Examples
    --------
    >>> slug("H1: engagement (juniors)"), slug("???")
    ('H1_engagement_juniors', 'hypothesis')
    """
    s = re.sub(r"[^A-Za-z0-9_-]+", "_", str(text)).strip("_")[:60]
    return s or "hypothesis"


def _title(h: dict) -> str:
    return h.get("question") or h.get("label") or str(h["hypothesis"])


def plot_forest(h: dict, ax=None, title: str | None = None):
    """Forest plot of one pooled hypothesis (a pooled.json ``hypotheses`` entry).

    Each study: its estimate (a square sized by its weight) and normal-theory CI at the pooled level (as
    metafor's ``forest``); the pooled estimate as a diamond spanning its CI (the primary test's), and the
    prediction interval as a dashed line under it. Retention is drawn as hazard ratios on a log axis.

    Parameters
    ----------
    h : dict
        A pooled.json ``hypotheses`` entry.
    ax : matplotlib Axes, optional
        Drawn on a new figure when None.
    title : str, optional
        Default: the hypothesis and its question.

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    from rmstudy.report import figures

    studies = h["studies"]
    n = len(studies)
    names = [str(s["study"])[:40] for s in studies]
    pooled_label = f"Pooled ({h['method']}, {'Knapp-Hartung' if h['test'] == 'knha' else 'z test'})"
    if ax is None:
        figures.set_style()
        height = 1.9 + 0.36 * (n + 2)
        _, ax = plt.subplots(figsize=(7.6, height))
        left = min(0.45, 0.03 + 0.0125 * max(len(t) for t in names + [pooled_label, "Heterogeneity"]))
        ax.figure.subplots_adjust(left=left, right=0.70, top=1 - 0.55 / height, bottom=0.75 / height)
    plt.rcParams["text.parse_math"] = False
    log = h["measure"] == "log_hazard_ratio"
    tr = (lambda x: math.exp(x) if x is not None else None) if log else (lambda x: x)
    y = np.arange(n)[::-1] + 2.0
    wmax = max(s["weight"] for s in studies) or 1
    colour = figures.ARM_COLOURS["program"]
    for yi, s in zip(y, studies):
        ax.plot([tr(s["ci_low"]), tr(s["ci_high"])], [yi, yi], color="#333333", lw=1.2)
        ax.plot([tr(s["estimate"])], [yi], "s", ms=4 + 8 * math.sqrt(s["weight"] / wmax), color=colour)
    est, lo, hi = tr(h["estimate"]), tr(h["ci_low"]), tr(h["ci_high"])
    ax.fill([lo, est, hi, est], [0.8, 1.1, 0.8, 0.5], color="#D55E00", zorder=3)
    if h.get("pi_low") is not None and h.get("pi_high") is not None:
        ax.plot([tr(h["pi_low"]), tr(h["pi_high"])], [0.2, 0.2], color="#D55E00", lw=1.2, ls="--")
    ax.axvline(_NULL.get(h["measure"], 0.0), color="#999999", lw=1, zorder=0)
    if log:
        ax.set_xscale("log")
    labels = names + [pooled_label, "Prediction interval" if h.get("pi_low") is not None else "", "Heterogeneity"]
    ax.set_yticks(list(y) + [0.8, 0.2, -0.4], labels)
    ax.set_ylim(-0.8, n + 2.6)
    right = [f"{_num(tr(s['estimate']))} [{_num(tr(s['ci_low']))}, {_num(tr(s['ci_high']))}]  {s['weight']:.1f}%"
             for s in studies]
    right += [f"{_num(est)} [{_num(lo)}, {_num(hi)}]",
              f"[{_num(tr(h['pi_low']))}, {_num(tr(h['pi_high']))}]" if h.get("pi_low") is not None else "",
              f"tau² = {_num(h['tau2'], 3)}, I² = {_num(h.get('i2'), 0)}%, k = {h['k']}"]
    for yy, text in zip(list(y) + [0.8, 0.2, -0.4], right):
        ax.annotate(text, xy=(1.02, yy), xycoords=("axes fraction", "data"), va="center", fontsize=8.5)
    ax.annotate(f"{'HR' if log else 'Estimate'} [{round(100 * h.get('level', 0.95))}% CI]  weight",
                xy=(1.02, n + 2.0), xycoords=("axes fraction", "data"), va="center", fontsize=8.5, weight="bold")
    ax.set_xlabel(_AXIS[h["measure"]])
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    q = h.get("question") or h.get("label")
    ax.set_title((title or (f"{h['hypothesis']}: {q}" if q else f"Pooled effect: {h['hypothesis']}"))[:90], loc="left")
    return ax


def _num(x, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    return f"{x:.{digits}f}".replace("-", "\u2212")


# ---- academic ----------------------------------------------------------------------------------------------------
_TABLE_COLUMNS = ["hypothesis", "outcome", "measure", "k", "method", "test", "estimate", "se", "ci_low", "ci_high",
                  "p_value", "other_test", "other_ci_low", "other_ci_high", "other_p_value", "tau2", "tau2_ci_low",
                  "tau2_ci_high", "i2", "i2_ci_low", "i2_ci_high", "h2", "q", "q_df", "q_p", "pi_low", "pi_high"]


def academic_table(pooled: dict) -> pd.DataFrame:
    """One row per pooled hypothesis, numbers unrounded: the columns of ``pooled_table.csv``
    (``hypothesis, outcome, measure, k, method, test, estimate, se, ci_low, ci_high, p_value, other_test,
    other_ci_low, other_ci_high, other_p_value, tau2, tau2_ci_low, tau2_ci_high, i2, i2_ci_low, i2_ci_high, h2, q,
    q_df, q_p, pi_low, pi_high``).

    Parameters
    ----------
    pooled : dict
        A pooled.json mapping.

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> from rmstudy.pool.core import pool_effects
    >>> from rmstudy.pool.sources import StudyEffect
    >>> es = [StudyEffect(s, "all", y, se, "effects", s) for s, y, se in [("A", .3, .1), ("B", .1, .15), ("C", .25, .12)]]
    >>> t = academic_table(pool_effects(es))
    >>> t.shape
    (1, 27)
    >>> t[["test", "p_value", "other_test", "other_p_value"]].round(4).to_dict("records")
    [{'test': 'knha', 'p_value': 0.0459, 'other_test': 'z', 'other_p_value': 0.0004}]
    """
    rows = []
    for h in pooled["hypotheses"]:
        o = h["other_test"]
        rows.append({**{c: h.get(c) for c in _TABLE_COLUMNS if not c.startswith("other")},
                     "other_test": o["test"], "other_ci_low": o["ci_low"], "other_ci_high": o["ci_high"],
                     "other_p_value": o["p_value"]})
    return pd.DataFrame(rows, columns=_TABLE_COLUMNS)


def _apa_table(pooled: dict) -> pd.DataFrame:
    from rmstudy.report.tables import apa_p, ci, num

    out = []
    lvl = round(100 * pooled["parameters"]["level"])
    for h in pooled["hypotheses"]:
        o = h["other_test"]
        test = "KH" if h["test"] == "knha" else "z"
        other = "KH" if o["test"] == "knha" else "z"
        out.append({
            "Hypothesis": h["hypothesis"], "Measure": h["measure"], "k": h["k"],
            "Estimate": num(h["estimate"], 3), f"{lvl}% CI ({test})": ci(h["ci_low"], h["ci_high"], 3),
            f"p ({test})": apa_p(h["p_value"]), f"{lvl}% CI ({other})": ci(o["ci_low"], o["ci_high"], 3),
            f"p ({other})": apa_p(o["p_value"]),
            "τ² [CI]": f"{num(h['tau2'], 4)} {ci(h['tau2_ci_low'], h['tau2_ci_high'], 4)}",
            "I² % [CI]": f"{num(h['i2'], 1)} {ci(h['i2_ci_low'], h['i2_ci_high'], 1)}",
            "H²": num(h["h2"], 2), "Q (df)": f"{num(h['q'], 2)} ({h['q_df']})", "p (Q)": apa_p(h["q_p"]),
            f"{lvl}% PI": ci(h["pi_low"], h["pi_high"], 3),
        })
    return pd.DataFrame(out)


# ---- HR ----------------------------------------------------------------------------------------------------------
def pooled_decision(h: dict, alpha: float) -> str:
    """``supported`` / ``opposite`` / ``inconclusive`` for a pooled hypothesis (the primary test's p-value against
    alpha, in the plan's expected direction; log hazard ratios are expected to fall when the plan says
    ``increase``). Published effects without a direction: ``supported`` means "a clear effect".

    Parameters
    ----------
    h : dict
        A pooled.json ``hypotheses`` entry (``p_value``, ``direction``, ``measure``, ``estimate``).
    alpha : float

    Returns
    -------
    str

    Examples
    --------
    >>> h = {"p_value": 0.01, "direction": "increase", "measure": "difference_in_change", "estimate": 0.2}
    >>> pooled_decision(h, 0.05), pooled_decision(h, 0.005)
    ('supported', 'inconclusive')
    >>> pooled_decision({**h, "measure": "log_hazard_ratio"}, 0.05)       # more exits under the programme
    'opposite'
    """
    if h["p_value"] is None or h["p_value"] >= alpha:
        return "inconclusive"
    if not h.get("direction"):
        return "supported"
    sign = 1 if h["direction"] == "increase" else -1
    if h["measure"] == "log_hazard_ratio":
        sign = -sign
    return "supported" if np.sign(h["estimate"]) == sign else "opposite"


def _hidden_reason(h: dict, k_override: int | None, conflicts: dict) -> str | None:
    from rmstudy.report.privacy import too_small

    for s in h["studies"]:
        if s["source"] == "effects":
            continue
        k = max([x for x in (s.get("anonymity_threshold"), k_override) if x is not None], default=None)
        if k is None:
            return (f"the anonymity threshold of {s['study']} is not recorded (its study.yaml was not found): give "
                    "--anonymity-threshold")
        row = {"n": {"program": {"participants": s.get("n_program") or 0},
                     "control": {"participants": s.get("n_control") or 0}}}
        why = too_small(row, k)
        if why:
            return f"in {s['study']}, {why}, so its result cannot be shown, nor a pooled result that includes it"
        if (s["study"], h["hypothesis"]) in conflicts:
            return (f"in {s['study']}, its group differs from the group of another result on the same measure by "
                    f"fewer than {k} people, so its result cannot be shown, nor a pooled result that includes it")
    return None


def _conflicts(pooled: dict, k_override: int | None) -> set:
    """(study, hypothesis) pairs that a cohort's own HR report would hide for differencing."""
    from rmstudy.report.privacy import differencing_conflicts

    by_study: dict[str, list[dict]] = {}
    for h in pooled["hypotheses"]:
        for s in h["studies"]:
            if s["source"] == "effects":
                continue
            by_study.setdefault(s["study"], []).append({
                "id": h["hypothesis"], "outcome": h.get("outcome"), "family": "primary",
                "n": {"program": {"participants": s.get("n_program") or 0},
                      "control": {"participants": s.get("n_control") or 0}},
                "_k": max([x for x in (s.get("anonymity_threshold"), k_override) if x is not None], default=None)})
    out = set()
    for study, rows in by_study.items():
        ks = [r["_k"] for r in rows if r["_k"] is not None]
        if ks:
            out |= {(study, hid) for hid in differencing_conflicts(rows, max(ks))}
    return out


def hr_sentences(h: dict, alpha: float) -> list[str]:
    """The plain-language sentences of one pooled question (numbers from pooled.json, rounded here only).

    Parameters
    ----------
    h : dict
        A pooled.json ``hypotheses`` entry.
    alpha : float

    Returns
    -------
    list of str

    Examples
    --------
    >>> from rmstudy.pool.core import pool_effects
    >>> from rmstudy.pool.sources import StudyEffect
    >>> es = [StudyEffect(s, "all", y, se, "effects", s) for s, y, se in [("A", .3, .1), ("B", .1, .15), ("C", .25, .12)]]
    >>> hr_sentences(pool_effects(es)["hypotheses"][0], 0.05)[:2]
    ['Across 3 cohorts: a clear effect.', 'The pooled effect is +0.24 (the data are consistent with anything from +0.01 to +0.47).']
    """
    from rmstudy.report.narrative import VERDICTS, fmt, fmt_range, fmt_signed, size_in_words

    dec = pooled_decision(h, alpha)
    k = h["k"]
    lead = {"supported": VERDICTS["supported"] if h.get("direction") else "a clear effect",
            "opposite": VERDICTS["opposite"], "inconclusive": VERDICTS["inconclusive"]}[dec]
    out = [f"Across {k} cohorts: {lead}."]
    m = h["measure"]
    if m == "log_hazard_ratio":
        hr = h["hazard_ratio"]
        out.append(f"Programme staff left voluntarily at {fmt(hr['estimate'])} times the comparison group's rate "
                   f"(the data are consistent with anything from {fmt_range(hr['ci_low'], hr['ci_high'], signed=False)}).")
    elif m == "d_ppc2":
        out.append(f"Compared with the comparison group, the programme group's change differed by "
                   f"{size_in_words(h['estimate'])} ({fmt_signed(h['estimate'])} standard deviations; the data are "
                   f"consistent with anything from {fmt_range(h['ci_low'], h['ci_high'])}).")
    elif m == "difference_in_change":
        scale = str(h.get("outcome") or "outcome").replace("_", " ")
        out.append(f"Compared with the comparison group, the programme group's {scale} score changed by "
                   f"{fmt_signed(h['estimate'])} points on average (the data are consistent with anything from "
                   f"{fmt_range(h['ci_low'], h['ci_high'])} points).")
    else:
        out.append(f"The pooled effect is {fmt_signed(h['estimate'])} (the data are consistent with anything from "
                   f"{fmt_range(h['ci_low'], h['ci_high'])}).")
    i2 = h.get("i2")
    if i2 is None:
        pass
    elif i2 < 25:
        out.append("The cohorts' results were close to each other" + (
            f", though with only {k} cohorts it is hard to tell how much programmes differ." if k < 5 else "."))
    elif i2 < 75:
        out.append("The cohorts' results differed somewhat from each other.")
    else:
        out.append("The cohorts' results differed a lot from each other: the programme seems to work differently "
                   "in different places.")
    if h.get("pi_low") is not None and h.get("pi_high") is not None:
        if m == "log_hazard_ratio":
            rng = fmt_range(h["hazard_ratio"]["pi_low"], h["hazard_ratio"]["pi_high"], signed=False) + " times the rate"
        else:
            rng = fmt_range(h["pi_low"], h["pi_high"]) + {"difference_in_change": " points",
                                                           "d_ppc2": " standard deviations"}.get(m, "")
        out.append(f"In a new cohort the effect could be anywhere from {rng}.")
    return out


def hr_model(pooled: dict, anonymity_threshold: int | None = None) -> dict:
    """What the HR summary shows: per pooled question its sentences and whether it is shown (and why not).

    Parameters
    ----------
    pooled : dict
        A pooled.json mapping.
    anonymity_threshold : int, optional
        Used beside (the larger of the two) or instead of each run's recorded threshold.

    Returns
    -------
    dict
        ``items`` (one per pooled hypothesis: ``shown``, ``why_hidden``, ``decision``, ``sentences``...), ``alpha``
        and ``anonymity_threshold``.

    Examples
    --------
    >>> from rmstudy.pool.core import pool_effects
    >>> from rmstudy.pool.sources import StudyEffect
    >>> es = [StudyEffect(s, "all", y, se, "effects", s) for s, y, se in [("A", .3, .1), ("B", .1, .15), ("C", .25, .12)]]
    >>> [(i["hypothesis"], i["shown"], i["decision"], len(i["sentences"])) for i in hr_model(pool_effects(es))["items"]]
    [('all', True, 'supported', 4)]
    """
    from rmstudy.report.narrative import population_in_words

    alpha = 1 - pooled["parameters"]["level"]
    conflicts = _conflicts(pooled, anonymity_threshold)
    items = []
    for h in pooled["hypotheses"]:
        why = _hidden_reason(h, anonymity_threshold, conflicts)
        items.append({"hypothesis": h["hypothesis"], "title": _title(h), "shown": why is None, "why_hidden": why,
                      "decision": pooled_decision(h, alpha),
                      "population": population_in_words(h["population"]) if h.get("population") is not None else "",
                      "sentences": hr_sentences(h, alpha) if why is None else [], "k": h["k"]})
    return {"items": items, "alpha": alpha, "anonymity_threshold": anonymity_threshold}


_CSS = ("body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:60rem;margin:2rem auto;"
        "padding:0 1rem;color:#222;line-height:1.45}h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}"
        "table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0}td,th{border-bottom:1px solid #ddd;"
        "padding:.25rem .5rem;text-align:left;vertical-align:top}.note{color:#555;font-size:.9rem}"
        "figure{margin:1rem 0}svg{max-width:100%;height:auto}")


def _page(title: str, body: str) -> str:
    from rmstudy.report.escape import html as esc
    from rmstudy.report.export import CSP

    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{esc(title)}</title>"
            f"<style>{_CSS}</style></head><body>\n{body}\n</body></html>\n")


def _svg(h: dict) -> str:
    from rmstudy.report.figures import to_svg

    ax = plot_forest(h)
    svg = to_svg(ax.figure)
    return svg[svg.find("<svg"):]


def render_hr(pooled: dict, model: dict) -> str:
    """The HR summary page.

    Parameters
    ----------
    pooled : dict
    model : dict
        :func:`hr_model` of ``pooled``.

    Returns
    -------
    str
        A self-contained HTML page (forest plots inline as SVG).
    """
    from rmstudy.report.escape import html as esc

    parts = ["<h1>What the cohorts say together</h1>",
             "<p>This summary combines the results of several cohorts of the reverse-mentoring programme (or of "
             "published studies) into one answer per question. Each cohort counts in proportion to how precise its "
             "result is. It shows no head counts, and no result of a group smaller than a cohort's anonymity "
             "threshold.</p>"]
    by_id = {h["hypothesis"]: h for h in pooled["hypotheses"]}
    for it in model["items"]:
        parts.append(f"<h2>{esc(it['title'])}</h2>")
        if it["population"]:
            parts.append(f"<p class=\"note\">Who: {esc(it['population'])}, programme against comparison group.</p>")
        if not it["shown"]:
            parts.append(f"<p>Not shown: {esc(it['why_hidden'])}.</p>")
            continue
        parts += [f"<p>{esc(s)}</p>" for s in it["sentences"]]
        parts.append(f"<figure>{_svg(by_id[it['hypothesis']])}<figcaption class=\"note\">Each square is one cohort "
                     "(bigger: more precise); the lines show the range its data are consistent with. The diamond is "
                     "the combined answer; the dashed line, what a new cohort could expect.</figcaption></figure>")
    parts.append("<h2>What this does and does not mean</h2><p>Combining cohorts gives a more certain answer than any "
                 "one cohort, but it cannot turn a comparison of people who chose the programme into proof that "
                 "the programme caused the difference. When cohorts differ a lot, the average hides those "
                 "differences: look at the range a new cohort could expect.</p>")
    return _page("Pooled results: HR summary", "\n".join(parts))


def render_academic(pooled: dict) -> str:
    """The academic summary page.

    Parameters
    ----------
    pooled : dict

    Returns
    -------
    str
        A self-contained HTML page (forest plots inline as SVG).
    """
    from rmstudy.report.escape import html as esc
    from rmstudy.report.tables import apa_p, ci, num

    p = pooled["parameters"]
    lvl = round(100 * p["level"])
    test = {"knha": "Knapp–Hartung (t, k − 1 df)", "z": "Wald z"}
    parts = ["<h1>Random-effects meta-analysis</h1>",
             f"<p class=\"note\">rmstudy {esc(pooled['rmstudy_version'])}, {esc(pooled['created'])}. Source: "
             f"{esc(pooled['source'])}. τ² by {esc(p['method'])}"
             f"{' (Fisher scoring as metafor)' if p['method'] == 'REML' else ''}; test of the pooled effect: "
             f"{test[p['test']]} (the {test[p['other_test']]} beside it); τ² CI by the Q-profile method; "
             f"prediction interval: {esc(p['pi_type'])}; {lvl}% intervals. Matched by {esc(p['match'])}; scale "
             f"{esc(p['scale'])}. See docs/pooling.md.</p>"]
    if pooled["hypotheses"]:
        parts.append(_html_table(_apa_table(pooled)))
    for h in pooled["hypotheses"]:
        parts.append(f"<h2>{esc(h['hypothesis'])}: {esc(_title(h))}</h2>")
        parts.append(f"<p class=\"note\">Measure: {esc(h['units'])}. {esc(h['scale_reason'])}.</p>")
        parts.append(f"<figure>{_svg(h)}</figure>")
        st = pd.DataFrame([{"Study": s["study"], "Estimate": num(s["estimate"], 3), "SE": num(s["se"], 3),
                            f"{lvl}% CI": ci(s["ci_low"], s["ci_high"], 3), "Weight %": num(s["weight"], 1),
                            "n (programme, comparison)": "" if s.get("n_program") is None else
                            f"{s['n_program']}, {s['n_control']}", "Date": s.get("order") or ""}
                           for s in h["studies"]])
        parts.append(_html_table(st))
        loo = pd.DataFrame([{"Left out": r["omitted"], "Estimate": num(r["estimate"], 3),
                             f"{lvl}% CI": ci(r["ci_low"], r["ci_high"], 3), "p": apa_p(r["p_value"]),
                             "τ²": num(r["tau2"], 4), "I² %": num(r["i2"], 1)} for r in h["leave_one_out"]])
        parts.append("<h3>Leave-one-out</h3>" + _html_table(loo))
        cum = pd.DataFrame([{"Added": r["added"], "Order": r["order"], "k": r["k"],
                             "Estimate": num(r["estimate"], 3), f"{lvl}% CI": ci(r["ci_low"], r["ci_high"], 3),
                             "p": apa_p(r["p_value"]), "τ²": num(r["tau2"], 4)} for r in h["cumulative"]])
        parts.append(f"<h3>Cumulative (by {esc(h.get('cumulative_order', 'date'))})</h3>" + _html_table(cum))
        if h["notes"]:
            parts.append("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in h["notes"]) + "</ul>")
    if pooled["excluded"]:
        parts.append("<h2>Studies left out</h2>" + _html_table(pd.DataFrame(pooled["excluded"])))
    if pooled["not_pooled"]:
        parts.append("<h2>Not pooled</h2>" + _html_table(pd.DataFrame(pooled["not_pooled"])))
    parts.append(_lmm_section(pooled.get("lmm_cross_check"), lvl))
    return _page("Pooled results: academic summary", "\n".join(parts))


def _lmm_section(cc: dict | None, lvl: int) -> str:
    """The pooled mixed model beside the meta-analysis (``pooled.json`` ``lmm_cross_check``), or how to get it."""
    from rmstudy.report.escape import html as esc
    from rmstudy.report.tables import apa_p, ci, num

    if not cc:
        return ("<p class=\"note\">A pooled mixed model with a cohort random effect (a cross-check on the raw data) "
                "is added when the cohort folders are given: <code>rmstudy pool RUN_DIR... --raw COHORT_DIR...</code>."
                "</p>")
    out = [f"<h2>Cross-check: pooled mixed model</h2><p>{esc(cc['model'])}; the coefficient {esc(cc['term'])} "
           "beside the meta-analysis (random-effects) and the common-effect (inverse-variance) estimate. The model has "
           "one programme effect for all cohorts, so it sits near the common-effect estimate.</p>"]
    if cc["hypotheses"]:
        out.append(_html_table(pd.DataFrame([{
            "Hypothesis": c["hypothesis"], "Cohorts": len(c["studies"]), "LMM estimate": num(c["estimate"], 3),
            f"{lvl}% CI": ci(c["ci_low"], c["ci_high"], 3), "df": num(c["df"], 1), "p": apa_p(c["p_value"]),
            "Cohort variance": num(c["tau2_cohort"], 4), "Meta-analysis": num(c["meta_estimate"], 3),
            "Common effect": num(c["fe_estimate"], 3), "LMM − meta": num(c["difference_from_meta"], 3)}
            for c in cc["hypotheses"]])))
    for x in cc["skipped"]:
        out.append(f"<p class=\"note\">No pooled model for {esc(x['hypothesis'])}: {esc(x['reason'])}.</p>")
    for x in cc["unmatched"]:
        out.append(f"<p class=\"note\">Raw data folder {esc(x['folder'])} not used: {esc(x['reason'])}.</p>")
    return "\n".join(out)


def _html_table(df: pd.DataFrame) -> str:
    from rmstudy.report.escape import html as esc

    head = "".join(f"<th>{esc(c)}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{esc('' if v is None else v)}</td>" for v in r) + "</tr>"
                   for r in df.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_outputs(pooled: dict, out_dir: str | Path, anonymity_threshold: int | None = None) -> dict:
    """Write pooled.json, the forest plots, pooled_table.csv, academic_summary.html and hr/hr_summary.html.

    Parameters
    ----------
    pooled : dict
    out_dir : str or Path
        Created when missing.
    anonymity_threshold : int, optional
        :func:`hr_model`'s.

    Returns
    -------
    dict
        The paths written (``pooled``, ``figures``, ``table``, ``academic``, ``hr``) and ``hr_model``.
    """
    import matplotlib.pyplot as plt

    from rmstudy.pool.core import write_pooled
    from rmstudy.report import figures

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {"pooled": write_pooled(pooled, out_dir), "figures": []}
    used: set[str] = set()
    for h in pooled["hypotheses"]:
        name = slug(h["hypothesis"])
        while name in used:
            name += "_"
        used.add(name)
        ax = plot_forest(h)
        written["figures"].append(figures.save(ax, out_dir, f"forest_{name}"))
        plt.close(ax.figure)
    table = academic_table(pooled)
    for c in ("hypothesis", "outcome"):         # a cell a spreadsheet would run as a formula gets an apostrophe
        table[c] = [("'" + v) if isinstance(v, str) and v.startswith(("=", "+", "-", "@", "\t", "\r")) else v
                    for v in table[c]]
    table.to_csv(out_dir / "pooled_table.csv", index=False, lineterminator="\n")
    written["table"] = out_dir / "pooled_table.csv"
    (out_dir / "academic_summary.html").write_text(render_academic(pooled), encoding="utf-8")
    written["academic"] = out_dir / "academic_summary.html"
    model = hr_model(pooled, anonymity_threshold)
    (out_dir / "hr").mkdir(exist_ok=True)
    (out_dir / "hr" / "hr_summary.html").write_text(render_hr(pooled, model), encoding="utf-8")
    written["hr"] = out_dir / "hr" / "hr_summary.html"
    written["hr_model"] = model
    return written
