"""Figures in one house style: colour-blind-safe (Okabe–Ito), titled, CIs drawn.

Every function takes ``ax=None`` and returns the Axes.
"""

from __future__ import annotations

__all__ = ["set_style", "plot_means", "plot_km", "plot_residuals", "plot_simple_slopes", "ARM_COLOURS",
           "save"]

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

ARM_COLOURS = {"program": "#0072B2", "control": "#E69F00"}
ARM_LABELS = {"program": "Programme", "control": "Comparison group"}


def set_style() -> None:
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 110,
                         "figure.subplot.left": 0.12, "figure.subplot.right": 0.97, "figure.subplot.bottom": 0.15,
                         "figure.subplot.top": 0.88, "figure.subplot.wspace": 0.32,
                         "axes.spines.top": False, "axes.spines.right": False,
                         "axes.titlesize": 11, "axes.titleweight": "bold", "font.size": 10, "figure.figsize": (6, 3.6)})


def _ax(ax):
    if ax is None:
        set_style()
        _, ax = plt.subplots()
    return ax


def plot_means(means: pd.DataFrame, waves, title: str, ylabel: str, ax=None, scale_range=None):
    """Mean score per wave and arm with 95% CIs; suppressed cells (NaN) are not drawn."""
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
    """Kaplan–Meier curves by arm with log-type 95% bands (academic report only)."""
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


def plot_residuals(fitted: np.ndarray, resid: np.ndarray, title: str, axes=None):
    """Residual normal Q–Q plot and residuals against fitted values."""
    from scipy import stats

    if axes is None:
        set_style()
        _, axes = plt.subplots(1, 2, figsize=(8, 3.4))
    (osm, osr), (slope, icpt, _) = stats.probplot(resid, dist="norm")
    axes[0].plot(osm, osr, ".", ms=3, color="#0072B2")
    axes[0].plot(osm, icpt + slope * osm, color="#D55E00", lw=1)
    axes[0].set_xlabel("Normal quantiles")
    axes[0].set_ylabel("Residual")
    axes[0].set_title("Q–Q plot of residuals")
    axes[1].plot(fitted, resid, ".", ms=3, alpha=0.6, color="#0072B2")
    axes[1].axhline(0, color="#999999", lw=1)
    axes[1].set_xlabel("Fitted value")
    axes[1].set_ylabel("Residual")
    axes[1].set_title("Residuals vs fitted")
    axes[0].figure.suptitle(title, fontsize=10)
    axes[0].figure.subplots_adjust(left=0.09, right=0.98, top=0.84, bottom=0.15)
    return axes


def save(fig_or_ax, out_dir, name: str, close: bool = False) -> Path:
    """Save a figure as PNG under ``<out_dir>/figures/`` and return the path.

    ``close=True`` closes it afterwards, so a notebook does not render it a second time."""
    fig = getattr(fig_or_ax, "figure", fig_or_ax)
    if isinstance(fig_or_ax, np.ndarray):
        fig = fig_or_ax.flat[0].figure
    d = Path(out_dir) / "figures"
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{name}.png"
    fig.savefig(path, metadata={"Software": None})      # fixed margins (set_style): one draw, no tight bbox pass
    if close:
        plt.close(fig)
    return path


def plot_simple_slopes(result: dict, title: str, ax=None):
    """The programme effect (or the within-programme change, for a dose) across the moderator, with a 95% band
    and the simple slopes at the mean and ±1 SD marked."""
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
