"""CartRecTorchEnv: N CartRec-v1 sessions as one batched TorchRL environment, on the device.

    from cartgym.envs.torchrl import CartRecTorchEnv
    env = CartRecTorchEnv("CartRec-v1", num_envs=1024, device="cpu")   # or "cuda"
    rollout = env.rollout(10)

The simulator runs on the torch backend (:mod:`cartgym.sim.backend`) on ``device``: the
observation and mask buffers, the choice weights and the rewards are tensors there, and
nothing is copied to the host (the simulator reads a few scalars for its control flow,
such as whether any session ended). The dynamics are the same code as ``gym.make``'s,
and every session keeps its counterfactual twin.

Specs, for batch size ``(N,)``: ``observation`` (N, 2M + 6) float32; ``action_mask`` (N,
M + 1) bool (items not in the cart, then show-nothing); ``action`` Categorical(M + 1)
(index M shows nothing); ``reward`` (N, 1) float32; ``done``, ``terminated`` (checkout or
exit) and ``truncated`` (``max_episode_steps``) (N, 1) bool. Ended sessions are reset by
TorchRL's ``_reset`` mask (collectors do it); one item per step (no slates or bundles).
Needs ``pip install "cartgym[torchrl]"``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from tensordict import TensorDict, TensorDictBase
from torchrl.data import Binary, Categorical, Composite, Unbounded
from torchrl.envs import EnvBase

from cartgym.envs.build import build_sessions
from cartgym.envs.config import MAX_EPISODE_STEPS, CartEnvConfig
from cartgym.sim.checkout import CheckoutSimulator


class CartRecTorchEnv(EnvBase):
    """``num_envs`` CartRec-v1 sessions stepped together on ``device`` (see the module).

    Args:
        env_id: a registered CartRec-v1 id with one item per step (``CartRec-v1``, its
            variants such as ``CartRec-Abandon-v1``, or ``CartRec-Grocery-v1``).
        num_envs: sessions stepped together (the batch size).
        device: ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        max_episode_steps: sessions are truncated after this many steps.
        **kwargs: CartEnv's keyword arguments (``n_items``, ``population``, ``reward``...).
    """

    batch_locked = True

    def __init__(
        self,
        env_id: str = "CartRec-v1",
        num_envs: int = 1024,
        device: str = "cpu",
        max_episode_steps: int = MAX_EPISODE_STEPS,
        **kwargs: Any,
    ):
        if env_id not in gym.registry:
            raise ValueError(f"unknown environment id {env_id!r}")
        if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
        merged = {**gym.spec(env_id).kwargs, **kwargs, "backend": "torch", "device": device}
        config = CartEnvConfig.from_kwargs(**merged)
        if config.sim.dynamics != "v1" or config.slate_size != 1 or config.bundles:
            raise ValueError(
                f"CartRecTorchEnv runs CartRec-v1 ids with one item per step; {env_id!r} has "
                f"dynamics={config.sim.dynamics!r}, slate_size={config.slate_size}, "
                f"bundles={config.bundles}"
            )
        self.sessions = build_sessions(num_envs, config, max_episode_steps)
        self.sim: CheckoutSimulator = self.sessions.sim  # type: ignore[assignment]
        self.catalogue = self.sessions.catalogue
        self.layout = self.sessions.layout
        self.config = config
        self.num_envs = num_envs
        super().__init__(device=self.sim.ops.device, batch_size=torch.Size([num_envs]))
        self._make_specs()
        self._rng = np.random.default_rng()
        self._started = False

    def _make_specs(self) -> None:
        n, device = self.num_envs, self.device
        self.n_actions = self.catalogue.n_items + 1
        self.observation_spec = Composite(
            observation=Unbounded(shape=(n, self.layout.size), dtype=torch.float32, device=device),
            action_mask=Binary(
                n=self.n_actions, shape=(n, self.n_actions), dtype=torch.bool, device=device
            ),
            shape=(n,),
            device=device,
        )
        self.action_spec = Categorical(n=self.n_actions, shape=(n,), device=device)
        self.reward_spec = Unbounded(shape=(n, 1), dtype=torch.float32, device=device)
        flag = Categorical(2, shape=(n, 1), dtype=torch.bool, device=device)
        self.full_done_spec = Composite(
            done=flag, terminated=flag.clone(), truncated=flag.clone(), shape=(n,), device=device
        )

    def _observation(self) -> dict[str, torch.Tensor]:
        observer = self.sessions.observer
        observer.update()
        return {
            "observation": observer._buffer.clone(),
            "action_mask": observer._masks.reshape(self.num_envs, -1).clone(),
        }

    def _reset(self, tensordict: TensorDictBase | None = None, **kwargs: Any) -> TensorDictBase:
        reset = None if tensordict is None else tensordict.get("_reset", None)
        if reset is None or not self._started:
            self.sim.reset(self._rng)  # every lane (a new key for the streams)
            self._started = True
        else:
            rows = reset.reshape(-1).nonzero().reshape(-1)
            if len(rows):
                self.sim.reset(self._rng, rows)
        flags = torch.zeros((self.num_envs, 1), dtype=torch.bool, device=self.device)
        out = {**self._observation(), "done": flags, "terminated": flags.clone()}
        return TensorDict({**out, "truncated": flags.clone()}, batch_size=self.batch_size)

    def _step(self, tensordict: TensorDictBase) -> TensorDictBase:
        action = tensordict.get("action").reshape(self.num_envs).to(torch.int64)
        m = self.catalogue.n_items
        recs = torch.where(action >= m, -1, action)[:, None]
        moves = self.sim.step(recs, on_device=True)
        terminated = (moves["checkout"] | moves["left"])[:, None]
        truncated = moves["truncated"][:, None]
        out = {
            **self._observation(),
            "reward": moves["reward"].to(torch.float32)[:, None],
            "done": terminated | truncated,
            "terminated": terminated,
            "truncated": truncated,
        }
        return TensorDict(out, batch_size=self.batch_size)

    def _set_seed(self, seed: int | None) -> None:
        self._rng = np.random.default_rng(seed)
        self._started = False  # the next reset rekeys every lane from this seed
