"""``cartgym demo``: roll out shoppers of the bundled world under three simple policies.

The policies read only the observation: ``random`` (a uniform item not in the cart),
``popular`` (the most-bought item not in the cart) and ``repeat`` (the item the shopper
bought most often before, else the most popular). Every figure comes from
:func:`cartgym.evaluation.evaluate`, on the same seed for each policy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd

from cartgym.evaluation import evaluate
from cartgym.world import ShopperWorld


def demo_policies(world: ShopperWorld, seed: int = 0) -> dict[str, Callable]:
    """The three demo policies of (N, D) observations of ``world``'s environments."""
    m = world.n_items
    rng = np.random.default_rng(seed)
    popularity = world.popularity

    def best(obs: np.ndarray, score: np.ndarray) -> np.ndarray:
        return np.where(obs[:, :m] > 0.5, -np.inf, score).argmax(axis=1)

    return {
        "random": lambda obs: best(obs, rng.random((len(obs), m))),
        "popular": lambda obs: best(obs, np.broadcast_to(popularity, (len(obs), m))),
        # history first (the block after the cart), popularity breaks ties
        "repeat": lambda obs: best(obs, obs[:, m : 2 * m] * 1e3 + popularity),
    }


def run_demo(
    env_id: str = "CartRec-v0", sessions: int = 300, seed: int = 0, lanes: int = 50, **env_kwargs
) -> pd.DataFrame:
    """Metrics (mean [95% CI]) of each demo policy over ``sessions`` sessions, same seed."""
    rows = []
    for name in ("random", "popular", "repeat"):
        env = gym.make_vec(
            env_id, num_envs=lanes, vectorization_mode="vector_entry_point", **env_kwargs
        )
        core: Any = env.unwrapped
        policy = demo_policies(core.world, seed)[name]
        started = time.perf_counter()
        metrics = evaluate(policy, env, sessions, seed).metrics()
        row = {"policy": name}
        for metric, (mean, low, high) in metrics.items():
            row[metric] = f"{mean:.3f} [{low:.3f}, {high:.3f}]"
        row["seconds"] = f"{time.perf_counter() - started:.1f}"
        rows.append(row)
        env.close()
    return pd.DataFrame(rows).set_index("policy")
