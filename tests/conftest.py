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
