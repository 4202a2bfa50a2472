"""``ingest_report.json`` is written by the one JSON writer (``rmstudy.contract.jsonio.write_json``, issue #16: one rule,
one place), and its bytes are those the old writer gave (``json.dump(indent=2, ensure_ascii=False)`` + a newline)."""

import json
import shutil

import numpy as np
import pytest

from conftest import ROOT
from rmstudy.ingest.core import ingest
from rmstudy.ingest.report import REPORT_NAME, write_report

FIX = ROOT / "tests" / "fixtures" / "ingest"


def _old_bytes(report: dict) -> bytes:
    """What ``write_report`` wrote before it used ``write_json``."""
    return (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def test_the_fixture_ingest_report_has_the_old_bytes(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(FIX, raw)
    report = ingest(raw / "mapping.yaml", tmp_path / "out")
    written = (tmp_path / "out" / REPORT_NAME).read_bytes()
    assert "—".encode("utf-8") in written                      # the summary's dash stays as it is (no \\u escape)
    assert written == _old_bytes(report)
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")) == []   # no temporary left


def test_numpy_values_become_plain_json_and_nan_is_null(tmp_path):
    """The old writer failed on a numpy integer and wrote ``NaN`` (not JSON); the one writer converts both."""
    path = write_report({"participants": np.int64(8), "share": float("nan"), "warnings": []}, tmp_path)
    assert path == tmp_path / REPORT_NAME
    assert json.loads(path.read_text(encoding="utf-8")) == {"participants": 8, "share": None, "warnings": []}
    with pytest.raises(TypeError):
        _old_bytes({"participants": np.int64(8)})
