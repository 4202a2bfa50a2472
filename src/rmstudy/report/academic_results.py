"""The results' tables and sentences of the academic report: the hypotheses table, the APA results sentence, the
E-value, the variance components, the moderation tests and the proportional-hazards check, each from results.json.

Split from :mod:`rmstudy.report.academic_tables`, which re-exports every name."""

from __future__ import annotations

__all__ = ["hypothesis_table", "result_sentence", "e_value", "e_value_sentence", "model_sentence",
           "moderation_statement", "moderation_table", "ph_sentence"]

import math

import pandas as pd

from rmstudy.report.narrative import UNADJUSTED
from rmstudy.report.academic_format import esc, fmt_bf, fmt_ci, fmt_count, fmt_df, fmt_num, fmt_p, fmt_p_eq, fmt_r, is_missing


# --------------------------------------------------------------------------------------------- results
def hypothesis_table(rows: list[dict]) -> pd.DataFrame:
    """One line per hypothesis: estimate, SE, df, 95% CI, p, adjusted p, effect size with CI, TOST p, BF10,
    decision (APA formats).

    Parameters
    ----------
    rows : list of dict
        results.json ``hypotheses`` rows.

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> row = {"id": "H1", "outcome": "trust", "estimate": 0.21, "se": 0.08, "df": 95.3, "ci_low": 0.05,
    ...        "ci_high": 0.37, "p_value": 0.01, "p_adjusted": 0.02, "adjustment": "holm", "tost_p": 0.4,
    ...        "effect_size": {"name": "d_ppc2", "value": 0.3, "ci_low": 0.07, "ci_high": 0.53},
    ...        "bayes_factor_10": 3.2, "decision": "supported"}
    >>> hypothesis_table([row]).iloc[0].tolist()
    ['H1', '0.210', '0.080', '95.3', '[0.050, 0.370]', '.010', '.020', 'd = 0.30 [0.07, 0.53]', '.400', '3.20',
     'supported']
    """
    out = []
    for r in rows:
        es = r["effect_size"]
        ret = r["outcome"] == "retention"
        es_name = {"d_ppc2": "d", "hazard_ratio": "HR"}.get(es["name"], es["name"])
        out.append({"ID": r["id"],
                    "Estimate": fmt_num(r["estimate"], 3), "SE": fmt_num(r["se"], 3), "df": fmt_df(r.get("df")),
                    "95% CI": fmt_ci(r["ci_low"], r["ci_high"], 3), "p": fmt_p(r["p_value"]),
                    "Adjusted p": fmt_p(r.get("p_adjusted")),
                    "Effect size [95% CI]": f"{es_name} = {fmt_num(es['value'])} {fmt_ci(es['ci_low'], es['ci_high'])}",
                    "TOST p": fmt_p(r.get("tost_p")),
                    "BF10": "–" if ret else fmt_bf(r.get("bayes_factor_10"), r.get("log10_bayes_factor_10")), "Decision": r["decision"]})
    return pd.DataFrame(out)


def result_sentence(r: dict) -> str:
    """The APA results sentence of one hypothesis row (survey outcome or retention).

    Parameters
    ----------
    r : dict
        A results.json ``hypotheses`` row.

    Returns
    -------
    str
        HTML.

    Examples
    --------
    >>> row = {"id": "H1", "outcome": "trust", "estimate": 0.21, "se": 0.08, "df": 95.3, "ci_low": 0.05,
    ...        "ci_high": 0.37, "p_value": 0.01, "p_adjusted": 0.02, "adjustment": "holm", "tost_p": 0.4,
    ...        "effect_size": {"name": "d_ppc2", "value": 0.3, "ci_low": 0.07, "ci_high": 0.53},
    ...        "bayes_factor_10": 3.2, "decision": "supported"}
    >>> print(result_sentence(row))
    The difference in change (programme minus comparison) was <i>b</i> = 0.210 scale points, 95% CI [0.050, 0.370],
    <i>t</i>(95.3) = 2.62, <i>p</i> = .010, holm-adjusted <i>p</i> = .020; <i>d</i><sub>ppc2</sub> = 0.30, 95% CI
    [0.07, 0.53]; TOST against the SESOI <i>p</i> = .400; BF<sub>10</sub> = 3.20. Decision: <b>supported</b>.
    """
    es = r["effect_size"]
    adj = (f", {esc(r['adjustment'])}-adjusted {fmt_p_eq(r['p_adjusted'])}"
           if r.get("adjustment") not in UNADJUSTED else "")
    if r["outcome"] == "retention":
        z = r["estimate"] / r["se"] if r.get("se") else float("nan")
        return (f"The hazard ratio of voluntary exit (programme vs comparison) was HR = {fmt_num(es['value'])}, 95% CI "
                f"{fmt_ci(es['ci_low'], es['ci_high'])}; log HR = {fmt_num(r['estimate'], 3)} "
                f"(<i>SE</i> = {fmt_num(r['se'], 3)}), <i>z</i> = {fmt_num(z)}, {fmt_p_eq(r['p_value'])}{adj}. "
                f"Decision: <b>{esc(r['decision'])}</b>.")
    t = r["estimate"] / r["se"] if r.get("se") else float("nan")
    what = ("change within the programme" if r.get("design") == "single_arm"
            else "difference in change (programme minus comparison)")
    stat = (f"<i>t</i>({fmt_df(r['df'])}) = {fmt_num(t)}" if not is_missing(r.get("df")) else f"<i>z</i> = {fmt_num(t)}")
    bf = ""
    if not is_missing(r.get("bayes_factor_10")) or not is_missing(r.get("log10_bayes_factor_10")):
        b = fmt_bf(r.get("bayes_factor_10"), r.get("log10_bayes_factor_10"))
        bf = f"; BF<sub>10</sub> {b}" if b[0] in "<>" else f"; BF<sub>10</sub> = {b}"
    tost = f"; TOST against the SESOI {fmt_p_eq(r['tost_p'])}" if not is_missing(r.get("tost_p")) else ""
    return (f"The {what} was <i>b</i> = {fmt_num(r['estimate'], 3)} scale points, 95% CI "
            f"{fmt_ci(r['ci_low'], r['ci_high'], 3)}, {stat}, {fmt_p_eq(r['p_value'])}{adj}; "
            f"<i>d</i><sub>ppc2</sub> = {fmt_num(es['value'])}, 95% CI {fmt_ci(es['ci_low'], es['ci_high'])}"
            f"{tost}{bf}. Decision: <b>{esc(r['decision'])}</b>.")


def _e(rr: float) -> float:
    rr = 1 / rr if rr < 1 else rr
    return rr + math.sqrt(rr * (rr - 1))


def e_value(r: dict, event_rate: float | None = None) -> dict | None:
    """The E-value (VanderWeele & Ding, 2017) of a hypothesis row: the minimum strength of association, on the risk-
    ratio scale, that an unmeasured confounder would need with both arm and outcome to explain the estimate away
    (``point``), and to move the confidence limit nearer the null to the null (``ci``; 1 when the CI covers the null).

    Survey rows: the standardised difference d converts to RR ≈ exp(0.91 d). Retention rows: the hazard ratio is
    used as a risk ratio when the outcome is rare (``event_rate`` < 15%), else converted with
    RR = (1 − 0.5^√HR) / (1 − 0.5^√(1/HR)) (VanderWeele, 2017).

    Parameters
    ----------
    r : dict
        A results.json ``hypotheses`` row.
    event_rate : float, optional
        The share of exits (retention rows).

    Returns
    -------
    dict or None
        ``rr``, ``point``, ``ci`` and ``conversion``; None without an effect size.

    Examples
    --------
    >>> row = {"id": "H1", "outcome": "trust", "estimate": 0.21, "se": 0.08, "df": 95.3, "ci_low": 0.05,
    ...        "ci_high": 0.37, "p_value": 0.01, "p_adjusted": 0.02, "adjustment": "holm", "tost_p": 0.4,
    ...        "effect_size": {"name": "d_ppc2", "value": 0.3, "ci_low": 0.07, "ci_high": 0.53},
    ...        "bayes_factor_10": 3.2, "decision": "supported"}
    >>> e = e_value(row)
    >>> round(e["rr"], 3), round(e["point"], 3), round(e["ci"], 3)
    (1.314, 1.956, 1.331)
    """
    es = r.get("effect_size") or {}
    v, lo, hi = es.get("value"), es.get("ci_low"), es.get("ci_high")
    if is_missing(v):
        return None
    if r["outcome"] == "retention":
        common = event_rate is not None and event_rate >= 0.15

        def to_rr(h):
            return (1 - 0.5 ** math.sqrt(h)) / (1 - 0.5 ** math.sqrt(1 / h)) if common else h
        rr, rlo, rhi = to_rr(v), to_rr(lo), to_rr(hi)
        conv = ("hazard ratio converted for a common outcome (≥ 15% exits)" if common
                else "hazard ratio taken as a risk ratio (rare outcome)")
    else:
        rr, rlo, rhi = (math.exp(0.91 * x) for x in (v, lo, hi))
        conv = "d converted with RR ≈ exp(0.91 d)"
    covers = rlo <= 1 <= rhi
    near = rlo if rr >= 1 else rhi
    return {"rr": rr, "point": _e(rr), "ci": 1.0 if covers else _e(near), "conversion": conv}


def e_value_sentence(r: dict, event_rate: float | None = None) -> str:
    """The E-value sentence of a primary result (point estimate and confidence limit).

    Parameters
    ----------
    r : dict
        A results.json ``hypotheses`` row.
    event_rate : float, optional
        The share of exits (retention rows).

    Returns
    -------
    str
        HTML; '' when no E-value applies.

    Examples
    --------
    >>> row = {"id": "H1", "outcome": "trust", "estimate": 0.21, "se": 0.08, "df": 95.3, "ci_low": 0.05,
    ...        "ci_high": 0.37, "p_value": 0.01, "p_adjusted": 0.02, "adjustment": "holm", "tost_p": 0.4,
    ...        "effect_size": {"name": "d_ppc2", "value": 0.3, "ci_low": 0.07, "ci_high": 0.53},
    ...        "bayes_factor_10": 3.2, "decision": "supported"}
    >>> e_value_sentence(row).split("; weaker")[0][-74:]
    'outcome by a risk ratio of 1.96 each could explain away the point estimate'
    """
    e = e_value(r, event_rate)
    if e is None:
        return ""
    ci = ("the confidence interval already includes no effect, so no confounding is needed to reach it (E-value "
          "for the CI = 1)" if e["ci"] == 1.0 else
          f"to move the confidence limit nearer the null to no effect, the E-value is {e['ci']:.2f}")
    return (f"<b>E-value</b> (VanderWeele &amp; Ding, 2017; {e['conversion']}): an unmeasured confounder associated with "
            f"both programme participation and the outcome by a risk ratio of {e['point']:.2f} each could explain away the "
            f"point estimate; weaker confounding could not; {ci}.")


def model_sentence(m: dict) -> str:
    """A model's variance components in one sentence: the MMRM's SDs and correlations, else the random intercept's τ²,
    σ² and ICC, with the observations and participants.

    Parameters
    ----------
    m : dict
        A results.json ``models`` entry (its ``variance_components``).

    Returns
    -------
    str

    Examples
    --------
    >>> vc = {"tau2": 0.312, "sigma2": 0.201, "icc": 0.61, "n_obs": 160, "n_groups": 80, "singular": False}
    >>> print(model_sentence({"variance_components": vc}))
    Variance components: participant intercept τ² = 0.312, residual σ² = 0.201, ICC = .61; 160 observations of 80
    participants.
    """
    vc = m["variance_components"]
    if "correlation" in vc:             # MMRM: unstructured covariance over the waves
        corr = [r for i, row in enumerate(vc["correlation"]) for r in row[i + 1:]]
        return (f"Unstructured covariance over {len(vc['waves'])} waves: SD {min(vc['sd']):.2f}–{max(vc['sd']):.2f}, "
                f"correlations {fmt_r(min(corr))}–{fmt_r(max(corr))}; {fmt_count(vc['n_obs'])} observations of "
                f"{fmt_count(vc['n_groups'])} participants.")
    return (f"Variance components: participant intercept τ² = {vc['tau2']:.3f}, residual σ² = {vc['sigma2']:.3f}, "
            f"ICC = {fmt_r(vc['icc'])}; {fmt_count(vc['n_obs'])} observations of {fmt_count(vc['n_groups'])} "
            f"participants" + (" (singular fit)" if vc.get("singular") else "") + ".")


def moderation_statement(res: dict) -> str:
    """Multiplicity for moderation: how many tests, that they are exploratory and unadjusted (and the actor–partner
    models' sentence when there are any).

    Parameters
    ----------
    res : a results.json mapping (``moderation``).

    Returns
    -------
    str
        HTML.

    Examples
    --------
    >>> mods = [{"estimable": True, "interaction": {"p_value": p}} for p in (0.03, 0.4, 0.7)]
    >>> moderation_statement({"moderation": {"H1": mods}}).split(" No moderator")[0][-105:]
    'With 3 tests at α = .05, about 0.2 would fall below .05 by chance alone when no moderation exists; 1 did.'
    """
    mods = [m for ms in res.get("moderation", {}).values() for m in ms if m.get("estimable")]
    n = len(mods)
    small = sum(m["interaction"]["p_value"] < 0.05 for m in mods)
    return (f"All {n} moderation and dose–response tests below are <b>exploratory</b>: their p-values are "
            f"<b>not adjusted</b> for multiplicity (the plan's Holm and Benjamini–Hochberg corrections cover the "
            f"hypotheses, not their moderators). With {n} tests at α = .05, about {0.05 * n:.1f} would fall below .05 by "
            f"chance alone when no moderation exists; {small} did. No moderator result is reported as a finding, and the HR report "
            f"shows a moderator only past a Bonferroni bar over the plan's moderators." + actor_partner_statement(res))


def actor_partner_statement(res: dict) -> str:
    """The actor–partner models (#18) in one sentence: what they are, how many tests, exploratory and unadjusted."""
    aps = [m["actor_partner"] for ms in res.get("moderation", {}).values() for m in ms
           if (m.get("actor_partner") or {}).get("estimable")]
    if not aps:
        return ""
    return (f" The table also gives, for each moderator, an <b>actor–partner</b> model within the programme: change ~ "
            f"wave × (own value + partner's value), both standardised, with pair (or group) and participant random "
            f"intercepts; its rows give the extra change per SD of the participant's own (actor) and of the partner's "
            f"(partner) value. These {2 * len(aps)} tests are also <b>exploratory</b> and <b>not adjusted</b>, and "
            f"read as moderation of the programme effect only if change in the comparison group does not depend on "
            f"the moderator.")


def _actor_partner_rows(hid: str, m: dict) -> list[dict]:
    ap = m.get("actor_partner") or {}
    if not ap.get("estimable"):
        return []
    return [{"Hypothesis": hid, "Moderator": m["moderator"], "Kind": f"actor–partner: {side}",
             "n": fmt_count(ap["n_participants"]),
             "Interaction [95% CI]": f"{fmt_num(e['estimate'], 3)} {fmt_ci(e['ci_low'], e['ci_high'], 3)}",
             "t (df)": f"{fmt_num(e['t'])} ({fmt_df(e['df'])})", "Unadjusted p": fmt_p(e["p_value"]),
             "Per SD": fmt_num(e["estimate"], 3)} for side, e in (("actor", ap["actor"]), ("partner", ap["partner"]))]


def moderation_table(res: dict) -> pd.DataFrame:
    """Every moderation result: interaction with its 95% CI, t (df), unadjusted p and the effect per SD (actor and
    partner rows where there are any); 'not estimable' rows say so.

    Parameters
    ----------
    res : a results.json mapping (``moderation``).

    Returns
    -------
    DataFrame
        Columns Hypothesis, Moderator, Kind, n, Interaction [95% CI], t (df), Unadjusted p and Per SD.

    Examples
    --------
    >>> i = {"estimate": 0.12, "ci_low": -0.02, "ci_high": 0.26, "t": 1.71, "df": 74.0, "p_value": 0.09}
    >>> m = {"moderator": "age", "kind": "moderation", "estimable": True, "n_participants": 80, "interaction": i,
    ...      "per_sd": {"estimate": 0.7}}
    >>> moderation_table({"moderation": {"H1": [m, {"moderator": "sessions", "estimable": False}]}}).values.tolist()
    [['H1', 'age', 'moderation', '80', '0.120 [−0.020, 0.260]', '1.71 (74.0)', '.090', '0.700'],
     ['H1', 'sessions', '', 'not recorded', 'not estimable', '–', '–', '–']]
    """
    rows = []
    for hid, mods in res.get("moderation", {}).items():
        for m in mods:
            if not m.get("estimable"):
                rows.append({"Hypothesis": hid, "Moderator": m["moderator"], "Kind": m.get("kind", ""),
                             "n": fmt_count(m.get("n_participants")), "Interaction [95% CI]": "not estimable",
                             "t (df)": "–", "Unadjusted p": "–", "Per SD": "–"})
                continue
            i = m["interaction"]
            rows.append({"Hypothesis": hid, "Moderator": m["moderator"], "Kind": m["kind"].replace("_", "–"),
                         "n": fmt_count(m["n_participants"]),
                         "Interaction [95% CI]": f"{fmt_num(i['estimate'], 3)} {fmt_ci(i['ci_low'], i['ci_high'], 3)}",
                         "t (df)": f"{fmt_num(i['t'])} ({fmt_df(i['df'])})", "Unadjusted p": fmt_p(i["p_value"]),
                         "Per SD": fmt_num(m["per_sd"]["estimate"], 3)})
            rows += _actor_partner_rows(hid, m)
    return pd.DataFrame(rows)


def ph_sentence(d: dict, alpha: float) -> str:
    """The proportional-hazards check in honest words: 'no evidence against', never 'the assumption holds'.

    Parameters
    ----------
    d : dict
        A results.json ``retention`` entry (``zph``, ``cox_efron``).
    alpha : float
        The plan's alpha.

    Returns
    -------
    str

    Examples
    --------
    >>> d = {"zph": [{"term": "GLOBAL", "df": 1, "chisq": 0.84, "p_value": 0.36}], "cox_efron": {"events": 21}}
    >>> print(ph_sentence(d, 0.05))
    The Grambsch–Therneau test found no evidence against proportional hazards (global χ²(1) = 0.84,
    <i>p</i> = .360); with 21 events the test has limited power, so this does not show that the hazards are proportional.
    """
    g = next((z for z in d["zph"] if z["term"] == "GLOBAL"), d["zph"][-1])
    test = f"global χ²({g['df']}) = {g['chisq']:.2f}, {fmt_p_eq(g['p_value'])}"
    if g["p_value"] >= alpha:
        return (f"The Grambsch–Therneau test found no evidence against proportional hazards ({test}); with "
                f"{fmt_count(d['cox_efron']['events'])} events the test has limited power, so this does not show that "
                "the hazards are proportional.")
    return (f"The Grambsch–Therneau test found evidence against proportional hazards ({test}). The hazard ratio is "
            "then an average over follow-up: read the retention at the horizons and the Kaplan–Meier curves.")
