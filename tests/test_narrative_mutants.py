"""Every sentence of the HR report is data: each builder's boundaries and wording, pinned against the row it reads.

Written for issue #17 (mutation testing of report/narrative.py): every expected string below is worked out by hand
from the inputs beside it (the arithmetic is in the comments), so a changed threshold, sign, default, quantile or
word in narrative.py fails a test here. Surviving mutants that no input can tell from the original are listed with
their reason in benchmarks/mutation_equivalent.toml.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from rmstudy.report import narrative as n

M = n.MINUS


def _scale(**kw):
    base = {"label": "Work engagement (UWES-9)", "name": "eng", "min": 0, "max": 6}
    return SimpleNamespace(**{**base, **kw})


# --------------------------------------------------------------------------------------------------- numbers


@pytest.mark.parametrize("d, words", [
    (0.0, "practically no difference"), (0.0499, "practically no difference"), (-0.0499, "practically no difference"),
    (0.05, "about a tenth of a standard deviation"), (-0.05, "about a tenth of a standard deviation"),
    (0.1499, "about a tenth of a standard deviation"), (0.15, "about a fifth of a standard deviation"),
    (0.2199, "about a fifth of a standard deviation"), (0.22, "about a quarter of a standard deviation"),
    (0.2899, "about a quarter of a standard deviation"), (0.29, "about a third of a standard deviation"),
    (0.4199, "about a third of a standard deviation"), (0.42, "about half a standard deviation"),
    (-0.6199, "about half a standard deviation"), (0.62, "about three quarters of a standard deviation"),
    (0.8699, "about three quarters of a standard deviation"), (0.87, "about 0.9 standard deviations"),
    (-1.26, "about 1.3 standard deviations"), (2.04, "about 2.0 standard deviations"),
])
def test_size_in_words_at_every_boundary(d, words):
    """Each limit belongs to the bucket above it (a < limit); the sign never matters."""
    assert n.size_in_words(d) == words


def test_fmt_digits_sign_and_zero():
    assert n.fmt(1.234) == "1.23" and n.fmt(1.234, 1) == "1.2" and n.fmt(1.234, 0) == "1"
    assert n.fmt(-1.5) == M + "1.50" and n.fmt(-0.004, 3) == M + "0.004"
    assert n.fmt(-0.001) == "0.00" and n.fmt(-0.0004, 3) == "0.000" and n.fmt(0.0) == "0.00"
    assert n.fmt(0.004) == "0.00" and n.fmt(-0.4, 0) == "0"


def test_fmt_signed():
    assert n.fmt_signed(0.16) == "+0.16" and n.fmt_signed(0.1234, 3) == "+0.123"
    assert n.fmt_signed(-0.2) == M + "0.20" and n.fmt_signed(-0.2, 1) == M + "0.2"
    assert n.fmt_signed(0.001) == "0.00" and n.fmt_signed(-0.001) == "0.00" and n.fmt_signed(0.0) == "0.00"


def test_fmt_range_defaults_and_extra_digits():
    assert n.fmt_range(0.1, 0.5) == "+0.10 to +0.50"
    assert n.fmt_range(-0.1, 0.5, signed=False) == M + "0.10 to 0.50"
    assert n.fmt_range(0.1, 0.5, sep=" and ") == "+0.10 and +0.50"
    assert n.fmt_range(0.5611, 0.5616) == "+0.561 to +0.562"       # 2 digits alike, 3 differ: one step
    assert n.fmt_range(0.56101, 0.56102) == "+0.5610 to +0.5610"   # never more than max_digits = 4
    assert n.fmt_range(0.56101, 0.56102, max_digits=5) == "+0.56101 to +0.56102"
    assert n.fmt_range(0.3, 0.3) == "+0.30 to +0.30"               # equal ends gain no digits
    assert n.fmt_range(0.5611, 0.5616, digits=1) == "+0.561 to +0.562"
    assert n.fmt_range(1.04, 1.26, digits=1, signed=False) == "1.0 to 1.3"


def test_pct():
    assert n.pct(0.83) == "83%" and n.pct(0.004) == "0%" and n.pct(1.0) == "100%" and n.pct(0.126) == "13%"


# --------------------------------------------------------------------------------------------------- scales


def test_scale_words():
    assert n.scale_words(_scale()) == "work engagement"
    assert n.scale_words(SimpleNamespace(name="Burnout")) == "burnout"            # no label attribute: the name
    assert n.scale_words(SimpleNamespace(label="", name="Burnout")) == "burnout"
    assert n.scale_words(SimpleNamespace()) == ""
    assert n.scale_words(_scale(label="UWES total (short)")) == "UWES total"      # an acronym keeps its capitals
    assert n.scale_words(_scale(label="  Engagement  ")) == "engagement"
    assert n.scale_words(_scale(label="Ab")) == "ab"
    assert n.scale_words(_scale(label="PCs used")) == "PCs used"                # the first two letters decide
    assert n.scale_words(_scale(label="\u01c5")) == "\u01c5"     # one character is never changed (titlecase Dž)


def test_direction_label():
    assert n.direction_label(_scale(higher_is="more bias")) == "higher = more bias"
    assert n.direction_label(_scale(higher_is="")) == "higher = more favourable"
    assert n.direction_label(_scale()) == "higher = more favourable"
    assert n.direction_label(_scale(favourable="high")) == "higher = more favourable"
    assert n.direction_label(_scale(favourable="low")) == "lower = more favourable"
    assert n.direction_label(_scale(favourable={"at_most": 3})) == "lower = more favourable"
    assert n.direction_label(_scale(favourable={"at_least": 4})) == "higher = more favourable"


def test_favourable_words():
    assert n.favourable_words(_scale()) == "share of answers in the top two options"
    assert n.favourable_words(_scale(favourable="high")) == "share of answers in the top two options"
    assert n.favourable_words(_scale(favourable="low")) == "share of answers in the bottom two options"
    assert n.favourable_words(_scale(favourable={"at_most": 3})) == "share of scores at or below 3"
    assert n.favourable_words(_scale(favourable={"at_least": 4.5})) == "share of scores at or above 4.5"


@pytest.mark.parametrize("pop, words", [
    (None, "everyone in the study"), ({}, "everyone in the study"),
    ({"role": "junior"}, "juniors"), ({"role": ["senior"]}, "seniors"),
    ({"role": ["junior", "senior"]}, "juniors and seniors"), ({"role": "manager"}, "manager staff"),
    ({"age": {"max": 35}}, "people aged 35 or under"), ({"age": {"min": 50}}, "people aged 50 or over"),
    ({"age": {"min": 0}}, "people aged 0 or over"), ({"age": {"min": 0, "max": 35}}, "people aged 0 to 35"),
    ({"age": {"min": 25, "max": 0}}, "people aged 25 to 0"), ({"age": {"max": 0}}, "people aged 0 or under"),
    ({"role": "junior", "age": {"min": 25, "max": 35.5}}, "juniors aged 25 to 35.5"),
    ({"age": {}}, "people"),
    ({"site_code": "A"}, "people whose site code is A"),
    ({"site": ["A", "B"], "role": "junior"}, "juniors whose site is A or B"),
    ({"role": "junior", "age": {"max": 35}, "site_code": ["A", "B"]},
     "juniors aged 35 or under and whose site code is A or B"),
    ({"role": "junior", "age": {"max": 35}, "site": "X", "band": 2},
     "juniors aged 35 or under, whose site is X and whose band is 2"),
])
def test_population_in_words(pop, words):
    assert n.population_in_words(pop) == words


def test_population_in_words_leaves_the_callers_mapping_alone():
    pop = {"role": "junior", "age": {"max": 35}}
    n.population_in_words(pop)
    assert pop == {"role": "junior", "age": {"max": 35}}


# --------------------------------------------------------------------------------------------------- intervals

Z95 = 1.6448536269514722            # normal 0.95 quantile
T95_10 = 1.8124611228107335         # t(0.95, 10)
Z975 = 1.959963984540054


def test_equivalence_interval_quantiles():
    row = {"estimate": 1.0, "se": 0.5}
    lo, hi = n.equivalence_interval({**row, "df": None}, 0.05)
    assert lo == pytest.approx(1 - Z95 * 0.5, abs=1e-12) and hi == pytest.approx(1 + Z95 * 0.5, abs=1e-12)
    lo, hi = n.equivalence_interval(row, 0.05)                       # no df key at all: normal
    assert hi == pytest.approx(1 + Z95 * 0.5, abs=1e-12)
    lo, hi = n.equivalence_interval({**row, "df": math.inf}, 0.025)
    assert lo == pytest.approx(1 - Z975 * 0.5, abs=1e-9) and hi == pytest.approx(1 + Z975 * 0.5, abs=1e-9)
    lo, hi = n.equivalence_interval({**row, "df": 10.0}, 0.05)
    assert lo == pytest.approx(1 - T95_10 * 0.5, abs=1e-12) and hi == pytest.approx(1 + T95_10 * 0.5, abs=1e-12)


def test_equivalence_band():
    assert n.equivalence_band({"outcome": "eng"}) is None
    assert n.equivalence_band({"outcome": "eng", "sesoi": None}) is None
    assert n.equivalence_band({"outcome": "retention", "sesoi": 0.8}) == pytest.approx(0.2231435513, abs=1e-9)
    assert n.equivalence_band({"outcome": "retention", "sesoi": 1.25}) == pytest.approx(0.2231435513, abs=1e-9)
    raw = {"outcome": "eng", "sesoi": 0.5, "sesoi_units": "raw", "estimate": 0.6, "effect_size": {"value": 0.3}}
    assert n.equivalence_band(raw) == 0.5
    d = {"outcome": "eng", "sesoi": 0.2, "estimate": 0.6, "effect_size": {"value": 0.3}}
    assert n.equivalence_band(d) == pytest.approx(0.4)                          # 0.2 · |0.6 / 0.3|
    assert n.equivalence_band({**d, "sesoi_units": "d"}) == pytest.approx(0.4)
    assert n.equivalence_band({**d, "estimate": -0.6}) == pytest.approx(0.4)
    # estimate 0 (or d 0): the band is sesoi baseline SDs, 1 when the SD is unknown
    assert n.equivalence_band({**d, "estimate": 0.0, "baseline_sd": 1.5}) == pytest.approx(0.3)
    assert n.equivalence_band({**d, "estimate": 0.0}) == pytest.approx(0.2)
    assert n.equivalence_band({**d, "estimate": 0.0, "baseline_sd": None}) == pytest.approx(0.2)
    assert n.equivalence_band({**d, "effect_size": {"value": 0.0}, "baseline_sd": 2.0}) == pytest.approx(0.4)


# --------------------------------------------------------------------------------------------------- survey rows


def _row(est=0.3, d=0.33, decision="supported", design="two_arm", **kw):
    r = {"id": "H", "outcome": "eng", "decision": decision, "estimate": est, "ci_low": est - 0.2,
         "ci_high": est + 0.2, "p_value": 0.3, "p_adjusted": 0.3, "family": "primary", "design": design,
         "effect_size": {"name": "d_ppc2", "value": d, "ci_low": d - 0.2, "ci_high": d + 0.2}}
    return {**r, **kw}


ON = "on the 0–6 scale (higher = more favourable)"


def test_survey_answer_two_arms():
    s = n.survey_answer(_row(0.3, 0.33), _scale())
    assert s == f"In the programme, work engagement rose by 0.30 points more than in the comparison group, {ON}: " \
                "about a third of a standard deviation."
    s = n.survey_answer(_row(-0.4, -0.5), _scale())
    assert s == f"In the programme, work engagement fell by 0.40 points more than in the comparison group, {ON}: " \
                "about half a standard deviation."
    # exactly one point (also −1 and what rounds to 1.00): "point"
    assert "rose by 1.00 point more" in n.survey_answer(_row(1.0, 0.9), _scale())
    assert "fell by 1.00 point more" in n.survey_answer(_row(-0.999, -0.9), _scale())
    assert "rose by 1.01 points more" in n.survey_answer(_row(1.01, 0.9), _scale())
    # d exactly 0.05 is a (tenth of a) difference; below it, "about as much"
    assert "about a tenth" in n.survey_answer(_row(0.3, 0.05), _scale())
    s = n.survey_answer(_row(0.3, 0.0499), _scale())
    assert s == f"In the programme, work engagement changed about as much as in the comparison group: a difference " \
                f"of +0.30 points {ON}."
    assert f"a difference of {M}0.30 points" in n.survey_answer(_row(-0.3, -0.0499), _scale())
    s = n.survey_answer(_row(0.004, 0.3), _scale())                # rounds to 0.00: about as much, no sign
    assert "changed about as much" in s and "of 0.00 points" in s
    assert "changed about as much" in n.survey_answer(_row(-0.004, -0.3), _scale())


def test_survey_answer_scale_ends_and_direction():
    s = n.survey_answer(_row(0.3, 0.33), _scale(min=1.0, max=4.5, favourable="low"))
    assert "on the 1–4.5 scale (lower = more favourable)" in s
    s = n.survey_answer(_row(0.3, 0.33), _scale(min=0.5, max=7, higher_is="more stress"))
    assert "on the 0.5–7 scale (higher = more stress)" in s


def test_survey_answer_single_arm():
    s = n.survey_answer(_row(0.5, 0.4, design="single_arm"), _scale())
    assert s == f"Within the programme, work engagement rose by 0.50 points {ON}: about a third of a standard " \
                "deviation. There was no comparison group, so this change cannot be attributed to the programme: " \
                "it may have happened anyway."
    s = n.survey_answer(_row(-1.0, -0.9, design="single_arm"), _scale())
    assert s.startswith(f"Within the programme, work engagement fell by 1.00 point {ON}: about 0.9 standard deviations.")
    s = n.survey_answer(_row(0.004, 0.01, design="single_arm"), _scale())
    assert s == f"Within the programme, work engagement hardly changed (0.00 points {ON})."
    assert "hardly changed" in n.survey_answer(_row(-0.004, -0.01, design="single_arm"), _scale())
    # a tiny d alone does not make a single-arm change "hardly" (only the points do)
    assert "rose by 0.30 points" in n.survey_answer(_row(0.3, 0.01, design="single_arm"), _scale())


def test_survey_certainty_supported_and_opposite():
    r = _row(0.3, decision="supported", p_value=0.001, p_adjusted=0.004)
    assert n.survey_certainty(r, 0.05) == "We are confident about the direction: the difference is likely between " \
                                          "+0.10 and +0.50 points (95% range)."
    extra = " This holds after allowing for the 3 questions of this part of the study."
    assert n.survey_certainty({**r, "adjustment": "holm"}, 0.05, 3).endswith("(95% range)." + extra)
    assert n.survey_certainty({**r, "adjustment": "holm"}, 0.05, 2).endswith(
        "(95% range). This holds after allowing for the 2 questions of this part of the study.")
    assert n.survey_certainty({**r, "adjustment": "holm"}, 0.05, 1).endswith("(95% range).")
    assert n.survey_certainty({**r, "adjustment": "holm"}, 0.05).endswith("(95% range).")   # default: one question
    for adj in ("none", "none (exploratory)", None):
        assert n.survey_certainty({**r, "adjustment": adj}, 0.05, 3).endswith("(95% range).")
    o = _row(-0.4, decision="opposite", design="single_arm")
    assert n.survey_certainty(o, 0.1) == f"We are confident about the direction: the change is likely between " \
                                         f"{M}0.60 and {M}0.20 points (90% range)."


def test_survey_certainty_equivalent():
    # estimate 0.05, se 0.1, df 10, α .05: 0.05 ± 1.8125 · 0.1 = −0.131 to +0.231; band 0.2 · |0.05 / 0.025| = 0.4
    r = _row(0.05, 0.025, decision="equivalent", se=0.1, df=10.0, sesoi=0.2)
    assert n.survey_certainty(r, 0.05) == (
        f"Any effect is too small to matter: with 90% confidence the difference lies between {M}0.13 and +0.23 "
        "points, inside the band of ±0.40 points (0.20 standard deviations) that the study set in advance as too "
        "small to matter.")
    raw = {**r, "sesoi": 0.5, "sesoi_units": "raw", "design": "single_arm"}
    # α .025: 95% confidence, normal quantile (df None): 0.05 ± 1.96 · 0.1 = −0.146 to +0.246
    assert n.survey_certainty({**raw, "df": None}, 0.025) == (
        f"Any effect is too small to matter: with 95% confidence the change lies between {M}0.15 and +0.25 "
        "points, inside the band of ±0.50 points (0.50 points) that the study set in advance as too small to "
        "matter.")


def test_survey_certainty_inconclusive_boundaries():
    plain = "The data cannot yet tell: the difference is likely between +0.10 and +0.50 points (95% range), " \
            "which includes no change."
    alone = ("The data cannot yet tell. Taken alone, the likely range (+0.10 to +0.50 points, 95%) leaves out no "
             "change, but after allowing for the 4 questions of this part of the study the evidence is not strong "
             "enough to rule out no change.")
    r = _row(0.3, decision="inconclusive")
    assert n.survey_certainty({**r, "p_value": 0.3, "p_adjusted": 0.6}, 0.05, 4) == plain
    assert n.survey_certainty({**r, "p_value": 0.03, "p_adjusted": 0.06}, 0.05, 4) == alone
    assert n.survey_certainty({**r, "p_value": 0.01, "p_adjusted": 0.05}, 0.05, 4) == alone   # p_adj = α: not below
    assert n.survey_certainty({**r, "p_value": 0.05, "p_adjusted": 0.1}, 0.05, 4) == plain    # p = α: not below
    assert n.survey_certainty({**r, "p_value": 0.01, "p_adjusted": 0.04}, 0.05, 4) == plain   # (cannot happen)
    assert "the change is likely" in n.survey_certainty({**r, "design": "single_arm"}, 0.05)


# --------------------------------------------------------------------------------------------------- retention


def _ret(hr, decision="supported", lo=0.6, hi=0.9, **kw):
    return {"outcome": "retention", "decision": decision, "estimate": math.log(hr), "se": 0.2, "p_value": 0.01,
            "p_adjusted": 0.02, "family": "primary",
            "effect_size": {"name": "hazard_ratio", "value": hr, "ci_low": lo, "ci_high": hi}, **kw}


def test_retention_answer():
    assert n.retention_answer(_ret(0.8)) == ("Among everyone in the study, people in the programme resigned at 0.80 "
                                             "times the rate of the comparison group (20% less often).")
    assert n.retention_answer(_ret(1.25, population={"role": "senior"})) == (
        "Among seniors, people in the programme resigned at 1.25 times the rate of the comparison group "
        "(25% more often).")
    same = ("Among everyone in the study, people in the programme resigned at about the same rate as the "
            "comparison group.")
    assert n.retention_answer(_ret(1.0)) == same and n.retention_answer(_ret(0.996)) == same
    assert n.retention_answer(_ret(1.004)) == same
    assert "at 0.99 times the rate of the comparison group (1% less often)" in n.retention_answer(_ret(0.99))


def test_retention_certainty():
    r = _ret(0.75, lo=0.6, hi=0.9)
    assert n.retention_certainty(r, 0.05) == (
        "We are confident about the direction: the programme group's rate of resigning is likely between 0.60 and "
        "0.90 times the comparison group's (95% range).")
    assert n.retention_certainty(_ret(1.3, "opposite", 1.1, 1.5), 0.1) == (
        "We are confident about the direction: the programme group's rate of resigning is likely between 1.10 and "
        "1.50 times the comparison group's (90% range).")
    # equivalent: exp(log 1.02 ± 1.6449 · 0.05) = 0.937 to 1.110; band 0.80 to 1.25 from either way of writing it
    eq = {**_ret(1.02, "equivalent", 0.9, 1.2), "se": 0.05, "sesoi": 1.25}
    want = ("Any effect is too small to matter: with 90% confidence the ratio lies between 0.94 and 1.11, inside the "
            "band 0.80 to 1.25 that the study set in advance as too small to matter.")
    assert n.retention_certainty(eq, 0.05) == want
    assert n.retention_certainty({**eq, "sesoi": 0.8}, 0.05) == want
    assert n.retention_certainty({**eq, "df": 10.0}, 0.05).startswith(   # exp(0.0198 ± 1.8125 · 0.05): 0.931, 1.118
        "Any effect is too small to matter: with 90% confidence the ratio lies between 0.93 and 1.12,")


def test_retention_certainty_inconclusive_boundaries():
    r = _ret(0.7, "inconclusive", 0.5, 0.98)
    alone = ("The data cannot yet tell. Taken alone, the likely range (0.50 to 0.98 times, 95%) leaves out no "
             "difference, but after allowing for the 3 questions of this part of the study the evidence is not "
             "strong enough.")
    plain = ("The data cannot yet tell: the programme group's rate of resigning is likely between 0.50 and 0.98 "
             "times the comparison group's (95% range), which includes no difference.")
    assert n.retention_certainty({**r, "p_value": 0.03, "p_adjusted": 0.09}, 0.05, 3) == alone
    assert n.retention_certainty({**r, "p_value": 0.03, "p_adjusted": 0.05}, 0.05, 3) == alone
    assert n.retention_certainty({**r, "p_value": 0.05, "p_adjusted": 0.09}, 0.05, 3) == plain
    assert n.retention_certainty({**r, "p_value": 0.2, "p_adjusted": 0.4}, 0.05, 3) == plain
    assert "allowing for the 1 questions" in n.retention_certainty({**r, "p_value": 0.03, "p_adjusted": 0.09}, 0.05)


# --------------------------------------------------------------------------------------------------- caveats


def test_causal_caveat():
    long = ("People chose whether to join, so part of this difference may come from who joined rather than from "
            "the programme itself.")
    assert n.causal_caveat() == long and n.causal_caveat("nonrandomised") == long
    assert n.causal_caveat("nonrandomised", short=True) == \
        "People chose to join: part of this may come from who joined, not from the programme."
    assert n.causal_caveat("randomised") is None and n.causal_caveat("waitlist", short=True) is None


def test_baseline_gap_sentence():
    assert n.baseline_gap_sentence(0.1, "engagement", "pre") is None
    assert n.baseline_gap_sentence(-0.1, "engagement", "pre") is None
    assert n.baseline_gap_sentence(0.0, "engagement", "pre") is None
    assert n.baseline_gap_sentence(0.25, "work engagement", "baseline") == (
        "At the 'baseline' survey the programme group already scored 0.25 standard deviations higher on work "
        "engagement than the comparison group. The comparison of change allows for this starting gap, but groups "
        "that start apart can also change differently.")
    s = n.baseline_gap_sentence(-0.104, "engagement", "pre")
    assert s is not None and "already scored 0.10 standard deviations lower on engagement" in s


def test_moderation_sentence():
    dose = {"kind": "dose_response", "moderator": "sessions_attended", "interaction": {"estimate": 0.2}}
    assert n.moderation_sentence(dose) == (
        "Within the programme, people with more sessions attended tended to change more on this measure. This is a "
        "pattern worth a look, not proof that sessions attended caused it.")
    assert "tended to change less" in n.moderation_sentence({**dose, "interaction": {"estimate": 0.0}})
    assert "tended to change less" in n.moderation_sentence({**dose, "interaction": {"estimate": -0.2}})
    mod = {"kind": "moderator", "moderator": "baseline_engagement", "interaction": {"estimate": 0.5}}
    assert n.moderation_sentence(mod) == (
        "The programme's effect on this measure looked larger for people with higher baseline engagement at the "
        "start. Treat this as a lead to follow up: it was not the main question.")
    assert "looked smaller for people" in n.moderation_sentence({**mod, "interaction": {"estimate": 0.0}})


def test_verdict():
    assert n.verdict("equivalent") == "evidence of no meaningful change"
    with pytest.raises(KeyError):
        n.verdict("maybe")
