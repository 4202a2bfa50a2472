"""Figures of the academic report: the participant-flow diagram and the house figure style."""

from __future__ import annotations

__all__ = ["flow_counts", "flow_table", "figure_style", "figure_context", "flow_diagram", "means_figure",
           "slopes_figure"]

import textwrap
from contextlib import contextmanager

import pandas as pd

from rmstudy.report.academic_format import ARM_NAMES, ARMS, fmt_count
from rmstudy.report.academic_refs import assignment

# --------------------------------------------------------------------------------------------- flow
def _stage(flow: dict, name: str) -> dict:
    for s in flow["stages"]:
        if s["stage"] == name:
            return s
    return {}


def flow_counts(res: dict, study) -> dict:
    """Per arm: invited, not enrolled (with reasons when given), enrolled, responded and lost per wave, analysed,
    response rows excluded from every survey analysis and retention exclusions, all as ints (None: not recorded).

    Parameters
    ----------
    res : a results.json mapping (its ``flow``). study : the plan (``waves``; ``raw["flow"]`` for the reasons).

    Returns
    -------
    dict
        ``{arm: {"invited", "enrolled", "not_enrolled", "not_enrolled_reasons", "waves", "analysed",
        "rows_excluded", "retention_excluded"}}``.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> st = [{"stage": s, "program": p, "control": c} for s, p, c in [("invited", 20, 30), ("enrolled", 12, 25),
    ...       ("responded_T0", 12, 24), ("responded_T1", 10, 20), ("analysed", 12, 24)]]
    >>> res, study = {"flow": {"stages": st, "exclusions": []}}, NS(waves=["T0", "T1"], raw={}, design=None)
    >>> fc = flow_counts(res, study)
    >>> fc["program"]["not_enrolled"], fc["control"]["waves"][1]
    (8, {'wave': 'T1', 'responded': 20, 'missed': 5})
    """
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
    """The participant flow as a table of integer counts per arm and in total ('not recorded' when absent).

    Parameters
    ----------
    res : a results.json mapping. study : the plan.

    Returns
    -------
    DataFrame
        Columns Stage, Programme, Comparison and Total (text).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> st = [{"stage": s, "program": p, "control": c} for s, p, c in [("invited", 20, 30), ("enrolled", 12, 25),
    ...       ("responded_T0", 12, 24), ("responded_T1", 10, 20), ("analysed", 12, 24)]]
    >>> res, study = {"flow": {"stages": st, "exclusions": []}}, NS(waves=["T0", "T1"], raw={}, design=None)
    >>> flow_table(res, study)[["Stage", "Total"]].values.tolist()[3:6]
    [['Responded at T0', '36'], ['Responded at T1', '30'], ['Did not respond at T1', '7']]
    """
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
    """rmstudy's publication figure style (rc parameters): sans-serif, no top/right spines, 300 dpi, Okabe–Ito.

    Returns
    -------
    dict
        matplotlib rc parameters (used through :func:`figure_context`; the global ones are never changed).

    Examples
    --------
    >>> figure_style()["savefig.dpi"], figure_style()["axes.spines.top"]
    (300, False)
    """
    return {"figure.dpi": 100, "savefig.dpi": 300, "font.family": "DejaVu Sans", "font.size": 9,
            "axes.titlesize": 10, "axes.titleweight": "bold", "axes.labelsize": 9, "axes.spines.top": False,
            "axes.spines.right": False, "axes.linewidth": 0.8, "xtick.labelsize": 8.5, "ytick.labelsize": 8.5,
            "legend.fontsize": 8.5, "legend.frameon": False, "svg.fonttype": "none", "svg.hashsalt": "rmstudy",
            "lines.linewidth": 1.8, "text.parse_math": False}       # a '$' in a label is text, not mathtext


@contextmanager
def figure_context():
    """The report's figure style (:func:`figure_style`) for the figures drawn inside the ``with`` block only.

    Yields
    ------
    None

    Examples
    --------
    >>> import matplotlib as mpl
    >>> with figure_context():
    ...     print(mpl.rcParams["font.family"])
    ['DejaVu Sans']
    """
    import matplotlib as mpl

    with mpl.rc_context(figure_style()):
        yield


def flow_diagram(res: dict, study):
    """The participant-flow diagram (TREND/CONSORT) per arm: invited to analysed, losses and reasons by the arrows.
    Parameters
    ----------
    res, study : results.json (its flow and ledger) and the plan.
    Returns
    -------
    matplotlib Figure"""
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
    with figure_context():
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


# --------------------------------------------------------------------------------------------- figures
def means_figure(cell_means: list[dict], waves, title: str, ylabel: str):
    """Observed means by wave and arm with 95% CIs, in the report's figure style.

    Parameters
    ----------
    cell_means : list of dict
        ``arm``, ``wave``, ``mean``, ``ci_low``, ``ci_high`` (results.json's cell means).
    waves : the waves in order. title, ylabel : str

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> cells = [{"arm": a, "wave": w, "mean": m, "ci_low": m - 0.3, "ci_high": m + 0.3}
    ...          for a, w, m in [("program", "T0", 3.1), ("program", "T1", 3.6), ("control", "T0", 3.0), ("control", "T1", 3.1)]]
    >>> fig = means_figure(cells, ["T0", "T1"], "Trust", "Mean (1–5)")
    >>> fig.axes[0].get_ylabel(), [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ('Mean (1–5)', ['T0', 'T1'])
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    from rmstudy.report.figures import plot_means

    with figure_context():
        fig, ax = plt.subplots(figsize=(5.2, 3.0))
        title = textwrap.fill(title, 60)
        plot_means(pd.DataFrame(cell_means), waves, title, ylabel, ax=ax)
        fig.subplots_adjust(left=0.13, right=0.97, top=0.82 if "\n" in title else 0.88, bottom=0.17)
    return fig


def slopes_figure(m: dict, title: str):
    """The programme effect across a moderator (simple slopes, 95% band), in the report's figure style.

    Parameters
    ----------
    m : a moderation result of results.json (``curve``, ``slopes``, ``moderator``, ``kind``). title : str

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> pts = [{"moderator_value": x, "estimate": 0.1 * x, "ci_low": 0.1 * x - 0.2, "ci_high": 0.1 * x + 0.2}
    ...        for x in (-1.0, 0.0, 1.0)]
    >>> fig = slopes_figure({"curve": pts, "slopes": pts, "moderator": "age_gap", "kind": "moderation"}, "Trust")
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
    ('age gap', 'Difference in change')
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    from rmstudy.report.figures import plot_simple_slopes

    with figure_context():
        fig, ax = plt.subplots(figsize=(5.2, 3.0))
        title = textwrap.fill(title, 60)
        plot_simple_slopes(m, title, ax=ax)
        fig.subplots_adjust(left=0.14, right=0.97, top=0.82 if "\n" in title else 0.88, bottom=0.17)
    return fig


