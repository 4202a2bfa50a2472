"""The reports' "next cohort" advice is the planner's number (#14): results.json ``next_cohort`` holds what
``rmstudy.planning.sample_size`` finds on the run's own plan (the plan of ``rmstudy power --from-run``), and the HR
report's sentence and the academic report's power table print those numbers, never a second rule.

``assert_reports_use_the_planner`` runs on a finished run folder; tests/test_power_e2e.py calls it on the demo and
tests/test_other_cohort.py on the second fixture (each reuses the full run its module makes). The unit tests below
need no run."""

from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path

from rmstudy.planning.from_run import (NEXT_COHORT_MAX_FACTOR, NEXT_COHORT_SEED, NEXT_COHORT_SIMS, next_cohort,
                                      plan_from_run)
from rmstudy.planning.search import sample_size
from rmstudy.report import hr


def _text(path: Path) -> str:
    text = re.sub(r"<(style|script)\b.*?</\1>", " ", path.read_text(encoding="utf-8"), flags=re.S | re.I)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text))).replace("\u2212", "-")


def assert_reports_use_the_planner(run_dir: Path, recompute: int = 1) -> dict:
    """Check a run folder: next_cohort lists every inconclusive two-arm hypothesis; the planner, run again on the
    run's plan, finds the same sizes (for the ``recompute`` largest, to keep the test short); the HR sentence and
    the academic table carry them. Returns next_cohort."""
    res = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    nc = res["next_cohort"]
    open_ = {r["id"] for r in res["hypotheses"] if r["decision"] == "inconclusive" and r.get("design") != "single_arm"}
    assert set(nc["hypotheses"]) == open_
    assert (nc["n_sims"], nc["seed"]) == (NEXT_COHORT_SIMS, NEXT_COHORT_SEED)
    plan, _ = plan_from_run(run_dir, n_sims=nc["n_sims"], seed=nc["seed"], target_power=nc["target_power"])
    assert nc["n_per_arm_now"] == plan.n_per_arm[0]
    by_size = sorted(open_, key=lambda h: (-(nc["hypotheses"][h]["n_per_arm"] or 0), h))
    for hid in by_size[:recompute]:
        s = sample_size(plan, hid, nc["target_power"], max_n=int(NEXT_COHORT_MAX_FACTOR * plan.n_per_arm[0]))
        e = nc["hypotheses"][hid]
        assert (e["n_per_arm"], e["n_per_arm_ci_low"], e["n_per_arm_ci_high"], e["note"]) == \
            (s["n_per_arm"], s["n_per_arm_ci_low"], s["n_per_arm_ci_high"], s["note"]), hid
        if s["n_per_arm"] is not None:
            assert e["n_total"] == 2 * s["n_per_arm"] and e["factor"] == s["n_per_arm"] / plan.n_per_arm[0]
            assert e["n_per_arm"] <= NEXT_COHORT_MAX_FACTOR * plan.n_per_arm[0]
    # the HR sentence: the largest factor among the questions it can settle, and that question's people
    rows = {r["id"]: r for r in res["hypotheses"]}
    hr_text = _text(next(p for p in (run_dir / "hr" / "hr_report.html", run_dir / "hr_report.html") if p.exists()))
    found = re.findall(r"A next cohort about ([\d.]+) times this one \(roughly (\d+) people", hr_text)
    factor = {h: e["factor"] or e["more_than_factor"] for h, e in nc["hypotheses"].items()}
    from rmstudy.contract.study import load_study
    from rmstudy.report.privacy import hidden_hypotheses

    k = load_study(next((run_dir / "inputs").glob("*/study.yaml"))).anonymity_threshold   # the run's own plan
    hidden = hidden_hypotheses(res["hypotheses"], k)          # a result HR does not see gets no advice there either
    sized = [h for h in open_ if rows[h]["family"] != "exploratory" and factor[h] is not None and h not in hidden]
    shown = [h for h in sized if factor[h] <= 10]
    if any(factor[h] > 10 for h in sized):         # the planner's factor decides this sentence too
        assert "would need more than ten times this cohort" in hr_text
    if found:
        f, people = found[0]
        best = [nc["hypotheses"][h] for h in shown]
        assert f == hr.fmt(max(1.0, max(e["factor"] for e in best)), 1)
        assert int(people) == math.ceil(max(e["n_total"] for e in best) / 10) * 10
    else:       # no sentence: every open question is hidden by the privacy rules or needs more than ten times
        assert not shown or "cannot be answered yet" in hr_text
    acad = _text(run_dir / "academic_report.html")
    for hid in open_:
        e = nc["hypotheses"][hid]
        if e["n_per_arm"] is not None:
            assert f"{e['n_per_arm']} per arm [{e['n_per_arm_ci_low']}, {e['n_per_arm_ci_high']}]" in acad, hid
    assert "Next cohort for the SESOI" in acad
    return nc


def test_next_cohort_skips_runs_without_open_questions_and_names_what_is_missing():
    done = {"hypotheses": [{"id": "A", "decision": "supported", "design": "two_arm"}]}
    assert next_cohort(done)["hypotheses"] == {} and next_cohort(done)["note"] is None
    single = {"hypotheses": [{"id": "A", "decision": "inconclusive", "design": "single_arm"}]}
    assert next_cohort(single)["hypotheses"] == {}
    broken = {"hypotheses": [{"id": "A", "decision": "inconclusive", "design": "two_arm"}]}
    out = next_cohort(broken)
    assert out["hypotheses"] == {} and "flow" in out["note"]


def test_hr_sentence_reads_the_planner_numbers_as_they_are():
    rows = [{"id": "O1", "family": "primary", "decision": "inconclusive", "design": "two_arm"},
            {"id": "O2", "family": "secondary", "decision": "inconclusive", "design": "two_arm"}]
    sizes = {"O1": {"factor": 3.433, "n_total": 2060}, "O2": {"factor": 1.5, "n_total": 900}}
    text = " ".join(hr.next_steps(rows, sizes, {}, {"O1": "Q1?", "O2": "Q2?"}, cohort_size=1))
    assert "about 3.4 times this one (roughly 2060 people" in text      # cohort_size plays no part any more
    assert "times this one" not in " ".join(hr.next_steps(rows, {}, {}, {"O1": "Q1?", "O2": "Q2?"}, 600))


def test_a_size_beyond_the_search_reads_as_more_than_ten_times():
    rows = [{"id": "R1", "family": "secondary", "decision": "inconclusive", "design": "two_arm"}]
    beyond = {"R1": {"factor": None, "n_total": None, "more_than_factor": NEXT_COHORT_MAX_FACTOR}}
    text = " ".join(hr.next_steps(rows, beyond, {}, {"R1": "Q?"}, 80))
    assert "more than ten times this cohort" in text and "times this one" not in text
    zero = {"R1": {"factor": None, "n_total": None, "more_than_factor": None}}      # an assumed effect of 0
    assert "a larger cohort would help" in " ".join(hr.next_steps(rows, zero, {}, {"R1": "Q?"}, 80))


def test_a_cohort_too_large_to_simulate_in_a_run_says_so(monkeypatch):
    from rmstudy.planning import from_run

    monkeypatch.setattr(from_run, "_plan", lambda *a: (type("P", (), {"n_per_arm": (50_000,)})(), {}))
    out = next_cohort({"hypotheses": [{"id": "A", "decision": "inconclusive", "design": "two_arm"}]})
    assert out["hypotheses"] == {} and "rmstudy power --from-run" in out["note"] and out["n_per_arm_now"] == 50_000
