"""Edge cases of rmstudy.mixed_model found by mutation testing (issue #17): numeric waves are ordered as numbers,
and an outcome the fixed effects fit exactly is one ModelError, not a ZeroDivisionError."""

import numpy as np
import pandas as pd
import pytest

import rmstudy as rm
from rmstudy.errors import ModelError


def _long(n=30, seed=3):
    rng = np.random.default_rng(seed)
    ids = [f"p{i}" for i in range(n) for _ in (0, 1)]
    arm = ["program" if i < n // 2 else "control" for i in range(n) for _ in (0, 1)]
    first = np.tile([True, False], n)
    score = rng.normal(0, 1, n).repeat(2) + np.where(first, 0.0, 1.0) + rng.normal(0, 0.5, 2 * n)
    return pd.DataFrame({"participant_id": ids, "arm": arm, "first": first, "score": score})


def test_numeric_waves_are_ordered_as_numbers_not_as_text():
    d = _long()
    num = d.assign(wave=np.where(d["first"], 3, 12))                     # as text, "12" would sort before "3"
    cat = d.assign(wave=pd.Categorical(np.where(d["first"], "m3", "m12"), ["m3", "m12"], ordered=True))
    a = rm.mixed_model(num, "score", between_ref="control")
    b = rm.mixed_model(cat, "score", between_ref="control")
    assert a["term"].tolist() == ["Intercept", "arm[program]", "wave[12]", "arm[program]:wave[12]"]
    assert np.allclose(a["estimate"], b["estimate"], atol=1e-10) and np.allclose(a["se"], b["se"], atol=1e-10)
    assert a.set_index("term").loc["wave[12]", "estimate"] > 0.5            # the planted rise from wave 3 to 12


@pytest.mark.parametrize("make", [lambda d: d.assign(score=4.0),         # every score the same
                                  lambda d: d.assign(score=0.0),
                                  lambda d: d.assign(score=np.where(d["first"], 1.0, 2.5) + (d["arm"] == "program"))])
def test_an_outcome_fitted_exactly_is_one_model_error(make):
    d = make(_long()).assign(wave=lambda x: pd.Categorical(np.where(x["first"], "pre", "post"), ["pre", "post"],
                                                           ordered=True))
    with _no_warning():
        with pytest.raises(ModelError, match="the outcome is fitted exactly"):
            rm.mixed_model(d, "score", between_ref="control")


class _no_warning:
    """Fail on any warning raised inside (log(0) of the REML criterion was one before the early check)."""

    def __enter__(self):
        import warnings
        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("error")

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)
