"""Property-based tests (hypothesis) of the decision rule and the multiplicity adjustments (issue #17)."""

from dataclasses import dataclass

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conftest import examples

from rmstudy.stats.decisions import decide, finalise_hypotheses
from rmstudy.stats.multiplicity import benjamini_hochberg, holm

probs = st.floats(0.0, 1.0, allow_nan=False)
alphas = st.sampled_from([0.005, 0.01, 0.05, 0.1, 0.2])
estimates = st.floats(-5, 5, allow_nan=False).filter(lambda x: x != 0)
signs = st.sampled_from([-1, 1])
tosts = st.none() | probs
p_vectors = st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=12)

SWAP = {"supported": "opposite", "opposite": "supported", "equivalent": "equivalent", "inconclusive": "inconclusive"}
STRENGTH = {"inconclusive": 0, "equivalent": 0, "supported": 1, "opposite": 1}


@given(estimates, probs, probs, tosts, alphas, signs)
def test_smaller_adjusted_p_never_weakens_a_finding(est, p1, p2, tost, alpha, sign):
    lo, hi = sorted((p1, p2))
    d_lo, d_hi = decide(est, lo, tost, alpha, sign), decide(est, hi, tost, alpha, sign)
    assert STRENGTH[d_lo] >= STRENGTH[d_hi]
    if d_hi in ("supported", "opposite"):
        assert d_lo == d_hi


@given(estimates, probs, probs, probs, alphas, signs)
def test_smaller_tost_p_never_takes_equivalence_away(est, p_adj, t1, t2, alpha, sign):
    lo, hi = sorted((t1, t2))
    if decide(est, p_adj, hi, alpha, sign) == "equivalent":
        assert decide(est, p_adj, lo, alpha, sign) == "equivalent"


@given(estimates, probs, tosts, alphas, signs)
def test_swapping_the_direction_swaps_supported_and_opposite(est, p_adj, tost, alpha, sign):
    d = decide(est, p_adj, tost, alpha, sign)
    assert decide(est, p_adj, tost, alpha, -sign) == SWAP[d]
    assert decide(-est, p_adj, tost, alpha, sign) == SWAP[d]
    assert decide(-est, p_adj, tost, alpha, -sign) == d


@given(estimates, probs, tosts, alphas, signs)
def test_the_rule_in_one_line(est, p_adj, tost, alpha, sign):
    d = decide(est, p_adj, tost, alpha, sign)
    if p_adj < alpha:
        assert d == ("supported" if np.sign(est) == sign else "opposite")
    elif tost is not None and tost < alpha:
        assert d == "equivalent"
    else:
        assert d == "inconclusive"
    assert (d in ("supported", "opposite")) == (p_adj < alpha)


@given(p_vectors)
def test_adjusted_p_is_at_least_raw_and_at_most_one(p):
    p = np.array(p)
    for f in (holm, benjamini_hochberg):
        a = f(p)
        assert a.shape == p.shape
        assert np.all(a >= p - 1e-15) and np.all(a <= 1.0)


@given(p_vectors)
def test_adjustment_keeps_the_order_of_the_raw_p_values(p):
    p = np.array(p)
    for f in (holm, benjamini_hochberg):
        a = f(p)
        i, j = np.meshgrid(np.arange(p.size), np.arange(p.size))
        assert np.all(a[i][p[i] <= p[j]] <= a[j][p[i] <= p[j]] + 1e-15)


@given(p_vectors, st.data())
def test_lowering_one_p_never_raises_any_adjusted_p(p, data):
    p = np.array(p)
    k = data.draw(st.integers(0, p.size - 1))
    q = p.copy()
    q[k] = data.draw(st.floats(0.0, p[k]))
    for f in (holm, benjamini_hochberg):
        assert np.all(f(q) <= f(p) + 1e-15)


@given(p_vectors, st.randoms(use_true_random=False))
def test_adjustment_does_not_depend_on_the_order_given(p, rnd):
    p = np.array(p)
    perm = np.array(rnd.sample(range(p.size), p.size))
    for f in (holm, benjamini_hochberg):
        np.testing.assert_allclose(f(p[perm]), f(p)[perm], rtol=0, atol=1e-15)


@given(p_vectors)
def test_bh_never_exceeds_holm_and_holm_never_exceeds_bonferroni(p):
    p = np.array(p)
    assert np.all(benjamini_hochberg(p) <= holm(p) + 1e-15)
    assert np.all(holm(p) <= np.minimum(p.size * p, 1.0) + 1e-15)
    # the smallest p: Holm multiplies it by m exactly
    assert np.isclose(holm(p).min(), min(1.0, p.size * p.min()), rtol=1e-12, atol=0)


@given(p_vectors)
def test_closed_forms(p):
    """Holm: max over j <= i of (m - j + 1) p_(j); BH: min over j >= i of m / j p_(j) (sorted p), capped at 1."""
    p = np.array(p)
    m = p.size
    s = np.sort(p)
    holm_sorted = np.minimum([max((m - j) * s[j] for j in range(i + 1)) for i in range(m)], 1.0)
    bh_sorted = np.minimum([min(m / (j + 1) * s[j] for j in range(i, m)) for i in range(m)], 1.0)
    np.testing.assert_allclose(np.sort(holm(p)), holm_sorted, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(np.sort(benjamini_hochberg(p)), bh_sorted, rtol=1e-12, atol=1e-15)


@dataclass(frozen=True)
class H:
    id: str
    family: str
    expected_sign: int


@dataclass(frozen=True)
class Plan:
    hypotheses: tuple
    alpha: float


@st.composite
def plans_and_rows(draw):
    n = draw(st.integers(1, 8))
    hyps = tuple(H(f"H{i}", draw(st.sampled_from(["primary", "secondary", "exploratory"])), draw(signs))
                 for i in range(n))
    plan = Plan(hyps, draw(alphas))
    keep = [h for h in hyps if draw(st.booleans())] or [hyps[0]]
    rows = [{"id": h.id, "estimate": draw(estimates), "p_value": draw(probs), "tost_p": draw(tosts)} for h in keep]
    return plan, rows


@settings(max_examples=examples(60))
@given(plans_and_rows(), st.randoms(use_true_random=False))
def test_finalise_does_not_depend_on_row_order_and_follows_the_plan(plan_rows, rnd):
    plan, rows = plan_rows
    out = finalise_hypotheses(rows, plan)
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    assert finalise_hypotheses(shuffled, plan) == out
    order = [h.id for h in plan.hypotheses]
    assert [r["id"] for r in out] == sorted((r["id"] for r in rows), key=order.index)
    fam = {h.id: h for h in plan.hypotheses}
    for r in out:
        assert r["p_adjusted"] >= r["p_value"] - 1e-15 and r["p_adjusted"] <= 1.0
        if fam[r["id"]].family == "exploratory":
            assert r["p_adjusted"] == r["p_value"]
        assert r["decision"] == decide(r["estimate"], r["p_adjusted"], r["tost_p"], plan.alpha,
                                       fam[r["id"]].expected_sign)


@settings(max_examples=examples(60))
@given(plans_and_rows(), st.data())
def test_a_smaller_raw_p_never_turns_a_finding_inconclusive(plan_rows, data):
    plan, rows = plan_rows
    k = data.draw(st.integers(0, len(rows) - 1))
    lower = [dict(r) for r in rows]
    lower[k]["p_value"] = data.draw(st.floats(0.0, rows[k]["p_value"]))
    before = {r["id"]: r["decision"] for r in finalise_hypotheses(rows, plan)}
    after = {r["id"]: r["decision"] for r in finalise_hypotheses(lower, plan)}
    for i, d in before.items():
        if d in ("supported", "opposite"):
            assert after[i] == d


@given(estimates, st.floats(0.0, 1.0), alphas, signs)
def test_p_exactly_at_alpha_is_never_a_finding(est, tost, alpha, sign):
    assume(tost != alpha)
    assert decide(est, alpha, tost, alpha, sign) == ("equivalent" if tost < alpha else "inconclusive")
    assert decide(est, alpha, alpha, alpha, sign) == "inconclusive"
