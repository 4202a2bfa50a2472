"""Analysis: a study plan and a cohort become typed hypothesis rows (``rows.HypothesisRow``) and their details.

``hypotheses`` (the primary models, and ``analyse_survey`` / ``analyse_retention``: one call per hypothesis for
notebooks 03 and 04), ``measurement`` (notebook 02's psychometrics), ``moderators`` (the plan's moderators of a
survey hypothesis) and ``rows`` (the typed row). The estimators they call are in ``rmstudy.stats``.

May import: ``rmstudy.contract``, ``rmstudy.stats``, ``rmstudy.checks``, ``rmstudy.errors``.
"""
