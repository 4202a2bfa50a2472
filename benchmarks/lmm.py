"""Time rmstudy's mixed model against statsmodels, the Rust-backed PyPI peers and lme4.

    .venv/bin/python benchmarks/lmm.py [--sizes 1000 10000 100000] [--repeat 5]

One simulated data set per size (two arms, waves pre/post, ~15% attrition at
post; columns participant_id, arm, wave, score) is written once to a temporary
CSV, and every tool reads that same file. Each tool then fits the random-
intercept REML model ``score ~ arm * wave + (1 | participant_id)`` ``--repeat``
times in one process, timed from a prepared DataFrame / data.frame (arm and wave
already categorical / factors: untimed, as loading is) to the result, formula
handling included:

  rmstudy.mixed_model      mixed_model(df, "score", between_ref="control"), which
                           includes Satterthwaite df for every term
  statsmodels MixedLM      smf.mixedlm(...).fit(reml=True), up to
                           --statsmodels-max participants (too slow beyond)
  mixedlm-rs, mixedlm      PyPI packages with a Rust core, installed for the
                           benchmark only into benchmarks/.peers-venv (made once,
                           git-ignored) and run there by benchmarks/_lmm_peer.py
  lme4::lmer               when Rscript is on PATH (benchmarks/_lmm_lme4.R)
  lmerTest::lmer+summary   the same plus Satterthwaite df, like for like with rmstudy

Prints one table: rows tool x size, the median seconds, the ratio to
rmstudy.mixed_model at the same size, and whether the tool's estimates (fixed
effects, tau2, sigma2) agree with rmstudy's within 1e-4 (relative to
max(1, |value|)). Then the two ratios the project's target uses, at the
largest size: rmstudy / lme4 (target <= 0.05) and rmstudy / fastest peer
(target <= 1).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import rmstudy as rm

HERE = Path(__file__).resolve().parent
PEERS_VENV = HERE / ".peers-venv"
PEER_SCRIPT = HERE / "_lmm_peer.py"
R_SCRIPT = HERE / "_lmm_lme4.R"
PEER_PACKAGES = ["mixedlm-rs", "mixedlm", "pandas"]
PEERS = ["mixedlm-rs", "mixedlm"]
TOL = 1e-4
SM_FORMULA = "score ~ C(arm, Treatment('control')) * wave"


# --- data -------------------------------------------------------------------
def simulate(n: int, seed: int) -> pd.DataFrame:
    """Two arms (half each, randomised), pre for everyone, post for ~85%.

    score = 50 + 2 program + 1 post + 3 program:post + u_i + e,
    u_i ~ N(0, 5^2), e ~ N(0, 4^2); rounded to 6 decimals so the CSV holds
    exactly the numbers every tool fits.
    """
    rng = np.random.default_rng(seed)
    width = max(6, len(str(n)))
    ids = np.array([f"P{i:0{width}d}" for i in range(1, n + 1)])
    arm = np.where(rng.permutation(n) < n // 2, "control", "program")
    prog = (arm == "program").astype(float)
    u = rng.normal(0.0, 5.0, n)
    pre = 50 + 2 * prog + u + rng.normal(0.0, 4.0, n)
    post = 50 + 2 * prog + 1 + 3 * prog + u + rng.normal(0.0, 4.0, n)
    stays = rng.random(n) >= 0.15
    d = pd.concat([
        pd.DataFrame({"participant_id": ids, "arm": arm, "wave": "pre", "score": pre.round(6)}),
        pd.DataFrame({"participant_id": ids[stays], "arm": arm[stays], "wave": "post",
                      "score": post[stays].round(6)}),
    ], ignore_index=True)
    order = np.lexsort(((d["wave"] == "post").to_numpy(), d["participant_id"].to_numpy()))
    return d.iloc[order].reset_index(drop=True)


def load_prepared(csv: Path) -> pd.DataFrame:
    """The CSV as read back, arm and wave made categorical (the untimed preparation)."""
    d = pd.read_csv(csv, dtype={"participant_id": str, "arm": str, "wave": str, "score": float})
    d["arm"] = pd.Categorical(d["arm"], categories=["control", "program"])
    d["wave"] = pd.Categorical(d["wave"], categories=["pre", "post"])
    return d


# --- timing -----------------------------------------------------------------
def time_repeat(fn, repeat: int):
    times, out, caught = [], None, []
    for _ in range(repeat):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            t = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t)
        caught += [f"{x.category.__name__}: {x.message}" for x in w]
    return times, out, sorted(set(caught))


def run_rmstudy(d: pd.DataFrame, repeat: int) -> dict:
    times, tab, warns = time_repeat(lambda: rm.mixed_model(d, "score", between_ref="control"), repeat)
    return {"status": "ok", "times": times, "beta": tab["estimate"].tolist(), "terms": tab["term"].tolist(),
            "df": tab["df"].tolist(), "tau2": tab.attrs["tau2"], "sigma2": tab.attrs["sigma2"],
            "n_obs": tab.attrs["n_obs"], "warnings": warns}


def run_statsmodels(d: pd.DataFrame, repeat: int) -> dict:
    import statsmodels.formula.api as smf

    def fit():
        return smf.mixedlm(SM_FORMULA, d, groups=d["participant_id"]).fit(reml=True)

    times, res, warns = time_repeat(fit, repeat)
    return {"status": "ok", "times": times, "beta": [float(v) for v in res.fe_params.to_numpy()],
            "tau2": float(res.cov_re.to_numpy()[0, 0]), "sigma2": float(res.scale), "warnings": warns}


def _tail(text: str, n: int = 200) -> str:
    lines = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    return (lines[-1] if lines else "no output")[-n:]


def ensure_peers_venv() -> str | None:
    """Make benchmarks/.peers-venv once and install the peers; None, or why it failed."""
    py = PEERS_VENV / "bin" / "python"
    if not py.exists():
        print(f"creating {PEERS_VENV.relative_to(HERE.parent)} (once) ...", file=sys.stderr, flush=True)
        r = subprocess.run(["python3", "-m", "venv", str(PEERS_VENV)], capture_output=True, text=True)
        if r.returncode != 0:
            return f"python3 -m venv failed: {_tail(r.stderr or r.stdout)}"
    missing = [p for p in PEER_PACKAGES
               if subprocess.run([str(py), "-m", "pip", "show", "-q", p], capture_output=True).returncode != 0]
    if missing:
        print(f"pip install {' '.join(missing)} into the peers' venv ...", file=sys.stderr, flush=True)
        r = subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *missing],
                           capture_output=True, text=True)
        if r.returncode != 0:
            return f"pip install {' '.join(missing)} failed: {_tail(r.stderr or r.stdout)}"
    return None


def run_peers(csv: Path, repeat: int, venv_problem: str | None) -> dict:
    py = PEERS_VENV / "bin" / "python"
    if not py.exists():
        return {p: {"status": "not available", "reason": venv_problem or "no peers' venv"} for p in PEERS}
    r = subprocess.run([str(py), str(PEER_SCRIPT), str(csv), str(repeat)], capture_output=True, text=True)
    try:
        out = json.loads(r.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        why = f"peer child failed (exit {r.returncode}): {_tail(r.stderr or r.stdout)}"
        return {p: {"status": "not available", "reason": why} for p in PEERS}
    for p in PEERS:
        if out.get(p, {}).get("status") != "ok" and venv_problem:
            out[p]["reason"] = f"{out[p].get('reason', '')}; {venv_problem}"
    return out


def run_lme4(csv: Path, repeat: int) -> dict:
    rows = ["lme4", "lmerTest"]
    rscript = shutil.which("Rscript")
    if rscript is None:
        return {k: {"status": "not available", "reason": "Rscript is not on PATH"} for k in rows}
    r = subprocess.run([rscript, "--vanilla", str(R_SCRIPT), str(csv), str(repeat)],
                       capture_output=True, text=True)
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        why = f"R child failed (exit {r.returncode}): {_tail(r.stderr or r.stdout)}"
        return {k: {"status": "not available", "reason": why} for k in rows}


# --- comparison and output ---------------------------------------------------
def agreement(res: dict, ref: dict) -> str:
    """'ok (max 3e-09)' or a warning naming the largest discrepancy."""
    names = ["b0", "b_arm", "b_wave", "b_arm:wave", "tau2", "sigma2"]
    a = np.array(list(res["beta"]) + [res["tau2"], res["sigma2"]], dtype=float)
    b = np.array(list(ref["beta"]) + [ref["tau2"], ref["sigma2"]], dtype=float)
    if a.shape != b.shape:
        return f"WARNING: {len(res['beta'])} fixed effects, rmstudy has {len(ref['beta'])}"
    rel = np.abs(a - b) / np.maximum(1.0, np.abs(b))
    i = int(np.argmax(rel))
    if rel[i] <= TOL:
        return f"ok (max {rel[i]:.0e})"
    return f"WARNING: {names[i]} {a[i]:.6g} vs rmstudy {b[i]:.6g} (rel {rel[i]:.1e})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--statsmodels-max", type=int, default=10000,
                    help="largest number of participants statsmodels MixedLM is timed at")
    ap.add_argument("--seed", type=int, default=20240611)
    a = ap.parse_args()

    venv_problem = ensure_peers_venv()
    results = []       # (size, n_obs, tool, result dict)
    with tempfile.TemporaryDirectory(prefix="rmstudy-lmm-bench-") as tmp:
        for n in a.sizes:
            csv = Path(tmp) / f"lmm_{n}.csv"
            simulate(n, a.seed + n).to_csv(csv, index=False)
            d = load_prepared(csv)
            print(f"{n:,} participants, {len(d):,} observations ...", file=sys.stderr, flush=True)
            ref = run_rmstudy(d, a.repeat)
            results.append((n, len(d), "rmstudy.mixed_model", ref))
            if n <= a.statsmodels_max:
                sm = run_statsmodels(d, a.repeat)
            else:
                sm = {"status": "skipped", "reason": f"not run above {a.statsmodels_max:,} participants (too slow)"}
            results.append((n, len(d), "statsmodels MixedLM", sm))
            peers = run_peers(csv, a.repeat, venv_problem)
            for p in PEERS:
                results.append((n, len(d), p, peers.get(p, {"status": "not available", "reason": "no result"})))
            r = run_lme4(csv, a.repeat)
            results.append((n, len(d), "lme4::lmer", r.get("lme4", {})))
            results.append((n, len(d), "lmerTest::lmer + summary", r.get("lmerTest", {})))

    med = {(n, tool): statistics.median(res["times"]) for n, _, tool, res in results if res.get("status") == "ok"}
    refs = {n: res for n, _, tool, res in results if tool == "rmstudy.mixed_model"}

    print(f"LMM score ~ arm * wave + (1 | participant_id), REML; median of {a.repeat} fits in one process "
          f"(data loading not timed)")
    head = f"{'tool':<27}{'participants':>13}{'obs':>9}{'median s':>11}{'x rmstudy':>11}  estimates vs rmstudy"
    print(head)
    print("-" * len(head))
    last = None
    for n, n_obs, tool, res in results:
        if last is not None and n != last:
            print()
        last = n
        if res.get("status") == "ok":
            m = med[(n, tool)]
            ratio = m / med[(n, "rmstudy.mixed_model")]
            check = "(reference)" if tool == "rmstudy.mixed_model" else agreement(res, refs[n])
            if tool.startswith("lmerTest") and "df" in res:
                dfr = np.max(np.abs(np.array(res["df"]) - refs[n]["df"]) / np.array(refs[n]["df"]))
                check += f"; df rel diff {dfr:.0e}"
            if res.get("warnings"):
                check += f"; {len(res['warnings'])} warning(s): {res['warnings'][0][:60]}"
            print(f"{tool:<27}{n:>13,}{n_obs:>9,}{m:>11.4f}{ratio:>11.3f}  {check}")
        else:
            label = "skipped" if res.get("status") == "skipped" else "not available"
            print(f"{tool:<27}{n:>13,}{n_obs:>9,}{label:>22}  {res.get('reason', 'no result')}")

    big = max(a.sizes)
    print()
    print(f"target ratios at {big:,} participants" + ("" if big == 100_000 else " (the largest size run; the "
                                                     "targets are stated at 100,000)"))
    rms = med[(big, "rmstudy.mixed_model")]

    def line(label, other, target):
        if other is None:
            print(f"  {label:<52}{'n/a':>9}   target <= {target}")
            return
        r = rms / other
        print(f"  {label:<52}{r:>9.4f}   target <= {target}: {'met' if r <= target else 'NOT met'}")

    line("rmstudy / lme4::lmer", med.get((big, "lme4::lmer")), 0.05)
    line("rmstudy / lmerTest::lmer + summary (like for like)", med.get((big, "lmerTest::lmer + summary")), 0.05)
    peers_ok = [(med[(big, p)], p) for p in PEERS if (big, p) in med]
    if peers_ok:
        t, p = min(peers_ok)
        line(f"rmstudy / fastest peer ({p})", t, 1)
    else:
        line("rmstudy / fastest peer (none available)", None, 1)


if __name__ == "__main__":
    main()
