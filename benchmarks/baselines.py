"""Every baseline agent on CartRec-v0 and CartRecSlate-v0: session metrics, normalised score, speed.

    python benchmarks/baselines.py            # the full run (5 seeds)
    python benchmarks/baselines.py --quick    # CI-sized, under 2 minutes

Protocol, per environment and seed (seed s = 0 .. seeds-1):

- agents that learn online run ``learn`` on the vector env (``--num-envs`` sessions,
  ``population="train"``, seeded s) for ``--timesteps`` timesteps;
- agents that learn from logs are fitted on the training logs: the bundled Online Retail
  transactions before the last month (``temporal_split``), without the baskets of the
  evaluation population's users (``cartgym.sim.population.is_eval_user``);
- every agent is then evaluated frozen (``predict(obs, deterministic=True)``) on
  ``--sessions`` sessions of ``population="eval"`` shoppers, the env seeded 1000 + s, so all
  agents meet the same shoppers;
- metrics over all sessions of all seeds (95% intervals, sessions as the unit:
  ``cartgym.metrics.summarize``); normalised score = (agent - random) / (oracle - random)
  of the revenue per session, per seed, then mean and t interval over seeds;
- wall time per 1,000 evaluation sessions (env and agent together), and the latency of
  ``predict`` on one observation (median and p99 over the first ``--latency-obs``
  observations of each evaluation, each timed ``--latency-repeats`` times, fastest kept).

torch and BLAS run one thread. Writes the table to ``--out`` (CSV) if given.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
import torch
from scipy import stats

import cartgym
from cartgym import agents
from cartgym.data import load_online_retail, temporal_split
from cartgym.metrics import run_sessions, summarize
from cartgym.sim.population import is_eval_user

ENV_IDS = ("CartRec-v0", "CartRecSlate-v0")


@dataclass(frozen=True)
class Args:
    quick: bool = False
    seeds: int = 5
    sessions: int = 1000
    timesteps: int = 100_000
    num_envs: int = 32
    epochs: int = 10
    latency_obs: int = 500
    latency_repeats: int = 3
    out: str | None = None

    @classmethod
    def parse(cls, argv: list[str] | None = None) -> Args:
        parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
        parser.add_argument("--quick", action="store_true", help="CI-sized run")
        for f in fields(cls):
            if f.name != "quick":
                kind = str if f.name == "out" else int
                parser.add_argument(f"--{f.name.replace('_', '-')}", type=kind, default=None)
        given = {k: v for k, v in vars(parser.parse_args(argv)).items() if v is not None}
        quick = cls(seeds=2, sessions=100, timesteps=4000, epochs=1, latency_obs=200)
        base = quick if given.get("quick") else cls()
        return cls(**{**vars(base), **given})


def agent_factories(args: Args) -> dict[str, Callable[[gym.Env, int], agents.Agent]]:
    """name -> (env, seed) -> agent, with the settings used in the benchmark."""
    return {
        "random": lambda env, s: agents.RandomAgent(env, seed=s),
        "oracle-myopic": lambda env, s: agents.OracleMyopicAgent(env, seed=s),
        "epsilon-greedy": lambda env, s: agents.EpsilonGreedy(
            env, epsilon=0.2, decay=0.9999, min_epsilon=0.01, seed=s
        ),
        "ucb1": lambda env, s: agents.UCB1(env, c=0.1, seed=s),
        "thompson (click)": lambda env, s: agents.ThompsonSampling(env, objective="click", seed=s),
        "thompson (revenue)": lambda env, s: agents.ThompsonSampling(env, seed=s),
        "linucb": lambda env, s: agents.LinUCB(env, seed=s),
        "linear thompson": lambda env, s: agents.LinearThompsonSampling(env, seed=s),
        "popularity": lambda env, s: agents.PopularityAgent(env, seed=s),
        "co-occurrence": lambda env, s: agents.CoOccurrenceAgent(env, seed=s),
        "als": lambda env, s: agents.MatrixFactorizationAgent(env, seed=s),
        "neural cf": lambda env, s: agents.NeuralCFAgent(env, epochs=args.epochs, seed=s),
    }


def training_logs() -> pd.DataFrame:
    """Online Retail before its last month, without the evaluation population's users."""
    train, _ = temporal_split(load_online_retail(), "1M")
    table = train.table
    return table[~is_eval_user(table["user_id"].to_numpy().astype(str))].reset_index(drop=True)


def run_one(name: str, make, env_id: str, seed: int, args: Args, logs: pd.DataFrame) -> dict:
    """Train (learn or fit) then evaluate one agent on one seed."""
    env = gym.make(env_id, population="eval")
    agent = make(env, seed)
    started = time.perf_counter()
    if isinstance(agent, agents.OnlineAgent):
        vector = gym.make_vec(
            env_id,
            num_envs=args.num_envs,
            vectorization_mode="vector_entry_point",
            population="train",
        )
        agent.learn(vector, args.timesteps, seed=seed)
    elif isinstance(agent, agents.LogAgent):
        agent.fit(logs)
    train_seconds = time.perf_counter() - started
    seen: list[np.ndarray] = []

    def policy(obs: np.ndarray, env: gym.Env):
        if len(seen) < args.latency_obs:
            seen.append(obs.copy())
        return agent.predict(obs, deterministic=True)[0]

    started = time.perf_counter()
    sessions = run_sessions(env, policy, args.sessions, seed=1000 + seed)
    eval_seconds = time.perf_counter() - started
    return {
        "sessions": sessions.assign(seed=seed),
        "train_s": train_seconds,
        "eval_s": eval_seconds,
        "latency_us": predict_latency(agent, seen, args.latency_repeats),
    }


def predict_latency(agent: agents.Agent, observations: list[np.ndarray], repeats: int):
    """Microseconds of ``predict(obs, deterministic=True)`` per single observation.

    Each observation is timed ``repeats`` times in separate passes and its fastest time
    kept, so that a pause caused by another process on the machine is not counted. (The
    oracle reads its environment's current state whatever the observation: its cost is
    the same.)
    """
    times = np.empty((repeats, len(observations)))
    for r in range(repeats):
        for i, obs in enumerate(observations):
            tic = time.perf_counter_ns()
            agent.predict(obs, deterministic=True)
            times[r, i] = time.perf_counter_ns() - tic
    return times.min(axis=0) / 1e3


def t_interval(values: np.ndarray) -> tuple[float, float, float]:
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, float("nan"), float("nan")
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return mean, mean - half, mean + half


def table_for(env_id: str, results: dict[str, list[dict]]) -> pd.DataFrame:
    """One row per agent: metrics with intervals, normalised score, time and latency."""
    per_seed = {
        name: np.array([r["sessions"]["revenue"].mean() for r in runs])
        for name, runs in results.items()
    }
    rows = []
    for name, runs in results.items():
        sessions = pd.concat([r["sessions"] for r in runs], ignore_index=True)
        summary = summarize(sessions)
        score = agents.normalised_score(
            per_seed[name], per_seed["random"], per_seed["oracle-myopic"]
        )
        latency = np.concatenate([r["latency_us"] for r in runs])
        row: dict[str, object] = {"env": env_id, "agent": name}
        for metric in ("revenue_per_session", "ctr", "conversion", "basket_size"):
            mean, low, high = summary.loc[metric]
            row.update({metric: mean, f"{metric}_low": low, f"{metric}_high": high})
        mean, low, high = t_interval(score)
        row.update(normalised=mean, normalised_low=low, normalised_high=high)
        row["train_s"] = float(np.mean([r["train_s"] for r in runs]))
        n_sessions = sum(len(r["sessions"]) for r in runs)
        row["s_per_1000_sessions"] = sum(r["eval_s"] for r in runs) / n_sessions * 1000
        row["predict_median_us"] = float(np.median(latency))
        row["predict_p99_us"] = float(np.percentile(latency, 99))
        rows.append(row)
    return pd.DataFrame(rows)


def render(table: pd.DataFrame) -> str:
    """A markdown table: mean [low, high] for each metric."""

    def ci(row: pd.Series, metric: str, digits: int) -> str:
        mean, low, high = row[metric], row[f"{metric}_low"], row[f"{metric}_high"]
        return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"

    header = (
        "| agent | revenue / session | CTR | conversion | basket size | normalised score "
        "| train s | s / 1000 sessions | predict median µs | predict p99 µs |"
    )
    lines = [header, "|" + "---|" * 10]
    for _, row in table.iterrows():
        cells = [
            str(row["agent"]),
            ci(row, "revenue_per_session", 2),
            ci(row, "ctr", 3),
            ci(row, "conversion", 3),
            ci(row, "basket_size", 2),
            ci(row, "normalised", 3),
            f"{row['train_s']:.1f}",
            f"{row['s_per_1000_sessions']:.2f}",
            f"{row['predict_median_us']:.0f}",
            f"{row['predict_p99_us']:.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def limit_threads() -> str:
    torch.set_num_threads(1)
    blas = "BLAS threads not limited (threadpoolctl missing)"
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
        blas = "threadpoolctl.threadpool_limits(1)"
    except ImportError:
        pass
    return f"torch.set_num_threads(1) (torch.get_num_threads() = {torch.get_num_threads()}); {blas}"


def main(args: Args) -> pd.DataFrame:
    threads = limit_threads()
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    print(f"threads: {threads}")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}, "
        f"cartgym {cartgym.__version__}, {os.cpu_count()} cpus, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    print(f"settings: {args}")
    print(f"load average at start (1, 5, 15 min): {os.getloadavg()}")
    logs = training_logs()
    print(f"training logs: {len(logs)} lines, {logs['basket_id'].nunique()} baskets\n")
    factories = agent_factories(args)
    tables = []
    for env_id in ENV_IDS:
        results: dict[str, list[dict]] = {name: [] for name in factories}
        for name, make in factories.items():
            for seed in range(args.seeds):
                results[name].append(run_one(name, make, env_id, seed, args, logs))
            print(f"  {env_id} {name}: done", file=sys.stderr, flush=True)
        table = table_for(env_id, results)
        tables.append(table)
        print(f"## {env_id} ({args.seeds} seeds x {args.sessions} sessions)\n")
        print(render(table) + "\n", flush=True)
    print(f"load average at end (1, 5, 15 min): {os.getloadavg()}")
    out = pd.concat(tables, ignore_index=True)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        out.to_csv(args.out, index=False)
        print(f"table written to {args.out}")
    return out


if __name__ == "__main__":
    main(Args.parse())
