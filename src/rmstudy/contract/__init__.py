"""Contracts: what a cohort folder, a study plan and a codebook are, and how they are read and written.

Owns the plan (``study``), the codebook, the pandera table schemas, the cohort folder I/O (``cohort``), one population
matcher (``population``), spreadsheet row numbering (``rows``), YAML reading (``yamlio``), JSON writing (``jsonio``),
file hashes and the environment (``provenance``) and the JSON Schemas (``schemas/``).

May import: ``rmstudy.errors`` and ``rmstudy._version`` only. Every other layer may import it.
"""
