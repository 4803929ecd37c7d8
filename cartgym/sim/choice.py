"""The shopper's choice model: a conditional logit over the items not yet in the cart.

utility(b, i) = taste * (z_b . v_i) + history * h_bi + popularity * pop_i
                + log_price * log(price_i) + complement * comp_bi

where comp_bi is the mean shrunk PMI between item i and the items in shopper b's cart.
All but the last term are fixed for a session (the shopper's *static* utility); the
complement term moves as the cart fills. Recommended items get a salience bonus.
Functions here are pure: sampling happens in :func:`sample_categorical` with the
generator passed in.
"""

from __future__ import annotations

import numpy as np

from cartgym.calibrate.world import ShopperWorld


class ChoiceModel:
    """Utilities of the fitted conditional logit, for a batch of shoppers at once."""

    def __init__(self, world: ShopperWorld):
        c = world.coefficients
        self.taste_weight = np.float32(c.taste)
        self.history_weight = np.float32(c.history)
        self.complement_weight = np.float32(c.complement)
        self.item_utility = c.popularity * world.popularity + c.log_price * np.log(world.prices)
        self.item_utility = self.item_utility.astype(np.float32)
        self.item_factors = world.item_factors.astype(np.float32)
        self.complement = world.complement.toarray().astype(np.float32)

    def static_utilities(self, tastes: np.ndarray, history: np.ndarray) -> np.ndarray:
        """(B, M) session-constant part of the utility for tastes (B, d) and history (B, M)."""
        static = (self.taste_weight * tastes.astype(np.float32)) @ self.item_factors.T
        static += self.history_weight * history
        static += self.item_utility
        return static

    def utilities(self, static: np.ndarray, comp_sum: np.ndarray, cart_size: np.ndarray):
        """(B, M) utilities given the summed complement rows of each cart and its size."""
        scale = self.complement_weight / np.maximum(cart_size, 1).astype(np.float32)
        return static + scale[:, None] * comp_sum


def probabilities(utilities: np.ndarray, available: np.ndarray) -> np.ndarray:
    """Softmax over the available items of each row; rows with nothing available are all 0."""
    shifted = np.where(available, utilities, -np.inf)
    top = shifted.max(axis=-1, keepdims=True)
    weights = np.where(available, np.exp(shifted - np.where(np.isfinite(top), top, 0)), 0.0)
    total = weights.sum(axis=-1, keepdims=True)
    return np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)


def sample_categorical(weights: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Index drawn from each row of nonnegative ``weights`` by inverse CDF, one uniform a row.

    Rows whose weights are all zero return -1.
    """
    cumulative = np.cumsum(weights, axis=1)
    total = cumulative[:, -1]
    target = uniforms * total
    # First index whose cumulative weight exceeds the target; zero-weight items never win.
    index = (cumulative <= target[:, None]).sum(axis=1)
    index = np.minimum(index, weights.shape[1] - 1)
    return np.where(total > 0, index, -1)
