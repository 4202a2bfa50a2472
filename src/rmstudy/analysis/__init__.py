"""Analysis: a study plan and a cohort become typed hypothesis rows (``rows.HypothesisRow``) and their details.

May import: ``rmstudy.contract``, ``rmstudy.stats``, ``rmstudy.checks``, ``rmstudy.errors``.
"""
