"""Humility on both sides of the pair, and the actor–partner moderation planted by the simulator (issue #18).

Two instruments are added to a simulated cohort, drawn from their own random stream
(``numpy.random.SeedSequence([seed, 18])``) so that every value the simulator made before them stays the same:

* ``honesty_humility``: self-rated honesty–humility, answered by everyone at every wave (a trait: post = .8 pre +
  .6 new). Ten items chosen for this project from IPIP's public-domain HEXACO-parallel Honesty-Humility items
  (Ashton, Lee & Goldberg 2007), which IPIP publishes as four 10-item facet scales (40 items; no 10-item domain
  scale): 2–3 items per facet (:data:`IPIP_HH_FACETS`), odd codes from IPIP's + keyed and even codes from its
  – keyed lists, on IPIP's 1–5 accuracy scale. Item codes only;
* ``expressed_humility``: expressed humility as the pair or group partner sees it (Owens, Johnson & Mitchell 2013,
  an observer-report scale of three dimensions; 9 items, 1–5 agreement: count and format not checked against the
  article's text; item codes only), for programme members at the baseline wave. The score in a participant's row
  describes *that participant* as rated by the partner (the analyst moves a rating into the rated person's row).

The latent humility h ~ N(0, 1) is independent of openness; the partner's rating of it is .6 h + .8 u.

The planted moderation (``actor_partner``): for programme members of the roles an outcome's effect names, the
latent change gains ``sum_m b_actor[m] z_m(self) + b_partner[m] z_m(partner)`` for m in (openness, humility),
where z is the latent trait (openness at baseline). The shipped demo predates this: its outcomes keep only the
actor openness term (``b_openness``) and the other coefficients are 0 in its truth.json.

Because items are rounded and clipped and moderators are measured with error, truth.json also gives what
the actor–partner model estimates: per outcome, population (each role the effect names, and ``all`` when both)
and moderator scale, the population least-squares slopes of the observed change on the observed actor's and
partner's moderator scores, each standardised (:func:`actor_partner_truth`, Monte Carlo with
:func:`simulate_pairs`, the vectorised generator the slow recovery test uses too).
"""

from __future__ import annotations

__all__ = ["HUMILITY_SCALES", "IPIP_HH_FACETS", "ACTOR_PARTNER_EFFECTS", "MODERATOR_SCALES", "humility_stream", "partner_index",
           "actor_partner_shift", "add_humility_scales", "simulate_pairs", "population_slopes",
           "actor_partner_truth"]

import numpy as np
import pandas as pd

AGREE5 = {1: "Strongly disagree", 2: "Disagree", 3: "Neither agree nor disagree", 4: "Agree", 5: "Strongly agree"}
#: IPIP's response scale, its labels as ipip.ori.org's scoring instructions give them
ACCURATE5 = {1: "Very inaccurate", 2: "Moderately inaccurate", 3: "Neither inaccurate nor accurate",
             4: "Moderately accurate", 5: "Very accurate"}

#: the IPIP-HEXACO Honesty-Humility facet each ``ipip_hh`` item is drawn from (odd codes: + keyed in IPIP's key,
#: even codes: - keyed, so reverse-scored): at least two per facet, as the HEXACO-60 chose its ten per domain
IPIP_HH_FACETS = {1: "Sincerity", 2: "Sincerity", 3: "Fairness", 4: "Fairness", 5: "Greed-Avoidance",
                  6: "Greed-Avoidance", 7: "Modesty", 8: "Modesty", 9: "Fairness", 10: "Modesty"}

HUMILITY_SCALES = {
    "honesty_humility": {
        "label": "Honesty–humility (self-rated, 10 IPIP HEXACO-parallel items, 2–3 per facet)", "kind": "self",
        "citation": "Item codes only. Ten items chosen for this project from IPIP's public-domain items parallel to "
                    "the HEXACO-PI Honesty-Humility domain (Ashton, Lee & Goldberg 2007, Personality and Individual "
                    "Differences 42:1515-1526; key at ipip.ori.org/newHEXACO_PI_key.htm), which IPIP publishes as "
                    "four 10-item facet scales (40 items), not as a 10-item domain scale. Facets: items 01-02 "
                    "Sincerity, 03-04 and 09 Fairness, 05-06 Greed-Avoidance, 07-08 and 10 Modesty (at least two "
                    "per facet, as the HEXACO-60 chose its ten per domain: Ashton & Lee 2009, J Pers Assess "
                    "91:340); odd items from IPIP's + keyed, even items from its - keyed lists. IPIP's response "
                    "scale: 1 Very inaccurate to 5 Very accurate (ipip.ori.org/newScoringInstructions.htm). Which "
                    "item of each facet is used is for the study to fix: no wording is shipped.",
        "n_items": 10, "min": 1, "max": 5, "reverse_idx": [2, 4, 6, 8, 10], "prefix": "ipip_hh",
        "facets": IPIP_HH_FACETS, "anchors": ACCURATE5, "higher_is": "more honest and humble"},
    "expressed_humility": {
        "label": "Expressed humility, as the pair partner sees it (programme, baseline)", "kind": "partner_rated",
        "citation": "Item codes only. Expressed Humility Scale (Owens, Johnson & Mitchell 2013, Organization "
                    "Science 24(5):1517-1538, doi:10.1287/orsc.1120.0795), an observer-report measure (the "
                    "article's Study 1 develops and validates it) of three dimensions: viewing oneself accurately, "
                    "appreciating others' strengths, teachability. Rated by the pair partner; the score in a "
                    "participant's row describes that participant. Not confirmed: the item count (9) and the "
                    "response format (1-5, Strongly disagree to Strongly agree) were not checked against the "
                    "article's method section or item table; check both there before fielding the scale.",
        "n_items": 9, "min": 1, "max": 5, "reverse_idx": [], "prefix": "ehs",
        "anchors": AGREE5, "higher_is": "more humble, as the partner sees it"},
}

#: latent moderator of each moderator scale (openness is the simulator's existing IPIP Openness scale)
MODERATOR_SCALES = {"openness": "openness", "honesty_humility": "humility", "expressed_humility": "humility"}

#: planted for new cohorts (latent SD units of the outcome per latent SD of the moderator), on top of each
#: outcome's existing actor-openness coefficient ``b_openness``
ACTOR_PARTNER_EFFECTS = {
    "digital_confidence": {"openness": {"actor": 0.0, "partner": 0.10}, "humility": {"actor": 0.10, "partner": 0.15}},
    "leadership_self_efficacy": {"openness": {"actor": 0.0, "partner": 0.10},
                                 "humility": {"actor": 0.10, "partner": 0.15}},
    "psych_safety": {"openness": {"actor": 0.10, "partner": 0.10}, "humility": {"actor": 0.15, "partner": 0.15}},
}

RATER_LOADING = 0.6       # the partner's view of one's humility: .6 h + .8 u


def humility_stream(seed: int) -> np.random.Generator:
    """The random stream of the humility instruments: independent of the simulator's earlier streams.

    Parameters
    ----------
    seed : int
        The cohort's seed.

    Returns
    -------
    numpy.random.Generator
        Seeded with ``SeedSequence([seed, 18])``.

    Examples
    --------
    >>> humility_stream(7).random() == humility_stream(7).random() != humility_stream(8).random()
    True
    """
    return np.random.default_rng(np.random.SeedSequence([int(seed), 18]))


def partner_index(arm: np.ndarray, pair: np.ndarray) -> np.ndarray:
    """Each programme member's pair partner's position (-1 for controls and for a pair of one).

    Parameters
    ----------
    arm, pair : ndarray
        Each participant's arm and ``pair_id`` (blank: no pair).

    Returns
    -------
    ndarray of int

    Examples
    --------
    >>> partner_index(np.array(["program"] * 3 + ["control"]), np.array(["p1", "p2", "p1", ""])).tolist()
    [2, -1, 0, -1]
    """
    idx = np.full(len(arm), -1)
    members: dict = {}
    for i, (a, p) in enumerate(zip(arm, pair)):
        if a == "program" and str(p).strip():
            members.setdefault(p, []).append(i)
    for ids in members.values():
        if len(ids) == 2:
            idx[ids[0]], idx[ids[1]] = ids[1], ids[0]
    return idx


def actor_partner_shift(coefs: dict, latent: dict, partner: np.ndarray) -> np.ndarray:
    """sum over moderators of b_actor z(self) + b_partner z(partner); 0 where there is no partner's value.

    Parameters
    ----------
    coefs : dict
        Latent moderator -> ``{"actor": b, "partner": b}`` (a missing key counts as 0).
    latent : dict
        Latent moderator -> each participant's z.
    partner : ndarray of int
        :func:`partner_index`.

    Returns
    -------
    ndarray
        Each participant's shift of the latent change.

    Examples
    --------
    >>> actor_partner_shift({"humility": {"actor": 0.1, "partner": 0.2}}, {"humility": np.array([1.0, -1.0, 2.0])},
    ...                     np.array([1, 0, -1])).round(3).tolist()
    [-0.1, 0.1, 0.2]
    """
    out = np.zeros(len(partner))
    has = partner >= 0
    for m, b in coefs.items():
        z = latent[m]
        out += b.get("actor", 0.0) * z
        out[has] += b.get("partner", 0.0) * z[partner[has]]
    return out


def _answers(eta, spec, lam, rng):
    lo, hi = spec["min"], spec["max"]
    mid, spread = (lo + hi) / 2, (hi - lo) / 4.5
    e = rng.standard_normal((eta.size, lam.size))
    ystar = eta[:, None] * lam[None, :] + e * np.sqrt(1 - lam**2)[None, :]
    return np.clip(np.round(mid + spread * ystar), lo, hi)


def _loadings(spec, rng):
    return np.round(rng.uniform(0.65, 0.80, spec["n_items"]), 3)


def _codebook_entry(spec: dict, codes: list[str]) -> dict:
    rev = [codes[i - 1] for i in spec["reverse_idx"]]
    entry = {"label": spec["label"], "citation": spec["citation"], "min": spec["min"], "max": spec["max"],
             "items": codes, "reverse": rev, "min_answered": 0.8,
             "anchors": {int(a): t for a, t in spec["anchors"].items()}, "higher_is": spec["higher_is"]}
    if spec.get("subscales"):
        entry["subscales"] = {s: [codes[i - 1] for i in idx] for s, idx in spec["subscales"].items()}
    return entry


def add_humility_scales(responses: pd.DataFrame, codebook: dict, truth_scales: dict, rng, pid, arm, pair,
                        humility: np.ndarray, item_missing: float, waves=("pre", "post")) -> None:
    """Write the two humility instruments into ``responses`` (new columns after the existing ones), ``codebook``
    and ``truth_scales`` (in place). ``humility`` is the latent trait, drawn by the caller from ``rng``.

    Parameters
    ----------
    responses : DataFrame
        responses.csv being built (``participant_id``, ``wave``, ...).
    codebook : dict
        codebook.yaml being built (its ``scales``).
    truth_scales : dict
        truth.json's ``scales``.
    rng : numpy.random.Generator
        :func:`humility_stream`.
    pid, arm, pair : sequence
        Each participant's id, arm and ``pair_id``.
    humility : ndarray
        Each participant's latent humility.
    item_missing : float
        The chance an item is left blank.
    waves : (str, str)

    Examples
    --------
    >>> pid, arm, pair = ["a", "b", "c", "d"], ["program", "program", "control", "control"], ["p1", "p1", "", ""]
    >>> R = pd.DataFrame({"participant_id": pid * 2, "wave": ["pre"] * 4 + ["post"] * 4})
    >>> codebook, truth, rng = {"scales": {}}, {}, humility_stream(1)
    >>> add_humility_scales(R, codebook, truth, rng, pid, arm, pair, rng.standard_normal(4), 0.0)
    >>> R.shape, sorted(codebook["scales"]), R.filter(like="ehs_").notna().sum(axis=1).tolist()
    ((8, 21), ['expressed_humility', 'honesty_humility'], [9, 9, 0, 0, 0, 0, 0, 0])
    """
    n = len(pid)
    index = {p: i for i, p in enumerate(pid)}
    prog = np.asarray(arm) == "program"
    in_pair = partner_index(np.asarray(arm), np.asarray(pair)) >= 0
    for name, spec in HUMILITY_SCALES.items():
        lam = _loadings(spec, rng)
        codes = [f"{spec['prefix']}_{k:02d}" for k in range(1, spec["n_items"] + 1)]
        if spec["kind"] == "self":
            eta = {waves[0]: humility, waves[1]: 0.8 * humility + 0.6 * rng.standard_normal(n)}
        else:
            eta = {waves[0]: RATER_LOADING * humility + np.sqrt(1 - RATER_LOADING**2) * rng.standard_normal(n)}
        for w in waves:
            at = (responses["wave"] == w).to_numpy()
            idx = responses.loc[at, "participant_id"].map(index).to_numpy()
            if w in eta:
                a = _answers(eta[w], spec, lam, rng)
                if spec["kind"] != "self":
                    a[~(prog & in_pair)] = np.nan
                a[rng.random(a.shape) < item_missing] = np.nan
                for j in [i - 1 for i in spec["reverse_idx"]]:
                    a[:, j] = spec["min"] + spec["max"] - a[:, j]
            for j, c in enumerate(codes):
                col = np.full(len(responses), np.nan) if c not in responses else responses[c].to_numpy(float)
                if w in eta:
                    col[at] = a[idx, j]
                responses[c] = col
        codebook["scales"][name] = _codebook_entry(spec, codes)
        truth_scales[name] = {"kind": spec["kind"], "loadings": lam.tolist(),
                              "reverse": [codes[i - 1] for i in spec["reverse_idx"]],
                              "latent": "humility" + ("" if spec["kind"] == "self" else
                                                      f" rated by the partner: {RATER_LOADING} h + "
                                                      f"{np.sqrt(1 - RATER_LOADING**2):.1f} u")}


def _score(eta, spec, lam, rng):
    return _answers(eta, spec, lam, rng).mean(axis=1)


def simulate_pairs(rng, n_pairs: int, outcome: dict, moderators: dict, coefs: dict, rho: float = 0.65,
                   trend: float = 0.05, b_relationship: float = 0.0, b_sessions: float = 0.0) -> dict:
    """Programme pairs (member 0 junior, 1 senior) with complete data, vectorised: the observed moderator scores
    and the outcome's observed scores before and after, from the simulator's generating model.

    ``outcome``: ``{"spec", "loadings", "d", "roles", "mu"}``; ``moderators``: moderator scale → ``(spec, loadings)``
    with its latent in :data:`MODERATOR_SCALES`; ``coefs``: latent → ``{"actor", "partner"}``.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_pairs : int
    outcome, moderators, coefs : dict
        As above.
    rho, trend : float
        The outcome's pre-post correlation and change without the programme (latent SD units).
    b_relationship, b_sessions : float
        Effects of the pair's relationship quality and of the sessions attended.

    Returns
    -------
    dict of str to ndarray
        Arrays of shape (n_pairs, 2): ``pre``, ``post``, one per moderator scale, and ``role``.

    Examples
    --------
    >>> spec, lam = HUMILITY_SCALES["honesty_humility"], [0.7] * 10
    >>> outcome = {"spec": spec, "loadings": lam, "d": 0.3, "roles": ["junior"], "mu": {"junior": 0.0, "senior": 0.0}}
    >>> sim = simulate_pairs(np.random.default_rng(0), 5, outcome, {"honesty_humility": (spec, lam)}, {})
    >>> sorted(sim), sim["pre"].shape, sim["role"][0].tolist()
    (['honesty_humility', 'post', 'pre', 'role'], (5, 2), ['junior', 'senior'])
    """
    n = 2 * n_pairs
    role = np.tile(np.array(["junior", "senior"]), n_pairs)
    partner = np.arange(n) ^ 1
    latent = {"openness": rng.standard_normal(n), "humility": rng.standard_normal(n)}
    scores = {}
    for name, (spec, lam) in moderators.items():
        eta = latent[MODERATOR_SCALES[name]]
        if name == "expressed_humility":
            eta = RATER_LOADING * eta + np.sqrt(1 - RATER_LOADING**2) * rng.standard_normal(n)
        scores[name] = _score(eta, spec, np.asarray(lam), rng)
    mu = np.array([outcome["mu"][r] for r in role])
    applies = np.isin(role, outcome["roles"])
    rel = np.sqrt(0.35) * np.repeat(rng.standard_normal(n_pairs), 2) + np.sqrt(0.65) * rng.standard_normal(n)
    sess = rng.binomial(12, 0.8, n) - 9.6
    eff = (outcome["d"] + b_relationship * rel + b_sessions * sess + actor_partner_shift(coefs, latent, partner)) * applies
    pre = rng.normal(mu, 1)
    post = rho * pre + np.sqrt(1 - rho**2) * rng.standard_normal(n) + trend + mu * (1 - rho) + eff
    lam = np.asarray(outcome["loadings"])
    out = {"pre": _score(pre, outcome["spec"], lam, rng), "post": _score(post, outcome["spec"], lam, rng),
           "role": role, **scores}
    return {k: v.reshape(n_pairs, 2) for k, v in out.items()}


def population_slopes(change: np.ndarray, actor: np.ndarray, partner: np.ndarray) -> np.ndarray:
    """Least-squares slopes of change on the standardised actor and partner values (with an intercept).

    Parameters
    ----------
    change, actor, partner : ndarray
        One value per participant.

    Returns
    -------
    ndarray
        The actor's and the partner's slope, per SD.

    Examples
    --------
    >>> a, p = np.array([1.0, 2, 3, 4, 5]), np.array([2.0, 1, 4, 3, 5])
    >>> population_slopes(1 + 2 * (a - 3) / a.std(ddof=1) + 0.5 * (p - 3) / p.std(ddof=1), a, p).round(6).tolist()
    [2.0, 0.5]
    """
    za = (actor - actor.mean()) / actor.std(ddof=1)
    zp = (partner - partner.mean()) / partner.std(ddof=1)
    X = np.column_stack([np.ones_like(za), za, zp])
    return np.linalg.lstsq(X, change, rcond=None)[0][1:]


def actor_partner_truth(sim: dict, roles: list[str], moderator_names) -> dict:
    """Per population (each role, and ``all`` when the effect names both) and moderator scale: the slopes
    ``{"actor", "partner"}`` that the actor–partner model estimates, from a large :func:`simulate_pairs` draw.

    Parameters
    ----------
    sim : dict
        :func:`simulate_pairs`'s draw.
    roles : list of str
        The roles the outcome's effect names.
    moderator_names : iterable of str
        Moderator scales of ``sim``.

    Returns
    -------
    dict
        Population -> moderator scale -> ``{"actor", "partner"}`` (6 decimals).

    Examples
    --------
    >>> spec, lam = HUMILITY_SCALES["honesty_humility"], [0.7] * 10
    >>> outcome = {"spec": spec, "loadings": lam, "d": 0.3, "roles": ["junior", "senior"],
    ...            "mu": {"junior": 0.0, "senior": 0.0}}
    >>> sim = simulate_pairs(np.random.default_rng(0), 2000, outcome, {"honesty_humility": (spec, lam)},
    ...                      {"humility": {"actor": 0.0, "partner": 0.3}})
    >>> t = actor_partner_truth(sim, ["junior", "senior"], ["honesty_humility"])
    >>> sorted(t), t["all"]["honesty_humility"]      # the planted 0.3, attenuated by rounding and measurement
    (['all', 'junior', 'senior'], {'actor': -0.005809, 'partner': 0.175808})
    """
    change = (sim["post"] - sim["pre"]).ravel()
    role = sim["role"].ravel()
    out: dict = {}
    pops = [(r, role == r) for r in roles] + ([("all", np.ones(role.size, bool))] if len(roles) == 2 else [])
    for pop, keep in pops:
        out[pop] = {}
        for m in moderator_names:
            own = sim[m].ravel()
            other = sim[m][:, ::-1].ravel()
            b = population_slopes(change[keep], own[keep], other[keep])
            out[pop][m] = {"actor": round(float(b[0]), 6), "partner": round(float(b[1]), 6)}
    return out
