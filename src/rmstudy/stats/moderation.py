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
"""

from __future__ import annotations

__all__ = ["partner_values", "moderation_analysis"]

import numpy as np
import pandas as pd

from rmstudy.stats.models.mixed import design_arm_wave, fit_random_intercept


def partner_values(participants: pd.DataFrame, values: pd.Series) -> pd.Series:
    """Each programme participant's pair partner's moderator value (controls have no partner).

    Examples
    --------
    >>> P = pd.DataFrame({"participant_id": ["a", "b", "c"], "pair_id": ["p1", "p1", ""]})
    >>> partner_values(P, pd.Series({"a": 1.0, "b": 2.0, "c": 3.0})).to_dict()
    {'a': 2.0, 'b': 1.0}
    """
    p = participants.loc[participants["pair_id"].astype(str).str.strip() != "", ["participant_id", "pair_id"]]
    both = p.merge(p, on="pair_id", suffixes=("", "_partner"))
    both = both[both["participant_id"] != both["participant_id_partner"]]
    return both.set_index("participant_id")["participant_id_partner"].map(values).dropna()


def moderation_analysis(analysed: pd.DataFrame, h, values: pd.Series, name: str, source: str,
                        alpha: float = 0.05, grid: int = 25) -> dict:
    """Fit the moderation (or dose-response) model for one moderator of one hypothesis."""
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
