"""The decision rule and the multiplicity adjustment across a plan's hypothesis rows.

Kept free of heavy imports: results.json is assembled in the pipeline's own
process between the analysis and report notebooks.
"""

from __future__ import annotations

__all__ = ["decide", "finalise_hypotheses"]

import numpy as np

from rmstudy.stats.multiplicity import benjamini_hochberg, holm
from rmstudy.errors import ResultsError


def decide(estimate: float, p_adjusted: float, tost_p_value: float | None, alpha: float, expected_sign: int) -> str:
    """DESIGN.md's decision rule."""
    if p_adjusted < alpha:
        return "supported" if np.sign(estimate) == expected_sign else "opposite"
    if tost_p_value is not None and tost_p_value < alpha:
        return "equivalent"
    return "inconclusive"


_ADJUST = {"primary": (holm, "Holm"), "secondary": (benjamini_hochberg, "Benjamini-Hochberg"),
           "exploratory": (None, "none")}


def finalise_hypotheses(rows: list[dict], study) -> list[dict]:
    """Add ``p_adjusted``, ``adjustment`` and ``decision`` to every row, in plan order."""
    ids = [r["id"] for r in rows]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    unknown = sorted(set(ids) - {h.id for h in study.hypotheses})
    if dup or unknown:
        raise ResultsError(f"hypothesis rows do not match the plan: duplicated {dup}, not in study.yaml {unknown}; "
                         "each plan hypothesis must be analysed in exactly one notebook")
    by_id = {r["id"]: dict(r) for r in rows}
    for family, (method, label) in _ADJUST.items():
        ids = [h.id for h in study.hypotheses if h.family == family and h.id in by_id]
        if not ids:
            continue
        p = np.array([by_id[i]["p_value"] for i in ids])
        adj = p if method is None else method(p)
        for i, pa in zip(ids, adj):
            by_id[i]["p_adjusted"] = float(pa)
            by_id[i]["adjustment"] = label if method else "none (exploratory)"
    out = []
    for h in study.hypotheses:
        if h.id not in by_id:
            continue
        r = by_id[h.id]
        r["decision"] = decide(r["estimate"], r["p_adjusted"], r.get("tost_p"), study.alpha, h.expected_sign)
        out.append(r)
    return out
