"""How fast do DQN and PPO learn on CartRec-v0, against the random and oracle-myopic levels?

Trains each algorithm with ``cartgym train`` (its defaults) and plots the evaluations it
logged (``eval.csv``: 200 sessions of held-out shoppers, the same ones at every
evaluation) against the reference levels it measured under the same evaluation
(``references.json``).

    python benchmarks/learning_curves.py                  # train, then plot
    python benchmarks/learning_curves.py --plot-only      # plot the runs already there

Output: ``docs/results/rl/learning_curves.png`` and ``learning_curves.csv``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from cartgym.agents.sb3.training import TrainConfig, train

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Args:
    """Algorithms, steps, seed, evaluation interval, run and output folders."""

    algorithms: list[str] = field(default_factory=lambda: ["dqn", "ppo"])
    env_id: str = "CartRec-v0"
    steps: int = 150_000
    seed: int = 0
    eval_freq: int = 10_000
    runs: Path = ROOT / "runs" / "curves"
    out: Path = ROOT / "docs" / "results" / "rl"
    plot_only: bool = False


def run(args: Args) -> None:
    for algorithm in args.algorithms:
        config = TrainConfig(
            algorithm=algorithm,
            env_id=args.env_id,
            total_steps=args.steps,
            seed=args.seed,
            device="cpu",
            output=args.runs / algorithm,
            eval_freq=args.eval_freq,
            checkpoint_freq=0,
            overwrite=True,
            progress=False,
        )
        train(config)


def plot(args: Args) -> pd.DataFrame:
    frames, levels = [], {}
    for algorithm in args.algorithms:
        folder = args.runs / algorithm
        evals = pd.read_csv(folder / "eval.csv").assign(algorithm=algorithm)
        settings = json.loads((folder / "config.json").read_text())
        evals["features"] = settings["features"]
        frames.append(evals)
        levels = json.loads((folder / "references.json").read_text())
    table = pd.concat(frames, ignore_index=True)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    n = 200  # sessions per evaluation
    for algorithm, evals in table.groupby("algorithm", sort=False):
        half = 1.96 * evals["reward_std"] / np.sqrt(n)
        label = f"{algorithm.upper()} ({evals['features'].iloc[0]})"
        ax.plot(evals["timesteps"], evals["reward"], marker="o", ms=3, label=label)
        low, high = evals["reward"] - half, evals["reward"] + half
        ax.fill_between(evals["timesteps"], low, high, alpha=0.2)
    ax.axhline(levels["oracle_myopic"], color="k", ls="--", lw=1, label="oracle-myopic")
    ax.axhline(levels["random"], color="grey", ls=":", lw=1, label="random")
    ax.set_xlabel("training steps (recommendations)")
    ax.set_ylabel("revenue per session (held-out shoppers)")
    ax.set_title(f"{args.env_id}: learning curves (95% CI of each evaluation)")
    ax.legend(loc="center left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    args.out.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out / "learning_curves.png", dpi=120)
    table["random"], table["oracle_myopic"] = levels["random"], levels["oracle_myopic"]
    columns = ["algorithm", "features", "timesteps", "reward", "reward_std", "ctr"]
    columns += ["conversion", "basket_size", "normalised", "random", "oracle_myopic"]
    table[columns].to_csv(args.out / "learning_curves.csv", index=False, float_format="%.5g")
    return table


def main(argv: list[str] | None = None) -> None:
    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algorithms", nargs="+", default=Args().algorithms)
    parser.add_argument("--steps", type=int, default=Args.steps)
    parser.add_argument("--seed", type=int, default=Args.seed)
    parser.add_argument("--plot-only", action="store_true")
    ns = parser.parse_args(argv)
    args = Args(algorithms=ns.algorithms, steps=ns.steps, seed=ns.seed, plot_only=ns.plot_only)
    if not args.plot_only:
        run(args)
    table = plot(args)
    last = table.groupby("algorithm").tail(1)
    print(last[["algorithm", "features", "timesteps", "reward", "ctr", "normalised"]])


if __name__ == "__main__":
    main()
