"""Tables and sentences of the academic report, each built from results.json (or, for two descriptive parts,
the analysis cohort) by a tested function."""

from __future__ import annotations

__all__ = ["population_label", "plan_table", "fielded_dates", "design_paragraphs", "outcome_label",
           "descriptives_table", "smd_flag", "baseline_table", "population_baselines", "attrition_table",
           "attrition_paragraphs", "hypothesis_table", "result_sentence", "e_value", "e_value_sentence",
           "model_sentence", "moderation_statement", "moderation_table", "ph_sentence", "uptake_sentence",
           "reliability_table", "item_table"]

import json
import math

import numpy as np
import pandas as pd

from rmstudy.report.academic_format import (ARM_NAMES, ARMS, SMD_FLAG, esc, fmt_count, fmt_ci, fmt_df, fmt_bf,
                                            fmt_num, fmt_p, fmt_p_eq, fmt_r, is_missing, pct)
from rmstudy.report.academic_refs import guideline

# --------------------------------------------------------------------------------------------- plan & design
def population_label(population: dict | None) -> str:
    """'everyone', 'role = junior', 'role = junior, age ≤ 35'."""
    if not population:
        return "everyone"
    parts = []
    for k, v in population.items():
        if k == "age" and isinstance(v, dict):
            if "min" in v:
                parts.append(f"age ≥ {v['min']:g}")
            if "max" in v:
                parts.append(f"age ≤ {v['max']:g}")
        elif isinstance(v, list):
            parts.append(f"{k} in {{{', '.join(map(str, v))}}}")
        else:
            parts.append(f"{k} = {v}")
    return ", ".join(parts)


def plan_table(study) -> pd.DataFrame:
    """The plan's hypotheses as a table (human column names)."""
    rows = []
    for h in study.hypotheses:
        sesoi = "–"
        if h.sesoi is not None:
            sesoi = {"d": f"d = {h.sesoi:g}", "raw": f"{h.sesoi:g} scale points",
                     "hazard_ratio": f"HR = {h.sesoi:g}"}.get(h.sesoi_units, f"{h.sesoi:g} ({h.sesoi_units})")
        rows.append({"ID": h.id, "Hypothesis": h.label, "Outcome": h.outcome, "Population": population_label(h.population),
                     "Contrast": " → ".join(h.contrast) if h.contrast else "time to voluntary exit",
                     "Expected": h.direction, "Family": h.family, "SESOI": sesoi})
    return pd.DataFrame(rows)


def fielded_dates(responses: pd.DataFrame, waves, offsets: dict | None = None, start=None) -> pd.DataFrame:
    """Survey dates per wave from ``submitted_on``: first, median and last date and the number of responses.

    ``offsets`` (study.yaml ``wave_offsets_days``) and ``start`` (programme start) add the planned date."""
    rows = []
    dates = pd.to_datetime(responses["submitted_on"], errors="coerce") if "submitted_on" in responses else None
    for w in waves:
        at = responses["wave"] == w
        d = dates[at].dropna() if dates is not None else pd.Series(dtype="datetime64[ns]")
        planned = "–"
        if offsets and w in offsets and start is not None:
            planned = (pd.Timestamp(start) + pd.Timedelta(days=int(offsets[w]))).date().isoformat()
        rows.append({"Wave": w, "Planned": planned,
                     "First response": d.min().date().isoformat() if len(d) else "not recorded",
                     "Median": d.sort_values().iloc[(len(d) - 1) // 2].date().isoformat() if len(d) else "not recorded",
                     "Last response": d.max().date().isoformat() if len(d) else "not recorded",
                     "Responses dated": f"{len(d)} of {int(at.sum())}"})
    return pd.DataFrame(rows)


def design_paragraphs(study, res: dict) -> list[str]:
    """Design, programme, comparison group and matching as HTML paragraphs (from the plan)."""
    g = guideline(study)
    prog = (getattr(study, "raw", None) or {}).get("programme") or {}
    out = [g["sentence"]]
    a = g["assignment"]
    design = {"nonrandomised": "a non-randomised (self-selected) controlled pre/post design",
              "randomised": "a randomised controlled design", "waitlist": "a randomised wait-list controlled design"}[a]
    waves = list(study.waves)
    single = any(r.get("design") == "single_arm" for r in res["hypotheses"])
    out.append(f"<b>Design.</b> The study used {design if not single else 'a single-arm pre/post design'} with "
               f"{len(waves)} survey wave{'s' if len(waves) != 1 else ''} ({', '.join(esc(w) for w in waves)}); the "
               f"programme started on {study.programme_start.isoformat()} and employment records were followed up to "
               f"{study.censor_date.isoformat()}.")
    if prog.get("description"):
        out.append(f"<b>Programme.</b> {esc(prog['description'])}")
    else:
        out.append("<b>Programme.</b> Not described in study.yaml (add <code>programme.description</code>).")
    details = []
    if prog.get("session_format"):
        details.append(f"sessions were {esc(prog['session_format'])}")
    if prog.get("session_length_minutes"):
        details.append(f"each lasting about {prog['session_length_minutes']:g} minutes")
    if prog.get("sessions_planned") is not None:
        details.append(f"{int(prog['sessions_planned'])} sessions were planned per pair")
    if prog.get("duration_weeks"):
        details.append(f"over {prog['duration_weeks']:g} weeks")
    if details:
        out.append("<b>Delivery.</b> " + "; ".join(details).capitalize() + ".")
    out.append("<b>Matching.</b> " + (esc(prog["matching"]) if prog.get("matching") else
                                       "How mentors and mentees were matched is not recorded in study.yaml "
                                       "(add <code>programme.matching</code>)."))
    if prog.get("materials"):
        out.append(f"<b>Materials.</b> {esc(prog['materials'])}")
    if single:
        out.append("<b>Comparison group.</b> None: every estimate is change within the programme, which cannot be "
                   "attributed to the programme.")
    else:
        out.append("<b>Comparison group.</b> " + (esc(study.comparison_group) if study.comparison_group else
                                                   "Not described in study.yaml (add <code>comparison_group</code>)."))
    return out


# --------------------------------------------------------------------------------------------- descriptives
def outcome_label(codebook, outcome: str) -> str:
    """The codebook's label of a scale, or the outcome's name when the codebook has none (or no such scale)."""
    try:
        return codebook[outcome].label
    except (KeyError, TypeError, AttributeError):
        return outcome


def descriptives_table(res: dict, codebook, waves) -> pd.DataFrame:
    """Mean, SD and n by arm × wave for every survey outcome, in each hypothesis's analysed population."""
    rows = []
    for r in res["hypotheses"]:
        cm = res.get("descriptives", {}).get("cell_means", {}).get(r["id"])
        if not cm:
            continue
        d = pd.DataFrame(cm)
        for w in waves:
            row = {"Hypothesis": r["id"], "Outcome": outcome_label(codebook, r["outcome"]).split(" (")[0],
                   "Population": population_label(r.get("population")), "Wave": w}
            for a in ARMS:
                c = d[(d["arm"] == a) & (d["wave"] == w)]
                if c.empty:
                    row.update({f"{ARM_NAMES[a]} M (SD)": "–", f"{ARM_NAMES[a]} n": "0"})
                    continue
                c = c.iloc[0]
                row.update({f"{ARM_NAMES[a]} M (SD)": f"{fmt_num(c['mean'])} ({fmt_num(c['sd'])})",
                            f"{ARM_NAMES[a]} n": fmt_count(c["n"])})
            rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------- baseline
def smd_flag(smd) -> str:
    """A standardised mean difference as text, with '†' when its size is above SMD_FLAG; '–' when absent."""
    if is_missing(smd):
        return "–"
    return fmt_num(smd) + (" †" if abs(smd) > SMD_FLAG else "")


def baseline_table(rows: list[dict], codebook=None) -> pd.DataFrame:
    """A baseline table (rows as :func:`rmstudy.checks.quality.baseline_table` records them) in APA form:
    M (SD) or % (n) per arm and the SMD, flagged with † when |SMD| > 0.1. Rows with no data are left out."""
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
    covariates its hypotheses name. Returns ``[{population, label, hypotheses, rows}]`` (rows as
    :func:`rmstudy.checks.quality.baseline_table`)."""
    import dataclasses

    from rmstudy.checks.quality import baseline_table as _baseline
    from rmstudy.checks.quality import standardised_mean_difference as _smd
    from rmstudy.contract.cohort import select_population

    out = []
    for pop, ids, covs in _populations(cohort.study):
        P = select_population(cohort.participants, pop)
        keep = cohort.responses["participant_id"].isin(P["participant_id"])
        sub = dataclasses.replace(cohort, participants=P, responses=cohort.responses[keep])
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
    """results.json's attrition table per arm: enrolled, completers, dropouts and the dropout rate, formatted."""
    t = pd.DataFrame(res["attrition"]["table"])
    return pd.DataFrame({"Arm": t["arm"].map(ARM_NAMES), "Enrolled": t["enrolled"].map(fmt_count),
                         "Completers": t["completers"].map(fmt_count), "Dropouts": t["dropouts"].map(fmt_count),
                         "Dropout rate": t["dropout_rate"].map(pct)})


def attrition_paragraphs(res: dict, codebook=None) -> list[str]:
    """Differential attrition, the dropouts' baseline differences (|SMD| > 0.1) and what they imply."""
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
                   "2019); completers-only analyses (sensitivity section) are not, and would describe a more "
                   "favourable subgroup where completers scored higher. If dropout also depends on the unobserved "
                   "later score (missing not at random), every estimate may be biased in an unknown direction.")
    else:
        out.append("At baseline, dropouts and completers differed by no more than 0.1 SD on any scale, in either arm.")
    out.append("Missing-data method: the mixed models use all available observations (dropouts kept) under MAR given "
               "the observed scores; no values were imputed.")
    return out


# --------------------------------------------------------------------------------------------- results
def hypothesis_table(rows: list[dict]) -> pd.DataFrame:
    """One line per hypothesis: estimate, SE, df, 95% CI, p, adjusted p, effect size with CI, TOST p, BF10,
    decision (APA formats)."""
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
    """The APA results sentence of one hypothesis row."""
    es = r["effect_size"]
    adj = (f", {esc(r['adjustment'])}-adjusted {fmt_p_eq(r['p_adjusted'])}" if r.get("adjustment")
           and r.get("adjustment") != "none" else "")
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
    RR = (1 − 0.5^√HR) / (1 − 0.5^√(1/HR)) (VanderWeele, 2017)."""
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
    """The E-value sentence of a primary result (point estimate and confidence limit); '' when none applies."""
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
    σ² and ICC, with the observations and participants."""
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
    """Multiplicity for moderation: how many tests, that they are exploratory and unadjusted."""
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
    partner rows where there are any); 'not estimable' rows say so."""
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
    """The proportional-hazards check in honest words: 'no evidence against', never 'the assumption holds'."""
    g = next((z for z in d["zph"] if z["term"] == "GLOBAL"), d["zph"][-1])
    test = f"global χ²({g['df']}) = {g['chisq']:.2f}, {fmt_p_eq(g['p_value'])}"
    if g["p_value"] >= alpha:
        return (f"The Grambsch–Therneau test found no evidence against proportional hazards ({test}); with "
                f"{fmt_count(d['cox_efron']['events'])} events the test has limited power, so this does not show that "
                "the hazards are proportional.")
    return (f"The Grambsch–Therneau test found evidence against proportional hazards ({test}). The hazard ratio is "
            "then an average over follow-up: read the retention at the horizons and the Kaplan–Meier curves.")


def uptake_sentence(participants: pd.DataFrame | None, study) -> str:
    """Dose delivered (TREND item 4, CONSORT-SPI 5): sessions attended by programme participants, beside the
    sessions planned when the plan gives them. Empty when participants.csv has no ``sessions_attended``."""
    if participants is None or "sessions_attended" not in participants:
        return ""
    x = pd.to_numeric(participants.loc[participants["arm"] == "program", "sessions_attended"], errors="coerce").dropna()
    if x.empty:
        return ""
    planned = ((getattr(study, "raw", None) or {}).get("programme") or {}).get("sessions_planned")
    share = (f"; {100 * (x >= planned).mean():.0f}% attended all {int(planned)} planned sessions"
             if planned else "")
    n_prog = int((participants["arm"] == "program").sum())
    return (f"<b>Uptake.</b> Programme participants attended M = {fmt_num(x.mean())} sessions (SD = "
            f"{fmt_num(x.std(ddof=1))}; median {x.median():g}, range {x.min():g}–{x.max():g}; n = {len(x)} of "
            f"{n_prog} with a recorded count){share}.")


def reliability_table(rows: list[dict]) -> pd.DataFrame:
    """The reliability rows of results.json formatted for the report: n, items, α with its 95% CI, ω total, ω h and the
    mean inter-item r."""
    d = pd.DataFrame(rows)
    return pd.DataFrame({"Scale": d["scale"], "Wave": d["wave"], "Group": d["role"], "n": d["n"].map(fmt_count),
                         "k": d["k"].map(fmt_count), "α": d["alpha"].map(fmt_r),
                         "95% CI": [fmt_ci(a, b, r=True) for a, b in zip(d["alpha_ci_low"], d["alpha_ci_high"])],
                         "ω total": d["omega"].map(fmt_r),
                         "ω h": d["omega_h"].map(fmt_r) if "omega_h" in d else "–",
                         "Mean r": d["average_r"].map(fmt_r)})


def item_table(items: list[dict], waves) -> pd.DataFrame:
    """Item statistics of the whole sample ('all'), one row per item and the waves side by side: M (SD), item–rest r
    and α if deleted. (Per-role item statistics are in results.json, psychometrics.items.)"""
    d = pd.DataFrame(items)
    if d.empty:
        return d
    d = d[d["role"] == "all"] if (d["role"] == "all").any() else d
    rows = []
    for (scale, item), g in d.groupby(["scale", "item"], sort=False):
        row = {"Scale": scale, "Item": item}
        for w in waves:
            x = g[g["wave"] == w]
            if x.empty:
                row.update({f"{w}: n": "–", f"{w}: M (SD)": "–", f"{w}: r drop": "–", f"{w}: α if del.": "–"})
                continue
            x = x.iloc[0]
            row.update({f"{w}: n": fmt_count(x["n"]), f"{w}: M (SD)": f"{fmt_num(x['mean'])} ({fmt_num(x['sd'])})",
                        f"{w}: r drop": fmt_r(x["r_drop"]), f"{w}: α if del.": fmt_r(x["alpha_if_deleted"])})
        rows.append(row)
    return pd.DataFrame(rows)


