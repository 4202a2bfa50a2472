"""Error types shared by every layer of rmstudy.

Every error rmstudy raises on purpose is a :class:`RmstudyError`, so a caller can catch them all at once::

    RmstudyError
    ├── CohortError      (also a ValueError) a cohort folder or plan that cannot be analysed; carries Problems
    ├── ModelError       (also a ValueError) a statistical model that these data cannot identify
    ├── ResultsError     (also a ValueError) notebook records that do not add up to results.json
    └── InvariantError   (also a RuntimeError) an internal invariant broke: a bug in rmstudy, not in the input

Other layers subclass these (e.g. ``rmstudy.run.pipeline.NotebookFailed``). Internal invariants raise
:class:`InvariantError`, never ``assert`` (asserts vanish under ``python -O``).
"""

from __future__ import annotations

__all__ = ["RmstudyError", "CohortError", "ModelError", "ResultsError", "InvariantError", "Problem"]

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem found in a cohort input.

    ``row`` is the row number as a spreadsheet shows it (the header is row 1,
    the first data row is row 2; :func:`rmstudy.contract.rows.spreadsheet_row`); ``None`` when the problem
    concerns a whole file or column.

    Attributes
    ----------
    file : str
        The file's name (never a path).
    message, fix : str
        What is wrong, and how to fix it.
    row : int or None
    column : str or None

    Examples
    --------
    >>> print(Problem("participants.csv", "arm 'prog' is not allowed", "use program or control", row=3, column="arm"))
    participants.csv, row 3, column 'arm': arm 'prog' is not allowed — fix: use program or control
    """

    file: str
    message: str
    fix: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column '{self.column}'"
        return f"{where}: {self.message} — fix: {self.fix}"


class RmstudyError(Exception):
    """The root of every error rmstudy raises on purpose.

    Examples
    --------
    >>> issubclass(CohortError, RmstudyError), issubclass(ModelError, RmstudyError), issubclass(InvariantError, RmstudyError)
    (True, True, True)
    """


class CohortError(RmstudyError, ValueError):
    """A cohort folder that cannot be analysed; carries every problem found.

    Parameters
    ----------
    problems : Problem or list of Problem

    Examples
    --------
    >>> e = CohortError(Problem("study.yaml", "alpha is 2", "use a value below 1", column="alpha"))
    >>> isinstance(e, RmstudyError), len(e.problems)
    (True, 1)
    """

    def __init__(self, problems: list[Problem] | Problem):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        head = f"{len(self.problems)} problem(s) in the cohort:\n"
        super().__init__(head + "\n".join(f"  - {p}" for p in self.problems))


class ModelError(RmstudyError, ValueError):
    """A statistical model these data cannot identify (a rank-deficient design, missing values, too few rows).

    Examples
    --------
    >>> try:
    ...     raise ModelError("fit_random_intercept: the fixed-effects design is rank deficient")
    ... except ValueError as e:                       # a ModelError is a ValueError too
    ...     print(type(e).__name__, isinstance(e, RmstudyError))
    ModelError True
    """


class ResultsError(RmstudyError, ValueError):
    """Notebook records that do not add up to results.json (a missing record, rows that do not match the plan).

    Examples
    --------
    >>> issubclass(ResultsError, ValueError), issubclass(ResultsError, RmstudyError)
    (True, True)
    """


class InvariantError(RmstudyError, RuntimeError):
    """An internal invariant broke: a bug in rmstudy, not a problem of the input.

    Examples
    --------
    >>> issubclass(InvariantError, RuntimeError), issubclass(InvariantError, ValueError)
    (True, False)
    """
