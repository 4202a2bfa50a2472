"""The decision rule's boundaries, stated as tests (issue #17).

DESIGN.md's rule: a hypothesis is *supported* (or *opposite*) only when its adjusted p is strictly below alpha,
and *equivalent* only when the TOST p is strictly below alpha. "At alpha" is not below it. These tests pin every
comparison of ``decide`` and every branch of ``finalise_hypotheses``; tools/mutation.py checks that each changed
comparison, constant or string in them makes one of these tests fail.
"""

from dataclasses import dataclass

import pytest

from rmstudy.analysis.hypotheses import tost_p
from rmstudy.stats.decisions import decide, finalise_hypotheses

ALPHA = 0.05


# --- decide: the adjusted p ------------------------------------------------------------------------------------

@pytest.mark.parametrize("p_adj", [ALPHA, 0.0500000001, 0.055, 0.06, 0.0999, 0.1, 0.5, 1.0])
def test_adjusted_p_at_or_above_alpha_is_not_supported(p_adj):
    """p_adjusted = alpha exactly, .055 (the `<= 1.2 * alpha` mutant) and anything above: never supported/opposite."""
    assert decide(0.4, p_adj, None, ALPHA, 1) == "inconclusive"
    assert decide(-0.4, p_adj, None, ALPHA, 1) == "inconclusive"


@pytest.mark.parametrize("p_adj", [0.0, 1e-12, 0.001, 0.0499, 0.04999999])
def test_adjusted_p_below_alpha_decides_by_direction(p_adj):
    assert decide(0.4, p_adj, None, ALPHA, 1) == "supported"
    assert decide(-0.4, p_adj, None, ALPHA, 1) == "opposite"
    assert decide(-0.4, p_adj, None, ALPHA, -1) == "supported"
    assert decide(0.4, p_adj, None, ALPHA, -1) == "opposite"


def test_alpha_is_the_studys_not_a_constant():
    assert decide(0.4, 0.07, None, 0.10, 1) == "supported"
    assert decide(0.4, 0.10, None, 0.10, 1) == "inconclusive"
    assert decide(0.4, 0.009, None, 0.01, 1) == "supported"
    assert decide(0.4, 0.01, None, 0.01, 1) == "inconclusive"
    assert decide(0.4, 0.03, 0.03, 0.01, 1) == "inconclusive"
    assert decide(0.4, 0.5, 0.07, 0.10, 1) == "equivalent"


def test_significant_beats_equivalent():
    """A clear effect is reported as such even when the TOST also rejects (a tiny but real effect)."""
    assert decide(0.4, 0.01, 0.01, ALPHA, 1) == "supported"
    assert decide(-0.4, 0.01, 0.01, ALPHA, 1) == "opposite"


# --- decide: TOST ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("tost", [ALPHA, 0.0500000001, 0.06, 0.09, 0.0999, 0.1, 0.5, 1.0])
def test_tost_at_or_above_alpha_is_not_equivalent(tost):
    """TOST p = alpha exactly, .06 and .09 (the `< 2 * alpha` mutant): never "evidence of no meaningful change"."""
    assert decide(0.01, 0.8, tost, ALPHA, 1) == "inconclusive"


@pytest.mark.parametrize("tost", [0.0, 0.001, 0.049, 0.04999999])
def test_tost_below_alpha_is_equivalent(tost):
    assert decide(0.01, 0.8, tost, ALPHA, 1) == "equivalent"
    assert decide(-0.01, 0.8, tost, ALPHA, -1) == "equivalent"


def test_no_tost_is_inconclusive():
    """Rows without a SESOI carry tost_p None: never equivalent, and None is not compared with alpha."""
    assert decide(0.01, 0.8, None, ALPHA, 1) == "inconclusive"
    assert decide(0.01, ALPHA, None, ALPHA, 1) == "inconclusive"


def test_tost_p_is_the_larger_one_sided_p():
    """tost_p feeds the rule: at the boundary the larger of the two one-sided p-values is alpha."""
    from scipy import stats

    z = stats.norm.ppf(1 - ALPHA)            # estimate 0, se 1: p = alpha exactly when bound = z
    assert tost_p(0.0, 1.0, z, None) == pytest.approx(ALPHA, abs=1e-12)
    # an estimate off centre: the one-sided test towards the nearer bound decides
    p = tost_p(0.3, 0.1, 0.5, 20)
    assert p == pytest.approx(stats.t(20).cdf((0.3 - 0.5) / 0.1))
    assert tost_p(-0.3, 0.1, 0.5, 20) == pytest.approx(p)
    assert tost_p(0.3, 0.1, 0.5, None) == pytest.approx(stats.norm.cdf(-2.0))
    assert tost_p(0.3, 0.1, 0.5, float("inf")) == pytest.approx(stats.norm.cdf(-2.0))
    assert tost_p(0.3, 0.1, 0.5, float("nan")) == pytest.approx(stats.norm.cdf(-2.0))
    assert tost_p(0.6, 0.1, 0.5, 20) > 0.5                    # outside the bounds: not equivalent
    assert isinstance(tost_p(0.3, 0.1, 0.5, 20), float)


# --- finalise_hypotheses ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class H:
    id: str
    family: str
    expected_sign: int = 1


@dataclass(frozen=True)
class Plan:
    hypotheses: tuple
    alpha: float = ALPHA


PLAN = Plan((H("P1", "primary"), H("S1", "secondary", -1), H("P2", "primary"), H("E1", "exploratory"),
             H("S2", "secondary"), H("P3", "primary", -1)))


def _row(i, p, est=0.5, tost=None):
    return {"id": i, "estimate": est, "p_value": p, "tost_p": tost}


def test_holm_bh_none_by_family_in_plan_order():
    rows = [_row("E1", 0.04), _row("S2", 0.03), _row("P3", 0.02, -0.5), _row("P1", 0.01), _row("S1", 0.04, -0.5),
            _row("P2", 0.03)]
    out = finalise_hypotheses(rows, PLAN)
    assert [r["id"] for r in out] == ["P1", "S1", "P2", "E1", "S2", "P3"]
    got = {r["id"]: (r["p_adjusted"], r["adjustment"], r["decision"]) for r in out}
    # Holm over P1 .01, P3 .02, P2 .03: 3*.01, 2*.02, 1*.03 -> .03, .04, .04 (monotone)
    assert got["P1"] == (pytest.approx(0.03), "Holm", "supported")
    assert got["P3"] == (pytest.approx(0.04), "Holm", "supported")
    assert got["P2"] == (pytest.approx(0.04), "Holm", "supported")
    # BH over S2 .03, S1 .04: 2/1*.03 = .06 -> min(.06, .04) = .04; 2/2*.04 = .04
    assert got["S2"] == (pytest.approx(0.04), "Benjamini-Hochberg", "supported")
    assert got["S1"] == (pytest.approx(0.04), "Benjamini-Hochberg", "supported")
    # exploratory: unadjusted
    assert got["E1"] == (0.04, "none (exploratory)", "supported")
    assert all(type(r["p_adjusted"]) is float for r in out)


def test_adjusted_p_at_alpha_after_holm_is_not_supported():
    """Holm makes .025 with two primaries exactly .05: not supported."""
    plan = Plan((H("A", "primary"), H("B", "primary")))
    out = finalise_hypotheses([_row("A", 0.025), _row("B", 0.6)], plan)
    assert out[0]["p_adjusted"] == pytest.approx(0.05) and out[0]["decision"] == "inconclusive"
    out = finalise_hypotheses([_row("A", 0.0249), _row("B", 0.6)], plan)
    assert out[0]["decision"] == "supported"


def test_only_some_families_present():
    """A plan without primaries still adjusts its secondaries (no family is skipped for the next)."""
    plan = Plan((H("S1", "secondary"), H("S2", "secondary"), H("E1", "exploratory")))
    out = finalise_hypotheses([_row("S1", 0.01), _row("S2", 0.04), _row("E1", 0.2)], plan)
    assert [(r["id"], r["adjustment"]) for r in out] == [("S1", "Benjamini-Hochberg"), ("S2", "Benjamini-Hochberg"),
                                                         ("E1", "none (exploratory)")]
    assert out[0]["p_adjusted"] == pytest.approx(0.02)
    plan = Plan((H("E1", "exploratory"), H("E2", "exploratory")))
    out = finalise_hypotheses([_row("E2", 0.2), _row("E1", 0.01)], plan)
    assert [(r["id"], r["p_adjusted"], r["decision"]) for r in out] == [("E1", 0.01, "supported"),
                                                                          ("E2", 0.2, "inconclusive")]


def test_plan_hypotheses_without_a_row_are_left_out_not_the_rest():
    """A plan hypothesis that was not analysed (e.g. no retention data) is skipped; the ones after it stay."""
    out = finalise_hypotheses([_row("P3", 0.01, -0.5), _row("S2", 0.2)], PLAN)
    assert [r["id"] for r in out] == ["S2", "P3"]
    assert out[1]["decision"] == "supported" and out[1]["p_adjusted"] == pytest.approx(0.01)


def test_decision_uses_the_row_tost_the_study_alpha_and_the_plan_direction():
    plan = Plan((H("A", "primary", -1), H("B", "secondary"), H("C", "exploratory")), alpha=0.10)
    rows = [_row("A", 0.08, est=0.3), _row("B", 0.5, est=0.01, tost=0.08), _row("C", 0.5, est=0.01, tost=0.12)]
    out = {r["id"]: r["decision"] for r in finalise_hypotheses(rows, plan)}
    assert out == {"A": "opposite", "B": "equivalent", "C": "inconclusive"}
    rows[1] = {k: v for k, v in rows[1].items() if k != "tost_p"}       # retention rows may carry no tost_p
    assert finalise_hypotheses(rows, plan)[1]["decision"] == "inconclusive"


def test_input_rows_are_not_modified():
    rows = [_row("P1", 0.01), _row("P2", 0.02)]
    before = [dict(r) for r in rows]
    out = finalise_hypotheses(rows, PLAN)
    assert rows == before
    assert out[0] is not rows[0] and "decision" in out[0]


def test_rows_that_do_not_match_the_plan_are_refused_with_what_is_wrong():
    msg = ("hypothesis rows do not match the plan: duplicated {dup}, not in study.yaml {unknown}; "
           "each plan hypothesis must be analysed in exactly one notebook")
    with pytest.raises(ValueError) as e:
        finalise_hypotheses([_row("P1", 0.01), _row("P1", 0.02)], PLAN)
    assert str(e.value) == msg.format(dup=["P1"], unknown=[])
    with pytest.raises(ValueError) as e:
        finalise_hypotheses([_row("P1", 0.01), _row("X9", 0.02), _row("A0", 0.02)], PLAN)
    assert str(e.value) == msg.format(dup=[], unknown=["A0", "X9"])
    with pytest.raises(ValueError) as e:
        finalise_hypotheses([_row("S2", 0.1), _row("P2", 0.1), _row("S2", 0.1), _row("P2", 0.1), _row("Z", 0.1)],
                            PLAN)
    assert str(e.value) == msg.format(dup=["P2", "S2"], unknown=["Z"])
    with pytest.raises(ValueError):
        finalise_hypotheses([_row("P1", 0.01)] * 3, PLAN)


def test_every_row_once_passes():
    out = finalise_hypotheses([_row(h.id, 0.2) for h in PLAN.hypotheses], PLAN)
    assert len(out) == len(PLAN.hypotheses)
    assert {r["decision"] for r in out} == {"inconclusive"}



@dataclass(frozen=True)
class TypedRow:
    """Stands in for rmstudy.analysis.rows.HypothesisRow: finalise_hypotheses keeps typed rows typed."""
    id: str
    estimate: float
    p_value: float
    tost_p: float | None = None
    p_adjusted: float | None = None
    adjustment: str | None = None
    decision: str | None = None


@dataclass(frozen=True)
class TypedRowWithoutTost:
    id: str
    estimate: float
    p_value: float
    p_adjusted: float | None = None
    adjustment: str | None = None
    decision: str | None = None


def test_typed_rows_stay_typed_and_unchanged():
    plan = Plan((H("A", "primary"), H("B", "secondary"), H("C", "exploratory", -1)))
    rows = [TypedRow("C", -0.2, 0.2),
            TypedRow("B", 0.01, 0.5, tost_p=0.01), TypedRow("A", 0.3, 0.01)]
    out = finalise_hypotheses(rows, plan)
    assert [type(r) for r in out] == [TypedRow] * 3
    assert [(r.id, r.p_adjusted, r.adjustment, r.decision) for r in out] == [
        ("A", 0.01, "Holm", "supported"), ("B", 0.5, "Benjamini-Hochberg", "equivalent"),
        ("C", 0.2, "none (exploratory)", "inconclusive")]
    assert rows[2].decision is None and rows[2].p_adjusted is None
    out = finalise_hypotheses([TypedRowWithoutTost("A", 0.3, 0.5)], plan)
    assert out[0].decision == "inconclusive" and out[0].p_adjusted == 0.5
    with pytest.raises(ValueError):
        finalise_hypotheses([TypedRow("A", 0.3, 0.5), TypedRow("A", 0.3, 0.5)], plan)
