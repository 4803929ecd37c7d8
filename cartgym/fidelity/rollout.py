"""Organic rollouts: the simulator's shoppers filling their carts with no recommendation.

Fidelity compares what shoppers buy on their own, so no recommendation may change a
choice. The rollouts run the simulator itself (:class:`~cartgym.sim.CartSimulator`, its
:class:`~cartgym.sim.ChoiceModel` and ``sample_categorical``) in its no-recommendation
control (``SimConfig(show_recommendations=False)``); nothing of the dynamics is rewritten
here. Each session opens with the simulator's first organic item; every step is an organic
add drawn from the logit over the items not in the cart; patience is never used, so a
session ends when the cart reaches its intended size.

Two kinds of rollouts:

* :func:`replay_rollout`: each session is given its shopper and intended size (one per
  held-out basket). Users known to the world bring their taste and history; others are
  new shoppers, with a taste drawn from the world's population and no history.
* :func:`population_rollout`: shoppers arrive as the environments draw them
  (:class:`~cartgym.sim.Population`), so basket sizes come from the world.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from cartgym.sim.config import SimConfig
from cartgym.sim.population import Arrivals, Population
from cartgym.sim.simulator import CartSimulator
from cartgym.world import ShopperWorld

BATCH_SIZE = 1024
CONTROL = SimConfig(show_recommendations=False)


@dataclass(frozen=True)
class Rollout:
    """Simulated baskets: one row per session."""

    baskets: sp.csr_matrix  # (S, M) 1 where the item ended in the cart
    users: np.ndarray  # (S,) user index in the world, -1 for a new shopper
    values: np.ndarray  # (S,) cart value (unit price x median quantity, summed)

    @property
    def sizes(self) -> np.ndarray:
        return np.diff(self.baskets.indptr)


def replay_rollout(
    world: ShopperWorld,
    users: np.ndarray,
    sizes: np.ndarray,
    rng: np.random.Generator,
    *,
    batch_size: int = BATCH_SIZE,
) -> Rollout:
    """One organic session per (user index or -1, intended size); rows in input order."""
    users = np.asarray(users, dtype=np.int64)
    sizes = np.asarray(sizes, dtype=np.int64)
    if users.shape != sizes.shape or users.ndim != 1:
        raise ValueError(f"users and sizes must be 1-d of one length: {users.shape}, {sizes.shape}")
    if len(users) and (sizes.min() < 1 or sizes.max() > world.n_items):
        raise ValueError(f"intended sizes must be in [1, {world.n_items}]")
    if len(users) and (users.min() < -1 or users.max() >= world.n_users):
        raise ValueError(f"user indices must be -1 or in [0, {world.n_users})")
    known = users >= 0
    tastes = world.user_factors[np.maximum(users, 0)].astype(np.float32)
    if not known.all():
        fresh = Population(world, new_shopper_rate=1.0).draw(int((~known).sum()), rng)
        tastes[~known] = fresh.tastes
    patience = np.ones(len(users), dtype=np.int64)  # never used in the control

    def arrivals(rows: np.ndarray) -> Arrivals:
        history = world.history[np.maximum(users[rows], 0)].toarray().astype(np.float32)
        history[~known[rows]] = 0.0
        return Arrivals(users[rows], tastes[rows], history, sizes[rows], patience[rows])

    # Sessions of similar size share a batch, so batches need few steps.
    order = np.argsort(sizes, kind="stable")
    parts = []
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        sim = CartSimulator(world, len(rows), CONTROL)
        parts.append(_run(sim, rng, arrivals(rows)))
    return _reorder(parts, order, world.n_items)


def population_rollout(
    world: ShopperWorld,
    n_sessions: int,
    rng: np.random.Generator,
    *,
    config: SimConfig | None = None,
    batch_size: int = BATCH_SIZE,
) -> Rollout:
    """``n_sessions`` organic sessions of shoppers drawn as the environments draw them.

    ``config`` chooses the population (``population``, ``new_shopper_rate``); it is run
    as the no-recommendation control.
    """
    if n_sessions < 1:
        raise ValueError(f"n_sessions must be >= 1, got {n_sessions}")
    settings = replace(config or SimConfig(), show_recommendations=False)
    parts = []
    for start in range(0, n_sessions, batch_size):
        sim = CartSimulator(world, min(batch_size, n_sessions - start), settings)
        parts.append(_run(sim, rng))
    return _reorder(parts, np.arange(n_sessions), world.n_items)


def _run(sim: CartSimulator, rng: np.random.Generator, arrivals: Arrivals | None = None) -> Rollout:
    """Reset every session (with ``arrivals`` if given) and add organic items until each
    cart is complete."""
    sim.reset(rng, arrivals=arrivals)
    unseen = np.zeros((sim.n_shoppers, 1), dtype=np.int64)  # the control shows nothing
    while not sim.done.all():
        sim.step(unseen, rng)
    return Rollout(
        sp.csr_matrix(sim.in_cart, dtype=np.float64), sim.users.copy(), sim.cart_value.copy()
    )


def _reorder(parts: list[Rollout], order: np.ndarray, n_items: int) -> Rollout:
    if not parts:
        empty = sp.csr_matrix((0, n_items))
        return Rollout(empty, np.zeros(0, dtype=np.int64), np.zeros(0))
    stacked = Rollout(
        sp.vstack([p.baskets for p in parts], format="csr"),
        np.concatenate([p.users for p in parts]),
        np.concatenate([p.values for p in parts]),
    )
    back = np.empty_like(order)
    back[order] = np.arange(len(order))
    return Rollout(stacked.baskets[back], stacked.users[back], stacked.values[back])
