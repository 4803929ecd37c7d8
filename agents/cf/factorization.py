"""Implicit-feedback matrix factorisation of the logged baskets (ALS), folded in per shopper.

Fitted with ``fit(transactions)`` on the training logs (see :mod:`cartgym.agents.logs`);
scores items from the observation alone: the cart block and the shopper's history block.
"""

from __future__ import annotations

import numpy as np

from cartgym.calibrate.factorization import implicit_als

from ..features import segment_reduce
from ..logs import LogAgent, LoggedBaskets
from ..protocol import Env

BACKENDS = ("auto", "implicit", "numpy")


class MatrixFactorizationAgent(LogAgent):
    """Implicit-feedback matrix factorisation (ALS, Hu, Koren and Volinsky 2008).

    Fit: item factors y_i from the users x items matrix of logged basket counts r_ui, with
    confidence 1 + alpha r_ui. Score: the shopper is folded in from the observation, as one
    ALS user step with a prior centred on the average logged user x0 (so a shopper with
    little data gets the average taste rather than none): their counts r_i are the history
    block (read back to counts) plus ``cart_weight`` for each cart item,
    x = (Y'Y + reg I + sum_i alpha r_i y_i y_i')^-1 (reg x0 + sum_i (1 + alpha r_i) y_i),
    and relevance_i = x . y_i (a predicted preference, about 0 to 1).

    Args:
        factors: ALS embedding dimension, > 0.
        regularization: ALS ridge penalty, > 0.
        alpha: ALS confidence scale (confidence 1 + alpha r), > 0.
        iterations: ALS sweeps, > 0.
        cart_weight: count given to each item in the cart when folding in, >= 0.
        backend: ``"numpy"`` (default: ``cartgym.calibrate.factorization.implicit_als``, so
            results never depend on whether an optional package is installed),
            ``"implicit"`` (the ``implicit`` package, CPU, one thread) or ``"auto"``
            (implicit if installed). The backend used is ``backend_``.
        objective: ``"click"`` or ``"revenue"``.
    """

    def __init__(
        self,
        env: Env,
        *,
        factors: int = 32,
        regularization: float = 5.0,
        alpha: float = 10.0,
        iterations: int = 15,
        cart_weight: float = 1.0,
        backend: str = "numpy",
        objective: str = "click",
        seed: int | None = None,
    ):
        for name, count in (("factors", factors), ("iterations", iterations)):
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise ValueError(f"{name} must be an int >= 1, got {count!r}")
        for name, value in (("regularization", regularization), ("alpha", alpha)):
            if not value > 0:
                raise ValueError(f"{name} must be > 0, got {value!r}")
        if not cart_weight >= 0:
            raise ValueError(f"cart_weight must be >= 0, got {cart_weight!r}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        super().__init__(env, objective=objective, seed=seed)
        self.factors, self.regularization, self.alpha = factors, regularization, alpha
        self.iterations, self.cart_weight, self.backend = iterations, cart_weight, backend

    def fit_baskets(self, logs: LoggedBaskets) -> None:
        counts = logs.user_counts
        backend = self.backend
        if backend == "auto":
            backend = "implicit" if _has_implicit() else "numpy"
        if backend == "implicit":
            users, items = _implicit_factors(
                counts, self.factors, self.regularization, self.alpha, self.iterations, self.seed
            )
        else:
            rng = np.random.default_rng(self.seed)
            users, items = implicit_als(
                counts,
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                rng=rng,
            )
        self.backend_ = backend
        self.item_factors_ = np.asarray(items, dtype=np.float64)
        self.user_mean_ = np.asarray(users, dtype=np.float64).mean(axis=0)
        d = self.item_factors_.shape[1]
        self._gram = self.item_factors_.T @ self.item_factors_ + self.regularization * np.eye(d)

    def user_factors(self, obs: np.ndarray) -> np.ndarray:
        """(B, d) the shoppers' factors folded in from their history and cart."""
        y = self.item_factors_
        counts = self.history_counts(obs) + self.cart_weight * (obs[:, self.layout.cart] > 0.5)
        rows, items = np.nonzero(counts)
        confidence = self.alpha * counts[rows, items]
        # Each row's sum_i alpha r_i y_i y_i' as one batched matmul over its padded items.
        sizes = np.bincount(rows, minlength=len(obs))
        slot = np.arange(len(rows)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        padded = np.zeros((len(obs), max(int(sizes.max(initial=0)), 1), y.shape[1]))
        padded[rows, slot] = np.sqrt(confidence)[:, None] * y[items]
        systems = np.matmul(padded.transpose(0, 2, 1), padded) + self._gram
        rhs = segment_reduce((1.0 + confidence)[:, None] * y[items], rows, len(obs))
        rhs += self.regularization * self.user_mean_  # the prior: the average logged user
        return np.linalg.solve(systems, rhs[..., None])[..., 0]

    def relevance(self, obs: np.ndarray) -> np.ndarray:
        return self.user_factors(obs) @ self.item_factors_.T


def _has_implicit() -> bool:
    try:
        import implicit.cpu.als  # noqa: F401
    except ImportError:
        return False
    return True


def _implicit_factors(counts, factors, regularization, alpha, iterations, seed):
    """(user factors, item factors) from the ``implicit`` package, confidence 1 + alpha r."""
    try:
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits
    except ImportError as error:
        raise ImportError(
            "backend='implicit' needs the implicit package: pip install \"cartgym[cf]\""
        ) from error
    confidence = counts.astype(np.float32).tocsr()
    confidence.data = 1.0 + alpha * confidence.data
    with threadpool_limits(1, "blas"):  # implicit warns about (and is slowed by) BLAS threads
        model = AlternatingLeastSquares(
            factors=factors,
            regularization=regularization,
            alpha=1.0,
            iterations=iterations,
            random_state=seed,
            num_threads=1,
        )
        model.fit(confidence, show_progress=False)
    return np.asarray(model.user_factors), np.asarray(model.item_factors)
