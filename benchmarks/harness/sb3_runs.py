"""SB3 algorithms in the benchmark harness: train on ``train`` shoppers, act deterministically."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from cartgym.agents.sb3 import get_algorithm, make_model, make_sb3_vec_env
from cartgym.agents.sb3.algorithms import training_reward


def sb3_policy(
    algorithm: str, env: Any, seed: int, settings: dict[str, Any]
) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[int], None]]:
    """(act, learn) for one run: ``learn(steps)`` continues training on the native vector
    env of training shoppers with the algorithm's default n_envs; ``act`` is the
    deterministic (masked) policy.

    ``settings`` are SB3 keyword arguments, plus ``features``, ``n_envs`` and
    ``train_reward``: the reward to train on (default
    :func:`~cartgym.agents.sb3.algorithms.training_reward`: clicks on CartRec-v1), which
    changes the training env only; every run is evaluated on the sweep env's own reward.
    """
    settings = dict(settings)
    n_envs = settings.pop("n_envs", get_algorithm(algorithm).n_envs)
    kwargs = dict(env.kwargs)
    reward = settings.pop("train_reward", training_reward(env.id, env.kwargs))
    if reward is not None:
        kwargs["reward"] = reward
    venv = make_sb3_vec_env(env.id, n_envs=n_envs, seed=seed, population="train", **kwargs)
    model = make_model(algorithm, venv, seed=seed, device="auto", **settings)

    def act(obs: np.ndarray) -> np.ndarray:
        return model.predict(obs, deterministic=True)[0]

    def learn(steps: int) -> None:
        model.learn(steps, reset_num_timesteps=False)

    return act, learn
