"""Estimators, one module per family."""
from .mixed import RandomInterceptFit, design_arm_wave, fit_random_intercept, mixed_model  # noqa: F401
from .nested import NestedInterceptFit, fit_nested_intercepts  # noqa: F401
