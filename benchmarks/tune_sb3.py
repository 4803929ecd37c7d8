"""Which representation and settings should the SB3 agents default to on CartRec-v0?

Runs = configurations x seeds, each a short ``cartgym train`` run (same evaluation: 200
sessions of ``population="eval"`` shoppers, the same ones every time); the table holds the
last and the best evaluation, the normalised score and the speed, one row per run.

    python benchmarks/tune_sb3.py                       # the grid of docs/agents/rl.md
    python benchmarks/tune_sb3.py --only ppo_dot dqn_dot --steps 20000

Output: ``docs/results/rl/tuning.csv`` and ``tuning.md`` (runs under ``runs/tune/``).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from cartgym.agents.sb3.training import TrainConfig, train

ROOT = Path(__file__).resolve().parents[1]

# name -> (algorithm, features, hyperparameter overrides; "reward_scale" and "n_envs" are
# train's)
GRID: dict[str, tuple[str, str, dict[str, Any]]] = {
    # representations, default settings
    "ppo_mlp": ("ppo", "mlp", {}),
    "ppo_emb": ("ppo", "embeddings", {}),
    "ppo_dot": ("ppo", "embeddings_dot", {}),
    "dqn_mlp": ("dqn", "mlp", {}),
    "dqn_emb": ("dqn", "embeddings", {}),
    "dqn_dot": ("dqn", "embeddings_dot", {}),
    # settings, on the best representation
    "ppo_dot_lr1e-3": ("ppo", "embeddings_dot", {"learning_rate": 1e-3}),
    "ppo_dot_ent0": ("ppo", "embeddings_dot", {"ent_coef": 0.0}),
    "ppo_dot_gamma0.99": ("ppo", "embeddings_dot", {"gamma": 0.99}),
    "dqn_dot_lr1e-3": ("dqn", "embeddings_dot", {"learning_rate": 1e-3}),
    "dqn_dot_explore0.1": ("dqn", "embeddings_dot", {"exploration_fraction": 0.1}),
    "dqn_dot_gamma0.99": ("dqn", "embeddings_dot", {"gamma": 0.99}),
    # training on the raw revenue (no reward scaling)
    "ppo_dot_noscale": ("ppo", "embeddings_dot", {"reward_scale": None}),
    "dqn_dot_noscale": ("dqn", "embeddings_dot", {"reward_scale": None}),
    # the other algorithms, on the best representation
    "a2c_dot": ("a2c", "embeddings_dot", {}),
    "qrdqn_dot": ("qrdqn", "embeddings_dot", {}),
    # the head also weighs each item's co-purchase, history, popularity and price features
    "ppo_feat": ("ppo", "embeddings_dot_features", {}),
    "dqn_feat": ("dqn", "embeddings_dot_features", {}),
    "a2c_feat": ("a2c", "embeddings_dot_features", {}),
    # network size and sessions per step, on that representation
    "ppo_feat_net64": ("ppo", "embeddings_dot_features", {"policy_kwargs": {"net_arch": [64, 64]}}),
    "ppo_feat_nenvs16": ("ppo", "embeddings_dot_features", {"n_envs": 16}),
    "dqn_feat_net64": ("dqn", "embeddings_dot_features", {"policy_kwargs": {"net_arch": [64, 64]}}),
}


@dataclass
class Args:
    """What to run: grid names, steps per run, seeds, where the runs and the table go."""

    only: list[str] = field(default_factory=lambda: list(GRID))
    steps: int = 30_000  # the steps of the published table (docs/agents/rl.md)
    seeds: list[int] = field(default_factory=lambda: [0])
    eval_freq: int = 10_000
    runs: Path = ROOT / "runs" / "tune"
    out: Path = ROOT / "docs" / "results" / "rl"
    resume_table: bool = True  # keep the rows of runs already in the table


def run_one(name: str, seed: int, args: Args) -> dict[str, Any]:
    algorithm, features, hyperparams = GRID[name]
    hyperparams = dict(hyperparams)
    folder = args.runs / f"{name}_s{seed}"
    config = TrainConfig(
        algorithm=algorithm,
        features=features,
        reward_scale=hyperparams.pop("reward_scale", "auto"),
        n_envs=hyperparams.pop("n_envs", None),
        hyperparams=hyperparams,
        total_steps=args.steps,
        seed=seed,
        device="cpu",
        output=folder,
        eval_freq=args.eval_freq,
        checkpoint_freq=0,
        overwrite=True,
        progress=False,
        tensorboard=False,
    )
    started = time.perf_counter()
    train(config)
    return summarize(name, seed, folder, time.perf_counter() - started)


def summarize(name: str, seed: int, folder: Path, seconds: float | None = None) -> dict[str, Any]:
    """One table row from a run folder: last, best and mean evaluation, speed."""
    algorithm, features, hyperparams = GRID[name]
    evals = pd.read_csv(folder / "eval.csv")
    last = evals.iloc[-1]
    if seconds is None:  # rebuilt from the folder: the evaluation clock
        seconds = float(last["wall_s"])
    return {
        "run": name,
        "algorithm": algorithm,
        "features": features,
        "settings": ", ".join(f"{k}={v}" for k, v in hyperparams.items()) or "defaults",
        "seed": seed,
        "steps": int(last["timesteps"]),
        "reward_last": float(last["reward"]),
        "reward_mean": float(evals["reward"].mean()),
        "reward_best": float(evals["reward"].max()),
        "ctr_last": float(last["ctr"]),
        "normalised_last": float(last["normalised"]),
        "steps_per_s": round(float(last["timesteps"]) / seconds),
    }


def main(argv: list[str] | None = None) -> None:
    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=list(GRID), default=list(GRID))
    parser.add_argument("--steps", type=int, default=Args.steps)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--fresh", action="store_true", help="drop the rows already in the table")
    parser.add_argument("--table-only", action="store_true", help="rebuild from runs/tune")
    ns = parser.parse_args(argv)
    args = Args(only=ns.only, steps=ns.steps, seeds=ns.seeds, resume_table=not ns.fresh)
    args.out.mkdir(parents=True, exist_ok=True)
    table_path = args.out / "tuning.csv"
    rows = []
    if ns.table_only:
        for name in args.only:
            for seed in args.seeds:
                folder = args.runs / f"{name}_s{seed}"
                if (folder / "eval.csv").exists():
                    rows.append(summarize(name, seed, folder))
        args.only = []
        pd.DataFrame(rows).to_csv(table_path, index=False)
    elif args.resume_table and table_path.exists():
        rows = pd.read_csv(table_path).to_dict("records")
    for name in args.only:
        for seed in args.seeds:
            rows = [r for r in rows if not (r["run"] == name and r["seed"] == seed)]
            rows.append(run_one(name, seed, args))
            table = pd.DataFrame(rows)
            table.to_csv(table_path, index=False)
            print(table.tail(1).to_string(index=False, header=False), flush=True)
    table = pd.DataFrame(rows)
    (args.out / "tuning.md").write_text(markdown(table))
    print(table.to_string(index=False))


def markdown(table: pd.DataFrame) -> str:
    """A GitHub markdown table, numbers to three significant digits."""
    cells = table.map(lambda v: f"{v:.3g}" if isinstance(v, float) else str(v))
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(row) + " |" for row in cells.itertuples(index=False)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
