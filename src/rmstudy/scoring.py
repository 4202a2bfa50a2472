"""Scale scoring driven only by the codebook.

Reverse keys (``min + max - x``), then the scale score is the mean of the
answered items when the answered share reaches the scale's ``min_answered``
(default 0.8), else missing.
"""

from __future__ import annotations

__all__ = ["reverse_key", "score_scales", "long_scores"]

import numpy as np
import pandas as pd

from .codebook import Codebook


def reverse_key(responses: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Return a copy of ``responses`` with every reverse-keyed item recoded."""
    out = responses.copy()
    for s in codebook.scales.values():
        for item in s.reverse:
            out[item] = s.min + s.max - out[item]
    return out


def score_scales(responses: pd.DataFrame, codebook: Codebook, keys=("participant_id", "wave")) -> pd.DataFrame:
    """Score every scale of the codebook.

    Returns
    -------
    pandas.DataFrame
        The ``keys`` columns, then per scale ``<scale>`` (mean of answered,
        reverse-keyed items, NaN when fewer than ``min_answered`` of the items
        were answered) and ``<scale>__answered`` (number of answered items).
    """
    keyed = reverse_key(responses, codebook)
    out = responses[list(keys)].copy()
    for s in codebook.scales.values():
        block = keyed[list(s.items)].to_numpy(dtype=float)
        answered = np.isfinite(block).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.nansum(block, axis=1) / answered
        ok = answered / s.n_items >= s.min_answered - 1e-12
        out[s.name] = np.where(ok & (answered > 0), mean, np.nan)
        out[f"{s.name}__answered"] = answered
    return out


def long_scores(scores: pd.DataFrame, participants: pd.DataFrame, scale: str) -> pd.DataFrame:
    """One scale's scores joined to participant attributes (one row per participant × wave)."""
    cols = ["participant_id", "wave", scale]
    return scores[cols].rename(columns={scale: "score"}).merge(participants, on="participant_id", how="left")
