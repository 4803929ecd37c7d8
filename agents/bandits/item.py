"""Multi-armed bandits over the catalogue: each item is an arm.

Feedback: every distinct item shown at a step is one pull; it succeeds (1) if the shopper
took that item (any of ``info["taken"]``: a multi-choice slate can have several) and
fails (0) otherwise. The bandits estimate each item's take probability p_i and rank by p_i
times the item's value: its line value as logged in the training users' logs
(``objective="revenue"``, so the score estimates the expected revenue reward) or 1
(``objective="click"``). Learning takes rather than the revenue itself has lower
variance. For slates this is a semi-bandit approximation: the items of a slate compete
for the shopper's attention, which the per-item estimates ignore. Updates are vectorised
counts.
"""

from __future__ import annotations

import numpy as np

from ..protocol import Agent, Batch, Env, OnlineAgent
from ..ranking import first_occurrence

OBJECTIVES = ("revenue", "click")


def check_objective(objective: str) -> str:
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    return objective


def value_of(agent: Agent, objective: str) -> np.ndarray:
    """(M,) the worth of taking each item: its line value as logged in the training logs
    (``agent.knowledge``) for ``"revenue"``, 1 for ``"click"``."""
    if objective == "revenue":
        return agent.knowledge.line_values
    return np.ones(agent.n_items)


def shown_and_hits(batch: Batch, n_items: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, items, hit) of every distinct item shown in the batch, flattened; hit is 1
    for every item taken from its slate (``batch.taken``: all of them, not only the first).
    Actions that are not items (CartRec-v1's show-nothing, empty slots) are left out."""
    first = first_occurrence(batch.actions) & (batch.actions >= 0) & (batch.actions < n_items)
    rows = np.broadcast_to(np.arange(len(batch.actions))[:, None], batch.actions.shape)[first]
    items = batch.actions[first]
    taken = batch.accepted[:, None] if batch.taken is None else batch.taken
    hit = (taken[rows] == items[:, None]).any(axis=1)
    return rows, items, hit.astype(np.float64)


class ItemBandit(OnlineAgent):
    """Shared state of the context-free bandits: pulls and acceptances of every item."""

    def __init__(self, env: Env, *, objective: str = "revenue", seed: int | None = None):
        super().__init__(env, seed=seed)
        self.objective = check_objective(objective)
        self.pulls_ = np.zeros(self.n_items)
        self.accepts_ = np.zeros(self.n_items)

    @property
    def _value(self) -> np.ndarray:
        """(M,) what taking each item is worth: its logged line value, or 1 for clicks."""
        return value_of(self, self.objective)

    def update(self, batch: Batch) -> None:
        _, items, hit = shown_and_hits(batch, self.n_items)
        self.pulls_ += np.bincount(items, minlength=self.n_items)
        self.accepts_ += np.bincount(items, weights=hit, minlength=self.n_items)

    def mean(self) -> np.ndarray:
        """(M,) empirical acceptance rate of each item (0 before its first pull)."""
        out = np.zeros(self.n_items)
        return np.divide(self.accepts_, self.pulls_, out=out, where=self.pulls_ > 0)


class EpsilonGreedy(ItemBandit):
    """Greedy on the empirical means; with probability epsilon_t a uniformly random item.

    epsilon_t = max(min_epsilon, epsilon * decay ** t) after t timesteps of learning.

    Args:
        epsilon: initial exploration rate, in [0, 1].
        decay: multiplicative decay per timestep, in (0, 1] (1: constant epsilon).
        min_epsilon: floor of the exploration rate, in [0, epsilon].
        objective: ``"revenue"`` or ``"click"`` (see the module docstring).
    """

    def __init__(
        self,
        env: Env,
        *,
        epsilon: float = 0.1,
        decay: float = 1.0,
        min_epsilon: float = 0.0,
        objective: str = "revenue",
        seed: int | None = None,
    ):
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon!r}")
        if not 0.0 < decay <= 1.0:
            raise ValueError(f"decay must be in (0, 1], got {decay!r}")
        if not 0.0 <= min_epsilon <= epsilon:
            raise ValueError(f"min_epsilon must be in [0, epsilon={epsilon}], got {min_epsilon!r}")
        super().__init__(env, objective=objective, seed=seed)
        self.epsilon, self.decay, self.min_epsilon = epsilon, decay, min_epsilon

    @property
    def current_epsilon(self) -> float:
        return max(self.min_epsilon, self.epsilon * self.decay**self.num_timesteps_)

    def scores(self, obs: np.ndarray, explore: bool = False) -> np.ndarray:
        scores = np.broadcast_to(self.mean() * self._value, (len(obs), self.n_items))
        if not explore:
            return scores
        explorers = self.rng.random(len(obs)) < self.current_epsilon
        if not explorers.any():
            return scores
        scores = scores.copy()
        scores[explorers] = self.rng.random((int(explorers.sum()), self.n_items))
        return scores


class UCB1(ItemBandit):
    """Upper confidence bound: p_i + c sqrt(2 ln t / n_i), times the item's value.

    Untried items score +inf (tried first, in random order). ``t`` is the total number of
    pulls. ``deterministic=True`` ranks by the empirical means.

    Args:
        c: width of the confidence bonus, >= 0 (1: Auer et al.'s UCB1).
        objective: ``"revenue"`` or ``"click"``.
    """

    def __init__(
        self, env: Env, *, c: float = 1.0, objective: str = "revenue", seed: int | None = None
    ):
        if not c >= 0.0:
            raise ValueError(f"c must be >= 0, got {c!r}")
        super().__init__(env, objective=objective, seed=seed)
        self.c = c

    def scores(self, obs: np.ndarray, explore: bool = False) -> np.ndarray:
        upper = self.mean()
        if explore:
            log_t = np.log(max(self.pulls_.sum(), 1.0))
            tried = self.pulls_ > 0
            bonus = np.full(self.n_items, np.inf)
            bonus[tried] = self.c * np.sqrt(2.0 * log_t / self.pulls_[tried])
            upper = upper + bonus
        return np.broadcast_to(upper * self._value, (len(obs), self.n_items))


class ThompsonSampling(ItemBandit):
    """Beta-Bernoulli Thompson sampling on acceptance.

    Each item's acceptance probability has a Beta(prior_alpha + accepts, prior_beta +
    ignores) posterior. Exploring, every row draws one sample per item and ranks by
    sample x value; ``objective="revenue"`` (the revenue-aware variant) multiplies by the
    line value, ``"click"`` is plain Thompson sampling on acceptance.
    ``deterministic=True`` ranks by the posterior mean.

    Args:
        prior_alpha: the Beta prior's first parameter, > 0.
        prior_beta: the Beta prior's second parameter, > 0.
        objective: ``"revenue"`` or ``"click"``.
    """

    def __init__(
        self,
        env: Env,
        *,
        prior_alpha: float = 1.0,
        prior_beta: float = 1.0,
        objective: str = "revenue",
        seed: int | None = None,
    ):
        if not (prior_alpha > 0 and prior_beta > 0):
            raise ValueError(
                f"prior_alpha and prior_beta must be > 0, got {prior_alpha!r}, {prior_beta!r}"
            )
        super().__init__(env, objective=objective, seed=seed)
        self.prior_alpha, self.prior_beta = prior_alpha, prior_beta

    def scores(self, obs: np.ndarray, explore: bool = False) -> np.ndarray:
        a = self.prior_alpha + self.accepts_
        b = self.prior_beta + self.pulls_ - self.accepts_
        if explore:
            return self.rng.beta(a, b, size=(len(obs), self.n_items)) * self._value
        return np.broadcast_to(a / (a + b) * self._value, (len(obs), self.n_items))
