"""A contextual feature map: d features for every (shopper, item) pair, built in batch.

``ItemFeatures(knowledge, layout)(obs)`` -> (B, M, 5) float64 with, for item i and the
shopper of row b:

==============  =================================================================
``bias``        1
``co_purchase`` mean shrunk PMI between item i and the items in the cart (in the
                training users' baskets; 0 for an empty cart)
``history``     the shopper's logged purchases of item i (the observation's history block)
``popularity``  the item's log basket share, standardised over the catalogue
``log_price``   the item's log median unit price, standardised over the catalogue
==============  =================================================================

Everything but the observation comes from a :class:`~cartgym.agents.knowledge.LogKnowledge`
(the training users' logs), never from the simulator's world.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from cartgym.envs.observation import ObservationLayout

from .knowledge import LogKnowledge

FEATURES = ("bias", "co_purchase", "history", "popularity", "log_price")


def cart_rows(matrix: np.ndarray | sp.spmatrix, cart: np.ndarray, how: str = "sum") -> np.ndarray:
    """(B, M) sum (or max) over each row's cart items j of ``matrix[j]``; 0 for empty carts.

    Only the rows of the items in the carts are read, so the cost grows with cart sizes,
    not with M squared.
    """
    b, m = cart.shape[0], matrix.shape[1]
    rows, items = np.nonzero(cart)
    if len(rows) == 0:
        return np.zeros((b, m))
    if sp.issparse(matrix):
        block = sp.csr_matrix(matrix)[items].toarray()
    else:
        block = np.asarray(matrix)[items]
    return segment_reduce(block, rows, b, np.maximum if how == "max" else np.add)


def segment_reduce(values: np.ndarray, rows: np.ndarray, n_rows: int, ufunc=np.add) -> np.ndarray:
    """(n_rows, ...) ``ufunc``-reduction of ``values`` grouped by sorted ``rows``; 0 if none."""
    out = np.zeros((n_rows, *values.shape[1:]))
    if len(rows):
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        out[rows[starts]] = ufunc.reduceat(values, starts, axis=0)
    return out


class ItemFeatures:
    """The feature map described in the module docstring, for one catalogue's knowledge
    and observation layout."""

    names = FEATURES

    def __init__(self, knowledge: LogKnowledge, layout: ObservationLayout):
        self.knowledge = knowledge
        self.layout = layout
        self.complement = knowledge.complement.tocsr(copy=True)  # row lookups may sort indices
        prices = np.maximum(knowledge.prices, 1e-12)
        static = np.stack([knowledge.popularity, np.log(prices)], axis=1).astype(np.float64)
        std = static.std(axis=0)
        self.static = (static - static.mean(axis=0)) / np.where(std > 0, std, 1.0)

    @property
    def dim(self) -> int:
        return len(FEATURES)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """(B, M, d) features of every item for (B, D) observations."""
        cart = obs[:, self.layout.cart] > 0.5
        size = np.maximum(cart.sum(axis=1, keepdims=True), 1)
        b, m = cart.shape
        out = np.empty((b, m, self.dim))
        out[..., 0] = 1.0
        out[..., 1] = cart_rows(self.complement, cart) / size
        out[..., 2] = obs[:, self.layout.history]
        out[..., 3:] = self.static[None]
        return out
