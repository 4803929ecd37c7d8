"""Does PPO on the device learn as well as SB3's PPO? The same budget on CartRec-v1.

    python benchmarks/torchrl_vs_sb3.py                  # 100,000 steps, seeds 0 and 1
    python benchmarks/torchrl_vs_sb3.py --steps 20000 --seeds 0

Both are PPO with the same networks and settings (``cartgym.agents.sb3.DEFAULTS["ppo"]``
with v1's undiscounted return and training reward, clicks; 8 sessions x 128 steps per
rollout), trained on train shoppers; every ``--every`` steps each is evaluated on the
same sessions of **test** shoppers (same seed and lanes, so the same shoppers: the
comparison pairs them session by session). "As well": TorchRL's final basket value is
not significantly below SB3's (paired over sessions and seeds, p < 0.05). Writes
``docs/results/torchrl/learning_curves.{csv,md}``; torch with one thread.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
import torch
from scipy import stats

import cartgym  # noqa: F401
from cartgym.agents.sb3 import make_model, make_sb3_vec_env
from cartgym.agents.sb3.algorithms import training_reward
from cartgym.agents.torchrl_ppo import PPOConfig, train_ppo
from cartgym.evaluation import Evaluation, evaluate

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "results" / "torchrl"


def test_env() -> gym.vector.VectorEnv:
    return gym.make_vec(
        "CartRec-v1", num_envs=50, vectorization_mode="vector_entry_point", population="test"
    )


def row(trainer: str, seed: int, steps: int, seconds: float, result: Evaluation) -> dict:
    s = result.sessions
    return {
        "trainer": trainer,
        "seed": seed,
        "steps": steps,
        "seconds": seconds,
        "basket_value": float(s["basket_value"].mean()),
        "incremental_basket_value": result.against_twin()["incremental_basket_value"],
        "ctr": result.summary()["ctr"],
        "sessions": s,
    }


def run_sb3(seed: int, steps: int, every: int, sessions: int) -> list[dict]:
    reward = training_reward("CartRec-v1")  # clicks, as TorchRL PPO's default
    venv = make_sb3_vec_env("CartRec-v1", n_envs=8, seed=seed, population="train", reward=reward)
    model = make_model("ppo", venv, seed=seed, device="cpu")
    env, rows, started = test_env(), [], time.perf_counter()
    for done in range(every, steps + 1, every):
        model.learn(every, reset_num_timesteps=False)
        seconds = time.perf_counter() - started
        rows.append(row("sb3", seed, done, seconds, evaluate(model, env, sessions, 10_000)))
    return rows


def run_torchrl(seed: int, steps: int, every: int, sessions: int) -> list[dict]:
    env, rows, started = test_env(), [], time.perf_counter()

    def on_test(policy) -> dict:
        result = evaluate(policy, env, sessions, 10_000)
        rows.append(row("torchrl", seed, 0, time.perf_counter() - started, result))
        return {"evaluated": 1.0}

    _, curve = train_ppo(
        PPOConfig(total_steps=steps, seed=seed, device="cpu"),
        evaluate_every=every,
        evaluation=on_test,
    )
    marks = [entry["steps"] for entry in curve if "evaluated" in entry]
    for entry, done in zip(rows, marks, strict=True):
        entry["steps"] = done
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--every", type=int, default=20_000)
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for seed in args.seeds:
        rows += run_sb3(seed, args.steps, args.every, args.sessions)
        rows += run_torchrl(seed, args.steps, args.every, args.sessions)
    table = pd.DataFrame([{k: v for k, v in r.items() if k != "sessions"} for r in rows])
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "learning_curves.csv", index=False)
    finals = {
        t: [
            r
            for r in rows
            if r["trainer"] == t
            and r["steps"] == max(x["steps"] for x in rows if x["trainer"] == t)
        ]
        for t in ("sb3", "torchrl")
    }
    per_seed = []
    for a, b in zip(finals["torchrl"], finals["sb3"], strict=True):
        diff = a["sessions"]["basket_value"].to_numpy() - b["sessions"]["basket_value"].to_numpy()
        per_seed.append(diff)
    pooled = np.concatenate(per_seed)
    p = float(stats.ttest_1samp(pooled, 0.0).pvalue)
    half = 1.96 * pooled.std(ddof=1) / np.sqrt(len(pooled))
    worse = pooled.mean() < 0 and p < 0.05
    # TorchRL collects whole batches, so its checkpoints land a few steps past SB3's: align
    # the two by checkpoint, each with its own step count
    table["checkpoint"] = table.groupby(["trainer", "seed"]).cumcount()
    curve = table.groupby(["checkpoint", "trainer"]).agg(
        steps=("steps", "mean"), value=("incremental_basket_value", "mean")
    )
    speed = table.groupby("trainer").apply(lambda g: g["steps"].max() / g["seconds"].max())
    command = "python benchmarks/torchrl_vs_sb3.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    lines = [
        "# TorchRL PPO against SB3 PPO on CartRec-v1",
        "",
        "<!-- generated by benchmarks/torchrl_vs_sb3.py; do not edit -->",
        "",
        f"Command: `{command.strip()}`; torch with one thread; CPU.",
        "",
        f"Both trained {args.steps:,} steps on train shoppers with the same networks and "
        f"settings, seeds {args.seeds}; every {args.every:,} steps evaluated on the same "
        f"{args.sessions} sessions of test shoppers (deterministic actions). Incremental "
        "basket value (basket value minus the twin's), mean over seeds:",
        "",
        "| steps (sb3 / torchrl) | sb3 | torchrl |",
        "|---|---|---|",
        *[
            f"| {curve.loc[(c, 'sb3'), 'steps']:,.0f} / {curve.loc[(c, 'torchrl'), 'steps']:,.0f} "
            f"| {curve.loc[(c, 'sb3'), 'value']:+.2f} | {curve.loc[(c, 'torchrl'), 'value']:+.2f} |"
            for c in sorted(set(curve.index.get_level_values(0)))
        ],
        "",
        f"Final basket value, TorchRL minus SB3, paired session by session over the seeds: "
        f"{pooled.mean():+.2f} [{pooled.mean() - half:+.2f}, {pooled.mean() + half:+.2f}] "
        f"(p = {p:.2g}). Learns at least as well (not significantly below SB3 at 0.05): "
        f"**{'no' if worse else 'yes'}**.",
        "",
        "Training speed (steps / wall seconds, evaluations included): "
        + ", ".join(f"{t} {v:,.0f}" for t, v in speed.items())
        + f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at the end: "
        "speeds are comparable only within one run on a quiet machine).",
    ]
    (args.out / "learning_curves.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
