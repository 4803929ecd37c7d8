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

from cartgym.sim.backend import NumpyOps, Ops
from cartgym.world import ShopperWorld


class ChoiceModel:
    """Utilities of the fitted conditional logit, for a batch of shoppers at once.

    Arrays live on the backend of ``ops`` (numpy by default); the methods are pure.
    """

    def __init__(self, world: ShopperWorld, ops: Ops | None = None):
        ops = ops or NumpyOps()
        c = world.coefficients
        self.taste_weight = float(c.taste)
        self.history_weight = float(c.history)
        self.complement_weight = float(c.complement)
        item_utility = c.popularity * world.popularity + c.log_price * np.log(world.prices)
        self.item_utility = ops.asarray(item_utility, "float32")
        self.item_factors_t = ops.asarray(world.item_factors.T, "float32")
        csr = world.complement
        self._indptr = ops.asarray(csr.indptr, "int64")
        self._indices = ops.asarray(csr.indices, "int64")
        self._values = ops.asarray(csr.data, "float32")
        self._ops = ops
        # Largest possible complement term: the mean of a cart's rows lies in [min, max].
        low, high = (min(csr.data.min(), 0), max(csr.data.max(), 0)) if csr.nnz else (0, 0)
        self.complement_bound = float(
            self.complement_weight * (high if self.complement_weight >= 0 else low)
        )

    def complement_rows(self, rows, items):
        """(row, column, value) triples of the complement rows of ``items``, one per row."""
        ops = self._ops
        starts = self._indptr[items]
        lengths = self._indptr[items + 1] - starts
        ends = lengths.cumsum(0)
        offsets = ops.arange(int(ends[-1]) if len(ends) else 0) - ops.repeat(
            ends - lengths, lengths
        )
        positions = ops.repeat(starts, lengths) + offsets
        return ops.repeat(rows, lengths), self._indices[positions], self._values[positions]

    def static_utilities(self, tastes, history):
        """(B, M) session-constant part of the utility for tastes (B, d) and history (B, M)."""
        static = (tastes * self.taste_weight) @ self.item_factors_t
        static += history * self.history_weight
        static += self.item_utility
        return static

    def utilities(self, static, comp_sum, cart_size):
        """(B, M) utilities given the summed complement rows of each cart and its size (or,
        for flat gathered entries, each entry's cart size)."""
        scale = self.complement_weight / self._ops.clip(cart_size, 1, None)
        if static.ndim == 2:
            scale = scale[:, None]
        return static + scale * comp_sum

    def weights(self, static, comp_sum, cart_size):
        """float32 exp(utilities): the choice weights, for whole rows or any gathered
        columns of them (elementwise, so a column's weight is the same either way)."""
        ops = self._ops
        return ops.astype(ops.exp_(self.utilities(static, comp_sum, cart_size)), "float32")


def probabilities(utilities: np.ndarray, available: np.ndarray) -> np.ndarray:
    """Softmax over the available items of each row; rows with nothing available are all 0."""
    shifted = np.where(available, utilities, -np.inf)
    top = shifted.max(axis=-1, keepdims=True)
    weights = np.where(available, np.exp(shifted - np.where(np.isfinite(top), top, 0)), 0.0)
    total = weights.sum(axis=-1, keepdims=True)
    return np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)


def sample_categorical(weights, uniforms, ops: Ops | None = None, blocks=None):
    """Index drawn from each row of nonnegative ``weights`` by inverse CDF, one uniform a row.

    Two levels, so that no cumulative sum runs over a whole row (numpy's cumulative sums
    are sequential, its sums vectorised): the row is cut into blocks of about sqrt(M)
    items, a block is drawn by its summed weight, then an item within the block. ``blocks``
    may pass the block sums (``ops.block_sums(weights, ceil(sqrt(M)))``) when known. Rows
    whose weights are all zero return -1.
    """
    ops = ops or NumpyOps()
    n_rows, n_cols = weights.shape
    if n_rows == 1 and ops.name == "numpy":
        # One row: a plain inverse CDF is the same draw, in three calls instead of twenty.
        cumulative = np.cumsum(weights[0], dtype=np.float64)
        if cumulative[-1] <= 0:
            return np.array([-1])
        index = min(
            int(np.searchsorted(cumulative, uniforms[0] * cumulative[-1], "right")), n_cols - 1
        )
        if weights[0, index] > 0:
            return np.array([index])
        return _redraw(weights, uniforms, np.array([index]), np.array([True]), ops)
    width = int(np.ceil(np.sqrt(n_cols)))
    if blocks is None:
        blocks = ops.block_sums(weights, width)  # (B, ceil(M / width)) float64
    else:
        blocks = ops.clip(blocks, 0, None)
    block_end = blocks.cumsum(1)
    totals = block_end[:, -1]
    target = uniforms * totals
    block = ops.clip((block_end <= target[:, None]).sum(1), None, blocks.shape[1] - 1)
    rows = ops.arange(n_rows)
    residual = target - (block_end[rows, block] - blocks[rows, block])
    columns = (block * width)[:, None] + ops.arange(width)[None, :]
    inside = ops.where(
        columns < n_cols, weights[rows[:, None], ops.clip(columns, None, n_cols - 1)], 0
    )
    within = (ops.astype(inside, "float64").cumsum(1) <= residual[:, None]).sum(1)
    index = ops.clip(block * width + ops.clip(within, None, width - 1), None, n_cols - 1)
    # Rounding can land a target on a zero-weight item at a block's end (about 1e-16 per
    # draw): such rows are redrawn exactly.
    stray = (weights[rows, index] <= 0) & (totals > 0)
    if bool(stray.any()):
        index = _redraw(weights, uniforms, index, stray, ops)
    return ops.where(totals > 0, index, -1)


def _redraw(weights, uniforms, index, stray, ops: Ops):
    values, u = ops.to_numpy(weights), ops.to_numpy(uniforms)
    fixed = ops.to_numpy(index).copy()
    for row in np.flatnonzero(ops.to_numpy(stray)):
        positive = np.flatnonzero(values[row] > 0)
        cumulative = np.cumsum(values[row, positive], dtype=np.float64)
        pick = np.searchsorted(cumulative, u[row] * cumulative[-1], side="right")
        fixed[row] = positive[min(pick, len(positive) - 1)]
    return ops.asarray(fixed, "int64")
