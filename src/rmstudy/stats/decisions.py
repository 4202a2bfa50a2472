"""The decision rule and the multiplicity adjustment across a plan's hypothesis rows.

Kept free of heavy imports: results.json is assembled in the pipeline's own
process between the analysis and report notebooks.
"""

from __future__ import annotations

__all__ = ["decide", "finalise_hypotheses"]

import dataclasses

import numpy as np

from rmstudy.stats.multiplicity import benjamini_hochberg, holm
from rmstudy.errors import ResultsError


def decide(estimate: float, p_adjusted: float, tost_p_value: float | None, alpha: float, expected_sign: int) -> str:
    """DESIGN.md's decision rule: ``supported`` (adjusted p below alpha in the expected direction), ``opposite``
    (below alpha against it), ``equivalent`` (TOST p below alpha) or ``inconclusive``.

    Parameters
    ----------
    estimate : float
        The estimate (its sign is compared with ``expected_sign``).
    p_adjusted : float
        The multiplicity-adjusted p-value.
    tost_p_value : float or None
        The equivalence test's p-value (None: no SESOI).
    alpha : float
    expected_sign : int
        +1 or -1, from the plan.

    Returns
    -------
    str
        ``supported``, ``opposite``, ``equivalent`` or ``inconclusive``.

    Examples
    --------
    >>> decide(0.4, 0.01, None, 0.05, 1), decide(-0.4, 0.01, None, 0.05, 1)
    ('supported', 'opposite')
    >>> decide(0.02, 0.6, 0.01, 0.05, 1), decide(0.2, 0.3, None, 0.05, 1)
    ('equivalent', 'inconclusive')
    """
    if p_adjusted < alpha:
        return "supported" if np.sign(estimate) == expected_sign else "opposite"
    if tost_p_value is not None and tost_p_value < alpha:
        return "equivalent"
    return "inconclusive"


_ADJUST = {"primary": (holm, "Holm"), "secondary": (benjamini_hochberg, "Benjamini-Hochberg"),
           "exploratory": (None, "none")}


def _get(row, key: str, default=None):
    return row.get(key, default) if hasattr(row, "get") else getattr(row, key, default)


def _completed(row, **values):
    """A copy of ``row`` with ``values`` set: a dict for a dict, ``dataclasses.replace`` for a typed row."""
    if isinstance(row, dict):
        return {**row, **values}
    return dataclasses.replace(row, **values)


def finalise_hypotheses(rows: list, study) -> list:
    """Completed copies of the plan's hypothesis rows, in plan order, with ``p_adjusted`` and ``adjustment`` (Holm
    within the primary family, Benjamini–Hochberg within the secondary, none within the exploratory) and the
    ``decision`` of :func:`decide`.

    Parameters
    ----------
    rows : typed rows (:class:`rmstudy.analysis.rows.HypothesisRow`) or mappings with at least ``id``,
        ``estimate``, ``p_value`` and ``tost_p``; one per analysed hypothesis.
    study : the plan (``hypotheses`` with ``id``, ``family`` and ``expected_sign``; ``alpha``).

    Returns
    -------
    list
        rows of the kind given (typed rows stay typed, dicts stay dicts), in the plan's order; the input rows are
        not changed.

    Raises
    ------
    ResultsError
        when an id is duplicated or not in the plan.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> plan = NS(alpha=0.05, hypotheses=(NS(id="A", family="primary", expected_sign=1),
    ...                                    NS(id="B", family="primary", expected_sign=1)))
    >>> out = finalise_hypotheses([{"id": "B", "estimate": 1.0, "p_value": 0.04, "tost_p": None},
    ...                            {"id": "A", "estimate": 1.0, "p_value": 0.01, "tost_p": None}], plan)
    >>> [(r["id"], round(r["p_adjusted"], 2), r["decision"]) for r in out]
    [('A', 0.02, 'supported'), ('B', 0.04, 'supported')]
    """
    ids = [_get(r, "id") for r in rows]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    unknown = sorted(set(ids) - {h.id for h in study.hypotheses})
    if dup or unknown:
        raise ResultsError(f"hypothesis rows do not match the plan: duplicated {dup}, not in study.yaml {unknown}; "
                           "each plan hypothesis must be analysed in exactly one notebook")
    by_id = dict(zip(ids, rows))
    adjusted: dict[str, tuple[float, str]] = {}
    for family, (method, label) in _ADJUST.items():
        fam = [h.id for h in study.hypotheses if h.family == family and h.id in by_id]
        if not fam:
            continue
        p = np.array([_get(by_id[i], "p_value") for i in fam])
        adj = p if method is None else method(p)
        for i, pa in zip(fam, adj):
            adjusted[i] = (float(pa), label if method else "none (exploratory)")
    out = []
    for h in study.hypotheses:
        if h.id not in by_id:
            continue
        r = by_id[h.id]
        p_adj, label = adjusted[h.id]
        out.append(_completed(r, p_adjusted=p_adj, adjustment=label,
                              decision=decide(_get(r, "estimate"), p_adj, _get(r, "tost_p"), study.alpha,
                                              h.expected_sign)))
    return out
