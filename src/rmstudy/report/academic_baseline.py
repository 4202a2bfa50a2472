"""Baseline and attrition tables and sentences of the academic report: baseline characteristics by arm and
population (standardised mean differences), dropout by arm and what the dropouts' baselines imply.

Split from :mod:`rmstudy.report.academic_tables`; :func:`population_baselines` reads the analysis cohort (descriptive
statistics, no model), the rest results.json."""

from __future__ import annotations

__all__ = ["smd_flag", "baseline_table", "population_baselines", "attrition_table", "attrition_paragraphs"]

import json
import math

import numpy as np
import pandas as pd

from rmstudy.report.academic_format import (ARM_NAMES, ARMS, SMD_FLAG, esc, fmt_count, fmt_num, fmt_p_eq,
                                            is_missing, pct)
from rmstudy.report.academic_tables import outcome_label, population_label


# --------------------------------------------------------------------------------------------- baseline
def smd_flag(smd) -> str:
    """A standardised mean difference as text, with '†' when its size is above SMD_FLAG (0.1); '–' when absent.

    Parameters
    ----------
    smd : float or None

    Returns
    -------
    str

    Examples
    --------
    >>> smd_flag(-0.25), smd_flag(0.05), smd_flag(None)
    ('−0.25 †', '0.05', '–')
    """
    if is_missing(smd):
        return "–"
    return fmt_num(smd) + (" †" if abs(smd) > SMD_FLAG else "")


def baseline_table(rows: list[dict], codebook=None) -> pd.DataFrame:
    """A baseline table (rows as :func:`rmstudy.checks.quality.baseline_table` records them) in APA form:
    M (SD) or % (n) per arm and the SMD, flagged with † when |SMD| > 0.1. Rows with no data are left out.

    Parameters
    ----------
    rows : list of dict
        Baseline rows (``variable``, ``kind``, ``{arm}_mean``, ``{arm}_sd``, ``{arm}_n``, ``smd``).
    codebook : the codebook, for the labels of baseline scores (optional).

    Returns
    -------
    DataFrame
        Columns Characteristic, Statistic, one per arm, and SMD.

    Examples
    --------
    >>> rows = [{"variable": "age", "kind": "mean (sd)", "program_mean": 34.0, "program_sd": 6.1, "program_n": 40,
    ...          "control_mean": 36.5, "control_sd": 7.0, "control_n": 38, "smd": -0.38},
    ...         {"variable": "role = junior", "kind": "share", "program_mean": 0.5, "program_n": 20,
    ...          "control_mean": 0.47, "control_n": 18, "smd": 0.06}]
    >>> baseline_table(rows).values.tolist()
    [['age', 'M (SD)', '34.00 (6.10), n = 40', '36.50 (7.00), n = 38', '−0.38 †'],
     ['role = junior', '% (n)', '50.0% (20)', '47.0% (18)', '0.06']]
    """
    out = []
    for r in rows:
        if not r.get("program_n") and not r.get("control_n"):
            continue
        var = r["variable"]
        if var.endswith(" (baseline)"):
            var = outcome_label(codebook, var[: -len(" (baseline)")]) + " (baseline score)"
        cells = {}
        for a in ARMS:
            m, sd, n = r.get(f"{a}_mean"), r.get(f"{a}_sd"), r.get(f"{a}_n")
            if r["kind"] == "share":
                cells[ARM_NAMES[a]] = "–" if is_missing(m) else f"{100 * m:.1f}% ({fmt_count(n)})"
            else:
                cells[ARM_NAMES[a]] = "–" if is_missing(m) else f"{fmt_num(m)} ({fmt_num(sd)}), n = {fmt_count(n)}"
        out.append({"Characteristic": var, "Statistic": "% (n)" if r["kind"] == "share" else "M (SD)", **cells,
                    "SMD": smd_flag(r.get("smd"))})
    return pd.DataFrame(out)


def _populations(study) -> list[tuple[dict, list]]:
    """Distinct populations of the plan's hypotheses, each with the ids of its hypotheses and covariates."""
    seen: dict[str, tuple[dict, list, list]] = {}
    for h in study.hypotheses:
        key = json.dumps(h.population or {}, sort_keys=True, default=str)
        pop, ids, cov = seen.setdefault(key, (h.population or {}, [], []))
        ids.append(h.id)
        cov.extend(c for c in h.covariates if c not in cov)
    return [(p, ids, cov) for p, ids, cov in seen.values()]


def population_baselines(cohort, scores: pd.DataFrame) -> list[dict]:
    """The baseline table of every analysed population of the plan (everyone, juniors only, ...), each with the
    covariates its hypotheses name (descriptive statistics of the analysis cohort, no model).

    Parameters
    ----------
    cohort : the loaded analysis cohort (plan, participants, responses).
    scores : DataFrame
        The scored responses (``participant_id`` and one column per scale).

    Returns
    -------
    list of dict
        ``[{population, label, hypotheses, rows}]`` (rows as :func:`rmstudy.checks.quality.baseline_table`).
    """
    import dataclasses

    from rmstudy.checks.quality import baseline_table as _baseline
    from rmstudy.checks.quality import standardised_mean_difference as _smd
    from rmstudy.contract.cohort import select_population

    out = []
    for pop, ids, covs in _populations(cohort.study):
        P = select_population(cohort.participants, pop)
        keep = cohort.responses["participant_id"].isin(P["participant_id"])
        # the baseline table reads the participants and the scores: the population's responses go with it as ids
        # and waves only (a copy of every answer column per population was most of this function's time at 100,000)
        sub = dataclasses.replace(cohort, participants=P, responses=cohort.responses.loc[keep, ["participant_id", "wave"]])
        rows = _baseline(sub, scores[scores["participant_id"].isin(P["participant_id"])]).to_dict(orient="records")
        have = {r["variable"].split(" = ")[0] for r in rows}
        for c in covs:
            if c in have or c not in P.columns:
                continue
            col = P[c]
            if pd.api.types.is_numeric_dtype(col):
                g = {a: col[P["arm"] == a] for a in ARMS}
                rows.append({"variable": c, "kind": "mean (sd)", **{f"{a}_mean": g[a].mean() for a in ARMS},
                             **{f"{a}_sd": g[a].std(ddof=1) for a in ARMS},
                             **{f"{a}_n": int(g[a].notna().sum()) for a in ARMS}, "smd": _smd(g["program"], g["control"])})
            else:
                col = col.replace("", np.nan)
                for level in sorted(col.dropna().astype(str).unique()):
                    g = {a: (col[P["arm"] == a].astype(str) == level).astype(float).where(col[P["arm"] == a].notna())
                         for a in ARMS}
                    p1, p0 = g["program"].mean(), g["control"].mean()
                    sd = math.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2) if p1 == p1 and p0 == p0 else 0
                    rows.append({"variable": f"{c} = {level}", "kind": "share", "program_mean": p1, "control_mean": p0,
                                 "program_sd": None, "control_sd": None, **{f"{a}_n": int(g[a].sum()) for a in ARMS},
                                 "smd": float((p1 - p0) / sd) if sd > 0 else None})
        out.append({"population": pop, "label": population_label(pop), "hypotheses": ids, "rows": rows})
    return out


# --------------------------------------------------------------------------------------------- attrition
def attrition_table(res: dict) -> pd.DataFrame:
    """results.json's attrition table per arm: enrolled, completers, dropouts and the dropout rate, formatted.

    Parameters
    ----------
    res : a results.json mapping (``attrition.table``).

    Returns
    -------
    DataFrame
        Columns Arm, Enrolled, Completers, Dropouts and Dropout rate.

    Examples
    --------
    >>> t = [{"arm": "program", "enrolled": 40, "completers": 34, "dropouts": 6, "dropout_rate": 0.15}]
    >>> attrition_table({"attrition": {"table": t}}).iloc[0].tolist()
    ['Programme', '40', '34', '6', '15%']
    """
    t = pd.DataFrame(res["attrition"]["table"])
    return pd.DataFrame({"Arm": t["arm"].map(ARM_NAMES), "Enrolled": t["enrolled"].map(fmt_count),
                         "Completers": t["completers"].map(fmt_count), "Dropouts": t["dropouts"].map(fmt_count),
                         "Dropout rate": t["dropout_rate"].map(pct)})


def attrition_paragraphs(res: dict, codebook=None) -> list[str]:
    """Differential attrition, the dropouts' baseline differences (|SMD| > 0.1) and what they imply for the
    missing-data assumption.

    Parameters
    ----------
    res : a results.json mapping (``attrition``). codebook : the codebook, for the scales' labels (optional).

    Returns
    -------
    list of str
        HTML sentences: the dropout rates and their test, the baseline differences, the missing-data method.

    Examples
    --------
    >>> t = [{"arm": "program", "enrolled": 40, "dropout_rate": 0.15},
    ...      {"arm": "control", "enrolled": 38, "dropout_rate": 0.1}]
    >>> test = {"test": "Pearson χ² test", "df": 1, "chi2": 0.41, "p_value": 0.52}
    >>> att = {"table": t, "test": test, "last_wave": "T1", "baseline_by_completion": []}
    >>> out = attrition_paragraphs({"attrition": att})
    >>> print(out[0])
    Dropout (no response at T1) was 15% in the programme and 10% in the comparison group; Pearson χ² test,
    χ²(1) = 0.41, <i>p</i> = .520.
    >>> out[1]
    'At baseline, dropouts and completers differed by no more than 0.1 SD on any scale, in either arm.'
    """
    att = res["attrition"]
    out = []
    t = att.get("test")
    last = att.get("last_wave", "the last wave")
    rates = {r["arm"]: r for r in att["table"]}
    if t:
        out.append(f"Dropout (no response at {esc(last)}) was {pct(rates['program']['dropout_rate'])} in the programme "
                   f"and {pct(rates['control']['dropout_rate'])} in the comparison group; {esc(t['test'])}, "
                   f"χ²({t['df']}) = {t['chi2']:.2f}, {fmt_p_eq(t['p_value'])}.")
    else:
        shown = [f"{pct(r['dropout_rate'])} in the {'programme' if a == 'program' else 'comparison group'}"
                 for a, r in rates.items() if r.get("enrolled")]
        out.append(f"Dropout (no response at {esc(last)}) was " + " and ".join(shown) +
                   "; with one arm (or one wave) there is no test of differential attrition.")
    big = [b for b in att["baseline_by_completion"] if not is_missing(b.get("smd")) and abs(b["smd"]) > SMD_FLAG]
    if big:
        by_scale: dict[str, list] = {}
        for b in big:
            by_scale.setdefault(b["scale"], []).append(b)
        parts = []
        for scale, bs in by_scale.items():
            arms = "; ".join(f"{ARM_NAMES[b['arm']].lower()}: completers M = {fmt_num(b['completers_mean'])}, "
                             f"dropouts M = {fmt_num(b['dropouts_mean'])}, SMD = {fmt_num(b['smd'])}" for b in bs)
            parts.append(f"{esc(outcome_label(codebook, scale))} ({arms})")
        lower = [b for b in big if b["smd"] > 0]
        out.append("At baseline, dropouts differed from completers by more than 0.1 SD on "
                   + "; ".join(parts) + ". " +
                   ("Completers scored higher than dropouts where the SMD is positive. " if lower else "") +
                   "Dropout is therefore related to the observed baseline score, so the data are not missing completely "
                   "at random. The mixed models keep every observed score, including dropouts' baseline, and are "
                   "unbiased if dropout depends only on what was observed (missing at random, MAR; Little &amp; Rubin, "
                   "2019); completers-only analyses (sensitivity section) are not: they describe those who stayed, "
                   + _who_stayed(big, codebook) + ". If dropout also depends on the unobserved later score (missing "
                   "not at random), every estimate may be biased in an unknown direction.")
    else:
        out.append("At baseline, dropouts and completers differed by no more than 0.1 SD on any scale, in either arm.")
    out.append("Missing-data method: the mixed models use all available observations (dropouts kept) under MAR given "
               "the observed scores; no values were imputed.")
    return out


def _who_stayed(big: list, codebook) -> str:
    """How the completers started, scale by scale: better or worse off than the dropouts by each scale's favourable
    end (the codebook's ``favourable``; a cut-off ``at_most`` counts low as favourable), or higher or lower where
    the codebook does not say."""
    groups: dict[str, list[str]] = {}
    for b in big:
        fav = getattr(codebook[b["scale"]], "favourable", None) if codebook is not None and b["scale"] in codebook \
            else None
        low_good = fav == "low" or (isinstance(fav, dict) and "at_most" in fav)
        words = ("higher", "lower") if fav is None else ("worse off", "better off") if low_good else \
            ("better off", "worse off")
        label = f"{esc(outcome_label(codebook, b['scale']))} ({ARM_NAMES[b['arm']].lower()})"
        groups.setdefault(words[0] if b["smd"] > 0 else words[1], []).append(label)
    order = ["better off", "worse off", "higher", "lower"]
    return "who started " + " and ".join(f"{w} than the dropouts on {', '.join(groups[w])}" for w in order if w in groups)
