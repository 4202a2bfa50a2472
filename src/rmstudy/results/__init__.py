"""Results: notebook records, results.json assembly and provenance.

May import: ``rmstudy.analysis`` and every layer below it.
"""
