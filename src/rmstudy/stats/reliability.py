"""Reliability of scales: Cronbach's alpha (raw and standardised, with a
Feldt CI) and McDonald's omega total from a one-factor minres solution.

Missing-data policy: as ``psych::alpha`` — covariances and correlations are
computed pairwise (each pair of items over the rows that answered both).
Rows with no answered item are left out.
"""

from __future__ import annotations

__all__ = ["cronbach_alpha", "omega_total", "reliability_table", "item_statistics", "omega_hierarchical",
           "reliability_flags", "single_item_flags", "feldt_compare", "reliable_change", "percent_favourable", "item_distributions"]

import numpy as np
import pandas as pd
from scipy import optimize, stats

from rmstudy.contract.codebook import Codebook
from rmstudy.stats.scoring import keyed_answers
from rmstudy.errors import ModelError


def cronbach_alpha(items: pd.DataFrame, ci: float = 0.95) -> dict:
    """Cronbach's alpha of an item matrix (already reverse-keyed).

    Parameters
    ----------
    items : DataFrame
        One column per item, one row per respondent (NaN = not answered).
    ci : float
        Coverage of the Feldt interval.

    Returns
    -------
    dict
        ``n`` (rows with at least one answer), ``k`` (items), ``alpha`` (raw, from the pairwise covariance matrix),
        ``alpha_std`` (from that matrix rescaled to correlations, as ``psych::alpha``), ``average_r`` and the Feldt
        (1965) confidence interval ``alpha_ci_low``/``alpha_ci_high`` (NaN with fewer than 2 items or 3 rows).

    Examples
    --------
    >>> X = pd.DataFrame({"q1": [1, 2, 3, 4, 5, 3], "q2": [2, 2, 3, 5, 4, 3], "q3": [1, 3, 3, 4, 5, 2]}, dtype=float)
    >>> a = cronbach_alpha(X)
    >>> a["n"], a["k"], round(a["alpha"], 3), round(a["alpha_ci_low"], 3)
    (6, 3, 0.932, 0.711)
    """
    x = items.dropna(how="all")
    k = x.shape[1]
    n = len(x)
    if k < 2 or n < 3:
        return {"n": n, "k": k, "alpha": np.nan, "alpha_std": np.nan, "average_r": np.nan,
                "alpha_ci_low": np.nan, "alpha_ci_high": np.nan}
    C = x.cov().to_numpy()          # pairwise complete
    sd = np.sqrt(np.diag(C))
    R = C / np.outer(sd, sd)        # cov2cor of the pairwise covariances, as psych::alpha
    alpha = (1 - np.trace(C) / C.sum()) * k / (k - 1)
    rbar = (R.sum() - k) / (k * (k - 1))
    alpha_std = k * rbar / (1 + (k - 1) * rbar)
    lo, hi = _feldt(alpha, n, k, ci)
    return {"n": n, "k": k, "alpha": float(alpha), "alpha_std": float(alpha_std), "average_r": float(rbar),
            "alpha_ci_low": lo, "alpha_ci_high": hi}


def _feldt(alpha: float, n: int, k: int, ci: float) -> tuple[float, float]:
    """Feldt CI: (1 - alpha) / (1 - alpha_hat) follows F(n-1, (n-1)(k-1))."""
    a = (1 - ci) / 2
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lo = 1 - (1 - alpha) * stats.f.ppf(1 - a, df1, df2)
    hi = 1 - (1 - alpha) * stats.f.ppf(a, df1, df2)
    return float(lo), float(hi)


def omega_total(items: pd.DataFrame) -> float:
    """McDonald's omega total from a one-factor minres (ULS) solution on the
    pairwise correlation matrix: 1 - sum(uniquenesses) / sum(R).

    Parameters
    ----------
    items : DataFrame

    Returns
    -------
    float
        NaN with fewer than 3 items or an undefined correlation.

    Examples
    --------
    >>> X = pd.DataFrame({"q1": [1, 2, 3, 4, 5, 3], "q2": [2, 2, 3, 5, 4, 3], "q3": [1, 3, 3, 4, 5, 2]}, dtype=float)
    >>> round(omega_total(X), 3)
    0.938
    """
    R = items.dropna(how="all").corr().to_numpy()
    k = R.shape[0]
    if k < 3 or not np.all(np.isfinite(R)):
        return np.nan
    off = ~np.eye(k, dtype=bool)

    def resid(lam):
        return (R - np.outer(lam, lam))[off]

    start = np.sqrt(np.clip(np.abs(R[off].reshape(k, k - 1)).mean(axis=1), 0.05, 0.95))
    sol = optimize.least_squares(resid, start, xtol=1e-14, ftol=1e-14, gtol=1e-14)
    lam = sol.x
    u2 = 1 - lam**2
    return float(1 - u2.sum() / R.sum())


def reliability_table(responses: pd.DataFrame, participants: pd.DataFrame, codebook: Codebook,
                      waves, by: str = "role") -> pd.DataFrame:
    """Alpha and omega per scale × wave × group (each level of ``by`` and 'all').

    Parameters
    ----------
    responses, participants : DataFrame
        Item answers (``participant_id, wave``, items) and the participants (``participant_id``, ``by``).
    codebook : Codebook
    waves : iterable
    by : str

    Returns
    -------
    DataFrame
        ``scale, wave, role, n, k, alpha, alpha_std, average_r, alpha_ci_low, alpha_ci_high, omega``.

    Examples
    --------
    >>> from rmstudy.contract.codebook import Codebook, Scale
    >>> cb, ids = Codebook({"s": Scale("s", ("q1", "q2", "q3"), 1, 5)}), list("abcdef")
    >>> P = pd.DataFrame({"participant_id": ids, "role": ["mentor"] * 3 + ["mentee"] * 3})
    >>> X = pd.DataFrame({"q1": [1, 2, 3, 4, 5, 3], "q2": [2, 2, 3, 5, 4, 3], "q3": [1, 3, 3, 4, 5, 2]}, dtype=float)
    >>> resp = X.assign(participant_id=ids, wave="pre")
    >>> reliability_table(resp, P, cb, ["pre"])[["role", "n", "alpha", "omega"]].round(3)
         role  n  alpha  omega
    0  mentee  3  0.871  0.913
    1  mentor  3  0.868  0.933
    2     all  6  0.932  0.938
    """
    keyed = keyed_answers(responses, codebook, participants, [by] if by in participants.columns else [])
    rows = []
    groups = sorted(participants[by].dropna().unique()) if by in participants.columns else []   # role is optional
    for s in codebook.scales.values():
        for w in waves:
            at_w = keyed.loc[keyed["wave"] == w, [*s.items, by] if groups else list(s.items)]   # this scale's columns
            for g in groups + ["all"]:
                sub = at_w if g == "all" else at_w[at_w[by] == g]
                items = sub[list(s.items)]
                a = cronbach_alpha(items)
                rows.append({"scale": s.name, "wave": str(w), "role": g, **a, "omega": omega_total(items)})
    return pd.DataFrame(rows)


# --- item statistics (as psych::alpha) ---------------------------------------------

def item_statistics(items: pd.DataFrame) -> pd.DataFrame:
    """Per item: ``item, n, mean, sd, r_drop`` (item–rest correlation) and ``alpha_if_deleted`` (raw alpha of the
    other items), from the pairwise covariance matrix exactly as ``psych::alpha`` computes ``r.drop`` and
    ``alpha.drop``.

    Parameters
    ----------
    items : DataFrame
        One column per item (already reverse-keyed).

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> X = pd.DataFrame({"q1": [1, 2, 3, 4, 5, 3], "q2": [2, 2, 3, 5, 4, 3], "q3": [1, 3, 3, 4, 5, 2]}, dtype=float)
    >>> item_statistics(X).round(3)
      item  n   mean     sd  r_drop  alpha_if_deleted
    0   q1  6  3.000  1.414   0.942             0.832
    1   q2  6  3.167  1.169   0.807             0.947
    2   q3  6  3.000  1.414   0.854             0.908
    """
    x = items.dropna(how="all")
    C = x.cov().to_numpy()
    k = C.shape[0]
    rows = []
    for i, name in enumerate(x.columns):
        rest = [j for j in range(k) if j != i]
        Cr = C[np.ix_(rest, rest)]
        cov_item_rest = C[i, rest].sum()
        r_drop = cov_item_rest / np.sqrt(C[i, i] * Cr.sum())
        a_del = (1 - np.trace(Cr) / Cr.sum()) * (k - 1) / (k - 2) if k > 2 else np.nan
        col = x[name]
        rows.append({"item": name, "n": int(col.notna().sum()), "mean": float(col.mean()), "sd": float(col.std(ddof=1)),
                     "r_drop": float(r_drop), "alpha_if_deleted": float(a_del)})
    return pd.DataFrame(rows)


# --- omega hierarchical (as psych::omega) -------------------------------------------

def _minres(R: np.ndarray, nf: int) -> np.ndarray:
    """Unrotated minres loadings (psych::fa fm = "minres"): uniquenesses minimise the
    off-diagonal squared residuals; loadings are the principal axes of the reduced matrix."""
    k = R.shape[0]

    def loadings(psi):
        S = R.copy()
        np.fill_diagonal(S, 1 - psi)
        val, vec = np.linalg.eigh(S)
        idx = np.argsort(val)[::-1][:nf]
        val = np.maximum(val[idx], 100 * np.finfo(float).eps)
        return vec[:, idx] * np.sqrt(val)

    def err(psi):
        L = loadings(psi)
        res = (R - L @ L.T) ** 2
        np.fill_diagonal(res, 0)
        return res.sum()

    smc = 1 - 1 / np.diag(np.linalg.inv(R))
    sol = optimize.minimize(err, np.clip(1 - smc, 0.005, 1), method="L-BFGS-B", bounds=[(0.005, 1)] * k,
                            options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 5000})
    return loadings(sol.x)


def _varimax(x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """stats::varimax with Kaiser normalisation."""
    sc = np.sqrt((x**2).sum(axis=1))
    x = x / sc[:, None]
    p, nc = x.shape
    TT = np.eye(nc)
    d = 0.0
    for _ in range(1000):
        z = x @ TT
        B = x.T @ (z**3 - z @ np.diag((z**2).sum(axis=0)) / p)
        u, s, vt = np.linalg.svd(B)
        TT = u @ vt
        dpast, d = d, s.sum()
        if d < dpast * (1 + eps):
            break
    return (x @ TT) * sc[:, None]


def _oblimin(A: np.ndarray, eps: float = 1e-5, maxit: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """GPArotation::oblimin (gamma = 0, no normalisation): gradient projection
    (Bernaards & Jennrich 2005) from the identity. Returns pattern and Phi."""
    k = A.shape[1]
    N = 1 - np.eye(k)

    def vgq(L):
        X = (L**2) @ N
        return (L**2 * X).sum() / 4, L * X

    T = np.eye(k)
    L = A @ np.linalg.inv(T).T
    f, Gq = vgq(L)
    G = -(L.T @ Gq @ np.linalg.inv(T)).T
    al = 1.0
    for _ in range(maxit + 1):
        Gp = G - T @ np.diag((T * G).sum(axis=0))
        s = np.sqrt((Gp**2).sum())
        if s < eps:
            break
        al *= 2
        for _ in range(11):
            X = T - al * Gp
            Tt = X / np.sqrt((X**2).sum(axis=0))
            L = A @ np.linalg.inv(Tt).T
            ft, Gqt = vgq(L)
            if f - ft > 0.5 * s**2 * al:
                break
            al /= 2
        T, f = Tt, ft
        G = -(L.T @ Gqt @ np.linalg.inv(Tt)).T
    return L, T.T @ T


def omega_hierarchical(items: pd.DataFrame, nfactors: int) -> dict:
    """McDonald's omega hierarchical and omega total with ``nfactors`` group factors, as
    ``psych::omega(x, nfactors)``: minres factors, varimax then oblimin, a Schmid–Leiman general factor from the
    factor correlations (minres one-factor solution), omega_h = (sum g)^2 / sum(R).

    ``heywood`` is True when a uniqueness sits at minres's lower bound: the group factors are then not identified
    (typically because the data are unidimensional), minres has several local optima and omega_h is not
    trustworthy — psych may stop at a different one.

    Parameters
    ----------
    items : DataFrame
    nfactors : int

    Returns
    -------
    dict
        ``omega_h, omega_total, g_loadings, nfactors, heywood``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)          # 9 items: a general factor (0.6), 3 group factors (0.5) of 3 items
    >>> g, f = rng.normal(size=300), rng.normal(size=(300, 3))
    >>> X = pd.DataFrame({j: 0.6 * g + 0.5 * f[:, j // 3] + 0.6 * rng.normal(size=300) for j in range(9)})
    >>> o = omega_hierarchical(X, 3)
    >>> round(o["omega_h"], 2), round(o["omega_total"], 2), o["heywood"]
    (0.77, 0.92, False)
    """
    R = items.dropna(how="all").corr().to_numpy()
    if nfactors < 3:
        raise ModelError("omega_hierarchical needs at least 3 group factors (psych identifies g from 3 or more)")
    unrot = _minres(R, nfactors)
    heywood = bool(np.any(1 - (unrot**2).sum(axis=1) <= 0.0051))   # a uniqueness at minres's lower bound
    orth = _varimax(unrot)
    pattern, phi = _oblimin(orth)
    gload = _minres(phi, 1)[:, 0]
    g = pattern @ gload
    if g.sum() < 0:
        g = -g
    key = np.where(g < 0, -1.0, 1.0)            # psych flips items loading negatively on g
    Rk = R * np.outer(key, key)
    Vt = Rk.sum()
    u2 = 1 - (orth**2).sum(axis=1)
    return {"omega_h": float((np.abs(g).sum()) ** 2 / Vt), "omega_total": float((Vt - u2.sum()) / Vt),
            "g_loadings": np.abs(g).tolist(), "nfactors": nfactors, "heywood": heywood}


# --- flags -----------------------------------------------------------------------

def single_item_flags(codebook: Codebook) -> list[dict]:
    """One flag per one-item scale (a total score, a single rating), saying why its reliability is not estimated:
    alpha and omega need two or more items, and one administration of one item carries no information about its
    measurement error.

    Parameters
    ----------
    codebook : Codebook

    Returns
    -------
    list of dict

    Examples
    --------
    >>> from rmstudy.contract.codebook import Scale
    >>> cb = Codebook({"total": Scale("total", ("t",), 0, 63), "eng": Scale("eng", ("e1", "e2"), 1, 5)})
    >>> [f["scale"] for f in single_item_flags(cb)]
    ['total']
    """
    return [{"flag": "single_item", "scale": s.name, "wave": None, "role": None, "item": s.items[0], "value": None,
             "message": f"{s.name} is a single item ({s.items[0]}, e.g. a total score): Cronbach's alpha and omega "
                        "need two or more items, so its reliability cannot be estimated from these data; cite the "
                        "instrument's published reliability (test-retest or internal consistency of its items)"}
            for s in codebook.scales.values() if s.n_items == 1]


def feldt_compare(a1: float, n1: int, a2: float, n2: int) -> float:
    """Two-sided p of Feldt's (1969) test that two independent alphas are equal:
    W = (1 - a1) / (1 - a2) ~ F(n1 - 1, n2 - 1).

    Parameters
    ----------
    a1, a2 : float
    n1, n2 : int

    Returns
    -------
    float

    Examples
    --------
    >>> round(feldt_compare(0.9, 100, 0.8, 100), 4)
    0.0007
    """
    w = (1 - a1) / (1 - a2)
    p = stats.f.cdf(w, n1 - 1, n2 - 1)
    return float(2 * min(p, 1 - p))


def reliability_flags(table: pd.DataFrame, items: dict, threshold: float = 0.70, p_differ: float = 0.01,
                      min_gap: float = 0.10) -> list[dict]:
    """Flags that catch real mistakes.

    * ``low_alpha``: alpha below ``threshold``;
    * ``negative_item_rest``: an item correlating negatively with the rest of its
      scale (usually a reverse key missing from the codebook) — names the item;
    * ``alpha_differs``: alpha of one scale differs between waves or roles by at
      least ``min_gap`` and Feldt's test gives p < ``p_differ`` (between waves the
      samples overlap, so the test is approximate).

    Parameters
    ----------
    table : DataFrame
        :func:`reliability_table`.
    items : dict
        (scale, wave, role) -> that cell's :func:`item_statistics` table.
    threshold, p_differ, min_gap : float

    Returns
    -------
    list of dict

    Examples
    --------
    >>> table = pd.DataFrame({"scale": ["eng"], "wave": ["pre"], "role": ["all"], "alpha": [0.55], "n": [40]})
    >>> st = {("eng", "pre", "all"): pd.DataFrame({"item": ["e1", "e2", "e3"], "r_drop": [0.4, 0.3, -0.2]})}
    >>> [(f["flag"], f["item"], f["value"]) for f in reliability_flags(table, st)]
    [('low_alpha', None, 0.55), ('negative_item_rest', 'e3', -0.2)]
    """
    flags = []
    for r in table.itertuples(index=False):
        if pd.notna(r.alpha) and r.alpha < threshold:
            flags.append({"flag": "low_alpha", "scale": r.scale, "wave": r.wave, "role": r.role, "item": None,
                          "value": float(r.alpha),
                          "message": f"alpha = {r.alpha:.3f} for {r.scale} at {r.wave} ({r.role}) is below {threshold:.2f}"})
    for (scale, wave, role), st in items.items():
        for it in st.itertuples(index=False):
            if it.r_drop < 0:
                flags.append({"flag": "negative_item_rest", "scale": scale, "wave": wave, "role": role, "item": it.item,
                              "value": float(it.r_drop),
                              "message": f"item {it.item} correlates negatively with the rest of {scale} "
                                         f"(r = {it.r_drop:.2f}) at {wave} ({role}): is a reverse key missing "
                                         "from codebook.yaml?"})
    for scale, g in table.groupby("scale", sort=False):
        for by, other in (("wave", "role"), ("role", "wave")):
            for level, h in g.groupby(other, sort=False):
                h = h.dropna(subset=["alpha"]).reset_index(drop=True)
                if by == "role":
                    h = h[h["role"] != "all"]
                for i in range(len(h)):
                    for j in range(i + 1, len(h)):
                        a, b = h.iloc[i], h.iloc[j]
                        gap = abs(a["alpha"] - b["alpha"])
                        if gap >= min_gap:
                            p = feldt_compare(a["alpha"], int(a["n"]), b["alpha"], int(b["n"]))
                            if p < p_differ:
                                flags.append({"flag": "alpha_differs", "scale": scale, "wave": None, "role": None,
                                              "item": None, "value": float(gap),
                                              "message": f"alpha of {scale} differs between {by}s "
                                                         f"{a[by]} ({a['alpha']:.2f}) and {b[by]} ({b['alpha']:.2f}) "
                                                         f"at {other} {level} (Feldt p = {p:.4f})"})
    return flags


# --- reliable change (Jacobson & Truax 1991) ------------------------------------

def reliable_change(scores: pd.DataFrame, participants: pd.DataFrame, scale: str, waves: tuple[str, str],
                    reliability: float, direction: str = "increase", z: float = 1.96) -> tuple[pd.DataFrame, dict]:
    """Reliable Change Index per participant with both waves scored.

    RCI = (x2 - x1) / S_diff, S_diff = sqrt(2) * SD_1 * sqrt(1 - r_xx), with SD_1 the SD of the scale at the first
    wave in these participants and r_xx the sample's reliability. |RCI| > z is reliable change; ``direction`` says
    which sign is improvement.

    Parameters
    ----------
    scores : DataFrame
        Long scale scores: ``participant_id, wave``, ``scale``.
    participants : DataFrame
        ``participant_id, arm``: the participants counted.
    scale : str
    waves : (str, str)
        Baseline and later wave.
    reliability, z : float
    direction : {"increase", "decrease"}

    Returns
    -------
    (DataFrame, dict)
        The per-participant table (academic use only; never for HR) and ``s_diff, sd_baseline, reliability, z,
        counts`` (per arm: improved / unchanged / worsened).

    Examples
    --------
    >>> scores = pd.DataFrame({"participant_id": list("abcabc"), "wave": ["pre"] * 3 + ["post"] * 3,
    ...                        "eng": [2.0, 3.0, 4.0, 4.0, 3.0, 2.5]})
    >>> P = pd.DataFrame({"participant_id": list("abc"), "arm": ["program", "program", "control"]})
    >>> w, s = reliable_change(scores, P, "eng", ("pre", "post"), reliability=0.875)
    >>> round(s["s_diff"], 4), w["rci"].round(4).tolist(), w["change"].tolist()
    (0.5, [4.0, 0.0, -3.0], ['improved', 'unchanged', 'worsened'])
    """
    base, later = waves
    wide = scores.pivot_table(index="participant_id", columns="wave", values=scale, observed=True)
    sd1 = float(scores.loc[(scores["wave"] == base) & scores["participant_id"].isin(participants["participant_id"]),
                           scale].std(ddof=1))
    s_diff = np.sqrt(2) * sd1 * np.sqrt(1 - reliability)
    if base not in wide.columns or later not in wide.columns:
        return pd.DataFrame(), {}
    w = wide[[base, later]].dropna().reset_index()
    w = w.merge(participants[["participant_id", "arm"]], on="participant_id")
    w["rci"] = (w[later] - w[base]) / s_diff
    sign = 1 if direction == "increase" else -1
    w["change"] = np.where(sign * w["rci"] > z, "improved", np.where(sign * w["rci"] < -z, "worsened", "unchanged"))
    counts = {arm: {c: int((g["change"] == c).sum()) for c in ("improved", "unchanged", "worsened")}
              for arm, g in w.groupby("arm")}
    return w, {"s_diff": float(s_diff), "sd_baseline": sd1, "reliability": float(reliability), "z": z, "counts": counts}


# --- HR's language ----------------------------------------------------------------

#: the most answer points a single rating item has (0–10); a one-item scale with more is a total score
LIKERT_MAX_POINTS = 11


def _favourable(x: np.ndarray, s) -> np.ndarray:
    """Which answers count as favourable on scale ``s`` (see :func:`percent_favourable`)."""
    fav = s.favourable
    if isinstance(fav, dict):
        return x <= fav["at_most"] if "at_most" in fav else x >= fav["at_least"]
    return (x >= s.max - 1) if fav == "high" else (x <= s.min + 1)


def percent_favourable(responses: pd.DataFrame, participants: pd.DataFrame, codebook: Codebook,
                       by=("wave", "arm"), scales=None) -> pd.DataFrame:
    """% favourable (top-two-box, as HR survey platforms report it) per scale and group.

    Items are reverse-keyed first; 'favourable' is the top two answer options, or the bottom two for a scale whose
    codebook says ``favourable: low``, or the answers at or below (above) a codebook cut-off ``favourable: {at_most:
    13}`` (``at_least``). A one-item scale of more than ``LIKERT_MAX_POINTS`` answer points (a total score such as
    0–63) gets a share only from such a cut-off. The share is over all answered items of the scale. ``n`` counts
    respondents (for suppression).

    Parameters
    ----------
    responses, participants : DataFrame
        Item answers (``participant_id``, items) and participant columns (``by`` may name either's columns).
    codebook : Codebook
    by : tuple of str
    scales : collection of str, optional
        Limits the scales (default: all).

    Returns
    -------
    DataFrame
        ``scale``, the ``by`` columns, ``n, answers, percent_favourable``.

    Examples
    --------
    >>> from rmstudy.contract.codebook import Codebook, Scale
    >>> cb, ids = Codebook({"s": Scale("s", ("q1", "q2", "q3"), 1, 5)}), list("abcdef")
    >>> P = pd.DataFrame({"participant_id": ids, "arm": ["program", "control"] * 3})
    >>> X = pd.DataFrame({"q1": [1, 2, 3, 4, 5, 3], "q2": [2, 2, 3, 5, 4, 3], "q3": [1, 3, 3, 4, 5, 2]}, dtype=float)
    >>> resp = X.assign(participant_id=ids, wave="pre")
    >>> percent_favourable(resp, P, cb).round(1)             # answers 4 and 5: 3 of each arm's 9
      scale wave      arm  n  answers  percent_favourable
    0     s  pre  control  3        9                33.3
    1     s  pre  program  3        9                33.3
    """
    needed = [c for c in participants.columns if c in by and c != "participant_id"]
    keyed = keyed_answers(responses, codebook, participants, needed)
    keys = [keyed[b].astype(str).to_numpy() for b in by]        # by position: keyed keeps the answers' index
    rows = []
    for s in codebook.scales.values():
        if scales is not None and s.name not in scales:
            continue
        if not isinstance(s.favourable, dict) and s.n_items == 1 and s.max - s.min + 1 > LIKERT_MAX_POINTS:
            continue          # a total score's "top two points" mean nothing: only a codebook cut-off gives a share
        x = keyed[list(s.items)].to_numpy(float)
        answered = np.isfinite(x)
        fav = _favourable(x, s)
        per_row = pd.DataFrame({"answers": answered.sum(axis=1), "fav": (fav & answered).sum(axis=1),
                                "n": answered.any(axis=1).astype(int)})
        g = per_row.groupby(keys, sort=True).sum()
        for key, r in g.iterrows():
            key = key if isinstance(key, tuple) else (key,)
            rows.append({"scale": s.name, **dict(zip(by, key)), "n": int(r["n"]), "answers": int(r["answers"]),
                         "percent_favourable": float(100 * r["fav"] / r["answers"]) if r["answers"] else np.nan})
    return pd.DataFrame(rows)


def item_distributions(responses: pd.DataFrame, codebook: Codebook, by: str = "wave") -> pd.DataFrame:
    """Each item's response distribution (answers as given, before reverse keying) per ``by``
    level, long format: ``scale, item, <by>, option, count`` (option NaN = missing).

    Parameters
    ----------
    responses : DataFrame
    codebook : Codebook
    by : str

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> from rmstudy.contract.codebook import Codebook, Scale
    >>> r = pd.DataFrame({"wave": ["pre", "pre", "pre", "post"], "q1": [1.0, 3.0, None, 2.0]})
    >>> d = item_distributions(r, Codebook({"s": Scale("s", ("q1",), 1, 3)}))
    >>> d.loc[d["wave"] == "pre", "count"].tolist()              # options 1, 2, 3 and missing
    [1, 0, 1, 1]
    """
    rows = []
    for s in codebook.scales.values():
        options = np.arange(s.min, s.max + 1)
        for level, g in responses.groupby(by, observed=True, sort=True):
            for item in s.items:
                counts = g[item].value_counts()
                for o in options:
                    rows.append({"scale": s.name, "item": item, by: str(level), "option": float(o),
                                 "count": int(counts.get(float(o), 0))})
                rows.append({"scale": s.name, "item": item, by: str(level), "option": None,
                             "count": int(g[item].isna().sum())})
    return pd.DataFrame(rows)
