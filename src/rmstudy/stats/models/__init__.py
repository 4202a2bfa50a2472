"""Estimators, one module per family: ``mixed`` (random intercept, REML), ``nested`` (pair and participant
intercepts), ``survival`` (Cox, Kaplan–Meier, competing risks). Import them from their modules."""
