"""Ingest: raw survey-tool exports and an HR extract (CSV, XLSX) to a cohort folder, with a raw-row ledger.

May import: ``rmstudy.contract`` and ``rmstudy.errors``.
"""
