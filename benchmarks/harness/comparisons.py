"""Paired comparisons of two agents of a sweep, and the words the report uses for them.

Every agent of a sweep is evaluated on each seed from the same evaluation seed and lanes.
On CartRec-v1 that means the same shoppers, session by session (the rows keep each
session's values and shopper, ``session_*``), so a difference is measured session by
session: per seed, the mean of the paired session differences. Over several seeds, the
interval and test are Student-t over the seeds' paired differences (each seed also
retrains the agent, and the test must carry that variance); with one seed, over the
paired sessions. On CartRec-v0 (one generator for the whole run, so sessions do not pair)
the per-seed difference is the difference of the seeds' means.

"beats" needs p < :data:`ALPHA` with a positive difference, "is beaten by" a negative one;
anything else "ties".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

ALPHA = 0.05


@dataclass(frozen=True)
class Comparison:
    """Mean difference (agent - reference) with its 95% interval, p-value and how paired."""

    difference: float
    low: float
    high: float
    p: float
    paired_by: str  # "sessions and seeds", "sessions" or "seeds"

    @property
    def verdict(self) -> str:
        if self.p < ALPHA and self.difference > 0:
            return "beats"
        if self.p < ALPHA and self.difference < 0:
            return "is beaten by"
        return "ties"

    def cell(self) -> str:
        interval = f"[{self.low:+.2f}, {self.high:+.2f}]"
        return f"{self.difference:+.2f} {interval} {self.verdict} (p={self.p:.2g})"


def compare(mine: pd.DataFrame, reference: pd.DataFrame, metric: str = "revenue") -> Comparison:
    """Compare two agents' rows of one environment (one row per seed) on a session
    ``metric`` (``revenue`` or ``basket_value``); NaN fields when no seed is shared."""
    column, summary = f"session_{metric}", _SUMMARIES[metric]
    mine, reference = mine.set_index("seed"), reference.set_index("seed")
    seeds = mine.index.intersection(reference.index)
    per_seed, sessions = [], []
    paired_sessions = column in mine and column in reference
    for seed in seeds:
        a, b = mine.loc[seed], reference.loc[seed]
        if paired_sessions and _same_shoppers(a, b):
            diff = np.asarray(a[column], float) - np.asarray(b[column], float)
            sessions.append(diff)
            per_seed.append(diff.mean())
        else:
            paired_sessions = False
            per_seed.append(float(a[summary]) - float(b[summary]))
    if len(per_seed) == 0:
        return Comparison(np.nan, np.nan, np.nan, np.nan, "none")
    if len(per_seed) >= 2:
        values = np.asarray(per_seed)
        how = "sessions and seeds" if paired_sessions else "seeds"
    elif paired_sessions:
        values, how = sessions[0], "sessions"
    else:
        return Comparison(per_seed[0], np.nan, np.nan, np.nan, "seeds")
    return _t(values, how)


_SUMMARIES = {"revenue": "revenue_per_session", "basket_value": "basket_value"}


def _same_shoppers(a: pd.Series, b: pd.Series) -> bool:
    users_a, users_b = a.get("session_user"), b.get("session_user")
    if users_a is None or users_b is None:
        return False
    users_a, users_b = np.asarray(users_a), np.asarray(users_b)
    return len(users_a) == len(users_b) and bool((users_a == users_b).all())


def _t(values: np.ndarray, how: str) -> Comparison:
    mean = float(values.mean())
    n = len(values)
    spread = float(values.std(ddof=1)) if n > 1 else 0.0
    if spread == 0.0:
        p = 1.0 if mean == 0.0 else 0.0
        return Comparison(mean, mean, mean, p, how)
    half = stats.t.ppf(0.975, n - 1) * spread / np.sqrt(n)
    p = float(stats.ttest_1samp(values, 0.0).pvalue)
    return Comparison(mean, mean - half, mean + half, p, how)
