"""Plain-language wording for the HR report: every number in a sentence is formatted here, from a results.json row.

No statistics are fitted here; the few quantities derived from a row (the (1 − 2α) interval that the
equivalence test uses, the equivalence band in scale points, an overall retention rate from the cumulative
incidences) are computed by small functions that tests compare with results.json.

Sentences are plain text (no markup): the template escapes them once, where they are rendered.
Numbers: a true minus sign (−), never "−0.00" (a value that rounds to zero is written without a sign), and an
interval whose ends would print alike gains digits until they differ.
"""

from __future__ import annotations

__all__ = ["VERDICTS", "VERDICT_STYLE", "verdict", "size_in_words", "fmt", "fmt_signed", "fmt_range", "pct",
           "scale_words", "direction_label", "population_in_words", "equivalence_interval", "equivalence_band",
           "survey_answer", "survey_certainty", "retention_answer", "retention_certainty", "causal_caveat",
           "baseline_gap_sentence", "moderation_sentence", "MINUS", "favourable_words", "UNADJUSTED"]

import math

from scipy import stats

MINUS = "\u2212"
UNADJUSTED = (None, "none", "none (exploratory)")    #: a row's ``adjustment`` when its p-value was not adjusted

VERDICTS = {
    "supported": "clear improvement",
    "opposite": "moved the wrong way",
    "equivalent": "evidence of no meaningful change",
    "inconclusive": "too uncertain to say",
}

#: badge icon, CSS class and short word per decision (colour is never the only cue: icon + word too)
VERDICT_STYLE = {
    "supported": {"icon": "\u2714", "css": "good", "word": "Clear improvement"},
    "opposite": {"icon": "\u2716", "css": "bad", "word": "Moved the wrong way"},
    "equivalent": {"icon": "\u2550", "css": "same", "word": "No meaningful change"},
    "inconclusive": {"icon": "?", "css": "open", "word": "Too uncertain to say"},
}


def verdict(decision: str) -> str:
    """The decision in HR's words (:data:`VERDICTS`).

    Parameters
    ----------
    decision : {"supported", "opposite", "equivalent", "inconclusive"}

    Returns
    -------
    str

    Examples
    --------
    >>> verdict("equivalent")
    'evidence of no meaningful change'
    """
    return VERDICTS[decision]


def size_in_words(d: float) -> str:
    """A standardised difference as words ("about a third of a standard deviation").

    Parameters
    ----------
    d : float

    Returns
    -------
    str

    Examples
    --------
    >>> [size_in_words(d) for d in (0.02, -0.3, 1.24)]
    ['practically no difference', 'about a third of a standard deviation', 'about 1.2 standard deviations']
    """
    a = abs(d)
    if a < 0.05:
        return "practically no difference"
    for limit, words in ((0.15, "about a tenth of a standard deviation"), (0.22, "about a fifth of a standard deviation"),
                         (0.29, "about a quarter of a standard deviation"), (0.42, "about a third of a standard deviation"),
                         (0.62, "about half a standard deviation"), (0.87, "about three quarters of a standard deviation")):
        if a < limit:
            return words
    return f"about {a:.1f} standard deviations"


def fmt(x: float, digits: int = 2) -> str:
    """A number with ``digits`` decimals, a true minus sign, and no sign at all when it rounds to zero.

    Parameters
    ----------
    x : float
    digits : int

    Returns
    -------
    str

    Examples
    --------
    >>> fmt(-1.234), fmt(-0.004), fmt(2.5, 1)
    ('−1.23', '0.00', '2.5')
    """
    s = f"{x:.{digits}f}"
    if float(s) == 0:
        return f"{0:.{digits}f}"
    return s.replace("-", MINUS)


def fmt_signed(x: float, digits: int = 2) -> str:
    """As :func:`fmt` with a leading '+' for positive values (a change: "+0.16").

    Parameters
    ----------
    x : float
    digits : int

    Returns
    -------
    str

    Examples
    --------
    >>> fmt_signed(0.163), fmt_signed(-0.2), fmt_signed(0.001)
    ('+0.16', '−0.20', '0.00')
    """
    s = fmt(x, digits)
    return s if s.startswith(MINUS) or float(s.replace(MINUS, "-")) == 0 else "+" + s


def fmt_range(lo: float, hi: float, digits: int = 2, signed: bool = True, max_digits: int = 4, sep: str = " to ") -> str:
    """"a to b" (or "a and b" with ``sep``), with more decimals when the two ends would otherwise print alike
    (never "0.56 to 0.56").

    Parameters
    ----------
    lo, hi : float
    digits, max_digits : int
    signed : bool
    sep : str

    Returns
    -------
    str

    Examples
    --------
    >>> fmt_range(0.5612, 0.5649), fmt_range(0.2, 1.5, signed=False, sep=" and ")
    ('+0.561 to +0.565', '0.20 and 1.50')
    """
    f = fmt_signed if signed else fmt
    d = digits
    while f(lo, d) == f(hi, d) and d < max_digits and lo != hi:
        d += 1
    return f"{f(lo, d)}{sep}{f(hi, d)}"


def pct(x: float) -> str:
    """A share as a whole percentage ("83%").

    Parameters
    ----------
    x : float

    Returns
    -------
    str

    Examples
    --------
    >>> pct(0.834)
    '83%'
    """
    return f"{round(100 * x):d}%"


def scale_words(scale) -> str:
    """The scale's name for a sentence: its label up to any bracket, first letter lower case (not an acronym's).

    Parameters
    ----------
    scale : Scale
        A codebook scale (``label``, else ``name``).

    Returns
    -------
    str

    Examples
    --------
    >>> [scale_words(type("Scale", (), {"label": t})) for t in ("Work engagement (UWES-3)", "BDI-II")]
    ['work engagement', 'BDI-II']
    """
    label = (getattr(scale, "label", "") or getattr(scale, "name", "")).split(" (")[0].strip()
    if len(label) > 1 and not label[:2].isupper():
        label = label[0].lower() + label[1:]
    return label


def direction_label(scale) -> str:
    """What a higher score means, from the codebook: ``higher_is`` ("higher = more bias"), else ``favourable``.

    Parameters
    ----------
    scale : Scale

    Returns
    -------
    str

    Examples
    --------
    >>> direction_label(type("Scale", (), {"favourable": {"at_most": 13}}))      # a cut-off: low scores are good
    'lower = more favourable'
    """
    if getattr(scale, "higher_is", ""):
        return f"higher = {scale.higher_is}"
    fav = getattr(scale, "favourable", "high")
    if fav == "low" or (isinstance(fav, dict) and "at_most" in fav):      # a cut-off {at_most: x}: low is good
        return "lower = more favourable"
    return "higher = more favourable"


def favourable_words(scale) -> str:
    """What '% favourable' counts, from the codebook: the top or bottom two answer options, or a cut-off.

    Parameters
    ----------
    scale : Scale

    Returns
    -------
    str

    Examples
    --------
    >>> favourable_words(type("Scale", (), {"favourable": {"at_most": 13}}))
    'share of scores at or below 13'
    """
    fav = getattr(scale, "favourable", "high")
    if isinstance(fav, dict):
        (side, cut), = fav.items()
        cut_s = f"{cut:g}"
        return f"share of scores at or {'below' if side == 'at_most' else 'above'} {cut_s}"
    return f"share of answers in the {'bottom' if fav == 'low' else 'top'} two options"


_ROLE_PLURAL = {"junior": "juniors", "senior": "seniors"}


def population_in_words(population: dict | None) -> str:
    """A hypothesis population in words ("juniors aged 35 or under"), never a mapping.

    Roles read as plural nouns; ``age`` as "aged A to B" / "aged B or under" / "aged A or over"; any other
    column as "whose <column> is <value>" (values joined with "or").

    Parameters
    ----------
    population : dict or None

    Returns
    -------
    str

    Examples
    --------
    >>> population_in_words({"role": ["junior", "senior"], "age": {"min": 30, "max": 50}, "site": ["Leeds", "York"]})
    'juniors and seniors aged 30 to 50 and whose site is Leeds or York'
    """
    pop = dict(population or {})
    if not pop:
        return "everyone in the study"
    roles = pop.pop("role", None)
    age = pop.pop("age", None)
    if roles is None:
        noun = "people"
    else:
        vals = roles if isinstance(roles, list) else [roles]
        noun = " and ".join(_ROLE_PLURAL.get(str(v), f"{v} staff") for v in vals)
    parts = [noun]
    if age:
        lo, hi = age.get("min"), age.get("max")
        if lo is not None and hi is not None:
            parts.append(f"aged {lo:g} to {hi:g}")
        elif hi is not None:
            parts.append(f"aged {hi:g} or under")
        else:
            parts.append(f"aged {lo:g} or over")
    for col, val in pop.items():
        vals = val if isinstance(val, list) else [val]
        parts.append(f"whose {str(col).replace('_', ' ')} is " + " or ".join(str(v) for v in vals))
    if len(parts) > 2:
        return parts[0] + " " + ", ".join(parts[1:-1]) + " and " + parts[-1]
    return " ".join(parts)


def equivalence_interval(row: dict, alpha: float) -> tuple[float, float]:
    """The (1 − 2α) interval that the TOST uses, on the row's estimate scale (scale points; log hazard ratio
    for retention rows): estimate ± t(1 − α, df)·SE (normal quantile when there is no df).

    Parameters
    ----------
    row : dict
        A results.json row (``estimate, se, df``).
    alpha : float

    Returns
    -------
    (float, float)

    Examples
    --------
    >>> [round(v, 4) for v in equivalence_interval({"estimate": 0.1, "se": 0.2, "df": 30}, 0.05)]  # 0.1 ± 1.697 x 0.2
    [-0.2395, 0.4395]
    """
    df = row.get("df")
    q = float(stats.norm.ppf(1 - alpha) if df is None or not math.isfinite(df) else stats.t.ppf(1 - alpha, df))
    return row["estimate"] - q * row["se"], row["estimate"] + q * row["se"]


def equivalence_band(row: dict) -> float | None:
    """Half-width of the equivalence band on the row's estimate scale (what the TOST was run against).

    Survey rows: a SESOI in d units is ``sesoi`` on the reported d scale, i.e. ``sesoi · |estimate / d|``
    scale points (``sesoi · baseline SD`` when the estimate is 0); ``raw`` SESOIs are already points.
    Retention rows: ``|log(sesoi)|`` on the log hazard ratio scale.

    Parameters
    ----------
    row : dict
        A results.json row (``outcome, sesoi, sesoi_units, estimate, effect_size, baseline_sd``).

    Returns
    -------
    float or None

    Examples
    --------
    >>> equivalence_band({"outcome": "survey", "sesoi": 0.3, "estimate": 0.1, "effect_size": {"value": 0.2}})
    0.15
    """
    s = row.get("sesoi")
    if s is None:
        return None
    if row["outcome"] == "retention":
        return abs(math.log(s))
    if row.get("sesoi_units", "d") == "raw":
        return float(s)
    d = row["effect_size"]["value"]
    if row["estimate"] and d:
        return float(s) * abs(row["estimate"] / d)
    return float(s) * float(row.get("baseline_sd") or 1.0)


def _points(x: float) -> str:
    return "point" if fmt(abs(x)) == "1.00" else "points"


def survey_answer(row: dict, scale) -> str:
    """How much the score changed, in the scale's own points (the verdict is shown beside it as a badge).

    Parameters
    ----------
    row : dict
        A survey row of results.json (``estimate, effect_size, design``).
    scale : Scale

    Returns
    -------
    str

    Examples
    --------
    >>> from rmstudy.contract.codebook import Scale
    >>> s = Scale("eng", ("e1", "e2"), 1, 5, label="Work engagement (UWES-3)")
    >>> print(survey_answer({"estimate": 0.4, "effect_size": {"value": 0.35}}, s))
    In the programme, work engagement rose by 0.40 points more than in the comparison group, on the 1–5 scale
    (higher = more favourable): about a third of a standard deviation.
    >>> survey_answer({"estimate": 0.4, "effect_size": {"value": 0.35}, "population": {"role": ["junior"]}}, s)[:55]
    'For juniors: in the programme, work engagement rose by '
    """
    text = _survey_answer(row, scale)      # a hypothesis about some people only: the sentence names them
    return f"For {population_in_words(row['population'])}: {text[0].lower()}{text[1:]}" if row.get("population") else text


def _survey_answer(row: dict, scale) -> str:
    what = scale_words(scale)
    est = row["estimate"]
    d = row["effect_size"]["value"]
    on = f"on the {fmt(scale.min, 0) if float(scale.min).is_integer() else scale.min}–" \
         f"{fmt(scale.max, 0) if float(scale.max).is_integer() else scale.max} scale ({direction_label(scale)})"
    if row.get("design") == "single_arm":
        if fmt(est) == fmt(0):
            return f"Within the programme, {what} hardly changed (0.00 points {on})."
        moved = "rose" if est > 0 else "fell"
        return (f"Within the programme, {what} {moved} by {fmt(abs(est))} {_points(est)} {on}: "
                f"{size_in_words(d)}. There was no comparison group, so this change cannot be attributed to the "
                "programme: it may have happened anyway.")
    if fmt(est) == fmt(0) or abs(d) < 0.05:
        return (f"In the programme, {what} changed about as much as in the comparison group: a difference of "
                f"{fmt_signed(est)} {_points(est)} {on}.")
    moved = "rose" if est > 0 else "fell"
    return (f"In the programme, {what} {moved} by {fmt(abs(est))} {_points(est)} more than in the comparison "
            f"group, {on}: {size_in_words(d)}.")


def survey_certainty(row: dict, alpha: float, family_size: int = 1) -> str:
    """How sure we are, with the interval that matches the decision.

    supported / opposite: the 95% range (the adjusted p is below α, so the range leaves out zero);
    equivalent: the (1 − 2α) range and the band it lies in; inconclusive: the 95% range, and when that range
    alone leaves out zero but the adjusted p does not, the words say so.

    Parameters
    ----------
    row : dict
    alpha : float
    family_size : int

    Returns
    -------
    str

    Examples
    --------
    >>> print(survey_certainty({"decision": "supported", "ci_low": 0.12, "ci_high": 0.68}, 0.05))
    We are confident about the direction: the difference is likely between +0.12 and +0.68 points (95% range).
    """
    dec = row["decision"]
    conf = f"{round(100 * (1 - alpha))}%"
    rng = fmt_range(row["ci_low"], row["ci_high"], sep=" and ")
    rng_to = fmt_range(row["ci_low"], row["ci_high"])
    what = "the change" if row.get("design") == "single_arm" else "the difference"   # no comparison group: a change
    if dec in ("supported", "opposite"):
        extra = (f" This holds after allowing for the {family_size} questions of this part of the study."
                 if family_size > 1 and row.get("adjustment") not in UNADJUSTED else "")
        return f"We are confident about the direction: {what} is likely between {rng} points ({conf} range).{extra}"
    if dec == "equivalent":
        lo, hi = equivalence_interval(row, alpha)
        band = equivalence_band(row)
        units = f"{fmt(row['sesoi'])} standard deviations" if row.get("sesoi_units", "d") == "d" \
            else f"{fmt(row['sesoi'])} points"
        return (f"Any effect is too small to matter: with {round(100 * (1 - 2 * alpha))}% confidence {what} "
                f"lies between {fmt_range(lo, hi, sep=' and ')} points, inside the band of ±{fmt(band)} points ({units}) that the "
                "study set in advance as too small to matter.")
    if row["p_value"] < alpha <= row["p_adjusted"]:
        return (f"The data cannot yet tell. Taken alone, the likely range ({rng_to} points, {conf}) leaves out no "
                f"change, but after allowing for the {family_size} questions of this part of the study the evidence "
                "is not strong enough to rule out no change.")
    return f"The data cannot yet tell: {what} is likely between {rng} points ({conf} range), which includes no change."


def retention_answer(row: dict) -> str:
    """The rate of resigning, for the group named in words (the verdict is shown beside it as a badge).

    Parameters
    ----------
    row : dict
        A retention row of results.json (``effect_size`` the hazard ratio, ``population``).

    Returns
    -------
    str

    Examples
    --------
    >>> print(retention_answer({"effect_size": {"value": 0.75}, "population": {"role": "junior"}}))
    Among juniors, people in the programme resigned at 0.75 times the rate of the comparison group (25% less often).
    """
    hr = row["effect_size"]["value"]
    group = population_in_words(row.get("population"))
    if fmt(hr) == "1.00":
        return (f"Among {group}, people in the programme resigned at about the same rate as the comparison "
                "group.")
    how = f"{pct(abs(1 - hr))} {'less' if hr < 1 else 'more'} often"
    return (f"Among {group}, people in the programme resigned at {fmt(hr)} times the rate of the comparison "
            f"group ({how}).")


def retention_certainty(row: dict, alpha: float, family_size: int = 1) -> str:
    """How sure we are about the hazard ratio, with the interval that matches the decision (:func:`survey_certainty`).

    Parameters
    ----------
    row : dict
    alpha : float
    family_size : int

    Returns
    -------
    str

    Examples
    --------
    >>> print(retention_certainty({"decision": "supported", "effect_size": {"ci_low": 0.55, "ci_high": 0.92}}, 0.05))
    We are confident about the direction: the programme group's rate of resigning is likely between 0.55 and 0.92
    times the comparison group's (95% range).
    """
    dec = row["decision"]
    es = row["effect_size"]
    conf = f"{round(100 * (1 - alpha))}%"
    rng = fmt_range(es["ci_low"], es["ci_high"], signed=False)
    if dec in ("supported", "opposite"):
        return (f"We are confident about the direction: the programme group's rate of resigning is likely "
                f"between {fmt_range(es['ci_low'], es['ci_high'], signed=False, sep=' and ')} times the comparison "
                f"group's ({conf} range).")
    if dec == "equivalent":
        lo, hi = equivalence_interval(row, alpha)
        s = row["sesoi"]
        a, b = sorted((s, 1 / s))
        return (f"Any effect is too small to matter: with {round(100 * (1 - 2 * alpha))}% confidence the ratio lies "
                f"between {fmt_range(math.exp(lo), math.exp(hi), signed=False, sep=' and ')}, inside the band {fmt(a)} to {fmt(b)} "
                "that the study set in advance as too small to matter.")
    if row["p_value"] < alpha <= row["p_adjusted"]:
        return (f"The data cannot yet tell. Taken alone, the likely range ({rng} times, {conf}) leaves out no "
                f"difference, but after allowing for the {family_size} questions of this part of the study the "
                "evidence is not strong enough.")
    return (f"The data cannot yet tell: the programme group's rate of resigning is likely between "
            f"{fmt_range(es['ci_low'], es['ci_high'], signed=False, sep=' and ')} times the comparison group's ({conf} range), which includes no difference.")


def causal_caveat(assignment: str = "nonrandomised", short: bool = False) -> str | None:
    """The caveat that belongs in the answer when people were not assigned to the programme at random.

    Parameters
    ----------
    assignment : str
    short : bool

    Returns
    -------
    str or None

    Examples
    --------
    >>> causal_caveat(short=True), causal_caveat("randomised")
    ('People chose to join: part of this may come from who joined, not from the programme.', None)
    """
    if assignment in ("randomised", "waitlist"):
        return None
    if short:
        return "People chose to join: part of this may come from who joined, not from the programme."
    return ("People chose whether to join, so part of this difference may come from who joined rather than from "
            "the programme itself.")


def baseline_gap_sentence(smd: float, what: str, first_wave: str) -> str | None:
    """The analysed groups' starting difference, when it exceeds 0.1 SD (else None).

    Parameters
    ----------
    smd : float
    what, first_wave : str

    Returns
    -------
    str or None

    Examples
    --------
    >>> print(baseline_gap_sentence(-0.25, "work engagement", "pre"))
    At the 'pre' survey the programme group already scored 0.25 standard deviations lower on work engagement than
    the comparison group. The comparison of change allows for this starting gap, but groups that start apart can
    also change differently.
    """
    if abs(smd) <= 0.1:
        return None
    side = "higher" if smd > 0 else "lower"
    return (f"At the '{first_wave}' survey the programme group already scored {fmt(abs(smd))} standard deviations "
            f"{side} on {what} than the comparison group. The comparison of change allows for this starting gap, "
            "but groups that start apart can also change differently.")


def moderation_sentence(m: dict) -> str:
    """One cautious sentence for HR about a clear moderation or dose-response result.

    Parameters
    ----------
    m : dict
        A moderation result (``kind, moderator, interaction``; :func:`rmstudy.stats.moderation.moderation_analysis`).

    Returns
    -------
    str

    Examples
    --------
    >>> print(moderation_sentence({"kind": "dose_response", "moderator": "sessions", "interaction": {"estimate": 0.3}}))
    Within the programme, people with more sessions tended to change more on this measure. This is a pattern worth
    a look, not proof that sessions caused it.
    """
    more = m["interaction"]["estimate"] > 0
    name = str(m["moderator"]).replace("_", " ")
    if m["kind"] == "dose_response":
        return (f"Within the programme, people with more {name} tended to change {'more' if more else 'less'} on "
                f"this measure. This is a pattern worth a look, not proof that {name} caused it.")
    return (f"The programme's effect on this measure looked {'larger' if more else 'smaller'} for people with "
            f"higher {name} at the start. Treat this as a lead to follow up: it was not the main question.")
