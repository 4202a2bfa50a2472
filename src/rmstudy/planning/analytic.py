"""Closed-form power that the simulations are checked against (and that seeds the sample-size search).

**Difference in change, complete data (exact).** With every participant observed at W waves, a random intercept
(pre-post correlation rho, baseline SD 1) and n_1, n_0 per arm, the primary LMM's test of the contrast between two
waves is a t-test (rmstudy/planning/fastlmm.py): the estimate, the difference between the arms' mean changes, is
normal with mean d (the effect in baseline SDs) and variance 2 (1 - rho)(1/n_1 + 1/n_0), and sigma2_hat (N - 2)(W - 1)
/ sigma2 is an independent chi-square on (N - 2)(W - 1) df. So T is noncentral t with

    df = (N - 2)(W - 1),   ncp = d / sqrt(2 (1 - rho) (1/n_1 + 1/n_0)),

which for two waves and n per arm is ncp = d_change * sqrt(n / 2) with d_change = d / sqrt(2 (1 - rho)), the
standardised effect on the change score: pwr::pwr.t.test(n, d = d_change) (tests/reference/make_power_reference.R).
Power to decide *supported* (significant in the expected direction) is P(T > t_{1 - alpha/2, df}); pwr's two-sided
power adds the tiny P(T < -t_{1 - alpha/2, df}), which the run calls *opposite*.

**Retention (Schoenfeld 1983, Biometrics 39:499).** With D expected voluntary exits and a share pi of the sample in
the programme, the log-rank / Cox Wald statistic is approximately normal with mean log(HR) sqrt(D pi (1 - pi)) and
variance 1, so power = Phi(|log HR| sqrt(D pi (1 - pi)) - z_{1 - alpha/2}), and D = (z_{1-alpha/2} + z_{power})^2 /
(pi (1 - pi) log(HR)^2) events give that power. D is computed from the simulation's own model: exponential hazards
h_v (times HR in the programme) and h_i (involuntary exits, competing), follow-up T, so one participant's probability
of a voluntary exit is h_v / (h_v + h_i) (1 - exp(-(h_v + h_i) T)).
"""

from __future__ import annotations

__all__ = ["change_power", "change_n_for_power", "voluntary_exit_probability", "schoenfeld_power",
           "schoenfeld_events"]

import numpy as np
from scipy import optimize, stats


def change_power(d: float, rho: float, n1: int, n0: int | None = None, alpha: float = 0.05, n_waves: int = 2) -> float:
    """Exact power of the complete-data LMM contrast to come out significant in the direction of ``d``.

    Parameters
    ----------
    d : float
        The true difference in change, in baseline SDs.
    rho : float
        Correlation of one person's scores at two waves.
    n1, n0 : int
        Participants per arm (``n0`` defaults to ``n1``).
    alpha : float
        Two-sided significance level.
    n_waves : int
        Waves observed per participant.

    Returns
    -------
    float
        P(T > t_{1 - alpha/2, df}) for T noncentral t (see the module notes).

    Examples
    --------
    >>> round(change_power(0.5, 0.5, 64), 3)
    0.801
    >>> change_power(0.5, 0.5, 64) == change_power(-0.5, 0.5, 64)
    True
    """
    n0 = n1 if n0 is None else n0
    df = (n1 + n0 - 2) * (n_waves - 1)
    ncp = abs(d) / np.sqrt(2 * (1 - rho) * (1 / n1 + 1 / n0))
    return float(stats.nct.sf(stats.t.ppf(1 - alpha / 2, df), df, ncp))


def change_n_for_power(d: float, rho: float, power: float = 0.8, alpha: float = 0.05, n_waves: int = 2) -> float:
    """Participants per arm (not rounded) for which :func:`change_power` equals ``power``.

    Parameters
    ----------
    d : float
        The true difference in change (d); 0 gives infinity.
    rho : float
        Pre-post correlation.
    power, alpha : float
        Target power and two-sided significance level.
    n_waves : int
        Waves observed per participant.

    Returns
    -------
    float
        Participants per arm (``inf`` when no size reaches ``power``).

    Examples
    --------
    >>> round(change_n_for_power(0.5, 0.5), 1)
    63.8
    >>> change_n_for_power(0.0, 0.5)
    inf
    """
    if d == 0:
        return float("inf")
    f = lambda n: change_power(d, rho, n, n, alpha, n_waves) - power   # noqa: E731
    hi = 4.0
    while f(hi) < 0:
        hi *= 2
        if hi > 1e9:
            return float("inf")
    return float(optimize.brentq(f, 2.0 + 1e-9, hi, xtol=1e-6))


def voluntary_exit_probability(exit_rate: float, involuntary_rate: float, hazard_ratio: float = 1.0,
                               follow_up_days: float = 365) -> float:
    """Probability of a voluntary exit within follow-up under the simulation's competing exponential hazards.

    Parameters
    ----------
    exit_rate : float
        Voluntary exits by the end of follow-up without competing exits (comparison arm).
    involuntary_rate : float
        The same for involuntary exits (the competing risk).
    hazard_ratio : float
        Multiplies the voluntary-exit hazard (the programme's effect).
    follow_up_days : float
        Length of follow-up.

    Returns
    -------
    float
        h_v / (h_v + h_i) (1 - exp(-(h_v + h_i) T)).

    Examples
    --------
    >>> round(voluntary_exit_probability(0.2, 0.0), 4)          # no competing exits: the exit rate itself
    0.2
    >>> round(voluntary_exit_probability(0.2, 0.04), 4), round(voluntary_exit_probability(0.2, 0.04, 0.7), 4)
    (0.1961, 0.1418)
    """
    T = float(follow_up_days)
    hv = -np.log1p(-exit_rate) / T * hazard_ratio
    hi = -np.log1p(-involuntary_rate) / T
    return float(hv / (hv + hi) * -np.expm1(-(hv + hi) * T))


def schoenfeld_power(hazard_ratio: float, events: float, alpha: float = 0.05, share: float = 0.5) -> float:
    """Schoenfeld's power of the two-sided test in the direction of the hazard ratio, given expected events.

    Parameters
    ----------
    hazard_ratio : float
        Programme vs comparison hazard of voluntary exit.
    events : float
        Expected voluntary exits in both arms.
    alpha : float
        Two-sided significance level.
    share : float
        Share of the sample in the programme.

    Returns
    -------
    float
        Phi(abs(log HR) sqrt(D share (1 - share)) - z_{1 - alpha/2}).

    Examples
    --------
    >>> round(schoenfeld_power(0.7, 100), 3)
    0.43
    >>> round(schoenfeld_power(0.7, schoenfeld_events(0.7)), 3)
    0.8
    """
    z = stats.norm.ppf(1 - alpha / 2)
    return float(stats.norm.cdf(abs(np.log(hazard_ratio)) * np.sqrt(events * share * (1 - share)) - z))


def schoenfeld_events(hazard_ratio: float, power: float = 0.8, alpha: float = 0.05, share: float = 0.5) -> float:
    """Events needed for ``power`` (Schoenfeld 1983).

    Parameters
    ----------
    hazard_ratio : float
        Programme vs comparison hazard of voluntary exit (not 1).
    power, alpha : float
        Target power and two-sided significance level.
    share : float
        Share of the sample in the programme.

    Returns
    -------
    float
        Expected voluntary exits (both arms, not rounded).

    Examples
    --------
    >>> round(schoenfeld_events(0.7), 1)
    246.8
    """
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return float(z**2 / (share * (1 - share) * np.log(hazard_ratio) ** 2))
