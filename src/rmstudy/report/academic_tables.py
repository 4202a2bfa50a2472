"""Tables and sentences of the academic report on the plan, the design, the descriptives and the measurement,
each built from results.json (or, for the survey dates, the analysis cohort) by a tested function.

The baseline and attrition parts are :mod:`rmstudy.report.academic_baseline`; the results' tables and sentences are
:mod:`rmstudy.report.academic_results` (re-exported here, where they used to live)."""

from __future__ import annotations

__all__ = ["population_label", "plan_table", "fielded_dates", "design_paragraphs", "outcome_label",
           "descriptives_table", "hypothesis_table", "result_sentence", "e_value", "e_value_sentence",
           "model_sentence", "moderation_statement", "moderation_table", "ph_sentence", "uptake_sentence",
           "reliability_table", "item_table"]

import pandas as pd

from rmstudy.report.academic_format import ARM_NAMES, ARMS, esc, fmt_ci, fmt_count, fmt_num, fmt_r
from rmstudy.report.academic_refs import guideline
from rmstudy.report.academic_results import (e_value, e_value_sentence, hypothesis_table, model_sentence,
                                             moderation_statement, moderation_table, ph_sentence, result_sentence)

# --------------------------------------------------------------------------------------------- plan & design
def population_label(population: dict | None) -> str:
    """A hypothesis's population in words: 'everyone', 'role = junior', 'role = junior, age ≤ 35'.

    Parameters
    ----------
    population : dict or None
        The plan's ``population`` of a hypothesis (column -> value, list of values, or ``age: {min, max}``).

    Returns
    -------
    str

    Examples
    --------
    >>> population_label(None)
    'everyone'
    >>> population_label({"role": "junior", "age": {"max": 35}, "site": ["A", "B"]})
    'role = junior, age ≤ 35, site in {A, B}'
    """
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
    """The plan's hypotheses as a table (human column names).

    Parameters
    ----------
    study : the plan (its ``hypotheses``).

    Returns
    -------
    DataFrame
        Columns ID, Hypothesis, Outcome, Population, Contrast, Expected, Family and SESOI.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> h = NS(id="H1", label="Trust rises", outcome="trust", population=None, contrast=["T0", "T1"],
    ...        direction="increase", family="primary", sesoi=0.2, sesoi_units="d")
    >>> plan_table(NS(hypotheses=[h])).iloc[0].tolist()
    ['H1', 'Trust rises', 'trust', 'everyone', 'T0 → T1', 'increase', 'primary', 'd = 0.2']
    """
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

    Parameters
    ----------
    responses : DataFrame
        The analysis cohort's responses (``wave``, ``submitted_on``).
    waves : the plan's waves, in order.
    offsets : dict, optional
        study.yaml ``wave_offsets_days``; with ``start`` (the programme start) it adds the planned date.
    start : date, optional

    Returns
    -------
    DataFrame
        Columns Wave, Planned, First response, Median, Last response and Responses dated.

    Examples
    --------
    >>> r = pd.DataFrame({"wave": ["T0", "T0", "T0"], "submitted_on": ["2024-01-03", "2024-01-05", ""]})
    >>> fielded_dates(r, ["T0"], {"T0": 0}, "2024-01-01").iloc[0].tolist()
    ['T0', '2024-01-01', '2024-01-03', '2024-01-03', '2024-01-05', '2 of 3']
    """
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
    """Design, programme, comparison group and matching as HTML paragraphs (from the plan); what the plan does not
    record is said so.

    Parameters
    ----------
    study : the plan. res : a results.json mapping (its ``hypotheses``: single-arm or not).

    Returns
    -------
    list of str

    Examples
    --------
    >>> from datetime import date
    >>> from types import SimpleNamespace as NS
    >>> study = NS(design={"assignment": "nonrandomised"}, raw={"programme": {"description": "Monthly meetings."}},
    ...            waves=["T0", "T1"], programme_start=date(2024, 1, 1), censor_date=date(2024, 12, 31),
    ...            comparison_group="Staff not taking part.")
    >>> out = design_paragraphs(study, {"hypotheses": [{"design": "two_arm"}]})
    >>> out[1].split(" with ")[0]
    '<b>Design.</b> The study used a non-randomised (self-selected) controlled pre/post design'
    >>> out[2], out[-1]
    ('<b>Programme.</b> Monthly meetings.', '<b>Comparison group.</b> Staff not taking part.')
    """
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


# --------------------------------------------------------------------------------------------- descriptives
def outcome_label(codebook, outcome: str) -> str:
    """The codebook's label of a scale, or the outcome's name when the codebook has none (or no such scale).

    Parameters
    ----------
    codebook : the codebook (scale name -> scale with a ``label``), or None.
    outcome : str
        The outcome's name.

    Returns
    -------
    str

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> outcome_label({"trust": NS(label="Trust in leaders (1–5)")}, "trust"), outcome_label(None, "retention")
    ('Trust in leaders (1–5)', 'retention')
    """
    try:
        return codebook[outcome].label
    except (KeyError, TypeError, AttributeError):
        return outcome


def descriptives_table(res: dict, codebook, waves) -> pd.DataFrame:
    """Mean, SD and n by arm × wave for every survey outcome, in each hypothesis's analysed population.

    Parameters
    ----------
    res : a results.json mapping (``hypotheses``, ``descriptives.cell_means``).
    codebook : the codebook, for the outcomes' labels (or None).
    waves : the plan's waves, in order.

    Returns
    -------
    DataFrame
        One row per hypothesis and wave; M (SD) and n per arm.

    Examples
    --------
    >>> cm = [{"arm": "program", "wave": "T0", "mean": 3.2, "sd": 0.8, "n": 40},
    ...       {"arm": "control", "wave": "T0", "mean": 3.1, "sd": 0.9, "n": 38}]
    >>> res = {"hypotheses": [{"id": "H1", "outcome": "trust"}], "descriptives": {"cell_means": {"H1": cm}}}
    >>> descriptives_table(res, None, ["T0"]).iloc[0].tolist()
    ['H1', 'trust', 'everyone', 'T0', '3.20 (0.80)', '40', '3.10 (0.90)', '38']
    """
    rows = []
    for r in res["hypotheses"]:
        cm = res.get("descriptives", {}).get("cell_means", {}).get(r["id"])
        if not cm:
            continue
        d = pd.DataFrame(cm)
        for w in waves:
            row = {"Hypothesis": r["id"], "Outcome": outcome_label(codebook, r["outcome"]).split(" (")[0],
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


def uptake_sentence(participants: pd.DataFrame | None, study) -> str:
    """Dose delivered (TREND item 4, CONSORT-SPI 5): sessions attended by programme participants, beside the
    sessions planned when the plan gives them.

    Parameters
    ----------
    participants : DataFrame or None
        participants.csv (``arm``, ``sessions_attended``).
    study : the plan (``raw.programme.sessions_planned``, optional).

    Returns
    -------
    str
        HTML; empty when participants.csv has no ``sessions_attended``.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> p = pd.DataFrame({"arm": ["program"] * 3 + ["control"], "sessions_attended": [6, 4, 6, None]})
    >>> print(uptake_sentence(p, NS(raw={"programme": {"sessions_planned": 6}})))
    <b>Uptake.</b> Programme participants attended M = 5.33 sessions (SD = 1.15; median 6, range 4–6; n = 3 of 3
    with a recorded count); 67% attended all 6 planned sessions.
    """
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


def reliability_table(rows: list[dict]) -> pd.DataFrame:
    """The reliability rows of results.json formatted for the report: n, items, α with its 95% CI, ω total, ω h and the
    mean inter-item r.

    Parameters
    ----------
    rows : list of dict
        results.json ``reliability`` rows.

    Returns
    -------
    DataFrame
        Columns Scale, Wave, Group, n, k, α, 95% CI, ω total, ω h and Mean r.

    Examples
    --------
    >>> row = dict(scale="trust", wave="T0", role="all", n=120, k=4, alpha=0.84, alpha_ci_low=0.79,
    ...            alpha_ci_high=0.88, omega=0.86, omega_h=0.8, average_r=0.57)
    >>> reliability_table([row]).iloc[0].tolist()
    ['trust', 'T0', 'all', '120', '4', '.84', '[.79, .88]', '.86', '.80', '.57']
    """
    d = pd.DataFrame(rows)
    return pd.DataFrame({"Scale": d["scale"], "Wave": d["wave"], "Group": d["role"], "n": d["n"].map(fmt_count),
                         "k": d["k"].map(fmt_count), "α": d["alpha"].map(fmt_r),
                         "95% CI": [fmt_ci(a, b, r=True) for a, b in zip(d["alpha_ci_low"], d["alpha_ci_high"])],
                         "ω total": d["omega"].map(fmt_r),
                         "ω h": d["omega_h"].map(fmt_r) if "omega_h" in d else "–",
                         "Mean r": d["average_r"].map(fmt_r)})


def item_table(items: list[dict], waves) -> pd.DataFrame:
    """Item statistics of the whole sample ('all'), one row per item and the waves side by side: M (SD), item–rest r
    and α if deleted. (Per-role item statistics are in results.json, psychometrics.items.)

    Parameters
    ----------
    items : list of dict
        results.json ``psychometrics.items``.
    waves : the waves to show, in order.

    Returns
    -------
    DataFrame
        Empty when there are no items.

    Examples
    --------
    >>> it = dict(scale="trust", item="t1", role="all", wave="T0", n=120, mean=3.4, sd=0.9, r_drop=0.61,
    ...           alpha_if_deleted=0.8)
    >>> item_table([it], ["T0", "T1"]).iloc[0].tolist()
    ['trust', 't1', '120', '3.40 (0.90)', '.61', '.80', '–', '–', '–', '–']
    """
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


