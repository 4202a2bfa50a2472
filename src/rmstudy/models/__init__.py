"""Estimators, one module per family."""
from .mixed import RandomInterceptFit, design_arm_wave, fit_random_intercept, mixed_model  # noqa: F401
