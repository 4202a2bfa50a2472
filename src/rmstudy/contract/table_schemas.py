"""The cohort tables as pandera schemas, and their failures as :class:`~rmstudy.errors.Problem` lines.

Each CSV of the cohort contract (docs/cohort-format.md) is checked in two passes, both declared as
``pandera.DataFrameSchema`` objects and validated lazily so that every failure is collected:

1. **text** (:func:`participants_text`, :func:`responses_text`, :func:`employment_text`): the table as read, every
   cell a string. Required columns, empty required cells, numbers that are not numbers ("four"; " 4 " and "4.0" are
   numbers), dates that are not ``YYYY-MM-DD``, unknown arms, roles, waves and exit reasons, duplicate ids.
2. **typed** (:func:`participants_typed`, :func:`responses_typed`, :func:`employment_typed`): the table after the
   columns are converted. Answers outside the codebook range or between answer points, pairs without exactly one
   junior and one senior, responses from unknown participants, duplicate participant × wave, exit before hire, an
   exit date without a reason.

:func:`problems` runs a schema and turns pandera's ``failure_cases`` into problems that name the file, the row as a
spreadsheet numbers it (header = row 1: :func:`rmstudy.contract.rows.spreadsheet_row`), the column, and the fix. The
wording of every check lives next to the check, in a :class:`Rule`.
"""

from __future__ import annotations

__all__ = ["Rule", "TableSchema", "problems", "participants_text", "participants_typed", "responses_text",
           "responses_typed", "employment_text", "employment_typed", "Parsed"]

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
import pandera.pandas as pa

from rmstudy.contract.cells import ISO_DATE as _ISO
from rmstudy.contract.cells import per_text, read_dates, read_numbers, stripped
from rmstudy.contract.rows import spreadsheet_row
from rmstudy.errors import InvariantError, Problem



@dataclass(frozen=True)
class Rule:
    """How a failed check reads: ``message(df, index, value)`` and ``fix``; ``column`` overrides the column named.

    Attributes
    ----------
    message : callable
    fix : str
    column : str or None

    Examples
    --------
    >>> Rule(lambda df, i, v: f"{v} is odd", "enter an even number").message(None, 0, 3)
    '3 is odd'
    """

    message: Callable[..., str]      # (df, index or None for a whole column, value) -> text
    fix: str
    column: str | None = None


@dataclass
class TableSchema:
    """A pandera schema of one cohort file plus the wording of its checks.

    ``rules`` maps a check name to its :class:`Rule`; ``missing`` maps a required column to the
    :class:`Rule` for its absence (a default wording is used for the others).

    Attributes
    ----------
    file : str
    schema : pandera.DataFrameSchema
    rules, missing : dict of str to Rule

    Examples
    --------
    >>> t = participants_typed(mentoring="none")
    >>> t.file, sorted(t.schema.columns)
    ('participants.csv', ['age', 'sessions_attended', 'tenure_years'])
    """

    file: str
    schema: pa.DataFrameSchema
    rules: dict[str, Rule]
    missing: dict[str, Rule] = field(default_factory=dict)


class Parsed(dict):
    """Column name → the parsed values a text check computed (numbers as float, dates as datetime64).

    The text pass parses each numeric or date column once to check it; the typed pass takes the
    parsed values from here instead of parsing again.

    Examples
    --------
    >>> t = participants_text(["program", "control"], ["junior", "senior"], (p := Parsed()), need={"age": ""})
    >>> _ = problems(t, pd.DataFrame({"participant_id": ["P1"], "arm": ["program"], "age": ["41"]}))
    >>> p["age"].tolist()
    [41.0]
    """


def _check(fn, name: str, **kw) -> pa.Check:
    # every check reads missing values itself (texts are never missing; typed checks say x.isna() | ...), so
    # pandera need not look for them before each check (a pass over the column per check: 0.7 s at 100,000)
    return pa.Check(fn, name=name, ignore_na=False, **kw)


def _text(checks=None, required: bool = True) -> pa.Column:
    """A column of the text pass. Its cells are texts and never missing (cohort CSVs are read without
    missing-value markers: an empty cell is ""), so pandera's null check, a pass over every cell, is skipped."""
    return pa.Column(None, checks, required=required, nullable=True)


def _number_check(col: str, parsed: Parsed, required: bool) -> list[pa.Check]:
    def is_number(s: pd.Series) -> pd.Series:
        read = per_text(s, read_numbers)
        parsed[col] = pd.Series(read[:, 0], index=s.index, name=s.name)
        return pd.Series(read[:, 1] == 1.0, index=s.index)

    checks = [_check(is_number, f"number:{col}")]
    if required:
        checks.append(_check(lambda s: stripped(s) != "", f"required:{col}"))
    return checks


def _date_check(col: str, parsed: Parsed, required: bool) -> list[pa.Check]:
    def is_date(s: pd.Series) -> pd.Series:
        t = stripped(s)
        values = pd.Series(per_text(t, read_dates), index=s.index)     # a date column repeats a few hundred days
        parsed[col] = values
        return (t == "") | values.notna()

    checks = [_check(is_date, f"date:{col}")]
    if required:
        checks.append(_check(lambda s: stripped(s) != "", f"required:{col}"))
    return checks


def _choice_check(col: str, allowed, allow_empty: bool = False) -> pa.Check:
    allowed = list(allowed)
    return _check(lambda s: stripped(s).isin(allowed) | ((stripped(s) == "") & allow_empty), f"choice:{col}")


def _value(df, i, col) -> str:
    return str(df.at[i, col])


def _number_rules(col: str, what: str) -> dict[str, Rule]:
    return {
        f"number:{col}": Rule(lambda df, i, v: f"'{v}' is not a number",
                              "enter a number, or leave the cell empty if missing"),
        f"required:{col}": Rule(lambda df, i, v: "value is missing", f"enter the {what}"),
    }


def _date_message(v) -> str:
    t = str(v).strip()
    if pd.Series([t]).str.fullmatch(_ISO).iat[0]:
        return (f"'{t}' is not a date rmstudy can use (no such calendar day, or a year outside 1900–2100, "
                "such as an open-ended 9999-12-31)")
    return f"'{t}' is not a date in YYYY-MM-DD form"


def _date_rules(col: str) -> dict[str, Rule]:
    return {
        f"date:{col}": Rule(lambda df, i, v: _date_message(v),
                            "write dates as YYYY-MM-DD" + ("; leave exit_date empty for someone still employed"
                                                           if col == "exit_date" else "")),
        f"required:{col}": Rule(lambda df, i, v: "date is missing", f"enter the {col}"),
    }


def _choice_rule(col: str, allowed, allow_empty: bool = False) -> Rule:
    return Rule(lambda df, i, v: f"unknown {col} '{str(v).strip()}'",
                f"use one of {list(allowed)}" + (" or leave it empty" if allow_empty else ""))


def _first_rows(df: pd.DataFrame, cols: list[str]) -> dict:
    """Key → spreadsheet row of its first occurrence."""
    keys = df[cols].astype(str).agg("\x1f".join, axis=1) if len(cols) > 1 else df[cols[0]].astype(str)
    first = ~keys.duplicated(keep="first")
    return dict(zip(keys[first], spreadsheet_row(df.index[first.to_numpy()].to_numpy())))


def _duplicate_rule(cols: list[str], what: str, fix: str) -> Rule:
    last: list = [None, None]                 # (table, its first rows): one pass per table, not per duplicate

    def message(df, i, v):
        if last[0] is not df:
            last[:] = [df, _first_rows(df, cols)]
        firsts = last[1]
        key = "\x1f".join(str(df.at[i, c]) for c in cols)
        shown = tuple(df.at[i, c] for c in cols) if len(cols) > 1 else df.at[i, cols[0]]
        return f"duplicate {what} {shown!r} (first at row {firsts[key]})"

    return Rule(message, fix, column=cols[-1])


def _not_duplicated(cols: list[str]) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda d: ~d.duplicated(subset=cols, keep="first")


# --------------------------------------------------------------------------------------------- participants.csv

PARTICIPANTS_REQUIRED = ("participant_id", "arm", "role", "pair_id", "age")
NUMERIC_OPTIONAL = ("age", "tenure_years", "sessions_attended")


def participants_text(arms, roles, parsed: Parsed, file: str = "participants.csv",
                      need: dict[str, str] | None = None) -> TableSchema:
    """Text pass of participants.csv: required columns, ids, choices and numbers.

    ``need`` maps the columns the plan needs beyond ``participant_id`` and ``arm`` to why
    (:func:`rmstudy.contract.design.required_columns`); ``None`` needs ``role``, ``pair_id`` and ``age``.

    Parameters
    ----------
    arms, roles : iterable of str
    parsed : Parsed
    file : str
    need : dict or None

    Returns
    -------
    TableSchema

    Examples
    --------
    >>> t = participants_text(["program", "control"], ["junior", "senior"], Parsed(), need={})
    >>> [(p.row, p.message) for p in problems(t, pd.DataFrame({"participant_id": ["P1", "P1"], "arm": ["program", "x"]}))]
    [(3, "duplicate participant_id 'P1' (first at row 2)"), (3, "unknown arm 'x'")]
    """
    if need is None:
        need = {c: "" for c in PARTICIPANTS_REQUIRED[2:]}
    cols = {
        "participant_id": _text(_check(lambda s: stripped(s) != "", "required:participant_id")),
        "arm": _text(_choice_check("arm", arms)),
        "role": _text(_choice_check("role", roles), required="role" in need),
        "pair_id": _text(required="pair_id" in need),
        "group_id": _text(required="group_id" in need),
        # an age column, when there is one, gives every age (the standard adjustments would drop it otherwise)
        **{c: _text(_number_check(c, parsed, required=c in need or c == "age"), required=c in need)
           for c in NUMERIC_OPTIONAL},
    }
    # the message ends "is missing" (contract.cohort recognises a missing column by it); the fix says why
    missing = {c: Rule(lambda df, i, v, c=c: f"required column '{c}' is missing",
                       f"add a '{c}' column (docs/cohort-format.md)" + (f"; it is needed because {why}" if why else "")
                       + (", or set design.mentoring in study.yaml to the design the programme had"
                          if "mentoring" in why else ""))
               for c, why in need.items()}
    dup = ["participant_id"]
    schema = pa.DataFrameSchema(cols, checks=[_check(lambda d: ~stripped(d["participant_id"]).duplicated()
                                                     | (stripped(d["participant_id"]) == ""), "duplicate:participants")],
                                strict=False, name=file)
    rules = {
        "required:participant_id": Rule(lambda df, i, v: "participant_id is empty",
                                        "give every participant a pseudonymous id"),
        "choice:arm": _choice_rule("arm", arms),
        "choice:role": _choice_rule("role", roles),
        "duplicate:participants": _duplicate_rule(dup, "participant_id",
                                                  "keep one row per participant_id"),
        **_number_rules("age", "age"),
        **_number_rules("tenure_years", "tenure_years"),
        **_number_rules("sessions_attended", "sessions_attended"),
    }
    return TableSchema(file, schema, rules, missing)


def _pair_ok(d: pd.DataFrame) -> pd.Series:
    """False on the first row of each programme pair that is not exactly one junior and one senior."""
    ok = pd.Series(True, index=d.index)
    prog = d[(d["arm"] == "program") & (d["pair_id"] != "")]
    if prog.empty:
        return ok
    # exactly one junior and one senior: counted per pair, not sorted per pair (25,000 pairs: 0.6 s -> 0.02 s)
    roles = pd.DataFrame({"pair_id": prog["pair_id"], "junior": prog["role"] == "junior",
                          "senior": prog["role"] == "senior"}).groupby("pair_id", sort=False).agg(
        junior=("junior", "sum"), senior=("senior", "sum"), n=("junior", "size"))
    bad = roles.index[(roles["junior"] != 1) | (roles["senior"] != 1) | (roles["n"] != 2)]
    if len(bad):
        firsts = prog[prog["pair_id"].isin(bad)].drop_duplicates("pair_id").index
        ok[firsts] = False
    return ok


#: plausible values of the numeric participant columns; outside them a value is a code (-99) or a typing slip
PLAUSIBLE = {"age": (14, 100), "tenure_years": (0, 70), "sessions_attended": (0, 1000)}


def _group_ok(d: pd.DataFrame) -> pd.Series:
    """False on the first row of each programme group without at least one junior and one senior."""
    ok = pd.Series(True, index=d.index)
    prog = d[(d["arm"] == "program") & (d["group_id"] != "")]
    if prog.empty:
        return ok
    roles = pd.DataFrame({"group_id": prog["group_id"], "junior": prog["role"] == "junior",
                          "senior": prog["role"] == "senior"}).groupby("group_id", sort=False)[["junior", "senior"]].any()
    bad = roles.index[~(roles["junior"] & roles["senior"])]
    if len(bad):
        ok[prog[prog["group_id"].isin(bad)].drop_duplicates("group_id").index] = False
    return ok


def _cluster_checks(col: str, kind: str) -> tuple[list[pa.Check], dict[str, Rule]]:
    """Every programme participant in a pair or group (``col``), no control participant in one, and the roles
    of each: one junior and one senior per pair, at least one of each per group."""
    def roles_message(df, i, v):
        cid = df.at[i, col]
        roles = sorted(df.loc[(df[col] == cid) & (df["arm"] == "program"), "role"])
        want = "one junior and one senior" if kind == "pair" else "at least one junior and one senior"
        return f"{kind} '{cid}' has roles {roles}, not {want}"

    checks = [
        _check(lambda d: ~((d["arm"] == "program") & (d[col] == "")), f"{kind}:missing"),
        _check(lambda d: ~((d["arm"] == "control") & (d[col] != "")), f"{kind}:control"),
        _check(_pair_ok if kind == "pair" else _group_ok, f"{kind}:roles"),
    ]
    rules = {
        f"{kind}:missing": Rule(lambda df, i, v: f"programme participant without a {col}",
                                f"enter the mentoring {kind}'s id", column=col),
        f"{kind}:control": Rule(lambda df, i, v: f"control participant has a {col}",
                                f"leave {col} empty for the control arm", column=col),
        f"{kind}:roles": Rule(roles_message, "each programme pair needs exactly one junior (mentor) and one senior "
                              "(mentee)" if kind == "pair" else "each programme group needs at least one junior "
                              "(mentor) and one senior (mentee)", column=col),
    }
    return checks, rules


def participants_typed(file: str = "participants.csv", mentoring: str = "pairs") -> TableSchema:
    """Typed pass of participants.csv: plausible ages, tenures and session counts; the pair_id rules
    (``mentoring`` ``pairs``) or group_id rules (``groups``); nothing of the kind for ``none``.

    Parameters
    ----------
    file : str
    mentoring : {'pairs', 'groups', 'none'}

    Returns
    -------
    TableSchema

    Examples
    --------
    >>> P = pd.DataFrame({"participant_id": ["P1"], "arm": ["program"], "age": [230.0]})
    >>> [(p.row, p.column) for p in problems(participants_typed(mentoring="none"), P)]
    [(2, 'age')]
    """
    cols = {c: pa.Column(float, _check(lambda x, lo=lo, hi=hi: x.isna() | x.between(lo, hi), f"plausible:{c}"),
                         nullable=True, required=False) for c, (lo, hi) in PLAUSIBLE.items()}
    checks, cluster_rules = ([], {}) if mentoring == "none" else \
        _cluster_checks("pair_id" if mentoring == "pairs" else "group_id", "pair" if mentoring == "pairs" else "group")
    schema = pa.DataFrameSchema(cols, checks=checks, strict=False, name=file)
    rules = {
        **{f"plausible:{c}": Rule(lambda df, i, v, c=c, lo=lo, hi=hi: f"{c} {float(v):g} is not plausible (expected "
                                  f"{lo:g}–{hi:g})", "correct the value; a code for 'unknown' (such as -99) is not a "
                                  + ("number: age is required" if c == "age" else "number: leave the cell empty"))
           for c, (lo, hi) in PLAUSIBLE.items()},
        **cluster_rules,
    }
    return TableSchema(file, schema, rules)


# --------------------------------------------------------------------------------------------- responses.csv


def responses_text(waves, items: dict[str, str], parsed: Parsed, file: str = "responses.csv") -> TableSchema:
    """Text pass of responses.csv. ``items`` maps each item code to its scale's name.

    Parameters
    ----------
    waves : iterable of str
    items : dict of item code to scale name
    parsed : Parsed
    file : str

    Returns
    -------
    TableSchema

    Examples
    --------
    >>> R = pd.DataFrame({"participant_id": ["P1"], "wave": ["mid"], "q1": ["four"]})
    >>> [p.message for p in problems(responses_text(["pre", "post"], {"q1": "wellbeing"}, Parsed()), R)]
    ["unknown wave 'mid'", "'four' is not a number"]
    """
    cols = {
        "participant_id": _text(),
        "wave": _text(_choice_check("wave", waves)),
        "submitted_on": _text(_date_check("submitted_on", parsed, required=False), required=False),
        **{item: _text(_number_check(item, parsed, required=False)) for item in items},
    }
    rules = {"choice:wave": _choice_rule("wave", waves), **_date_rules("submitted_on")}
    for item in items:
        rules.update(_number_rules(item, item))
    missing = {item: Rule(lambda df, i, v, item=item, scale=scale: f"item column '{item}' (scale '{scale}') is missing",
                          "add the column, or remove the item from codebook.yaml")
               for item, scale in items.items()}
    return TableSchema(file, pa.DataFrameSchema(cols, strict=False, name=file), rules, missing)


def responses_typed(scales, ids: set[str] | None, unique_waves: bool, file: str = "responses.csv") -> TableSchema:
    """Typed pass of responses.csv: answers within each scale's range and on its answer points, known
    participants and (unless the plan declares a rule for duplicate submissions) one row per participant × wave.

    ``scales`` is an iterable of codebook scales (``items``, ``min``, ``max``).

    Parameters
    ----------
    scales : iterable of Scale
    ids : set of str, or None not to check them
    unique_waves : bool
    file : str

    Returns
    -------
    TableSchema

    Examples
    --------
    >>> from rmstudy.contract.codebook import Scale
    >>> t = responses_typed([Scale("wellbeing", ("q1",), 1, 5)], {"P1"}, unique_waves=True)
    >>> R = pd.DataFrame({"participant_id": ["P1", "P2"], "wave": ["pre", "pre"], "q1": [7.0, 3.0]})
    >>> [(p.row, p.column) for p in problems(t, R)]
    [(2, 'q1'), (3, 'participant_id')]
    """
    cols, rules = {}, {}
    for s in scales:
        lo, hi = float(s.min), float(s.max)
        for item in s.items:
            cols[item] = pa.Column(float, [
                _check(lambda x, lo=lo, hi=hi: x.isna() | x.between(lo, hi), f"range:{item}"),
                _check(lambda x: x.isna() | (x == np.round(x)), f"point:{item}"),
            ], nullable=True, required=False)
            rules[f"range:{item}"] = Rule(lambda df, i, v, lo=lo, hi=hi: f"{float(v):g} is outside the codebook range "
                                          f"{lo:g}–{hi:g}", "correct the answer or the range in codebook.yaml")
            rules[f"point:{item}"] = Rule(lambda df, i, v: f"{float(v):g} is not one of the scale's answer points",
                                          "enter a whole answer point")
    checks = []
    if ids is not None:
        checks.append(_check(lambda d: d["participant_id"].isin(ids), "known:responses"))
        rules["known:responses"] = Rule(
            lambda df, i, v: f"participant_id '{df.at[i, 'participant_id']}' is not in participants.csv",
            "add the participant to participants.csv or remove the response", column="participant_id")
    if unique_waves:
        cols_ = ["participant_id", "wave"]
        checks.append(_check(_not_duplicated(cols_), "duplicate:responses"))
        rules["duplicate:responses"] = _duplicate_rule(
            cols_, "participant × wave", "keep one row per participant × wave, or declare how duplicate submissions "
            "are resolved (duplicate_submissions: in study.yaml, docs/cohort-format.md)")
    return TableSchema(file, pa.DataFrameSchema(cols, checks=checks, strict=False, name=file), rules)


# --------------------------------------------------------------------------------------------- employment.csv

EMPLOYMENT_REQUIRED = ("participant_id", "hire_date", "exit_date", "exit_reason")


def employment_text(exit_reasons, parsed: Parsed, file: str = "employment.csv") -> TableSchema:
    """Text pass of employment.csv: required columns, dates, exit reasons, one row per participant.

    Parameters
    ----------
    exit_reasons : iterable of str
    parsed : Parsed
    file : str

    Returns
    -------
    TableSchema

    Examples
    --------
    >>> E = pd.DataFrame({"participant_id": ["P1"], "hire_date": ["2024-13-01"], "exit_date": [""], "exit_reason": [""]})
    >>> [(p.row, p.column) for p in problems(employment_text(["voluntary", "involuntary"], Parsed()), E)]
    [(2, 'hire_date')]
    """
    cols = {
        "participant_id": _text(),
        "hire_date": _text(_date_check("hire_date", parsed, required=True)),
        "exit_date": _text(_date_check("exit_date", parsed, required=False)),
        "exit_reason": _text(_choice_check("exit_reason", exit_reasons, allow_empty=True)),
    }
    schema = pa.DataFrameSchema(cols, checks=[_check(_not_duplicated(["participant_id"]), "duplicate:employment")],
                                strict=False, name=file)
    rules = {**_date_rules("hire_date"), **_date_rules("exit_date"),
             "choice:exit_reason": _choice_rule("exit_reason", exit_reasons, allow_empty=True),
             "duplicate:employment": _duplicate_rule(["participant_id"], "participant_id",
                                                     "keep one row per participant_id")}
    return TableSchema(file, schema, rules)


def employment_typed(ids: set[str] | None, file: str = "employment.csv") -> TableSchema:
    """Typed pass of employment.csv: exit date and reason together, exit not before hire, known participants.

    Parameters
    ----------
    ids : set of str, or None not to check them
    file : str

    Returns
    -------
    TableSchema

    Examples
    --------
    >>> E = pd.DataFrame({"participant_id": ["P1"], "hire_date": pd.to_datetime(["2024-05-01"]), "exit_reason": ["voluntary"],
    ...                   "exit_date": pd.to_datetime(["2024-01-01"]), "_exit_text": ["2024-01-01"]})  # _: date as written
    >>> print(problems(employment_typed({"P1"}), E)[0])
    employment.csv, row 2, column 'exit_date': exit_date is before hire_date — fix: correct one of the two dates
    """
    checks = [
        # an unreadable exit date is already a problem: neither check echoes it (one reads the parsed date, one the text)
        _check(lambda d: ~(d["exit_date"].notna() & (d["exit_reason"] == "")), "exit:reason"),
        _check(lambda d: ~((d["_exit_text"] == "") & (d["exit_reason"] != "")), "exit:date"),
        _check(lambda d: ~(d["exit_date"] < d["hire_date"]), "exit:before_hire"),
    ]
    rules = {
        "exit:reason": Rule(lambda df, i, v: "exit_date given without exit_reason", "enter voluntary or involuntary",
                            column="exit_reason"),
        "exit:date": Rule(lambda df, i, v: "exit_reason given without exit_date",
                          "enter the exit date or clear the reason", column="exit_date"),
        "exit:before_hire": Rule(lambda df, i, v: "exit_date is before hire_date", "correct one of the two dates",
                                 column="exit_date"),
    }
    if ids is not None:
        checks.append(_check(lambda d: d["participant_id"].isin(ids), "known:employment"))
        rules["known:employment"] = Rule(
            lambda df, i, v: f"participant_id '{df.at[i, 'participant_id']}' is not in participants.csv",
            "add the participant or remove the row", column="participant_id")
    return TableSchema(file, pa.DataFrameSchema(checks=checks, strict=False, name=file), rules)


# --------------------------------------------------------------------------------------------- running a schema


def problems(table: TableSchema, df: pd.DataFrame) -> list[Problem]:
    """Validate ``df`` against ``table`` (lazily) and return every failure as a :class:`Problem`.

    ``df`` keeps the index it was read with (0 = the first data row), so that rows left out of the
    check (blank lines) do not shift the row numbers. Problems come in row order, then in the
    order of the file's columns.

    Parameters
    ----------
    table : TableSchema
    df : DataFrame

    Returns
    -------
    list of Problem

    Examples
    --------
    >>> t = participants_text(["program", "control"], ["junior", "senior"], Parsed(), need={})
    >>> problems(t, pd.DataFrame({"participant_id": ["P1"], "arm": ["program"]}))
    []
    """
    try:
        table.schema.validate(df, lazy=True, inplace=True)      # no schema coerces: nothing is changed, or copied
        return []
    except pa.errors.SchemaErrors as e:
        fc = e.failure_cases
    out: list[tuple] = []
    seen: set = set()
    order = {c: k for k, c in enumerate(df.columns)}
    for case in fc.itertuples(index=False):
        check, column, index, value = str(case.check), case.column, case.index, case.failure_case
        if check == "column_in_dataframe":
            col = str(value)
            rule = table.missing.get(col)
            msg = rule.message(df, None, col) if rule else f"required column '{col}' is missing"
            fix = rule.fix if rule else f"add a '{col}' column (docs/cohort-format.md)"
            near = [c for c in df.columns if c.lower().replace(" ", "_") == col.lower() and c != col]
            if near:
                fix += f" — the file has '{near[0]}': column names are case-sensitive, rename it to '{col}'"
            out.append((-1, order.get(col, len(order)), Problem(table.file, msg, fix, column=col)))
            continue
        if index is None or (isinstance(index, float) and np.isnan(index)):
            # a dataframe-wide check that could not run because a column it reads is missing (reported above)
            if not (fc["check"] == "column_in_dataframe").any():
                raise InvariantError(f"pandera check {check!r} of {table.file} failed without a row: {value!r}")
            continue
        rule = table.rules.get(check)
        if rule is None:                       # a check without wording is a programming error, not an input one
            raise InvariantError(f"no wording for pandera check {check!r} of {table.file}")
        key = (check, index)
        if key in seen:                        # a dataframe-wide check reports a failed row once per column
            continue
        seen.add(key)
        col = rule.column or column
        out.append((int(index), order.get(col, len(order)),
                    Problem(table.file, rule.message(df, index, value), rule.fix, row=spreadsheet_row(index), column=col)))
    out.sort(key=lambda t: (t[0], t[1]))
    return [p for _, _, p in out]
