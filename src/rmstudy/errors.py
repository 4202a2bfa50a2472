"""Error types shared by every layer of rmstudy."""

from __future__ import annotations

__all__ = ["CohortError", "Problem"]

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem found in a cohort input.

    ``row`` is the row number as a spreadsheet shows it (the header is row 1,
    the first data row is row 2); ``None`` when the problem concerns a whole
    file or column.
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


class CohortError(ValueError):
    """A cohort folder that cannot be analysed; carries every problem found."""

    def __init__(self, problems: list[Problem] | Problem):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        head = f"{len(self.problems)} problem(s) in the cohort:\n"
        super().__init__(head + "\n".join(f"  - {p}" for p in self.problems))
