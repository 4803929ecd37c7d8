"""The candidate block of a bundle environment's observation, and the base of bundle agents."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from cartgym.envs.observation import CANDIDATE_FEATURES, BundleLayout

from ..protocol import Agent, Env

N_FEATURES = len(CANDIDATE_FEATURES)

ITEM_COLUMNS = [CANDIDATE_FEATURES.index(f"item_{k}") for k in (1, 2, 3)]


@dataclass(frozen=True)
class CandidateBlock:
    """Where a bundle environment's observation holds its C actions' features.

    Action a's feature f is ``obs[:, start + a * 9 + f]`` (f indexes ``CANDIDATE_FEATURES``).
    """

    start: int
    n_actions: int
    n_items: int
    n_discounts: int

    @classmethod
    def of_env(cls, env: Env) -> CandidateBlock:
        """The candidate block of a bundle environment, single or vector (from its layout).

        Raises ValueError for an environment without bundle offers.
        """
        layout = getattr(env.unwrapped, "layout", None)
        if not isinstance(layout, BundleLayout):
            raise ValueError(
                "bundle agents need a bundle environment (CartRecBundle-v0, or bundle_candidates "
                f"set), got {getattr(env.unwrapped.spec, 'id', type(env.unwrapped).__name__)}"
            )
        return cls.of_layout(layout)

    @classmethod
    def of_layout(cls, layout: BundleLayout) -> CandidateBlock:
        """The candidate block of a bundle environment's observation layout."""
        return cls(layout.candidates.start, layout.n_actions, layout.n_items, layout.n_discounts)

    @property
    def end(self) -> int:
        """The observation size: the candidate block is last."""
        return self.start + self.n_actions * N_FEATURES

    def features(self, obs: np.ndarray) -> np.ndarray:
        """(B, C, 9) the candidates' features."""
        return obs[:, self.start : self.end].reshape(len(obs), self.n_actions, N_FEATURES)

    def column(self, obs: np.ndarray, name: str) -> np.ndarray:
        """(B, C) one feature of every action, by its name in ``CANDIDATE_FEATURES``."""
        return self.features(obs)[:, :, CANDIDATE_FEATURES.index(name)]

    def items(self, obs: np.ndarray) -> np.ndarray:
        """(B, C, 3) the items of every action's bundle, -1 where a pair has no third."""
        coded = self.features(obs)[:, :, ITEM_COLUMNS].astype(np.float64)
        return np.rint(coded * self.n_items).astype(np.int64) - 1

    def available(self, obs: np.ndarray) -> np.ndarray:
        """(B, C) True where no item of the bundle is in the cart (``action_masks()``)."""
        return self.column(obs, "available") > 0.5

    def discount(self, obs: np.ndarray) -> np.ndarray:
        """(B, C) the discount of every offer."""
        return self.column(obs, "discount").astype(np.float64)

    def lowest_discount(self, obs: np.ndarray) -> np.ndarray:
        """(B, C) True for each bundle's offer at its lowest discount (one per bundle)."""
        d = self.discount(obs).reshape(len(obs), -1, self.n_discounts)
        first = np.argmin(d, axis=2)[..., None] == np.arange(self.n_discounts)
        return first.reshape(len(obs), self.n_actions)


class BundleAgent(Agent):
    """Base of the bundle agents: the C offers scored from the candidate block, masked by
    ``available``.

    Subclasses implement :meth:`scores` ((B, D) observations -> (B, C) action scores).
    ``predict`` returns the best available action (an int, or (N,) ints for a batch).
    Agents without a model of discounts set ``offers_discounts = False``: they offer each
    bundle at the lowest discount of the grid only.

    Args:
        env: a bundle environment (``gym.make("CartRecBundle-v0")`` or its vector env).
        seed: seed of the agent's own generator.
    """

    offers_discounts = True

    def __init__(self, env: Env, *, seed: int | None = None):
        self.candidates = CandidateBlock.of_env(env)
        super().__init__(env, seed=seed)
        self.n_actions = self.candidates.n_actions

    def allowed(self, obs: np.ndarray) -> np.ndarray:
        """(B, C) True for offers whose bundle is out of the cart (and, for agents without a
        discount model, at the bundle's lowest discount)."""
        allowed = self.candidates.available(obs)
        if not self.offers_discounts:  # (any available offer where none is at its lowest)
            lowest = allowed & self.candidates.lowest_discount(obs)
            allowed = np.where(lowest.any(axis=1, keepdims=True), lowest, allowed)
        return allowed

    def check_obs(self, observation: Any) -> np.ndarray:
        obs = np.asarray(observation, dtype=np.float32)
        size = self.candidates.end
        if obs.ndim not in (1, 2) or obs.shape[-1] != size:
            raise ValueError(
                f"observation of shape {obs.shape} does not fit this agent's bundle environment: "
                f"expected ({size},) or (N, {size})"
            )
        return obs

    def check_env(self, env: Env) -> None:
        super().check_env(env)
        if CandidateBlock.of_env(env) != self.candidates:
            raise ValueError(
                f"environment with candidate block {CandidateBlock.of_env(env)} does not match "
                f"the agent's ({self.candidates})"
            )

    def bundle_values(self, obs: np.ndarray) -> np.ndarray:
        """(B, C) line value of every offer's bundle before discount (its items' line
        values as logged in the training logs, ``agent.knowledge``)."""
        items = self.candidates.items(obs)
        line_values = self.knowledge.line_values
        values = np.where(items >= 0, line_values[np.maximum(items, 0)], 0.0)
        return values.sum(axis=2)

    def bundle_sizes(self, obs: np.ndarray) -> np.ndarray:
        """(B, C) number of items of every offer's bundle (2 or 3)."""
        return (self.candidates.items(obs) >= 0).sum(axis=2)

    @abstractmethod
    def scores(self, obs: np.ndarray, explore: bool = False) -> np.ndarray:
        """(B, C) scores of the offers; higher is better (masking is done by the caller)."""
