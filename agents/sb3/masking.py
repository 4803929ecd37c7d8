"""Where an observation holds its action mask, and the mask helpers of the masked policies.

SB3's ``predict(obs)`` has no mask argument, so the mask is read from the observation, at
the place a :class:`MaskSource` names: on item and slate environments the cart block
(``obs[:, :M] > 0.5`` marks the items in the cart), on bundle environments
(``CartRecBundle-v0``) the ``available`` feature of every candidate action in the candidate
block. Either way it is exactly the mask of ``env.unwrapped.action_masks()``. The masked
policies (:mod:`cartgym.agents.sb3.policies`) take ``mask_source`` as a policy keyword
argument; :func:`~cartgym.agents.sb3.make_model` sets it from the environment's layout
(:meth:`MaskSource.of_env`), and without one the policy infers it from its spaces
(:meth:`MaskSource.infer`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces

from cartgym.envs.observation import (
    CANDIDATE_FEATURES,
    SCALARS,
    BundleLayout,
    ObservationLayout,
)

MASKED = -1e8


@dataclass(frozen=True)
class MaskSource:
    """Where an observation holds its action mask: one flag per action.

    Action a's flag is ``obs[:, start + a * stride]``. With ``allowed_if_set`` a flag above
    0.5 allows the action (a bundle candidate's ``available`` feature); without, it forbids
    it (the cart block: 1 for an item in the cart). ``nothing`` more actions follow, always
    allowed (CartRec-v1's show-nothing action).
    """

    start: int
    stride: int
    n_actions: int
    allowed_if_set: bool
    nothing: int = 0

    def __post_init__(self) -> None:
        for name in ("start", "stride", "n_actions", "nothing"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ValueError(f"{name} must be an int, got {value!r}")
        if self.start < 0 or self.stride < 1 or self.n_actions < 1:
            raise ValueError(f"expected start >= 0, stride >= 1 and n_actions >= 1, got {self}")

    @classmethod
    def cart(cls, n_items: int, nothing: int = 0) -> MaskSource:
        """The cart block of an item or slate environment of ``n_items`` items."""
        return cls(0, 1, int(n_items), False, int(nothing))

    @classmethod
    def candidates(cls, block_start: int, n_actions: int, nothing: int = 0) -> MaskSource:
        """The ``available`` features of a bundle environment's candidate block."""
        offset = CANDIDATE_FEATURES.index("available")
        stride = len(CANDIDATE_FEATURES)
        return cls(int(block_start) + offset, stride, int(n_actions), True, int(nothing))

    @classmethod
    def of_env(cls, env: Any) -> MaskSource | None:
        """The mask source of a cartgym environment (single, vector, or SB3 VecEnv); None
        for an environment that is not cartgym's."""
        layout = _attribute(env, "layout")
        space = _attribute(env, "single_action_space") or _attribute(env, "action_space")
        if not isinstance(layout, ObservationLayout) or space is None:
            return None
        n, _ = action_shape(space)
        if isinstance(layout, BundleLayout):
            return cls.candidates(layout.candidates.start, layout.n_actions, n - layout.n_actions)
        return cls.cart(layout.n_items, n - layout.n_items)

    @classmethod
    def infer(cls, observation_space: spaces.Space, action_space: spaces.Space) -> MaskSource:
        """The mask source that cartgym's spaces imply.

        An observation of 2M + 6 entries with M items per action is an item or slate
        environment (the cart block); one of 2M + 6 + 9C entries with ``Discrete(C)``
        actions is a bundle environment (the candidate block is last). Anything else is
        taken as the cart block (the layout this module always assumed).
        """
        n, _ = action_shape(action_space)
        size = int(np.prod(observation_space.shape or (0,)))
        for nothing in (0, 1):  # CartRec-v0's spaces, then v1's (one show-nothing action)
            flags = n - nothing
            if size == 2 * flags + len(SCALARS):
                return cls.cart(flags, nothing)
            rest = size - len(SCALARS) - len(CANDIDATE_FEATURES) * flags
            if rest > 0 and rest % 2 == 0:
                return cls.candidates(size - len(CANDIDATE_FEATURES) * flags, flags, nothing)
        return cls.cart(n)

    @property
    def end(self) -> int:
        """One past the last entry read."""
        return self.start + (self.n_actions - 1) * self.stride + 1

    def allowed(self, obs: Any) -> Any:
        """(B, n_actions + nothing) True for allowed actions, from (B, D) observations
        (torch or numpy)."""
        flags = obs[:, self.start : self.end : self.stride] > 0.5
        flags = flags if self.allowed_if_set else ~flags
        if not self.nothing:
            return flags
        if isinstance(flags, np.ndarray):
            return np.concatenate([flags, np.ones((len(flags), self.nothing), bool)], axis=1)
        ones = th.ones((len(flags), self.nothing), dtype=th.bool, device=flags.device)
        return th.cat([flags, ones], dim=1)


def _attribute(env: Any, name: str) -> Any:
    """``env``'s cartgym attribute ``name`` (through SB3 VecEnvs and Gymnasium wrappers)."""
    get_attr = getattr(env, "get_attr", None)
    if callable(get_attr):  # an SB3 VecEnv (its wrappers forward get_attr)
        try:
            return get_attr(name)[0]
        except (AttributeError, IndexError):
            return None
    return getattr(getattr(env, "unwrapped", env), name, None)


def _check_fits(source: MaskSource, observation_space: spaces.Space, n_actions: int) -> None:
    size = int(np.prod(observation_space.shape or (0,)))
    if source.end > size or source.n_actions + source.nothing != n_actions:
        raise ValueError(
            f"mask_source {source} does not fit observations of {size} entries and "
            f"{n_actions} actions"
        )


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


def random_allowed(
    obs: np.ndarray,
    n_items: int,
    rng: np.random.Generator,
    source: MaskSource | None = None,
) -> np.ndarray:
    """(B,) one uniformly random allowed action per row: an item not in the cart, or the
    action allowed by ``source`` (default: the cart block of ``n_items`` items)."""
    obs = np.asarray(obs).reshape(-1, np.shape(obs)[-1])
    source = source or MaskSource.cart(n_items)
    draws = rng.random((len(obs), source.n_actions + source.nothing))
    draws[~source.allowed(obs)] = -1.0
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


def resolve_mask_source(
    source: MaskSource | None, observation_space: spaces.Space, action_space: spaces.Space
) -> MaskSource:
    """``source``, checked against the spaces, or the one they imply (:meth:`MaskSource.infer`)."""
    if source is None:
        return MaskSource.infer(observation_space, action_space)
    if not isinstance(source, MaskSource):
        raise ValueError(f"mask_source must be a MaskSource or None, got {source!r}")
    _check_fits(source, observation_space, action_shape(action_space)[0])
    return source
