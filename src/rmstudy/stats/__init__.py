"""Statistics: pure estimators on arrays and data frames (no Cohort, no files).

Scoring and reliability, effect sizes, multiplicity, the decision rule, mixed, nested and survival models
(``models/``), sensitivity analyses and moderation. Each function returns tidy frames or plain mappings and is checked
against R in ``tests/reference/``.

May import: ``rmstudy.contract`` (the codebook type, treatment coding) and ``rmstudy.errors``.
"""
