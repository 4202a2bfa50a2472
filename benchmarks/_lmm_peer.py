"""Timing child for benchmarks/lmm.py: the Rust-backed PyPI mixed-model packages.

Runs in benchmarks/.peers-venv (made by lmm.py), never in the project's venv:

    benchmarks/.peers-venv/bin/python benchmarks/_lmm_peer.py DATA.csv REPEAT

Reads the CSV once, makes arm (control, program) and wave (pre, post) pandas
categoricals once (untimed, as R's factor()), then fits the random-intercept
REML model ``score ~ arm * wave + (1 | participant_id)`` REPEAT times with each
package, timing from the prepared DataFrame to the result (formula handling
included). Prints one JSON object on stdout:

    {"mixedlm-rs": {"status": "ok", "version": ..., "times": [...],
                    "beta": [...], "terms": [...], "tau2": ..., "sigma2": ...,
                    "converged": ..., "warnings": [...]},
     "mixedlm":    {...} or {"status": "not available", "reason": "..."}}

``beta`` is in the order Intercept, arm[program], wave[post], interaction, so
lmm.py can compare it with rmstudy's estimates.
"""

import importlib.metadata
import json
import sys
import time
import traceback
import warnings

import pandas as pd

FORMULA_FE = "score ~ arm * wave"
FORMULA_LME4 = "score ~ arm * wave + (1 | participant_id)"


def _fit_mixedlm_rs(d):
    import mixedlm_rs

    def fit():
        return mixedlm_rs.mixedlm(FORMULA_FE, d, groups="participant_id").fit(reml=True)

    def extract(res):
        fe = res.fe_params_labelled
        return {"terms": [str(t) for t in fe.index], "beta": [float(v) for v in fe.to_numpy()],
                "tau2": float(res.cov_re.to_numpy()[0, 0] if hasattr(res.cov_re, "to_numpy") else res.cov_re[0, 0]),
                "sigma2": float(res.scale), "converged": bool(res.converged)}

    return "mixedlm-rs", fit, extract


def _fit_mixedlm(d):
    import mixedlm

    def fit():
        return mixedlm.lmer(FORMULA_LME4, d, REML=True)

    def extract(res):
        fe = res.fixef()
        sigma = float(res.sigma)
        theta = float(res.theta[0])
        return {"terms": list(fe), "beta": [float(v) for v in fe.values()],
                "tau2": (theta * sigma) ** 2, "sigma2": sigma**2, "converged": bool(res.converged)}

    return "mixedlm", fit, extract


def run(d, make, dist, repeat):
    out = {"status": "not available"}
    try:
        name, fit, extract = make(d)
    except Exception as e:  # ImportError, or a broken native extension
        out["reason"] = f"import failed: {type(e).__name__}: {e}".strip()
        return out
    try:
        out["version"] = importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        out["version"] = "?"
    times, caught = [], []
    try:
        for _ in range(repeat):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                t = time.perf_counter()
                res = fit()
                times.append(time.perf_counter() - t)
            caught += [f"{x.category.__name__}: {x.message}" for x in w]
        out.update(extract(res))
    except Exception as e:
        out["reason"] = f"fit failed: {type(e).__name__}: {e}"
        out["traceback"] = traceback.format_exc(limit=3)
        return out
    out.update(status="ok", times=times, warnings=sorted(set(caught))[:5])
    return out


def main():
    csv, repeat = sys.argv[1], int(sys.argv[2])
    d = pd.read_csv(csv, dtype={"participant_id": str, "arm": str, "wave": str, "score": float})
    d["arm"] = pd.Categorical(d["arm"], categories=["control", "program"])
    d["wave"] = pd.Categorical(d["wave"], categories=["pre", "post"])
    result = {
        "mixedlm-rs": run(d, _fit_mixedlm_rs, "mixedlm-rs", repeat),
        "mixedlm": run(d, _fit_mixedlm, "mixedlm", repeat),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
