"""One analysis notebook run as several parts at once, one per kernel, and put back together.

Notebook ``03_survey_hypotheses`` fits every survey hypothesis of the plan, one after another; at 100,000
participants it took most of a run while the other kernel waited. ``rmstudy run`` therefore runs it as
:data:`PARTS` parts at the same time: the notebook's ``part`` parameter (``"k/n"``) makes it fit only the
hypotheses :func:`survey_part` gives part ``k`` (a fixed split of the plan, balanced by :func:`expected_cost`) and
record them as ``records/<name>.part<k>of<n>.json``. When every part has run, :func:`merge_records` writes the one
record the whole notebook would have written (each hypothesis in the plan's order, so results.json is the same
to the byte) and :func:`merge_notebooks` the one executed notebook, whose cells are each part's, in turn, under a
heading naming the part. The part files are removed; a run that fails keeps them in ``OUT.failed``.

An empty ``part`` (a notebook run by hand) fits every hypothesis and writes the usual record.
"""

from __future__ import annotations

__all__ = ["PARTS", "survey_part", "expected_cost", "part_name", "parse_part", "merge_records", "merge_notebooks"]

import json
from pathlib import Path

from rmstudy.contract.jsonio import write_json
from rmstudy.errors import RmstudyError

#: how many parts ``rmstudy run`` splits the survey notebook into: three, so that on two kernels the parts
#: fill in around 02_psychometrics (at 100,000 participants each part takes about half of 02's time)
PARTS = 3


def parse_part(part: str) -> tuple[int, int] | None:
    """``"k/n"`` as ``(k, n)``; empty: None (the whole notebook).

    Parameters
    ----------
    part : str
        ``"k/n"`` (1 <= k <= n) or empty.

    Returns
    -------
    tuple of int, or None

    Examples
    --------
    >>> parse_part("2/2"), parse_part("")
    ((2, 2), None)
    """
    if not part:
        return None
    try:
        k, n = (int(x) for x in str(part).split("/"))
    except ValueError:
        raise RmstudyError(f"part {part!r} is not 'k/n' (for example '1/2'); leave it empty to run the whole notebook")
    if not 1 <= k <= n:
        raise RmstudyError(f"part {part!r}: k must be between 1 and n")
    return k, n


def part_name(name: str, part: str) -> str:
    """The record (and executed notebook) name of one part of notebook ``name``; ``name`` itself for the whole.

    Parameters
    ----------
    name : str
        The notebook's name.
    part : str
        ``"k/n"`` or empty.

    Returns
    -------
    str

    Examples
    --------
    >>> part_name("03_survey_hypotheses", "1/2"), part_name("03_survey_hypotheses", "")
    ('03_survey_hypotheses.part1of2', '03_survey_hypotheses')
    """
    kn = parse_part(part)
    return name if kn is None else f"{name}.part{kn[0]}of{kn[1]}"


def expected_cost(h) -> float:
    """A rough relative cost of fitting survey hypothesis ``h``, from the plan alone (so every part agrees).

    Measured at 100,000 participants (the demo's plan, seconds of one kernel, December 2026): a hypothesis on
    the whole cohort about 1.8 to 2.3 (1.0 here); one whose population a filter restricts to one role about
    0.9 to 1.3; each moderator about a third of the hypothesis's own fit again (its moderation model and the
    actor-partner model: a one-role hypothesis with five moderators took 2.8 to 2.9); a ``cluster`` (its nested
    sensitivity models) about half a whole-cohort fit; an MMRM more than an LMM.

    Parameters
    ----------
    h : Hypothesis
        A survey hypothesis of the plan.

    Returns
    -------
    float
        1.0 is one whole-cohort random-intercept fit.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> expected_cost(NS(population={}, moderators=("a", "b"), model="lmm", cluster="department"))
    2.1
    """
    base = 0.45 if h.population else 1.0
    cost = base * (1 + 0.3 * len(h.moderators) + (0.5 if h.model == "mmrm" else 0.0)) + (0.5 if h.cluster else 0.0)
    return round(cost, 6)


def survey_part(study, part: str = "") -> list:
    """The survey hypotheses that part ``part`` (``"k/n"``) of the survey notebook fits, in the plan's order.

    The hypotheses are dealt out by expected cost, most costly first, each to the part with the least so far
    (ties to the lower part): a fixed split of the plan that every part computes the same way. Every survey
    hypothesis is in exactly one part. Empty ``part``: all of them.

    Parameters
    ----------
    study : Study
        The plan.
    part : str
        ``"k/n"``, or empty for every survey hypothesis.

    Returns
    -------
    list of Hypothesis

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> hs = [NS(id=f"H{i}", is_retention=i == 3, population={} if i % 2 else {"role": "x"}, moderators=(),
    ...          model="lmm", cluster=None) for i in range(1, 7)]
    >>> study = NS(hypotheses=hs)
    >>> [h.id for h in survey_part(study, "1/2")], [h.id for h in survey_part(study, "2/2")]
    (['H1', 'H2', 'H6'], ['H4', 'H5'])
    >>> len(survey_part(study))
    5
    """
    survey = [h for h in study.hypotheses if not h.is_retention]
    kn = parse_part(part)
    if kn is None:
        return survey
    k, n = kn
    load = [0.0] * n
    owner = {}
    for i in sorted(range(len(survey)), key=lambda i: (-expected_cost(survey[i]), i)):
        j = min(range(n), key=lambda j: (load[j], j))
        owner[i] = j
        load[j] += expected_cost(survey[i])
    return [h for i, h in enumerate(survey) if owner[i] == k - 1]


def _merge(values: list, order: dict, where: str):
    """Merge the parts' values of one key: lists of rows (by their ``id``) and mappings keyed by hypothesis id are
    put in the plan's order; other mappings are merged key by key; anything else must be the same in every part."""
    if all(isinstance(v, list) for v in values):
        rows = [r for v in values for r in v]
        return sorted(rows, key=lambda r: order[r["id"]])
    if all(isinstance(v, dict) for v in values):
        keys = [k for v in values for k in v]
        if keys and all(k in order for k in keys):
            if len(set(keys)) != len(keys):
                raise RmstudyError(f"{where}: a hypothesis is in two parts")
            return {k: v[k] for k in sorted(keys, key=order.get) for v in values if k in v}
        merged = {}
        for k in dict.fromkeys(keys):
            merged[k] = _merge([v[k] for v in values if k in v], order, f"{where}.{k}")
        return merged
    if any(v != values[0] for v in values):
        raise RmstudyError(f"{where}: the parts disagree")
    return values[0]


def merge_records(out_dir: str | Path, name: str, study, n: int = PARTS) -> Path:
    """Merge ``records/<name>.part<k>of<n>.json`` (k = 1..n) into ``records/<name>.json``, each hypothesis in the
    plan's order, as the whole notebook writes it; the part records are removed. Returns the record written.

    Parameters
    ----------
    out_dir : str or Path
        The run folder holding ``records/``.
    name : str
        The notebook's name.
    study : Study
        The plan, whose order the merged record keeps.
    n : int
        How many parts ran.

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile
    >>> from types import SimpleNamespace as NS
    >>> from rmstudy.results.assemble import load_records, record
    >>> out = Path(tempfile.mkdtemp())
    >>> study = NS(hypotheses=[NS(id="A"), NS(id="B"), NS(id="C")])
    >>> _ = record(out, "x.part1of2", {"hypotheses": [{"id": "B"}], "power": {"B": 2}, "d": {"m": {"B": 1}}})
    >>> _ = record(out, "x.part2of2", {"hypotheses": [{"id": "A"}, {"id": "C"}], "power": {"A": 1, "C": 3},
    ...                                "d": {"m": {"A": 0, "C": 2}}})
    >>> _ = merge_records(out, "x", study, n=2)
    >>> load_records(out)
    {'x': {'hypotheses': [{'id': 'A'}, {'id': 'B'}, {'id': 'C'}], 'power': {'A': 1, 'B': 2, 'C': 3}, 'd': {'m': {'A': 0, 'B': 1, 'C': 2}}}}
    """
    d = Path(out_dir) / "records"
    paths = [d / f"{name}.part{k}of{n}.json" for k in range(1, n + 1)]
    parts = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    order = {h.id: i for i, h in enumerate(study.hypotheses)}
    merged = _merge(parts, order, name)
    dest = write_json(merged, d / f"{name}.json", convert=False)
    for p in paths:
        p.unlink()
    return dest


def merge_notebooks(nb_dir: str | Path, name: str, n: int = PARTS, keep_parts: bool = False) -> Path:
    """Join the executed parts ``<name>.part<k>of<n>.ipynb`` found in ``nb_dir`` into ``<name>.ipynb``: each
    part's cells in turn, under a heading naming the part (its cells are numbered as its own kernel ran them).
    A part that did not run (a failed run) is named as missing. The part files are removed unless
    ``keep_parts``. Returns the notebook written.

    Parameters
    ----------
    nb_dir : str or Path
        The folder of executed notebooks.
    name : str
        The notebook's name.
    n : int
        How many parts ran.
    keep_parts : bool
        Keep the part files.

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "n.part2of2.ipynb").write_text(json.dumps({"metadata": {}, "cells": [
    ...     {"cell_type": "code", "id": "c1", "metadata": {}, "source": "x = 1", "outputs": [], "execution_count": 1}]}))
    >>> nb = json.loads(merge_notebooks(d, "n", n=2).read_text())
    >>> [(c["cell_type"], c["source"].splitlines()[0]) for c in nb["cells"]], sorted(p.name for p in d.iterdir())
    ([('markdown', '## Part 1 of 2'), ('markdown', '## Part 2 of 2'), ('code', 'x = 1')], ['n.ipynb'])
    """
    nb_dir = Path(nb_dir)
    merged = None
    for k in range(1, n + 1):
        path = nb_dir / f"{name}.part{k}of{n}.ipynb"
        nb = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
        if merged is None:
            merged = dict(nb or {"nbformat": 4, "nbformat_minor": 5, "metadata": {}}, cells=[])
            merged["metadata"] = dict(merged.get("metadata", {}), rmstudy={"parts": n})
            meta = merged["metadata"].get("papermill")
            if isinstance(meta, dict):
                merged["metadata"]["papermill"] = dict(meta, output_path=f"notebooks/{name}.ipynb",
                                                       parameters={**meta.get("parameters", {}), "part": ""})
        text = (f"## Part {k} of {n}\n`rmstudy run` ran this notebook as {n} parts at the same time, one on each "
                f"of its kernels (parameter `part = \"{k}/{n}\"`); the run merged their records in the plan's order."
                if nb is not None else f"## Part {k} of {n}\nThis part did not run (the run stopped first).")
        merged["cells"].append({"cell_type": "markdown", "id": f"rmstudy-part-{k}", "metadata": {},
                                "source": text})
        for c in (nb or {}).get("cells", []):
            merged["cells"].append(dict(c, id=f"p{k}-{c.get('id', '')}"))
        if nb is not None and not keep_parts:
            path.unlink()
    dest = nb_dir / f"{name}.ipynb"
    dest.write_text(json.dumps(merged, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return dest
