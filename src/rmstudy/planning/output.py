"""Writing a power result: JSON (through :mod:`rmstudy.contract.jsonio`, the one JSON writer) and a short text summary."""

from __future__ import annotations

__all__ = ["write_json", "summary_lines"]

from pathlib import Path

from rmstudy.contract import jsonio


def write_json(out: dict, path: str | Path) -> Path:
    """Write a power result with the one JSON writer of rmstudy (:func:`rmstudy.contract.jsonio.write_json`: UTF-8,
    numpy numbers as plain numbers, NaN as null, written beside the target and renamed into place).

    Parameters
    ----------
    out : dict
        A power result (:func:`~rmstudy.planning.engine.simulate_power`).
    path : str or Path
        The JSON file to write.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import json, tempfile
    >>> import numpy as np
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = write_json({"power": [{"power": np.float64(0.8), "analytic_power": float("nan")}]}, Path(tmp) / "p.json")
    ...     json.loads(p.read_text(encoding="utf-8"))
    {'power': [{'power': 0.8, 'analytic_power': None}]}
    """
    return jsonio.write_json(out, path)


def summary_lines(out: dict) -> list[str]:
    """A short plain-text table of a power result.

    Parameters
    ----------
    out : dict
        A power result: its ``power`` rows, and the ``sample_size`` and ``mde`` entries of ``--from-run``.

    Returns
    -------
    list of str
        One line per power row, sample size and minimum detectable effect.

    Examples
    --------
    >>> row = {"hypothesis": "H1", "n_per_arm": 64, "power": 0.8, "mc_se": 0.0126, "analytic_power": 0.801,
    ...        "type_i_error": 0.049, "seconds": 1.5}
    >>> for line in summary_lines({"power": [row]}):
    ...     print(line)
      H1     n/arm     64  power 0.800 (MC SE 0.013; analytic 0.801; type I error 0.049)  1.50 s
    """
    lines = []
    for r in out["power"]:
        extra = f"; analytic {r['analytic_power']:.3f}" if r.get("analytic_power") is not None else ""
        t1 = f"; type I error {r['type_i_error']:.3f}" if r.get("type_i_error") is not None else ""
        lines.append(f"  {r['hypothesis']:<6} n/arm {r['n_per_arm']:>6}  power {r['power']:.3f} "
                     f"(MC SE {r['mc_se']:.3f}{extra}{t1})  {r['seconds']:.2f} s")
    for s in out.get("sample_size", []):
        if s["n_per_arm"] is None:
            lines.append(f"  {s['hypothesis']:<6} sample size: {s['note']}")
        else:
            lines.append(f"  {s['hypothesis']:<6} {s['target_power']:.0%} power at {s['n_per_arm']} per arm "
                         f"(95% MC interval {s['n_per_arm_ci_low']}-{s['n_per_arm_ci_high']}; simulated power there "
                         f"{s['power_at_n']:.3f})")
    for m in out.get("mde", []):
        if m.get("note"):
            lines.append(f"  {m['hypothesis']:<6} minimum detectable effect at {m['n_per_arm']} per arm: {m['note']}")
        elif m.get("mde_d") is not None:
            lines.append(f"  {m['hypothesis']:<6} minimum detectable effect at {m['n_per_arm']} per arm: d = "
                         f"{m['mde_d']:.3f} ({m['mde_d_ci_low']:.3f}-{m['mde_d_ci_high']:.3f})")
        elif m.get("mde_hazard_ratio") is not None:
            lines.append(f"  {m['hypothesis']:<6} minimum detectable effect at {m['n_per_arm']} per arm: hazard ratio "
                         f"{m['mde_hazard_ratio']:.3f} ({m['mde_hazard_ratio_ci_low']:.3f}-"
                         f"{m['mde_hazard_ratio_ci_high']:.3f})")
    return lines
