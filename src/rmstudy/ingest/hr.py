"""The HR extract to one record per employee (contract names, typed values), and the checks across the HR extract and
the survey exports (one row per employee, one response per respondent and wave, every respondent an employee)."""

from __future__ import annotations

__all__ = ["read_hr", "cross_check"]

import re

import numpy as np

from rmstudy.errors import Problem
from rmstudy.ingest.columns import Context, classify_columns, ledger, require_column
from rmstudy.ingest.fields import HR_CHOICES, HR_EMPLOYMENT, HR_NUMERIC
from rmstudy.ingest.table import Table
from rmstudy.ingest.values import cell_text, clean_text, date_problem, label_key, read_date, read_number, shown_value

def read_hr(table: Table, hr: dict, ctx: Context, probs: list[Problem]) -> tuple[list, dict]:
    """Turn the HR extract into one record per employee (contract names, typed values) and its report entry.

    Parameters
    ----------
    table : Table
        The file as read (:func:`rmstudy.ingest.table.read_table`).
    hr : dict
        The mapping's ``hr`` entry.
    ctx : Context
    probs : list of Problem
        Appended to.

    Returns
    -------
    (list of dict, dict)
        One record per employee, and the file's report entry.
    """
    cols = {str(k): str(v).strip() for k, v in hr["columns"].items()}
    values = {key: {label_key(k): ("" if v is None else clean_text(str(v)).strip()) for k, v in mp.items()}
              for key, mp in (hr.get("values") or {}).items()}
    fmt = hr.get("date_format")
    report = {"file": table.file, "kind": "hr", **table.info}
    ok = all([require_column(table, col, f"HR column for {key}", probs) for key, col in cols.items()])
    pos, dropped = classify_columns(table, {col: key for key, col in cols.items()}, ctx)
    report["dropped_columns"] = dropped
    report["mapped_columns"] = {col: key for key, col in cols.items() if col in pos}
    counts = {"decimal_commas": 0, "line_breaks_replaced": 0, "text_normalised": 0}
    if not ok:
        return [], report
    records = []
    for cells, n in zip(table.rows, table.row_numbers):
        rec = {"where": (table.file, n)}
        for key, col in cols.items():
            v = cells[pos[col]]
            if key == "employee_id":
                rec[key] = clean_text(cell_text(v)).strip()
                counts["text_normalised"] += rec[key] != cell_text(v)
                if not rec[key]:
                    probs.append(Problem(table.file, "employee id is empty", "fill in the id, or delete the row",
                                         row=n, column=col))
            elif key in HR_EMPLOYMENT[:2]:
                when, _, good = read_date(v, fmt, table.epoch)
                if not good:
                    probs.append(date_problem(table.file, v, fmt, n, col, excel=table.excel, epoch=table.epoch,
                                               when=when, key=key))
                elif when is None and key == "hire_date":
                    probs.append(Problem(table.file, "hire date is missing", "enter the hire date", row=n, column=col))
                rec[key] = when.date() if good and when is not None else None
            elif key in HR_NUMERIC:
                x, good, comma = read_number(v)
                counts["decimal_commas"] += comma
                if not good:
                    probs.append(Problem(table.file, f"'{shown_value(cell_text(v).strip())}' is not a number",
                                         "enter a number, or leave the cell empty if unknown", row=n, column=col))
                elif x is None and key == "age":
                    probs.append(Problem(table.file, "age is missing", "enter the age in years at baseline",
                                         row=n, column=col))
                rec[key] = np.nan if x is None else x
            else:
                # every text value: NFC, no zero-width characters, no surrounding (Unicode) spaces, so that
                # 'Sales ' or a decomposed 'Réseau' is the value a population filter names (docs/ingest.md)
                label = clean_text(cell_text(v)).strip()
                counts["text_normalised"] += label != cell_text(v)
                value = values[key].get(label_key(label), label) if key in values else label
                if key in HR_CHOICES and value not in HR_CHOICES[key] and not (key == "exit_reason" and value == ""):
                    probs.append(Problem(table.file, f"unknown {key} '{shown_value(label)}'",
                                         f"map the label under hr.values.{key} to one of {list(HR_CHOICES[key])}",
                                         row=n, column=col))
                if isinstance(value, str) and ("\n" in value or "\r" in value):
                    # a cohort table holds no line breaks (load_cohort reads one as a stray quote): one space each
                    value = re.sub(r"\s*[\r\n]+\s*", " ", value).strip()
                    counts["line_breaks_replaced"] += 1
                rec[key] = value
        records.append(rec)
    report.update(counts)
    report["rows_written"] = len(records)
    report["ledger"] = ledger(table, len(records), {})
    return records, report


def cross_check(raw: dict, responses: list[dict], employees: list[dict], hr_rep: dict | None,
                 probs: list[Problem], duplicate_rule: str = "error") -> list[str]:
    """One row per employee, one response per respondent and wave, every respondent in the HR extract.

    Parameters
    ----------
    raw : dict
        The mapping.
    responses, employees : list of dict
        The records read.
    hr_rep : dict or None
        The HR file's report entry (its ledger is updated).
    probs : list of Problem
        Appended to.
    duplicate_rule : str
        The plan's ``duplicate_submissions``.

    Returns
    -------
    list of str
        The employee ids of the HR extract, in file order.
    """
    hr_ids: dict[str, tuple] = {}
    for rec in employees:
        eid = rec["employee_id"]
        if eid and eid in hr_ids:
            file, n = rec["where"]
            probs.append(Problem(file, f"duplicate employee id '{shown_value(eid)}' (first at row {hr_ids[eid][1]})",
                                 "keep one row per employee", row=n, column=raw["hr"]["columns"]["employee_id"]))
        elif eid:
            hr_ids[eid] = rec["where"]
    hr_usable = hr_rep is not None and "rows_written" in hr_rep
    by_case: dict[str, str] = {}
    for eid in hr_ids:
        by_case.setdefault(eid.casefold(), eid)
    firsts: dict[tuple, tuple] = {}
    for rec in responses:
        file, n, col = rec["where"]
        if not rec["id"]:
            continue
        if hr_usable and rec["id"] not in hr_ids:
            same = by_case.get(rec["id"].casefold())
            if same is not None:
                # the same person written in another case: adding an employee would create a second, bogus one
                probs.append(Problem(file, f"respondent id '{shown_value(rec['id'])}' is not in the HR extract, but "
                                     f"'{shown_value(same)}' is: it differs only in case (ids are compared exactly)",
                                     f"correct the case of the id to '{shown_value(same)}' here (or in the HR extract, if "
                                     "that is the one written wrongly); do not add a second employee", row=n,
                                     column=col))
            else:
                probs.append(Problem(file, f"respondent id '{shown_value(rec['id'])}' is not in the HR extract",
                                     "add the employee to the HR extract, or remove the response", row=n, column=col))
        k = (rec["id"], rec["wave"])
        if k in firsts and duplicate_rule != "error":
            continue               # written as they are; the plan's duplicate_submissions rule resolves them
        if k in firsts:
            f0, n0, _ = firsts[k]
            first = f"row {n0}" if f0 == file else f"{f0}, row {n0}"
            probs.append(Problem(file, f"respondent '{shown_value(rec['id'])}' answered wave '{rec['wave']}' twice (first at {first})",
                                 "keep one response per respondent and wave, or declare how duplicate submissions "
                                 "are resolved (duplicate_submissions: keep_latest, keep_earliest or "
                                 "keep_most_complete in study.yaml)",
                                 row=n, column=col))
        else:
            firsts[k] = rec["where"]
    return list(hr_ids)
