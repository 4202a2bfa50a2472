"""Checks: ``rmstudy validate`` (errors, exclusions, warnings and the row ledger) and the data-quality summaries.

May import: ``rmstudy.contract``, ``rmstudy.stats``, ``rmstudy.errors``.
"""
