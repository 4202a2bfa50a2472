"""Moderation and dose-response of a survey hypothesis's programme effect.

A moderator is a participants.csv column (e.g. ``sessions_attended``) or a
codebook scale (its score at the contrast's baseline wave; a scale first
measured later, such as relationship quality after the programme, uses that
wave and is read as a dose). Then:

* measured in both arms: ``score ~ arm * wave * m + (1 | participant)`` with m
  centred at its mean; the arm × wave × m coefficient is the change in the
  programme effect per unit of m, and simple slopes give the difference in
  change at the mean and ±1 SD of m;
* measured in the programme only (dose): ``score ~ wave * m + (1 | participant)``
  within the programme arm; the wave × m coefficient is the extra change per
  unit of dose.

Both use the REML fitter of :mod:`rmstudy.stats.models.mixed` with Satterthwaite df.

Actor–partner (:func:`actor_partner_analysis`, issue #18): within the programme arm,
``score ~ wave * (actor + partner) + (1 | pair or group) + (1 | participant)`` with the participant's own and the
partner's moderator value, each standardised; the wave × actor and wave × partner coefficients are the actor and
partner effects on the change. All moderation results are exploratory and unadjusted for multiplicity.
"""

from __future__ import annotations

__all__ = ["partner_values", "moderation_analysis", "partner_means", "actor_partner_analysis"]

import numpy as np
import pandas as pd

from rmstudy.stats.models.mixed import design_arm_wave, fit_random_intercept
from rmstudy.stats.models.nested import fit_nested_intercepts
from rmstudy.contract.cells import blank


def partner_values(participants: pd.DataFrame, values: pd.Series) -> pd.Series:
    """Each programme participant's pair partner's moderator value (controls have no partner).

    Parameters
    ----------
    participants : DataFrame
        ``participant_id`` and ``pair_id`` (blank for controls).
    values : Series
        Moderator value per participant id.

    Returns
    -------
    Series
        The partner's value, indexed by participant id (those without a partner, or whose partner has no value,
        left out).

    Examples
    --------
    >>> P = pd.DataFrame({"participant_id": ["a", "b", "c"], "pair_id": ["p1", "p1", ""]})
    >>> partner_values(P, pd.Series({"a": 1.0, "b": 2.0, "c": 3.0})).to_dict()
    {'a': 2.0, 'b': 1.0}
    """
    p = participants.loc[~blank(participants["pair_id"]), ["participant_id", "pair_id"]]
    both = p.merge(p, on="pair_id", suffixes=("", "_partner"))
    both = both[both["participant_id"] != both["participant_id_partner"]]
    return both.set_index("participant_id")["participant_id_partner"].map(values).dropna()


def moderation_analysis(analysed: pd.DataFrame, h, values: pd.Series, name: str, source: str,
                        alpha: float = 0.05, grid: int = 25) -> dict:
    """Fit the moderation (or dose-response) model for one moderator of one hypothesis (module docstring).

    Parameters
    ----------
    analysed : DataFrame
        The primary model's rows: ``participant_id, wave, score, arm``.
    h : Hypothesis
        Its ``contrast`` (base, later) is used.
    values : Series
        Moderator value per participant id (programme only: a dose-response model).
    name, source : str
        The moderator's name and where it comes from (carried into the result).
    alpha, grid : float, int
        1 - the CIs' coverage; points of ``curve`` (the effect over the moderator's 5th-95th percentiles).

    Returns
    -------
    dict
        ``kind, estimable, model, n_participants, mean, sd, interaction, per_sd, slopes, curve, note``
        (``estimable`` False and a ``note`` with fewer than 10 participants or 3 moderator values).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> rng, ids, arm = np.random.default_rng(0), [f"p{i}" for i in range(12)], np.tile(["program", "control"], 6)
    >>> m, u = pd.Series(np.arange(12) % 6 + 1.0, index=ids), rng.normal(0, 1, 12)
    >>> d = pd.DataFrame({"participant_id": ids * 2, "wave": ["t0"] * 12 + ["t1"] * 12, "arm": np.tile(arm, 2),
    ...                   "score": np.r_[u, u + (arm == "program") * 0.5 * m.to_numpy()] + rng.normal(0, 0.1, 24)})
    >>> r = moderation_analysis(d, SimpleNamespace(contrast=("t0", "t1")), m, "sessions", "participants.csv")
    >>> r["kind"], r["n_participants"], round(r["interaction"]["estimate"], 2)         # true interaction: 0.5
    ('moderation', 12, 0.47)
    """
    base, later = h.contrast
    d = analysed[analysed["wave"].astype(str).isin([base, later])]          # change from the contrast's baseline
    d = d.assign(m=d["participant_id"].map(values), wave=pd.Categorical(d["wave"].astype(str), [base, later],
                                                                         ordered=True)).dropna(subset=["m", "score"])
    arms_with_m = sorted(d["arm"].unique())
    kind = "moderation" if arms_with_m == ["control", "program"] else "dose_response"
    if kind == "dose_response":
        d = d[d["arm"] == "program"]
    people = d.drop_duplicates("participant_id")
    if people["m"].nunique() < 3 or d["participant_id"].nunique() < 10 or d["wave"].nunique() < 2:
        return {"moderator": name, "source": source, "kind": kind, "estimable": False,
                "note": "too few participants or moderator values to fit the model"}
    mean, sd = float(people["m"].mean()), float(people["m"].std(ddof=1))
    d = d.assign(m=d["m"] - mean)
    X0, terms0, _, _ = design_arm_wave(d, "wave", "arm" if kind == "moderation" else None,
                                       "control" if kind == "moderation" else None)
    m = d["m"].to_numpy(float)
    X = np.column_stack([X0, m, X0[:, 1:] * m[:, None]])
    terms = terms0 + ["m"] + [f"{t}:m" for t in terms0[1:]]
    fit = fit_random_intercept(d["score"].to_numpy(float), X, d["participant_id"].to_numpy(), terms)
    effect = f"arm[program]:wave[{later}]" if kind == "moderation" else f"wave[{later}]"
    j, jm = terms.index(effect), terms.index(f"{effect}:m")
    L = np.zeros(len(terms))
    L[jm] = 1
    inter = fit.contrast(L, f"{effect} x {name}", alpha)

    def at(v):
        L = np.zeros(len(terms))
        L[j], L[jm] = 1, v
        return fit.contrast(L, f"at {name} = {v + mean:.3g}", alpha)

    slopes = [{"at": label, "moderator_value": mean + off, **{k: v for k, v in at(off).items() if k != "term"}}
              for label, off in (("-1 SD", -sd), ("mean", 0.0), ("+1 SD", sd))]
    lo, hi = np.percentile(people["m"], [5, 95])
    curve = [{"moderator_value": float(v), **{k: c[k] for k in ("estimate", "ci_low", "ci_high")}}
             for v in np.linspace(lo, hi, grid) for c in [at(float(v) - mean)]]
    what = "the difference in change (programme minus comparison)" if kind == "moderation" else \
        "the change within the programme"
    return {"moderator": name, "source": source, "kind": kind, "estimable": True,
            "model": f"score ~ {'arm * ' if kind == 'moderation' else ''}wave * m + (1 | participant_id), REML; "
                     f"m = {name} centred at {mean:.3g}" + ("; programme arm only" if kind == "dose_response" else ""),
            "n_participants": int(d["participant_id"].nunique()), "n_obs": int(len(d)), "mean": mean, "sd": sd,
            "interaction": {k: v for k, v in inter.items() if k != "term"} | {"term": f"{effect}:m"},
            "per_sd": {k: inter[k] * sd for k in ("estimate", "ci_low", "ci_high")},
            "slopes": slopes, "curve": curve,
            "note": f"the interaction is the change in {what} per unit of {name}"}


def partner_means(participants: pd.DataFrame, values: pd.Series, group: str = "pair_id") -> pd.Series:
    """Each grouped participant's partners' mean moderator value: the pair partner's value in a pair, the mean of
    the other members' values in a group; participants alone in their group (and controls) have none.

    Parameters
    ----------
    participants : DataFrame
        ``participant_id`` and the ``group`` column (blank for controls).
    values : Series
        Moderator value per participant id.
    group : str
        ``pair_id`` or ``group_id``.

    Returns
    -------
    Series
        The partners' mean value, indexed by participant id.

    Examples
    --------
    >>> P = pd.DataFrame({"participant_id": list("abcde"), "g": ["g1", "g1", "g1", "g2", ""]})
    >>> partner_means(P, pd.Series({"a": 1.0, "b": 2.0, "c": 6.0, "d": 4.0, "e": 5.0}), "g").to_dict()
    {'a': 4.0, 'b': 3.5, 'c': 1.5}
    """
    p = participants.loc[~blank(participants[group]), ["participant_id", group]]
    v = p["participant_id"].map(values)
    tot = v.groupby(p[group]).transform("sum")
    cnt = v.groupby(p[group]).transform("count")
    own = v.notna()
    others = cnt - own
    out = ((tot - v.fillna(0.0)) / others).where(others > 0)
    return pd.Series(out.to_numpy(float), index=p["participant_id"].to_numpy()).dropna()


def actor_partner_analysis(analysed: pd.DataFrame, h, actor: pd.Series, partner: pd.Series, groups: pd.Series,
                           name: str, source: str, alpha: float = 0.05) -> dict:
    """Actor–partner moderation of the change within the programme arm (exploratory, unadjusted).

    ``score ~ wave * (a + p) + (1 | group) + (1 | participant)`` over the contrast's two waves, programme arm only,
    with a = the participant's own moderator value and p = the partner's (the pair partner's, or the mean of the
    other group members'), each standardised over the analysed participants (one value each). The wave × a and
    wave × p coefficients are the actor and partner effects: the extra change per SD of one's own and of the partner's
    moderator. The group random intercept is left out when no group has two analysed members (it then coincides with
    the participant's). Read as moderation of the programme effect only if change in the comparison group does not
    depend on the moderator. REML fit of :mod:`rmstudy.stats.models.nested` (or :mod:`~rmstudy.stats.models.mixed`),
    Satterthwaite df; equals lme4/lmerTest (tests/reference/actor_partner/make_reference.R).

    Parameters
    ----------
    analysed : DataFrame
        The primary model's rows: ``participant_id, wave, score, arm``.
    h : Hypothesis
        Its ``contrast`` (base, later) is used.
    actor, partner : Series
        Own and partner's moderator value per participant id (:func:`partner_values`, :func:`partner_means`).
    groups : Series
        Pair or group id per participant id.
    name, source, alpha : str, str, float
        The moderator's name and where it comes from; 1 - the CIs' coverage.

    Returns
    -------
    dict
        ``estimable, model, random_effects, n_participants, n_groups, n_obs, scale, actor, partner, note`` (actor,
        partner: ``estimate, se, df, t, p_value, ci_low, ci_high, term``, per SD), or ``estimable`` False, ``note``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> rng, ids = np.random.default_rng(0), [f"p{i}" for i in range(20)]
    >>> P = pd.DataFrame({"participant_id": ids, "pair_id": np.repeat([f"g{i}" for i in range(10)], 2)})
    >>> own = pd.Series(rng.normal(0, 1, 20).round(1), index=ids)
    >>> partner, seen, u = partner_values(P, own), ids[::2], rng.normal(0, 1, 10)    # one of each pair answered
    >>> change = 1 + 0.5 * own[seen].to_numpy() + 0.2 * partner[seen].to_numpy()     # true effects: 0.5 and 0.2
    >>> d = pd.DataFrame({"participant_id": seen * 2, "wave": ["t0"] * 10 + ["t1"] * 10, "arm": "program",
    ...                   "score": np.r_[u, u + change] + rng.normal(0, 0.05, 20)})
    >>> r = actor_partner_analysis(d, SimpleNamespace(contrast=("t0", "t1")), own, partner,
    ...                            P.set_index("participant_id")["pair_id"], "openness", "participants.csv")
    >>> r["random_effects"], [round(r[k]["estimate"] / r["scale"][k]["sd"], 2) for k in ("actor", "partner")]
    ('participant (no group has two analysed members)', [0.47, 0.21])
    """
    base, later = h.contrast
    d = analysed[analysed["wave"].astype(str).isin([base, later]) & (analysed["arm"] == "program")]
    d = d.assign(a=d["participant_id"].map(actor), p=d["participant_id"].map(partner),
                 g=d["participant_id"].map(groups)).dropna(subset=["a", "p", "g", "score"])
    out = {"moderator": name, "source": source, "kind": "actor_partner", "exploratory": True, "adjusted": False}
    people = d.drop_duplicates("participant_id")
    if (len(people) < 10 or people["a"].nunique() < 3 or people["p"].nunique() < 3
            or d["wave"].astype(str).nunique() < 2):
        return out | {"estimable": False, "note": "too few programme participants with both values to fit the model"}
    scale = {k: {"mean": float(people[k].mean()), "sd": float(people[k].std(ddof=1))} for k in ("a", "p")}
    if abs(np.corrcoef(people["a"], people["p"])[0, 1]) > 0.999:
        return out | {"estimable": False, "note": "own and partner's values are (nearly) the same: their effects "
                                                  "cannot be told apart"}
    za = ((d["a"] - scale["a"]["mean"]) / scale["a"]["sd"]).to_numpy(float)
    zp = ((d["p"] - scale["p"]["mean"]) / scale["p"]["sd"]).to_numpy(float)
    w = (d["wave"].astype(str) == later).to_numpy(float)
    X = np.column_stack([np.ones(len(d)), w, za, zp, w * za, w * zp])
    terms = ["(Intercept)", f"wave[{later}]", "actor", "partner", f"wave[{later}]:actor", f"wave[{later}]:partner"]
    y, pid = d["score"].to_numpy(float), d["participant_id"].to_numpy()
    shared = bool(people.groupby("g").size().max() > 1)
    fit = (fit_nested_intercepts(y, X, pid, d["g"].to_numpy(), terms) if shared
           else fit_random_intercept(y, X, pid, terms))
    eff = {k: {kk: v for kk, v in fit.contrast(np.eye(6)[j], terms[j], alpha).items() if kk != "term"}
           | {"term": terms[j]} for k, j in (("actor", 4), ("partner", 5))}
    random = "(1 | group) + (1 | participant_id)" if shared else "(1 | participant_id)"
    return out | {
        "estimable": True, "model": f"score ~ wave * (actor + partner) + {random}, REML; programme arm only; actor "
                                    f"and partner = {name} of the participant and of the partner, standardised",
        "random_effects": "group and participant" if shared else "participant (no group has two analysed members)",
        "n_participants": int(len(people)), "n_groups": int(people["g"].nunique()), "n_obs": int(len(d)),
        "scale": {"actor": scale["a"], "partner": scale["p"]}, "actor": eff["actor"], "partner": eff["partner"],
        "note": f"actor (partner) effect: the extra change within the programme per SD of the participant's own "
                f"(the partner's) {name}; exploratory, p-values not adjusted for multiplicity"}
