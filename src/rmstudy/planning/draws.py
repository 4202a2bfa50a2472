"""Simulated cohorts for power, drawn as arrays (simulations × participants × waves), one random stream per simulation.

Survey outcome of participant i in mentoring unit g at wave w (every variance in baseline-SD units, total 1):

    y_igw = programme_i * (baseline_difference + effect_w) + c_g + b_i + v_gw + e_igw,

    c_g  ~ N(0, icc)                        a pair/group intercept that lasts over the waves,
    b_i  ~ N(0, rho - icc)                  the person's own intercept (rho: correlation of two waves),
    v_gw ~ N(0, icc_change * (1 - rho))     a pair/group deviation at each wave: shared change,
    e_igw ~ N(0, (1 - icc_change) * (1 - rho)).

Comparison participants are their own unit (singleton pairs, as the run's pair model treats them), so both arms have
the same variances. Two waves of one person correlate rho; the change of two members of one unit correlates
icc_change. Attrition is monotone: a participant without a score at wave w has none later. With ``mcar`` the share
s_w is lost completely at random; with ``mar`` the probability of having dropped out by wave w is
expit(a_w + slope * baseline score), a_w set so that the share is s_w when the baseline is N(0, 1) (Gauss-Hermite),
one uniform per participant for all waves (so dropout stays monotone). The baseline is always observed (the baseline
survey is a condition of enrolment, as in the demo cohort).

Retention: exponential latent times to a voluntary exit (hazard h_v, times the hazard ratio in the programme) and to an
involuntary exit (h_i), with h = -log(1 - rate) / follow_up_days, so that ``exit_rate`` is the comparison arm's
probability of a voluntary exit by the end of follow-up without competing exits; administrative censoring at
follow_up_days. Times are continuous, so there are no ties (Efron's, Breslow's and the exact partial likelihood agree).

Random numbers: simulation ``i`` of hypothesis ``h`` uses ``numpy.random.SeedSequence(seed, spawn_key=(crc32(h.id),
i))``, the child that ``SeedSequence(seed).spawn`` would give at (crc32(id), i). The draws of one simulation therefore
do not depend on how the simulations are split over chunks, processes or Dask workers, nor on the other hypotheses;
the null scenario and every sample size of a curve reuse the same streams (common random numbers).
"""

from __future__ import annotations

__all__ = ["stream", "SurveyDraw", "draw_survey", "draw_retention", "retention_times", "mar_intercepts", "arms"]

import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import optimize, special


def stream(seed: int, hypothesis_id: str, sim: int) -> np.random.Generator:
    """The random generator of one simulation of one hypothesis.

    Parameters
    ----------
    seed : int
        The plan's seed.
    hypothesis_id : str
        The hypothesis (its crc32 keys the stream).
    sim : int
        The simulation's index.

    Returns
    -------
    numpy.random.Generator
        PCG64 on ``SeedSequence(seed, spawn_key=(crc32(id), sim))``.

    Examples
    --------
    >>> stream(1, "H1", 7).random() == stream(1, "H1", 7).random()    # the same simulation, whatever the chunking
    True
    >>> stream(1, "H1", 7).random() == stream(1, "H2", 7).random()
    False
    """
    ss = np.random.SeedSequence(seed, spawn_key=(zlib.crc32(hypothesis_id.encode("utf-8")), sim))
    return np.random.Generator(np.random.PCG64(ss))


def arms(n_per_arm: int) -> np.ndarray:
    """Arm indicator (1 = programme) of a population with ``n_per_arm`` in each arm, programme first.

    Parameters
    ----------
    n_per_arm : int
        Participants per arm.

    Returns
    -------
    ndarray (2 n_per_arm,)

    Examples
    --------
    >>> arms(2)
    array([1., 1., 0., 0.])
    """
    return np.repeat([1.0, 0.0], n_per_arm)


@lru_cache(maxsize=256)
def mar_intercepts(shares: tuple[float, ...], slope: float) -> tuple[float, ...]:
    """a_w with E[expit(a_w + slope * Z)] = s_w for Z ~ N(0, 1) (s_w = 0 gives -inf: nobody drops out).

    Parameters
    ----------
    shares : tuple of float
        Cumulative dropout share s_w at each wave.
    slope : float
        Log-odds of having dropped out per baseline SD.

    Returns
    -------
    tuple of float
        The intercepts a_w.

    Examples
    --------
    >>> a = mar_intercepts((0.0, 0.2), -0.5)
    >>> a[0], round(a[1], 4)
    (-inf, -1.4585)
    >>> z = np.random.default_rng(0).standard_normal(200_000)          # the share it gives on a N(0, 1) baseline
    >>> round(float(special.expit(a[1] - 0.5 * z).mean()), 2)
    0.2
    """
    z, wts = np.polynomial.hermite_e.hermegauss(80)
    wts = wts / wts.sum()
    out = []
    for s in shares:
        if s <= 0:
            out.append(-np.inf)
            continue
        out.append(float(optimize.brentq(lambda a: float(wts @ special.expit(a + slope * z)) - s, -60, 60,
                                         xtol=1e-12)))
    return tuple(out)


@dataclass
class SurveyDraw:
    """Noise of a batch of simulations: the scores without the programme's effect and the response pattern.

    Attributes
    ----------
    y0 : ndarray (B, N, W)
        Scores without the effect (the baseline difference of a nonrandomised design included).
    observed : ndarray of bool (B, N, W)
        Which scores were given (the baseline always).
    arm : ndarray (N,)
        1 = programme (first), 0 = comparison.

    Examples
    --------
    >>> d = SurveyDraw(y0=np.zeros((1, 2, 2)), observed=np.ones((1, 2, 2), bool), arm=arms(1))
    >>> d.with_effect([0.0, 0.5])[0]
    array([[0. , 0.5],
           [0. , 0. ]])
    """

    y0: np.ndarray
    observed: np.ndarray
    arm: np.ndarray

    def with_effect(self, effect) -> np.ndarray:
        """Scores with the programme's effect per wave added (missing scores stay in; use ``observed``)."""
        return self.y0 + self.arm[None, :, None] * np.asarray(effect, float)[None, None, :]


def _units(n: int, cluster_size: int) -> np.ndarray:
    """Mentoring unit of each participant: programme members in consecutive units, comparison members alone."""
    prog = np.arange(n) // cluster_size
    return np.concatenate([prog, prog[-1] + 1 + np.arange(n)])


def draw_survey(h, n: int, n_waves: int, seed: int, sims) -> SurveyDraw:
    """Draw the scores (without effect) and the response pattern of simulations ``sims`` of survey hypothesis ``h``
    with ``n`` participants per arm.

    Parameters
    ----------
    h : SurveyHypothesis
        Its variances, attrition and dropout mechanism.
    n : int
        Participants per arm.
    n_waves : int
        Waves.
    seed : int
        The plan's seed.
    sims : sequence of int
        The simulations' indices (each its own :func:`stream`).

    Returns
    -------
    SurveyDraw
        Arrays (len(sims), 2n, n_waves).

    Examples
    --------
    >>> from rmstudy.planning.spec import EXAMPLE, parse_plan
    >>> h = parse_plan({**EXAMPLE, "attrition": 0.5}).hypotheses[0]
    >>> d = draw_survey(h, 50, 2, seed=1, sims=range(4))
    >>> d.y0.shape, bool(d.observed[:, :, 0].all()), float(d.observed[:, :, 1].mean())
    ((4, 100, 2), True, 0.49)
    >>> bool((draw_survey(h, 50, 2, seed=1, sims=[3]).y0[0] == d.y0[3]).all())    # simulation 3 alone: the same
    True
    """
    arm = arms(n)
    N = 2 * n
    clustered = h.icc > 0 or h.icc_change > 0
    unit = _units(n, h.cluster_size) if clustered else None
    n_units = int(unit[-1]) + 1 if clustered else 0
    q = h.icc_change * (1 - h.rho)
    sd_e, sd_b = np.sqrt(1 - h.rho - q), np.sqrt(h.rho - h.icc)
    B = len(sims)
    e = np.empty((B, N, n_waves))
    b = np.empty((B, N))
    u = np.empty((B, N))
    c = np.zeros((B, n_units))
    v = np.zeros((B, n_units, n_waves))
    for k, i in enumerate(sims):
        rng = stream(seed, h.id, int(i))
        e[k] = rng.standard_normal((N, n_waves))
        b[k] = rng.standard_normal(N)
        u[k] = rng.random(N)
        if clustered:
            c[k] = rng.standard_normal(n_units)
            v[k] = rng.standard_normal((n_units, n_waves))
    y0 = sd_e * e + (sd_b * b)[:, :, None] + (arm * h.base_diff)[None, :, None]
    if clustered:
        y0 += (np.sqrt(h.icc) * c[:, unit])[:, :, None] + np.sqrt(q) * v[:, unit, :]
    shares = np.asarray(h.attrition, float)
    if h.mechanism == "mar" and shares.any():
        a = np.asarray(mar_intercepts(tuple(float(s) for s in shares), float(h.mar_slope)))
        with np.errstate(invalid="ignore"):
            p_gone = special.expit(a[None, None, :] + h.mar_slope * y0[:, :, :1])
    else:
        p_gone = np.broadcast_to(shares[None, None, :], y0.shape)
    observed = u[:, :, None] >= p_gone
    observed[:, :, 0] = True
    return SurveyDraw(y0=y0, observed=observed, arm=arm)


def draw_retention(h, n: int, seed: int, sims) -> np.ndarray:
    """Unit exponentials (B, 2, 2n) of simulations ``sims``: the latent voluntary and involuntary exits.

    Parameters
    ----------
    h : RetentionHypothesis
        Its id keys the streams.
    n : int
        Participants per arm.
    seed : int
        The plan's seed.
    sims : sequence of int
        The simulations' indices.

    Returns
    -------
    ndarray (len(sims), 2, 2n)

    Examples
    --------
    >>> from rmstudy.planning.spec import RetentionHypothesis
    >>> draw_retention(RetentionHypothesis("R1", "primary", "increase", hazard_ratio=0.7), 3, 1, range(2)).shape
    (2, 2, 6)
    """
    E = np.empty((len(sims), 2, 2 * n))
    for k, i in enumerate(sims):
        E[k] = stream(seed, h.id, int(i)).standard_exponential((2, 2 * n))
    return E


def retention_times(h, E: np.ndarray, hazard_ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """Follow-up time (days) and voluntary-exit indicator, each (B, 2n), from :func:`draw_retention`'s exponentials.

    Parameters
    ----------
    h : RetentionHypothesis
        Its exit rates and follow-up.
    E : ndarray (B, 2, 2n)
        :func:`draw_retention`.
    hazard_ratio : float
        The programme's hazard ratio of voluntary exit in this scenario.

    Returns
    -------
    (ndarray, ndarray)
        Times (censored at ``follow_up_days``) and whether each ended in a voluntary exit.

    Examples
    --------
    With an exit rate of 0.2 the comparison arm's hazard is -log(0.8) / 365 a day, and a hazard ratio of 0.5 doubles
    the programme's time to exit; no involuntary exits here.

    >>> from rmstudy.planning.spec import RetentionHypothesis
    >>> h = RetentionHypothesis("R1", "primary", "increase", hazard_ratio=0.5, involuntary_rate=0.0)
    >>> E = np.array([[[0.1, 0.5, 0.1, 0.5], [1.0, 1.0, 1.0, 1.0]]])
    >>> t, exit_ = retention_times(h, E, 0.5)
    >>> np.round(t, 1), exit_
    (array([[327.1, 365. , 163.6, 365. ]]), array([[ True, False,  True, False]]))
    """
    arm = arms(E.shape[2] // 2)
    T = float(h.follow_up_days)
    h_vol = -np.log1p(-h.exit_rate) / T * np.where(arm == 1, hazard_ratio, 1.0)
    h_inv = -np.log1p(-h.involuntary_rate) / T
    t_vol = E[:, 0] / h_vol[None, :]
    t_inv = E[:, 1] / h_inv if h_inv > 0 else np.full_like(t_vol, np.inf)
    return np.minimum(np.minimum(t_vol, t_inv), T), t_vol <= np.minimum(t_inv, T)
