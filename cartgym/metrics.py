"""Session metrics with 95% confidence intervals.

One row per finished session: ``revenue`` (sum of rewards), ``recommendations`` (steps),
``accepted``, ``checkout`` (1 if the session ended at checkout), ``abandoned``,
``truncated``, ``basket_size`` and ``basket_value`` at the end. :func:`summarize` turns
them into the metrics users expect:

- revenue per session: mean of ``revenue``, t interval;
- CTR: accepted recommendations over recommendations, a ratio estimator with a
  delta-method interval over sessions;
- conversion: share of sessions ending at checkout, t interval (Wald);
- basket size and basket value: means, t intervals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd
from scipy import stats

SESSION_COLUMNS = (
    "revenue",
    "recommendations",
    "accepted",
    "checkout",
    "abandoned",
    "truncated",
    "basket_size",
    "basket_value",
)
Policy = Callable[[np.ndarray, gym.Env], Any]


def run_sessions(env: gym.Env, policy: Policy, n_sessions: int, seed: int) -> pd.DataFrame:
    """Play ``n_sessions`` sessions with ``policy(observation, env) -> action``.

    The environment is seeded once with ``seed``; later resets continue its generator, so
    the same seed and policy give the same sessions.
    """
    if n_sessions < 1:
        raise ValueError(f"n_sessions must be >= 1, got {n_sessions}")
    rows = []
    obs, info = env.reset(seed=seed)
    for _ in range(n_sessions):
        row = dict.fromkeys(SESSION_COLUMNS, 0.0)
        while True:
            obs, reward, terminated, truncated, info = env.step(policy(obs, env))
            row["revenue"] += float(reward)
            row["recommendations"] += 1
            row["accepted"] += info["accepted"] >= 0
            if terminated or truncated:
                break
        row.update(
            checkout=float(info["checkout"]),
            abandoned=float(info["abandoned"]),
            truncated=float(truncated and not terminated),
            basket_size=info["cart_size"],
            basket_value=info["cart_value"],
        )
        rows.append(row)
        obs, info = env.reset()
    return pd.DataFrame(rows, columns=list(SESSION_COLUMNS)).astype(float)


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, float("nan"), float("nan")
    half = stats.t.ppf(0.5 + level / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return mean, mean - half, mean + half


def ratio_ci(num: np.ndarray, den: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """sum(num) / sum(den) and its delta-method interval, sessions as the sampling unit."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    ratio = float(num.sum() / den.sum())
    n = len(num)
    if n < 2:
        return ratio, float("nan"), float("nan")
    residual = (num - ratio * den) / den.mean()
    half = stats.t.ppf(0.5 + level / 2, n - 1) * residual.std(ddof=1) / np.sqrt(n)
    return ratio, ratio - half, ratio + half


def summarize(sessions: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """One row per metric: mean (or ratio), lower and upper bound of the interval."""
    rows = {
        "revenue_per_session": mean_ci(sessions["revenue"], level),
        "ctr": ratio_ci(sessions["accepted"], sessions["recommendations"], level),
        "conversion": mean_ci(sessions["checkout"], level),
        "basket_size": mean_ci(sessions["basket_size"], level),
        "basket_value": mean_ci(sessions["basket_value"], level),
    }
    return pd.DataFrame.from_dict(rows, orient="index", columns=["mean", "ci_low", "ci_high"])
