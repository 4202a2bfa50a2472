"""The programme's design (``study.yaml`` key ``design``, schema_version 4) and the participants.csv columns it needs.

``design.assignment`` says how people came to be in the programme or the comparison group
(``nonrandomised``, the default; ``randomised``; ``waitlist``: randomised, the comparison group joins later).
``design.mentoring`` says how programme participants were grouped: ``pairs`` (the default: one junior, one
senior, ``pair_id``), ``groups`` (``group_id``: one or more juniors with one or more seniors, e.g. a
reverse-mentoring circle) or ``none`` (no grouping data). Plans without ``design`` read as the demo's design.

:func:`required_columns` lists the participants.csv columns a plan needs, each with why; every other column
(``age``, ``role``, ``pair_id`` included) is optional.
"""

from __future__ import annotations

__all__ = ["ASSIGNMENTS", "MENTORING", "Design", "parse_design", "required_columns", "CLUSTER_COLUMN",
           "mentoring_column"]

from dataclasses import dataclass

ASSIGNMENTS = ("nonrandomised", "randomised", "waitlist")
MENTORING = ("pairs", "groups", "none")
#: the participants.csv column that groups programme participants, per mentoring design
CLUSTER_COLUMN = {"pairs": "pair_id", "groups": "group_id", "none": None}


@dataclass(frozen=True)
class Design:
    """``assignment`` and ``mentoring`` of the plan (defaults: the demo's design).

    Attributes
    ----------
    assignment : str
        One of :data:`ASSIGNMENTS` (``nonrandomised``, ``randomised``, ``waitlist``).
    mentoring : str
        One of :data:`MENTORING` (``pairs``, ``groups``, ``none``).

    Examples
    --------
    >>> Design().cluster_column, Design(mentoring="groups").cluster_column, Design(mentoring="none").cluster_column
    ('pair_id', 'group_id', None)
    """

    assignment: str = "nonrandomised"
    mentoring: str = "pairs"

    @property
    def cluster_column(self) -> str | None:
        """``pair_id``, ``group_id`` or ``None``: the column of the mentoring pair or group."""
        return CLUSTER_COLUMN[self.mentoring]

    @property
    def randomised(self) -> bool:
        return self.assignment in ("randomised", "waitlist")


def parse_design(raw: dict | None) -> Design:
    """The plan's ``design`` mapping (already checked by the JSON Schema) as a :class:`Design`.

    Parameters
    ----------
    raw : dict or None
        study.yaml's ``design`` mapping; None (no ``design`` key) reads as the demo's design.

    Returns
    -------
    Design

    Examples
    --------
    >>> parse_design(None)
    Design(assignment='nonrandomised', mentoring='pairs')
    >>> parse_design({"assignment": "randomised", "mentoring": "none"}).randomised
    True
    """
    raw = raw or {}
    return Design(assignment=str(raw.get("assignment", "nonrandomised")), mentoring=str(raw.get("mentoring", "pairs")))


def required_columns(study) -> dict[str, str]:
    """participants.csv columns the plan needs beyond ``participant_id`` and ``arm``: column -> why.

    ``role`` and the pair or group column follow ``design.mentoring``; ``age`` is needed (every cell filled)
    only when a population filters on it or a hypothesis names it as a covariate. Other columns a population,
    covariate, moderator or cluster names are checked with the plan's populations (contract.cohort).

    Parameters
    ----------
    study : Study
        The plan (read: its ``design`` and each hypothesis's ``id``, ``population`` and ``covariates``).

    Returns
    -------
    dict of str to str
        Column name -> why the plan needs it.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> h = NS(id="H1", population={"age": {"max": 35}}, covariates=())
    >>> required_columns(NS(design=Design(mentoring="none"), hypotheses=(h,)))
    {'age': 'the population of H1 filters on it'}
    >>> sorted(required_columns(NS(design=Design(), hypotheses=())))
    ['pair_id', 'role']
    """
    design = getattr(study, "design", None) or Design()
    need: dict[str, str] = {}
    if design.mentoring != "none":
        why = f"study.yaml design.mentoring is '{design.mentoring}'"
        need["role"] = why + " (each pair or group needs its juniors and seniors)"
        if design.cluster_column:
            need[design.cluster_column] = why
    for h in study.hypotheses:
        if "age" in h.population:
            need.setdefault("age", f"the population of {h.id} filters on it")
        elif "age" in h.covariates:
            need.setdefault("age", f"{h.id} names it as a covariate")
    return need


def mentoring_column(design: Design | None, columns) -> str | None:
    """The one rule for the pair or group model: the participants.csv column of the plan's mentoring design
    (``pair_id`` for ``pairs``, the default; ``group_id`` for ``groups``), when the data have it; None for
    ``mentoring: none`` whatever columns the file holds. Every analysis with a pair or group random effect asks
    this function (a ``pair_id`` column in a ``groups`` or ``none`` plan is just another column).

    Parameters
    ----------
    design : Design or None
        The plan's design (None: the default, ``pairs``).
    columns : iterable of str
        participants.csv's columns.

    Returns
    -------
    str or None
        The column to group by, or None when there is none.

    Examples
    --------
    >>> mentoring_column(Design(), ["participant_id", "pair_id"]), mentoring_column(Design(), ["participant_id"])
    ('pair_id', None)
    >>> mentoring_column(Design(mentoring="none"), ["pair_id", "group_id"]) is None
    True
    """
    col = (design or Design()).cluster_column
    return col if col is not None and col in set(columns) else None
