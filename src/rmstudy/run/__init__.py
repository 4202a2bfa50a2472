"""Running: the papermill pipeline, its kernels, and the export of the reports.

May import: every layer below it; only ``rmstudy.cli`` imports it.
"""
