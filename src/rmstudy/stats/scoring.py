"""Scale scoring driven only by the codebook.

Reverse keys (``min + max - x``), then the scale score is the mean of the
answered items when the answered share reaches the scale's ``min_answered``
(default 0.8), else missing.
"""

from __future__ import annotations

__all__ = ["reverse_key", "keyed_answers", "score_scales", "long_scores"]

import numpy as np
import pandas as pd

from rmstudy.contract.codebook import Codebook


def reverse_key(responses: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Return a copy of ``responses`` with every reverse-keyed item recoded (min + max − x).

    Parameters
    ----------
    responses : DataFrame
        responses.csv as loaded (items as float).
    codebook : Codebook

    Returns
    -------
    DataFrame
        The recoded copy (missing answers stay NaN).

    Examples
    --------
    >>> import numpy as np
    >>> from rmstudy.contract.codebook import parse_codebook
    >>> cb = parse_codebook({"scales": {"s": {"items": ["q1", "q2", "q3"], "min": 1, "max": 5, "reverse": ["q3"]}}})
    >>> R = pd.DataFrame({"participant_id": ["a", "b"], "wave": ["pre", "pre"],
    ...                   "q1": [4.0, 2.0], "q2": [5.0, np.nan], "q3": [2.0, np.nan]})
    >>> reverse_key(R, cb)["q3"].tolist()
    [4.0, nan]
    """
    return keyed_answers(responses, codebook).copy()      # the recoding rule lives in keyed_answers alone


def keyed_answers(responses: pd.DataFrame, codebook: Codebook, participants: pd.DataFrame | None = None,
                  columns=(), inner: bool = False) -> pd.DataFrame:
    """The answers reverse-keyed (:func:`reverse_key`) with participant ``columns`` joined on ``participant_id``,
    for reading only: the columns that do not change are shared with ``responses``, not copied (at 100,000
    people a copy of the answers is about 125 MB, and a merge makes two).

    Parameters
    ----------
    responses : DataFrame
        responses.csv as loaded.
    codebook : Codebook
    participants : DataFrame, optional
        One row per ``participant_id`` (required when ``columns`` is given).
    columns : the participant columns to add (a participant missing from ``participants`` gets NaN).
    inner : drop the answers of people missing from ``participants`` (as an inner merge would).

    Returns
    -------
    DataFrame
        ``responses``' rows, index and columns, recoded, plus ``columns``. Do not write into it.

    Examples
    --------
    >>> from rmstudy.contract.codebook import parse_codebook
    >>> cb = parse_codebook({"scales": {"s": {"items": ["q1", "q2"], "min": 1, "max": 5, "reverse": ["q2"]}}})
    >>> R = pd.DataFrame({"participant_id": ["a", "b", "c"], "q1": [4.0, 2.0, 1.0], "q2": [5.0, np.nan, 2.0]})
    >>> P = pd.DataFrame({"participant_id": ["b", "a"], "role": ["senior", "junior"]})
    >>> keyed_answers(R, cb, P, ["role"], inner=True)
      participant_id   q1   q2    role
    0              a  4.0  1.0  junior
    1              b  2.0  NaN  senior
    >>> R["q2"].tolist()                                 # the answers themselves are untouched
    [5.0, nan, 2.0]
    """
    out = responses.copy(deep=False)
    for s in codebook.scales.values():
        for item in s.reverse:
            out[item] = s.min + s.max - responses[item]        # a new column; the shared ones are never written
    columns = list(columns)
    if columns:
        if participants is None:
            raise ValueError("keyed_answers: columns need participants")
        lookup = participants.set_index("participant_id")[columns]
        pos = lookup.index.get_indexer(out["participant_id"])
        if inner and (pos < 0).any():
            out, pos = out[pos >= 0], pos[pos >= 0]
        for c in columns:
            values = lookup[c].take(np.maximum(pos, 0)).to_numpy()
            if (pos < 0).any():
                values = pd.Series(values).where(pos >= 0).to_numpy()
            out[c] = values
    return out


def _score_block(block: np.ndarray, share: float) -> tuple[np.ndarray, np.ndarray]:
    answered = np.isfinite(block).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(block, axis=1) / answered
    ok = (answered / block.shape[1] >= share - 1e-12) & (answered > 0)
    return np.where(ok, mean, np.nan), answered


def score_scales(responses: pd.DataFrame, codebook: Codebook, keys=("participant_id", "wave")) -> pd.DataFrame:
    """Score every scale (and subscale) of the codebook.

    Parameters
    ----------
    responses : DataFrame
        responses.csv as loaded (items as float, not yet reverse-keyed).
    codebook : Codebook
    keys : tuple of str
        The columns that identify a row, kept in front.

    Returns
    -------
    pandas.DataFrame
        The ``keys`` columns, then per scale:

        * ``<scale>``: mean of the answered, reverse-keyed items; NaN when fewer
          than the scale's ``min_answered`` share of its items were answered;
        * ``<scale>__sum``: the prorated sum, mean × number of items (so a sum
          stays on the full scale's range when an item is missing);
        * ``<scale>__answered``: number of answered items;
        * ``<scale>.<subscale>``: the same mean rule within each subscale.

    Examples
    --------
    >>> import numpy as np
    >>> from rmstudy.contract.codebook import parse_codebook
    >>> cb = parse_codebook({"scales": {"s": {"items": ["q1", "q2", "q3"], "min": 1, "max": 5, "reverse": ["q3"]}}})
    >>> R = pd.DataFrame({"participant_id": ["a", "b"], "wave": ["pre", "pre"],
    ...                   "q1": [4.0, 2.0], "q2": [5.0, np.nan], "q3": [2.0, np.nan]})
    >>> out = score_scales(R, cb)                    # b answered 1 of 3 items: below the default 80 %
    >>> out["s"].round(3).tolist(), out["s__answered"].tolist()
    ([4.333, nan], [3, 1])
    """
    keyed = keyed_answers(responses, codebook)          # read only: no copy of the answers
    out = responses[list(keys)].copy()
    for s in codebook.scales.values():
        mean, answered = _score_block(keyed[list(s.items)].to_numpy(dtype=float), s.min_answered)
        out[s.name] = mean
        out[f"{s.name}__sum"] = mean * s.n_items
        out[f"{s.name}__answered"] = answered
        for sub, items in s.subscales.items():
            out[f"{s.name}.{sub}"] = _score_block(keyed[list(items)].to_numpy(dtype=float), s.min_answered)[0]
    return out


def long_scores(scores: pd.DataFrame, participants: pd.DataFrame, scale: str) -> pd.DataFrame:
    """One scale's scores joined to participant attributes (one row per participant × wave): ``participant_id,
    wave, score`` and then every participants.csv column, the long format the models take.

    Parameters
    ----------
    scores : DataFrame
        :func:`score_scales`'s output.
    participants : DataFrame
        participants.csv as loaded.
    scale : str
        The scale's column in ``scores``.

    Returns
    -------
    DataFrame
        ``participant_id, wave, score``, then the participants' columns.

    Examples
    --------
    >>> scores = pd.DataFrame({"participant_id": ["a", "a", "b"], "wave": ["pre", "post", "pre"],
    ...                        "s": [3.0, 4.0, 2.5]})
    >>> P = pd.DataFrame({"participant_id": ["a", "b"], "arm": ["program", "control"]})
    >>> long_scores(scores, P, "s").values.tolist()
    [['a', 'pre', 3.0, 'program'], ['a', 'post', 4.0, 'program'], ['b', 'pre', 2.5, 'control']]
    """
    cols = ["participant_id", "wave", scale]
    return scores[cols].rename(columns={scale: "score"}).merge(participants, on="participant_id", how="left")
