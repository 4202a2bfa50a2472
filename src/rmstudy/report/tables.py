"""Formatting results for the reports (rounding happens here and only here)."""

from __future__ import annotations

__all__ = ["apa_p", "num", "hypothesis_table", "reliability_apa", "flow_table", "ci", "show"]

import math

import pandas as pd


def num(x, digits: int = 2) -> str:
    """A number with ``digits`` decimals; "–" for a missing one (None or NaN).

    Parameters
    ----------
    x : float or None
    digits : int

    Returns
    -------
    str

    Examples
    --------
    >>> num(3.14159), num(2, 1), num(None), num(float("nan"))
    ('3.14', '2.0', '–', '–')
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}f}"


def apa_p(p) -> str:
    """APA style: no leading zero, three decimals, '< .001'.

    Parameters
    ----------
    p : float or None

    Returns
    -------
    str

    Examples
    --------
    >>> apa_p(0.0312), apa_p(0.0004), apa_p(1.0), apa_p(None)
    ('.031', '< .001', '1.000', '–')
    """
    if p is None:
        return "–"
    if p < 0.001:
        return "< .001"
    return f"{p:.3f}".lstrip("0") if p < 1 else "1.000"


def ci(lo, hi, digits: int = 2) -> str:
    """A confidence interval as "[lo, hi]" (:func:`num` for each end).

    Parameters
    ----------
    lo, hi : float or None
    digits : int

    Returns
    -------
    str

    Examples
    --------
    >>> ci(0.1234, 0.5), ci(None, 0.5)
    ('[0.12, 0.50]', '[–, 0.50]')
    """
    return f"[{num(lo, digits)}, {num(hi, digits)}]"


def hypothesis_table(rows: list[dict]) -> pd.DataFrame:
    """One line per hypothesis: estimate, SE, df, 95% CI, p, adjusted p, effect size with CI, decision.

    Parameters
    ----------
    rows : list of dict
        results.json's ``hypotheses``.

    Returns
    -------
    DataFrame
        Text cells, rounded for the report.

    Examples
    --------
    >>> r = {"id": "H1", "outcome": "engagement", "family": "primary", "estimate": 0.31, "se": 0.1, "df": 112.4,
    ...      "ci_low": 0.11, "ci_high": 0.51, "p_value": 0.0026, "p_adjusted": 0.0052, "adjustment": "holm",
    ...      "effect_size": {"name": "d_ppc2", "value": 0.4, "ci_low": 0.14, "ci_high": 0.66}, "decision": "supported"}
    >>> hypothesis_table([r]).loc[0, ["95% CI", "p adj.", "Effect size", "TOST p"]].tolist()
    ['[0.110, 0.510]', '.005 (holm)', 'd_ppc2 = 0.40 [0.14, 0.66]', '–']
    """
    out = []
    for r in rows:
        es = r["effect_size"]
        out.append({"Hypothesis": r["id"], "Outcome": r["outcome"], "Family": r["family"],
                    "Estimate": num(r["estimate"], 3), "SE": num(r["se"], 3), "df": num(r["df"], 1),
                    "95% CI": ci(r["ci_low"], r["ci_high"], 3), "p": apa_p(r["p_value"]),
                    "p adj.": f"{apa_p(r['p_adjusted'])} ({r.get('adjustment', '')})",
                    "Effect size": f"{es['name']} = {num(es['value'])} {ci(es['ci_low'], es['ci_high'])}",
                    "TOST p": apa_p(r.get("tost_p")), "Decision": r["decision"]})
    return pd.DataFrame(out)


def reliability_apa(rows: list[dict]) -> pd.DataFrame:
    """The reliability rows of results.json as an APA table: α with its Feldt CI, standardised α, ω total, ω h and
    the mean inter-item r, without leading zeros.

    Parameters
    ----------
    rows : list of dict
        results.json's reliability rows.

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> rows = [{"scale": "engagement", "wave": "pre", "role": "all", "n": 120, "k": 6, "alpha": 0.871, "alpha_ci_low": 0.83,
    ...          "alpha_ci_high": 0.902, "alpha_std": 0.874, "omega": 0.88, "average_r": 0.53}]
    >>> reliability_apa(rows).loc[0, ["α", "95% CI (Feldt)", "ω total", "ω h"]].tolist()
    ['.87', '[.83, .90]', '.88', '–']
    """
    df = pd.DataFrame(rows)
    return pd.DataFrame({"Scale": df["scale"], "Wave": df["wave"], "Group": df["role"], "n": df["n"], "k": df["k"],
                         "α": df["alpha"].map(lambda v: num(v).lstrip("0") if v is not None else "–"),
                         "95% CI (Feldt)": [ci(a, b).replace("0.", ".") for a, b in zip(df["alpha_ci_low"], df["alpha_ci_high"])],
                         "α std.": df["alpha_std"].map(lambda v: num(v).lstrip("0")),
                         "ω total": df["omega"].map(lambda v: num(v).lstrip("0") if v is not None else "–"),
                         "ω h": df.get("omega_h", pd.Series([None] * len(df))).map(
                             lambda v: num(v).lstrip("0") if v is not None and v == v else "–"),
                         "mean r": df["average_r"].map(lambda v: num(v).lstrip("0"))})


def _stage_label(stage: str) -> str:
    if stage == "invited":
        return "Assessed for eligibility (invited)"
    if stage == "enrolled":
        return "Allocated (enrolled)"
    if stage.startswith("responded_"):
        return f"Responded at {stage[len('responded_'):]}"
    if stage.startswith("scored_"):
        return f"  of whom scored at {stage[len('scored_'):]} (at least one scale)"
    if stage == "analysed":
        return "Analysed (at least one scored response)"
    return stage


def flow_table(flow: dict) -> pd.DataFrame:
    """The participant flow as a CONSORT-style table, per arm and in total.

    Stages in order: assessed (``invited``, when the plan gives it) → allocated → the response rows excluded
    from every survey analysis, one line per reason (after the exit date; duplicate submissions) → responded
    and scored per wave → analysed. Counts are people, except the exclusion lines, which count response rows.

    Parameters
    ----------
    flow : dict
        :func:`rmstudy.checks.quality.participant_flow`'s result.

    Returns
    -------
    DataFrame
        ``Stage``, ``Programme``, ``Comparison``, ``Total``.

    Examples
    --------
    >>> flow = {"stages": [{"stage": "enrolled", "program": 40, "control": 38},
    ...                    {"stage": "responded_pre", "program": 36, "control": 35}],
    ...         "exclusions": [{"analysis": "all survey analyses", "reason": "duplicate submission", "program": 2, "control": 0}]}
    >>> flow_table(flow).values.tolist()
    [['Allocated (enrolled)', 40, 38, 78], ['Response rows excluded from every survey analysis: duplicate submission', 2, 0, 2], ['Responded at pre', 36, 35, 71]]
    """
    rows = []
    excluded = [e for e in flow["exclusions"] if e["analysis"] == "all survey analyses"]
    for s in flow["stages"]:
        if s["stage"].startswith("responded_") and excluded:
            rows += [{"Stage": f"Response rows excluded from every survey analysis: {e['reason']}",
                      "program": e["program"], "control": e["control"]} for e in excluded]
            excluded = []
        rows.append({"Stage": _stage_label(s["stage"]), "program": s["program"], "control": s["control"]})
    df = pd.DataFrame(rows, columns=["Stage", "program", "control"])
    both = df["program"].notna() & df["control"].notna()
    df["Total"] = pd.Series([int(a) + int(b) if ok else None for a, b, ok in zip(df["program"], df["control"], both)],
                            index=df.index, dtype=object)
    return df.rename(columns={"program": "Programme", "control": "Comparison"})


def show(df: pd.DataFrame, index: bool = False):
    """Display a table in a report: HTML without the row index (unless asked), numbers as given.

    Parameters
    ----------
    df : DataFrame
    index : bool
        Show the row index.
    """
    from IPython.display import HTML, display

    display(HTML(df.to_html(index=index, na_rep="–", border=0, classes="dataframe")))
