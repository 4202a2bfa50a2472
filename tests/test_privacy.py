"""Suppression: primary below k, secondary so nothing is recoverable by subtraction."""


import numpy as np
import pandas as pd
import pytest

from rmstudy.report.privacy import suppress_by_n, suppress_counts, suppressed_retention


def _recoverable(display: pd.DataFrame, mask: pd.DataFrame) -> bool:
    """True when some hidden cell is the only hidden one in a line whose total is known."""
    m = mask.to_numpy()
    for i in range(m.shape[0]):
        if m[i].sum() == 1:
            return True
    for j in range(m.shape[1]):
        if m[:, j].sum() == 1:
            return True
    return False


def test_small_cell_hidden_and_not_recoverable():
    t = pd.DataFrame({"program": [150, 3], "control": [150, 40]}, index=["junior", "senior"])
    shown, mask = suppress_counts(t, 5)
    assert shown.loc["senior", "program"] == "fewer than 5"
    assert "3" not in shown.to_numpy().ravel().tolist()
    assert not _recoverable(shown, mask)
    # the totals that would give it away are hidden or complemented
    assert mask.to_numpy().sum() >= 4


def test_no_suppression_when_all_large():
    t = pd.DataFrame({"program": [10, 12], "control": [30, 40]}, index=["a", "b"])
    shown, mask = suppress_counts(t, 5)
    assert not mask.to_numpy().any()
    assert shown.loc["Total", "Total"] == "92"


@pytest.mark.parametrize("seed", range(30))
def test_random_tables_never_recoverable(seed):
    rng = np.random.default_rng(seed)
    t = pd.DataFrame(rng.integers(0, 12, size=(rng.integers(2, 5), rng.integers(2, 5))))
    shown, mask = suppress_counts(t, 5)
    full = t.copy()
    full["Total"] = t.sum(axis=1)
    full.loc["Total"] = full.sum(axis=0)
    vals = full.to_numpy()
    assert not _recoverable(shown, mask)
    assert mask.to_numpy()[(vals > 0) & (vals < 5)].all()       # every small cell hidden
    for (i, j), h in np.ndenumerate(mask.to_numpy()):
        if not h:
            assert shown.iat[i, j] == str(vals[i, j])


def test_means_suppressed_below_k():
    m = pd.DataFrame({"arm": ["program", "control"], "n": [4, 20], "mean": [3.1, 2.9], "ci_low": [2, 2.5], "ci_high": [4, 3.3]})
    s = suppress_by_n(m, 5)
    assert s.loc[0, "n"] == "fewer than 5" and np.isnan(s.loc[0, "mean"]) and np.isnan(s.loc[0, "ci_low"])
    assert s.loc[1, "mean"] == 2.9 and s["suppressed"].tolist() == [True, False]


def test_retention_needs_k_people_and_k_exits():
    km = pd.DataFrame({"group": ["program", "control", "program"], "horizon_days": [182, 182, 365],
                       "n": [40, 4, 40], "events_by_horizon": [3, 1, 9], "n_at_risk": [37, 3, 31],
                       "retention": [0.93, 0.75, 0.78], "ci_low": [0.8, 0.3, 0.6], "ci_high": [0.99, 1.0, 0.9]})
    s = suppressed_retention(km, 5)
    assert s["suppressed"].tolist() == [True, True, False]
    assert s["retention"].isna().tolist() == [True, True, False]
    assert s.loc[0, "n"] is None and s.loc[2, "retention"] == 0.78
