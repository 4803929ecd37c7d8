"""Reward scaling for SB3 training (evaluation always uses the unscaled environment)."""

from __future__ import annotations

from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from ..knowledge import LogKnowledge, knowledge_of
from .representations import catalogue_of


class ScaledReward(VecEnvWrapper):
    """Training rewards times ``scale``; observations, infos and masks pass through.

    Revenue rewards run from 0 to about 40 per step (line values), which makes PPO's and
    A2C's value loss dominate their clipped gradient and slows DQN's Huber fit; scaled to
    about 1 per accepted item they train well. Evaluation uses the unscaled environment.
    """

    def __init__(self, venv: VecEnv, scale: float):
        if not np.isfinite(scale) or scale <= 0:
            raise ValueError(f"reward scale must be a positive number, got {scale!r}")
        super().__init__(venv)
        self.scale = float(scale)

    def reset(self) -> Any:
        return self.venv.reset()

    def step_wait(self) -> Any:
        obs, rewards, dones, infos = self.venv.step_wait()
        return obs, rewards * self.scale, dones, infos


def auto_reward_scale(env: Any, knowledge: LogKnowledge | None = None) -> float:
    """1 / the median logged line value of the catalogue's items (``knowledge``, default
    the training logs behind it) for revenue rewards, 1 for clicks."""
    sim = env.get_attr("sim")[0] if isinstance(env, VecEnv) else env.unwrapped.sim
    if sim.config.reward == "click":  # the reward the environment pays: public
        return 1.0
    knowledge = knowledge or knowledge_of(catalogue_of(env))
    return float(1.0 / np.median(knowledge.line_values))


def scale_rewards(
    env: VecEnv, reward_scale: float | str | None = "auto", knowledge: LogKnowledge | None = None
) -> VecEnv:
    """``env`` with :class:`ScaledReward` (``"auto"``: :func:`auto_reward_scale`).

    ``None`` or 1 leave ``env`` as it is, as does an env that already scales its rewards.
    """
    if reward_scale is None or _find(env, ScaledReward) is not None:
        return env
    if reward_scale == "auto":
        reward_scale = auto_reward_scale(env, knowledge)
    if isinstance(reward_scale, str):
        raise ValueError(
            f"reward_scale must be 'auto', a positive number or None, got {reward_scale!r}"
        )
    return env if reward_scale == 1 else ScaledReward(env, reward_scale)


def _find(env: Any, wrapper: type) -> Any:
    while isinstance(env, VecEnvWrapper):
        if isinstance(env, wrapper):
            return env
        env = env.venv
    return None
