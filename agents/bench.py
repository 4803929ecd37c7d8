"""The benchmark harness: agents x environments x seeds, same budget, held-out shoppers.

A sweep is a :class:`BenchConfig`. Each run (agent, environment, seed) trains the agent
on shoppers of the ``train`` population (online agents and SB3 algorithms for ``budget``
environment steps; log-based agents fit on the training users' logged baskets), then
evaluates it on ``eval_sessions`` sessions of the disjoint ``eval`` population, from the
same evaluation seed for every agent. One row per run goes to ``OUT/rows/`` (written
atomically: a run is either complete on disk or absent), and ``OUT/results.parquet`` is
rebuilt from the rows; a killed sweep resumes where it stopped.

    cartgym bench --preset quick --out runs/quick          # or benchmarks/run.py
    cartgym bench --config my_sweep.json --backend ray --address auto
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd

import cartgym
from cartgym.cli import OneLineParser
from cartgym.envs.worlds import DEFAULT_WORLD, resolve_world
from cartgym.metrics import summarize
from cartgym.sim.population import is_eval_user

from .base import Agent, OnlineAgent
from .logs import LogAgent

EXECUTORS = ("local", "ray")
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


class ConfigError(ValueError):
    """A malformed sweep configuration; the message names the key."""


@dataclass(frozen=True)
class EnvConfig:
    """An environment of the sweep: a registered id, its keyword arguments, and optionally
    the agents to run on it (default: the sweep's ``agents``)."""

    id: str = "CartRec-v0"
    kwargs: dict[str, Any] = field(default_factory=dict)
    agents: tuple[str, ...] | None = None

    @property
    def label(self) -> str:
        if not self.kwargs:
            return self.id
        text = json.dumps(self.kwargs, sort_keys=True)
        return f"{self.id}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"


@dataclass(frozen=True)
class BenchConfig:
    """A sweep: every agent on every environment with every seed.

    agents: the agents of every environment that names none of its own (``envs[i].agents``).
    Every agent must be able to act on its environments (see :data:`ACTS_ON`: item agents
    recommend items, bundle agents offer bundles, DQN and QR-DQN need ``Discrete`` actions).
    budget: environment steps each learning agent trains for (the same for all).
    eval_sessions: evaluation sessions per run, on held-out (``population="eval"``) shoppers.
    eval_lanes: sessions run side by side in the evaluation vector env.
    curve_points: evaluations along training for learning curves (0: none).
    curve_sessions: sessions per learning-curve point.
    agent_kwargs: per-agent settings, ``{"ucb1": {"c": 1.0}}``.
    """

    name: str
    agents: tuple[str, ...]
    envs: tuple[EnvConfig, ...]
    seeds: tuple[int, ...]
    budget: int
    eval_sessions: int = 500
    eval_lanes: int = 50
    curve_points: int = 0
    curve_sessions: int = 100
    agent_kwargs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.agents) - set(AGENTS))
        if unknown:
            raise ConfigError(f"agents: unknown agent(s) {unknown}; known: {sorted(AGENTS)}")
        if not self.agents or not self.envs or not self.seeds:
            raise ConfigError("agents, envs and seeds must each list at least one entry")
        for key in ("budget", "eval_sessions", "eval_lanes", "curve_sessions"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{key}: expected a positive integer, got {value!r}")
        if not isinstance(self.curve_points, int) or self.curve_points < 0:
            raise ConfigError(f"curve_points: expected an integer >= 0, got {self.curve_points!r}")
        if any(isinstance(s, bool) or not isinstance(s, int) for s in self.seeds):
            raise ConfigError(f"seeds: expected integers, got {list(self.seeds)!r}")
        for i, env in enumerate(self.envs):
            if env.id not in gym.registry:
                raise ConfigError(f"envs: unknown environment id {env.id!r}")
            if env.agents is not None:
                unknown = sorted(set(env.agents) - set(AGENTS))
                if unknown or not env.agents:
                    raise ConfigError(
                        f"envs[{i}].agents: expected a non-empty list of known agents, unknown: "
                        f"{unknown}; known: {sorted(AGENTS)}"
                    )
            self._check_compatible(i, env)
        used = {agent for env in self.envs for agent in self.agents_of(env)}
        stray = sorted(set(self.agent_kwargs) - used)
        if stray:
            raise ConfigError(f"agent_kwargs: settings for agents not in the sweep: {stray}")

    def agents_of(self, env: EnvConfig) -> tuple[str, ...]:
        """The agents that run on ``env``: its own list, or the sweep's."""
        return self.agents if env.agents is None else env.agents

    def _check_compatible(self, i: int, env: EnvConfig) -> None:
        kind = env_kind(env)
        key = "agents" if env.agents is None else f"envs[{i}].agents"
        wrong = [a for a in self.agents_of(env) if kind not in ACTS_ON[a]]
        if wrong:
            able = sorted(a for a in AGENTS if kind in ACTS_ON[a])
            raise ConfigError(
                f"{key}: {wrong} cannot act on envs[{i}] ({env.id}: {ENV_KINDS[kind]}); "
                f"agents that can: {able}"
            )

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> BenchConfig:
        if not isinstance(values, dict):
            raise ConfigError(f"a config is a mapping of keys, got {type(values).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown key(s) {unknown}; known keys: {sorted(known)}")
        missing = sorted(
            k for k in ("name", "agents", "envs", "seeds", "budget") if k not in values
        )
        if missing:
            raise ConfigError(f"missing key(s) {missing}")
        envs = []
        for i, env in enumerate(values["envs"]):
            env = {"id": env} if isinstance(env, str) else env
            if not isinstance(env, dict) or set(env) - {"id", "kwargs", "agents"}:
                raise ConfigError(
                    f"envs[{i}]: expected an id or {{'id': ..., 'kwargs': {{...}}, "
                    "'agents': [...] (optional)}"
                )
            agents = env.get("agents")
            if agents is not None and (isinstance(agents, str) or not isinstance(agents, list)):
                raise ConfigError(
                    f"envs[{i}].agents: expected a list of agent names, got {agents!r}"
                )
            envs.append(
                EnvConfig(
                    env.get("id", "CartRec-v0"),
                    dict(env.get("kwargs", {})),
                    None if agents is None else tuple(agents),
                )
            )
        return cls(
            **{
                **values,
                "agents": tuple(values["agents"]),
                "envs": tuple(envs),
                "seeds": tuple(values["seeds"]),
            }
        )

    @classmethod
    def from_file(cls, path: str | Path) -> BenchConfig:
        try:
            values = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise ConfigError(f"{path}: cannot read a JSON config ({error})") from error
        return cls.from_dict(values)

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["envs"] = [
            {k: (list(v) if k == "agents" else v) for k, v in asdict(e).items()}
            if e.agents is not None
            else {"id": e.id, "kwargs": e.kwargs}
            for e in self.envs
        ]
        return values

    def runs(self) -> Iterator[Run]:
        for env in self.envs:
            for seed in self.seeds:
                for agent in self.agents_of(env):
                    yield Run(agent, env, seed)


@dataclass(frozen=True)
class Run:
    agent: str
    env: EnvConfig
    seed: int

    @property
    def key(self) -> str:
        return f"{self.agent}__{self.env.label}__seed{self.seed}"


# --------------------------------------------------------------------------- agents
AgentMaker = Callable[..., Agent]


def _baselines() -> dict[str, tuple[str, AgentMaker]]:
    from . import bandits, bundle_agents, cf, linear, references

    def neural(env, **kwargs):
        from .neural import NeuralCFAgent

        return NeuralCFAgent(env, **kwargs)

    def matrix_factorization(env, **kwargs):
        # numpy's ALS unless the config asks for another: results must not depend on
        # whether the optional ``implicit`` package happens to be installed
        return cf.MatrixFactorizationAgent(env, **{"backend": "numpy", **kwargs})

    return {
        "random": ("reference", references.RandomAgent),
        "oracle_myopic": ("oracle", references.OracleMyopicAgent),
        "popularity": ("logs", cf.PopularityAgent),
        "cooccurrence": ("logs", cf.CoOccurrenceAgent),
        "mf": ("logs", matrix_factorization),
        "neural_cf": ("logs", neural),
        "epsilon_greedy": ("online", bandits.EpsilonGreedy),
        "ucb1": ("online", bandits.UCB1),
        "thompson": ("online", bandits.ThompsonSampling),
        "linucb": ("online", linear.LinUCB),
        "lin_thompson": ("online", linear.LinearThompsonSampling),
        "bundle_random": ("reference", bundle_agents.BundleRandomAgent),
        "bundle_oracle_myopic": ("oracle", bundle_agents.BundleOracleMyopicAgent),
        "bundle_rules": ("logs", bundle_agents.AssociationRuleBundleAgent),
        "bundle_items_cooccurrence": ("logs", _item_sum("cooccurrence")),
        "bundle_items_linucb": ("online", _item_sum("linucb")),
    }


def _item_sum(item_agent: str) -> AgentMaker:
    """An :class:`~cartgym.agents.bundle_agents.ItemScoreBundleAgent` over ``item_agent``."""

    def make(env, **kwargs):
        from .bundle_agents import ItemScoreBundleAgent

        return ItemScoreBundleAgent(env, **{"item_agent": item_agent, **kwargs})

    return make


RL_ALGORITHMS = ("dqn", "ppo", "a2c", "maskable_ppo", "qrdqn")
AGENTS: dict[str, tuple[str, AgentMaker | None]] = {
    **_baselines(),
    "no_recommendation": ("control", None),
    **{name: ("sb3", None) for name in RL_ALGORITHMS},
}

# What an environment's actions are, and which agents can take them.
ENV_KINDS = {
    "items": "one item per step, Discrete(M)",
    "slates": "a slate of K items, MultiDiscrete([M] * K)",
    "bundles": "bundle offers, Discrete(C) over the candidate block",
}
BUNDLE_AGENTS = tuple(name for name in AGENTS if name.startswith("bundle_"))
ACTS_ON: dict[str, frozenset[str]] = {
    **{name: frozenset({"items", "slates"}) for name in AGENTS},
    **{name: frozenset({"bundles"}) for name in BUNDLE_AGENTS},
    "no_recommendation": frozenset(ENV_KINDS),  # shows nothing: any environment
    "dqn": frozenset({"items", "bundles"}),  # Discrete actions only
    "qrdqn": frozenset({"items", "bundles"}),
    "ppo": frozenset(ENV_KINDS),
    "a2c": frozenset(ENV_KINDS),
    "maskable_ppo": frozenset(ENV_KINDS),
}


def env_kind(env: EnvConfig) -> str:
    """``"items"``, ``"slates"`` or ``"bundles"``: what ``env``'s actions are (from its
    registered and given keyword arguments)."""
    kwargs = {**gym.spec(env.id).kwargs, **env.kwargs}
    if kwargs.get("bundle_candidates") is not None:
        return "bundles"
    return "items" if kwargs.get("slate_size", 1) == 1 else "slates"


def agents_for(kind: str, exclude: tuple[str, ...] = ()) -> list[str]:
    """Every registered agent that can act on environments of ``kind``, sorted."""
    return sorted(a for a in AGENTS if kind in ACTS_ON[a] and a not in exclude)


def training_logs(env_config: EnvConfig):
    """Logged baskets of the training users of the environment's world (never eval users)."""
    from cartgym.data import load_complete_journey, load_online_retail

    name = env_config.kwargs.get("world", gym.spec(env_config.id).kwargs.get("world"))
    source = resolve_world(name or DEFAULT_WORLD).meta.get("source", "")
    loaders: dict[str, Callable[[], Any]] = {
        "online_retail": load_online_retail,
        "completejourney": load_complete_journey,
    }
    loader = next((load for key, load in loaders.items() if key in source), None)
    if loader is None:
        raise ConfigError(
            f"envs: log-based agents need the logs of world {source!r}; the harness knows the "
            f"logs of the bundled worlds only ({sorted(loaders)})"
        )
    table = loader().table
    users = table["user_id"].astype(str).to_numpy()
    return table[~is_eval_user(users)].reset_index(drop=True)


# --------------------------------------------------------------------------- one run
def make_env(env: EnvConfig, population: str, lanes: int | None = None, **extra):
    kwargs = {**env.kwargs, "population": population, **extra}
    if lanes is None:
        return gym.make(env.id, **kwargs)
    return gym.make_vec(env.id, num_envs=lanes, vectorization_mode="vector_entry_point", **kwargs)


def evaluate(
    act: Callable[[np.ndarray, Any], np.ndarray], env, n_sessions: int, seed: int
) -> dict[str, float]:
    """Metrics of ``act(obs, env) -> actions`` over exactly ``n_sessions`` sessions.

    Each lane of the vector env plays its share of the sessions in order, so short
    sessions are not favoured by the stopping rule.
    """
    lanes = env.num_envs
    quota = np.full(lanes, n_sessions // lanes)
    quota[: n_sessions % lanes] += 1
    obs, _ = env.reset(seed=seed)
    counted = np.zeros(lanes, dtype=int)
    restarting = np.zeros(lanes, dtype=bool)
    # per lane: revenue, recommendations, accepted, items taken, discount cost
    current = np.zeros((lanes, 5))
    rows, shown = [], set()
    while (counted < quota).any():
        actions = np.asarray(act(obs, env))
        live = ~restarting & (counted < quota)
        shown.update(_shown_items(env, actions, live).tolist())
        obs, reward, terminated, truncated, info = env.step(actions)
        step = np.stack(
            [
                reward,
                np.ones(lanes),
                info["accepted"] >= 0,
                info["accepted_count"],
                info["discount_cost"],
            ],
            axis=1,
        )
        current[live] += step[live]
        for lane in np.flatnonzero(live & (terminated | truncated)):
            rows.append(
                {
                    "revenue": current[lane, 0],
                    "recommendations": current[lane, 1],
                    "accepted": current[lane, 2],
                    "checkout": float(info["checkout"][lane]),
                    "abandoned": float(info["abandoned"][lane]),
                    "truncated": float(truncated[lane] and not terminated[lane]),
                    "basket_size": float(info["cart_size"][lane]),
                    "basket_value": float(info["cart_value"][lane]),
                    "items_taken": current[lane, 3],
                    "discount_cost": current[lane, 4],
                }
            )
            counted[lane] += 1
            current[lane] = 0.0
        restarting = terminated | truncated
    sessions = pd.DataFrame(rows)
    summary = summarize(sessions)["mean"].to_dict()
    summary["coverage"] = len(shown) / env.unwrapped.world.n_items
    summary["items_per_recommendation"] = float(
        sessions["items_taken"].sum() / sessions["recommendations"].sum()
    )
    summary["discount_cost"] = float(sessions["discount_cost"].mean())
    summary["sessions"] = len(rows)
    return summary


def _shown_items(env, actions: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Catalogue items that ``actions`` (about to be taken) show in ``rows``: the items
    themselves, or the items of the offered bundles; none in the no-recommendation control."""
    sessions = env.unwrapped.sessions
    if not sessions.sim.config.show_recommendations:
        return np.zeros(0, dtype=np.int64)
    if not hasattr(sessions, "catalogue"):
        return np.unique(actions[rows])
    bundles = sessions.current[rows, actions[rows] // len(sessions.discounts)]
    return np.unique(sessions.catalogue.items[bundles])


def run_one(run: Run, config: BenchConfig) -> dict[str, Any]:
    """Train and evaluate one agent on one environment with one seed; returns the row."""
    _one_thread()
    kind, maker = AGENTS[run.agent]
    settings = config.agent_kwargs.get(run.agent, {})
    eval_seed = 1_000_000 + run.seed
    control = {"show_recommendations": False} if kind == "control" else {}
    eval_env = make_env(run.env, "eval", lanes=config.eval_lanes, **control)
    curve: list[tuple[int, float]] = []
    started = time.perf_counter()
    interactions = 0
    if kind == "sb3":
        from .bench_sb3 import sb3_policy

        act, learn = sb3_policy(run.agent, run.env, run.seed, settings)
    elif kind == "control":  # the same shoppers, shown nothing: actions are ignored

        def act(obs, env):
            return np.zeros(env.action_space.shape, dtype=np.int64)
    else:
        assert maker is not None
        train_env = eval_env if kind == "oracle" else make_env(run.env, "train", lanes=8)
        agent = maker(train_env, seed=run.seed, **settings)
        if kind == "logs" or isinstance(agent, LogAgent):
            agent.fit(training_logs(run.env))  # type: ignore[attr-defined]

        def act(obs, env, agent=agent):
            return agent.predict(obs, deterministic=True)[0]

        def learn(steps, agent=agent):
            if isinstance(agent, OnlineAgent):
                agent.learn(train_env, steps, seed=run.seed if agent.num_timesteps_ == 0 else None)

    train_seconds = time.perf_counter() - started  # building and fitting the agent
    learns = kind in ("online", "sb3")
    chunks = config.curve_points if learns and config.curve_points else 1
    for point in range(1, chunks + 1):
        steps = config.budget * point // chunks - interactions if learns else 0
        if steps:
            clock = time.perf_counter()
            learn(steps)
            train_seconds += time.perf_counter() - clock
            interactions += steps
        if learns and config.curve_points:
            lanes = min(config.eval_lanes, config.curve_sessions)
            point_env = make_env(run.env, "eval", lanes=lanes)
            metrics = evaluate(act, point_env, config.curve_sessions, eval_seed)
            curve.append((interactions, metrics["revenue_per_session"]))
    clock = time.perf_counter()
    metrics = evaluate(act, eval_env, config.eval_sessions, eval_seed)
    eval_seconds = time.perf_counter() - clock
    return {
        "config": config.name,
        "agent": run.agent,
        "kind": kind,
        "env": run.env.label,
        "env_id": run.env.id,
        "env_kwargs": json.dumps(run.env.kwargs, sort_keys=True),
        "seed": run.seed,
        "interactions": interactions,
        **{m: float(metrics[m]) for m in METRICS},
        "sessions": int(metrics["sessions"]),
        "train_seconds": train_seconds,
        "eval_seconds": eval_seconds,
        "seconds_per_1000_sessions": 1000 * eval_seconds / metrics["sessions"],
        "curve": json.dumps(curve),
        "cartgym_version": cartgym.__version__,
    }


def _one_thread() -> None:
    """Workers share the cores: one torch thread each (many threads each thrash 2 cores)."""
    if "torch" in sys.modules or importable("torch"):
        import torch

        torch.set_num_threads(1)


def importable(name: str) -> bool:
    from importlib.util import find_spec

    return find_spec(name) is not None


# --------------------------------------------------------------------------- storage
class RowStore:
    """Finished runs as one parquet file each, written atomically; the table rebuilt from them."""

    def __init__(self, out: str | Path):
        self.out = Path(out)
        self.rows = self.out / "rows"

    def prepare(self, config: BenchConfig, fresh: bool = False) -> None:
        self.rows.mkdir(parents=True, exist_ok=True)
        for folder in (self.out, self.rows):
            for partial in folder.glob(".*.partial"):
                partial.unlink()  # left by a killed run: never a result
        saved = self.out / "config.json"
        text = json.dumps(config.to_dict(), indent=1, sort_keys=True)
        if saved.exists() and not fresh and saved.read_text() != text:
            raise ConfigError(
                f"{self.out} holds results of a different config; use another --out or --fresh"
            )
        if fresh:
            for row in self.rows.glob("*.parquet"):
                row.unlink()
        _atomic_write_text(saved, text)

    def done(self) -> set[str]:
        return {p.stem for p in self.rows.glob("*.parquet")}

    def write(self, key: str, row: dict[str, Any]) -> None:
        _atomic_write_parquet(self.rows / f"{key}.parquet", pd.DataFrame([row]))

    def table(self) -> pd.DataFrame:
        files = sorted(self.rows.glob("*.parquet"))
        if not files:
            return pd.DataFrame()
        return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)

    def rebuild(self) -> pd.DataFrame:
        table = self.table()
        _atomic_write_parquet(self.out / "results.parquet", table)
        return table


def _atomic_write_parquet(path: Path, table: pd.DataFrame) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    table.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    tmp.write_text(text)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- executors
def sweep(
    config: BenchConfig,
    out: str | Path,
    *,
    backend: str = "local",
    workers: int = 1,
    address: str | None = None,
    fresh: bool = False,
    log: Callable[[str], None] = print,
) -> pd.DataFrame:
    """Run every missing run of ``config``; return the results table."""
    if backend not in EXECUTORS:
        raise ConfigError(f"backend: expected one of {EXECUTORS}, got {backend!r}")
    store = RowStore(out)
    store.prepare(config, fresh=fresh)
    todo = [run for run in config.runs() if run.key not in store.done()]
    log(f"{config.name}: {len(todo)} run(s) to do, {len(store.done())} already done in {out}")
    failures: list[str] = []

    def finished(run: Run, row: dict[str, Any] | None, error: str | None) -> None:
        if row is not None:
            store.write(run.key, row)
            store.rebuild()
            log(f"  done {run.key}: revenue/session {row['revenue_per_session']:.2f}")
        else:
            failures.append(f"{run.key}: {error}")
            log(f"  FAILED {run.key}: {error}")

    if backend == "ray":
        _ray_sweep(todo, config, address, workers, finished)
    elif workers <= 1:
        for run in todo:
            try:
                finished(run, run_one(run, config), None)
            except Exception as error:  # a failed run must not stop the others
                finished(run, None, _describe(error))
    else:
        with ProcessPoolExecutor(max_workers=workers, initializer=_one_thread) as pool:
            pending = {pool.submit(run_one, run, config): run for run in todo}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    run = pending.pop(future)
                    failure = future.exception()
                    finished(run, None if failure else future.result(), _describe(failure))
    table = store.rebuild()
    if failures:
        raise RuntimeError(f"{len(failures)} run(s) failed: " + "; ".join(failures))
    return table


def _describe(error: BaseException | None) -> str | None:
    if error is None:
        return None
    return "".join(traceback.format_exception_only(type(error), error)).strip()


def _ray_sweep(todo, config, address, workers, finished) -> None:
    try:
        import ray
    except ImportError:
        raise ImportError('--backend ray needs Ray: pip install "cartgym[distributed]"') from None
    started_here = not ray.is_initialized()
    if started_here:
        kwargs = {"address": address} if address else {"num_cpus": max(workers, 1)}
        ray.init(include_dashboard=False, log_to_driver=False, **kwargs)
    try:
        remote = ray.remote(max_retries=3, retry_exceptions=True, num_cpus=1)(run_one)
        pending = {remote.remote(run, config): run for run in todo}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                run = pending.pop(ref)
                try:
                    finished(run, ray.get(ref), None)
                except Exception as error:  # retries exhausted
                    finished(run, None, _describe(error))
    finally:
        if started_here:
            ray.shutdown()


# --------------------------------------------------------------------------- presets
PRESETS: dict[str, dict[str, Any]] = {
    "quick": {
        "name": "quick",
        "agents": [
            "random",
            "oracle_myopic",
            "popularity",
            "cooccurrence",
            "ucb1",
            "linucb",
            "dqn",
            "ppo",
        ],
        "envs": [{"id": "CartRec-v0"}],
        "seeds": [0, 1, 2],
        "budget": 3000,
        "eval_sessions": 200,
        "eval_lanes": 50,
        "curve_points": 3,
        "curve_sessions": 100,
    },
    "full": {
        "name": "full",
        "agents": agents_for("items"),
        "envs": [
            {"id": "CartRec-v0"},
            {"id": "CartRecSlate-v0", "agents": agents_for("slates")},
            {"id": "CartRecMultiSlate-v0", "agents": agents_for("slates")},
            {"id": "CartRecBundle-v0", "agents": agents_for("bundles")},
        ],
        "seeds": list(range(10)),
        "budget": 200_000,
        "eval_sessions": 2000,
        "eval_lanes": 100,
        "curve_points": 10,
        "curve_sessions": 300,
    },
    # Combination recommendation, CI-sized (minutes): bundle offers and multi-choice slates,
    # RL against the baselines, the references and the no-recommendation control.
    "combinations": {
        "name": "combinations",
        "agents": [
            "random",
            "oracle_myopic",
            "cooccurrence",
            "linucb",
            "no_recommendation",
            "ppo",
            "maskable_ppo",
        ],
        "envs": [
            {
                "id": "CartRecBundle-v0",
                "agents": [
                    *BUNDLE_AGENTS,
                    "no_recommendation",
                    "dqn",
                    "ppo",
                    "maskable_ppo",
                ],
            },
            {"id": "CartRecMultiSlate-v0"},
        ],
        "seeds": [0, 1, 2],
        "budget": 10_000,
        "eval_sessions": 200,
        "eval_lanes": 50,
        "curve_points": 0,
        "curve_sessions": 100,
    },
}
# The same sweep with 5 seeds, 3x the training budget and 500 sessions per run (about half
# an hour on two CPU cores with --workers 2).
PRESETS["combinations_large"] = {
    **PRESETS["combinations"],
    "name": "combinations_large",
    "seeds": [0, 1, 2, 3, 4],
    "budget": 30_000,
    "eval_sessions": 500,
}


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="cartgym bench", description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--preset", choices=sorted(PRESETS))
    which.add_argument("--config", help="a JSON file with BenchConfig keys")
    parser.add_argument("--out", help="results folder (default: runs/<config name>)")
    parser.add_argument("--backend", choices=EXECUTORS, default="local")
    parser.add_argument("--address", help="Ray cluster address (with --backend ray)")
    parser.add_argument("--workers", type=int, default=1, help="parallel runs (default 1)")
    parser.add_argument("--fresh", action="store_true", help="discard earlier rows in --out")
    parser.add_argument("--report", help="write the markdown report and plots to this folder")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.workers < 1:
        raise ConfigError(f"--workers: expected a positive integer, got {args.workers}")
    config = (
        BenchConfig.from_dict(PRESETS[args.preset])
        if args.preset
        else BenchConfig.from_file(args.config)
    )
    out = args.out or f"runs/{config.name}"
    table = sweep(
        config,
        out,
        backend=args.backend,
        workers=args.workers,
        address=args.address,
        fresh=args.fresh,
    )
    print(f"{len(table)} rows in {Path(out) / 'results.parquet'}")
    if args.report:
        from .report import compact, write_report

        path = write_report(Path(out) / "results.parquet", args.report)
        print("\n" + compact(table) + f"full report: {path}")
    return 0
