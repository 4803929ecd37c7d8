"""What the recommender sees: a flat vector in [0, 1], built for a batch of shoppers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from gymnasium import spaces

from cartgym.sim.simulator import CartSimulator

SCALARS = (
    "cart_size",  # log1p(items in cart) / log1p(largest logged basket), clipped to 1
    "cart_value",  # log1p(cart value) / log1p(largest logged basket value), clipped to 1
    "last_accepted",  # 1 if the previous recommendation was accepted
    "acceptance_rate",  # accepted recommendations / steps so far (0 before the first)
    "ignored",  # log1p(ignored recommendations) / log1p(100), clipped to 1
    "known_shopper",  # 1 if the shopper has a logged history, 0 for a new shopper
)


@dataclass(frozen=True)
class ObservationLayout:
    """Where each part lies in the observation vector.

    ``cart``: M entries, 1 for items in the cart. ``history``: M entries, the shopper's
    logged purchases, log1p(baskets holding the item) over its largest value in the world.
    ``scalars``: the entries named in ``SCALARS``.
    """

    n_items: int

    @property
    def cart(self) -> slice:
        return slice(0, self.n_items)

    @property
    def history(self) -> slice:
        return slice(self.n_items, 2 * self.n_items)

    @property
    def scalars(self) -> slice:
        return slice(2 * self.n_items, 2 * self.n_items + len(SCALARS))

    @property
    def size(self) -> int:
        return 2 * self.n_items + len(SCALARS)

    def scalar(self, name: str) -> int:
        return 2 * self.n_items + SCALARS.index(name)

    def space(self) -> spaces.Box:
        return spaces.Box(0.0, 1.0, shape=(self.size,), dtype=np.float32)


class Observer:
    """Builds observations of a simulator's shoppers, with the world's fixed scales.

    The buffer lives on the simulator's backend and is updated, not rebuilt: the cart and
    history blocks of restarted sessions are rewritten, then each cart gains the item added
    at the last step; only the scalars are recomputed for every session.
    """

    def __init__(self, sim: CartSimulator):
        world, ops = sim.world, sim.ops
        self.sim = sim
        self.layout = ObservationLayout(world.n_items)
        self._history_scale = 1.0 / max(float(world.history.max()), 1e-12)
        self._size_scale = 1.0 / float(np.log1p(max(int(world.session_sizes.max()), 1)))
        self._value_scale = 1.0 / float(np.log1p(max(float(world.spend_quantiles[-1]), 1.0)))
        self._ignored_scale = 1.0 / float(np.log1p(100.0))
        self._buffer = ops.zeros((sim.n_shoppers, self.layout.size), "float32")
        self._seen = ops.zeros((sim.n_shoppers,), "int64")

    def observe(self) -> np.ndarray:
        """(B, size) float32 observations of every shopper (a fresh numpy array)."""
        sim, layout, ops, obs = self.sim, self.layout, self.sim.ops, self._buffer
        fresh = sim.sessions_started != self._seen
        if bool(fresh.any()):
            obs[fresh, layout.cart] = ops.astype(sim.in_cart[fresh], "float32")
            obs[fresh, layout.history] = sim.history[fresh] * self._history_scale
            self._seen[:] = sim.sessions_started
        added = sim.last_added >= 0
        rows = sim.rows[:, None] + 0 * sim.last_added
        obs[rows[added], sim.last_added[added]] = 1.0  # the cart block starts at 0
        scalars = obs[:, layout.scalars]
        scalars[:, 0] = ops.log1p(sim.cart_size) * self._size_scale
        scalars[:, 1] = ops.log1p(sim.cart_value) * self._value_scale
        scalars[:, 2] = ops.astype(sim.last_accepted, "float32")
        scalars[:, 3] = sim.n_accepted / ops.clip(sim.steps, 1, None)
        scalars[:, 4] = ops.log1p(sim.n_ignored) * self._ignored_scale
        scalars[:, 5] = ops.astype(sim.users >= 0, "float32")
        ops.clip_max_(scalars, 1.0)
        return np.array(ops.to_numpy(obs))
