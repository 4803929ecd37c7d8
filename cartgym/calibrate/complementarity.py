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


def shrunk_pmi(baskets: sp.csr_matrix, *, shrinkage: float, top_k: int) -> sp.csr_matrix:
    """Sparse symmetric M x M shrunk-PMI matrix from a binary baskets x items matrix."""
    if shrinkage <= 0:
        raise ValueError(f"shrinkage must be > 0, got {shrinkage}")
    if top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    binary = sp.csr_matrix(baskets, dtype=np.float64)
    binary.data[:] = 1.0
    n_baskets, n_items = binary.shape
    together = (binary.T @ binary).toarray()
    alone = np.diag(together).copy()
    expected = np.outer(alone, alone) / max(n_baskets, 1)
    spmi = np.log((together + shrinkage) / (expected + shrinkage))
    np.fill_diagonal(spmi, 0.0)
    k = min(top_k, n_items - 1)
    # Strongest k partners per row by |spmi|; ties broken by item index for determinism.
    order = np.argsort(-np.abs(spmi), axis=1, kind="stable")[:, :k]
    keep = np.zeros_like(spmi, dtype=bool)
    np.put_along_axis(keep, order, True, axis=1)
    keep |= keep.T
    keep &= spmi != 0.0
    return sp.csr_matrix(np.where(keep, spmi, 0.0).astype(np.float32))
