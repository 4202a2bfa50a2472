"""``ingest_report.json``: what ingest read, wrote and left out, and the cohort's own check of what was written."""

from __future__ import annotations

__all__ = ["REPORT_NAME", "build_report", "write_report"]

from dataclasses import asdict
from pathlib import Path

import pandas as pd

from rmstudy._version import __version__
from rmstudy.contract.cohort import load_cohort
from rmstudy.contract.jsonio import write_json
from rmstudy.contract.provenance import file_sha256
from rmstudy.errors import CohortError

REPORT_NAME = "ingest_report.json"


def build_report(raw: dict, m: str, out_dir: Path, written: list[str], inputs: list[dict], warnings: list[str],
                 part: pd.DataFrame, resp: pd.DataFrame, employment: pd.DataFrame | None, key_source: str | None,
                 shown_paths: dict[str, str]) -> dict:
    """The report of one ingest (docs/ingest.md, "The report"), the cohort check of the written folder included.

    Parameters
    ----------
    raw : dict
        The mapping as read.
    m : str
        The mapping's file name.
    out_dir : Path
        The cohort folder written.
    written : list of str
        The names of the files written.
    inputs : list of dict
        One entry per input file (its ledger, columns, encoding, ...).
    warnings : list of str
        The warnings collected.
    part, resp, employment : DataFrame
        The cohort tables as written (employment None when not mapped).
    key_source : str or None
        Where the pseudonymisation key came from (None without pseudonymisation). Nothing computed from the key is
        written: any such value would let someone holding the report test guessed keys offline.
    shown_paths : dict
        ``codebook`` and ``study`` paths as shown in the report (relative paths only).

    Returns
    -------
    dict
        The report, ready for :func:`write_report`.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp())                      # an empty folder: the cohort check fails
    >>> P, R = pd.DataFrame({"participant_id": ["P1", "P2"]}), pd.DataFrame({"participant_id": ["P1"], "wave": ["pre"]})
    >>> r = build_report({"pseudonymise": False}, "mapping.yaml", out, [], [], [], P, R, None, None,
    ...                  {"codebook": "codebook.yaml", "study": "study.yaml"})
    >>> r["participants"], r["participants_without_responses"], r["cohort"]["ok"], r["cohort"]["problems"][0]["file"]
    (2, 1, False, 'codebook.yaml')
    """
    report = {
        "rmstudy_version": __version__,
        "mapping": m,
        "codebook": shown_paths["codebook"],
        "study": shown_paths["study"],
        "written": written,
        # lets a later check tell whether the cohort CSVs were edited after ingest
        "written_sha256": {name: file_sha256(out_dir / name) for name in written if name.endswith(".csv")},
        "pseudonymised": bool(raw["pseudonymise"]),
        "pseudonym_key_source": key_source,
        "inputs": inputs,
        "participants": len(part),
        "response_rows": len(resp),
        "employment_rows": None if employment is None else len(employment),
        "participants_without_responses": int((~part["participant_id"].isin(set(resp["participant_id"]))).sum()),
        "warnings": warnings,
    }
    try:
        c = load_cohort(out_dir)
        report["cohort"] = {"ok": True, "summary": f"OK — {len(c.participants)} participants, {len(c.responses)} "
                                                   f"response rows, {len(c.study.hypotheses)} hypotheses"}
    except CohortError as e:
        report["cohort"] = {"ok": False, "problems": [asdict(p) for p in e.problems]}
    return report


def write_report(report: dict, out_dir: Path) -> Path:
    """Write the report as ``ingest_report.json`` in ``out_dir`` by the one JSON writer,
    :func:`rmstudy.contract.jsonio.write_json` (UTF-8, two-space indent, ``\\n`` line ends, replaced atomically).

    Parameters
    ----------
    report : dict
        The report (:func:`build_report`).
    out_dir : Path
        The cohort folder.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> p = write_report({"participants": 2, "warnings": ["é"]}, Path(tempfile.mkdtemp()))
    >>> p.name, p.read_text(encoding="utf-8")
    ('ingest_report.json', '{\\n  "participants": 2,\\n  "warnings": [\\n    "é"\\n  ]\\n}\\n')
    """
    return write_json(report, Path(out_dir) / REPORT_NAME)
