"""Estimators, one module per family."""
from rmstudy.stats.models.mixed import RandomInterceptFit, design_arm_wave, fit_random_intercept, mixed_model  # noqa: F401
from rmstudy.stats.models.nested import NestedInterceptFit, fit_nested_intercepts  # noqa: F401
