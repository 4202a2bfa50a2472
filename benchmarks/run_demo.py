"""Time `rmstudy run` on the demo against the import floor, in one run.

The import floor is one python process importing pandas, statsmodels, pingouin
and seaborn. Target: the demo run takes at most 5x the floor. The machine is
noisy, so both are measured alternately, several times, and medians compared.

    python benchmarks/run_demo.py [--repeat 3]
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
BIN = Path(sys.executable).parent


def timed(cmd) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    floor_cmd = [sys.executable, "-c", "import pandas, statsmodels.api, pingouin, seaborn"]
    run_cmd = [str(BIN / "rmstudy"), "run", "data/demo", "--out", "benchmarks/out/demo", "--no-progress"]
    timed(floor_cmd)                      # warm the file cache
    floors, runs = [], []
    for _ in range(a.repeat):
        floors.append(timed(floor_cmd))
        shutil.rmtree(OUT / "demo", ignore_errors=True)
        runs.append(timed(run_cmd))
    f, r = statistics.median(floors), statistics.median(runs)
    print(f"{'measure':<34}{'median s':>10}{'min s':>10}{'max s':>10}")
    print(f"{'import floor (pandas, statsmodels,':<34}{f:>10.2f}{min(floors):>10.2f}{max(floors):>10.2f}")
    print(f"{'  pingouin, seaborn)':<34}")
    print(f"{'rmstudy run data/demo':<34}{r:>10.2f}{min(runs):>10.2f}{max(runs):>10.2f}")
    print(f"{'ratio run / floor':<34}{r / f:>10.2f}{'':>10}{'target <= 5':>10}")


if __name__ == "__main__":
    main()
