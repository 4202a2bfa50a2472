"""Turn raw survey-tool exports and an HR extract into a cohort folder.

``rmstudy ingest MAPPING.yaml --out COHORT_DIR`` (and :func:`ingest`) reads

* one or more survey exports (Qualtrics-style CSV with its three header rows,
  plain CSV with ``,`` ``;`` or tab delimiters, UTF-8 with or without a BOM or
  Latin-1, decimal commas, or XLSX), one file per wave or one file with a wave
  column;
* one HR extract (CSV or XLSX) with arbitrary column names, labels and date
  formats;

and writes the five files of the cohort contract (docs/cohort-format.md):
``participants.csv``, ``responses.csv``, ``employment.csv``, plus the
``codebook.yaml`` and ``study.yaml`` the mapping points to, copied unchanged.
What to read, and how, is written in a mapping YAML (docs/ingest.md).

Privacy rules, all enforced here:

* only what the mapping maps reaches the cohort folder; every other column is
  dropped and listed in the report with the reason (``drop:`` list, looks
  like a direct identifier, not mapped);
* a column whose name looks like a direct identifier (name, e-mail, phone, IP
  address, Qualtrics ``Recipient*``, ``ExternalReference``, location) can never
  be mapped to an item or a participant column. It may serve as the id column
  only when ``pseudonymise: true``;
* with ``pseudonymise: true`` the participant id is ``"P"`` + the first 16 hex
  characters of HMAC-SHA256(key, employee id). The key comes from an
  environment variable or from a key file outside the output folder and outside
  any git working tree. A written HR text value (``pair_id``, ``department``, ...)
  that holds an employee id is then refused.

Every input row is accounted for: each file's entry in the report has a ``ledger`` saying how many rows followed
the header row(s), how many were written and, by reason, which rows were left out (blank rows; Qualtrics survey
previews, tests and spam, found from the ``Status`` and ``DistributionChannel`` columns even when they are listed
under ``drop:``, unless the survey entry says ``keep_test_responses: true``).

Every problem is a :class:`~rmstudy.errors.Problem` naming the input file, the
row as a spreadsheet numbers it (the header row(s) included: the first data
row of a Qualtrics export is row 4) and the column as named in that file. All
problems of a stage are raised together as one
:class:`~rmstudy.errors.CohortError`, and nothing is written to the output
folder when there is one. After writing, the folder is checked with
:func:`rmstudy.contract.cohort.load_cohort`, and the outcome goes into the report.
"""

from __future__ import annotations

__all__ = ["ingest", "looks_like_identifier", "pseudonym", "DEFAULT_KEY_ENV", "REPORT_NAME"]

from pathlib import Path

import yaml

from rmstudy.contract import yamlio
from rmstudy.contract.codebook import Codebook, load_codebook
from rmstudy.contract.study import load_study
from rmstudy.errors import CohortError, Problem
from rmstudy.ingest.columns import Context, blank_header_warnings
from rmstudy.ingest.hr import cross_check, read_hr
from rmstudy.ingest.identifiers import employee_id_problems, looks_like_identifier, pseudonym
from rmstudy.ingest.key import DEFAULT_KEY_ENV, pseudonym_key
from rmstudy.ingest.mapping import (check_mapping, check_privacy_and_items, effective_maps, load_mapping, map_key,
                                    same_input_twice)
from rmstudy.ingest.output import check_ledgers, check_out_dir, cohort_tables, write_outputs
from rmstudy.ingest.report import REPORT_NAME, build_report, write_report
from rmstudy.ingest.surveys import anchor_values, read_survey
from rmstudy.ingest.table import read_table
from rmstudy.ingest.values import cell_text, label_key, read_number, shown_value


def ingest(mapping_path: str | Path, out_dir: str | Path) -> dict:
    """Turn survey exports and an HR extract into a cohort folder, as a mapping YAML says.

    Parameters
    ----------
    mapping_path : str or Path
        The mapping YAML (docs/ingest.md). Paths inside it are relative to its
        folder.
    out_dir : str or Path
        The cohort folder to write. It may not exist yet; if it does, it may
        hold only files that ``rmstudy ingest`` writes.

    Returns
    -------
    dict
        The report, also written to ``ingest_report.json`` in ``out_dir``
        (relative paths only): per input file the rows read and written, its
        row ``ledger`` (``rows_in == written + excluded``, with the row
        numbers of each reason for leaving a row out), encoding, delimiter,
        header style, mapped and dropped columns; counts of
        participants and rows; whether ids were pseudonymised; warnings; and
        under ``cohort`` the outcome of :func:`rmstudy.load_cohort` on the
        written folder (``ok`` and a summary, or ``ok: false`` and its
        problems).

    Raises
    ------
    CohortError
        When the mapping or an input cannot be used. Each problem names the
        file, the row (as a spreadsheet numbers it, header row(s) included) and
        the column as named in that file; for the mapping the column slot holds
        the key path (``surveys.0.columns.Q1``). Nothing is written then.
    """
    mapping_path = Path(mapping_path)
    out_dir = Path(out_dir)
    m = mapping_path.name
    base = mapping_path.resolve().parent
    warnings: list[str] = []

    # 1. the mapping, the codebook and study, the key and the output folder
    raw, sources, codebook, study = _read_plan(mapping_path, m, base)
    key = source = None
    if raw["pseudonymise"]:
        key, source = pseudonym_key(raw, m, base, out_dir, warnings)
    elif "key_env" in raw or "key_file" in raw:
        warnings.append("a key is configured but pseudonymise is false: participant ids are the employee ids")
    check_out_dir(out_dir)

    # 2. every input file, then the checks across files
    probs: list[Problem] = []
    missing = raw.get("missing_values") or []
    ctx = Context(codebook=codebook, waves=tuple(study.waves), drop={str(d) for d in raw.get("drop") or []},
                  missing_values={label_key(cell_text(v)) for v in missing},
                  anchors={item: anchor_values(codebook.scale_of(item).anchors) for item in codebook.items},
                  missing_numbers={x for x, ok, _ in map(read_number, missing) if ok and x is not None})
    inputs, responses, employees, hr_rep = _read_inputs(raw, base, ctx, m, probs, warnings)
    employee_ids = cross_check(raw, responses, employees, hr_rep, probs, study.duplicate_submissions)
    if raw["pseudonymise"]:
        employee_id_problems(raw, employees, probs)
    if probs:
        raise CohortError(probs)

    # 3. participant ids, the cohort tables, the files
    pid = {eid: pseudonym(key, eid) if key is not None else eid for eid in employee_ids}
    if len(set(pid.values())) != len(pid):
        raise CohortError(Problem(m, "two employee ids give the same pseudonym", "use another key"))
    part, resp, employment = cohort_tables(raw, ctx, responses, employees, pid)
    check_ledgers(inputs, len(resp), len(part))
    written = write_outputs(out_dir, part, resp, employment, sources, warnings)

    # 4. the report, with the cohort's own check of what was written
    report = build_report(raw, m, out_dir, written, inputs, warnings, part, resp, employment, source,
                          {k: _display(raw[k]) for k in ("codebook", "study")})
    write_report(report, out_dir)
    return report


def _read_plan(mapping_path: Path, m: str, base: Path) -> tuple[dict, dict[str, Path], Codebook, object]:
    """The mapping (checked), the codebook and the study it points to, and the plan's waves checked against the
    mapping's; raises a CohortError with every problem found."""
    probs: list[Problem] = []
    raw = load_mapping(mapping_path, m, probs)
    if not probs:
        check_mapping(raw, m, probs)
    if not probs:
        same_input_twice(raw, m, base, probs)
    if probs:
        raise CohortError(probs)
    sources, codebook, study = _load_instruments(raw, m, base)
    check_privacy_and_items(raw, codebook, m, probs)
    for i, s in enumerate(raw["surveys"]):
        if "wave" in s and s["wave"] not in study.waves:
            probs.append(Problem(m, f"wave '{s['wave']}' is not one of the study's waves {list(study.waves)}",
                                 "use a wave named in study.yaml", column=f"surveys.{i}.wave"))
        for label, target in (s.get("wave_values") or {}).items():
            # checked whether or not the label occurs: a wrong target is one slip in the mapping, not one per row
            if cell_text(target) not in study.waves:
                probs.append(Problem(m, f"'{shown_value(cell_text(target))}' is not a wave of "
                                     f"study.yaml (its waves are {list(study.waves)})",
                                     "map the label to one of the study's waves (wave names are compared exactly, "
                                     "case included)", column=f"surveys.{i}.wave_values.{label}"))
    if probs:
        raise CohortError(probs)
    return raw, sources, codebook, study


def _display(path_text: str) -> str:
    """How an input path is shown in problems and the report: as written if relative, else its file name."""
    p = Path(path_text)
    return path_text if not p.is_absolute() else p.name


def _load_instruments(raw: dict, m: str, base: Path) -> tuple[dict[str, Path], Codebook, object]:
    """The codebook and study the mapping points to, loaded with the cohort's own checks."""
    sources = {key: base / raw[key] for key in ("codebook", "study")}
    missing = [Problem(m, f"{raw[key]} (the {key}) does not exist", f"check the {key}: path", column=key)
               for key, path in sources.items() if not path.is_file()]
    if missing:
        raise CohortError(missing)
    codebook = study = None
    try:
        codebook = load_codebook(sources["codebook"])
        study = load_study(sources["study"], codebook=codebook)
    except CohortError:
        raise
    except (yaml.YAMLError, UnicodeDecodeError, ValueError) as e:     # ValueError: an impossible unquoted date
        path = sources["codebook" if codebook is None else "study"]
        raise CohortError(Problem(path.name, f"cannot be read as YAML: {yamlio.message(e, path)}",
                                  "fix the YAML syntax; write dates as real YYYY-MM-DD dates")) from e
    return sources, codebook, study


def _read_inputs(raw: dict, base: Path, ctx: Context, m: str, probs: list[Problem],
                 warnings: list[str]) -> tuple[list[dict], list[dict], list[dict], dict | None]:
    """Read every survey export and the HR extract, collecting every problem.

    Returns
    -------
    tuple
        ``(inputs, responses, employees, hr_report)``: the report entries per
        file, the response records, the employee records, and the HR file's
        report entry (None when the file could not be read).
    """
    tables = [read_table(base / s["file"], _display(s["file"]), s, "responses", probs, warnings, f"surveys.{i}")
              for i, s in enumerate(raw["surveys"])]
    hr_table = read_table(base / raw["hr"]["file"], _display(raw["hr"]["file"]), raw["hr"], "employees", probs,
                           warnings, "hr")
    for table in (*tables, hr_table):
        if table is not None:
            warnings.extend(blank_header_warnings(table))
    inputs, responses = [], []
    found: dict[str, set[str]] = {}       # column map key path -> header names of the files using it
    for i, (s, table) in enumerate(zip(raw["surveys"], tables)):
        if table is None:
            continue
        recs, rep = read_survey(table, s, i, raw, ctx, probs)
        found.setdefault(map_key(raw, i), set()).update(table.columns)
        if rep["items_not_in_file"]:
            warnings.append(f"{table.file}: {len(rep['items_not_in_file'])} mapped item(s) are not in the file; their "
                            f"answers are missing for its rows: {rep['items_not_in_file']}")
        inputs.append(rep)
        responses.extend(recs)
    employees, hr_rep = ([], None) if hr_table is None else read_hr(hr_table, raw["hr"], ctx, probs)
    if hr_rep is not None:
        inputs.append(hr_rep)
    if all(t is not None for t in (*tables, hr_table)):   # only when every file could be read
        for where, cols in effective_maps(raw).items():   # a mapped column in no file at all is a typo
            for col in cols:
                if col not in found.get(where, set()):
                    probs.append(Problem(m, f"column '{col}' is in none of the survey files that use this mapping",
                                         "correct the export column name", column=f"{where}.{col}"))
        for d in sorted(ctx.drop):
            if not any(d in t.columns for t in (*tables, hr_table)):
                warnings.append(f"drop: column '{d}' is in none of the input files")
    return inputs, responses, employees, hr_rep
