"""Reporting: privacy (suppression), narrative sentences, tables, figures and the content of the HR and academic
reports, built from results.json only (never refits).

May import: ``rmstudy.results`` and every layer below it.
"""
