"""One run of a sweep: train an agent on training shoppers, evaluate it on held-out ones.

Each run (agent, environment, seed) trains the agent on shoppers of the ``train``
population (online agents and SB3 algorithms for ``budget`` environment steps; log-based
agents fit on the training users' logged baskets), then evaluates it with
:func:`cartgym.evaluation.evaluate` on ``eval_sessions`` sessions of the disjoint
``eval_population``: ``test`` for published results, ``validation`` for every choice made
before them (tuning sweeps). The evaluation seed and lanes are the same for every agent,
so on CartRec-v1 they all meet the same shoppers with the same draws, session by session.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from cartgym import __version__
from cartgym.agents.logs import LogAgent
from cartgym.agents.protocol import OnlineAgent
from cartgym.agents.registry import AGENTS
from cartgym.data import Transactions
from cartgym.data import training_logs as bundled_training_logs
from cartgym.envs.observation import Catalogue
from cartgym.evaluation import evaluate
from cartgym.harness.config import BenchConfig, ConfigError, Run, SweepEnv
from cartgym.stats import mean_ci

METRICS = (
    "revenue_per_session",
    "ctr",
    "conversion",
    "basket_size",
    "basket_value",
    "coverage",
    "items_per_recommendation",
    "discount_cost",
)


def training_logs(catalogue: Catalogue) -> Transactions:
    """Logged baskets of the training users behind an environment's catalogue (never a
    validation or test user)."""
    try:
        return bundled_training_logs(catalogue.source)
    except ValueError as error:
        raise ConfigError(f"envs: log-based agents need training logs: {error}") from None


# --------------------------------------------------------------------------- one run
def env_dynamics(env: SweepEnv) -> str:
    """The shopper model of ``env``: ``"v1"`` or ``"v0"`` (from its registered arguments)."""
    return str({**gym.spec(env.id).kwargs, **env.kwargs}.get("dynamics", "v0"))


def make_env(env: SweepEnv, population: str, lanes: int | None = None, **extra):
    kwargs = {**env.kwargs, "population": population, **extra}
    if lanes is None:
        return gym.make(env.id, **kwargs)
    return gym.make_vec(env.id, num_envs=lanes, vectorization_mode="vector_entry_point", **kwargs)


def run_one(run: Run, config: BenchConfig) -> dict[str, Any]:
    """Train and evaluate one agent on one environment with one seed; returns the row."""
    _one_thread()
    kind, maker = AGENTS[run.agent].kind, AGENTS[run.agent].maker
    settings = config.agent_kwargs.get(run.agent, {})
    eval_seed = 1_000_000 + run.seed
    v0 = env_dynamics(run.env) == "v0"
    # v0 has no show-nothing action: its control is the same shoppers with nothing shown
    control = {"show_recommendations": False} if kind == "control" and v0 else {}
    eval_env = make_env(run.env, config.eval_population, lanes=config.eval_lanes, **control)
    curve: list[tuple[int, float]] = []
    started = time.perf_counter()
    interactions = 0
    act: Callable[[np.ndarray], np.ndarray]
    if kind == "sb3":
        from cartgym.harness.sb3_runs import sb3_policy  # SB3 and torch, for SB3 runs only

        act, learn = sb3_policy(run.agent, run.env, run.seed, settings)
    elif kind == "control" and v0:  # the same shoppers, shown nothing: actions are ignored

        def act(obs):
            return np.zeros(eval_env.action_space.shape, dtype=np.int64)
    else:
        assert maker is not None
        train_env = eval_env if kind == "oracle" else make_env(run.env, "train", lanes=8)
        agent = maker(train_env, seed=run.seed, **settings)
        if kind == "logs" or isinstance(agent, LogAgent):
            agent.fit(training_logs(eval_env.unwrapped.catalogue))

        act = agent

        def learn(steps, agent=agent):
            if isinstance(agent, OnlineAgent):
                agent.learn(train_env, steps, seed=run.seed if agent.num_timesteps_ == 0 else None)

    train_seconds = time.perf_counter() - started  # building and fitting the agent
    learns = kind in ("online", "sb3")
    chunks = config.curve_points if learns and config.curve_points else 1
    for chunk in range(1, chunks + 1):
        steps = config.budget * chunk // chunks - interactions if learns else 0
        if steps:
            clock = time.perf_counter()
            learn(steps)
            train_seconds += time.perf_counter() - clock
            interactions += steps
        if learns and config.curve_points:
            lanes = min(config.eval_lanes, config.curve_sessions)
            point_env = make_env(run.env, config.eval_population, lanes=lanes)
            point = evaluate(act, point_env, config.curve_sessions, eval_seed).summary()
            curve.append((interactions, point["revenue_per_session"]))
    clock = time.perf_counter()
    result = evaluate(act, eval_env, config.eval_sessions, eval_seed)
    eval_seconds = time.perf_counter() - clock
    metrics = result.summary()
    return {
        "config": config.name,
        "agent": run.agent,
        "kind": kind,
        "env": run.env.label,
        "env_id": run.env.id,
        "env_kwargs": json.dumps(run.env.kwargs, sort_keys=True),
        "seed": run.seed,
        "eval_population": config.eval_population,
        "interactions": interactions,
        **{m: float(metrics[m]) for m in METRICS},
        **session_intervals(result),
        "sessions": int(metrics["sessions"]),
        "train_seconds": train_seconds,
        "eval_seconds": eval_seconds,
        "seconds_per_1000_sessions": 1000 * eval_seconds / metrics["sessions"],
        "curve": json.dumps(curve),
        # per session, in (lane, index) order: the same shoppers for every agent on v1
        **{f"session_{c}": result.sessions[c].to_numpy() for c in SESSION_ARRAYS},
        "cartgym_version": __version__,
    }


# per-session values kept in every row, for paired tests session by session
SESSION_ARRAYS = ("revenue", "basket_value", "twin_basket_value", "user")
# CartRec-v1's measures against each session's twin (NaN on v0), in every row
TWIN_METRICS = (
    "incremental_basket_value",
    "incremental_items",
    "incremental_conversion",
    "bought_anyway_share",
)


def session_intervals(result: Any) -> dict[str, float]:
    """The twin measures, and the 95% intervals over this run's sessions of the metrics
    (``<metric>_low`` / ``<metric>_high``; the incremental value's from its per-session
    differences)."""
    out: dict[str, float] = dict(result.against_twin())
    for name, interval in result.metrics().items():
        out[f"{name}_low"], out[f"{name}_high"] = interval.low, interval.high
    sessions = result.sessions
    difference = mean_ci((sessions["basket_value"] - sessions["twin_basket_value"]).to_numpy())
    out["incremental_basket_value_low"] = difference.low
    out["incremental_basket_value_high"] = difference.high
    return out


def _one_thread() -> None:
    """Workers share the cores: one torch thread each (many threads each thrash 2 cores)."""
    if "torch" in sys.modules or importable("torch"):
        import torch

        torch.set_num_threads(1)


def importable(name: str) -> bool:
    from importlib.util import find_spec

    return find_spec(name) is not None
