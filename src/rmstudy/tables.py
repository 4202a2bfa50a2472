"""Formatting results for the reports (rounding happens here and only here)."""

from __future__ import annotations

__all__ = ["apa_p", "num", "hypothesis_table", "reliability_apa", "flow_table", "ci", "show"]

import math

import pandas as pd


def num(x, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}f}"


def apa_p(p) -> str:
    """APA style: no leading zero, three decimals, '< .001'."""
    if p is None:
        return "–"
    if p < 0.001:
        return "< .001"
    return f"{p:.3f}".lstrip("0") if p < 1 else "1.000"


def ci(lo, hi, digits: int = 2) -> str:
    return f"[{num(lo, digits)}, {num(hi, digits)}]"


def hypothesis_table(rows: list[dict]) -> pd.DataFrame:
    """One line per hypothesis: estimate, SE, df, 95% CI, p, adjusted p, effect size with CI, decision."""
    out = []
    for r in rows:
        es = r["effect_size"]
        out.append({"Hypothesis": r["id"], "Outcome": r["outcome"], "Family": r["family"],
                    "Estimate": num(r["estimate"], 3), "SE": num(r["se"], 3), "df": num(r["df"], 1),
                    "95% CI": ci(r["ci_low"], r["ci_high"], 3), "p": apa_p(r["p_value"]),
                    f"p adj.": f"{apa_p(r['p_adjusted'])} ({r.get('adjustment', '')})",
                    "Effect size": f"{es['name']} = {num(es['value'])} {ci(es['ci_low'], es['ci_high'])}",
                    "TOST p": apa_p(r.get("tost_p")), "Decision": r["decision"]})
    return pd.DataFrame(out)


def reliability_apa(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    return pd.DataFrame({"Scale": df["scale"], "Wave": df["wave"], "Group": df["role"], "n": df["n"], "k": df["k"],
                         "α": df["alpha"].map(lambda v: num(v).lstrip("0") if v is not None else "–"),
                         "95% CI (Feldt)": [ci(a, b).replace("0.", ".") for a, b in zip(df["alpha_ci_low"], df["alpha_ci_high"])],
                         "α std.": df["alpha_std"].map(lambda v: num(v).lstrip("0")),
                         "ω total": df["omega"].map(lambda v: num(v).lstrip("0") if v is not None else "–"),
                         "ω h": df.get("omega_h", pd.Series([None] * len(df))).map(
                             lambda v: num(v).lstrip("0") if v is not None and v == v else "–"),
                         "mean r": df["average_r"].map(lambda v: num(v).lstrip("0"))})


def flow_table(flow: dict) -> pd.DataFrame:
    return pd.DataFrame(flow["stages"]).rename(columns={"stage": "Stage", "program": "Programme", "control": "Comparison"})


def show(df: pd.DataFrame, index: bool = False):
    """Display a table in a report: HTML without the row index (unless asked), numbers as given."""
    from IPython.display import HTML, display

    display(HTML(df.to_html(index=index, na_rep="–", border=0, classes="dataframe")))
