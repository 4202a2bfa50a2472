"""The typed hypothesis row: one results.json ``hypotheses`` entry, built in one place per kind of outcome.

``rmstudy.analysis.hypotheses`` builds a :class:`HypothesisRow` (survey rows with the Bayes factor of the
sensitivity analyses included); the notebooks record it unchanged; :func:`rmstudy.stats.decisions
.finalise_hypotheses` returns copies with ``p_adjusted``, ``adjustment`` and ``decision``; results.json holds
:meth:`HypothesisRow.to_dict`. A row is frozen (nothing changes it after it is built) and reads like the JSON
mapping it becomes (``row["estimate"]``, ``row.get("df")``), so reports and tests written for results.json read a
typed row unchanged.
"""

from __future__ import annotations

__all__ = ["HypothesisRow", "OPTIONAL_FIELDS"]

from collections.abc import Mapping
from dataclasses import dataclass, fields

from rmstudy.errors import ResultsError

#: keys results.json leaves out when they do not apply (retention rows have no ``design``, Bayes factor or
#: trajectory; rows are recorded before multiplicity and the decision are known)
OPTIONAL_FIELDS = ("design", "trajectory", "model_means", "joint_test", "bayes_factor_10", "log10_bayes_factor_10",
                   "p_adjusted", "adjustment", "decision")


@dataclass(frozen=True, kw_only=True, eq=True)
class HypothesisRow(Mapping):
    """One hypothesis of the plan, as results.json records it (docs/results.md). The field order is the key order.

    Survey rows: ``estimate``, ``se``, ``df`` and the CI are the difference in change in scale points, ``design``
    is ``two_arm`` or ``single_arm`` and ``bayes_factor_10`` the JZS Bayes factor on completers' change (None when
    too large or small for a float; ``log10_bayes_factor_10``, its log10, is always a number). Retention
    rows: the log hazard ratio of voluntary exit (``df`` None) and ``effect_size`` the hazard ratio.

    Survey rows also carry the primary model's ``trajectory`` (the programme − control difference in change from
    the first wave at every later wave: ``wave, estimate, se, df, ci_low, ci_high, p_value``; single-arm: the
    change itself), ``model_means`` (``arm, wave, estimate, se, df, ci_low, ci_high``) and ``joint_test`` (every
    arm × wave contrast of the trajectory at once: ``F, df1, df2, p_value``). The decision uses the plan's
    ``contrast`` (``estimate`` ...), not these.

    Attributes
    ----------
    id, label, question, outcome, family, direction, method : str
        From the plan (``method``: the model, in words).
    population : dict
    contrast : list or None
        Baseline and later wave (None for retention).
    design : str or None
    estimate, se, ci_low, ci_high, p_value : float
    df : float or None
    effect_size : dict
        ``name, value, ci_low, ci_high``.
    raw_difference : dict or None
    sesoi, tost_p, baseline_sd : float or None
    sesoi_units : str or None
    n : dict
        Per arm: ``participants``, ``observations`` (retention: ``events``).
    trajectory, model_means : list or None
    joint_test : dict or None
    notes : list of str
    bayes_factor_10, log10_bayes_factor_10, p_adjusted : float or None
    adjustment, decision : str or None
        Set by :func:`rmstudy.stats.decisions.finalise_hypotheses`.

    Examples
    --------
    >>> r = HypothesisRow(id="H1", label="L", question="", outcome="wellbeing", population={}, family="primary",
    ...                   direction="increase", contrast=["pre", "post"], design="two_arm", method="LMM",
    ...                   estimate=0.3, se=0.1, df=50.0, ci_low=0.1, ci_high=0.5, p_value=0.004,
    ...                   effect_size={"name": "d_ppc2", "value": 0.4, "ci_low": 0.1, "ci_high": 0.7},
    ...                   raw_difference=None, sesoi=None, sesoi_units=None, tost_p=None, baseline_sd=0.75,
    ...                   n={}, notes=[])
    >>> r["estimate"], r.get("decision"), "design" in r, "decision" in r
    (0.3, None, True, False)
    >>> HypothesisRow.from_dict(r.to_dict()) == r
    True
    """

    id: str
    label: str
    question: str
    outcome: str
    population: dict
    family: str
    direction: str
    contrast: list | None
    design: str | None = None
    method: str
    estimate: float
    se: float
    df: float | None
    ci_low: float
    ci_high: float
    p_value: float
    effect_size: dict
    raw_difference: dict | None
    sesoi: float | None
    sesoi_units: str | None
    tost_p: float | None
    baseline_sd: float | None
    n: dict
    trajectory: list | None = None
    model_means: list | None = None
    joint_test: dict | None = None
    notes: list
    bayes_factor_10: float | None = None
    log10_bayes_factor_10: float | None = None
    p_adjusted: float | None = None
    adjustment: str | None = None
    decision: str | None = None

    def to_dict(self) -> dict:
        """The results.json mapping: every field in order, the :data:`OPTIONAL_FIELDS` only when set."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in OPTIONAL_FIELDS or getattr(self, f.name) is not None}

    @classmethod
    def from_dict(cls, d: Mapping) -> HypothesisRow:
        """A row from its results.json (or notebook record) mapping; unknown or missing keys raise ResultsError."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        missing = sorted(n for n in names - set(d) if n not in OPTIONAL_FIELDS)
        if unknown or missing:
            raise ResultsError(f"hypothesis row {d.get('id')!r} is not a results.json row: unknown keys {unknown}, "
                               f"missing keys {missing}; rows are built by rmstudy.analysis and recorded unchanged")
        return cls(**dict(d))

    # read-only mapping view, as the row appears in results.json
    def __getitem__(self, key: str):
        if key not in self._keys():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self):
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def _keys(self) -> tuple[str, ...]:
        return tuple(self.to_dict())

    @property
    def is_retention(self) -> bool:
        return self.outcome == "retention"
