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
def figure_context():
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
    """Observed means by wave and arm with 95% CIs, in the report's figure style."""
    import matplotlib.pyplot as plt

    from rmstudy.report.figures import plot_means

    with figure_context():
        fig, ax = plt.subplots(figsize=(5.2, 3.0))
        title = textwrap.fill(title, 60)
        plot_means(pd.DataFrame(cell_means), waves, title, ylabel, ax=ax)
        fig.subplots_adjust(left=0.13, right=0.97, top=0.82 if "\n" in title else 0.88, bottom=0.17)
    return fig


def slopes_figure(m: dict, title: str):
    import matplotlib.pyplot as plt

    from rmstudy.report.figures import plot_simple_slopes

    with figure_context():
        fig, ax = plt.subplots(figsize=(5.2, 3.0))
        title = textwrap.fill(title, 60)
        plot_simple_slopes(m, title, ax=ax)
        fig.subplots_adjust(left=0.14, right=0.97, top=0.82 if "\n" in title else 0.88, bottom=0.17)
    return fig


