"""Simulation: cohorts with known truth (the demo, tests, planning).

May import: ``rmstudy.contract``, ``rmstudy.stats`` and ``rmstudy.errors``.
"""
