"""keyed_answers (issue #11, memory): the reverse-keyed answers with participant columns, without copying the
answers, must equal what reverse_key + merge gave, on the second fixture, and must leave the answers untouched."""

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from rmstudy.contract.cohort import load_cohort
from rmstudy.stats.scoring import keyed_answers, reverse_key

OTHER = ROOT / "tests" / "fixtures" / "other_cohort"


@pytest.fixture(scope="module")
def cohort():
    return load_cohort(OTHER)


@pytest.mark.parametrize("inner", [False, True])
def test_equals_reverse_key_then_merge(cohort, inner):
    R, P, cb = cohort.responses, cohort.participants, cohort.codebook
    assert any(s.reverse for s in cb.scales.values()), "the fixture must have reverse-keyed items"
    P_part = P.iloc[: len(P) - 5]                      # five people missing: NaN (left) or dropped (inner)
    cols = [c for c in ("role", "arm") if c in P.columns]
    before = R.copy()
    got = keyed_answers(R, cb, P_part, cols, inner=inner)
    want = reverse_key(R, cb).merge(P_part[["participant_id", *cols]], on="participant_id",
                                    how="inner" if inner else "left")
    for c in cols:
        got[c], want[c] = got[c].astype(object), want[c].astype(object)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True), check_exact=True)
    assert len(got) < len(R) if inner else got[cols[0]].isna().sum() > 0
    pd.testing.assert_frame_equal(R, before)           # nothing written into the answers


def test_unchanged_columns_are_shared_not_copied(cohort):
    R, cb = cohort.responses, cohort.codebook
    reversed_items = {i for s in cb.scales.values() for i in s.reverse}
    kept = next(c for s in cb.scales.values() for c in s.items if c not in reversed_items)
    flipped = next(iter(reversed_items))
    got = keyed_answers(R, cb)
    assert np.shares_memory(got[kept].to_numpy(), R[kept].to_numpy())
    assert not np.shares_memory(got[flipped].to_numpy(), R[flipped].to_numpy())


def test_columns_without_participants_is_a_programming_error(cohort):
    with pytest.raises(ValueError, match=r"^keyed_answers: columns need participants$"):
        keyed_answers(cohort.responses, cohort.codebook, None, ["role"])


def test_by_default_people_missing_from_participants_keep_their_rows(cohort):
    R, P, cb = cohort.responses, cohort.participants, cohort.codebook
    col = next(c for c in ("role", "arm") if c in P.columns)
    got = keyed_answers(R, cb, P.iloc[1:], [col])               # the first participant is missing
    assert len(got) == len(R)
    assert got.loc[R["participant_id"] == P["participant_id"].iloc[0], col].isna().all()
