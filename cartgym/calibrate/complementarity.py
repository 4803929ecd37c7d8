"""Complements and substitutes from co-purchases: shrunk pointwise mutual information.

For items i and j bought together in n_ij of B baskets, with n_i and n_j baskets each, the
count expected under independence is e_ij = n_i n_j / B. The lift n_ij / e_ij is noisy for
rare pairs, so both counts get ``shrinkage`` pseudo-baskets at lift one:

    spmi_ij = log((n_ij + shrinkage) / (e_ij + shrinkage))

Positive values mark complements, negative values substitutes (pairs bought together far
less often than chance), and rare pairs shrink towards zero. Each item keeps its ``top_k``
strongest partners by absolute value; the matrix is made symmetric by keeping a pair that
either item kept.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class CoPurchases:
    """Co-purchase counts of a baskets x items matrix, and the shrunk PMI built on them."""

    def __init__(self, baskets: sp.csr_matrix, *, shrinkage: float, top_k: int):
        if shrinkage <= 0:
            raise ValueError(f"shrinkage must be > 0, got {shrinkage}")
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        binary = sp.csr_matrix(baskets, dtype=np.float64, copy=True)
        binary.data[:] = 1.0
        self.n_baskets, n_items = binary.shape
        self.shrinkage = shrinkage
        self.together = (binary.T @ binary).toarray()
        self.alone = np.diag(self.together).copy()
        spmi = self._spmi(self.together, np.outer(self.alone, self.alone), self.n_baskets)
        np.fill_diagonal(spmi, 0.0)
        k = min(top_k, n_items - 1)
        # Strongest k partners per row by |spmi|; ties broken by item index for determinism.
        order = np.argsort(-np.abs(spmi), axis=1, kind="stable")[:, :k]
        keep = np.zeros_like(spmi, dtype=bool)
        np.put_along_axis(keep, order, True, axis=1)
        keep |= keep.T
        keep &= spmi != 0.0
        self.keep = keep
        self.matrix = sp.csr_matrix(np.where(keep, spmi, 0.0).astype(np.float32))

    def _spmi(self, together: np.ndarray, alone_product: np.ndarray, n_baskets: int) -> np.ndarray:
        expected = alone_product / max(n_baskets, 1)
        return np.log((together + self.shrinkage) / (expected + self.shrinkage))

    def rows_without_basket(self, items: np.ndarray, members: np.ndarray) -> np.ndarray:
        """Dense PMI rows of ``items``, each recomputed as if its own basket were not logged.

        ``members`` is (len(items), M) boolean: the items of each row's basket. Scoring a
        logged choice with counts that include the same basket would reward the complement
        weight for memorising it. The kept pairs stay those of the full logs.
        """
        together = self.together[items] - members
        alone_product = (self.alone[items] - 1.0)[:, None] * (self.alone[None, :] - members)
        spmi = self._spmi(together, alone_product, self.n_baskets - 1)
        return np.where(self.keep[items], spmi, 0.0)


def shrunk_pmi(baskets: sp.csr_matrix, *, shrinkage: float, top_k: int) -> sp.csr_matrix:
    """Sparse symmetric M x M shrunk-PMI matrix from a binary baskets x items matrix."""
    return CoPurchases(baskets, shrinkage=shrinkage, top_k=top_k).matrix
