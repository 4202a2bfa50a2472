"""Ingest: raw survey-tool exports and an HR extract (CSV, XLSX) to a cohort folder, with a raw-row ledger.

The entry point is :func:`rmstudy.ingest.core.ingest` (``rmstudy ingest``); ``core`` also re-exports
``looks_like_identifier``, ``pseudonym``, ``DEFAULT_KEY_ENV`` and ``REPORT_NAME``. The steps live in one module each:

* ``mapping`` (the mapping YAML: structure, privacy, items) and ``fields`` (the HR columns by kind);
* ``table`` (one input file as read), its readers ``read_csv`` and ``read_xlsx``, and ``layout`` (merged cells,
  formulas without a saved value, rows of the wrong width);
* ``values`` (cells as text, numbers and dates; how a value is echoed in a message);
* ``columns`` (used and dropped columns, the row ledger), ``surveys`` (response records) and ``hr`` (employee
  records, and the checks across the HR extract and the surveys);
* ``identifiers`` (identifier-looking columns, pseudonyms, employee ids left in text) and ``key`` (the
  pseudonymisation key);
* ``output`` (the cohort tables and files) and ``report`` (``ingest_report.json``).

May import: ``rmstudy.contract`` and ``rmstudy.errors``.
"""
