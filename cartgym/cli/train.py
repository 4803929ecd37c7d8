"""``cartgym train``: train an SB3 agent on a cartgym environment, with logs and checkpoints.

    cartgym train --algo ppo --steps 200000 --output runs/ppo
    cartgym train --algo dqn --env-kwargs '{"n_items": 100}' --output runs/dqn
    cartgym train --backend torchrl --env CartRec-v1 --device cuda --output runs/ppo-gpu

One run of :func:`cartgym.agents.sb3.training.train` (its docstring lists what the output
folder holds), or with ``--backend torchrl`` of TorchRL PPO on the device
(:func:`cartgym.agents.torchrl_ppo.train_run`; PPO only, CartRec-v1 item ids). A bad
argument prints one line and exits with status 2 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import gymnasium as gym
import torch as th

from cartgym.agents.sb3 import DEFAULT_FEATURES, FEATURES, algorithm_names
from cartgym.agents.sb3.training import TrainConfig, UserError, train
from cartgym.cli.parsing import (
    OneLineParser,
    json_object,
    non_negative_int,
    positive_int,
    reward_scale,
)


def build_parser(prog: str = "cartgym train") -> argparse.ArgumentParser:
    """The ``cartgym train`` argument parser."""
    parser = OneLineParser(
        prog=prog,
        description="Train a Stable-Baselines3 agent on a cartgym environment.",
    )
    parser.add_argument(
        "--algo",
        "--algorithm",
        dest="algorithm",
        default="ppo",
        help=f"one of {', '.join(algorithm_names())}, or module:factory (default ppo)",
    )
    parser.add_argument("--env", dest="env_id", default="CartRec-v1", help="environment id")
    parser.add_argument(
        "--backend",
        choices=("sb3", "torchrl"),
        default="sb3",
        help="sb3 (default) or torchrl: PPO with the environment on the device",
    )
    parser.add_argument(
        "--env-kwargs",
        type=json_object,
        default={},
        help="environment keyword arguments as JSON, e.g. '{\"n_items\": 100}'",
    )
    parser.add_argument(
        "--steps", dest="total_steps", type=positive_int, default=100_000, help="total steps"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the model and sessions")
    parser.add_argument(
        "--n-envs", type=positive_int, help="sessions stepped together (default per algorithm)"
    )
    parser.add_argument(
        "--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:N"
    )
    parser.add_argument("-o", "--output", type=Path, default=Path("runs/train"))
    parser.add_argument(
        "--features",
        choices=FEATURES,
        default=None,
        help=f"representation (default {DEFAULT_FEATURES}; mlp on bundle envs)",
    )
    parser.add_argument(
        "--hyperparams",
        type=json_object,
        default={},
        help="algorithm keyword arguments as JSON, e.g. '{\"learning_rate\": 0.001}'",
    )
    parser.add_argument(
        "--reward-scale",
        type=reward_scale,
        default="auto",
        help="training rewards times this: a number, 'auto' (1 / median line value for "
        "revenue, 1 for clicks) or 'none'",
    )
    parser.add_argument(
        "--train-reward",
        default="auto",
        type=lambda text: None if text == "env" else text,
        help="reward to train on: auto (clicks on CartRec-v1), env (the environment's own) "
        "or a reward name; evaluations use the environment's own",
    )
    parser.add_argument(
        "--eval-freq",
        type=non_negative_int,
        default=10_000,
        help="evaluate every N steps (0: never)",
    )
    parser.add_argument(
        "--eval-episodes", type=positive_int, default=200, help="validation sessions per evaluation"
    )
    parser.add_argument(
        "--test-episodes",
        type=non_negative_int,
        default=1_000,
        help="test sessions of the chosen model, once at the end (0: none)",
    )
    parser.add_argument("--eval-envs", type=positive_int, default=8)
    parser.add_argument("--eval-seed", type=int, default=1_000)
    parser.add_argument(
        "--checkpoint-freq",
        type=non_negative_int,
        default=50_000,
        help="keep a checkpoint every N steps (0: never)",
    )
    parser.add_argument("--resume", type=Path, help="a checkpoint or model .zip, or a run folder")
    parser.add_argument("--overwrite", action="store_true", help="replace a finished run")
    parser.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True, help="progress bar"
    )
    parser.add_argument(
        "--tensorboard", action=argparse.BooleanOptionalAction, default=True, help="TB logs"
    )
    parser.add_argument(
        "--threads", type=positive_int, default=1, help="torch CPU threads (default 1)"
    )
    parser.add_argument("--verbose", type=int, default=0, choices=(0, 1, 2))
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    return parser


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The TrainConfig of parsed CLI arguments."""
    names = TrainConfig.__dataclass_fields__
    return TrainConfig(**{k: v for k, v in vars(args).items() if k in names})


def _torchrl(args: argparse.Namespace, started: float) -> int:
    if args.algorithm != "ppo":
        raise UserError(f"--backend torchrl trains ppo only, got --algo {args.algorithm}")
    from cartgym.agents.torchrl_ppo import PPOConfig, train_run

    device = "cuda" if args.device == "auto" and th.cuda.is_available() else args.device
    try:
        config = PPOConfig(
            env_id=args.env_id,
            env_kwargs=args.env_kwargs,
            total_steps=args.total_steps,
            num_envs=args.n_envs or 8,
            seed=args.seed,
            device="cpu" if device == "auto" else device,
            train_reward=args.train_reward,
            **args.hyperparams,
        )
    except TypeError as error:  # an unknown key in --hyperparams
        raise UserError(f"bad --hyperparams for --backend torchrl: {error}") from None
    test = train_run(
        config,
        args.output,
        eval_freq=args.eval_freq,
        eval_episodes=args.eval_episodes,
        eval_envs=args.eval_envs,
        eval_seed=args.eval_seed,
        test_episodes=args.test_episodes,
    )
    print(
        f"trained ppo (torchrl, {config.device}) for {args.total_steps} steps in "
        f"{time.perf_counter() - started:.0f} s; policy in {args.output / 'policy.pt'}; "
        f"test incremental basket value {test.get('incremental_basket_value', float('nan')):.2f}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``cartgym train``; returns the exit status (2 for a user error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    th.set_num_threads(args.threads)
    started = time.perf_counter()
    try:
        if args.backend == "torchrl":
            return _torchrl(args, started)
        config = config_from_args(args)
        model = train(config)
    except (UserError, ValueError, OSError, gym.error.Error) as error:
        if args.debug:
            raise
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"{parser.prog}: error: {message}", file=sys.stderr)
        return 2
    print(
        f"trained {args.algorithm} for {model.num_timesteps} steps in "
        f"{time.perf_counter() - started:.0f} s; model in {config.output / 'model.zip'}"
    )
    test = config.output / "test.json"
    if config.test_episodes and test.exists():
        print(f"test shoppers (the chosen model, once): {test}")
    return 0
