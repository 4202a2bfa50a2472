"""The cohort columns an HR extract is mapped to, by kind: required, employment dates, numbers and fixed choices."""

from __future__ import annotations

__all__ = ["HR_REQUIRED", "HR_EMPLOYMENT", "HR_NUMERIC", "HR_CHOICES"]

from rmstudy.contract.cohort import ARMS, EXIT_REASONS, ROLES

#: participants.csv columns every HR mapping gives
HR_REQUIRED = ("employee_id", "arm", "role", "pair_id", "age")
#: employment.csv columns, mapped all together or not at all
HR_EMPLOYMENT = ("hire_date", "exit_date", "exit_reason")
#: HR columns read as numbers
HR_NUMERIC = ("age", "tenure_years", "sessions_attended")
#: HR columns whose values must be one of the contract's choices (after hr.values)
HR_CHOICES = {"arm": ARMS, "role": ROLES, "exit_reason": EXIT_REASONS}
