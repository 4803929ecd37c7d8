"""Implicit-feedback matrix factorisation by alternating least squares.

The weighted model of Hu, Koren and Volinsky (2008, "Collaborative Filtering for
Implicit Feedback Datasets"): preference p_ui = 1 if user u bought item i, confidence
c_ui = 1 + alpha * r_ui, and the loss sum_ui c_ui (p_ui - x_u . y_i)^2 + reg (|x|^2 + |y|^2)
is minimised by solving for all users, then all items, in closed form. Each half-step
is batched: one d x d system per row, solved together with ``np.linalg.solve``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def implicit_als(
    counts: sp.csr_matrix,
    *,
    factors: int,
    regularization: float,
    alpha: float,
    iterations: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Factor a users x items count matrix; return (user_factors, item_factors) as float64."""
    if factors < 1 or iterations < 1 or regularization <= 0 or alpha <= 0:
        raise ValueError("factors and iterations must be >= 1; regularization and alpha > 0")
    counts = sp.csr_matrix(counts, dtype=np.float64)
    n_users, n_items = counts.shape
    users = rng.normal(0.0, 0.01, size=(n_users, factors))
    items = rng.normal(0.0, 0.01, size=(n_items, factors))
    by_item = counts.T.tocsr()
    for _ in range(iterations):
        users = _solve_side(counts, items, regularization, alpha)
        items = _solve_side(by_item, users, regularization, alpha)
    return users, items


def _solve_side(
    counts: sp.csr_matrix, other: np.ndarray, regularization: float, alpha: float
) -> np.ndarray:
    """Closed-form update of every row's factors given the other side's factors.

    A_u = Y'Y + reg I + sum_i alpha r_ui y_i y_i'  and  b_u = sum_i (1 + alpha r_ui) y_i,
    with the per-row sums done as sparse x dense products over flattened outer products.
    """
    n_rows, d = counts.shape[0], other.shape[1]
    gram = other.T @ other + regularization * np.eye(d)
    outer = np.einsum("id,ie->ide", other, other).reshape(len(other), d * d)
    weighted = counts.copy()
    weighted.data = alpha * counts.data
    systems = (weighted @ outer).reshape(n_rows, d, d) + gram
    weighted.data += 1.0
    rhs = weighted @ other
    return np.linalg.solve(systems, rhs[..., None])[..., 0]


def leave_basket_out_tastes(
    counts: sp.csr_matrix,
    baskets: sp.csr_matrix,
    basket_users: np.ndarray,
    item_factors: np.ndarray,
    *,
    regularization: float,
    alpha: float,
) -> np.ndarray:
    """(B, d) each basket's user factors re-solved without that basket's purchases.

    Scoring a logged choice with a taste fitted on the same basket would reward the taste
    weight for memorising it. Given the item factors, a user's factors are a ridge solve,
    so removing one basket (count r_ui -> r_ui - 1 for its items) is a rank update:
    A -= alpha sum_i y_i y_i' and b -= sum_i (alpha + [r_ui == 1]) y_i.
    """
    d = item_factors.shape[1]
    gram = item_factors.T @ item_factors + regularization * np.eye(d)
    outer = np.einsum("id,ie->ide", item_factors, item_factors).reshape(-1, d * d)
    weighted = sp.csr_matrix(counts, dtype=np.float64, copy=True)
    weighted.data = alpha * weighted.data
    systems = (weighted @ outer).reshape(-1, d, d) + gram
    weighted.data += 1.0
    rhs = weighted @ item_factors
    binary = sp.csr_matrix(baskets, dtype=np.float64, copy=True)
    binary.data[:] = 1.0
    rows = np.repeat(np.arange(binary.shape[0]), np.diff(binary.indptr))
    last_purchase = np.asarray(counts[basket_users[rows], binary.indices]).ravel() <= 1
    dropped = binary.copy()
    dropped.data = alpha + last_purchase
    systems = systems[basket_users] - alpha * (binary @ outer).reshape(-1, d, d)
    rhs = rhs[basket_users] - dropped @ item_factors
    return np.linalg.solve(systems, rhs[..., None])[..., 0]
