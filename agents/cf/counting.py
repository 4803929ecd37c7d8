"""Counting baselines from logged baskets: popularity and co-occurrence rules.

Both are fitted with ``fit(transactions)`` on the training logs (see
:mod:`cartgym.agents.logs`) and score items from the observation alone: the cart block and
the shopper's history block.
"""

from __future__ import annotations

import numpy as np

from ..features import cart_rows
from ..logs import LogAgent, LoggedBaskets
from ..protocol import Env


class PopularityAgent(LogAgent):
    """The items in the most logged baskets; relevance = the item's share of basket lines."""

    def fit_baskets(self, logs: LoggedBaskets) -> None:
        counts = np.asarray(logs.baskets.sum(axis=0)).ravel()
        self.popularity_ = counts / counts.sum()

    def relevance(self, obs: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.popularity_, (len(obs), self.n_items))


MEASURES = ("confidence", "lift")

AGGREGATES = ("sum", "max")


class CoOccurrenceAgent(LogAgent):
    """Item-to-item association rules scored against the items in the cart.

    For a rule j -> i over the logged baskets (n_j baskets hold j, n_ji hold both, of N):
    confidence = n_ji / n_j, lift = N n_ji / (n_j n_i). An item's relevance is the sum (or
    max) of the rules from the cart's items to it. Pairs seen in fewer than ``min_count``
    baskets have no rule. Items with no rule from the cart (and exact ties) fall back to
    popularity order.

    Args:
        measure: ``"confidence"`` or ``"lift"``.
        aggregate: ``"sum"`` or ``"max"`` over the cart's items.
        min_count: minimum co-occurrence count of a rule, >= 1.
        objective: ``"click"`` or ``"revenue"`` (relevance x line value).
    """

    def __init__(
        self,
        env: Env,
        *,
        measure: str = "confidence",
        aggregate: str = "sum",
        min_count: int = 2,
        objective: str = "click",
        seed: int | None = None,
    ):
        if measure not in MEASURES:
            raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
        if aggregate not in AGGREGATES:
            raise ValueError(f"aggregate must be one of {AGGREGATES}, got {aggregate!r}")
        if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
            raise ValueError(f"min_count must be an int >= 1, got {min_count!r}")
        super().__init__(env, objective=objective, seed=seed)
        self.measure, self.aggregate, self.min_count = measure, aggregate, min_count

    def fit_baskets(self, logs: LoggedBaskets) -> None:
        x = logs.baskets
        pairs = (x.T @ x).toarray()
        n = np.diag(pairs).copy()
        pairs[pairs < self.min_count] = 0.0
        np.fill_diagonal(pairs, 0.0)
        safe = np.maximum(n, 1.0)
        rules = pairs / safe[:, None]
        if self.measure == "lift":
            rules = rules * (x.shape[0] / safe[None, :])
        self.rules_ = rules.astype(np.float32)  # rules_[j, i]: strength of j -> i
        self.popularity_ = n / n.sum()

    def relevance(self, obs: np.ndarray) -> np.ndarray:
        cart = obs[:, self.layout.cart] > 0.5
        fallback = 1e-9 * self.popularity_ / self.popularity_.max()
        return cart_rows(self.rules_, cart, self.aggregate) + fallback
