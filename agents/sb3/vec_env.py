"""SB3 VecEnv adapter over the native CartVectorEnv (one batched simulator, no subprocesses).

Stable-Baselines3 steps its own ``VecEnv`` type: reset returns only observations, ended
sessions restart within the same step with the last observation in
``infos[i]["terminal_observation"]``, and truncation is flagged by
``infos[i]["TimeLimit.truncated"]``. :class:`CartSB3VecEnv` provides exactly that on top
of a :class:`~cartgym.envs.vector_env.CartVectorEnv` in ``autoreset_mode="same_step"``;
``env_method("action_masks")`` serves sb3-contrib's MaskablePPO.

    from cartgym.agents.vec_env import make_sb3_vec_env
    venv = make_sb3_vec_env("CartRec-v0", n_envs=8, seed=0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

try:
    from stable_baselines3.common.vec_env.base_vec_env import VecEnv
except ImportError as error:  # pragma: no cover - the [agents] extra is missing
    raise ImportError(
        'cartgym.agents needs stable-baselines3: pip install "cartgym[agents]"'
    ) from error

import cartgym  # noqa: F401  (registers the ids)
from cartgym.envs.vector_env import CartVectorEnv


class CartSB3VecEnv(VecEnv):
    """A CartVectorEnv seen as an SB3 VecEnv."""

    def __init__(self, env: CartVectorEnv):
        if env.metadata["autoreset_mode"] != AutoresetMode.SAME_STEP:
            raise ValueError("CartSB3VecEnv needs a CartVectorEnv with autoreset_mode='same_step'")
        self.env = env
        self._actions: np.ndarray | None = None
        self._seed: int | None = None
        super().__init__(env.num_envs, env.single_observation_space, env.single_action_space)

    def reset(self) -> np.ndarray:
        obs, _ = self.env.reset(seed=self._seed)
        self._seed = None
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self):
        obs, reward, terminated, truncated, info = self.env.step(self._actions)
        dones = terminated | truncated
        keys = [k for k in info if not k.startswith("_") and k != "final_obs"]
        infos: list[dict[str, Any]] = [{k: info[k][i] for k in keys} for i in range(self.num_envs)]
        for i in np.flatnonzero(dones):
            infos[i]["terminal_observation"] = info["final_obs"][i]
            infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
        return obs, reward.astype(np.float32), dones, infos

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        self._seed = seed
        return [seed] * self.num_envs

    def close(self) -> None:
        self.env.close()

    def action_masks(self) -> np.ndarray:
        return self.env.action_masks()

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        return [getattr(self.env, attr_name)] * len(self._indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        setattr(self.env, attr_name, value)

    def env_method(self, method_name: str, *args, indices=None, **kwargs) -> list[Any]:
        rows = self._indices(indices)
        if method_name == "action_masks":
            masks = self.env.action_masks()
            return [masks[i] for i in rows]
        result = getattr(self.env, method_name)(*args, **kwargs)
        return [result] * len(rows)

    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        return [False] * len(self._indices(indices))

    def _indices(self, indices) -> list[int]:
        if indices is None:
            return list(range(self.num_envs))
        return [indices] if isinstance(indices, int) else list(indices)


def make_sb3_vec_env(
    env_id: str = "CartRec-v0", n_envs: int = 8, seed: int | None = None, **kwargs
):
    """An SB3 VecEnv of ``n_envs`` sessions of ``env_id`` on the native batched simulator."""
    env = gym.make_vec(
        env_id,
        num_envs=n_envs,
        vectorization_mode="vector_entry_point",
        autoreset_mode="same_step",
        **kwargs,
    )
    core = env.unwrapped
    if not isinstance(core, CartVectorEnv):
        raise ValueError(f"{env_id} has no native cartgym vector env")
    venv = CartSB3VecEnv(core)
    venv.seed(seed)
    return venv
