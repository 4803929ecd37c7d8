"""Distances between real and simulated baskets. Pure functions on arrays.

Baskets are binary ``baskets x items`` sparse matrices over one catalogue; per-basket
quantities (size, spend) are 1-d arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy import stats


@dataclass(frozen=True)
class Gap:
    """Real against simulated distribution of one per-basket quantity.

    ``relative_w1`` is the 1-Wasserstein distance divided by the real mean; ``ks`` the
    two-sample Kolmogorov-Smirnov statistic (largest gap between the two CDFs).
    """

    real_mean: float
    sim_mean: float
    relative_w1: float
    ks: float

    @classmethod
    def between(cls, real: np.ndarray, simulated: np.ndarray) -> Gap:
        real, simulated = _nonempty(real, "real"), _nonempty(simulated, "simulated")
        return cls(
            real_mean=float(real.mean()),
            sim_mean=float(simulated.mean()),
            relative_w1=relative_wasserstein(real, simulated),
            ks=ks_statistic(real, simulated),
        )


def relative_wasserstein(real: np.ndarray, simulated: np.ndarray) -> float:
    """W1(real, simulated) / mean(real): 0.05 means the mass moves 5% of the real mean."""
    real, simulated = _nonempty(real, "real"), _nonempty(simulated, "simulated")
    scale = float(np.mean(real))
    if scale <= 0:
        raise ValueError(f"the real values must have a positive mean, got {scale}")
    return float(stats.wasserstein_distance(real, simulated)) / scale


def ks_statistic(real: np.ndarray, simulated: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic sup |F_real - F_sim|."""
    real, simulated = np.sort(_nonempty(real, "real")), np.sort(_nonempty(simulated, "simulated"))
    grid = np.concatenate([real, simulated])
    cdf_real = np.searchsorted(real, grid, side="right") / len(real)
    cdf_sim = np.searchsorted(simulated, grid, side="right") / len(simulated)
    return float(np.abs(cdf_real - cdf_sim).max())


def item_counts(baskets: sp.spmatrix) -> np.ndarray:
    """(M,) number of baskets holding each item."""
    return np.asarray((sp.csr_matrix(baskets) != 0).sum(axis=0), dtype=np.float64).ravel()


def popularity_spearman(real: sp.spmatrix, simulated: sp.spmatrix) -> float:
    """Spearman correlation of the per-item basket counts over every catalogue item."""
    return _spearman(item_counts(real), item_counts(simulated))


def top_pairs(baskets: sp.spmatrix, n_pairs: int) -> np.ndarray:
    """(P, 2) the ``n_pairs`` item pairs (i < j) bought together most often, most first.

    Ties go to the lower pair index; pairs never bought together are never returned.
    """
    if n_pairs < 1:
        raise ValueError(f"n_pairs must be >= 1, got {n_pairs}")
    together = sp.triu(_co_counts(baskets), k=1).tocoo()
    order = np.lexsort((together.col, together.row, -together.data))[:n_pairs]
    return np.stack([together.row[order], together.col[order]], axis=1).astype(np.int64)


def pair_lifts(baskets: sp.spmatrix, pairs: np.ndarray) -> np.ndarray:
    """Lift n_ij * B / (n_i * n_j) of each pair; 0 where an item of the pair is never bought."""
    binary = _binary(baskets)
    counts = item_counts(binary)
    together = np.asarray(_co_counts(binary)[pairs[:, 0], pairs[:, 1]], dtype=np.float64).ravel()
    expected = counts[pairs[:, 0]] * counts[pairs[:, 1]]
    lift = np.zeros(len(pairs))
    np.divide(together * binary.shape[0], expected, out=lift, where=expected > 0)
    return lift


def pair_lift_spearman(
    real: sp.spmatrix, simulated: sp.spmatrix, n_pairs: int = 100
) -> tuple[float, np.ndarray]:
    """Spearman correlation of the lift over the real logs' top ``n_pairs`` pairs.

    Returns the correlation and the (P, 2) pairs used.
    """
    pairs = top_pairs(real, n_pairs)
    if len(pairs) < 3:
        return float("nan"), pairs
    return _spearman(pair_lifts(real, pairs), pair_lifts(simulated, pairs)), pairs


def repeat_rate(baskets: sp.spmatrix, bought_before: sp.spmatrix) -> float:
    """Share of basket items the basket's user bought before (pooled over baskets).

    ``bought_before`` has one row per basket: nonzero where its user bought the item before.
    """
    binary = _binary(baskets)
    if binary.nnz == 0:
        return float("nan")
    before = _binary(bought_before)
    if before.shape != binary.shape:
        raise ValueError(f"shapes differ: baskets {binary.shape}, history {before.shape}")
    return float(binary.multiply(before).sum() / binary.nnz)


def category_shares(baskets: sp.spmatrix, categories: np.ndarray, n_categories: int) -> np.ndarray:
    """(C,) share of basket items in each category."""
    counts = item_counts(baskets)
    per_category = np.bincount(categories, weights=counts, minlength=n_categories)
    total = per_category.sum()
    return per_category / total if total > 0 else per_category


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """Total variation distance 0.5 * sum |p - q| of two distributions (normalised here)."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    if p.shape != q.shape or p.sum() <= 0 or q.sum() <= 0:
        raise ValueError("total_variation needs two nonnegative vectors of one shape, sum > 0")
    return float(0.5 * np.abs(p / p.sum() - q / q.sum()).sum())


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")  # a constant side has no ranking
    return float(stats.spearmanr(a, b).statistic)


def _binary(baskets: sp.spmatrix) -> sp.csr_matrix:
    binary = sp.csr_matrix(baskets, dtype=np.float64, copy=True)
    binary.data = (binary.data != 0).astype(np.float64)
    binary.eliminate_zeros()
    return binary


def _co_counts(baskets: sp.spmatrix) -> sp.csr_matrix:
    binary = _binary(baskets)
    return (binary.T @ binary).tocsr()


def _nonempty(values: np.ndarray, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64).ravel()
    if len(values) == 0:
        raise ValueError(f"the {name} sample is empty")
    return values
