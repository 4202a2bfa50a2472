"""Simulate a reverse-mentoring cohort with known truth (demo data, tests, power).

The generating model, per scale and participant:

* latent baseline  eta_pre ~ N(mu_role, 1);
* latent follow-up eta_post = rho * eta_pre + sqrt(1 - rho^2) * z + trend + effect, where ``effect`` (in latent SD
  units, i.e. d) applies to programme members of the roles the effect names;
* item j answers round(mid + spread * (lambda_j eta + sqrt(1 - lambda_j^2) e_j)), clipped to the codebook range;
  reverse-keyed items are stored reversed.

Because rounding and clipping make the observed scale non-linear in eta, the truth file also gives each effect in
the scale's own units: the expected difference in change computed by Monte Carlo with common random numbers
(``raw_effect``), which is what ``score ~ arm * wave`` estimates.

Retention: voluntary exits follow an exponential hazard per role (12-month exit ``exit_12m``) multiplied by
``hazard_ratio`` for programme members; involuntary exits compete with a constant hazard. Follow-up is censored at
the plan's censor date.
"""

from __future__ import annotations

__all__ = ["simulate_cohort", "simulate_retention", "DEMO_SCALES", "DEMO_EFFECTS", "write_demo"]

import datetime as _dt
from pathlib import Path

import numpy as np
import pandas as pd

from rmstudy.contract.cohort import save_cohort
from rmstudy.contract.jsonio import write_json
from rmstudy.simulate.humility import (ACTOR_PARTNER_EFFECTS, HUMILITY_SCALES, actor_partner_shift,
                                       actor_partner_truth, add_humility_scales, humility_stream, partner_index,
                                       simulate_pairs)

DEMO_SEED = 20260105
START = _dt.date(2025, 1, 6)

DEMO_SCALES = {
    "bias_older": {
        "label": "Bias about older workers (juniors' view)",
        "citation": "Item codes only. Modelled on the Fraboni Scale of Ageism short form "
                    "(Fraboni, Saltstone & Hughes 1990; Rupp, Vodanovich & Credé 2005), which is copyrighted.",
        "n_items": 9, "min": 1, "max": 5, "reverse_idx": [2, 5, 8], "prefix": "fsa",
        "anchors": {1: "Strongly disagree", 2: "Disagree", 3: "Neither", 4: "Agree", 5: "Strongly agree"},
        "mu": {"junior": 0.0, "senior": -0.2}, "higher_is": "more bias", "favourable": "low",
    },
    "bias_younger": {
        "label": "Bias about younger workers (seniors' view)",
        "citation": "Item codes only. Modelled on the Workplace Ambivalent Youngism Scale "
                    "(Schmitz et al. 2023) and Francioli & North (2021); confirm item counts in the sources.",
        "n_items": 8, "min": 1, "max": 5, "reverse_idx": [3, 7], "prefix": "ays",
        "anchors": {1: "Strongly disagree", 2: "Disagree", 3: "Neither", 4: "Agree", 5: "Strongly agree"},
        "mu": {"junior": -0.2, "senior": 0.0}, "higher_is": "more bias", "favourable": "low",
    },
    "engagement": {
        "label": "Work engagement (UWES-9)",
        "citation": "Item codes only. Utrecht Work Engagement Scale, 9-item version (Schaufeli, Bakker & Salanova 2006); "
                    "free for non-commercial research.",
        "n_items": 9, "min": 0, "max": 6, "reverse_idx": [], "prefix": "uwes",
        "anchors": {0: "Never", 1: "Almost never", 2: "Rarely", 3: "Sometimes", 4: "Often", 5: "Very often", 6: "Always"},
        "subscales": {"vigor": [1, 4, 8], "dedication": [2, 3, 5], "absorption": [6, 7, 9]},
        "mu": {"junior": 0.0, "senior": 0.2}, "higher_is": "more engaged",
    },
    "turnover_intention": {
        "label": "Turnover intention (Michigan OAQ)",
        "citation": "Item codes only. Michigan Organizational Assessment Questionnaire, intention to turnover "
                    "(Cammann, Fichman, Jenkins & Klesh 1979).",
        "n_items": 3, "min": 1, "max": 7, "reverse_idx": [2], "prefix": "oaq_ti", "min_answered": 0.66,
        "anchors": {1: "Strongly disagree", 4: "Neither", 7: "Strongly agree"},
        "mu": {"junior": 0.2, "senior": -0.2}, "higher_is": "more intention to leave", "favourable": "low",
    },
}

IPIP_OPENNESS = {   # IPIP Big-Five Factor Markers, Intellect/Imagination (public domain, ipip.ori.org)
    1: "Have a rich vocabulary.", 2: "Have difficulty understanding abstract ideas.", 3: "Have a vivid imagination.",
    4: "Am not interested in abstract ideas.", 5: "Have excellent ideas.", 6: "Do not have a good imagination.",
    7: "Am quick to understand things.", 8: "Use difficult words.", 9: "Spend time reflecting on things.",
    10: "Am full of ideas."}

# Secondary outcomes and moderators, simulated from their own random stream after the primary
# instruments, so the primary instruments' answers do not depend on them.
DEMO_EXTRA_SCALES = {
    "openness": {
        "label": "Openness to experience (IPIP Intellect/Imagination, 10 items)", "kind": "trait",
        "citation": "Goldberg et al. (2006), International Personality Item Pool; public domain.",
        "n_items": 10, "min": 1, "max": 5, "reverse_idx": [2, 4, 6], "prefix": "ipip_o",
        "anchors": {1: "Very inaccurate", 2: "Moderately inaccurate", 3: "Neither", 4: "Moderately accurate",
                    5: "Very accurate"}, "item_text": IPIP_OPENNESS, "higher_is": "more open"},
    "relationship_quality": {
        "label": "Mentoring relationship quality (pair members, after the programme)", "kind": "relationship",
        "citation": "Item codes only. Modelled on Allen & Eby (2003) relationship quality items.",
        "n_items": 5, "min": 1, "max": 5, "reverse_idx": [], "prefix": "rq",
        "anchors": {1: "Strongly disagree", 3: "Neither", 5: "Strongly agree"}, "higher_is": "better relationship"},
    "digital_confidence": {
        "label": "Digital confidence (seniors)", "kind": "outcome",
        "citation": "Item codes only. Modelled on the Digital Self-Efficacy Scale (Ulfert-Blank & Schmidt 2022); check licence.",
        "n_items": 8, "min": 1, "max": 5, "reverse_idx": [], "prefix": "dse", "mu": {"junior": 0.5, "senior": -0.3},
        "anchors": {1: "Not at all confident", 3: "Moderately confident", 5: "Completely confident"},
        "higher_is": "more confident"},
    "leadership_self_efficacy": {
        "label": "Leadership self-efficacy (juniors)", "kind": "outcome",
        "citation": "Item codes only. Modelled on the Leadership Self-Efficacy scale (Bobbio & Manganelli 2009).",
        "n_items": 6, "min": 1, "max": 7, "reverse_idx": [], "prefix": "lse", "mu": {"junior": -0.3, "senior": 0.4},
        "anchors": {1: "Strongly disagree", 4: "Neither", 7: "Strongly agree"}, "higher_is": "more self-efficacy"},
    "psych_safety": {
        "label": "Psychological safety across levels", "kind": "outcome",
        "citation": "Item codes only. Edmondson (1999) team psychological safety, 7 items, items 1, 3, 5 reversed.",
        "n_items": 7, "min": 1, "max": 7, "reverse_idx": [1, 3, 5], "prefix": "ps", "mu": {"junior": -0.1, "senior": 0.1},
        "anchors": {1: "Very inaccurate", 4: "Neither", 7: "Very accurate"}, "higher_is": "safer"},
}
# effect on the latent outcome for programme members: d + b_openness * z(openness at baseline)
# + b_relationship * z(relationship quality) + b_sessions * (sessions - mean)
DEMO_EXTRA_EFFECTS = {
    "digital_confidence": {"d": 0.45, "roles": ["senior"], "b_openness": 0.10, "b_relationship": 0.15, "b_sessions": 0.03},
    "leadership_self_efficacy": {"d": 0.30, "roles": ["junior"], "b_openness": 0.10, "b_relationship": 0.10,
                                 "b_sessions": 0.03},
    "psych_safety": {"d": 0.15, "roles": ["junior", "senior"], "b_openness": 0.0, "b_relationship": 0.15,
                     "b_sessions": 0.0},
}

# latent d; roles the effect applies to
DEMO_EFFECTS = {
    "bias_older": {"d": -0.30, "roles": ["junior"]},
    "bias_younger": {"d": -0.20, "roles": ["senior"]},
    "engagement": {"d": 0.20, "roles": ["junior", "senior"]},
    "turnover_intention": {"d": -0.20, "roles": ["junior", "senior"]},
}

DEMO_RETENTION = {"exit_12m": {"junior": 0.20, "senior": 0.08}, "involuntary_12m": 0.04,
                  "hazard_ratio": {"junior": 0.75, "senior": 0.90}}


def _item_codes(name: str, spec: dict) -> list[str]:
    return [f"{spec['prefix']}_{k:02d}" for k in range(1, spec["n_items"] + 1)]


def _loadings(spec: dict, rng) -> np.ndarray:
    return np.round(rng.uniform(0.65, 0.80, spec["n_items"]), 3)


def _answers(eta: np.ndarray, spec: dict, lam: np.ndarray, rng) -> np.ndarray:
    lo, hi = spec["min"], spec["max"]
    mid, spread = (lo + hi) / 2, (hi - lo) / 4.5
    e = rng.standard_normal((eta.size, lam.size))
    ystar = eta[:, None] * lam[None, :] + e * np.sqrt(1 - lam**2)[None, :]
    return np.clip(np.round(mid + spread * ystar), lo, hi)


def _raw_effect(spec: dict, lam: np.ndarray, d: float, mu: float, rho: float, trend: float, n: int, seed: int) -> float:
    """Expected difference in change in scale units (common random numbers)."""
    rng = np.random.default_rng(seed)
    pre = rng.normal(mu, 1, n)
    post = rho * pre + np.sqrt(1 - rho**2) * rng.standard_normal(n) + trend + mu * (1 - rho)
    e = rng.standard_normal((n, lam.size))
    lo, hi = spec["min"], spec["max"]
    mid, spread = (lo + hi) / 2, (hi - lo) / 4.5

    def score(eta):
        ystar = eta[:, None] * lam[None, :] + e * np.sqrt(1 - lam**2)[None, :]
        return np.clip(np.round(mid + spread * ystar), lo, hi).mean(axis=1).mean()

    return float(score(post + d) - score(post))


def _exit_times(rng, h_vol, h_inv: float, n: int):
    """Latent days to a voluntary and to an involuntary exit (competing exponential hazards per day)."""
    return rng.exponential(1 / h_vol), rng.exponential(1 / h_inv, n)


def simulate_retention(seed: int, n_per_arm: int = 300, hazard_ratio: float = 0.75, exit_12m: float = 0.20,
                       involuntary_12m: float = 0.04, horizon: int = 365) -> pd.DataFrame:
    """Employment outcomes alone, for retention simulation checks: the time-to-event table (``arm, entry, time,
    event, status``) that :func:`rmstudy.retention_data` would build, exits on whole days, censored at ``horizon``.

    Parameters
    ----------
    seed, n_per_arm, horizon : int
    hazard_ratio, exit_12m, involuntary_12m : float
        The programme's hazard ratio of voluntary exit; the voluntary and involuntary exit shares by ``horizon``.

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> d = simulate_retention(1, n_per_arm=50)
    >>> len(d), d.groupby("arm")["event"].sum().to_dict(), float(d["time"].max())
    (100, {'control': 12, 'program': 6}, 365.0)
    """
    rng = np.random.default_rng(seed)
    n = 2 * n_per_arm
    arm = np.array(["program"] * n_per_arm + ["control"] * n_per_arm)
    h_vol = -np.log(1 - exit_12m) / horizon * np.where(arm == "program", hazard_ratio, 1.0)
    h_inv = -np.log(1 - involuntary_12m) / horizon
    t_vol, t_inv = _exit_times(rng, h_vol, h_inv, n)
    t = np.ceil(np.minimum(t_vol, t_inv))
    left = t <= horizon
    status = np.where(left, np.where(t_vol < t_inv, 1, 2), 0)
    return pd.DataFrame({"arm": arm, "entry": 0.0, "time": np.where(left, t, horizon).astype(float),
                         "event": (status == 1).astype(int), "status": status})


def _add_extra_scales(responses, codebook, truth_scales, extra_scales, extra_effects, seed, pid, arm, role, pair,
                      sessions, rho, trend, item_missing, truth_mc, actor_partner=None, humility=None):
    """Secondary outcomes and moderators, from their own random stream (in place). ``actor_partner`` (outcome →
    latent moderator → actor/partner coefficients) adds the planted actor–partner moderation of
    :mod:`rmstudy.simulate.humility`; ``humility`` is the latent humility it reads."""
    rng = np.random.default_rng(seed + 7)
    n = len(pid)
    index = {p: i for i, p in enumerate(pid)}
    prog = arm == "program"
    z = {}
    # a pair's relationship quality is shared by its two members (ICC about .35)
    pair_codes = pd.factorize(np.where(prog, pair, pid))[0]
    pair_u = rng.standard_normal(pair_codes.max() + 1)[pair_codes]
    z["relationship"] = np.where(prog, np.sqrt(0.35) * pair_u + np.sqrt(0.65) * rng.standard_normal(n), 0.0)
    sess = np.nan_to_num(sessions, nan=0.0)
    sess_c = np.where(prog, sess - sess[prog].mean(), 0.0)
    partner = partner_index(arm, pair)
    humility = np.zeros(n) if humility is None else humility
    for k, (name, spec) in enumerate(extra_scales.items()):
        lam = _loadings(spec, rng)
        codes = _item_codes(name, spec)
        kind = spec["kind"]
        if kind == "trait":
            pre = rng.standard_normal(n)
            post = 0.8 * pre + 0.6 * rng.standard_normal(n)
            z["openness"] = pre
        elif kind == "relationship":
            pre = np.full(n, np.nan)
            post = z["relationship"]
        else:
            mu = np.array([spec["mu"][r] for r in role])
            e = extra_effects.get(name, {"d": 0.0, "roles": []})
            applies = prog & np.isin(role, e["roles"])
            ap = actor_partner_shift((actor_partner or {}).get(name, {}),
                                     {"openness": z.get("openness", np.zeros(n)), "humility": humility}, partner)
            eff = (e["d"] + e.get("b_openness", 0) * z.get("openness", 0) + e.get("b_relationship", 0) * z["relationship"]
                   + e.get("b_sessions", 0) * sess_c + ap) * applies
            pre = rng.normal(mu, 1)
            post = rho * pre + np.sqrt(1 - rho**2) * rng.standard_normal(n) + trend + mu * (1 - rho) + eff
        ans = {}
        for w, eta in (("pre", pre), ("post", post)):
            a = _answers(np.nan_to_num(eta), spec, lam, rng)
            a[~np.isfinite(eta)] = np.nan
            if kind == "relationship":
                a[~prog] = np.nan
            a[rng.random(a.shape) < item_missing] = np.nan
            for j in [i - 1 for i in spec["reverse_idx"]]:
                a[:, j] = spec["min"] + spec["max"] - a[:, j]
            ans[w] = a
        for w in ("pre", "post"):
            at = (responses["wave"] == w).to_numpy()
            idx = responses.loc[at, "participant_id"].map(index).to_numpy()
            for j, c in enumerate(codes):
                col = responses[c].to_numpy(float) if c in responses else np.full(len(responses), np.nan)
                col[at] = ans[w][idx, j]
                responses[c] = col
        rev = [codes[i - 1] for i in spec["reverse_idx"]]
        entry = {"label": spec["label"], "citation": spec["citation"], "min": spec["min"], "max": spec["max"],
                 "items": codes, "reverse": rev, "min_answered": 0.8,
                 "anchors": {int(a): t for a, t in spec["anchors"].items()}, "higher_is": spec["higher_is"]}
        if spec.get("item_text"):
            entry["item_text"] = {codes[i - 1]: t for i, t in spec["item_text"].items()}
        codebook["scales"][name] = entry
        if kind == "outcome":
            e = extra_effects.get(name, {"d": 0.0, "roles": []})
            raw = {r: round(_raw_effect(spec, lam, e["d"], spec["mu"][r], rho, trend, truth_mc, seed + 2000 + k), 6)
                   for r in e["roles"]}
            truth_scales[name] = {"d_latent": e["d"], "roles": e["roles"], "loadings": lam.tolist(), "raw_effect": raw,
                                  "reverse": rev, "moderation_latent": {m: e.get(f"b_{m}", 0.0)
                                                                        for m in ("openness", "relationship", "sessions")}}
        else:
            truth_scales[name] = {"kind": kind, "loadings": lam.tolist(), "reverse": rev}


def _actor_partner_truth(truth_scales: dict, extra_scales: dict, extra_effects: dict, ap: dict, rho: float,
                         trend: float, truth_mc: int, seed: int) -> None:
    """truth.json's ``actor_partner`` per secondary outcome: the planted latent coefficients (the actor openness
    term ``b_openness`` included) and, by Monte Carlo, the slopes the actor–partner model estimates."""
    mods = {m: (spec, truth_scales[m]["loadings"]) for m, spec in {**extra_scales, **HUMILITY_SCALES}.items()
            if m in ("openness", "honesty_humility", "expressed_humility")}
    for k, (name, spec) in enumerate(extra_scales.items()):
        if spec["kind"] != "outcome" or name not in extra_effects:
            continue
        e = extra_effects[name]
        coefs = {m: {"actor": (e.get("b_openness", 0.0) if m == "openness" else 0.0)
                     + ap.get(name, {}).get(m, {}).get("actor", 0.0),
                     "partner": ap.get(name, {}).get(m, {}).get("partner", 0.0)} for m in ("openness", "humility")}
        outcome = {"spec": spec, "loadings": truth_scales[name]["loadings"], "d": e["d"], "roles": e["roles"],
                   "mu": spec["mu"]}
        sim = simulate_pairs(np.random.default_rng(np.random.SeedSequence([int(seed), 18, 1000 + k])),
                             max(truth_mc // 2, 2000), outcome, mods, coefs, rho, trend,
                             e.get("b_relationship", 0.0), e.get("b_sessions", 0.0))
        truth_scales[name]["actor_partner"] = {"latent": coefs, "observed": actor_partner_truth(sim, e["roles"], mods)}


def _participants(rng, n_pairs: int, n_control_juniors: int, n_control_seniors: int) -> pd.DataFrame:
    """participants.csv: programme pairs (junior + senior), then control juniors and seniors; ids shuffled."""
    n_prog = 2 * n_pairs
    n = n_prog + n_control_juniors + n_control_seniors
    arm = np.array(["program"] * n_prog + ["control"] * (n_control_juniors + n_control_seniors))
    role = np.array(["junior", "senior"] * n_pairs + ["junior"] * n_control_juniors + ["senior"] * n_control_seniors)
    pair = np.array([f"R{k // 2 + 1:03d}" for k in range(n_prog)] + [""] * (n - n_prog), dtype=object)
    order = rng.permutation(n)          # ids carry no information about arm or role
    pid = np.empty(n, dtype=object)
    pid[order] = [f"P{k + 1:04d}" for k in range(n)]
    junior = role == "junior"
    age = np.where(junior, rng.normal(27, 3, n).clip(21, 35), rng.normal(50, 6, n).clip(38, 64)).round(0)
    tenure = np.where(junior, rng.gamma(2.0, 1.2, n).clip(0.2, 10), rng.gamma(4.0, 3.5, n).clip(2, 35)).round(1)
    depts = np.array(["Finance", "Marketing", "Operations", "Sales", "Technology", "People"])
    dept = depts[rng.integers(0, len(depts), n)]
    gender = rng.choice(np.array(["woman", "man", "another"]), n, p=[0.48, 0.49, 0.03])
    sessions = np.where(arm == "program", rng.binomial(12, 0.8, n), 0).astype(float)
    sessions[arm == "control"] = np.nan
    return pd.DataFrame({"participant_id": pid, "arm": arm, "role": role, "pair_id": pair, "age": age,
                         "department": dept, "gender": gender, "tenure_years": tenure,
                         "sessions_attended": sessions})


def _employment(rng, P: pd.DataFrame, retention: dict, horizon: int) -> tuple[pd.DataFrame, np.ndarray]:
    """employment.csv (hire dates from tenure; competing voluntary and involuntary exits) and each exit day
    counted from the programme start."""
    n, role, arm = len(P), P["role"].to_numpy(), P["arm"].to_numpy()
    hire = np.array([START - _dt.timedelta(days=int(round(t * 365.25)) + 1) for t in P["tenure_years"]])
    h_vol = np.array([-np.log(1 - retention["exit_12m"][r]) / horizon for r in role])
    hr = np.array([retention["hazard_ratio"][r] if a == "program" else 1.0 for r, a in zip(role, arm)])
    h_inv = -np.log(1 - retention["involuntary_12m"]) / horizon
    t_vol, t_inv = _exit_times(rng, h_vol * hr, h_inv, n)
    # a few leave in the days between the baseline survey and the programme start
    early = rng.random(n) < 0.01
    t_exit = np.minimum(t_vol, t_inv)
    t_exit = np.where(early, -rng.integers(1, 6, n), np.ceil(t_exit))
    reason = np.where(t_vol < t_inv, "voluntary", "involuntary").astype(object)
    left = t_exit <= horizon
    exit_date = np.array([START + _dt.timedelta(days=int(t)) if lft else None for t, lft in zip(t_exit, left)], dtype=object)
    reason[~left] = ""
    employment = pd.DataFrame({"participant_id": P["participant_id"].to_numpy(), "hire_date": pd.to_datetime(hire),
                               "exit_date": pd.to_datetime(pd.Series(exit_date)), "exit_reason": reason})
    return employment, t_exit


def _codebook_entry(spec: dict, codes: list[str], rev: list[str]) -> dict:
    """codebook.yaml's entry for one simulated scale."""
    entry = {"label": spec["label"], "citation": spec["citation"], "min": spec["min"], "max": spec["max"],
             "items": codes, "reverse": rev, "min_answered": spec.get("min_answered", 0.8),
             "anchors": {int(a): t for a, t in spec["anchors"].items()}}
    if spec.get("higher_is"):
        entry["higher_is"] = spec["higher_is"]
    if spec.get("favourable"):
        entry["favourable"] = spec["favourable"]
    if spec.get("subscales"):
        entry["subscales"] = {s: [codes[i - 1] for i in idx] for s, idx in spec["subscales"].items()}
    return entry


def _survey_scales(rng, P: pd.DataFrame, scales: dict, effects: dict, rho: float, trend: float, truth_mc: int,
                   seed: int) -> tuple[dict, dict, dict, dict]:
    """Per scale: latent pre/post traits, the item answers (reverse-keyed items stored reversed), the codebook
    entry and the planted truth. Returns ``(codebook, truth_scales, latent_pre, item_cols)``."""
    n, role, arm = len(P), P["role"].to_numpy(), P["arm"].to_numpy()
    codebook: dict = {"scales": {}}
    truth_scales, latent, item_cols = {}, {}, {}
    for k, (name, spec) in enumerate(scales.items()):
        lam = _loadings(spec, rng)
        codes = _item_codes(name, spec)
        mu = np.array([spec["mu"][r] for r in role])
        eff = effects.get(name, {"d": 0.0, "roles": []})
        applies = (arm == "program") & np.isin(role, eff["roles"])
        pre = rng.normal(mu, 1)
        post = rho * pre + np.sqrt(1 - rho**2) * rng.standard_normal(n) + trend + mu * (1 - rho) + eff["d"] * applies
        latent[name] = pre
        ans = {w: _answers(eta, spec, lam, rng) for w, eta in (("pre", pre), ("post", post))}
        rev = [codes[i - 1] for i in spec["reverse_idx"]]
        for w in ("pre", "post"):
            for j, c in enumerate(codes):
                if c in rev:
                    ans[w][:, j] = spec["min"] + spec["max"] - ans[w][:, j]
        item_cols[name] = (codes, ans)
        codebook["scales"][name] = _codebook_entry(spec, codes, rev)
        raw = {}
        for r in eff["roles"]:
            mu_r = spec["mu"][r]
            raw[r] = round(_raw_effect(spec, lam, eff["d"], mu_r, rho, trend, truth_mc, seed + 1000 + k), 6)
        truth_scales[name] = {"d_latent": eff["d"], "roles": eff["roles"], "loadings": lam.tolist(),
                              "raw_effect": raw, "reverse": rev}
    return codebook, truth_scales, latent, item_cols


def _responses(rng, pid, latent: dict, item_cols: dict, scales: dict, t_exit, dropout: float, item_missing: float,
               post_day: int) -> pd.DataFrame:
    """responses.csv: everyone answers pre (the baseline survey was a condition of enrolment); post is missing for
    those who left before ``post_day`` and, MAR on baseline engagement, for ~``dropout`` more."""
    n = len(pid)
    pre_eng = latent[next(iter(scales))] if "engagement" not in latent else latent["engagement"]
    logit = np.log(dropout / (1 - dropout)) - 0.5 * pre_eng
    drop = rng.random(n) < 1 / (1 + np.exp(-logit))
    gone = np.array([(t < post_day) for t in t_exit])
    responds_post = ~drop & ~gone
    rows = []
    pre_day = rng.integers(-14, -6, n)
    post_on = rng.integers(post_day - 7, post_day + 8, n)
    for w, mask, days in (("pre", np.ones(n, bool), pre_day), ("post", responds_post, post_on)):
        df = pd.DataFrame({"participant_id": pid, "wave": w,
                           "submitted_on": pd.to_datetime([START + _dt.timedelta(days=int(d)) for d in days])})
        for name, (codes, ans) in item_cols.items():
            block = ans[w].copy()
            block[rng.random(block.shape) < item_missing] = np.nan
            for j, c in enumerate(codes):
                df[c] = block[:, j]
        rows.append(df[mask])
    return pd.concat(rows, ignore_index=True)


def _in_id_order(participants: pd.DataFrame, responses: pd.DataFrame, employment: pd.DataFrame):
    """The tables sorted as the files list them: participants and employment by id, responses by wave then id."""
    responses["_o"] = responses["participant_id"].str[1:].astype(int)
    responses = responses.sort_values(["wave", "_o"], ascending=[False, True]).drop(columns="_o").reset_index(drop=True)
    participants["_o"] = participants["participant_id"].str[1:].astype(int)
    order_p = participants["_o"].argsort(kind="stable")
    participants = participants.iloc[order_p].drop(columns="_o").reset_index(drop=True)
    employment = employment.iloc[order_p].reset_index(drop=True)
    return participants, responses, employment


def _not_enrolled(program: int, control: int) -> list[dict]:
    """Reasons for non-enrolment of the simulated invitees (the counts add up to invited minus enrolled)."""
    return [{"reason": "no time during the programme's months", "program": program // 2, "control": control // 2},
            {"reason": "did not answer the invitation", "program": program - program // 2,
             "control": control - control // 2}]


def _demo_plan(seed: int, n: int, n_prog: int, censor: _dt.date, waves: list[str], post_day: int,
               extra_scales: dict) -> dict:
    """study.yaml of a simulated cohort: the demo's hypotheses (H4–H6 only with the demo's extra scales)."""
    return {
        "schema_version": 2,
        "name": "Demo reverse-mentoring cohort (synthetic)",
        "description": "Synthetic cohort made by `rmstudy simulate` for the demo and the tests. Not real people.",
        "preregistration": "Synthetic demo: the plan below stands in for a registered plan.",
        "programme_start": START.isoformat(), "censor_date": censor.isoformat(),
        "waves": waves, "wave_offsets_days": {"pre": -10, "post": post_day},
        "alpha": 0.05, "anonymity_threshold": 5, "low_response_rate": 0.6, "reliability_threshold": 0.7,
        "seed": int(seed),
        "comparison_group": "Juniors and seniors from the same departments who were invited but did not join the programme "
                            "this year; they answered the same surveys at the same times.",
        "programme": {
            "description": "Junior employees mentored senior leaders one to one: on digital tools and social media, and "
                           "on how younger colleagues experience the workplace; each pair agreed its goals at the first "
                           "meeting.",
            "session_format": "one-to-one meetings, in person or by video",
            "session_length_minutes": 60, "sessions_planned": 12, "duration_weeks": 26,
            "matching": "HR paired each volunteer senior with a volunteer junior from another department, with no "
                        "reporting line between them; the senior's stated interests guided the choice.",
        },
        "flow": {"invited": {"program": int(round(n_prog * 1.12)), "control": int(round((n - n_prog) * 1.25))},
                 "not_enrolled_reasons": _not_enrolled(int(round(n_prog * 1.12)) - n_prog,
                                                       int(round((n - n_prog) * 1.25)) - (n - n_prog))},
        "retention": {"horizons_days": [182, 365]},
        "hypotheses": [
            {"id": "H1a", "label": "Juniors' bias about older workers falls more in the programme than in the comparison group",
             "question": "Did juniors' bias about older colleagues fall?",
             "outcome": "bias_older", "population": {"role": "junior"}, "contrast": ["pre", "post"],
             "direction": "decrease", "family": "primary", "sesoi": 0.2},
            {"id": "H1b", "label": "Seniors' bias about younger workers falls more in the programme than in the comparison group",
             "question": "Did seniors' bias about younger colleagues fall?",
             "outcome": "bias_younger", "population": {"role": "senior"}, "contrast": ["pre", "post"],
             "direction": "decrease", "family": "primary", "sesoi": 0.2},
            {"id": "H2", "label": "Engagement rises more in the programme than in the comparison group",
             "question": "Did engagement rise?",
             "outcome": "engagement", "population": {}, "contrast": ["pre", "post"],
             "direction": "increase", "family": "primary", "sesoi": 0.2},
            {"id": "H3", "label": "Programme juniors are less likely to leave voluntarily within 12 months",
             "question": "Did the programme keep younger talent?",
             "outcome": "retention", "population": {"role": "junior", "age": {"max": 35}},
             "direction": "increase", "family": "primary", "sesoi": 0.9, "sesoi_units": "hazard_ratio",
             "covariates": ["tenure_years", "department"]},
            {"id": "H3b", "label": "Turnover intention falls more in the programme than in the comparison group",
             "question": "Did intention to leave fall?",
             "outcome": "turnover_intention", "population": {}, "contrast": ["pre", "post"],
             "direction": "decrease", "family": "secondary", "sesoi": 0.2},
        ] + ([
            {"id": "H4", "label": "Seniors' digital confidence rises more in the programme than in the comparison group",
             "question": "Did seniors become more confident with digital tools?",
             "outcome": "digital_confidence", "population": {"role": "senior"}, "contrast": ["pre", "post"],
             "direction": "increase", "family": "secondary", "sesoi": 0.2,
             "moderators": ["openness", "relationship_quality", "sessions_attended", "honesty_humility",
                            "expressed_humility"]},
            {"id": "H5", "label": "Juniors' leadership self-efficacy rises more in the programme than in the comparison group",
             "question": "Did juniors gain confidence as leaders?",
             "outcome": "leadership_self_efficacy", "population": {"role": "junior"}, "contrast": ["pre", "post"],
             "direction": "increase", "family": "secondary", "sesoi": 0.2,
             "moderators": ["openness", "relationship_quality", "sessions_attended", "honesty_humility",
                            "expressed_humility"]},
            {"id": "H6", "label": "Psychological safety across levels rises more in the programme than in the comparison group",
             "question": "Did people feel safer speaking up across levels?",
             "outcome": "psych_safety", "population": {}, "contrast": ["pre", "post"],
             "direction": "increase", "family": "secondary", "sesoi": 0.2,
             "moderators": ["relationship_quality", "openness", "honesty_humility", "expressed_humility"],
             "cluster": "department"},
        ] if extra_scales else []),
    }


def simulate_cohort(seed: int = DEMO_SEED, n_pairs: int = 150, n_control_juniors: int = 150,
                    n_control_seniors: int = 150, effects: dict | None = None, retention: dict | None = None,
                    rho: float = 0.65, trend: float = 0.05, dropout: float = 0.15, item_missing: float = 0.03,
                    scales: dict | None = None, truth_mc: int = 200_000, extra_scales: dict | None = None,
                    extra_effects: dict | None = None, actor_partner: dict | bool = True):
    """Simulate a cohort from one random stream drawn in a fixed order (participants, employment, scales, responses,
    extra scales: a seed gives the same cohort); the humility instruments (with the demo's instruments only) come from
    a second stream (:mod:`rmstudy.simulate.humility`).

    Parameters
    ----------
    seed, n_pairs, n_control_juniors, n_control_seniors, truth_mc : int
    effects, retention, scales, extra_scales, extra_effects : dict, optional
        Default: the demo's.
    rho, trend, dropout, item_missing : float
    actor_partner : dict or bool, optional
        Planted on the secondary outcomes: outcome → latent moderator → ``{"actor", "partner"}``; ``True``: the
        humility module's ``ACTOR_PARTNER_EFFECTS`` (the default, whatever the seed); ``False``: none.

    Returns
    -------
    (dict, dict)
        ``tables`` (``participants``, ``responses``, ``employment`` DataFrames and the ``codebook`` and ``study``
        mappings, for :func:`rmstudy.contract.cohort.save_cohort`) and ``truth`` (JSON-able: everything planted).

    Examples
    --------
    >>> tables, truth = simulate_cohort(seed=1, n_pairs=5, n_control_juniors=5, n_control_seniors=5, truth_mc=1000)
    >>> tables["participants"]["arm"].value_counts().to_dict(), sorted(truth)
    ({'program': 10, 'control': 10}, ['design', 'notes', 'retention', 'scales', 'seed'])
    """
    rng = np.random.default_rng(seed)
    scales = DEMO_SCALES if scales is None else scales
    effects = DEMO_EFFECTS if effects is None else effects
    retention = DEMO_RETENTION if retention is None else retention
    horizon, post_day, waves = 365, 182, ["pre", "post"]
    participants = _participants(rng, n_pairs, n_control_juniors, n_control_seniors)
    employment, t_exit = _employment(rng, participants, retention, horizon)
    codebook, truth_scales, latent, item_cols = _survey_scales(rng, participants, scales, effects, rho, trend,
                                                               truth_mc, seed)
    pid = participants["participant_id"].to_numpy()
    responses = _responses(rng, pid, latent, item_cols, scales, t_exit, dropout, item_missing, post_day)
    if extra_scales is None:          # the demo's secondary outcomes and moderators, only with the demo's instruments
        extra_scales = DEMO_EXTRA_SCALES if scales is DEMO_SCALES else {}
    extra_effects = DEMO_EXTRA_EFFECTS if extra_effects is None else extra_effects
    ap = (ACTOR_PARTNER_EFFECTS if actor_partner else {}) if isinstance(actor_partner, bool) else actor_partner
    if extra_scales:
        hrng = humility_stream(seed)
        humility = hrng.standard_normal(len(pid))
        arm, pair = participants["arm"].to_numpy(), participants["pair_id"].to_numpy()
        _add_extra_scales(responses, codebook, truth_scales, extra_scales, extra_effects, seed, pid, arm,
                          participants["role"].to_numpy(), pair, participants["sessions_attended"].to_numpy(), rho,
                          trend, item_missing, truth_mc, actor_partner=ap, humility=humility)
        add_humility_scales(responses, codebook, truth_scales, hrng, pid, arm, pair, humility, item_missing)
        _actor_partner_truth(truth_scales, extra_scales, extra_effects, ap, rho, trend, truth_mc, seed)
    participants, responses, employment = _in_id_order(participants, responses, employment)
    study = _demo_plan(seed, len(participants), 2 * n_pairs, START + _dt.timedelta(days=horizon), waves, post_day,
                       extra_scales)
    truth = {"seed": int(seed), "design": {"n_pairs": n_pairs, "n_control_juniors": n_control_juniors,
                                           "n_control_seniors": n_control_seniors, "rho": rho, "trend": trend,
                                           "dropout": dropout, "item_missing": item_missing},
             "scales": truth_scales,
             "retention": {"hazard_ratio": retention["hazard_ratio"], "exit_12m": retention["exit_12m"],
                           "involuntary_12m": retention["involuntary_12m"]},
             "notes": "d_latent is the planted effect on the latent trait in SD units; raw_effect is the expected "
                      "difference in change (programme minus control, post minus pre) in the scale's own units, "
                      "by Monte Carlo with common random numbers; hazard_ratio is planted exactly."}
    tables = {"participants": participants, "responses": responses, "employment": employment,
              "codebook": codebook, "study": study}
    return tables, truth


def write_demo(out: str | Path, seed: int = DEMO_SEED, **kwargs) -> Path:
    """Simulate and write a cohort folder plus ``truth.json``.

    Parameters
    ----------
    out : str or Path
    seed : int
    **kwargs
        More arguments of :func:`simulate_cohort`. Without ``actor_partner``: planted, except in the shipped demo
        itself (``DEMO_SEED`` and the default sizes), whose pinned outcomes predate the plant.

    Returns
    -------
    Path
    """
    out = Path(out)
    if "actor_partner" not in kwargs:     # the shipped demo (default seed and sizes) predates the plant: none
        kwargs["actor_partner"] = not (seed == DEMO_SEED and not kwargs)
    tables, truth = simulate_cohort(seed=seed, **kwargs)
    save_cohort(out, tables["participants"], tables["responses"], tables["employment"], tables["codebook"], tables["study"])
    write_json(truth, out / "truth.json", sort_keys=True)
    return out
