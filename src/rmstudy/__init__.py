"""rmstudy: evaluate reverse-mentoring programmes with preregistered, reproducible analyses."""

__version__ = "0.1.0"

from .codebook import Codebook, Scale, load_codebook  # noqa: F401
from .cohort import Cohort, load_cohort, save_cohort  # noqa: F401
from .errors import CohortError, Problem  # noqa: F401
from .models.mixed import fit_random_intercept, mixed_model  # noqa: F401
from .study import Hypothesis, Study, load_study  # noqa: F401
