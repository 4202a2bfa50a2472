"""Plain-language wording for the HR report (no statistics computed here)."""

from __future__ import annotations

__all__ = ["VERDICTS", "verdict", "size_in_words", "certainty_in_words", "answer_sentence", "moderation_sentence"]

VERDICTS = {
    "supported": "clear improvement",
    "opposite": "moved the wrong way",
    "equivalent": "evidence of no meaningful change",
    "inconclusive": "too uncertain to say",
}


def verdict(decision: str) -> str:
    return VERDICTS[decision]


def size_in_words(d: float) -> str:
    """A standardised difference as words ("about a third of a standard deviation")."""
    a = abs(d)
    if a < 0.05:
        return "practically no difference"
    for limit, words in ((0.15, "about a tenth of a standard deviation"), (0.22, "about a fifth of a standard deviation"),
                         (0.29, "about a quarter of a standard deviation"), (0.42, "about a third of a standard deviation"),
                         (0.62, "about half a standard deviation"), (0.87, "about three quarters of a standard deviation")):
        if a < limit:
            return words
    return f"about {a:.1f} standard deviations"


def certainty_in_words(row: dict) -> str:
    es = row["effect_size"]
    lo, hi = es["ci_low"], es["ci_high"]
    dec = row["decision"]
    if row["outcome"] == "retention":
        rng = f"the programme group's rate of leaving could be anywhere from {lo:.2f} to {hi:.2f} times the comparison group's"
    else:
        rng = f"the true difference could be anywhere from {lo:+.2f} to {hi:+.2f} standard deviations"
    if dec in ("supported", "opposite"):
        return f"We are confident about the direction: {rng}."
    if dec == "equivalent":
        return f"Any effect is too small to matter: {rng}, inside the range the study set as negligible."
    return f"The data cannot yet tell: {rng}, which includes no effect."


def answer_sentence(row: dict, scale=None, with_question: bool = True) -> str:
    """The one-sentence answer for a hypothesis (markdown), led by its question."""
    q = (row.get("question") or row["label"]) if with_question else ""
    v = verdict(row["decision"])
    es = row["effect_size"]
    if row["outcome"] == "retention":
        hr = es["value"]
        more = "less" if hr < 1 else "more"
        return (f"**{q}** " * bool(q) + f"{v.capitalize()}. In the programme, people in this group left voluntarily at "
                f"{hr:.2f} times the comparison group's rate ({abs(1 - hr):.0%} {more} often).")
    what = (scale.label if scale is not None else row["outcome"]).split(" (")[0].lower()
    d = es["value"]
    direction = "rose" if d > 0 else "fell"
    units = f" on the {scale.min:g}–{scale.max:g} scale" if scale is not None else ""
    if row.get("design") == "single_arm":
        return (f"**{q}** " * bool(q) + f"{v.capitalize()}. Within the programme, {what} {direction} by "
                f"{size_in_words(d)} ({row['estimate']:+.2f} points{units}). There was no comparison group, so this "
                "change cannot be attributed to the programme: it may have happened anyway.")
    if abs(d) < 0.05:
        return (f"**{q}** " * bool(q) + f"{v.capitalize()}. In the programme, {what} changed about as much as in the "
                f"comparison group ({row['estimate']:+.2f} points{units}).")
    return (f"**{q}** " * bool(q) + f"{v.capitalize()}. Compared with the comparison group, {what} {direction} by "
            f"{size_in_words(d)} more in the programme ({row['estimate']:+.2f} points{units}).")


def moderation_sentence(m: dict) -> str:
    """One cautious sentence for HR about a clear moderation or dose-response result."""
    more = m["interaction"]["estimate"] > 0
    name = m["moderator"].replace("_", " ")
    if m["kind"] == "dose_response":
        return (f"Within the programme, people with more {name} tended to change {'more' if more else 'less'} on "
                f"this measure. This is a pattern worth a look, not proof that {name} caused it.")
    return (f"The programme's effect on this measure looked {'larger' if more else 'smaller'} for people with "
            f"higher {name} at the start. Treat this as a lead to follow up: it was not the main question.")
