"""Masked SB3 policies: items already in the cart are never recommended.

SB3's ``predict(obs)`` has no mask argument, so the mask is read from the observation:
``obs[:, layout.cart] > 0.5`` marks the items in the cart (the cart block is the first M
entries), exactly the items ``env.unwrapped.action_masks()`` masks. Every policy here sets
their Q-values, quantiles or logits to ``MASKED`` (-1e8) before the argmax or the sampling,
for ``Discrete(M)`` and, for the actor-critic policy, ``MultiDiscrete([M] * K)`` slates.

- :class:`MaskedQPolicy` (DQN) and :class:`MaskedQuantilePolicy` (QR-DQN) mask the network
  itself, so the bootstrap target max_a Q(s', a) of training also runs over allowed items
  only. :class:`MaskedDQN` and :class:`MaskedQRDQN` explore among allowed items too
  (epsilon-greedy per session, and the random warm-up), so no stored action is masked.
- :class:`MaskedActorCriticPolicy` (PPO, A2C and MaskablePPO) is sb3-contrib's maskable
  policy with the mask taken from the observation when none is given: sampling, log-probs
  and entropy cover allowed items only. MaskablePPO passes ``env.action_masks()`` during
  training, which is the same mask. Its deterministic slate is K distinct items, greedily by
  position (a repeat is chosen only over an item in the cart).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from sb3_contrib import QRDQN
from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
from sb3_contrib.qrdqn.policies import QRDQNPolicy, QuantileNetwork
from stable_baselines3 import DQN
from stable_baselines3.common.type_aliases import Schedule
from stable_baselines3.dqn.policies import DQNPolicy, QNetwork

from .extractors import item_head_for

MASKED = -1e8


def action_shape(action_space: spaces.Space) -> tuple[int, int]:
    """(M, K): catalogue size and slate size of a Discrete or MultiDiscrete action space."""
    if isinstance(action_space, spaces.Discrete):
        return int(action_space.n), 1
    if isinstance(action_space, spaces.MultiDiscrete) and action_space.nvec.ndim == 1:
        nvec = action_space.nvec
        if len(set(nvec.tolist())) == 1:
            return int(nvec[0]), len(nvec)
    raise ValueError(f"expected Discrete(M) or MultiDiscrete([M] * K), got {action_space}")


def in_cart(obs: th.Tensor, n_items: int) -> th.Tensor:
    """(B, M) True for items in the cart: the cart block of the observations."""
    return obs[:, :n_items] > 0.5


def random_allowed(obs: np.ndarray, n_items: int, rng: np.random.Generator) -> np.ndarray:
    """(B,) one uniformly random item per row among those not in the cart."""
    obs = np.asarray(obs).reshape(-1, np.shape(obs)[-1])
    draws = rng.random((len(obs), n_items))
    draws[obs[:, :n_items] > 0.5] = -1.0
    return draws.argmax(axis=1)


def distinct_greedy(logits: th.Tensor) -> th.Tensor:
    """(B, K) slates from (B, K, M) masked scores: per position the best item not yet shown.

    A shown item drops to MASKED / 2: below every allowed item, above every masked one.
    """
    scores = logits.clone()
    chosen = []
    for k in range(scores.shape[1]):
        best = scores[:, k].argmax(dim=1)
        chosen.append(best)
        index = best[:, None, None].expand(-1, scores.shape[1], 1)
        scores.scatter_(2, index, MASKED / 2)
    return th.stack(chosen, dim=1)


class MaskedQNetwork(QNetwork):
    """DQN's Q-network with in-cart items at ``MASKED`` (and the dot head on request)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        last: Any = self.q_net[-1]
        head = item_head_for(self.features_extractor, last.in_features, 1)
        if head is not None:
            self.q_net[-1] = head

    def forward(self, obs: th.Tensor) -> th.Tensor:  # type: ignore[override]
        q_values = super().forward(obs)
        return q_values.masked_fill(in_cart(obs, q_values.shape[1]), MASKED)


class MaskedQuantileNetwork(QuantileNetwork):
    """QR-DQN's quantile network with in-cart items at ``MASKED`` in every quantile."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        last: Any = self.quantile_net[-1]
        head = item_head_for(self.features_extractor, last.in_features, self.n_quantiles)
        if head is not None:
            self.quantile_net[-1] = head

    def forward(self, obs: th.Tensor) -> th.Tensor:  # type: ignore[override]
        quantiles = super().forward(obs)
        return quantiles.masked_fill(in_cart(obs, quantiles.shape[2])[:, None, :], MASKED)


class MaskedQPolicy(DQNPolicy):
    """DQN policy whose online and target networks are :class:`MaskedQNetwork`."""

    def make_q_net(self) -> QNetwork:
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        return MaskedQNetwork(**net_args).to(self.device)


class MaskedQuantilePolicy(QRDQNPolicy):
    """QR-DQN policy whose networks are :class:`MaskedQuantileNetwork`."""

    def make_quantile_net(self) -> QuantileNetwork:
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        return MaskedQuantileNetwork(**net_args).to(self.device)


class _AllowedExploration:
    """Epsilon-greedy per session and a random warm-up, both among items not in the cart."""

    exploration_rate: float
    action_space: spaces.Space
    num_timesteps: int
    policy: Any
    _last_obs: Any

    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, Any]:
        action, state = self.policy.predict(observation, state, episode_start, deterministic)
        if deterministic or self.exploration_rate <= 0:
            return action, state
        rng = self.action_space.np_random
        flat = np.array(action).reshape(-1)
        explore = rng.random(len(flat)) < self.exploration_rate
        if explore.any():
            obs = np.asarray(observation).reshape(len(flat), -1)
            flat[explore] = random_allowed(obs[explore], action_shape(self.action_space)[0], rng)
        return flat.reshape(np.shape(action)), state

    def _sample_action(
        self, learning_starts: int, action_noise: Any = None, n_envs: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        if self.num_timesteps < learning_starts:
            n_items = action_shape(self.action_space)[0]
            action = random_allowed(self._last_obs, n_items, self.action_space.np_random)
            return action, action
        return super()._sample_action(learning_starts, action_noise, n_envs)  # type: ignore[misc]


class MaskedDQN(_AllowedExploration, DQN):
    """SB3's DQN exploring among allowed items only; use it with :class:`MaskedQPolicy`."""


class MaskedQRDQN(_AllowedExploration, QRDQN):
    """sb3-contrib's QR-DQN exploring among allowed items; use :class:`MaskedQuantilePolicy`."""


class MaskedActorCriticPolicy(MaskableActorCriticPolicy):
    """sb3-contrib's maskable actor-critic policy, masks read from the observation by default.

    Works with PPO and A2C (which never pass masks) as with MaskablePPO (which passes the
    environment's, the same). ``use_sde`` is accepted for PPO and A2C and must be False.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        *args: Any,
        use_sde: bool = False,
        **kwargs: Any,
    ):
        if use_sde:
            raise ValueError("use_sde is for continuous actions; cartgym's actions are discrete")
        self.n_items, self.slate_size = action_shape(action_space)
        super().__init__(observation_space, action_space, lr_schedule, *args, **kwargs)

    def _build(self, lr_schedule: Schedule) -> None:
        super()._build(lr_schedule)
        head = item_head_for(
            self.features_extractor, self.mlp_extractor.latent_dim_pi, self.slate_size
        )
        if head is not None:
            self.action_net = head
            self.optimizer = self.optimizer_class(  # type: ignore[call-arg]
                self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs
            )

    def masks(self, obs: th.Tensor) -> Any:
        """(B, K * M) True for allowed actions (items not in the cart), per slate position."""
        return (~in_cart(obs, self.n_items)).repeat(1, self.slate_size)

    def forward(
        self, obs: th.Tensor, deterministic: bool = False, action_masks: Any = None
    ) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
        masks = self.masks(obs) if action_masks is None else action_masks
        return super().forward(obs, deterministic, masks)

    def evaluate_actions(
        self, obs: th.Tensor, actions: th.Tensor, action_masks: Any = None
    ) -> tuple[th.Tensor, th.Tensor, th.Tensor | None]:
        masks = self.masks(obs) if action_masks is None else action_masks
        return super().evaluate_actions(obs, actions, masks)

    def get_distribution(self, obs: Any, action_masks: Any = None) -> Any:
        masks = self.masks(obs) if action_masks is None else action_masks
        return super().get_distribution(obs, masks)

    def _predict(
        self, observation: Any, deterministic: bool = False, action_masks: Any = None
    ) -> th.Tensor:
        distribution = self.get_distribution(observation, action_masks)
        if deterministic and self.slate_size > 1:
            logits = th.stack([d.logits for d in distribution.distributions], dim=1)
            return distinct_greedy(logits)
        return distribution.get_actions(deterministic=deterministic)
