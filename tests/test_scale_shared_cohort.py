"""Scale (#11): `rmstudy run` loads and checks the cohort once and every notebook reads that (run/shared_cohort.py)
instead of parsing the CSVs again; the file is refused when the input files no longer have the hashes it was made
from, and the run deletes it before the manifest."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from rmstudy.contract.cohort import analysis_cohort
from rmstudy.contract.paths import find_path
from rmstudy.errors import CohortError
from rmstudy.run import pipeline
from rmstudy.run.shared_cohort import FORMAT, SHARED_NAME, shared_cohort, write_shared_cohort

DEMO = find_path("data/demo").resolve()


@pytest.fixture
def cohort_copy(tmp_path):
    d = tmp_path / "demo"
    shutil.copytree(DEMO, d)
    return d


def _same(a, b):
    pd.testing.assert_frame_equal(a.participants, b.participants)
    pd.testing.assert_frame_equal(a.responses, b.responses)
    pd.testing.assert_frame_equal(a.employment, b.employment)
    pd.testing.assert_frame_equal(a.excluded_responses, b.excluded_responses)
    assert a.study == b.study and a.codebook == b.codebook and a.row_counts == b.row_counts
    assert a.root == b.root and a.name == b.name


def test_the_shared_file_gives_the_analysis_cohort(cohort_copy, tmp_path):
    loaded = analysis_cohort(cohort_copy)
    path = write_shared_cohort(loaded, tmp_path / SHARED_NAME)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    got = shared_cohort(cohort_copy, path)
    _same(got, loaded)
    assert got.responses["wave"].dtype == loaded.responses["wave"].dtype        # typed: the ordered categorical


def test_without_the_file_the_folder_is_loaded(cohort_copy, tmp_path):
    want = analysis_cohort(cohort_copy)
    _same(shared_cohort(cohort_copy, ""), want)
    _same(shared_cohort(cohort_copy, tmp_path / "gone.pickle"), want)     # the run deleted it: rerun by hand


def test_a_file_of_another_format_is_not_used(cohort_copy, tmp_path, monkeypatch):
    path = write_shared_cohort(analysis_cohort(cohort_copy), tmp_path / SHARED_NAME)
    monkeypatch.setattr("rmstudy.run.shared_cohort.FORMAT", FORMAT + 1)
    (cohort_copy / "participants.csv").write_bytes((cohort_copy / "participants.csv").read_bytes())   # same bytes
    _same(shared_cohort(cohort_copy, path), analysis_cohort(cohort_copy))


@pytest.mark.parametrize("name", ["responses.csv", "study.yaml"])
def test_an_input_changed_after_loading_is_refused(cohort_copy, tmp_path, name):
    path = write_shared_cohort(analysis_cohort(cohort_copy), tmp_path / SHARED_NAME)
    with open(cohort_copy / name, "a", encoding="utf-8") as fh:
        fh.write("\n")
    with pytest.raises(CohortError, match=f"{name}.*changed after rmstudy run checked it"):
        shared_cohort(cohort_copy, path)


def test_an_input_that_appeared_after_loading_is_refused(cohort_copy, tmp_path):
    path = write_shared_cohort(analysis_cohort(cohort_copy), tmp_path / SHARED_NAME)
    (cohort_copy / "ingest_report.json").write_text("{}\n", encoding="utf-8")
    with pytest.raises(CohortError, match="ingest_report.json"):
        shared_cohort(cohort_copy, path)


class _Pool:
    closed = False

    def __len__(self):
        return 2

    def shutdown(self):
        self.closed = True


def test_the_run_shares_the_validated_cohort_and_deletes_it_before_the_manifest(tmp_path, monkeypatch):
    """pipeline._build with the notebooks and results.json replaced: the stage sees the shared file (the analysis
    cohort of the snapshot) named by its ``cohort_cache`` parameter; the manifest does not list it."""
    from rmstudy.run.rundir import RunFolder

    seen = {}
    stage = "_stage" if hasattr(pipeline, "_stage") else "_run_stage"

    def fake_stage(names, ctx, bar, *args, **kw):
        if "cohort_dir" in ctx.params and "cache" not in seen:
            seen["params"] = dict(ctx.params)
            seen["cache"] = shared_cohort(ctx.params["cohort_dir"], ctx.params["cohort_cache"])

    monkeypatch.setattr(pipeline, stage, fake_stage)
    monkeypatch.setattr(pipeline, "assemble_results",
                        lambda build, cohort, parameters, created, checks=None: {"created": "2026-01-01", "inputs": {},
                                                                    "plan_sha256": ""})
    monkeypatch.chdir(tmp_path)
    shutil.copytree(DEMO, tmp_path / "demo")
    with RunFolder(tmp_path / "out") as rf:
        pipeline._build(rf, tmp_path / "demo", tmp_path / "out", _Pool(), False, None)
        build = rf.build
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        assert not list(build.rglob("*.pickle"))
    cache = Path(seen["params"]["cohort_cache"])
    assert cache.parent.name == "scratch"                 # every exit path removes it (a failed run kept it before)
    assert re.fullmatch(r"\.analysis_cohort\.[0-9a-f]{64}\.pickle", cache.name)
    assert not any(k.endswith(".pickle") for k in manifest["outputs"])
    want = analysis_cohort(tmp_path / "demo")
    got = seen["cache"]
    pd.testing.assert_frame_equal(got.responses, want.responses)
    pd.testing.assert_frame_equal(got.participants, want.participants)
    assert got.name == "demo"



@pytest.mark.parametrize("damage", ["empty", "changed", "foreign"])
def test_a_damaged_or_foreign_file_is_refused_before_it_is_unpickled(cohort_copy, tmp_path, damage):
    """Unpickling runs code: the file's bytes are checked against the digest in its name first (an empty file
    raised a bare EOFError, a crafted one ran its code, then the folder was loaded silently)."""
    import pickle

    from rmstudy.errors import CohortError

    path = write_shared_cohort(analysis_cohort(cohort_copy), tmp_path / SHARED_NAME)
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "changed":
        path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    else:
        path.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(CohortError) as e:
        shared_cohort(cohort_copy, path)
    assert e.value.problems[0].file == path.name and "SHA-256" in e.value.problems[0].message
    assert not marker.exists()
