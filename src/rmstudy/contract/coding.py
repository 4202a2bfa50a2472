"""Treatment coding, written once: the arms, their reference level, and how covariates enter a design matrix.

Estimates are programme minus control (reference level ``control``) and a later wave minus the contrast's
baseline wave (reference: the first wave of the plan). Covariates enter as R's ``factor`` codes them: numeric
columns as they are, text columns as 0/1 dummies against their first level in sorted order. The mixed models
(``rmstudy.stats.models.mixed.design_arm_wave``), the Cox models (``rmstudy.stats.models.survival
.covariate_matrix``) and the ANCOVAs (``rmstudy.stats.sensitivity``) build their columns with these functions.
"""

from __future__ import annotations

__all__ = ["ARMS", "TREATED", "CONTROL", "arm_indicator", "covariate_columns"]

import numpy as np
import pandas as pd

TREATED = "program"
CONTROL = "control"
#: the arms of a cohort (participants.csv ``arm``), treated first
ARMS = (TREATED, CONTROL)


def arm_indicator(arm: pd.Series, level: str = TREATED) -> np.ndarray:
    """1.0 where ``arm`` is ``level`` (the programme), else 0.0.

    Parameters
    ----------
    arm : Series
        participants.csv ``arm`` values.
    level : str, default ``"program"``
        The level coded 1.

    Returns
    -------
    numpy array of float
        The 0/1 indicator.

    Examples
    --------
    >>> arm_indicator(pd.Series(["program", "control", "program"])).tolist()
    [1.0, 0.0, 1.0]
    """
    return (arm == level).to_numpy(dtype=float)


def covariate_columns(data: pd.DataFrame, covariates, style: str = "bracket"
                      ) -> tuple[list[np.ndarray], list[str], list[int]]:
    """Design columns of ``covariates``: numeric as they are, text as treatment dummies against the first level
    in sorted order (R's ``factor`` default; missing values are no level).

    Parameters
    ----------
    data : DataFrame holding the covariate columns.
    covariates : column names, in the order the columns are wanted.
    style : ``"bracket"`` names a dummy ``department[Sales]`` (formula style, as the mixed models name terms);
        ``"r"`` names it ``departmentSales`` (as R's ``coxph`` does).

    Returns
    -------
    (columns, names, term_of)
        one float array per design column, its name, and the index in ``covariates`` of the covariate each
        column codes (R's ``assign``, for per-term tests).

    Examples
    --------
    >>> d = pd.DataFrame({"age": [30, 40, 50], "dept": ["Sales", "HR", "Sales"]})
    >>> cols, names, term_of = covariate_columns(d, ["age", "dept"])
    >>> names, term_of, cols[1].tolist()
    (['age', 'dept[Sales]'], [0, 1], [1.0, 0.0, 1.0])
    >>> covariate_columns(d, ["dept"], style="r")[1]
    ['deptSales']
    """
    cols, names, term_of = [], [], []
    for k, c in enumerate(covariates):
        s = data[c]
        if pd.api.types.is_numeric_dtype(s):
            cols.append(s.to_numpy(dtype=float))
            names.append(c)
            term_of.append(k)
            continue
        text = s.astype(str)
        for lv in sorted(s.dropna().astype(str).unique())[1:]:
            cols.append((text == lv).to_numpy(dtype=float))
            names.append(f"{c}[{lv}]" if style == "bracket" else f"{c}{lv}")
            term_of.append(k)
    return cols, names, term_of
