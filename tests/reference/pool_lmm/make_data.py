"""Write the two data sets the pooled-LMM reference is fitted on (run from the repository root with the project's
Python: ``.venv/bin/python tests/reference/pool_lmm/make_data.py``; then ``Rscript tests/reference/pool_lmm/make_reference.R``).

* ``demo_spring_H2.csv``: the rows ``rmstudy.pool.lmm.pooled_long`` builds for hypothesis H2 from the demo cohort
  (data/demo) and the demo generator's cohort with seed 7 (``rmstudy.simulate.cohort.write_demo``), the two runs
  tests/test_pool.py pools. Their cohort variance is estimated at 0 (the same generator).
* ``five_cohorts.csv``: five synthetic cohorts of unequal size whose levels differ (cohort SD 0.5), with a
  participant intercept, 15% missing later waves and a programme effect of 0.3: a fit with a cohort variance
  above 0.
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


def five_cohorts(seed: int = 20261203) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for c, n in enumerate([40, 55, 70, 90, 120]):
        level = rng.normal(0, 0.5)
        for i in range(n):
            arm = "program" if i % 2 else "control"
            u = rng.normal(0, 0.7)
            for wave in ("base", "later"):
                if wave == "later" and rng.random() < 0.15:
                    continue
                eff = 0.3 if (arm == "program" and wave == "later") else 0.0
                y = 3 + level + u + (0.1 if wave == "later" else 0) + eff + rng.normal(0, 0.6)
                rows.append({"cohort": f"c{c + 1}", "participant": f"c{c + 1}:p{i}", "arm": arm, "wave": wave,
                             "score": round(float(y), 6)})
    return pd.DataFrame(rows)


def demo_spring(hypothesis: str = "H2") -> pd.DataFrame:
    sys.path.insert(0, str(ROOT / "src"))
    from rmstudy.pool.lmm import load_raw, pooled_long
    from rmstudy.simulate.cohort import write_demo

    with tempfile.TemporaryDirectory() as tmp:
        spring = write_demo(Path(tmp) / "spring", seed=7)
        cohorts = [("demo", *load_raw(ROOT / "data" / "demo")), ("spring", *load_raw(spring))]
        long = pooled_long(cohorts, hypothesis)
    return long.assign(score=long["score"].round(10))


if __name__ == "__main__":
    five_cohorts().to_csv(HERE / "five_cohorts.csv", index=False)
    demo_spring().to_csv(HERE / "demo_spring_H2.csv", index=False)
