"""The README's main job: load the bundled world, roll out shoppers, print session metrics.

Three reference policies that read only the observation and the mask: ``random`` (a
uniform item not in the cart), ``popular`` (the most-bought item not in the cart) and
``repeat`` (the item the shopper bought most often before, else the most popular).
"""

from __future__ import annotations

import time
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd

from cartgym.metrics import Policy, run_sessions, summarize


def demo_policies(env: gym.Env) -> dict[str, Policy]:
    core: Any = env.unwrapped
    popularity = core.world.popularity
    layout = core.layout

    def random(obs: np.ndarray, env: gym.Env) -> int:
        allowed = np.flatnonzero(core.action_masks())
        return int(core.np_random.choice(allowed))

    def popular(obs: np.ndarray, env: gym.Env) -> int:
        return int(np.where(obs[layout.cart] > 0, -np.inf, popularity).argmax())

    def repeat(obs: np.ndarray, env: gym.Env) -> int:
        score = obs[layout.history] * 1e3 + popularity  # history first, popularity breaks ties
        return int(np.where(obs[layout.cart] > 0, -np.inf, score).argmax())

    return {"random": random, "popular": popular, "repeat": repeat}


def run_demo(
    env_id: str = "CartRec-v0", sessions: int = 300, seed: int = 0, **env_kwargs
) -> pd.DataFrame:
    """Metrics (mean and 95% CI) of each demo policy on the same seed."""
    rows = []
    for name in ("random", "popular", "repeat"):
        env = gym.make(env_id, **env_kwargs)
        policy = demo_policies(env)[name]
        started = time.perf_counter()
        summary = summarize(run_sessions(env, policy, sessions, seed))
        elapsed = time.perf_counter() - started
        row = {"policy": name}
        for metric, (mean, low, high) in summary.iterrows():
            row[metric] = f"{mean:.3f} [{low:.3f}, {high:.3f}]"
        row["seconds"] = f"{elapsed:.1f}"
        rows.append(row)
        env.close()
    return pd.DataFrame(rows).set_index("policy")
