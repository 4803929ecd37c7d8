"""One SB3 training run with logs and checkpoints (``cartgym train`` runs it).

Trains on ``population="train"`` shoppers with the native vector env, evaluates with
:func:`cartgym.evaluation.evaluate` on ``population="validation"`` shoppers (the same ones
at every evaluation; the best model is chosen on them), then evaluates the chosen model
once on ``population="test"`` shoppers, and writes into the output folder:

    config.json               the run's settings
    references.json           random and oracle-myopic levels under the same evaluation
    eval.csv, evaluations.npz validation evaluations: reward, revenue, CTR, conversion...
    best_model.zip/.json      the best model on validation and its sidecar
    test.json                 the chosen model on test shoppers (the figure to report)
    checkpoint.zip/.json      the latest checkpoint (+ replay buffer), for --resume
    model.zip/.json           the final model; the sidecar holds the world's fingerprint
    tb/                       TensorBoard logs (shop/ and eval/ scalars, custom layout)
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm

import cartgym  # noqa: F401  (registers the environment ids)
from cartgym.envs.observation import BundleLayout
from cartgym.evaluation import evaluate

from ..bundles import BundleOracleMyopicAgent, BundleRandomAgent
from ..references import OracleMyopicAgent, RandomAgent
from .algorithms import get_algorithm, keep_quiet, make_model, training_reward
from .callbacks import CheckpointCallback, EvaluationCallback, ShopMetricsCallback, write_json
from .representations import catalogue_of, default_features
from .rewards import scale_rewards
from .saving import load_agent, save_agent
from .vec_env import make_sb3_vec_env

RUN_FILES = ("model.zip", "checkpoint.zip")


class UserError(ValueError):
    """A bad setting of a training run (the CLI reports it in one line, exit status 2)."""


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
    # the reward of the training env: "auto" (clicks on CartRec-v1, see training_reward),
    # None for the environment's own, or a reward name; evaluations keep the env's own
    train_reward: str | None = "auto"
    eval_freq: int = 10_000
    eval_episodes: int = 200
    eval_envs: int = 8
    eval_seed: int = 1_000
    test_episodes: int = 1_000  # 0: no test evaluation
    checkpoint_freq: int = 50_000
    resume: Path | None = None
    overwrite: bool = False
    progress: bool = True
    tensorboard: bool = True
    verbose: int = 0


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
        raise UserError(
            "population is set by train: 'train' for training, 'validation' for evaluations "
            "and the choice of the best model, 'test' for the final figure"
        )
    if config.device != "auto" and config.device.startswith("cuda") and not th.cuda.is_available():
        raise UserError(f"device {config.device!r} asked for but CUDA is not available")
    get_algorithm(config.algorithm)  # ValueError for an unknown one


def reference_levels(eval_env: Any, n_sessions: int, seed: int) -> dict[str, float]:
    """Mean reward per session of the random and oracle-myopic references (their bundle
    versions on bundle environments), evaluated exactly as the agent is.

    ``eval_env`` is the evaluation's cartgym vector env; each reference is evaluated with
    :func:`cartgym.evaluation.evaluate` from ``seed``.
    """
    bundles = isinstance(eval_env.unwrapped.layout, BundleLayout)
    random, oracle = (
        (BundleRandomAgent, BundleOracleMyopicAgent)
        if bundles
        else (RandomAgent, OracleMyopicAgent)
    )
    levels = {}
    for name, agent in (
        ("random", random(eval_env, seed=seed)),
        ("oracle_myopic", oracle(eval_env, seed=seed)),
    ):
        result = evaluate(agent, eval_env, n_sessions, seed)
        levels[name] = float(result.sessions["revenue"].mean())
    return levels


def train(config: TrainConfig) -> BaseAlgorithm:
    """Run ``config``: build or resume the model, learn, evaluate, save. Returns the model."""
    _check(config)
    _check_output(config)
    output = config.output
    spec = get_algorithm(config.algorithm)
    n_envs = config.n_envs or spec.n_envs
    env_kwargs = dict(config.env_kwargs)
    reward = config.train_reward
    if reward == "auto":
        reward = training_reward(config.env_id, env_kwargs)
    train_kwargs = env_kwargs if reward is None else {**env_kwargs, "reward": reward}
    try:
        venv = make_sb3_vec_env(
            config.env_id, n_envs=n_envs, seed=config.seed, population="train", **train_kwargs
        )
    except (TypeError, ValueError) as error:  # an unknown or bad keyword in --env-kwargs
        raise UserError(f"bad --env-kwargs for {config.env_id}: {error}") from None
    venv = scale_rewards(venv, config.reward_scale)
    eval_env = gym.make_vec(
        config.env_id,
        num_envs=config.eval_envs,
        vectorization_mode="vector_entry_point",
        population="validation",
        **env_kwargs,
    )
    catalogue = catalogue_of(venv)
    features = config.features or default_features(venv)  # what make_model will use
    settings = {
        **asdict(config),
        "features": features,
        "n_envs": n_envs,
        "world_fingerprint": catalogue.fingerprint,
        "reward_scale": getattr(venv, "scale", 1.0),
    }
    write_json(output / "config.json", settings)

    def save(path: Path) -> Path:
        return save_agent(
            model,
            path,
            catalogue=catalogue,
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
    keep_quiet(model)

    callbacks: list[Any] = [ShopMetricsCallback()]
    if config.eval_freq > 0:
        references = reference_levels(eval_env, config.eval_episodes, config.eval_seed)
        write_json(output / "references.json", references)
        callbacks.append(
            EvaluationCallback(
                eval_env,
                n_sessions=config.eval_episodes,
                eval_seed=config.eval_seed,
                eval_freq=max(config.eval_freq // n_envs, 1),
                folder=output,
                save=save,
                references=references,
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
    if config.test_episodes > 0:
        test_once(config, output, env_kwargs)
    return model


def test_once(config: TrainConfig, output: Path, env_kwargs: dict[str, Any]) -> dict[str, Any]:
    """Evaluate the chosen model (the best on validation, else the final one) once on test
    shoppers; writes and returns ``test.json``."""
    chosen = output / "best_model.zip"
    chosen = chosen if chosen.exists() else output / "model.zip"
    test_env = gym.make_vec(
        config.env_id,
        num_envs=config.eval_envs,
        vectorization_mode="vector_entry_point",
        population="test",
        **env_kwargs,
    )
    model = load_agent(chosen, device=config.device)
    result = evaluate(model, test_env, config.test_episodes, config.eval_seed)
    summary = {
        "model": chosen.name,
        "population": "test",
        "sessions": config.test_episodes,
        "seed": config.eval_seed,
        **{name: interval._asdict() for name, interval in result.metrics().items()},
        **result.against_twin(),
    }
    write_json(output / "test.json", summary)
    return summary
