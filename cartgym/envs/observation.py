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
    """Builds observations of a simulator's shoppers, with the world's fixed scales."""

    def __init__(self, sim: CartSimulator):
        world = sim.world
        self.sim = sim
        self.layout = ObservationLayout(world.n_items)
        self._history_scale = np.float32(1.0 / max(float(world.history.max()), 1e-12))
        self._size_scale = 1.0 / np.log1p(max(int(world.session_sizes.max()), 1))
        self._value_scale = 1.0 / np.log1p(max(float(world.spend_quantiles[-1]), 1.0))

    def observe(self, out: np.ndarray | None = None) -> np.ndarray:
        """(B, size) float32 observations of every shopper."""
        sim, layout = self.sim, self.layout
        if out is None:
            out = np.empty((sim.n_shoppers, layout.size), dtype=np.float32)
        out[:, layout.cart] = sim.in_cart
        np.multiply(sim.history, self._history_scale, out=out[:, layout.history])
        scalars = out[:, layout.scalars]
        scalars[:, 0] = np.log1p(sim.cart_size) * self._size_scale
        scalars[:, 1] = np.log1p(sim.cart_value) * self._value_scale
        scalars[:, 2] = sim.last_accepted
        scalars[:, 3] = sim.n_accepted / np.maximum(sim.steps, 1)
        scalars[:, 4] = np.log1p(sim.n_ignored) / np.log1p(100.0)
        scalars[:, 5] = sim.users >= 0
        np.minimum(scalars, 1.0, out=scalars)
        return out
