"""The HR report's rules in words: what managers can do next, what the results do and do not mean, and who took
part (counts suppressed), each from results.json and the plan.

Split from :mod:`rmstudy.report.hr`, which re-exports :func:`next_steps`, :func:`limits` and :func:`participation`
and builds the report model from them."""

from __future__ import annotations

__all__ = ["next_steps", "limits", "participation"]

import math

from rmstudy.report import narrative, privacy
from rmstudy.report.hr_findings import ARM_WORDS
from rmstudy.report.narrative import fmt, pct


def _round_up(n: float, step: int = 10) -> int:
    return int(math.ceil(n / step) * step)


MEETING_WORDS = {"pairs": "time for the pairs to meet", "groups": "time for the groups to meet"}


def next_steps(rows: list[dict], power: dict, hidden: dict, questions: dict, cohort_size: int,
               mentoring: str = "pairs") -> list[str]:
    """What managers can do with the answers: what to keep, what to look into, what to stop expecting, and how
    large the next cohort should be to settle what is open. ``power`` is results.json ``next_cohort.hypotheses``:
    the planner's simulated size per open question (``factor`` times this cohort, ``n_total`` people; rounded up
    to tens here, never recomputed). ``cohort_size`` is kept for callers; the sizes are the planner's.

    Parameters
    ----------
    rows : the hypothesis rows (results.json). power : the planner's sizes by hypothesis id.
    hidden : the ids of hypotheses not shown. questions : id -> the question in words.
    cohort_size : this cohort's size (unused). mentoring : the plan's mentoring design (its meeting words).

    Returns
    -------
    list of str
        One paragraph per kind of step.

    Examples
    --------
    >>> rows = [{"id": "H1", "family": "primary", "decision": "supported"},
    ...         {"id": "H2", "family": "primary", "decision": "inconclusive"}]
    >>> steps = next_steps(rows, {"H2": {"factor": 2.4, "n_total": 113}}, {}, {"H1": "Trust?", "H2": "Voice?"}, 50)
    >>> [s.split(":")[0] for s in steps], "roughly 120 people" in steps[1]
    (['Keep', 'Try again, larger'], True)
    """
    keep, fix, same, open_, within = [], [], [], [], []
    for r in rows:
        if r["id"] in hidden or r["family"] == "exploratory":
            continue
        q = questions[r["id"]]
        if r["decision"] == "supported" and r.get("design") == "single_arm":
            within.append((r, q))
            continue
        {"supported": keep, "opposite": fix, "equivalent": same, "inconclusive": open_}[r["decision"]].append((r, q))
    out = []
    if within:       # no comparison group: a change within the programme is not the programme's doing
        out.append("Improved within the programme: " + _join([f"“{q}”" for _, q in within]) + ". With no comparison "
                   "group the study cannot tell whether the programme caused this; keep the programme's strong points "
                   "and add a comparison group (for example people waiting for the next round) to find out.")
    if keep:
        out.append("Keep: the programme clearly helped on " + _join([f"“{q}”" for _, q in keep]) +
                   f". Protect what made it work ({MEETING_WORDS.get(mentoring, 'time to take part')}, sponsor "
                   "support) in the next round.")
    if fix:
        out.append("Look into: " + _join([f"“{q}”" for _, q in fix]) + " moved the wrong way. Talk with "
                   "participants and their managers before the next cohort starts, and change the programme there.")
    if same:
        out.append("Do not expect the programme alone to move " + _join([f"“{q}”" for _, q in same]) +
                   ": the study found no meaningful change. If that matters, try something aimed at it directly.")
    sizes = []
    for r, q in open_:
        size = power.get(r["id"]) or {}
        f = size.get("factor") or size.get("more_than_factor")     # the planner's: no size up to that factor did
        if f and math.isfinite(f):
            sizes.append((r, q, f))
    settle = [(r, q, f) for r, q, f in sizes if f <= 10]
    too_big = [(r, q, f) for r, q, f in sizes if f > 10]
    if settle:
        f = max(f for _, _, f in settle)
        people = max(power[r["id"]]["n_total"] for r, _, _ in settle)        # the largest size the planner found
        out.append("Try again, larger: " + _join([f"“{q}”" for _, q, _ in settle]) + " cannot be answered yet. "
                   f"A next cohort about {fmt(max(1.0, f), 1)} times this one (roughly {_round_up(people)} "
                   "people, with the same surveys" + ("" if all(r.get("design") == "single_arm" for r, _, _ in settle)
                                                       else " and a similar comparison group") +
                   ") would be large enough to settle "
                   + ("it." if len(settle) == 1 else "them."))
    if too_big:
        out.append(_join([f"“{q}”" for _, q, _ in too_big]) + " would need more than ten times this cohort to "
                   "settle: pool several cohorts (the academic report lists what to combine) rather than wait for one.")
    elif open_ and not sizes:
        out.append(_join([f"“{q}”" for _, q in open_]) + " cannot be answered yet; a larger cohort would help.")
    if not out:
        out.append("There is nothing to act on yet: no question has a result that can be shown.")
    return out


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def limits(results: dict, study, assignment: str, shown_rows: list[dict], k: int) -> list[tuple[str, str]]:
    """What the results do and do not mean: (title, sentence) pairs built from the design and results.json.

    Parameters
    ----------
    results : results.json. study : the plan. assignment : the design's assignment.
    shown_rows : the hypothesis rows shown. k : the anonymity threshold.

    Returns
    -------
    list of (str, str)

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> study = NS(raw={"wave_offsets_days": {"T0": 0, "T1": 182}}, waves=["T0", "T1"])
    >>> att = {"table": [{"enrolled": 40, "dropouts": 6}, {"enrolled": 38, "dropouts": 4}]}
    >>> shown = [{"id": "H1", "outcome": "trust", "design": "two_arm"}]
    >>> out = limits({"attrition": att, "power": {"H1": {"mde_d": 0.52}}}, study, "nonrandomised", shown, 5)
    >>> [title for title, _ in out]
    ['People chose to join.', 'Follow-up is short.', 'Not everyone answered every survey.',
     'Small effects can be missed.']
    >>> out[1][1]
    "The last survey was 'T1' (about 6 months after the start); effects that take longer to show are not measured."
    """
    out = []
    caveat = narrative.causal_caveat(assignment)
    single = bool(shown_rows) and all(r.get("design") == "single_arm" for r in shown_rows if r["outcome"] != "retention")
    if single:
        out.append(("There was no comparison group.", "Every result is a change within the programme. Such a change "
                    "may have happened anyway (a company-wide event, the time of year, people answering a survey a "
                    "second time), so it cannot be credited to the programme."))
    elif caveat:
        out.append(("People chose to join.", "Participants were not assigned at random, so those who joined may "
                    "differ from those who did not. Comparing change over the same period removes stable "
                    "differences between the groups, but not all of them."))
    offsets = study.raw.get("wave_offsets_days") or {}
    last = study.waves[-1]
    when = f" (about {round(offsets[last] / 30.4)} months after the start)" if last in offsets and offsets[last] > 0 else ""
    out.append(("Follow-up is short.", f"The last survey was '{last}'{when}; effects that take longer to show are "
                "not measured."))
    att = results.get("attrition") or {}
    table = att.get("table") or []
    enrolled = sum(int(t["enrolled"]) for t in table)
    drop = sum(int(t["dropouts"]) for t in table)
    if enrolled:
        if drop == 0:
            share = "Everyone answered the last survey."
        elif drop < k:
            share = f"Fewer than {k} participants missed the last survey."
        else:
            share = f"About {pct(drop / enrolled)} of participants missed the last survey."
        out.append(("Not everyone answered every survey.", share + " The analysis keeps everyone's available "
                    "answers, which is sound if missing answers relate only to what we already know about people."))
    mde = [p["mde_d"] for hid, p in (results.get("power") or {}).items()
           if "mde_d" in p and hid in {r["id"] for r in shown_rows}]
    if mde:
        lo, hi = min(mde), max(mde)
        span = fmt(lo) if fmt(lo) == fmt(hi) else f"{fmt(lo)} to {fmt(hi)}"
        out.append(("Small effects can be missed.", f"With this many people, the study could reliably detect "
                    f"differences of about {span} standard deviations; smaller real effects may show as 'too "
                    "uncertain to say'."))
    return out


def _starting_gaps(results: dict, counts, arms: list, k: int) -> tuple[list[str], list[dict]]:
    """The starting differences above 0.1 SD HR may see (in words) and the shares they publish; a last line says
    how many were withheld (a group below k, or a share whose counts could be worked out)."""
    gaps = []
    cand = [b for b in (results.get("baseline") or {}).get("table") or []
            if b.get("smd") is not None and abs(b["smd"]) > 0.1 and "(baseline)" not in b["variable"]]
    arm_n = {a: int(counts[a].sum()) for a in arms}
    shares_ok = privacy.publishable_shares(cand, arm_n, k, arms=tuple(arms))
    shares: list[dict] = []
    withheld = 0
    for b in cand:
        if min(int(b.get("program_n") or 0), int(b.get("control_n") or 0)) < k or \
                (b["kind"] == "share" and b["variable"] not in shares_ok):
            withheld += 1
            continue
        var = b["variable"]
        if b["kind"] == "share":
            col, _, val = var.partition(" = ")
            shares += [{"kind": "share", "variable": var, "arm": a, "count": int(b.get(f"{a}_n") or 0), "arm_n": arm_n[a]}
                       for a in arms]
            gaps.append(f"Share with {col.replace('_', ' ')} {val}: {pct(b['program_mean'])} in the programme, "
                        f"{pct(b['control_mean'])} in the comparison group ({fmt(abs(b['smd']))} standard deviations apart).")
        else:
            gaps.append(f"Average {var.replace('_', ' ')}: {fmt(b['program_mean'], 1)} in the programme, "
                        f"{fmt(b['control_mean'], 1)} in the comparison group ({fmt(abs(b['smd']))} standard deviations apart).")
    if withheld:     # the list must not read as complete when some differences are withheld
        gaps.append(f"{withheld} {'further difference' if gaps else 'difference'}{'s' if withheld > 1 else ''} above "
                    f"0.1 standard deviations {'are' if withheld > 1 else 'is'} not shown: showing "
                    f"{'them' if withheld > 1 else 'it'} could reveal groups of fewer than {k} people.")
    return gaps, shares


def participation(results: dict, study, k: int) -> dict:
    """Who took part: counts by role and group (suppressed), response rates per survey, the comparison group and
    the starting differences above 0.1 SD.

    Parameters
    ----------
    results : results.json. study : the plan. k : the anonymity threshold.

    Returns
    -------
    dict
        ``table``, ``mask``, ``totals``, ``rates``, ``comparison``, ``single_arm``, ``gaps`` and ``shares``.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> study = NS(waves=["T0"], low_response_rate=0.6, comparison_group=None)
    >>> rates = [{"wave": "T0", "role": "junior", "arm": "program", "enrolled": 20, "responded": 18},
    ...          {"wave": "T0", "role": "senior", "arm": "program", "enrolled": 3, "responded": 3},
    ...          {"wave": "T0", "role": "junior", "arm": "control", "enrolled": 25, "responded": 12}]
    >>> p = participation({"descriptives": {"response_rates": rates}}, study, 5)
    >>> p["table"]["rows"]         # 3 seniors: hidden, and the juniors too (the total would give them back)
    [['Junior', 'hidden', '25'], ['Senior', 'fewer than 5', '0'], ['Total', '23', '25']]
    >>> [r["text"] for r in p["rates"]]
    ["Survey 'T0', programme: all but fewer than 5 people answered.",
     "Survey 'T0', comparison group: 48% answered (low: below 60%)."]
    """
    rates = results.get("descriptives", {}).get("response_rates") or []
    first = [r for r in rates if r["wave"] == study.waves[0]]
    roles = sorted({str(r.get("role")) for r in first if r.get("role") not in (None, "")}) or ["everyone"]
    arms = [a for a in ("program", "control") if any(r["arm"] == a and r["enrolled"] for r in first)]
    import pandas as pd

    counts = pd.DataFrame(0, index=roles, columns=arms, dtype=int)
    for r in first:
        if r["arm"] in arms:
            counts.loc[str(r.get("role")) if r.get("role") not in (None, "") else "everyone", r["arm"]] += int(r["enrolled"])
    shown, mask = privacy.suppress_counts(counts, k)
    totals = True
    if mask.to_numpy().any():
        # an arm's size is public (every rate and share is a fraction of it): arm totals shown, each arm's column
        # suppressed against its total, no row totals (they would give a hidden cell back across arms)
        shown, mask = privacy.suppress_by_column(counts, k)
        totals = "columns"
    header = ["Role"] + [ARM_WORDS[a] for a in shown.columns if a in ARM_WORDS] + (["Total"] if totals is True else [])
    body = []
    for idx, row in shown.iterrows():
        name = "Total" if idx == "Total" else ("Everyone" if idx == "everyone" else str(idx).capitalize())
        body.append([name] + [str(v) for v in row.tolist()])
    if len(roles) == 1 and totals is True:
        body = body[:1]                     # one role (or none recorded): its row is the total
    table = {"caption": "People enrolled, by role and group", "header": header, "rows": body}
    lines = []
    for w in study.waves:
        for arm in arms:
            g = [r for r in rates if r["wave"] == w and r["arm"] == arm]
            enrolled = sum(int(r["enrolled"]) for r in g)
            responded = sum(int(r["responded"]) for r in g)
            who = ARM_WORDS[arm].lower() if arm == "control" else "programme"
            if enrolled < k or responded < k:
                lines.append({"text": f"Survey '{w}', {who}: fewer than {k} people, so not shown.", "low": False})
                continue
            if 0 < enrolled - responded < k:
                lines.append({"text": f"Survey '{w}', {who}: all but fewer than {k} people answered.", "low": False})
                continue
            rate = responded / enrolled
            low = rate < study.low_response_rate
            lines.append({"text": f"Survey '{w}', {who}: {pct(rate)} answered" +
                          (f" (low: below {pct(study.low_response_rate)})" if low else "") + ".", "low": low})
    gaps, shares = _starting_gaps(results, counts, arms, k)
    comparison = None if "control" not in arms else (study.comparison_group or "Staff who did not take part in the programme.")
    return {"table": table, "mask": mask, "totals": totals, "rates": lines, "comparison": comparison,
            "single_arm": "control" not in arms, "gaps": gaps, "shares": shares}
