"""Frequently bought together: Apriori itemsets of the logs, and the rule-based bundle agent."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..logs import LogAgent, LoggedBaskets, NotFittedError
from ..protocol import Env
from .candidates import BundleAgent
from .references import OBJECTIVES

# ----------------------------------------------------------------------------- itemsets
APRIORI_BACKENDS = ("numpy", "efficient_apriori")


@dataclass(frozen=True)
class FrequentItemsets:
    """Itemsets of sizes 1 to 3 held by at least ``min_count`` of ``n_baskets`` logged baskets,
    with their counts (Apriori's frequent itemsets, max length 3).

    ``item_counts`` (M,) counts every item (frequent or not); pairs and triples are kept as
    sorted codes (a M + b, a M^2 + b M + c with a < b < c) for vectorised look-ups.
    """

    n_items: int
    n_baskets: int
    min_count: int
    item_counts: np.ndarray
    pair_codes: np.ndarray
    pair_counts: np.ndarray
    triple_codes: np.ndarray
    triple_counts: np.ndarray

    @classmethod
    def fit(
        cls, baskets: sp.spmatrix, min_count: int, backend: str = "numpy", chunk: int = 4096
    ) -> FrequentItemsets:
        """Frequent itemsets of a (baskets x M) 0/1 matrix.

        ``backend="numpy"``: vectorised counting. Pair counts are X'X; the triples
        extending a frequent pair (a, b) are counted as (x_a * x_b)' X, in chunks of
        ``chunk`` pairs. By the Apriori property every frequent triple extends a frequent
        pair, so the counts are exact. ``"efficient_apriori"``: the ``efficient-apriori``
        package (pure Python; the same itemsets, slower on large logs).
        """
        if isinstance(min_count, bool) or not isinstance(min_count, (int, np.integer)):
            raise ValueError(f"min_count must be an int >= 1, got {min_count!r}")
        if min_count < 1:
            raise ValueError(f"min_count must be an int >= 1, got {min_count!r}")
        if backend not in APRIORI_BACKENDS:
            raise ValueError(f"backend must be one of {APRIORI_BACKENDS}, got {backend!r}")
        x = sp.csr_matrix(baskets, dtype=np.float64)
        x.data[:] = 1.0
        x.sum_duplicates()
        x.data[:] = 1.0
        n, m = x.shape
        items = np.asarray(x.sum(axis=0)).ravel()
        if backend == "efficient_apriori":
            pairs, triples = _efficient_apriori(x, min_count)
        else:
            pairs, triples = _vectorised_apriori(x, items, min_count, chunk)
        (pair_codes, pair_counts), (triple_codes, triple_counts) = pairs, triples
        order2, order3 = np.argsort(pair_codes), np.argsort(triple_codes)
        return cls(
            m,
            n,
            int(min_count),
            items,
            pair_codes[order2],
            pair_counts[order2].astype(np.float64),
            triple_codes[order3],
            triple_counts[order3].astype(np.float64),
        )

    def counts(self, sets: np.ndarray) -> np.ndarray:
        """Baskets holding each itemset of ``sets`` (..., 3): up to 3 items, -1 for none,
        repeats counted once. The empty set counts every basket; an itemset of 2 or 3 items
        that is not frequent counts 0 (below ``min_count``, unknown)."""
        sets = np.asarray(sets, dtype=np.int64)
        shape = sets.shape[:-1]
        s = np.sort(sets.reshape(-1, 3), axis=1)
        s[:, 1:][s[:, 1:] == s[:, :-1]] = -1  # repeated items count once
        s = np.sort(s, axis=1)  # members right-aligned after the -1s
        size = (s >= 0).sum(axis=1)
        out = np.zeros(len(s))
        out[size == 0] = self.n_baskets
        one = size == 1
        out[one] = self.item_counts[s[one, 2]]
        two = size == 2
        out[two] = _lookup(self.pair_codes, self.pair_counts, s[two, 1] * self.n_items + s[two, 2])
        three = size == 3
        m = self.n_items
        codes = (s[three, 0] * m + s[three, 1]) * m + s[three, 2]
        out[three] = _lookup(self.triple_codes, self.triple_counts, codes)
        return out.reshape(shape)

    def support(self, sets: np.ndarray) -> np.ndarray:
        """Share of baskets holding each itemset (see :meth:`counts`)."""
        return self.counts(sets) / max(self.n_baskets, 1)


def _lookup(codes: np.ndarray, counts: np.ndarray, keys: np.ndarray) -> np.ndarray:
    if len(codes) == 0 or len(keys) == 0:
        return np.zeros(len(keys))
    at = np.minimum(np.searchsorted(codes, keys), len(codes) - 1)
    return np.where(codes[at] == keys, counts[at], 0.0)


Coded = tuple[np.ndarray, np.ndarray]


def _vectorised_apriori(
    x: sp.csr_matrix, items: np.ndarray, min_count: int, chunk: int
) -> tuple[Coded, Coded]:
    m = x.shape[1]
    frequent = np.flatnonzero(items >= min_count)
    xf = x[:, frequent].tocsc()
    co = sp.triu(xf.T @ xf, k=1).tocoo()
    keep = co.data >= min_count
    a, b, c2 = frequent[co.row[keep]], frequent[co.col[keep]], co.data[keep]
    pairs = (a.astype(np.int64) * m + b, c2)
    codes, counts = [], []
    xc = x.tocsc()
    for start in range(0, len(a), chunk):
        pa, pb = a[start : start + chunk], b[start : start + chunk]
        both = xc[:, pa].multiply(xc[:, pb]).tocsc()  # baskets holding each pair
        third = (both.T @ xf).tocoo()  # (pairs, frequent items) triple counts
        c = frequent[third.col]
        keep = (third.data >= min_count) & (c > pb[third.row])
        rows = third.row[keep]
        codes.append((pa[rows].astype(np.int64) * m + pb[rows]) * m + c[keep])
        counts.append(third.data[keep])
    empty = np.zeros(0, dtype=np.int64)
    triples = (np.concatenate([empty, *codes]), np.concatenate([np.zeros(0), *counts]))
    return pairs, triples


def _efficient_apriori(x: sp.csr_matrix, min_count: int) -> tuple[Coded, Coded]:
    try:
        from efficient_apriori import itemsets_from_transactions
    except ImportError as error:
        raise ImportError(
            "backend='efficient_apriori' needs the efficient-apriori package: "
            'pip install "cartgym[rules]"'
        ) from error
    m = x.shape[1]
    transactions = [
        tuple(x.indices[x.indptr[i] : x.indptr[i + 1]].tolist()) for i in range(x.shape[0])
    ]
    # The package keeps count / n >= min_support; just under min_count / n keeps the boundary
    # exactly (counts are integers).
    threshold = (min_count - 0.5) / max(len(transactions), 1)
    found, _ = itemsets_from_transactions(transactions, min_support=threshold, max_length=3)
    out = []
    for size in (2, 3):
        sets = found.get(size, {})
        keys = np.array(sorted(sets), dtype=np.int64).reshape(-1, size)
        values = np.array([sets[tuple(k)] for k in keys.tolist()], dtype=np.float64)
        codes = np.zeros(len(keys), dtype=np.int64)
        for column in range(size):
            codes = codes * m + keys[:, column]
        out.append((codes, values))
    return out[0], out[1]


# ----------------------------------------------------------------------------- rules
MEASURES = ("confidence", "lift")

AGGREGATES = ("max", "mean", "sum")


class AssociationRuleBundleAgent(BundleAgent, LogAgent):
    """Frequently bought together: association rules from the cart's items to the bundle.

    Fit (``fit(transactions)``, as every :class:`LogAgent`): Apriori's frequent itemsets of
    1 to 3 items over the logged baskets (at least ``min_count`` baskets;
    :class:`FrequentItemsets`). Score of a bundle B for a cart: for each cart item j, the
    rule j -> B with

    - confidence(j -> B) = n(j + B) / n(j), exact for a pair B (an itemset of 3); for a
      triple B (j + B has 4 items, beyond Apriori's length 3 here) the Apriori bound
      min over the pairs Y of B of confidence(j -> Y), which is never below it;
    - lift(j -> B) = confidence(j -> B) / support(B);

    aggregated over the cart's items (``aggregate``: max, mean or sum), plus
    ``support_weight`` x support(B), the bundle's own share of baskets (the whole score of
    a bundle no rule reaches). ``objective="revenue"`` multiplies by the bundle's value net
    of discount, ``"click"`` by its number of items. Itemsets below ``min_count`` count 0.
    Offers are made at the lowest discount (the logs hold no discounts).

    Args:
        measure: ``"confidence"`` or ``"lift"``.
        aggregate: ``"max"``, ``"mean"`` or ``"sum"`` over the cart's items.
        min_count: minimum number of baskets of a frequent itemset, >= 1.
        support_weight: weight of the bundle's own support, >= 0.
        objective: ``"revenue"`` or ``"click"``.
        backend: ``"numpy"`` (vectorised, default) or ``"efficient_apriori"``.
    """

    offers_discounts = False

    def __init__(
        self,
        env: Env,
        *,
        measure: str = "confidence",
        aggregate: str = "max",
        min_count: int = 5,
        support_weight: float = 1.0,
        objective: str = "revenue",
        backend: str = "numpy",
        seed: int | None = None,
    ):
        if measure not in MEASURES:
            raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
        if aggregate not in AGGREGATES:
            raise ValueError(f"aggregate must be one of {AGGREGATES}, got {aggregate!r}")
        if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
            raise ValueError(f"min_count must be an int >= 1, got {min_count!r}")
        if not (isinstance(support_weight, (int, float)) and np.isfinite(support_weight)):
            raise ValueError(f"support_weight must be a finite number >= 0, got {support_weight!r}")
        if support_weight < 0:
            raise ValueError(f"support_weight must be a finite number >= 0, got {support_weight!r}")
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
        if backend not in APRIORI_BACKENDS:
            raise ValueError(f"backend must be one of {APRIORI_BACKENDS}, got {backend!r}")
        super().__init__(env, seed=seed)
        self.measure, self.aggregate, self.min_count = measure, aggregate, min_count
        self.support_weight, self.objective, self.backend = support_weight, objective, backend

    def fit_baskets(self, logs: LoggedBaskets) -> None:
        """Frequent itemsets of the logged baskets (``fit(transactions)`` maps them)."""
        self.itemsets_ = FrequentItemsets.fit(logs.baskets, self.min_count, self.backend)

    def relevance(self, obs: np.ndarray) -> np.ndarray:
        """(B, C) rule strength from the cart to each offer's bundle, plus its support."""
        if not hasattr(self, "fit_report_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(transactions)")
        sets = self.itemsets_
        bundles = self.candidates.items(obs)  # (B, C, 3)
        cart = _padded_cart(obs[:, self.layout.cart] > 0.5)  # (B, J), -1 padded
        b, c = bundles.shape[:2]
        j = cart.shape[1]
        support = sets.support(bundles)  # (B, C)
        antecedent = np.broadcast_to(cart[:, None, :], (b, c, j))
        n_j = sets.counts(
            np.stack([antecedent, np.full_like(antecedent, -1), np.full_like(antecedent, -1)], -1)
        )
        # n(j + Y) for the consequents Y: the bundle itself if a pair, else its three pairs
        pair = bundles[..., 2] < 0
        subsets = np.stack(
            [bundles[..., [0, 1]], bundles[..., [0, 2]], bundles[..., [1, 2]]], axis=2
        )  # (B, C, 3, 2)
        subsets[pair] = bundles[pair][:, None, :2]
        joint = np.concatenate(
            [
                np.broadcast_to(antecedent[:, :, None, :, None], (b, c, 3, j, 1)),
                np.broadcast_to(subsets[:, :, :, None, :], (b, c, 3, j, 2)),
            ],
            axis=4,
        )
        together = sets.counts(joint).min(axis=2)  # (B, C, J): n(j + B), or its Apriori bound
        with np.errstate(divide="ignore", invalid="ignore"):
            rule = np.where(n_j > 0, together / np.maximum(n_j, 1), 0.0)
            if self.measure == "lift":
                rule = np.where(support[..., None] > 0, rule / support[..., None], 0.0)
        valid = antecedent >= 0
        rule = np.where(valid, rule, 0.0)
        if self.aggregate == "max":
            strength = rule.max(axis=2, initial=0.0)
        elif self.aggregate == "sum":
            strength = rule.sum(axis=2)
        else:
            strength = rule.sum(axis=2) / np.maximum(valid.sum(axis=2), 1)
        return strength + self.support_weight * support

    def scores(self, obs: np.ndarray, explore: bool = False) -> np.ndarray:
        relevance = self.relevance(obs)
        if self.objective == "click":
            return relevance * self.bundle_sizes(obs)
        return relevance * self.bundle_values(obs) * (1.0 - self.candidates.discount(obs))


def _padded_cart(in_cart: np.ndarray) -> np.ndarray:
    """(B, J) the items of each cart, -1 padded to the largest cart (J >= 1)."""
    rows, items = np.nonzero(in_cart)
    sizes = np.bincount(rows, minlength=len(in_cart))
    out = np.full((len(in_cart), max(int(sizes.max(initial=0)), 1)), -1, dtype=np.int64)
    slot = np.arange(len(rows)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    out[rows, slot] = items
    return out
