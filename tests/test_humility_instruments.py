"""The shipped humility instruments agree with what their sources say (#18).

Confirmed facts, written here once:

* IPIP publishes its HEXACO-parallel Honesty-Humility items (Ashton, Lee & Goldberg 2007) as four 10-item facet
  scales, and within each facet IPIP's key lists the + keyed items before the - keyed ones: Sincerity 1 + keyed,
  Fairness 5, Greed-Avoidance 2, Modesty 4 (ipip.ori.org/newHEXACO_PI_key.htm). There is no 10-item IPIP domain
  scale, so ours is a selection and must say so.
* IPIP's response scale: 1 Very Inaccurate, 2 Moderately Inaccurate, 3 Neither Inaccurate nor Accurate,
  4 Moderately Accurate, 5 Very Accurate (ipip.ori.org/newScoringInstructions.htm).
* The HEXACO-60 takes ten items per domain with at least two per facet (Ashton & Lee 2009, J Pers Assess 91:340).
* Owens, Johnson & Mitchell 2013 (Organization Science 24(5):1517-1538) develop an observer-report measure of
  expressed humility; its item count and response format were not confirmed, so the citation must say so.
"""

import numpy as np
import pytest
import yaml

from conftest import DEMO
from rmstudy.simulate.cohort import simulate_cohort
from rmstudy.simulate.humility import HUMILITY_SCALES, IPIP_HH_FACETS

IPIP_HH_PLUS_KEYED = {"Sincerity": 1, "Fairness": 5, "Greed-Avoidance": 2, "Modesty": 4}   # of 10 items each
IPIP_ITEMS_PER_FACET = 10
IPIP_ANCHORS = {1: "very inaccurate", 2: "moderately inaccurate", 3: "neither inaccurate nor accurate",
                4: "moderately accurate", 5: "very accurate"}
SMALL = dict(n_pairs=40, n_control_juniors=30, n_control_seniors=30, truth_mc=2000)
SHIPPED = ("label", "citation", "min", "max", "items", "reverse", "anchors", "higher_is")


def _facet_phrase(facets):
    """'01-02 Sincerity, 03-04 and 09 Fairness, ...' from {item number: facet}, facets in order of first item."""
    by = {}
    for k in sorted(facets):
        by.setdefault(facets[k], []).append(k)
    parts = []
    for facet, ks in by.items():
        runs, start = [], ks[0]
        for a, b in zip(ks, ks[1:] + [None]):
            if b != a + 1:
                runs.append(f"{start:02d}" if start == a else f"{start:02d}-{a:02d}")
                start = b
        parts.append(f"{' and '.join(runs)} {facet}")
    return ", ".join(parts)


def test_facet_phrase_groups_runs():
    assert _facet_phrase({1: "A", 2: "A", 3: "B", 4: "A"}) == "01-02 and 04 A, 03 B"


def test_ipip_selection_fits_ipips_published_key():
    hh = HUMILITY_SCALES["honesty_humility"]
    assert hh["n_items"] == 10 and sorted(IPIP_HH_FACETS) == list(range(1, 11)) and hh["facets"] is IPIP_HH_FACETS
    assert (hh["min"], hh["max"]) == (1, 5)
    assert {k: v.lower() for k, v in hh["anchors"].items()} == IPIP_ANCHORS
    reverse = set(hh["reverse_idx"])
    for facet, n_plus in IPIP_HH_PLUS_KEYED.items():
        ours = [k for k, f in IPIP_HH_FACETS.items() if f == facet]
        assert len(ours) >= 2, facet                                       # the HEXACO-60's rule
        plus = [k for k in ours if k not in reverse]
        assert len(plus) <= n_plus and len(ours) - len(plus) <= IPIP_ITEMS_PER_FACET - n_plus, facet
    assert set(IPIP_HH_FACETS.values()) == set(IPIP_HH_PLUS_KEYED)
    assert reverse == {2, 4, 6, 8, 10}                                     # even codes: IPIP's - keyed items


def test_expressed_humility_is_partner_rated_and_forward_keyed():
    eh = HUMILITY_SCALES["expressed_humility"]
    assert eh["kind"] == "partner_rated" and eh["reverse_idx"] == [] and (eh["min"], eh["max"]) == (1, 5)
    assert eh["n_items"] == 9


def _check_citations(codebook):
    hh, eh = codebook["honesty_humility"], codebook["expressed_humility"]
    for needle in ("Ashton, Lee & Goldberg 2007", "ipip.ori.org/newHEXACO_PI_key.htm",
                   "ipip.ori.org/newScoringInstructions.htm", "four 10-item facet scales", "not as a 10-item domain",
                   "items " + _facet_phrase(IPIP_HH_FACETS), "Ashton & Lee 2009"):
        assert needle in hh["citation"], needle
    assert "10 IPIP HEXACO-parallel items" in hh["label"]
    for needle in ("Owens, Johnson & Mitchell 2013", "doi:10.1287/orsc.1120.0795", "observer-report",
                   "viewing oneself accurately", "appreciating others' strengths", "teachability",
                   "Not confirmed: the item count (9) and the response format (1-5"):
        assert needle in eh["citation"], needle


def _answers(responses, codes):
    v = responses[codes].to_numpy(float).ravel()
    return v[~np.isnan(v)]


def test_demo_codebook_ships_the_definitions(demo_cohort):
    raw = yaml.safe_load((DEMO / "codebook.yaml").read_text("utf-8"))["scales"]
    _check_citations(raw)
    for name, spec in HUMILITY_SCALES.items():
        codes = [f"{spec['prefix']}_{k:02d}" for k in range(1, spec["n_items"] + 1)]
        got = raw[name]
        assert got["items"] == codes and got["reverse"] == [codes[i - 1] for i in spec["reverse_idx"]]
        assert (got["min"], got["max"]) == (spec["min"], spec["max"]) and got["anchors"] == spec["anchors"]
        assert got["label"] == spec["label"] and got["citation"] == spec["citation"]
        values = _answers(demo_cohort.responses, codes)
        assert values.min() == spec["min"] and values.max() == spec["max"]       # the whole range, nothing outside
        assert np.all(values == np.round(values))


@pytest.fixture(scope="module")
def simulated():
    return simulate_cohort(seed=11, **SMALL)[0]


def test_simulated_cohort_carries_the_same_instruments(simulated):
    raw = yaml.safe_load((DEMO / "codebook.yaml").read_text("utf-8"))["scales"]
    cb = simulated["codebook"]["scales"]
    _check_citations(cb)
    for name, spec in HUMILITY_SCALES.items():
        assert {k: cb[name][k] for k in SHIPPED} == {k: raw[name][k] for k in SHIPPED}, name
        values = _answers(simulated["responses"], cb[name]["items"])
        assert spec["min"] <= values.min() and values.max() <= spec["max"]


def test_simulated_reverse_keyed_items_run_against_the_others(simulated):
    """As answered (before reverse-scoring), an even IPIP code correlates negatively with an odd one: the codes the
    codebook marks reverse are the ones the simulator wrote reversed."""
    R = simulated["responses"]
    cb = simulated["codebook"]["scales"]["honesty_humility"]
    rev = set(cb["reverse"])
    r = R[cb["items"]].corr().to_numpy()
    same = [r[i, j] for i, a in enumerate(cb["items"]) for j, b in enumerate(cb["items"])
            if i < j and (a in rev) == (b in rev)]
    cross = [r[i, j] for i, a in enumerate(cb["items"]) for j, b in enumerate(cb["items"])
             if i < j and (a in rev) != (b in rev)]
    assert min(same) > 0.1 and max(cross) < -0.1
