"""Data quality: the row ledger, participant flow, response rates, the baseline
table by arm and the attrition analysis."""

from __future__ import annotations

__all__ = ["participant_flow", "response_rates", "baseline_table", "attrition", "ingest_changed", "ingest_ledger",
           "standardised_mean_difference", "warnings_by_check", "read_warnings_by_check"]

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from rmstudy.contract.coding import ARMS
from rmstudy.contract.cohort import Cohort
from rmstudy.contract.provenance import file_sha256
from rmstudy.errors import InvariantError
from rmstudy.stats.models.survival import retention_data


def _by_arm(ids: pd.Series, participants: pd.DataFrame) -> dict:
    arm = participants.set_index("participant_id")["arm"]
    counts = arm.reindex(pd.Index(ids.unique())).value_counts()
    return {a: int(counts.get(a, 0)) for a in ARMS}


def warnings_by_check(warnings) -> list[dict]:
    """``rmstudy validate``'s warnings grouped by check, in the order each check first warned: ``check``,
    ``count`` and ``first_message`` (results.json ``flow.checks``, the academic report's table of them).

    Parameters
    ----------
    warnings : iterable of (check, message) pairs, one per warning.

    Returns
    -------
    list of dict

    Examples
    --------
    >>> warnings_by_check([("straight_lining", "row 4: all 3"), ("small_group", "Legal: 3"),
    ...                    ("straight_lining", "row 9: all 5")])        # doctest: +NORMALIZE_WHITESPACE
    [{'check': 'straight_lining', 'count': 2, 'first_message': 'row 4: all 3'},
     {'check': 'small_group', 'count': 1, 'first_message': 'Legal: 3'}]
    """
    groups: dict[str, dict] = {}
    for check, message in warnings:
        g = groups.get(check)
        if g is None:
            groups[check] = {"check": str(check), "count": 1, "first_message": str(message)}
        else:
            g["count"] += 1
    return list(groups.values())


def read_warnings_by_check(path: Path) -> list[dict] | None:
    """:func:`warnings_by_check` of a validation.json written by ``rmstudy validate --json`` (a researcher who
    runs the notebooks by hand).

    Parameters
    ----------
    path : Path
        The validation.json to read.

    Returns
    -------
    list of dict or None
        None when there is no such file, or it is not a validation report.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "validation.json"
    >>> read_warnings_by_check(p) is None
    True
    >>> _ = p.write_text('{"warnings": [{"check": "small_group", "message": "Legal: 3"}]}', encoding="utf-8")
    >>> read_warnings_by_check(p)
    [{'check': 'small_group', 'count': 1, 'first_message': 'Legal: 3'}]
    """
    try:
        found = json.loads(Path(path).read_text(encoding="utf-8"))["warnings"]
        return warnings_by_check((w["check"], w["message"]) for w in found)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def participant_flow(cohort: Cohort, scores: pd.DataFrame) -> dict:
    """Flow counts per stage and arm, exclusions by reason and the row ledger.

    Stages: ``invited`` (study.yaml ``flow.invited``; null when not given), ``enrolled`` (participants.csv),
    ``responded_<wave>``, ``scored_<wave>`` (at least one scale scorable) and ``analysed`` (at least one scored
    response). Every input row is in the ledger: rows_in = included + excluded.

    Parameters
    ----------
    cohort : Cohort
    scores : DataFrame (:func:`rmstudy.stats.scoring.score_scales`)

    Returns
    -------
    dict
        ``stages``, ``exclusions`` and ``ledger`` (and ``ingest`` for a folder ingest wrote).

    Examples
    --------
    >>> from rmstudy.contract.cohort import load_cohort
    >>> from rmstudy.stats.scoring import score_scales
    >>> flow = participant_flow(c := load_cohort("data/demo"), score_scales(c.responses, c.codebook))
    >>> flow["ledger"]["responses.csv"]["rows_in"], [s["stage"] for s in flow["stages"]][:3]
    (1059, ['invited', 'enrolled', 'responded_pre'])
    """
    P, R = cohort.participants, cohort.responses
    stages = [{"stage": "invited", **{a: cohort.study.invited.get(a) for a in ARMS}},
              {"stage": "enrolled", **_by_arm(P["participant_id"], P)}]
    scale_cols = list(cohort.codebook.scales)
    any_scored = scores[scale_cols].notna().any(axis=1)
    for w in cohort.study.waves:
        at = R["wave"] == w
        stages.append({"stage": f"responded_{w}", **_by_arm(R.loc[at, "participant_id"], P)})
        stages.append({"stage": f"scored_{w}", **_by_arm(scores.loc[at & any_scored, "participant_id"], P)})
    stages.append({"stage": "analysed", **_by_arm(scores.loc[any_scored, "participant_id"], P)})

    arm_of = P.set_index("participant_id")["arm"]
    exclusions = []
    for s in cohort.codebook.scales.values():
        for w in cohort.study.waves:
            at = scores["wave"] == w
            for bad, reason in ((at & scores[s.name].isna() & (scores[f"{s.name}__answered"] > 0),
                                 f"fewer than {s.min_answered:.0%} of the scale's {s.n_items} items answered"),
                                (at & (scores[f"{s.name}__answered"] == 0), "no item of the scale answered (or not asked)")):
                if bad.any():
                    c = arm_of.reindex(scores.loc[bad, "participant_id"]).value_counts()
                    exclusions.append({"analysis": f"{s.name} at {w}", "reason": reason,
                                       **{a: int(c.get(a, 0)) for a in ARMS}})
    X = cohort.excluded_responses
    late = 0 if X is None else len(X)
    reasons = {} if X is None else {str(k): int(v) for k, v in X["reason"].value_counts(sort=False).items()}
    if (~any_scored).any():
        reasons["no scale scorable (too few items answered)"] = int((~any_scored).sum())
    ledger = {
        "participants.csv": {"rows_in": len(P), "included": len(P), "excluded": 0, "reasons": {}},
        "responses.csv": {"rows_in": len(R) + late, "included": int(any_scored.sum()),
                          "excluded": int((~any_scored).sum()) + late, "reasons": reasons},
    }
    if late:
        for reason, g in X.groupby("reason", sort=False):
            c = arm_of.reindex(g["participant_id"]).value_counts()
            exclusions.append({"analysis": "all survey analyses", "reason": str(reason),
                               **{a: int(c.get(a, 0)) for a in ARMS}})
    if cohort.employment is not None:
        E = cohort.employment
        _, excl = retention_data(P, E, cohort.study.programme_start, cohort.study.censor_date)
        reasons = excl["reason"].value_counts().to_dict()
        for reason, g in excl.groupby("reason"):
            c = g["arm"].value_counts()
            exclusions.append({"analysis": "retention", "reason": reason, **{a: int(c.get(a, 0)) for a in ARMS}})
        ledger["employment.csv"] = {"rows_in": len(E), "included": len(E) - len(excl), "excluded": len(excl),
                                    "reasons": {k: int(v) for k, v in reasons.items()}}
    for f, l in ledger.items():
        if l["rows_in"] != l["included"] + l["excluded"]:          # internal invariant, not input checking
            raise InvariantError(f"row ledger of {f} does not add up: {l}")
    out = {"stages": stages, "exclusions": exclusions, "ledger": ledger}
    ingest = ingest_ledger(cohort.root)
    if ingest is not None:
        out["ingest"] = ingest
    return out


def _ingest_report(root) -> dict | None:
    """ingest_report.json of a cohort folder written by rmstudy ingest (None for one made by hand)."""
    path = None if root is None else Path(root) / "ingest_report.json"
    return json.loads(path.read_text(encoding="utf-8")) if path is not None and path.is_file() else None


def _changed(root, report: dict | None) -> list[str]:
    written = (report or {}).get("written_sha256") or {}
    return [name for name, sha in written.items()
            if not (Path(root) / name).is_file() or file_sha256(Path(root) / name) != sha]


def ingest_changed(root) -> list[str]:
    """The cohort CSVs whose bytes differ from what rmstudy ingest recorded writing (``written_sha256`` of
    ingest_report.json); empty when the folder was not written by ingest or the report records no hashes.

    Parameters
    ----------
    root : str or Path
        The cohort folder.

    Returns
    -------
    list of str

    Examples
    --------
    >>> import json, tempfile
    >>> from rmstudy.contract.provenance import file_sha256
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = (root / "participants.csv").write_text("participant_id,arm\\nP1,program\\n")
    >>> ledger = {"rows_in": 3, "written": 2, "excluded": 1, "reasons": {"no id": [4]}}
    >>> _ = (root / "ingest_report.json").write_text(json.dumps({"inputs": [{"file": "hr.csv", "kind": "hr", "ledger": ledger}],
    ...     "written_sha256": {"participants.csv": file_sha256(root / "participants.csv")}}))
    >>> ingest_changed(root)
    []
    >>> _ = (root / "participants.csv").write_text("participant_id,arm\\nP1,control\\n")      # edited by hand
    >>> ingest_changed(root)
    ['participants.csv']
    """
    return _changed(root, _ingest_report(root))


def ingest_ledger(root) -> list[dict] | None:
    """The raw-export ledger of ``rmstudy ingest`` when the cohort folder was written by it (its
    ``ingest_report.json``): one entry per input file, ``{file, kind, rows_in, written, excluded, reasons}``
    with the reasons as counts. None for a cohort folder made by hand, and for one whose CSVs were edited after
    ingest wrote them (:func:`ingest_changed`; ``rmstudy validate`` warns about that).

    Parameters
    ----------
    root : str or Path
        The cohort folder.

    Returns
    -------
    list of dict or None

    Examples
    --------
    >>> import json, tempfile
    >>> from rmstudy.contract.provenance import file_sha256
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = (root / "participants.csv").write_text("participant_id,arm\\nP1,program\\n")
    >>> ledger = {"rows_in": 3, "written": 2, "excluded": 1, "reasons": {"no id": [4]}}
    >>> _ = (root / "ingest_report.json").write_text(json.dumps({"inputs": [{"file": "hr.csv", "kind": "hr", "ledger": ledger}],
    ...     "written_sha256": {"participants.csv": file_sha256(root / "participants.csv")}}))
    >>> ingest_ledger(root)
    [{'file': 'hr.csv', 'kind': 'hr', 'rows_in': 3, 'written': 2, 'excluded': 1, 'reasons': {'no id': 1}}]
    """
    report = _ingest_report(root)
    if report is None or _changed(root, report):
        return None
    out = []
    for f in report.get("inputs", []):
        led = f.get("ledger")
        if led is None:                 # written by an rmstudy ingest that kept no ledger
            return None
        out.append({"file": f["file"], "kind": f["kind"], "rows_in": led["rows_in"], "written": led["written"],
                    "excluded": led["excluded"], "reasons": {k: len(v) for k, v in led["reasons"].items()}})
    return out


def response_rates(cohort: Cohort) -> pd.DataFrame:
    """Share of enrolled participants who responded, per wave, arm and role (role ``all`` when participants.csv
    has no role column: design.mentoring none).

    Parameters
    ----------
    cohort : Cohort

    Returns
    -------
    DataFrame
        ``wave, arm, role, enrolled, responded, rate``.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> from rmstudy.contract.codebook import Codebook, Scale
    >>> P = pd.DataFrame({"participant_id": list("abcd"), "arm": ["program", "program", "control", "control"]})
    >>> R = pd.DataFrame({"participant_id": list("aabccd"), "wave": ["pre", "post", "pre", "pre", "post", "pre"],
    ...                   "s": [4.0, 5.0, 3.0, 2.0, 3.0, 3.0]})          # b and d answer at pre only
    >>> c = NS(participants=P, responses=R, study=NS(waves=("pre", "post")), codebook=Codebook({"s": Scale("s", ("s",), 1, 5)}))
    >>> response_rates(c)[["wave", "arm", "responded", "rate"]].values.tolist()
    [['pre', 'control', 2, 1.0], ['pre', 'program', 2, 1.0], ['post', 'control', 1, 0.5], ['post', 'program', 1, 0.5]]
    """
    P, R = cohort.participants, cohort.responses
    if "role" not in P.columns:
        P = P.assign(role="all")
    rows = []
    for w in cohort.study.waves:
        ids = set(R.loc[R["wave"] == w, "participant_id"])
        for (arm, role), g in P.groupby(["arm", "role"], sort=True):
            n = len(g)
            k = int(g["participant_id"].isin(ids).sum())
            rows.append({"wave": w, "arm": arm, "role": role, "enrolled": n, "responded": k, "rate": k / n if n else np.nan})
    return pd.DataFrame(rows)


def standardised_mean_difference(a: pd.Series, b: pd.Series) -> float:
    """(mean a − mean b) over the root of the average of the two variances (missing values dropped); NaN when
    neither varies.

    Parameters
    ----------
    a, b : Series

    Returns
    -------
    float

    Examples
    --------
    >>> round(standardised_mean_difference(pd.Series([1.0, 2.0, 3.0]), pd.Series([0.0, 1.0, 2.0])), 3)
    1.0
    """
    a, b = a.dropna(), b.dropna()
    sd = np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    return float((a.mean() - b.mean()) / sd) if sd > 0 else np.nan


def baseline_table(cohort: Cohort, scores: pd.DataFrame) -> pd.DataFrame:
    """Baseline characteristics by arm with standardised mean differences
    (programme minus control over the average of the two variances).

    Parameters
    ----------
    cohort : Cohort
    scores : DataFrame
        :func:`rmstudy.stats.scoring.score_scales` of its responses.

    Returns
    -------
    DataFrame
        ``variable, kind``, per arm ``_mean``, ``_sd``, ``_n``, and ``smd``.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> from rmstudy.contract.codebook import Codebook, Scale
    >>> P = pd.DataFrame({"participant_id": list("abcd"), "arm": ["program", "program", "control", "control"]})
    >>> R = pd.DataFrame({"participant_id": list("aabccd"), "wave": ["pre", "post", "pre", "pre", "post", "pre"],
    ...                   "s": [4.0, 5.0, 3.0, 2.0, 3.0, 3.0]})          # b and d answer at pre only
    >>> c = NS(participants=P, responses=R, study=NS(waves=("pre", "post")), codebook=Codebook({"s": Scale("s", ("s",), 1, 5)}))
    >>> baseline_table(c, R)[["variable", "program_mean", "control_mean", "smd"]].round(4).values.tolist()
    [['s (baseline)', 3.5, 2.5, 1.4142]]
    """
    P = cohort.participants
    base = scores[scores["wave"] == cohort.study.waves[0]].merge(P[["participant_id", "arm"]], on="participant_id")
    rows = []
    numeric = [c for c in ("age", "tenure_years") if c in P.columns]
    in_arm = {a: (P["arm"] == a).to_numpy() for a in ARMS}       # compared once, not once per level
    for c in numeric:
        g = {a: P.loc[in_arm[a], c] for a in ARMS}
        rows.append({"variable": c, "kind": "mean (sd)", **{f"{a}_mean": g[a].mean() for a in ARMS},
                     **{f"{a}_sd": g[a].std(ddof=1) for a in ARMS}, **{f"{a}_n": int(g[a].notna().sum()) for a in ARMS},
                     "smd": standardised_mean_difference(g["program"], g["control"])})
    for c in ("role", "gender", "department"):
        if c not in P.columns:
            continue
        col = P[c].replace("", np.nan)
        by_arm = {a: col[in_arm[a]] for a in ARMS}
        for level in sorted(col.dropna().unique()):
            g = {a: (by_arm[a] == level).astype(float).where(by_arm[a].notna()) for a in ARMS}
            p1, p0 = g["program"].mean(), g["control"].mean()
            sd = np.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2)
            rows.append({"variable": f"{c} = {level}", "kind": "share", "program_mean": p1, "control_mean": p0,
                         "program_sd": np.nan, "control_sd": np.nan,
                         **{f"{a}_n": int(g[a].sum()) for a in ARMS},  # shares are of those with a known value
                         "smd": float((p1 - p0) / sd) if sd > 0 else np.nan})
    for s in cohort.codebook.scales:
        g = {a: base.loc[base["arm"] == a, s] for a in ARMS}
        rows.append({"variable": f"{s} (baseline)", "kind": "mean (sd)", **{f"{a}_mean": g[a].mean() for a in ARMS},
                     **{f"{a}_sd": g[a].std(ddof=1) for a in ARMS}, **{f"{a}_n": int(g[a].notna().sum()) for a in ARMS},
                     "smd": standardised_mean_difference(g["program"], g["control"])})
    return pd.DataFrame(rows)


def attrition(cohort: Cohort, scores: pd.DataFrame) -> dict:
    """Completers (responded at the last wave) vs dropouts, by arm.

    Returns ``table`` (arm, enrolled, completers, dropouts, dropout_rate),
    ``test`` (Pearson chi-square of arm × completion, no continuity
    correction) and ``baseline_by_completion`` (baseline scale means of
    completers and dropouts per arm, with their standardised difference).

    Parameters
    ----------
    cohort : Cohort
    scores : DataFrame
        :func:`rmstudy.stats.scoring.score_scales` of its responses.

    Returns
    -------
    dict
        ``table``, ``test``, ``baseline_by_completion``, ``last_wave``.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> from rmstudy.contract.codebook import Codebook, Scale
    >>> P = pd.DataFrame({"participant_id": list("abcd"), "arm": ["program", "program", "control", "control"]})
    >>> R = pd.DataFrame({"participant_id": list("aabccd"), "wave": ["pre", "post", "pre", "pre", "post", "pre"],
    ...                   "s": [4.0, 5.0, 3.0, 2.0, 3.0, 3.0]})          # b and d answer at pre only
    >>> c = NS(participants=P, responses=R, study=NS(waves=("pre", "post")), codebook=Codebook({"s": Scale("s", ("s",), 1, 5)}))
    >>> a = attrition(c, R)
    >>> [(r["arm"], r["dropouts"]) for r in a["table"]], a["test"]["chi2"], a["last_wave"]
    ([('program', 1), ('control', 1)], 0.0, 'post')
    """
    P = cohort.participants
    last = cohort.study.waves[-1]
    done = set(cohort.responses.loc[cohort.responses["wave"] == last, "participant_id"])
    comp = P["participant_id"].isin(done)
    rows = []
    for a in ARMS:
        m = P["arm"] == a
        n, k = int(m.sum()), int((m & comp).sum())
        rows.append({"arm": a, "enrolled": n, "completers": k, "dropouts": n - k, "dropout_rate": (n - k) / n if n else np.nan})
    tab = pd.DataFrame(rows)
    test = None
    if len(cohort.study.waves) > 1 and (tab["enrolled"] > 0).all():
        obs = tab[["completers", "dropouts"]].to_numpy()
        if (obs.sum(axis=0) > 0).all():
            chi2, p, dof, _ = stats.chi2_contingency(obs, correction=False)
            test = {"test": "Pearson chi-square, arm x completion", "chi2": float(chi2), "df": int(dof), "p_value": float(p)}
    base = scores[scores["wave"] == cohort.study.waves[0]].merge(P[["participant_id", "arm"]], on="participant_id")
    base["completer"] = base["participant_id"].isin(done)
    by = []
    for a in ARMS:
        for s in cohort.codebook.scales:
            g = base[base["arm"] == a]
            c, d = g.loc[g["completer"], s], g.loc[~g["completer"], s]
            by.append({"arm": a, "scale": s, "completers_mean": c.mean(), "dropouts_mean": d.mean(),
                       "completers_n": int(c.notna().sum()), "dropouts_n": int(d.notna().sum()), "smd": standardised_mean_difference(c, d)})
    return {"table": tab.to_dict(orient="records"), "test": test, "baseline_by_completion": by, "last_wave": last}
