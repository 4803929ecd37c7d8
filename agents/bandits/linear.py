"""Linear contextual bandits: LinUCB and linear Thompson sampling on a shared feature map.

One linear model of the acceptance probability, p(b, i) = x(b, i) . theta, is shared by
every item, with x the features of :class:`~cartgym.agents.features.ItemFeatures` (bias,
co-purchase with the cart, the shopper's history of the item, popularity, log price, all
from the observation and the training users' logs). Ridge regression on the shown items
(1 if taken, else 0, as for the other bandits):
A = ridge I + sum x x', b = sum y x, theta = A^-1 b, updated for the whole batch at once.
Scores are p times the item's value (line value, or 1 for ``objective="click"``).
"""

from __future__ import annotations

import numpy as np

from ..features import ItemFeatures
from ..protocol import Batch, Env, OnlineAgent
from .item import check_objective, shown_and_hits, value_of


class LinearBandit(OnlineAgent):
    """Shared state: the feature map and the ridge statistics ``A_`` and ``b_``."""

    def __init__(
        self, env: Env, *, ridge: float = 1.0, objective: str = "revenue", seed: int | None = None
    ):
        if not ridge > 0:
            raise ValueError(f"ridge must be > 0, got {ridge!r}")
        super().__init__(env, seed=seed)
        self.ridge = ridge
        self.objective = check_objective(objective)
        self.A_ = ridge * np.eye(len(ItemFeatures.names))
        self.b_ = np.zeros(len(ItemFeatures.names))
        self._features: ItemFeatures | None = None

    @property
    def features(self) -> ItemFeatures:
        """The feature map, built on first use from the agent's :attr:`knowledge`."""
        if self._features is None or self._features.knowledge is not self.knowledge:
            self._features = ItemFeatures(self.knowledge, self.layout)
        return self._features

    @property
    def _value(self) -> np.ndarray:
        return value_of(self, self.objective)

    @property
    def theta_(self) -> np.ndarray:
        """The ridge estimate of the weights, in the order of ``features.names``."""
        return np.linalg.solve(self.A_, self.b_)

    def update(self, batch: Batch) -> None:
        rows, items, hit = shown_and_hits(batch, self.n_items)
        x = self.features(batch.obs)[rows, items]
        self.A_ += x.T @ x
        self.b_ += x.T @ hit


class LinUCB(LinearBandit):
    """LinUCB (Li et al. 2010) with one shared model: x . theta + alpha sqrt(x' A^-1 x).

    Args:
        alpha: width of the confidence bonus, > 0.
        ridge: prior precision of theta (the ridge penalty), > 0.
        objective: ``"revenue"`` or ``"click"``.
    """

    def __init__(
        self,
        env: Env,
        *,
        alpha: float = 1.0,
        ridge: float = 1.0,
        objective: str = "revenue",
        seed: int | None = None,
    ):
        if not alpha > 0:
            raise ValueError(f"alpha must be > 0, got {alpha!r}")
        super().__init__(env, ridge=ridge, objective=objective, seed=seed)
        self.alpha = alpha

    def scores(self, obs: np.ndarray, explore: bool = False) -> np.ndarray:
        x = self.features(obs)
        p = x @ self.theta_
        if explore:
            width = np.einsum("bmd,de,bme->bm", x, np.linalg.inv(self.A_), x)
            p = p + self.alpha * np.sqrt(np.maximum(width, 0.0))
        return p * self._value


class LinearThompsonSampling(LinearBandit):
    """Linear Thompson sampling (Agrawal and Goyal 2013): theta ~ N(theta_hat, scale^2 A^-1).

    Exploring, each row draws its own theta; ``deterministic=True`` uses theta_hat.

    Args:
        scale: width of the posterior, > 0.
        ridge: prior precision of theta, > 0.
        objective: ``"revenue"`` or ``"click"``.
    """

    def __init__(
        self,
        env: Env,
        *,
        scale: float = 1.0,
        ridge: float = 1.0,
        objective: str = "revenue",
        seed: int | None = None,
    ):
        if not scale > 0:
            raise ValueError(f"scale must be > 0, got {scale!r}")
        super().__init__(env, ridge=ridge, objective=objective, seed=seed)
        self.scale = scale

    def scores(self, obs: np.ndarray, explore: bool = False) -> np.ndarray:
        x = self.features(obs)
        theta = self.theta_
        if explore:
            chol = np.linalg.cholesky(np.linalg.inv(self.A_))
            noise = self.rng.standard_normal((len(obs), len(theta))) @ chol.T
            return np.einsum("bmd,bd->bm", x, theta + self.scale * noise) * self._value
        return (x @ theta) * self._value
