import json
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
REF = Path(__file__).resolve().parent / "reference"


@pytest.fixture(scope="session")
def demo_cohort():
    import rmstudy as rm

    return rm.load_cohort(DEMO)


@pytest.fixture(scope="session")
def demo_scores(demo_cohort):
    import rmstudy as rm

    return rm.score_scales(demo_cohort.responses, demo_cohort.codebook)


def load_ref(name: str) -> dict:
    return json.loads((REF / name).read_text(encoding="utf-8"))


# Hypothesis profiles (property tests: tests/test_properties_*.py). "mutation": tools/mutation.py runs the tests
# against each mutant with a fixed draw, so whether a mutant is killed does not depend on luck.
try:
    import os

    from hypothesis import HealthCheck, settings

    settings.register_profile("default", settings(deadline=None))
    settings.register_profile("mutation", settings(deadline=None, derandomize=True, database=None, max_examples=25,
                                                   suppress_health_check=[HealthCheck.too_slow]))
    settings.load_profile(os.environ.get("RMSTUDY_HYPOTHESIS_PROFILE", "default"))
except ImportError:  # pragma: no cover - hypothesis is in requirements.lock
    pass


def examples(n: int) -> int:
    """max_examples for a property test: n, or a sixth of it (at least 10) when run against mutants; times
    RMSTUDY_PROPERTY_SCALE when set (a longer hunt: RMSTUDY_PROPERTY_SCALE=20 pytest tests/test_properties_*.py)."""
    import os

    n = round(n * float(os.environ.get("RMSTUDY_PROPERTY_SCALE", "1")))
    return max(10, n // 6) if os.environ.get("RMSTUDY_HYPOTHESIS_PROFILE") == "mutation" else n


def _threads_left() -> list:
    import threading

    return [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon and t.is_alive()]


_EXIT = {"status": 0}


def pytest_sessionfinish(session, exitstatus):
    _EXIT["status"] = int(exitstatus)


def pytest_unconfigure(config):
    """A suite that has finished must end. A thread a test left running (e.g. a notebook client waiting on a
    stopped kernel) keeps Python from exiting, and CI then times out with every test passed (it did, once).
    Wait a little for such threads, then name them with their stacks and end the process with the suite's status."""
    import faulthandler
    import os
    import sys
    import time

    deadline = time.monotonic() + 30
    while _threads_left() and time.monotonic() < deadline:
        time.sleep(0.5)
    left = _threads_left()
    if left:
        print(f"\nconftest: {len(left)} thread(s) left running after the suite: "
              f"{', '.join(t.name for t in left)}; their stacks follow", file=sys.stderr)
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(_EXIT["status"])       # reported above; the suite's own verdict stands
