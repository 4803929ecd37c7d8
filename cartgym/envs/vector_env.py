"""CartVectorEnv: N shopping sessions stepped together by the same batched simulator."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.error import ResetNeeded
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from cartgym.envs.build import build_sessions
from cartgym.envs.config import MAX_EPISODE_STEPS, CartEnvConfig
from cartgym.sim.oracle import CheckoutView, OracleView


class CartVectorEnv(VectorEnv):
    """``num_envs`` independent CartEnv sessions in one batch (no per-session Python loop).

    The dynamics are those of :class:`~cartgym.envs.cart_env.CartEnv` (the same simulator
    with B = ``num_envs``), with Gymnasium's next-step autoreset: the step that ends a
    session returns its last observation, and the following step resets that session
    (its action is ignored, its reward is 0). Sessions are truncated after
    ``max_episode_steps``. ``info`` holds one array per key, with ``_key`` masks.

    With ``autoreset_mode="same_step"`` an ended session restarts within the same step:
    the returned observation is the new session's, the last one is in
    ``info["final_obs"]`` (rows marked by ``info["_final_obs"]``); SB3's VecEnv works this
    way (see :mod:`cartgym.agents.vec_env`).

    ``copy_buffers=False`` returns the environment's own observation and mask buffers
    (numpy arrays updated in place, valid until the next ``step`` or ``reset``, as EnvPool
    and PufferLib do) instead of fresh copies: no (N, D) copy per step. Copies are the
    default, since Gymnasium code may keep observations across steps (SB3's rollout
    buffer copies them, so it can take the buffers).

    Make it with ``gymnasium.make_vec("CartRec-v1", num_envs=N,
    vectorization_mode="vector_entry_point")``; the other keyword arguments are CartEnv's.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(
        self,
        num_envs: int = 1,
        max_episode_steps: int | None = MAX_EPISODE_STEPS,
        autoreset_mode: str = "next_step",
        copy_buffers: bool = True,
        **kwargs: Any,
    ):
        modes = {"next_step": AutoresetMode.NEXT_STEP, "same_step": AutoresetMode.SAME_STEP}
        if autoreset_mode not in modes:
            raise ValueError(
                f"autoreset_mode must be one of {sorted(modes)}, got {autoreset_mode!r}"
            )
        self.metadata = {**self.metadata, "autoreset_mode": modes[autoreset_mode]}
        if (
            isinstance(num_envs, bool)
            or not isinstance(num_envs, (int, np.integer))
            or num_envs < 1
        ):
            raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
        if max_episode_steps is not None and max_episode_steps < 1:
            raise ValueError(f"max_episode_steps must be >= 1 or None, got {max_episode_steps!r}")
        self.config = CartEnvConfig.from_kwargs(**kwargs)
        self.sessions = build_sessions(int(num_envs), self.config, max_episode_steps)
        self.num_envs = int(num_envs)
        self.world = self.sessions.world
        self.catalogue = self.sessions.catalogue  # what agents may read of the shop
        self.sim = self.sessions.sim
        self.layout = self.sessions.layout
        self.max_episode_steps = max_episode_steps
        self.single_observation_space = self.sessions.observation_space
        self.single_action_space = self.sessions.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._needs_reset = np.zeros(self.num_envs, dtype=bool)
        self._started = False
        self.copy_buffers = bool(copy_buffers)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.sim.reset(self.np_random)
        self._needs_reset[:] = False
        self._started = True
        return self.sessions.observe(self.copy_buffers), self._with_masks(self.sessions.info(None))

    def step(self, actions):
        if not self._started:
            raise ResetNeeded("call reset() before step()")
        sessions, sim = self.sessions, self.sim
        sessions.recommendations(actions, batched=True)  # check before changing any state
        restart = np.flatnonzero(self._needs_reset)
        sim.done[sim.ops.asarray(restart, "int64")] = True  # truncated sessions are over too
        if len(restart) < self.num_envs:
            outcome = sessions.step(actions, True, self.np_random)
            reward = outcome.reward.copy()
            terminated = outcome.checkout | outcome.abandoned
        else:  # every session restarts: nothing to step (keeps N = 1 in step with CartEnv)
            outcome, reward = None, np.zeros(self.num_envs)
            terminated = np.zeros(self.num_envs, dtype=bool)
        info = sessions.info(outcome)
        truncated = np.zeros(self.num_envs, dtype=bool)
        if self.max_episode_steps is not None:
            # as gymnasium's TimeLimit: the step that reaches the limit is truncated
            steps = sessions.lane(sim.steps)
            truncated = (steps >= self.max_episode_steps) & ~self._needs_reset
        if len(restart):
            sim.reset(self.np_random, restart)
            reward[restart] = 0.0
            terminated[restart] = truncated[restart] = False
            info["cart_size"][restart] = sessions.lane(sim.cart_size)[restart]
            info["cart_value"][restart] = sessions.lane(sim.cart_value)[restart]
        ended = terminated | truncated
        obs = sessions.observe(self.copy_buffers)
        if self.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP:
            self._needs_reset = ended
        elif ended.any():
            info = self._with_masks(info)
            info["final_obs"], info["_final_obs"] = obs.copy(), ended  # the reset overwrites
            sim.reset(self.np_random, np.flatnonzero(ended))
            return sessions.observe(self.copy_buffers), reward, terminated, truncated, info
        return obs, reward, terminated, truncated, self._with_masks(info)

    def action_masks(self) -> np.ndarray:
        """(N, M) items not in each cart; (N, K * M) for slates (sb3-contrib's layout);
        the persistent buffer with ``copy_buffers=False``."""
        return self.sessions.action_masks(self.copy_buffers)

    def oracle_view(self) -> OracleView | CheckoutView:
        """Every shopper's true choice weights, for oracle reference policies only."""
        return self.sim.oracle_view()

    def oracle_bundle_revenue(self) -> np.ndarray:
        """(N, C) expected revenue of each bundle action now (bundle envs; oracle only)."""
        return self.sessions.expected_revenue()  # type: ignore[attr-defined]

    def _with_masks(self, info: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        every = np.ones(self.num_envs, dtype=bool)
        return {**info, **{f"_{key}": every for key in info}}
