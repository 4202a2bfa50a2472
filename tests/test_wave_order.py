"""The wave order of mixed_model is explicit (issue #12): ``within_order`` or an ordered Categorical; text waves
whose order as text is not their order in time are refused instead of silently changing the reference wave."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from rmstudy.errors import ModelError
from rmstudy.stats.models.mixed import mixed_model

WAVES = ["pre", "m2", "m12"]


def _data(waves=WAVES, n=60, seed=5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    k = len(waves)
    arm = np.repeat(np.where(np.arange(n) < n // 2, "program", "control"), k)
    t = np.tile(np.arange(k), n)
    y = 10 + np.repeat(rng.normal(0, 1, n), k) + 0.5 * t + 0.8 * (arm == "program") * t + rng.normal(0, 1, n * k)
    return pd.DataFrame({"participant_id": np.repeat(np.arange(n), k), "arm": arm,
                         "wave": np.array(waves)[t], "score": y})


def test_text_waves_that_sort_out_of_time_order_are_refused():
    with pytest.raises(ModelError, match=r"within_order=\[\.\.\.\].*\['m12', 'm2', 'pre'\], making 'm12' the reference"):
        mixed_model(_data(), "score", between_ref="control")
    with pytest.raises(ModelError, match="within_order"):
        mixed_model(_data(["m3", "m6", "m12"]), "score", between_ref="control")     # m12 would sort first


def test_within_order_equals_an_ordered_categorical_and_sets_the_reference():
    d = _data()
    a = mixed_model(d, "score", between_ref="control", within_order=WAVES).set_index("term")
    c = d.assign(wave=pd.Categorical(d["wave"], WAVES, ordered=True))
    b = mixed_model(c, "score", between_ref="control").set_index("term")
    assert list(a.index) == ["Intercept", "arm[program]", "wave[m2]", "wave[m12]", "arm[program]:wave[m2]",
                             "arm[program]:wave[m12]"]
    assert_allclose(a[["estimate", "se", "df"]].to_numpy(float), b[["estimate", "se", "df"]].to_numpy(float))
    # the simulated effect grows by 0.8 per wave step: about 0.8 at m2 and 1.6 at m12 against pre
    assert abs(a.loc["arm[program]:wave[m12]", "estimate"] - 1.6) < 4 * a.loc["arm[program]:wave[m12]", "se"]
    assert a.loc["arm[program]:wave[m12]", "estimate"] > a.loc["arm[program]:wave[m2]", "estimate"]


def test_within_order_must_list_every_wave():
    with pytest.raises(ModelError, match=r"level\(s\) \['m12'\] that within_order"):
        mixed_model(_data(), "score", between_ref="control", within_order=["pre", "m2"])


def test_unambiguous_text_waves_still_work():
    d = _data(["w1", "w2", "w3"])
    tab = mixed_model(d, "score", between_ref="control").set_index("term")
    assert "arm[program]:wave[w3]" in tab.index and "wave[w1]" not in tab.index
