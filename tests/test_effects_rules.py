"""Effect sizes and the SESOI scale, every branch stated (issue #17: kills tools/mutation.py's effects mutants)."""

import math

import numpy as np
import pandas as pd
import pytest

from rmstudy.stats.effects import d_per_raw, d_ppc2, hedges_correction, pooled_baseline_sd, sesoi_bound


def test_d_ppc2_record_names_itself_and_scales_all_three_numbers():
    es = d_ppc2(0.6, -0.2, 1.4, sd_pre=2.0, n_t=11, n_c=9)
    c = 1 - 3 / (4 * 18 - 1)
    assert set(es) == {"name", "value", "ci_low", "ci_high"} and es["name"] == "d_ppc2"
    assert es["value"] == pytest.approx(0.3 * c) and es["ci_low"] == pytest.approx(-0.1 * c)
    assert es["ci_high"] == pytest.approx(0.7 * c)


def test_hedges_correction_values():
    assert hedges_correction(1) == pytest.approx(0.0)            # 1 - 3/3
    assert hedges_correction(10) == pytest.approx(1 - 3 / 39)
    assert hedges_correction(10_000) == pytest.approx(1, abs=1e-4)


def test_pooled_sd_weights_the_arms_by_their_degrees_of_freedom():
    b = pd.DataFrame({"arm": ["program"] * 4 + ["control"] * 2 + ["other"],
                      "score": [1.0, 2.0, 3.0, np.nan, 10.0, 14.0, 100.0]})
    sd, nt, nc = pooled_baseline_sd(b)
    assert (nt, nc) == (3, 2)                                      # NaN dropped, other arms ignored
    assert sd == pytest.approx(math.sqrt((2 * 1.0 + 1 * 8.0) / 3))
    b2 = b.rename(columns={"arm": "group", "score": "s"}).replace({"program": "t", "control": "c"})
    assert pooled_baseline_sd(b2, score="s", arm="group", treated="t", control="c") == pytest.approx((sd, 3, 2))


def test_d_per_raw_uses_the_effect_size_scaling_and_falls_back_at_zero():
    assert d_per_raw(0.5, 0.49, 1.0) == pytest.approx(0.98)
    assert d_per_raw(-2.0, -1.0, 4.0) == pytest.approx(0.5)
    assert d_per_raw(0.0, 0.0, 4.0) == pytest.approx(0.25)        # exactly 0: 1 / baseline SD
    assert d_per_raw(0.0, 0.0, 0.5) == pytest.approx(2.0)


def test_sesoi_bound_per_unit():
    assert sesoi_bound(0.2, "d", per_raw=0.5) == pytest.approx(0.4)
    assert sesoi_bound(0.2, "d", per_raw=-0.5) == pytest.approx(0.4)
    assert sesoi_bound(0.3, "raw") == 0.3 and type(sesoi_bound(1, "raw")) is float
    assert sesoi_bound(0.8, "hazard_ratio") == pytest.approx(abs(math.log(0.8)))
    assert sesoi_bound(1.25, "hazard_ratio") == pytest.approx(math.log(1.25))
    assert type(sesoi_bound(0.2, "d", per_raw=0.5)) is float and type(sesoi_bound(0.8, "hazard_ratio")) is float
    with pytest.raises(ValueError, match=r"^a SESOI in d units needs the d units per scale point \(per_raw\)$"):
        sesoi_bound(0.2, "d")
