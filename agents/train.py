"""``cartgym train``: train an SB3 agent on a cartgym environment, with logs and checkpoints.

    cartgym train --algo ppo --steps 200000 --output runs/ppo
    python -m cartgym.agents.train --algo dqn --env-kwargs '{"n_items": 100}' --output runs/dqn

Trains on ``population="train"`` shoppers with the native vector env, evaluates with
``evaluate_policy`` on ``population="eval"`` shoppers (the same ones at every evaluation),
and writes into the output folder:

    config.json               the run's settings
    references.json           random and oracle-myopic levels under the same evaluation
    eval.csv, evaluations.npz evaluations: reward, revenue, CTR, conversion, basket size...
    best_model.zip/.json      the best evaluated model and its sidecar
    checkpoint.zip/.json      the latest checkpoint (+ replay buffer), for --resume
    model.zip/.json           the final model; the sidecar holds the world's fingerprint
    tb/                       TensorBoard logs (shop/ and eval/ scalars, custom layout)

A bad argument prints one line and exits with status 2 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm

import cartgym  # noqa: F401  (registers the environment ids)
from cartgym.cli import OneLineParser

from .callbacks import CheckpointCallback, ShopEvalCallback, ShopMetricsCallback, write_json
from .sb3 import (
    DEFAULT_FEATURES,
    FEATURES,
    algorithm_names,
    default_features,
    get_algorithm,
    load_agent,
    make_model,
    save_agent,
    scale_rewards,
    world_of,
)
from .vec_env import make_sb3_vec_env

RUN_FILES = ("model.zip", "checkpoint.zip")


class UserError(Exception):
    """A bad argument, reported in one line (exit status 2)."""


@dataclass
class TrainConfig:
    """Settings of one training run (the CLI's options)."""

    algorithm: str = "ppo"
    env_id: str = "CartRec-v0"
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    total_steps: int = 100_000
    seed: int = 0
    n_envs: int | None = None  # None: the algorithm's default
    device: str = "auto"
    output: Path = Path("runs/train")
    features: str | None = None  # None: DEFAULT_FEATURES on item envs, mlp on bundle envs
    hyperparams: dict[str, Any] = field(default_factory=dict)
    reward_scale: float | str | None = "auto"
    eval_freq: int = 10_000
    eval_episodes: int = 200
    eval_envs: int = 8
    eval_seed: int = 1_000
    checkpoint_freq: int = 50_000
    resume: Path | None = None
    overwrite: bool = False
    progress: bool = True
    tensorboard: bool = True
    verbose: int = 0


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"invalid JSON {text!r}: {error.msg}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object like '{\"n_items\": 100}'")
    return value


def _reward_scale(text: str) -> float | str | None:
    if text in ("auto", "none"):
        return None if text == "none" else text
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected 'auto', 'none' or a number > 0, got {text!r}")
    return value


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
    parser.add_argument("--env", dest="env_id", default="CartRec-v0", help="environment id")
    parser.add_argument(
        "--env-kwargs",
        type=_json_object,
        default={},
        help="environment keyword arguments as JSON, e.g. '{\"n_items\": 100}'",
    )
    parser.add_argument(
        "--steps", dest="total_steps", type=_positive_int, default=100_000, help="total steps"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the model and sessions")
    parser.add_argument(
        "--n-envs", type=_positive_int, help="sessions stepped together (default per algorithm)"
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
        type=_json_object,
        default={},
        help="algorithm keyword arguments as JSON, e.g. '{\"learning_rate\": 0.001}'",
    )
    parser.add_argument(
        "--reward-scale",
        type=_reward_scale,
        default="auto",
        help="training rewards times this: a number, 'auto' (1 / median line value for "
        "revenue, 1 for clicks) or 'none'",
    )
    parser.add_argument(
        "--eval-freq",
        type=_non_negative_int,
        default=10_000,
        help="evaluate every N steps (0: never)",
    )
    parser.add_argument("--eval-episodes", type=_positive_int, default=200)
    parser.add_argument("--eval-envs", type=_positive_int, default=8)
    parser.add_argument("--eval-seed", type=int, default=1_000)
    parser.add_argument(
        "--checkpoint-freq",
        type=_non_negative_int,
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
        "--threads", type=_positive_int, default=1, help="torch CPU threads (default 1)"
    )
    parser.add_argument("--verbose", type=int, default=0, choices=(0, 1, 2))
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    return parser


def _check_output(config: TrainConfig) -> None:
    output = config.output
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create output folder {output}: {error.strerror}") from None
    if not os.access(output, os.W_OK | os.X_OK):
        raise UserError(f"output folder {output} is not writable")
    if config.resume is None and not config.overwrite:
        done = [name for name in RUN_FILES if (output / name).exists()]
        if done:
            raise UserError(
                f"{output} already holds a run ({done[0]}): pass --resume {output}, "
                "--overwrite, or another --output"
            )
    if config.resume is None:  # a fresh run: no evaluations of an earlier one
        for name in ("eval.csv", "evaluations.npz"):
            (output / name).unlink(missing_ok=True)


def _resume_path(path: Path) -> Path:
    if path.is_dir():
        found = [path / name for name in RUN_FILES if (path / name).exists()]
        if not found:
            raise UserError(f"{path} holds no checkpoint.zip or model.zip to resume from")
        return max(found, key=lambda p: p.stat().st_mtime)  # the latest
    if not path.exists():
        raise UserError(f"no checkpoint at {path}")
    return path


def _check(config: TrainConfig) -> None:
    if config.env_id not in gym.registry:
        cart = sorted(k for k in gym.registry if k.startswith("CartRec"))
        raise UserError(f"unknown environment id {config.env_id!r}; cartgym has {cart}")
    if "population" in config.env_kwargs:
        raise UserError("population is set by train: 'train' for training, 'eval' for evaluation")
    if config.device != "auto" and config.device.startswith("cuda") and not th.cuda.is_available():
        raise UserError(f"device {config.device!r} asked for but CUDA is not available")
    get_algorithm(config.algorithm)  # ValueError for an unknown one


def reference_levels(
    eval_env: Any, n_episodes: int, seed: int, reward: str | None = None
) -> dict[str, float]:
    """Mean reward per session of the random and oracle-myopic references (their bundle
    versions on bundle environments), as the agent is evaluated.

    ``eval_env`` is the SB3 VecEnv of the evaluation; it is reseeded with ``seed``.
    """
    from .bundle_agents import BundleOracleMyopicAgent, BundleRandomAgent
    from .references import OracleMyopicAgent, RandomAgent

    core = eval_env.env  # the CartVectorEnv under the adapter
    bundles = hasattr(core.sessions, "catalogue")
    random, oracle = (
        (BundleRandomAgent, BundleOracleMyopicAgent)
        if bundles
        else (RandomAgent, OracleMyopicAgent)
    )
    levels = {}
    agent: Any
    for name, agent in (
        ("random", random(core, seed=seed)),
        ("oracle_myopic", oracle(core, seed=seed)),
    ):
        eval_env.seed(seed)
        rewards, _ = evaluate_policy(
            agent, eval_env, n_eval_episodes=n_episodes, warn=False, return_episode_rewards=True
        )
        levels[name] = float(np.mean(rewards))
    return levels


def train(config: TrainConfig) -> BaseAlgorithm:
    """Run ``config``: build or resume the model, learn, evaluate, save. Returns the model."""
    _check(config)
    _check_output(config)
    output = config.output
    spec = get_algorithm(config.algorithm)
    n_envs = config.n_envs or spec.n_envs
    env_kwargs = dict(config.env_kwargs)
    try:
        venv = make_sb3_vec_env(
            config.env_id, n_envs=n_envs, seed=config.seed, population="train", **env_kwargs
        )
    except TypeError as error:  # an unknown keyword in --env-kwargs
        raise UserError(f"bad --env-kwargs for {config.env_id}: {error}") from None
    venv = scale_rewards(venv, config.reward_scale)
    eval_env = make_sb3_vec_env(
        config.env_id, n_envs=config.eval_envs, seed=config.eval_seed, population="eval",
        **env_kwargs,
    )  # fmt: skip
    world = world_of(venv)
    features = config.features or default_features(venv)  # what make_model will use
    settings = {
        **asdict(config),
        "features": features,
        "n_envs": n_envs,
        "world_fingerprint": world.fingerprint,
        "reward_scale": getattr(venv, "scale", 1.0),
    }
    write_json(output / "config.json", settings)

    def save(path: Path) -> Path:
        return save_agent(
            model,
            path,
            world=world,
            algorithm=config.algorithm,
            env_id=config.env_id,
            env_kwargs=env_kwargs,
            features=features,
        )

    if config.resume is not None:
        source = _resume_path(config.resume)
        model = load_agent(source, venv, device=config.device)
        buffer = source.with_name(f"{source.stem}_replay_buffer.pkl")
        if isinstance(model, OffPolicyAlgorithm) and buffer.exists():
            model.load_replay_buffer(buffer)
    else:
        try:
            model = make_model(
                config.algorithm,
                venv,
                features=features,
                seed=config.seed,
                device=config.device,
                reward_scale=config.reward_scale,
                verbose=config.verbose,
                tensorboard_log=str(output / "tb") if config.tensorboard else None,
                **config.hyperparams,
            )
        except TypeError as error:  # an unknown keyword in --hyperparams
            raise UserError(f"bad --hyperparams for {config.algorithm}: {error}") from None
    if config.tensorboard and config.resume is not None:
        model.tensorboard_log = str(output / "tb")

    callbacks: list[Any] = [ShopMetricsCallback()]
    if config.eval_freq > 0:
        references = reference_levels(eval_env, config.eval_episodes, config.eval_seed)
        write_json(output / "references.json", references)
        callbacks.append(
            ShopEvalCallback(
                eval_env,
                eval_seed=config.eval_seed,
                csv_path=output / "eval.csv",
                sidecar=save,
                references=references,
                n_eval_episodes=config.eval_episodes,
                eval_freq=max(config.eval_freq // n_envs, 1),
                log_path=str(output),
                best_model_save_path=str(output),
                verbose=config.verbose,
            )
        )
    if config.checkpoint_freq > 0:
        callbacks.append(CheckpointCallback(config.checkpoint_freq, output, save))
    remaining = config.total_steps - model.num_timesteps
    if remaining > 0:
        model.learn(
            remaining,
            callback=callbacks,
            tb_log_name=config.algorithm,
            reset_num_timesteps=config.resume is None,
            progress_bar=config.progress,
        )
    save(output / "model.zip")
    return model


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The TrainConfig of parsed CLI arguments."""
    names = TrainConfig.__dataclass_fields__
    return TrainConfig(**{k: v for k, v in vars(args).items() if k in names})


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``cartgym train``; returns the exit status (2 for a user error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    th.set_num_threads(args.threads)
    started = time.perf_counter()
    try:
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
