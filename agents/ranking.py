"""Turning scores into recommendations: the K best unmasked items of each row."""

from __future__ import annotations

import numpy as np

_LOWEST = np.finfo(np.float64).min


def top_k(
    scores: np.ndarray,
    allowed: np.ndarray,
    k: int,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """(B, k) indices of the ``k`` highest-scoring allowed items of each row, best first.

    ``scores`` and ``allowed`` are (B, M). Exact ties are broken uniformly at random with
    ``rng``, or towards the lower index when ``rng`` is None. NaN and -inf scores rank
    below every finite score but above masked items. A row with fewer than ``k`` allowed
    items repeats its best item (the environment shows a repeated item once); a row with no
    allowed item at all gets its best-scoring item, since no legal choice exists.
    """
    s = np.where(
        allowed, np.nan_to_num(scores, nan=_LOWEST, posinf=np.inf, neginf=_LOWEST), -np.inf
    )
    b, m = s.shape
    if k == 1:
        best = s.max(axis=1, keepdims=True)
        key = _tie_key(b, m, rng)
        return np.where(s == best, key, -1.0).argmax(axis=1)[:, None]
    kth = -np.partition(-s, k - 1, axis=1)[:, k - 1 : k]  # k-th largest score of each row
    # Priority 2: surely in; a key in (0, 1): tied at the cut; -1: out; -2: masked.
    priority = np.where(s > kth, 2.0, np.where(s == kth, _tie_key(b, m, rng), -1.0))
    priority[~allowed] = -2.0
    chosen = np.argpartition(-priority, k - 1, axis=1)[:, :k]
    rows = np.arange(b)[:, None]
    order = np.lexsort((-priority[rows, chosen], -s[rows, chosen]), axis=1)
    slate = chosen[rows, order]
    legal = allowed[rows, slate]
    return np.where(legal | ~legal[:, :1], slate, slate[:, :1])


def _tie_key(b: int, m: int, rng: np.random.Generator | None) -> np.ndarray:
    """(B, M) keys in (0, 1): uniform draws, or decreasing with the index if no generator."""
    if rng is not None:
        return rng.random((b, m)) * 0.5 + 0.25
    return np.broadcast_to(1.0 - (np.arange(m) + 1.0) / (m + 2.0), (b, m))


def first_occurrence(slates: np.ndarray) -> np.ndarray:
    """(B, K) True where an item appears for the first time in its row's slate."""
    k = slates.shape[1]
    if k == 1:
        return np.ones(slates.shape, dtype=bool)
    earlier = (slates[:, :, None] == slates[:, None, :]) & np.tri(k, k, -1, dtype=bool)[None]
    return ~earlier.any(axis=2)
