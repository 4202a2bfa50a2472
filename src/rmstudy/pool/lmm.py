"""The pooled linear mixed model with a cohort random effect: a cross-check of the meta-analysis on raw data.

When the cohorts' raw data are at hand (``rmstudy pool RUN_DIR... --raw COHORT_DIR...``), each pooled survey
hypothesis on the raw scale (``difference_in_change``: the same instrument in every cohort) is fitted once more,
on all cohorts' participants together::

    score ~ arm * wave + (1 | cohort) + (1 | cohort:participant)      REML, Satterthwaite df (lme4 / lmerTest)

with the rows of each cohort's own analysis (its population, its scoring; :func:`rmstudy.analysis.hypotheses.
analyse_survey_hypothesis`) at the two waves of its contrast, relabelled ``base`` and ``later``. The
``arm[program]:wave[later]`` coefficient is the pooled difference in change. It is a cross-check, not a second
answer: the cohort intercept absorbs level differences between cohorts, but the model has one programme effect
for all cohorts (no random slope: with a handful of cohorts it is rarely estimable), so it sits close to the
common-effect (FE) meta-analysis and its SE is smaller than the random-effects one when the cohorts differ
(tau2 > 0). ``difference_from_meta`` and ``difference_from_fe`` say how far apart they are.

A raw-data folder is matched to a pooled study by the SHA-256 of its input files (results.json ``inputs``), so a
folder that is not the data a run analysed is listed in ``unmatched`` and not used. Checked against
``lmerTest::lmer`` (tests/reference/make_pool_lmm_reference.R).
"""

from __future__ import annotations

__all__ = ["LMM_FORMULA", "lmm_cross_check", "load_raw", "pooled_long"]

from pathlib import Path

import numpy as np
import pandas as pd

from rmstudy.contract.provenance import input_hashes
from rmstudy.errors import CohortError, ModelError, Problem
from rmstudy.pool.sources import PoolError, canonical_population, inputs_sha256

LMM_FORMULA = "score ~ arm * wave + (1 | cohort) + (1 | cohort:participant)"
TERM = "arm[program]:wave[later]"


def _raw_cohorts(cohort_dirs) -> list[tuple[str, Path]]:
    """(inputs_sha256, folder) of each raw-data folder, as results.json would record its input files."""
    from rmstudy.contract.cohort import RUN_INPUT_FILES

    out = []
    for d in cohort_dirs:
        d = Path(d)
        if not (d / "study.yaml").is_file():
            raise PoolError(Problem(str(d), "not a cohort folder (no study.yaml)",
                                    "give --raw the cohort folders the runs analysed (the folder given to rmstudy run)"))
        out.append((inputs_sha256(input_hashes(d, RUN_INPUT_FILES)), d))
    return out


def load_raw(folder: Path) -> tuple:
    """(cohort, scores) of a raw-data folder, loaded and scored once for all its hypotheses.

    Parameters
    ----------
    folder : Path
        A cohort folder (study.yaml, codebook.yaml and the data).

    Returns
    -------
    (Cohort, DataFrame)
        The analysis cohort and its scale scores.
    """
    from rmstudy.contract.cohort import analysis_cohort
    from rmstudy.stats.scoring import score_scales

    cohort = analysis_cohort(folder)
    return cohort, score_scales(cohort.responses, cohort.codebook)


def pooled_long(cohorts: list[tuple[str, object, pd.DataFrame]], hypothesis: str, match: str = "id",
                population: dict | None = None) -> pd.DataFrame:
    """The analysed rows of ``hypothesis`` in every cohort, at its contrast's two waves: columns ``cohort,
    participant, arm, wave`` (``base`` / ``later``) and ``score``. ``cohorts`` is a list of (label, cohort,
    scores) (:func:`load_raw`); with ``match="outcome"``, ``hypothesis`` names the outcome and each cohort's first
    survey hypothesis on it with the same ``population`` (the meta-analysis pools by outcome and population) is
    used.

    Parameters
    ----------
    cohorts : list of (str, Cohort, DataFrame)
    hypothesis : str
    match : str
        ``id`` or ``outcome``.
    population : dict, optional
        With ``match="outcome"``: the pooled entry's population filter.

    Returns
    -------
    DataFrame
    """
    from rmstudy.analysis.hypotheses import analyse_survey_hypothesis

    parts = []
    for label, cohort, scores in cohorts:
        hs = [h for h in cohort.study.hypotheses if not h.is_retention
              and (h.id == hypothesis if match == "id" else h.outcome == hypothesis
                   and canonical_population(h.population) == canonical_population(population or {}))]
        if not hs:
            raise PoolError(Problem(label, f"the plan has no survey hypothesis {hypothesis}",
                                    "give --raw only the cohorts whose runs are pooled"))
        h = hs[0]
        try:
            _, _, _, data = analyse_survey_hypothesis(cohort, scores, h)
        except CohortError as e:
            raise PoolError(e.problems) from None
        except ModelError as e:
            raise PoolError(Problem(label, f"{h.id}'s model could not be fitted for the cross-check: {e}",
                                    "pool without --raw for this hypothesis")) from None
        base, later = h.contrast
        d = data[data["wave"].astype(str).isin([base, later])]
        parts.append(pd.DataFrame({
            "cohort": label, "participant": label + ":" + d["participant_id"].astype(str),
            "arm": d["arm"].astype(str).to_numpy(),
            "wave": np.where(d["wave"].astype(str) == base, "base", "later"),
            "score": d["score"].to_numpy(float)}))
    return pd.concat(parts, ignore_index=True)


def _fit(long: pd.DataFrame, level: float) -> dict:
    from rmstudy.stats.models.mixed import mixed_model

    tab, fit = mixed_model(long, "score", subject="participant", within="wave", between="arm",
                           between_ref="control", alpha=1 - level, return_fit=True, cluster="cohort",
                           within_order=["base", "later"])
    row = tab.set_index("term").loc[TERM]
    vc = fit.variance_components()
    return {"estimate": float(row["estimate"]), "se": float(row["se"]), "df": float(row["df"]),
            "t": float(row["t"]), "p_value": float(row["p_value"]), "ci_low": float(row["ci_low"]),
            "ci_high": float(row["ci_high"]), "tau2_cohort": vc["tau2_pair"],
            "tau2_participant": vc["tau2_participant"], "sigma2": vc["sigma2"],
            "reml_criterion": vc["reml_criterion"], "singular": vc["singular"], "n_obs": vc["n_obs"],
            "n_participants": vc["n_participants"], "n_cohorts": vc["n_pairs"]}


def _fe_estimate(h: dict) -> float:
    w = np.array([1 / s["se"] ** 2 for s in h["studies"]])
    y = np.array([s["estimate"] for s in h["studies"]])
    return float(w @ y / w.sum())


def lmm_cross_check(pooled: dict, cohort_dirs, level: float | None = None, hypotheses=None) -> dict:
    """The ``lmm_cross_check`` entry of pooled.json for the raw-data folders ``cohort_dirs`` (module notes).

    Returns ``{"model", "term", "hypotheses": [...], "skipped": [...], "unmatched": [...]}``: one entry per pooled
    hypothesis on the raw scale whose every study has its raw data, with the fit and its distance from the
    meta-analysis; ``skipped`` names the others and why; ``unmatched`` the folders no pooled study analysed.
    ``hypotheses`` limits the fits to those pooled hypotheses (default: all).

    Parameters
    ----------
    pooled : dict
        The pooled.json mapping.
    cohort_dirs : iterable of folders
        The raw-data folders (``--raw``).
    level : float, optional
        Default: the pooling's level.
    hypotheses : iterable of str, optional

    Returns
    -------
    dict
    """
    raw = _raw_cohorts(cohort_dirs)
    by_hash = {h: d for h, d in raw}
    loaded: dict[str, tuple] = {}
    out, skipped = [], []
    match = pooled["parameters"]["match"]
    for h in pooled["hypotheses"]:
        if hypotheses is not None and h["hypothesis"] not in hypotheses:
            continue
        if h["measure"] != "difference_in_change":
            skipped.append({"hypothesis": h["hypothesis"], "reason": f"pooled on {h['measure']}: the pooled model "
                            "needs one instrument's raw scores (and survey data)"})
            continue
        missing = [s["study"] for s in h["studies"] if s.get("inputs_sha256") not in by_hash]
        if missing:
            skipped.append({"hypothesis": h["hypothesis"], "reason": "no raw data for " + ", ".join(missing)})
            continue
        for s in h["studies"]:
            if s["inputs_sha256"] not in loaded:
                loaded[s["inputs_sha256"]] = load_raw(by_hash[s["inputs_sha256"]])
        cohorts = [(s["study"], *loaded[s["inputs_sha256"]]) for s in h["studies"]]
        key = h["hypothesis"] if match == "id" else h["outcome"]
        fit = _fit(pooled_long(cohorts, key, match, h.get("population")), level or h["level"])
        fe = _fe_estimate(h)
        out.append({"hypothesis": h["hypothesis"], "studies": [c[0] for c in cohorts], **fit,
                    "meta_estimate": h["estimate"], "meta_se": h["se"], "fe_estimate": fe,
                    "difference_from_meta": fit["estimate"] - h["estimate"], "difference_from_fe": fit["estimate"] - fe})
    analysed = {s.get("inputs_sha256") for h in pooled["hypotheses"] for s in h["studies"]}
    unmatched = [{"folder": d.name, "reason": "its input files match no pooled run (not the data a run analysed)"}
                 for hsh, d in raw if hsh not in analysed]
    return {"model": LMM_FORMULA + "; REML, Satterthwaite df", "term": TERM, "hypotheses": out,
            "skipped": skipped, "unmatched": unmatched}
