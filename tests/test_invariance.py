"""rmstudy.stats.invariance against lavaan (tests/reference/invariance/make_reference.R): chi-square to 1e-3
relative, df and n exact, CFI and RMSEA to 1e-3, on every >= 3-item scale of the demo and on a fixture with planted
non-invariant intercepts; and the rows given where a fit is impossible."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rmstudy.contract.cohort import load_cohort
from rmstudy.stats.invariance import INVARIANCE_COLUMNS, LEVELS, longitudinal_invariance, multigroup_invariance
from rmstudy.stats.scoring import reverse_key

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "reference" / "invariance"
DEMO = ROOT / "data" / "demo"
RERUN = "rerun: Rscript tests/reference/invariance/make_reference.R"
ITEMS = ["q1", "q2", "q3", "q4", "q5"]


def _ref(name):
    return json.loads((REF / name).read_text())


def _close(py, r, what):
    """py: one level row of rmstudy; r: lavaan's numbers for the same model."""
    assert py["reason"] is None, (what, py["reason"])
    assert int(py["df"]) == r["df"] and int(py["n"]) == r["n"], what
    assert py["chisq"] == pytest.approx(r["chisq"], rel=1e-3, abs=1e-6), what
    assert py["cfi"] == pytest.approx(r["cfi"], abs=1e-3), what
    assert py["rmsea"] == pytest.approx(r["rmsea"], abs=1e-3), what


@pytest.fixture(scope="module")
def demo():
    ref = _ref("invariance_demo.json")
    for f, md5 in ref["md5"].items():
        if hashlib.md5((DEMO / f).read_bytes()).hexdigest() != md5:
            pytest.fail(f"data/demo/{f} changed since the lavaan reference was made; {RERUN}")
    c = load_cohort(DEMO)
    keyed = reverse_key(c.responses, c.codebook).merge(c.participants[["participant_id", "arm", "role"]],
                                                       on="participant_id")
    return ref, c, keyed


def _demo_tables(ref, c, keyed, scale):
    items = c.codebook[scale].items
    base = keyed[keyed["wave"] == ref["first_wave"]]
    return {"role": multigroup_invariance(base, items, "role", min_n=0),
            "arm": multigroup_invariance(base, items, "arm", min_n=0),
            "wave": longitudinal_invariance(keyed, items, ref["waves"], min_n=0)}


def test_demo_matches_lavaan_on_every_scale(demo):
    ref, c, keyed = demo
    wanted = {s.name for s in c.codebook.scales.values() if s.n_items >= 3}
    assert wanted == set(ref["scales"]), f"the codebook's scales changed; {RERUN}"
    compared = 0
    for scale, by in ref["scales"].items():
        for across, table in _demo_tables(ref, c, keyed, scale).items():
            for row in table.to_dict(orient="records"):
                r = by[across][row["level"]]
                if r["chisq"] is None or not r["converged"]:
                    assert row["reason"], (scale, across, row["level"])   # lavaan could not fit: a stated reason
                    continue
                _close(row, r, (scale, across, row["level"]))
                compared += 1
    assert compared >= 60                                   # most of the demo's scale x across x level fits


def test_demo_verdicts_equal_lavaans(demo):
    """A scale passes scalar (and metric) invariance here exactly where lavaan's CFIs say it does."""
    ref, c, keyed = demo
    for scale, by in ref["scales"].items():
        for across, table in _demo_tables(ref, c, keyed, scale).items():
            t = table.set_index("level")
            for lo, hi in (("configural", "metric"), ("metric", "scalar")):
                r_lo, r_hi = by[across][lo], by[across][hi]
                if r_lo["cfi"] is None or r_hi["cfi"] is None:
                    continue
                assert (t.loc[hi, "delta_cfi"] < -0.01) == (r_hi["cfi"] - r_lo["cfi"] < -0.01), (scale, across, hi)
                assert t.loc[hi, "delta_cfi"] == pytest.approx(r_hi["cfi"] - r_lo["cfi"], abs=2e-3)


@pytest.fixture(scope="module")
def fixture():
    return pd.read_csv(REF / "noninvariant.csv"), _ref("invariance_fixture.json")


def test_fixture_matches_lavaan_and_finds_the_planted_items(fixture):
    data, ref = fixture
    tables = {"group": multigroup_invariance(data[data["wave"] == "t1"], ITEMS, "group"),
              "wave": longitudinal_invariance(data, ITEMS, ["t1", "t2"])}
    for across, table in tables.items():
        assert table["level"].tolist() == list(LEVELS) and list(table.columns) == INVARIANCE_COLUMNS
        t = table.set_index("level")
        for level in LEVELS:
            _close(t.loc[level], ref[across][level], (across, level))
        assert t.loc["metric", "delta_cfi"] > -0.01          # loadings are equal in the simulation
        assert t.loc["scalar", "delta_cfi"] < -0.01          # the planted intercept shift is detected
        assert pd.isna(t.loc["configural", "delta_cfi"])


def test_without_the_planted_item_scalar_invariance_holds(fixture):
    data, _ = fixture
    t1 = data[data["wave"] == "t1"]
    across_group = multigroup_invariance(t1, ["q1", "q2", "q3", "q5"], "group").set_index("level")
    across_wave = longitudinal_invariance(data, ["q1", "q2", "q4", "q5"], ["t1", "t2"]).set_index("level")
    assert across_group.loc["scalar", "delta_cfi"] > -0.01
    assert across_wave.loc["scalar", "delta_cfi"] > -0.01


def test_group_order_and_item_sign_do_not_change_the_fit(fixture):
    data, _ = fixture
    t1 = data[data["wave"] == "t1"]
    a = multigroup_invariance(t1, ITEMS, "group")
    flipped = t1.assign(group=t1["group"].map({"a": "z"}).fillna("b"), q3=10 - t1["q3"])
    b = multigroup_invariance(flipped.iloc[::-1], ITEMS, "group")
    np.testing.assert_allclose(a[["chisq", "cfi", "rmsea"]].to_numpy(float), b[["chisq", "cfi", "rmsea"]].to_numpy(float),
                               rtol=1e-6, atol=1e-8)


def test_impossible_fits_give_rows_with_a_reason(fixture):
    data, _ = fixture
    t1 = data[data["wave"] == "t1"]
    small = multigroup_invariance(pd.concat([t1[t1["group"] == "a"], t1[t1["group"] == "b"].head(12)]), ITEMS, "group")
    assert small["reason"].str.contains("too few complete answers from group 'b' \\(11; needs at least 30\\)").all()
    assert small["chisq"].isna().all() and small["df"].isna().all()
    one = multigroup_invariance(t1[t1["group"] == "a"], ITEMS, "group")
    assert one["reason"].str.contains("needs two groups").all()
    flat = multigroup_invariance(t1.assign(q2=np.where(t1["group"] == "a", 3.0, t1["q2"])), ITEMS, "group")
    assert flat["reason"].str.contains("no variance in group 'a'").all()
    single_wave = longitudinal_invariance(data[data["wave"] == "t1"], ITEMS, ["t1", "t2"])
    assert single_wave["reason"].notna().all() and single_wave["chisq"].isna().all()
    few = longitudinal_invariance(data[data["participant_id"].isin(data["participant_id"].unique()[:20])], ITEMS,
                                  ["t1", "t2"])
    assert few["reason"].str.contains("too few complete answers").all()


def test_a_fit_that_does_not_converge_gives_a_reason(fixture, monkeypatch):
    import rmstudy.stats.invariance as inv

    data, _ = fixture
    real = inv.fit_cfa
    monkeypatch.setattr(inv, "fit_cfa", lambda *a, **k: {**real(*a, **k), "converged": False})
    t = multigroup_invariance(data[data["wave"] == "t1"], ITEMS, "group")
    assert t["reason"].eq("the maximum-likelihood fit did not converge").all() and t["chisq"].isna().all()


def test_a_heywood_case_is_fitted_and_noted():
    """Three items with r01 * r02 / r12 = 1.2 > 1: item q0's residual variance is estimated below zero (as lavaan
    would, unbounded), and the row says so."""
    rng = np.random.default_rng(5)
    R = np.array([[1, 0.8, 0.3], [0.8, 1, 0.2], [0.3, 0.2, 1]])
    X = rng.multivariate_normal(np.zeros(3), R, size=1000)
    d = pd.DataFrame(X, columns=["q0", "q1", "q2"]).assign(g=np.repeat(["a", "b"], 500))
    t = multigroup_invariance(d, ["q0", "q1", "q2"], "g").set_index("level")
    assert t.loc["configural", "df"] == 0 and t.loc["configural", "chisq"] == pytest.approx(0, abs=1e-6)
    assert "Heywood" in t.loc["configural", "note"]
