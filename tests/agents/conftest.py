"""Fixtures for the agent tests: a world with one clearly best item, and logs that say so."""

from __future__ import annotations

from dataclasses import replace

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from agent_cases import BEST, N_ITEMS, new_agent

import cartgym  # noqa: F401
from cartgym.agents.knowledge import LogKnowledge, register_knowledge
from cartgym.envs.observation import Catalogue
from cartgym.evaluation import evaluate
from cartgym.world import ChoiceCoefficients, ShopperWorld


@pytest.fixture(autouse=True, scope="session")
def _one_thread() -> None:
    torch.set_num_threads(1)


N_USERS = 150
N_BASKETS = 300


@pytest.fixture(scope="session")
def best(small_world: ShopperWorld) -> tuple[ShopperWorld, pd.DataFrame]:
    """A world where item BEST is clearly best, and logs of that world's shoppers.

    N_ITEMS items at equal prices; the choice is driven by popularity only, with BEST far
    ahead. The logs: N_BASKETS baskets of three items (BEST and two others) from N_USERS of
    the world's users, plus a line of an item outside the catalogue every 50 baskets. The
    world's shoppers are those users, with the logs as their history.
    """
    world = small_world.top_items(N_ITEMS)
    rng = np.random.default_rng(0)
    others = np.delete(np.arange(N_ITEMS), BEST)
    baskets = np.array([[BEST, *rng.choice(others, 2, replace=False)] for _ in range(N_BASKETS)])
    users = np.arange(N_BASKETS) % N_USERS
    counts = sp.csr_matrix(
        (np.ones(baskets.size), (np.repeat(users, 3), baskets.ravel())),
        shape=(world.n_users, N_ITEMS),
    )
    counts.data = np.log1p(counts.data)
    popularity = np.zeros(N_ITEMS)
    popularity[BEST] = 3.0
    world = replace(
        world,
        popularity=popularity,
        prices=np.ones(N_ITEMS),
        quantities=np.ones(N_ITEMS),
        history=counts.astype(world.history.dtype),
        session_users=users.astype(world.session_users.dtype),
        session_sizes=np.full(N_BASKETS, 3, dtype=world.session_sizes.dtype),
        coefficients=ChoiceCoefficients(
            taste=0.0, history=0.0, popularity=1.0, complement=0.0, log_price=0.0
        ),
    )
    rows = []
    for b, (user, items) in enumerate(zip(users, baskets, strict=True)):
        lines = [str(world.item_ids[i]) for i in items]
        lines += ["NOT-IN-CATALOGUE"] if b % 50 == 0 else []
        rows += [(str(world.user_ids[user]), f"b{b}", item) for item in lines]
    logs = pd.DataFrame(rows, columns=["user_id", "basket_id", "item_id"])
    logs = logs.astype({c: pd.StringDtype(na_value=np.nan) for c in logs.columns})
    # the agents' knowledge of this world's items: these logs (not the real ones)
    world = replace(world, meta={**world.meta, "source": "synthetic best-item logs"})
    register_knowledge(LogKnowledge.from_logs(logs, Catalogue.of_world(world)))
    return world, logs


@pytest.fixture(scope="session")
def best_world(best) -> ShopperWorld:
    return best[0]


@pytest.fixture(scope="session")
def best_logs(best) -> pd.DataFrame:
    return best[1]


def _make_env(world: ShopperWorld, slate: bool = False, n: int | None = None, **kwargs):
    env_id = "CartRecSlate-v0" if slate else "CartRec-v0"
    if n is None:
        return gym.make(env_id, world=world, **kwargs)
    return gym.make_vec(
        env_id, num_envs=n, vectorization_mode="vector_entry_point", world=world, **kwargs
    )


def _mean_revenue(agent, env, sessions: int = 150, seed: int = 1) -> float:
    return float(evaluate(agent, env, sessions, seed).sessions["revenue"].mean())


@pytest.fixture(scope="session")
def make_env():
    """make_env(world, slate=False, n=None, **kwargs): the single env, or the vector env of n."""
    return _make_env


@pytest.fixture(scope="session")
def mean_revenue():
    """mean_revenue(agent, env, sessions=150, seed=1): reward per session, deterministic."""
    return _mean_revenue


@pytest.fixture(scope="session")
def build_agent(best_logs):
    """build_agent(name, env, seed=0, steps=300): a new agent, trained on ``env`` or the logs."""
    from cartgym.agents import LogAgent, OnlineAgent

    def build(name: str, env, seed: int = 0, steps: int = 300):
        agent = new_agent(name, env, seed)
        if isinstance(agent, OnlineAgent):
            agent.learn(env, steps, seed=seed)
        elif isinstance(agent, LogAgent):
            agent.fit(best_logs)
        return agent

    return build
