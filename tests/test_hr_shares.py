"""% favourable in the HR report: a share within k-1 answers of none or all shows as a bound (issue #10).

100% favourable in a group says every person in it answered favourably: an attribute of each named member, even
when the group is large. The bound makes "all" indistinguishable from "all but k-1"."""

from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rmstudy.report import hr_findings
from rmstudy.report.privacy import share_label


@given(total=st.integers(1, 400), k=st.integers(2, 10), data=st.data())
def test_every_count_in_a_band_shows_the_same_label_and_the_label_is_true(total, k, data):
    count = data.draw(st.integers(0, total))
    label = share_label(count, total, k)
    share = 100 * count / total
    if total <= 2 * (k - 1):
        assert {share_label(c, total, k) for c in range(total + 1)} == {"–"}
    elif label.startswith("at least "):
        bound = int(label.removeprefix("at least ").rstrip("%"))
        assert share >= bound                               # a true statement
        assert count >= total - k + 1
        # every count of the band shows the same words, so 'all' is never told apart
        assert {share_label(c, total, k) for c in range(max(0, total - k + 1), total + 1)} == {label}
    elif label.startswith("at most "):
        bound = int(label.removeprefix("at most ").rstrip("%"))
        assert share <= bound
        assert count <= k - 1
        assert {share_label(c, total, k) for c in range(0, min(total, k - 1) + 1)} == {label}
    else:
        assert k - 1 < count < total - k + 1
        assert label == f"{round(share):d}%"


def test_the_extremes_never_print_as_zero_or_a_hundred():
    for total in (3, 5, 12, 30, 200):
        for k in (2, 3, 5):
            assert share_label(total, total, k) != "100%"
            assert share_label(0, total, k) != "0%"
    assert share_label(19, 30, 3) == "63%"
    assert share_label(27, 30, 3) == "90%"            # 3 unfavourable answers: k of them, shown as it is
    assert share_label(28, 30, 3) == "at least 93%"
    assert share_label(3, 30, 3) == "10%" and share_label(2, 30, 3) == "at most 7%"
    with pytest.raises(ValueError):
        share_label(0, 0, 3)


def _ctx(cells, k=3):
    study = SimpleNamespace(waves=["before", "after"])
    results = {"psychometrics": {"favourable_by_hypothesis": {"Hx": cells}}}
    return hr_findings.FindingContext(results=results, study=study, codebook=None, k=k, alpha=0.05, conf="95%",
                                      assignment="", questions={})


def test_the_hr_table_and_its_data_carry_the_bound_not_the_exact_share():
    cells = [{"wave": "before", "arm": "program", "n": 10, "answers": 40, "percent_favourable": 100.0},
             {"wave": "before", "arm": "control", "n": 9, "answers": 36, "percent_favourable": 50.0},
             {"wave": "after", "arm": "program", "n": 10, "answers": 40, "percent_favourable": 2.5},
             {"wave": "after", "arm": "control", "n": 9, "answers": 36, "percent_favourable": 0.0}]
    ctx, f = _ctx(cells), {}
    scale = SimpleNamespace(favourable="high", n_items=4, min=1, max=5)
    hr_findings._favourable_table(ctx, f, {"id": "Hx"}, scale)
    rows = f["table"]["rows"]
    assert rows == [["before", "at least 95%", "50%"], ["after", "at most 5%", "at most 6%"]]
    shown = {(d["wave"], d["arm"]): d for d in ctx.data}
    assert shown[("before", "program")]["value"] is None and shown[("after", "control")]["value"] is None
    assert shown[("before", "control")]["value"] == 50.0
    assert not any("100%" in c or c == "0%" for r in rows for c in r)


def test_the_privacy_section_explains_a_bound_only_when_one_is_shown():
    import pandas as pd

    part = {"mask": pd.DataFrame({"a": [False]})}
    bounded = [{"shown": True, "table": {"rows": [["before", "at least 95%", "50%"]]}}]
    plain = [{"shown": True, "table": {"rows": [["before", "60%", "50%"]]}}]
    said = hr_findings.privacy_section(bounded, [], part, 3)
    assert any("within 2 answers of none or of all" in s and "‘at least 95%’" in s for s in said)
    assert not any("of none or of all" in s for s in hr_findings.privacy_section(plain, [], part, 3))


def test_a_group_with_few_leavers_says_so_instead_of_showing_nothing():
    """Few leavers is the common good news; the table said only 'not shown'. It now gives the 'fewer than k' count
    (as every hidden count in the report) over the group's size, never a rate; a group below k still shows nothing."""
    k = 3
    row = {"id": "Hr", "family": "f", "outcome": "retention", "population": None, "decision": "inconclusive",
           "effect_size": {"value": 0.8, "ci_low": 0.3, "ci_high": 2.0}, "p_value": 0.5, "p_adjusted": 0.5}
    km = [{"group": "program", "horizon_days": 365, "n": 40, "events_by_horizon": 2},
          {"group": "control", "horizon_days": 365, "n": 2, "events_by_horizon": 0}]
    ctx = hr_findings.FindingContext(results={"hypotheses": [row], "retention": {"Hr": {"km": km,
                                              "cumulative_incidence": []}}},
                                     study=SimpleNamespace(waves=["t0"]), codebook=None, k=k, alpha=0.05, conf="95%",
                                     assignment="", questions={"Hr": "Do people stay?"})
    f = {"anchor": "hr", "sentences": []}
    hr_findings.retention_finding(ctx, f, row, two_arm=True)
    rows = {r[0]: r for r in f["table"]["rows"]}
    prog = next(v for name, v in rows.items() if "rogramme" in name)
    other = next(v for name, v in rows.items() if "rogramme" not in name)
    assert prog[2] == "fewer than 3 of 40 had resigned (no rate shown)"
    assert other[2] == "not shown (fewer than 3 people)"
    assert "%" not in " ".join(prog + other)


def test_a_whole_arm_below_k_shows_no_count_of_it():
    """'Who took part' printed a 5-person comparison arm's total (5) beside 'fewer than 7' for its seniors, while the
    response-rate line said 'fewer than 7 people, so not shown'."""
    import pandas as pd

    from rmstudy.report.privacy import fewer_than, suppress_by_column

    t = pd.DataFrame({"program": [20, 15], "control": [0, 5]}, index=["junior", "senior"])
    shown, mask = suppress_by_column(t, 7)
    assert shown["control"].tolist() == ["hidden", "hidden", fewer_than(7)]
    assert mask["control"].all() and shown["program"].tolist() == ["20", "15", "35"]
    two = pd.DataFrame({"a": [1, 1, 0], "b": [10, 10, 10]})       # cells labelled 'fewer than 3' under a 'fewer
    s2, _ = suppress_by_column(two, 3)                               # than 3' total would each be 1
    assert s2["a"].tolist() == ["hidden", "hidden", "hidden", fewer_than(3)]


def test_no_favourable_table_when_its_favourable_end_is_not_the_hoped_for_one():
    """other_cohort's ageism climate ('higher = more age bias', no `favourable: low`) showed the share of the top
    two answers (more bias) as '% favourable' under a 'clear improvement' verdict."""
    cells = [{"wave": w, "arm": a, "n": 10, "answers": 40, "percent_favourable": 40.0}
             for w in ("before", "after") for a in ("program", "control")]
    high = SimpleNamespace(favourable="high", n_items=4, min=1, max=5)
    low = SimpleNamespace(favourable="low", n_items=4, min=1, max=5)
    cut = SimpleNamespace(favourable={"at_most": 13.0}, n_items=1, min=0, max=63)
    for scale, direction, shown in ((high, "decrease", False), (high, "increase", True), (low, "decrease", True),
                                    (low, "increase", False), (cut, "decrease", True), (cut, "increase", False)):
        ctx, f = _ctx(cells), {}
        hr_findings._favourable_table(ctx, f, {"id": "Hx", "direction": direction}, scale)
        assert ("table" in f) == shown, (scale.favourable, direction)
        assert bool(ctx.data) == shown
