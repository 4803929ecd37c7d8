"""Masked SB3 policies: items already in the cart (or bundles overlapping it) are never offered.

The mask is read from the observation at the place a
:class:`~cartgym.agents.sb3.masking.MaskSource` names (see :mod:`cartgym.agents.sb3.masking`),
so it is exactly the mask of ``env.unwrapped.action_masks()``. Every policy takes
``mask_source`` as a policy keyword argument and sets the Q-values, quantiles or logits of
masked actions to ``MASKED`` (-1e8) before the argmax or the sampling, for ``Discrete``
actions and, for the actor-critic policy, ``MultiDiscrete([M] * K)`` slates.

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
from .masking import (
    MASKED,
    MaskSource,
    action_shape,
    distinct_greedy,
    random_allowed,
    resolve_mask_source,
)


class MaskedQNetwork(QNetwork):
    """DQN's Q-network with masked actions at ``MASKED`` (and the dot head on request)."""

    def __init__(self, *args: Any, mask_source: MaskSource | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.mask_source = resolve_mask_source(
            mask_source, self.observation_space, self.action_space
        )
        last: Any = self.q_net[-1]
        n_actions = action_shape(self.action_space)[0]
        head = item_head_for(self.features_extractor, last.in_features, 1, n_actions)
        if head is not None:
            self.q_net[-1] = head

    def forward(self, obs: th.Tensor) -> th.Tensor:  # type: ignore[override]
        q_values = super().forward(obs)
        return q_values.masked_fill(~self.mask_source.allowed(obs), MASKED)


class MaskedQuantileNetwork(QuantileNetwork):
    """QR-DQN's quantile network with masked actions at ``MASKED`` in every quantile."""

    def __init__(self, *args: Any, mask_source: MaskSource | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.mask_source = resolve_mask_source(
            mask_source, self.observation_space, self.action_space
        )
        last: Any = self.quantile_net[-1]
        n_actions = action_shape(self.action_space)[0]
        head = item_head_for(self.features_extractor, last.in_features, self.n_quantiles, n_actions)
        if head is not None:
            self.quantile_net[-1] = head

    def forward(self, obs: th.Tensor) -> th.Tensor:  # type: ignore[override]
        quantiles = super().forward(obs)
        return quantiles.masked_fill(~self.mask_source.allowed(obs)[:, None, :], MASKED)


class _MaskSourceKwarg:
    """The ``mask_source`` policy keyword argument of the Q-learning policies."""

    mask_source: MaskSource | None
    observation_space: spaces.Space
    action_space: spaces.Space

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()  # type: ignore[misc]
        return {**data, "mask_source": self.mask_source}

    def _masked_net_args(self, net_args: dict[str, Any]) -> dict[str, Any]:
        source = resolve_mask_source(self.mask_source, self.observation_space, self.action_space)
        return {**net_args, "mask_source": source}


class MaskedQPolicy(_MaskSourceKwarg, DQNPolicy):
    """DQN policy whose online and target networks are :class:`MaskedQNetwork`.

    ``mask_source`` (a :class:`MaskSource`) says where the observation holds the mask;
    None infers it from the spaces.
    """

    def __init__(self, *args: Any, mask_source: MaskSource | None = None, **kwargs: Any):
        self.mask_source = mask_source  # read by _build, which DQNPolicy's __init__ calls
        super().__init__(*args, **kwargs)

    def make_q_net(self) -> QNetwork:
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        return MaskedQNetwork(**self._masked_net_args(net_args)).to(self.device)


class MaskedQuantilePolicy(_MaskSourceKwarg, QRDQNPolicy):
    """QR-DQN policy whose networks are :class:`MaskedQuantileNetwork` (``mask_source`` as
    for :class:`MaskedQPolicy`)."""

    def __init__(self, *args: Any, mask_source: MaskSource | None = None, **kwargs: Any):
        self.mask_source = mask_source
        super().__init__(*args, **kwargs)

    def make_quantile_net(self) -> QuantileNetwork:
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        return MaskedQuantileNetwork(**self._masked_net_args(net_args)).to(self.device)


class _AllowedExploration:
    """Epsilon-greedy per session and a random warm-up, both among allowed actions only."""

    exploration_rate: float
    observation_space: spaces.Space
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
            flat[explore] = random_allowed(
                obs[explore], action_shape(self.action_space)[0], rng, self._mask_source()
            )
        return flat.reshape(np.shape(action)), state

    def _mask_source(self) -> MaskSource:
        source = getattr(self.policy, "mask_source", None)
        return resolve_mask_source(source, self.observation_space, self.action_space)

    def _sample_action(
        self, learning_starts: int, action_noise: Any = None, n_envs: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        if self.num_timesteps < learning_starts:
            n_items = action_shape(self.action_space)[0]
            rng = self.action_space.np_random
            action = random_allowed(self._last_obs, n_items, rng, self._mask_source())
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
    ``mask_source`` (a :class:`MaskSource`) says where the observation holds the mask;
    None infers it from the spaces.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        *args: Any,
        use_sde: bool = False,
        mask_source: MaskSource | None = None,
        **kwargs: Any,
    ):
        if use_sde:
            raise ValueError("use_sde is for continuous actions; cartgym's actions are discrete")
        self.n_items, self.slate_size = action_shape(action_space)
        self.mask_source = resolve_mask_source(mask_source, observation_space, action_space)
        super().__init__(observation_space, action_space, lr_schedule, *args, **kwargs)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return {**super()._get_constructor_parameters(), "mask_source": self.mask_source}

    def _build(self, lr_schedule: Schedule) -> None:
        super()._build(lr_schedule)
        head = item_head_for(
            self.features_extractor, self.mlp_extractor.latent_dim_pi, self.slate_size, self.n_items
        )
        if head is not None:
            self.action_net = head
            self.optimizer = self.optimizer_class(  # type: ignore[call-arg]
                self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs
            )

    def masks(self, obs: th.Tensor) -> Any:
        """(B, K * M) True for allowed actions (items not in the cart, or bundles that do
        not overlap it), per slate position."""
        return self.mask_source.allowed(obs).repeat(1, self.slate_size)

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
