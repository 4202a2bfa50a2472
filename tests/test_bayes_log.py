"""The JZS Bayes factor at 100,000 participants (#11): computed in log space (log10_bf10 always a number), bf10
null only where a float cannot hold it, and the academic report still prints a true statement."""

from __future__ import annotations

import json
import math

import jsonschema
import numpy as np
import pandas as pd
import pingouin as pg
import pytest

from rmstudy.contract.jsonio import write_json
from rmstudy.report import academic_tables as T
from rmstudy.report.academic_format import fmt_bf
from rmstudy.stats.sensitivity import BF_LOG10_MAX, bayes_factor_change, log10_jzs_bf


def _grid_log10_bf(t: float, nx: int, ny: int = 0, r: float = 0.707) -> float:
    """The same integral by another method: a trapezoid rule over a fine grid of log g, summed with logaddexp."""
    n, df = (nx, nx - 1) if ny == 0 else (nx * ny / (nx + ny), nx + ny - 2)
    u = np.linspace(-40, 40, 400_001)
    s = 1 + n * np.exp(u) * r * r
    logf = (-0.5 * np.log(s) - (df + 1) / 2 * np.log1p(t * t / (s * df)) - 0.5 * np.log(2 * np.pi)
            - 0.5 * u - 0.5 * np.exp(-u))
    w = np.full(u.size, u[1] - u[0])
    w[[0, -1]] /= 2
    log_int = np.logaddexp.reduce(logf + np.log(w))
    return float((log_int + (df + 1) / 2 * np.log1p(t * t / df)) / np.log(10))


@pytest.mark.parametrize("t,nx,ny", [(3.5, 20, 20), (0.3, 50, 40), (-2.1, 200, 180), (10.0, 500, 500),
                                     (0.01, 50_000, 50_000), (1.5, 30, 0), (25.0, 5000, 5000), (4.0, 25_000, 0)])
def test_equals_pingouin_where_pingouin_is_finite(t, nx, ny):
    want = pg.bayesfactor_ttest(t, nx, ny or None, r=0.707)
    assert math.isfinite(want)
    assert log10_jzs_bf(t, nx, ny) == pytest.approx(math.log10(want), abs=1e-7)


@pytest.mark.parametrize("t,nx,ny", [(40.0, 20_000, 20_000), (150.0, 50_000, 50_000), (600.0, 50_000, 50_000),
                                     (90.0, 100_000, 0), (0.0, 50_000, 50_000)])
def test_large_samples_agree_with_an_independent_integration(t, nx, ny):
    got = log10_jzs_bf(t, nx, ny)
    assert math.isfinite(got)
    assert got == pytest.approx(_grid_log10_bf(t, nx, ny), abs=1e-6)
    assert log10_jzs_bf(-t, nx, ny) == pytest.approx(got, abs=1e-9)      # two-sided: the sign of t does not matter


def test_more_evidence_with_a_larger_t():
    values = [log10_jzs_bf(t, 50_000, 50_000) for t in (0.0, 2.0, 5.0, 20.0, 100.0, 300.0)]
    assert values == sorted(values) and values[0] < 0 < values[-1]
    assert values[-1] > BF_LOG10_MAX                                       # beyond any float: 10^x overflows


def _wide(n_per_arm: int, effect: float, seed: int = 3, single_arm: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arms = ["program"] * n_per_arm + ([] if single_arm else ["control"] * n_per_arm)
    pre = rng.normal(3, 0.7, len(arms))
    post = pre + rng.normal(0, 0.5, len(arms)) + effect * (np.array(arms) == "program")
    return pd.DataFrame({"arm": arms, "pre": pre, "post": post})


def test_a_clear_difference_at_100000_people_is_recorded_in_log_space(tmp_path):
    b = bayes_factor_change(_wide(50_000, 0.3))
    assert b["bf10"] is None and b["log10_bf10"] > BF_LOG10_MAX and math.isfinite(b["log10_bf10"])
    assert b["t"] > 80 and b["n_program"] == b["n_control"] == 50_000
    assert b["log10_bf10"] == pytest.approx(_grid_log10_bf(b["t"], 50_000, 50_000), abs=1e-6)
    back = json.loads(write_json(b, tmp_path / "b.json").read_text(encoding="utf-8"))
    assert back["bf10"] is None and back["log10_bf10"] == pytest.approx(b["log10_bf10"])


def test_no_difference_at_100000_people_keeps_a_finite_bf10():
    b = bayes_factor_change(_wide(50_000, 0.0))
    assert b["bf10"] is not None and b["bf10"] < 1
    assert math.log10(b["bf10"]) == pytest.approx(b["log10_bf10"], rel=1e-12)
    one = bayes_factor_change(_wide(25_000, 0.5, single_arm=True))           # single arm: the change itself
    assert one["n_control"] == 0 and one["bf10"] is None and one["log10_bf10"] > BF_LOG10_MAX


def test_the_report_formats_say_something_true_beyond_a_float():
    assert fmt_bf(None, 4404.2) == "> 100"
    assert fmt_bf(None, -400.0) == "< 0.01"
    assert fmt_bf(None, 0.5) == f"{10 ** 0.5:.2f}"
    assert fmt_bf(None) == "–" and fmt_bf(None, None) == "–"
    assert fmt_bf(26.74, math.log10(26.74)) == "26.74" and fmt_bf(26.74) == "26.74"


def _row(bf, log10):
    return {"id": "H1", "outcome": "engagement", "estimate": 0.3, "se": 0.004, "df": 99_000.0, "ci_low": 0.29,
            "ci_high": 0.31, "p_value": 0.0, "p_adjusted": 0.0, "adjustment": "holm", "tost_p": None,
            "effect_size": {"name": "d_ppc2", "value": 0.4, "ci_low": 0.39, "ci_high": 0.41}, "design": "two_arm",
            "bayes_factor_10": bf, "log10_bayes_factor_10": log10, "decision": "supported"}


def test_the_hypothesis_table_and_sentence_print_the_bayes_factor_beyond_a_float():
    huge = _row(None, 4404.2)
    assert T.hypothesis_table([huge])["BF10"].iloc[0] == "> 100"
    assert "BF<sub>10</sub> > 100" in T.result_sentence(huge)
    small = _row(0.12, math.log10(0.12))
    assert T.hypothesis_table([small])["BF10"].iloc[0] == "0.12"
    assert "BF<sub>10</sub> = 0.12" in T.result_sentence(small)
    old = _row(3.0, None)                                 # a results.json written before log10 was recorded
    old.pop("log10_bayes_factor_10")
    assert "BF<sub>10</sub> = 3.00" in T.result_sentence(old)


def test_the_schema_takes_the_log_and_a_null_bf10():
    from importlib import resources

    schema = json.loads(resources.files("rmstudy").joinpath("contract/schemas/results.schema.json")
                        .read_text(encoding="utf-8"))
    sens = schema["properties"]["sensitivity"]["additionalProperties"]["properties"]["bayes"]
    v = jsonschema.Draft202012Validator({"$defs": schema["$defs"], **sens})
    assert v.is_valid({"bf10": None, "log10_bf10": 4404.2, "prior_r": 0.707})
    assert not v.is_valid({"bf10": None, "log10_bf10": None, "prior_r": 0.707})
    assert not v.is_valid({"bf10": "inf", "log10_bf10": 4404.2, "prior_r": 0.707})
    hyp = jsonschema.Draft202012Validator({"$defs": schema["$defs"], "$ref": "#/$defs/hypothesis"})
    props = schema["$defs"]["hypothesis"]["properties"]
    assert props["log10_bayes_factor_10"] == {"type": "number"}
    assert not hyp.is_valid({**{k: None for k in schema["$defs"]["hypothesis"]["required"]},
                             "log10_bayes_factor_10": "big"})
