"""Power curves: simulated power against participants per arm, one line per hypothesis, with Monte-Carlo 95% intervals."""

from __future__ import annotations

__all__ = ["plot_power_curves", "curve_table"]


def curve_table(out: dict):
    """The ``power`` rows of a power result as a tidy DataFrame sorted by hypothesis and n_per_arm (for display).

    Parameters
    ----------
    out : dict
        A power result (:func:`~rmstudy.planning.engine.simulate_power`).

    Returns
    -------
    DataFrame
        The display columns of the rows that have them.

    Examples
    --------
    >>> rows = [{"hypothesis": "H1", "n_per_arm": n, "power": p, "seconds": 0.1} for n, p in ((80, 0.9), (40, 0.6))]
    >>> curve_table({"power": rows})
      hypothesis  n_per_arm  power
    0         H1         40    0.6
    1         H1         80    0.9
    """
    import pandas as pd

    cols = ["hypothesis", "n_per_arm", "n_analysed_per_arm", "effect", "effect_scale", "power", "mc_se", "ci_low",
            "ci_high", "analytic_power", "type_i_error", "n_sims"]
    df = pd.DataFrame(out["power"])
    return df[[c for c in cols if c in df]].sort_values(["hypothesis", "n_per_arm"], kind="stable").reset_index(drop=True)


def plot_power_curves(out: dict, target: float | None = None, ax=None):
    """Power of each hypothesis against participants per arm (Wilson 95% intervals), with the target as a line.

    Parameters
    ----------
    out : dict
        A power result (:func:`~rmstudy.planning.engine.simulate_power`).
    target : float, optional
        The horizontal line (default: the plan's ``target_power``, else 0.8).
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> rows = [{"hypothesis": "H1", "n_per_arm": n, "power": p, "ci_low": p - 0.1, "ci_high": p + 0.05,
    ...          "effect": 0.3, "effect_scale": "d"} for n, p in ((40, 0.6), (80, 0.9))]
    >>> ax = plot_power_curves({"power": rows})
    >>> [t.get_text() for t in ax.get_legend().get_texts()], [float(v) for v in ax.get_ylim()]
    (['H1 (d = 0.3)'], [0.0, 1.02])
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.2))
    target = out.get("planning", {}).get("target_power", 0.8) if target is None else target
    df = curve_table(out)
    for hid, g in df.groupby("hypothesis", sort=False):
        scale = "d" if g["effect_scale"].iloc[0] == "d" else "HR"
        line, = ax.plot(g["n_per_arm"], g["power"], marker="o", label=f"{hid} ({scale} = {g['effect'].iloc[0]:.2g})")
        ax.errorbar(g["n_per_arm"], g["power"], yerr=[g["power"] - g["ci_low"], g["ci_high"] - g["power"]],
                    fmt="none", ecolor=line.get_color(), capsize=3)
    ax.axhline(target, color="0.4", linestyle="--", linewidth=1)
    ax.text(ax.get_xlim()[0], target, f" target {target:.0%}", va="bottom", color="0.3", fontsize=9)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("participants per arm (enrolled)")
    ax.set_ylabel("power: P(decision = supported)")
    ax.set_title("Power of each hypothesis by cohort size (simulated, 95% Monte-Carlo intervals)")
    ax.legend(title="hypothesis (assumed effect)", fontsize=8, loc="lower right")
    return ax
