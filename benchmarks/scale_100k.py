"""Time the analysis layers on a simulated 100,000-participant cohort.

    python benchmarks/scale_100k.py [--participants 100000]

Prints one row per step with its wall time and the process's peak resident
memory after it. The cohort is simulated into a temporary folder first (not timed
as analysis). statsmodels MixedLM is timed on a 10% subsample for comparison
with rmstudy's fitter on the same subsample (it takes minutes at full size).
"""

import argparse
import resource
import tempfile
import time
from pathlib import Path

import rmstudy as rm
from rmstudy.simulate.cohort import write_demo


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--participants", type=int, default=100_000)
    a = ap.parse_args()
    q = a.participants // 4
    rows = []

    def step(name, fn):
        t = time.perf_counter()
        out = fn()
        rows.append((name, time.perf_counter() - t, peak_mb()))
        return out

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "big"
        step("simulate + write cohort", lambda: write_demo(d, n_pairs=q, n_control_juniors=q, n_control_seniors=q,
                                                         truth_mc=20_000))
        c = step("load + check cohort (rmstudy validate)", lambda: rm.load_cohort(d))
        sc = step("score all scales", lambda: rm.score_scales(c.responses, c.codebook))
        step("reliability table (alpha, CI, omega)",
             lambda: rm.reliability_table(c.responses, c.participants, c.codebook, c.study.waves))
        step("psychometrics (all of issue 4)", lambda: rm.psychometrics(c, sc))
        h = c.study.hypothesis("H2")
        row = step("LMM + Satterthwaite, H2 (all participants)",
                   lambda: rm.analyse_survey_hypothesis(c, sc, h)[0])
        step("Cox + KM + zph + CIF, H3", lambda: rm.analyse_retention_hypothesis(c, c.study.hypothesis("H3")))
        sub = rm.long_scores(sc, c.participants, "engagement").dropna(subset=["score"])
        ids = sub["participant_id"].drop_duplicates().sample(frac=0.1, random_state=1)
        sub = sub[sub["participant_id"].isin(ids)]
        step("rmstudy.mixed_model, 10% subsample", lambda: rm.mixed_model(sub, "score", between_ref="control"))

        def sm():
            import statsmodels.formula.api as smf
            return smf.mixedlm("score ~ C(arm, Treatment('control')) * wave", sub, groups=sub["participant_id"]).fit(reml=True)
        step("statsmodels MixedLM, 10% subsample", sm)
    n_obs = row["n"]["program"]["observations"] + row["n"]["control"]["observations"]
    print(f"cohort: {a.participants:,} participants, {n_obs:,} engagement observations in H2")
    print(f"{'step':<46}{'seconds':>10}{'peak MB':>10}")
    for name, s, m in rows:
        print(f"{name:<46}{s:>10.2f}{m:>10.0f}")


if __name__ == "__main__":
    main()
