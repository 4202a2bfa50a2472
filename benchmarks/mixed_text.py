"""rmstudy.mixed_model on a frame of text columns against the same frame with categorical arm and wave.

    .venv/bin/python benchmarks/mixed_text.py [--n 100000] [--repeat 40] [--seed 1]

The data are benchmarks/lmm.py's (two arms, waves pre/post, ~15% missing at post; participant ids are text in
both frames). The two frames are timed alternately, ``--repeat`` times each, as CPU seconds of this process
(``time.process_time``; less sensitive than wall time to other processes on a shared machine). Prints the
minimum and the median of each, their ratio (goal: text <= 1.2 x categorical) and whether the two fits agree.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lmm import simulate  # noqa: E402

import rmstudy as rm  # noqa: E402

GOAL = 1.2


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    text = simulate(a.n, a.seed)
    cat = text.copy()
    cat["arm"] = pd.Categorical(cat["arm"], categories=["control", "program"])
    cat["wave"] = pd.Categorical(cat["wave"], categories=["post", "pre"])   # text sorts its levels: post, pre
    times: dict[str, list[float]] = {"categorical": [], "text": []}
    fits = {}
    for _ in range(a.repeat):
        for name, d in (("categorical", cat), ("text", text)):
            t = time.process_time()
            fits[name] = rm.mixed_model(d, "score", between_ref="control")
            times[name].append(time.process_time() - t)
    agree = np.allclose(fits["text"]["estimate"], fits["categorical"]["estimate"], rtol=0, atol=1e-12)
    print(f"rmstudy.mixed_model, {a.n:,} participants, {len(text):,} rows, {a.repeat} fits each (CPU seconds)")
    print(f"{'frame':<14}{'min':>10}{'median':>10}")
    for name, ts in times.items():
        print(f"{name:<14}{min(ts):>10.4f}{statistics.median(ts):>10.4f}")
    for stat, f in (("min", min), ("median", statistics.median)):
        r = f(times["text"]) / f(times["categorical"])
        print(f"text / categorical ({stat}): {r:.2f}   goal <= {GOAL}   {'met' if r <= GOAL else 'NOT met'}")
    print(f"estimates agree: {agree}")


if __name__ == "__main__":
    main()
