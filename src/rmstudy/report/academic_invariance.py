"""Measurement invariance in the academic report: the table of results.json's ``psychometrics.invariance`` rows and
the flag placed beside every mean comparison (hypothesis row) whose scale is not shown to be scalar invariant.

A scale *fails scalar invariance* across role, arm or wave when its scalar level's ΔCFI (scalar minus metric) is
below −0.01, or already its metric level's (metric minus configural): scalar invariance requires metric invariance
(Cheung & Rensvold, 2002). A comparison that could not be fitted (too few people, one group) raises no flag; the
table says why it is missing. Nothing here depends on a scale's name; older results.json files without
``invariance`` give an empty table and no flags.
"""

from __future__ import annotations

__all__ = ["INVARIANCE_CUTOFF", "INVARIANCE_MARK", "invariance_table", "noninvariant_scales", "invariance_flag",
           "invariance_note"]

import pandas as pd

from rmstudy.report.academic_format import esc, fmt_count, fmt_num, fmt_r, is_missing

#: ΔCFI below this is read as non-invariance (Cheung & Rensvold, 2002)
INVARIANCE_CUTOFF = -0.01
#: the mark placed beside a hypothesis whose scale fails scalar invariance
INVARIANCE_MARK = "‡"
_ACROSS = {"role": "role", "arm": "arm (first wave)", "wave": "waves"}


def _rows(res: dict) -> list[dict]:
    return list((res.get("psychometrics") or {}).get("invariance") or [])


def invariance_table(res: dict, codebook=None) -> pd.DataFrame:
    """One line per scale × comparison × level: χ² (df), CFI, RMSEA, ΔCFI and n; a comparison that was not fitted
    shows its reason instead. ΔCFI below −0.01 carries the mark.

    Parameters
    ----------
    res : a results.json mapping. codebook : the codebook, for the scales' labels (optional).

    Returns
    -------
    DataFrame
        Columns Scale, Across, Level, χ² (df), CFI, RMSEA, ΔCFI, n and Note (cells formatted as text).

    Examples
    --------
    >>> fit = dict(chisq=31.5, df=11, cfi=0.95, rmsea=0.08, delta_cfi=-0.04, n=120, reason=None, note=None)
    >>> res = {"psychometrics": {"invariance": [{"scale": "trust", "across": "wave", "level": "scalar", **fit}]}}
    >>> invariance_table(res).iloc[0].tolist()
    ['trust', 'waves', 'scalar', '31.50 (11)', '.950', '.080', '−.040 ‡', '120', '']
    """
    out = []
    for r in _rows(res):
        label = r["scale"]
        if codebook is not None and r["scale"] in codebook:
            label = codebook[r["scale"]].label or r["scale"]
        row = {"Scale": label, "Across": _ACROSS.get(r["across"], r["across"]), "Level": r["level"]}
        if r.get("reason"):
            row.update({"χ² (df)": "–", "CFI": "–", "RMSEA": "–", "ΔCFI": "–", "n": fmt_count(r.get("n")),
                        "Note": "not fitted: " + r["reason"]})
        else:
            d = r.get("delta_cfi")
            mark = f" {INVARIANCE_MARK}" if not is_missing(d) and d < INVARIANCE_CUTOFF else ""
            row.update({"χ² (df)": f"{fmt_num(r['chisq'])} ({fmt_count(r['df'])})", "CFI": fmt_r(r["cfi"], 3),
                        "RMSEA": fmt_r(r["rmsea"], 3), "ΔCFI": fmt_r(d, 3) + mark,
                        "n": fmt_count(r["n"]), "Note": r.get("note") or ""})
        out.append(row)
    return pd.DataFrame(out)


def noninvariant_scales(res: dict) -> dict[str, list[dict]]:
    """Scale → the comparisons (``across``, ``level``, ``delta_cfi``) where it fails scalar invariance: the first
    level (metric, else scalar) whose ΔCFI is below the cut-off.

    Parameters
    ----------
    res : a results.json mapping.

    Returns
    -------
    dict
        ``{scale: [{"across", "level", "delta_cfi"}, ...]}``; empty when every fitted scale holds.

    Examples
    --------
    >>> rows = [{"scale": "trust", "across": "wave", "level": "metric", "delta_cfi": -0.002},
    ...         {"scale": "trust", "across": "wave", "level": "scalar", "delta_cfi": -0.04}]
    >>> noninvariant_scales({"psychometrics": {"invariance": rows}})
    {'trust': [{'across': 'wave', 'level': 'scalar', 'delta_cfi': -0.04}]}
    """
    found: dict[str, list[dict]] = {}
    seen = set()
    for r in _rows(res):
        d = r.get("delta_cfi")
        key = (r["scale"], r["across"])
        if r.get("reason") or is_missing(d) or d >= INVARIANCE_CUTOFF or key in seen:
            continue
        seen.add(key)
        found.setdefault(r["scale"], []).append({"across": r["across"], "level": r["level"], "delta_cfi": d})
    return found


def invariance_flag(res: dict, outcome: str) -> str:
    """The mark for a hypothesis on ``outcome`` ("" when its scale is not shown to be non-invariant).

    Parameters
    ----------
    res : a results.json mapping. outcome : the hypothesis's scale.

    Returns
    -------
    str

    Examples
    --------
    >>> res = {"psychometrics": {"invariance": [{"scale": "trust", "across": "arm", "level": "metric",
    ...                                          "delta_cfi": -0.03}]}}
    >>> invariance_flag(res, "trust"), invariance_flag(res, "voice"), invariance_flag({}, "trust")
    ('‡', '', '')
    """
    return INVARIANCE_MARK if outcome in noninvariant_scales(res) else ""


def invariance_note(res: dict, outcome: str) -> str:
    """The sentence placed with a mean comparison on ``outcome`` whose scale fails scalar invariance ("" if none).

    Parameters
    ----------
    res : a results.json mapping. outcome : the hypothesis's scale.

    Returns
    -------
    str
        HTML text.

    Examples
    --------
    >>> res = {"psychometrics": {"invariance": [{"scale": "trust", "across": "arm", "level": "metric",
    ...                                          "delta_cfi": -0.03}]}}
    >>> invariance_note(res, "trust")[83:]
    'across arm (first wave) at the metric level (ΔCFI = −.030), so its means may not be comparable ...'
    >>> invariance_note(res, "voice")
    ''
    """
    fails = noninvariant_scales(res).get(outcome)
    if not fails:
        return ""
    parts = "; ".join(f"across {esc(_ACROSS.get(f['across'], f['across']))} at the {esc(f['level'])} level "
                      f"(ΔCFI = {fmt_r(f['delta_cfi'], 3)})" for f in fails)
    return (f"{INVARIANCE_MARK} <i>Measurement invariance:</i> the scale of this outcome fails scalar invariance "
            f"{parts}, so its means may not be comparable across these groups or waves; read the difference "
            "with caution (see Measurement).")
