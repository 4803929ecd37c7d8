"""``cartgym demo``: roll out test shoppers under simple policies, each against its twin.

The policies: ``no_recommendation`` (shows nothing: the control), ``random`` (a uniform
item not in the cart), ``popularity`` and ``cooccurrence`` (fitted on the training users'
logs). Every figure comes from :func:`cartgym.evaluation.evaluate` on test shoppers, from
the same seed for each policy, so on CartRec-v1 every policy meets the same shoppers and
each session has its twin (the same shopper shown nothing): ``incremental_basket_value``
is the mean of basket value minus the twin's, with its 95% interval over sessions.
"""

from __future__ import annotations

import time

import gymnasium as gym
import pandas as pd

from cartgym.agents.registry import make_agent
from cartgym.data import training_logs
from cartgym.evaluation import evaluate
from cartgym.stats import mean_ci

POLICIES = ("no_recommendation", "random", "popularity", "cooccurrence")


def run_demo(
    env_id: str = "CartRec-v1", sessions: int = 300, seed: int = 0, lanes: int = 50, **env_kwargs
) -> pd.DataFrame:
    """Metrics (mean [95% CI]) of each demo policy over ``sessions`` test sessions."""
    rows = []
    for name in POLICIES:
        env = gym.make_vec(
            env_id,
            num_envs=lanes,
            vectorization_mode="vector_entry_point",
            population="test",
            **env_kwargs,
        )
        agent = make_agent(name, env, seed=seed)
        if hasattr(agent, "fit"):
            agent.fit(training_logs(agent.catalogue.source))
        started = time.perf_counter()
        result = evaluate(agent, env, sessions, seed)
        row = {"policy": name}
        for metric, (mean, low, high) in result.metrics().items():
            row[metric] = f"{mean:.3f} [{low:.3f}, {high:.3f}]"
        s = result.sessions
        if s["twin_basket_value"].notna().all():
            mean, low, high = mean_ci((s["basket_value"] - s["twin_basket_value"]).to_numpy())
            row["incremental_basket_value"] = f"{mean:.2f} [{low:.2f}, {high:.2f}]"
        row["seconds"] = f"{time.perf_counter() - started:.1f}"
        rows.append(row)
        env.close()
    return pd.DataFrame(rows).set_index("policy")
