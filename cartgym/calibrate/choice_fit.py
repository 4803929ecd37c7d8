"""Choice-model coefficients by maximum likelihood on the within-basket choices of the logs.

Logs record baskets, not the order in which items went into them, so each basket is put in
a random order: its k-th item is a choice made with the first k - 1 items in the cart. Each
choice is compared with ``negatives`` items drawn uniformly from the catalogue items not yet
in the cart. A conditional logit fitted on such sampled choice sets is consistent for the
full multinomial logit (McFadden 1978, "Modelling the choice of residential location": uniform
sampling of alternatives has the uniform-conditioning property), so the sampled likelihood is
maximised by Newton's method; the observed information gives standard errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

FEATURES = ("taste", "history", "popularity", "complement", "log_price")


@dataclass(frozen=True)
class ChoiceSequence:
    """Every basket's catalogue items in one random order, flattened (CSR order of baskets)."""

    items: np.ndarray  # (L,) item index
    basket: np.ndarray  # (L,) basket row
    position: np.ndarray  # (L,) number of items already in the cart

    @classmethod
    def from_baskets(cls, baskets: sp.csr_matrix, rng: np.random.Generator) -> ChoiceSequence:
        rows = np.repeat(np.arange(baskets.shape[0]), np.diff(baskets.indptr))
        order = np.lexsort((rng.random(len(rows)), rows))
        position = np.arange(len(rows)) - baskets.indptr[rows]
        return cls(items=baskets.indices[order], basket=rows, position=position)


class PurchaseIndex:
    """How many of a user's baskets before a given one held an item (repeat-buying feature)."""

    def __init__(self, users: np.ndarray, items: np.ndarray, ranks: np.ndarray, n_items: int):
        self._n_items = n_items
        self._span = int(ranks.max()) + 2 if len(ranks) else 2
        self._keys = np.sort((users * n_items + items) * self._span + ranks)

    def log_count_before(self, users: np.ndarray, items: np.ndarray, ranks: np.ndarray):
        """log1p(number of baskets with rank < ``ranks``); users < 0 (unknown) count zero."""
        pair = users.astype(np.int64) * self._n_items + items
        ranks = np.minimum(ranks, self._span - 1)
        counts = np.searchsorted(self._keys, pair * self._span + ranks) - np.searchsorted(
            self._keys, pair * self._span
        )
        return np.where(users < 0, 0.0, np.log1p(counts))


def cart_prefix_sums(
    sequence: ChoiceSequence, rows_of: Callable[[slice], np.ndarray], chunk_items: int = 4096
) -> Iterator[tuple[slice, np.ndarray]]:
    """Yield (events, sums): sums[e] = sum over event e's cart of the rows that
    ``rows_of(span)`` returns for the sequence entries in ``span`` (one row per entry).

    Chunks end at basket boundaries so that each cart is a prefix sum within its chunk.
    """
    n = len(sequence.items)
    start = 0
    while start < n:
        stop = min(start + chunk_items, n)
        while stop < n and sequence.position[stop] != 0:
            stop += 1  # finish the basket
        span = slice(start, stop)
        rows = np.asarray(rows_of(span), dtype=np.float64)
        before = np.cumsum(rows, axis=0) - rows  # sum of all earlier rows in the chunk
        starts = np.flatnonzero(sequence.position[span] == 0)
        lengths = np.diff(np.append(starts, stop - start))
        before -= np.repeat(before[starts], lengths, axis=0)  # keep only this basket's rows
        yield span, before
        start = stop


def basket_members(sequence: ChoiceSequence, span: slice, n_items: int) -> np.ndarray:
    """(len(span), M) boolean: for each entry in ``span``, the items of its whole basket.

    ``span`` must start and end at basket boundaries."""
    baskets = sequence.basket[span]
    first = baskets[0] if len(baskets) else 0
    local = baskets - first
    by_basket = np.zeros((local.max() + 1 if len(local) else 0, n_items), dtype=bool)
    by_basket[local, sequence.items[span]] = True
    return by_basket[local]


@dataclass(frozen=True)
class ChoiceFeatures:
    """Inputs of the utility features for users and candidate items."""

    user_factors: np.ndarray  # (T, d) tastes, looked up by a taste index per event
    item_factors: np.ndarray  # (M, d)
    popularity: np.ndarray  # (M,)
    log_price: np.ndarray  # (M,)
    purchases: PurchaseIndex

    def build(
        self,
        taste_index: np.ndarray,
        users: np.ndarray,
        ranks: np.ndarray,
        items: np.ndarray,
        comp: np.ndarray,
    ) -> np.ndarray:
        """(E, A, F) features for E events and A candidate items each, in ``FEATURES`` order:
        the event's taste row, its user and basket rank (for the history), its items."""
        taste_vectors = self.user_factors[taste_index]
        taste = np.einsum("ed,ead->ea", taste_vectors, self.item_factors[items])
        history = self.purchases.log_count_before(
            np.broadcast_to(users[:, None], items.shape).ravel(),
            items.ravel(),
            np.broadcast_to(ranks[:, None], items.shape).ravel(),
        ).reshape(items.shape)
        return np.stack(
            [taste, history, self.popularity[items], comp, self.log_price[items]], axis=-1
        )


def sample_choice_sets(
    sequence: ChoiceSequence,
    events: np.ndarray,
    n_items: int,
    negatives: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """(E, 1 + negatives) item indices: the chosen item, then uniform non-cart alternatives."""
    basket, position = sequence.basket[events], sequence.position[events]
    # (basket, item) -> position in the basket's random order, for cart-membership lookups.
    keys = sequence.basket.astype(np.int64) * n_items + sequence.items
    order = np.argsort(keys)
    sorted_keys, sorted_pos = keys[order], sequence.position[order]
    drawn = rng.integers(0, n_items, size=(len(events), negatives))
    while True:
        query = basket[:, None].astype(np.int64) * n_items + drawn
        at = np.minimum(np.searchsorted(sorted_keys, query), len(sorted_keys) - 1)
        in_basket = sorted_keys[at] == query
        taken = in_basket & (sorted_pos[at] <= position[:, None])  # in cart, or the choice
        if not taken.any():
            break
        drawn[taken] = rng.integers(0, n_items, size=int(taken.sum()))
    return np.concatenate([sequence.items[events][:, None], drawn], axis=1)


@dataclass(frozen=True)
class LogitFit:
    coefficients: np.ndarray
    standard_errors: np.ndarray
    log_likelihood: float
    n_events: int
    iterations: int


def fit_conditional_logit(features: np.ndarray, max_iter: int = 50, tol: float = 1e-9) -> LogitFit:
    """Maximise sum_e [x_e0 . b - logsumexp_a x_ea . b]: alternative 0 is the one chosen.

    Features with no variation within choice sets cannot be identified; their coefficient
    is fixed at 0 and its standard error reported as NaN.
    """
    n_events, _, n_features = features.shape
    if n_events == 0:
        raise ValueError("no choice events to fit the choice model on")
    varies = np.ptp(features, axis=1).max(axis=0) > 1e-12
    x = features[:, :, varies]
    beta = np.zeros(x.shape[2])
    loglik = _loglik(x, beta)[0]
    iterations = 0
    for _ in range(max_iter):
        iterations += 1
        _, gradient, hessian = _loglik(x, beta, derivatives=True)
        step = np.linalg.solve(hessian, gradient)
        scale = 1.0
        while True:  # step halving keeps every Newton step an ascent step
            candidate = beta + scale * step
            new = _loglik(x, candidate)[0]
            if new >= loglik - 1e-12 or scale < 1e-8:
                break
            scale /= 2
        improvement = new - loglik
        beta, loglik = candidate, new
        if abs(improvement) < tol * max(1.0, abs(loglik)):
            break
    _, _, hessian = _loglik(x, beta, derivatives=True)
    errors = np.sqrt(np.diag(np.linalg.inv(hessian)))
    coefficients = np.zeros(n_features)
    standard_errors = np.full(n_features, np.nan)
    coefficients[varies], standard_errors[varies] = beta, errors
    return LogitFit(coefficients, standard_errors, float(loglik), n_events, iterations)


def _loglik(x: np.ndarray, beta: np.ndarray, derivatives: bool = False):
    """Log-likelihood and, if asked, its gradient and the negative Hessian (information)."""
    utility = x @ beta
    utility -= utility.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(utility).sum(axis=1))
    loglik = float((utility[:, 0] - log_norm).sum())
    if not derivatives:
        return loglik, None, None
    prob = np.exp(utility - log_norm[:, None])
    mean = np.einsum("ea,eaf->ef", prob, x)
    gradient = (x[:, 0, :] - mean).sum(axis=0)
    centred = x - mean[:, None, :]
    information = np.einsum("ea,eaf,eag->fg", prob, centred, centred)
    return loglik, gradient, information
