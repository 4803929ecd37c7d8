"""Confidence intervals used by every report: one definition of each.

- :func:`mean_ci`: mean and Student-t interval;
- :func:`ratio_ci`: a ratio of sums (e.g. click-through) with a delta-method interval;
- :func:`paired_ci`: the mean of paired differences, its t interval and the two-sided p value.

Each returns an :class:`Interval` (``mean``, ``low``, ``high``; ``half_width``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import stats


class Interval(NamedTuple):
    """An estimate and its confidence interval (NaN bounds with fewer than two values)."""

    mean: float
    low: float
    high: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def _t(level: float, n: int) -> float:
    return float(stats.t.ppf(0.5 + level / 2, n - 1))


def mean_ci(values: np.ndarray, level: float = 0.95) -> Interval:
    """Mean and Student-t confidence interval."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return Interval(mean, float("nan"), float("nan"))
    half = _t(level, len(values)) * values.std(ddof=1) / np.sqrt(len(values))
    return Interval(mean, mean - half, mean + half)


def ratio_ci(num: np.ndarray, den: np.ndarray, level: float = 0.95) -> Interval:
    """sum(num) / sum(den) and its delta-method interval, sessions as the sampling unit."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    ratio = float(num.sum() / den.sum())
    n = len(num)
    if n < 2:
        return Interval(ratio, float("nan"), float("nan"))
    residual = (num - ratio * den) / den.mean()
    half = _t(level, n) * residual.std(ddof=1) / np.sqrt(n)
    return Interval(ratio, ratio - half, ratio + half)


def paired_ci(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> tuple[Interval, float]:
    """(interval of mean(a - b), two-sided paired t-test p value); p = 0 or 1 for constant
    nonzero or zero differences, NaN with fewer than two pairs."""
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    interval = mean_ci(diff, level)
    if len(diff) < 2:
        return interval, float("nan")
    if diff.std() == 0:
        return interval, 0.0 if diff.mean() != 0 else 1.0
    return interval, float(stats.ttest_1samp(diff, 0.0).pvalue)
