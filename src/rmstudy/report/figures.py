"""Figures in one house style: colour-blind-safe (Okabe–Ito), titled, CIs drawn.

Every function takes ``ax=None`` and returns the Axes. Text in figures comes partly from the cohort (scale labels,
anchors, wave names): matplotlib's mathtext is turned off (``text.parse_math``) so a ``$...$`` in a label is drawn
as typed and cannot crash a run; ``svg.fonttype = none`` keeps SVG text as (escaped) text.
"""

from __future__ import annotations

__all__ = ["set_style", "plot_means", "plot_km", "plot_residuals", "plot_simple_slopes", "ARM_COLOURS",
           "save", "plot_effects", "plot_question", "plot_retention", "to_svg", "VERDICT_COLOURS"]

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

ARM_COLOURS = {"program": "#0072B2", "control": "#E69F00"}
ARM_LABELS = {"program": "Programme", "control": "Comparison group"}


def set_style() -> None:
    """Set the house style in matplotlib's ``rcParams`` (no mathtext, SVG text as text, fixed SVG ids)."""
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 110,
                         "figure.subplot.left": 0.12, "figure.subplot.right": 0.97, "figure.subplot.bottom": 0.15,
                         "figure.subplot.top": 0.88, "figure.subplot.wspace": 0.32,
                         "axes.spines.top": False, "axes.spines.right": False,
                         "axes.titlesize": 11, "axes.titleweight": "bold", "font.size": 10, "figure.figsize": (6, 3.6),
                         "text.parse_math": False, "svg.fonttype": "none", "svg.hashsalt": "rmstudy"})


def _ax(ax):
    plt.rcParams["text.parse_math"] = False          # cohort text is drawn as typed, never as mathtext
    if ax is None:
        set_style()
        _, ax = plt.subplots()
    return ax


def plot_means(means: pd.DataFrame, waves, title: str, ylabel: str, ax=None, scale_range=None):
    """Mean score per wave and arm with 95% CIs; suppressed cells (NaN) are not drawn.

    Parameters
    ----------
    means : DataFrame
        ``arm``, ``wave``, ``mean``, ``ci_low``, ``ci_high``.
    waves : list of str
        The waves in order.
    title, ylabel : str
    ax : matplotlib Axes, optional
        Drawn on; a new figure when None.
    scale_range : (float, float), optional
        The y range (the scale's full range).

    Returns
    -------
    matplotlib Axes
    """
    ax = _ax(ax)
    x = np.arange(len(waves))
    for i, arm in enumerate(("control", "program")):
        g = means[means["arm"] == arm].set_index("wave").reindex(list(waves))
        off = (i - 0.5) * 0.08
        y = g["mean"].astype(float).to_numpy()
        lo, hi = g["ci_low"].astype(float).to_numpy(), g["ci_high"].astype(float).to_numpy()
        ax.errorbar(x + off, y, yerr=[y - lo, hi - y], marker="o", capsize=4, lw=2,
                    color=ARM_COLOURS[arm], label=ARM_LABELS[arm])
    ax.set_xticks(x, [str(w) for w in waves])
    ax.set_xlabel("Survey wave")
    ax.set_ylabel(ylabel)
    if scale_range is not None:
        ax.set_ylim(*scale_range)
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=9)
    return ax


def plot_km(data: pd.DataFrame, title: str, ax=None, alpha: float = 0.05):
    """Kaplan–Meier curves by arm with log-type 95% bands (academic report only).

    Parameters
    ----------
    data : DataFrame
        :func:`rmstudy.stats.models.survival.retention_data`'s table.
    title : str
    ax : matplotlib Axes, optional
        Drawn on; a new figure when None.
    alpha : float

    Returns
    -------
    matplotlib Axes
    """
    from scipy import stats
    from statsmodels.duration.survfunc import SurvfuncRight

    ax = _ax(ax)
    z = stats.norm.ppf(1 - alpha / 2)
    for arm in ("control", "program"):
        d = data[data["arm"] == arm]
        if d.empty:
            continue
        entry = d["entry"].to_numpy(float)
        sf = SurvfuncRight(d["time"].to_numpy(float), d["event"].to_numpy(int), entry=entry if np.any(entry > 0) else None)
        t = np.r_[0, sf.surv_times]
        s = np.r_[1, sf.surv_prob]
        se = np.r_[0, sf.surv_prob_se / np.where(sf.surv_prob > 0, sf.surv_prob, np.nan)]
        ax.step(t, s, where="post", color=ARM_COLOURS[arm], label=ARM_LABELS[arm], lw=2)
        ax.fill_between(t, s * np.exp(-z * se), np.minimum(1, s * np.exp(z * se)), step="post",
                        color=ARM_COLOURS[arm], alpha=0.15)
    ax.set_xlabel("Days since programme start")
    ax.set_ylabel("Share not yet left voluntarily")
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=9)
    return ax


QQ_POINTS = 2000          # a Q–Q plot of more residuals shows this many evenly spaced order statistics
SCATTER_POINTS = 5000     # residuals vs fitted of more residuals is drawn as a density (hexagonal bins)


def _qq_points(resid: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(normal quantiles, ordered residuals, slope, intercept) of a normal Q–Q plot: at most :data:`QQ_POINTS`
    order statistics, the tails (an eighth of them at each end) whole and the rest evenly spaced in rank; the
    line is scipy's fit to all of them."""
    from scipy import stats

    (osm, osr), (slope, icpt, _) = stats.probplot(resid, dist="norm")
    if len(osr) > QQ_POINTS:
        tail = QQ_POINTS // 8
        keep = np.unique(np.r_[np.arange(tail), np.linspace(tail, len(osr) - tail - 1, QQ_POINTS - 2 * tail).round()
                               .astype(int), np.arange(len(osr) - tail, len(osr))])
        osm, osr = osm[keep], osr[keep]
    return osm, osr, float(slope), float(icpt)


def plot_residuals(fitted: np.ndarray, resid: np.ndarray, title: str, axes=None):
    """Residual normal Q–Q plot and residuals against fitted values.

    With more than :data:`QQ_POINTS` residuals the Q–Q plot shows that many order statistics (the extremes
    included); with more than :data:`SCATTER_POINTS` the residuals against fitted values are drawn as a density
    of hexagonal bins, which shows where 100,000 points lie where a scatter would be one blot.

    Parameters
    ----------
    fitted, resid : numpy array
    title : str
    axes : pair of Axes, optional

    Returns
    -------
    pair of Axes
    """
    plt.rcParams["text.parse_math"] = False
    if axes is None:
        set_style()
        _, axes = plt.subplots(1, 2, figsize=(8, 3.4))
    osm, osr, slope, icpt = _qq_points(np.asarray(resid, float))
    axes[0].plot(osm, osr, ".", ms=3, color="#0072B2")
    axes[0].plot(osm, icpt + slope * osm, color="#D55E00", lw=1)
    axes[0].set_xlabel("Normal quantiles")
    axes[0].set_ylabel("Residual")
    axes[0].set_title("Q–Q plot of residuals" + (f" ({len(osr):,} of {len(resid):,})"
                                                  if len(osr) < len(resid) else ""))
    if len(resid) > SCATTER_POINTS:
        # log counts: a bin of one outlier stays visible beside the bins of thousands
        axes[1].hexbin(fitted, resid, gridsize=60, mincnt=1, bins="log", cmap="Blues", linewidths=0)
    else:
        axes[1].plot(fitted, resid, ".", ms=3, alpha=0.6, color="#0072B2")
    axes[1].axhline(0, color="#999999", lw=1)
    axes[1].set_xlabel("Fitted value")
    axes[1].set_ylabel("Residual")
    axes[1].set_title("Residuals vs fitted" + (" (density)" if len(resid) > SCATTER_POINTS else ""))
    axes[0].figure.suptitle(title, fontsize=10)
    axes[0].figure.subplots_adjust(left=0.09, right=0.98, top=0.84, bottom=0.15)
    return axes


def save(fig_or_ax, out_dir, name: str, close: bool = False) -> Path:
    """Save a figure as PNG under ``<out_dir>/figures/`` and return the path.

    ``close=True`` closes it afterwards, so a notebook does not render it a second time.

    Parameters
    ----------
    fig_or_ax : Figure or Axes
    out_dir : str or Path
    name : str
        The file name without ``.png``.
    close : bool

    Returns
    -------
    Path
    """
    fig = getattr(fig_or_ax, "figure", fig_or_ax)
    if isinstance(fig_or_ax, np.ndarray):
        fig = fig_or_ax.flat[0].figure
    d = Path(out_dir) / "figures"
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{name}.png"
    # fixed margins (set_style): one draw, no tight bbox pass; 300 dpi, as journals ask of raster figures
    fig.savefig(path, dpi=300, metadata={"Software": None})
    if close:
        plt.close(fig)
    return path


def plot_simple_slopes(result: dict, title: str, ax=None):
    """The programme effect (or the within-programme change, for a dose) across the moderator, with a 95% band
    and the simple slopes at the mean and ±1 SD marked.

    Parameters
    ----------
    result : dict
        A moderation result of results.json (its ``curve`` and ``simple_slopes``).
    title : str
    ax : matplotlib Axes, optional
        Drawn on; a new figure when None.

    Returns
    -------
    matplotlib Axes
    """
    ax = _ax(ax)
    c = pd.DataFrame(result["curve"])
    ax.fill_between(c["moderator_value"], c["ci_low"], c["ci_high"], color=ARM_COLOURS["program"], alpha=0.2)
    ax.plot(c["moderator_value"], c["estimate"], color=ARM_COLOURS["program"], lw=2)
    s = pd.DataFrame(result["slopes"])
    ax.errorbar(s["moderator_value"], s["estimate"], yerr=[s["estimate"] - s["ci_low"], s["ci_high"] - s["estimate"]],
                fmt="o", color="#333333", capsize=4)
    ax.axhline(0, color="#999999", ls="--", lw=1)
    ax.set_xlabel(result["moderator"].replace("_", " ") + (" (dose)" if result["kind"] == "dose_response" else ""))
    ax.set_ylabel("Difference in change" if result["kind"] == "moderation" else "Change within the programme")
    ax.set_title(title)
    return ax


# ---- HR report figures (drawn from the HR report model; suppressed values never reach them) ----

#: verdict colours (Okabe–Ito; always paired with an icon and a word in the report)
VERDICT_COLOURS = {"supported": "#009E73", "opposite": "#D55E00", "equivalent": "#0072B2", "inconclusive": "#6E6E6E"}


def to_svg(fig, salt: str = "rmstudy") -> str:
    """The figure as SVG text (fonts as text, no timestamp, ids stable for a given ``salt`` and distinct between
    figures of one page when each gets its own salt), closed afterwards.

    Parameters
    ----------
    fig : Figure
    salt : str

    Returns
    -------
    str
    """
    import io

    buf = io.StringIO()
    with plt.rc_context({"svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return buf.getvalue()


def plot_effects(items: list[dict], xlabel: str, band: float | None = None, ax=None, log: bool = False):
    """Every effect as a dot with its 95% range (thin) and (1 − 2α) range (thick), against a shaded band.

    ``items``: dicts with ``label``, ``value``, ``lo95``, ``hi95``, ``lo90``, ``hi90``, ``decision``, and an
    optional per-row ``band`` (half-width; for log axes the band is [1/b, b]). Rows are drawn top to bottom in
    the order given. The x axis is symmetric around no effect, so neither side looks bigger than it is.

    Parameters
    ----------
    items : list of dict
    xlabel : str
    band : float, optional
        Half-width of the shaded band (SESOI).
    ax : matplotlib Axes, optional
        Drawn on; a new figure when None.
    log : bool
        A log axis (hazard ratios).

    Returns
    -------
    matplotlib Axes
    """
    ax = _ax(ax)
    n = len(items)
    y = np.arange(n)[::-1]
    centre = 1.0 if log else 0.0
    spans = [abs(v - centre) for it in items for v in (it["lo95"], it["hi95"])]
    for it in items:
        b = it.get("band", band)
        if b:
            spans.append(abs(b - centre) if log else b)
    if log:
        ax.set_xscale("log")
        lim = max(max(abs(np.log(v)) for it in items for v in (it["lo95"], it["hi95"])), 0.2) * 1.15
        for it in items:
            b = it.get("band", band)
            if b:
                lim = max(lim, abs(np.log(b)) * 1.15)
        ax.set_xlim(np.exp(-lim), np.exp(lim))
        from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

        ticks = [v for v in (0.1, 0.25, 0.5, 1, 2, 4, 10) if np.exp(-lim) <= v <= np.exp(lim)]
        ax.xaxis.set_major_locator(FixedLocator(ticks))      # plain-text labels (mathtext is off)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_minor_formatter(NullFormatter())
    else:
        lim = max(max(spans) if spans else 0.5, 0.25) * 1.15
        ax.set_xlim(-lim, lim)
    for yi, it in zip(y, items):
        b = it.get("band", band)
        if b:
            lo, hi = (min(b, 1 / b), max(b, 1 / b)) if log else (-b, b)
            ax.fill_between([lo, hi], yi - 0.38, yi + 0.38, color="#CFCFCF", lw=0, zorder=0)
        col = VERDICT_COLOURS.get(it["decision"], "#333333")
        ax.plot([it["lo95"], it["hi95"]], [yi, yi], color=col, lw=1.4, zorder=2)
        ax.plot([it["lo90"], it["hi90"]], [yi, yi], color=col, lw=4.5, solid_capstyle="butt", zorder=3)
        ax.plot([it["value"]], [yi], "o", ms=7, color="white", mec=col, mew=2, zorder=4)
    ax.axvline(centre, color="#333333", lw=1, zorder=1)
    ax.set_yticks(y, [it["label"] for it in items])
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlabel(xlabel)
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    return ax


def plot_question(means: list[dict] | None, waves, scale_range, ylabel: str, effect: dict | None, effect_label: str,
                  band: float | None = None, axes=None, effect_title: str = "Difference in change"):
    """A survey question: average score per wave and group with 95% CIs on the scale's full range (left; only
    when the means may be shown), and the difference in change with its 95% and (1 − 2α) ranges against zero
    and the ±SESOI band, in scale points (right).

    Parameters
    ----------
    means : list of dict or None
        Cell means (None when they may not be shown).
    waves : list of str
    scale_range : (float, float)
    ylabel : str
    effect : dict or None
        The difference in change with its ranges.
    effect_label : str
    band : float, optional
    axes : pair of Axes, optional
    effect_title : str

    Returns
    -------
    pair of Axes
    """
    plt.rcParams["text.parse_math"] = False
    if axes is None:
        set_style()
        if means:
            fig, axes = plt.subplots(1, 2, figsize=(7.6, 3.1), gridspec_kw={"width_ratios": [1.25, 1]})
        else:
            fig, ax1 = plt.subplots(figsize=(4.6, 2.2))
            axes = [None, ax1]
    left, right = axes
    if means and left is not None:
        x = np.arange(len(waves))
        for i, arm in enumerate(("control", "program")):
            g = [m for m in means if m["arm"] == arm]
            if not g:
                continue
            by = {m["wave"]: m for m in g}
            xs = [j for j, w in enumerate(waves) if w in by]
            ys = np.array([by[waves[j]]["mean"] for j in xs])
            lo = np.array([by[waves[j]]["ci_low"] for j in xs])
            hi = np.array([by[waves[j]]["ci_high"] for j in xs])
            off = (i - 0.5) * 0.08
            left.errorbar(np.array(xs) + off, ys, yerr=[ys - lo, hi - ys], marker="o" if arm == "program" else "s",
                          capsize=3, lw=2, color=ARM_COLOURS[arm], label=ARM_LABELS[arm])
        left.set_xticks(x, [str(w) for w in waves])
        left.set_xlim(-0.4, len(waves) - 0.6)
        left.set_ylim(*scale_range)
        left.set_xlabel("Survey")
        import textwrap

        left.set_ylabel("\n".join(textwrap.wrap(ylabel, 30)[:3]), fontsize=9)
        left.set_title("Average score", loc="left", fontsize=10)
        left.legend(frameon=False, fontsize=8, loc="best")
    if effect is not None:
        plot_effects([{**effect, "label": ""}], effect_label, band=band, ax=right)
        right.set_yticks([])
        right.set_title(effect_title, loc="left", fontsize=10)
    fig = right.figure
    fig.subplots_adjust(left=0.1 if means else 0.06, right=0.97, bottom=0.2 if means else 0.3, top=0.88, wspace=0.35)
    return axes


def plot_retention(cells: list[dict], horizons_label: dict, ax=None):
    """Share who had not resigned, per group and horizon, with 95% CIs on a 0–100% axis; suppressed cells are
    labelled, never drawn. ``cells``: dicts with ``group``, ``horizon_days``, ``shown``, ``not_resigned``,
    ``ci_low``, ``ci_high``.

    Parameters
    ----------
    cells : list of dict
    horizons_label : dict
        Horizon in days -> its label.
    ax : matplotlib Axes, optional
        Drawn on; a new figure when None.

    Returns
    -------
    matplotlib Axes
    """
    ax = _ax(ax)
    rows = [(h, g) for h in sorted({c["horizon_days"] for c in cells}) for g in ("program", "control")]
    by = {(c["horizon_days"], c["group"]): c for c in cells}
    y = np.arange(len(rows))[::-1]
    for yi, (h, g) in zip(y, rows):
        c = by.get((h, g))
        if c is None:
            continue
        if c["shown"]:
            v = 100 * c["not_resigned"]
            ax.plot([100 * c["ci_low"], 100 * c["ci_high"]], [yi, yi], color=ARM_COLOURS[g], lw=2)
            ax.plot([v], [yi], "o" if g == "program" else "s", color=ARM_COLOURS[g], ms=7)
        else:
            ax.text(3, yi, "not shown (small group)", va="center", fontsize=8, color="#444444")
    ax.set_yticks(y, [f"{ARM_LABELS[g]}, {horizons_label[h]}" for h, g in rows])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlim(0, 100)
    ax.set_xlabel("Had not resigned (%)")
    ax.tick_params(axis="y", length=0)
    ax.figure.subplots_adjust(left=0.36, right=0.96, bottom=0.22, top=0.95)
    return ax
