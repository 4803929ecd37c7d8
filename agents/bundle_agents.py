"""Agents for bundle offers (``CartRecBundle-v0``): each action is one candidate bundle at one
discount, and the observation says which.

A bundle environment's action a is one of C = ``bundle_candidates`` x ``len(bundle_discounts)``
offers, refreshed for every cart. Its 9 features lie in the observation's candidate block
(``cartgym.envs.bundles.CANDIDATE_FEATURES``): the bundle's items, value, discount, lift with
the cart and within itself, popularity, and ``available`` (none of its items is in the cart:
the action mask). :class:`BundleAgent` reads that block, so ``predict(obs)`` needs nothing
else, like every agent of :mod:`cartgym.agents`: it scores the C actions
(:meth:`BundleAgent.scores` -> (B, C)) and offers the best available one.

- :class:`BundleRandomAgent`: a uniformly random available offer (the floor).
- :class:`BundleOracleMyopicAgent`: the offer of largest expected immediate revenue under
  the true shopper (``env.unwrapped.oracle_bundle_revenue()``, exact), the myopic ceiling.
- :class:`AssociationRuleBundleAgent`: "frequently bought together": Apriori itemsets of
  sizes 1 to 3 fitted on the logs; an offer is scored by the rules from the cart's items to
  the bundle plus the bundle's own support.
- :class:`ItemScoreBundleAgent`: the bundle as independent items: the sum of an item
  agent's scores (``CoOccurrenceAgent``, ``LinUCB``, ...) over the bundle's items.

The logs hold no discounts, so the two log-based agents have no model of how a discount
changes the take rate: they offer every bundle at the lowest discount of the grid
(``offers_discounts = False``). The oracle and the RL agents choose discounts.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from cartgym.data import Transactions
from cartgym.envs.bundles import CANDIDATE_FEATURES

from .base import Agent, Batch, Env, OnlineAgent
from .logs import LogAgent, LoggedBaskets, NotFittedError
from .ranking import top_k

N_FEATURES = len(CANDIDATE_FEATURES)
ITEM_COLUMNS = [CANDIDATE_FEATURES.index(f"item_{k}") for k in (1, 2, 3)]


@dataclass(frozen=True)
class CandidateBlock:
    """Where a bundle environment's observation holds its C actions' features.

    Action a's feature f is ``obs[:, start + a * 9 + f]`` (f indexes ``CANDIDATE_FEATURES``).
    """

    start: int
    n_actions: int
    n_items: int
    n_discounts: int

    @classmethod
    def of_env(cls, env: Env) -> CandidateBlock:
        """The candidate block of a bundle environment, single or vector.

        Raises ValueError for an environment without bundle offers.
        """
        sessions = getattr(env.unwrapped, "sessions", None)
        block = getattr(sessions, "candidate_block", None)
        if block is None:
            raise ValueError(
                "bundle agents need a bundle environment (CartRecBundle-v0, or bundle_candidates "
                f"set), got {getattr(env.unwrapped.spec, 'id', type(env.unwrapped).__name__)}"
            )
        assert sessions is not None
        return cls(
            int(block.start),
            int(sessions.action_space.n),
            int(sessions.world.n_items),
            len(sessions.discounts),
        )

    @property
    def end(self) -> int:
        """The observation size: the candidate block is last."""
        return self.start + self.n_actions * N_FEATURES

    def features(self, obs: np.ndarray) -> np.ndarray:
        """(B, C, 9) the candidates' features."""
        return obs[:, self.start : self.end].reshape(len(obs), self.n_actions, N_FEATURES)

    def column(self, obs: np.ndarray, name: str) -> np.ndarray:
        """(B, C) one feature of every action, by its name in ``CANDIDATE_FEATURES``."""
        return self.features(obs)[:, :, CANDIDATE_FEATURES.index(name)]

    def items(self, obs: np.ndarray) -> np.ndarray:
        """(B, C, 3) the items of every action's bundle, -1 where a pair has no third."""
        coded = self.features(obs)[:, :, ITEM_COLUMNS].astype(np.float64)
        return np.rint(coded * self.n_items).astype(np.int64) - 1

    def available(self, obs: np.ndarray) -> np.ndarray:
        """(B, C) True where no item of the bundle is in the cart (``action_masks()``)."""
        return self.column(obs, "available") > 0.5

    def discount(self, obs: np.ndarray) -> np.ndarray:
        """(B, C) the discount of every offer."""
        return self.column(obs, "discount").astype(np.float64)

    def lowest_discount(self, obs: np.ndarray) -> np.ndarray:
        """(B, C) True for each bundle's offer at its lowest discount (one per bundle)."""
        d = self.discount(obs).reshape(len(obs), -1, self.n_discounts)
        first = np.argmin(d, axis=2)[..., None] == np.arange(self.n_discounts)
        return first.reshape(len(obs), self.n_actions)


class BundleAgent(Agent):
    """Base of the bundle agents: the C offers scored from the candidate block, masked by
    ``available``.

    Subclasses implement :meth:`scores` ((B, D) observations -> (B, C) action scores).
    ``predict`` returns the best available action (an int, or (N,) ints for a batch).
    Agents without a model of discounts set ``offers_discounts = False``: they offer each
    bundle at the lowest discount of the grid only.

    Args:
        env: a bundle environment (``gym.make("CartRecBundle-v0")`` or its vector env).
        seed: seed of the agent's own generator.
    """

    offers_discounts = True

    def __init__(self, env: Env, *, seed: int | None = None):
        self.candidates = CandidateBlock.of_env(env)
        super().__init__(env, seed=seed)
        self.n_actions = self.candidates.n_actions

    def allowed(self, obs: np.ndarray) -> np.ndarray:
        """(B, C) True for offers whose bundle is out of the cart (and, for agents without a
        discount model, at the bundle's lowest discount)."""
        allowed = self.candidates.available(obs)
        if not self.offers_discounts:  # (any available offer where none is at its lowest)
            lowest = allowed & self.candidates.lowest_discount(obs)
            allowed = np.where(lowest.any(axis=1, keepdims=True), lowest, allowed)
        return allowed

    def check_obs(self, observation: Any) -> np.ndarray:
        obs = np.asarray(observation, dtype=np.float32)
        size = self.candidates.end
        if obs.ndim not in (1, 2) or obs.shape[-1] != size:
            raise ValueError(
                f"observation of shape {obs.shape} does not fit this agent's bundle environment: "
                f"expected ({size},) or (N, {size})"
            )
        return obs

    def check_env(self, env: Env) -> None:
        super().check_env(env)
        if CandidateBlock.of_env(env) != self.candidates:
            raise ValueError(
                f"environment with candidate block {CandidateBlock.of_env(env)} does not match "
                f"the agent's ({self.candidates})"
            )

    def bundle_values(self, obs: np.ndarray) -> np.ndarray:
        """(B, C) line value of every offer's bundle before discount."""
        items = self.candidates.items(obs)
        values = np.where(items >= 0, self.world.line_values[np.maximum(items, 0)], 0.0)
        return values.sum(axis=2)

    def bundle_sizes(self, obs: np.ndarray) -> np.ndarray:
        """(B, C) number of items of every offer's bundle (2 or 3)."""
        return (self.candidates.items(obs) >= 0).sum(axis=2)

    @abstractmethod
    def scores(self, obs: np.ndarray, explore: bool = False) -> np.ndarray:
        """(B, C) scores of the offers; higher is better (masking is done by the caller)."""


class BundleRandomAgent(BundleAgent):
    """A uniformly random available offer (bundle and discount); random in both modes."""

    def scores(self, obs: np.ndarray, explore: bool = False) -> np.ndarray:
        return self.rng.random((len(obs), self.n_actions))

    def select(self, obs: np.ndarray, allowed: np.ndarray, deterministic: bool) -> np.ndarray:
        return top_k(self.scores(obs), allowed, 1)


OBJECTIVES = ("revenue", "click")


class BundleOracleMyopicAgent(BundleAgent):
    """The offer of largest expected immediate reward under the true shopper: a reference.

    **Not a deployable agent.** It reads ``env.unwrapped.oracle_bundle_revenue()`` (exact:
    the take probability of the whole bundle, summed over the orders of the sequential picks,
    times its revenue net of discount) at each call, so ``predict(obs)`` must be given the
    current observation of the environment it was built with. ``objective="click"``
    maximises expected items taken (take probability x bundle size); ``None`` follows the
    environment's reward (``"basket_value"`` is served as ``"revenue"``).
    """

    def __init__(self, env: Env, *, objective: str | None = None, seed: int | None = None):
        super().__init__(env, seed=seed)
        core = env.unwrapped
        if not callable(getattr(core, "oracle_bundle_revenue", None)):
            raise ValueError(
                "BundleOracleMyopicAgent needs an environment with oracle_bundle_revenue()"
            )
        if objective is not None and objective not in OBJECTIVES:
            raise ValueError(f"objective must be None or one of {OBJECTIVES}, got {objective!r}")
        self.env = env
        self.objective = objective
        env_reward = getattr(getattr(core, "sim", None), "config", None)
        env_reward = getattr(env_reward, "reward", "revenue")
        self._target = objective or ("click" if env_reward == "click" else "revenue")

    def scores(self, obs: np.ndarray, explore: bool = False) -> np.ndarray:
        core: Any = self.env.unwrapped
        if self._target == "click":
            values = np.atleast_2d(core.sessions.take_probabilities()) * self.bundle_sizes(obs)
        else:
            values = np.atleast_2d(core.oracle_bundle_revenue())
        if len(values) != len(obs):
            raise ValueError(
                f"the oracle sees {len(values)} shoppers in its environment but was given "
                f"{len(obs)} observations; pass that environment's current observations"
            )
        return values


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


# ----------------------------------------------------------------------------- item scores
def _item_agent_classes() -> dict[str, type[Agent]]:
    from . import bandits, cf, linear

    return {
        "cooccurrence": cf.CoOccurrenceAgent,
        "popularity": cf.PopularityAgent,
        "mf": cf.MatrixFactorizationAgent,
        "linucb": linear.LinUCB,
        "lin_thompson": linear.LinearThompsonSampling,
        "ucb1": bandits.UCB1,
        "thompson": bandits.ThompsonSampling,
    }


class ItemScoreBundleAgent(BundleAgent, OnlineAgent):
    """A bundle as independent items: the sum of an item agent's scores over its items.

    The item agent (``item_agent``: a name, with ``item_kwargs``, or an agent instance bound
    to the same bundle environment) scores every item from the observation's cart and
    history blocks as it would on ``CartRec-v0``; a bundle scores the sum over its 2 or 3
    items, which ranks bundles as the top-K of independent items would. Offers are made at
    the lowest discount. Learning is the item agent's:

    - a log-based item agent (``"cooccurrence"``, ``"popularity"``, ``"mf"``) is fitted by
      :meth:`fit` on the logs;
    - an online one (``"linucb"``, ``"lin_thompson"``, ``"ucb1"``, ``"thompson"``) learns by
      :meth:`learn` on the bundle environment: every item of an offered bundle is one
      impression, taken when the bundle is taken (with its line value net of discount as
      the reward), so it learns how likely an item is to be taken within a bundle.

    Args:
        item_agent: ``"cooccurrence"`` (default), ``"popularity"``, ``"mf"``, ``"linucb"``,
            ``"lin_thompson"``, ``"ucb1"``, ``"thompson"``, or an :class:`Agent` instance.
        item_kwargs: settings of the item agent built from a name (``objective``, ...).
    """

    offers_discounts = False

    def __init__(
        self,
        env: Env,
        *,
        item_agent: str | Agent = "cooccurrence",
        item_kwargs: dict[str, Any] | None = None,
        seed: int | None = None,
    ):
        classes = _item_agent_classes()
        if isinstance(item_agent, str):
            if item_agent not in classes:
                raise ValueError(
                    f"item_agent must be an Agent or one of {sorted(classes)}, got {item_agent!r}"
                )
        elif not isinstance(item_agent, Agent) or isinstance(item_agent, BundleAgent):
            raise ValueError(f"item_agent must be an item Agent or a name, got {item_agent!r}")
        if item_kwargs is not None and not isinstance(item_kwargs, dict):
            raise ValueError(f"item_kwargs must be a dict or None, got {item_kwargs!r}")
        if item_kwargs and not isinstance(item_agent, str):
            raise ValueError("item_kwargs are for an item agent given by name")
        super().__init__(env, seed=seed)
        self.item_agent, self.item_kwargs = item_agent, item_kwargs
        if isinstance(item_agent, str):
            self.item_agent_ = classes[item_agent](env, seed=seed, **(item_kwargs or {}))
        else:
            self.item_agent_ = item_agent
        if self.item_agent_.layout != self.layout:
            raise ValueError("item_agent is bound to another catalogue than this environment's")

    def item_scores(self, obs: np.ndarray, explore: bool = False) -> np.ndarray:
        """(B, M) the item agent's scores, from the observations' item blocks."""
        return self.item_agent_.scores(obs[:, : self.layout.size], explore=explore)

    def scores(self, obs: np.ndarray, explore: bool = False) -> np.ndarray:
        items = self.candidates.items(obs)
        per_item = self.item_scores(obs, explore)
        rows = np.arange(len(obs))[:, None, None]
        values = np.where(items >= 0, per_item[rows, np.maximum(items, 0)], 0.0)
        return values.sum(axis=2)

    def fit(self, transactions: Transactions | pd.DataFrame) -> ItemScoreBundleAgent:
        """Fit a log-based item agent on logged baskets; returns self."""
        if not isinstance(self.item_agent_, LogAgent):
            raise ValueError(
                f"{type(self.item_agent_).__name__} learns online (learn), not from logs (fit)"
            )
        self.item_agent_.fit(transactions)
        self.fit_report_ = self.item_agent_.fit_report_
        return self

    def update(self, batch: Batch) -> None:
        """Hand every item of the offered bundles to an online item agent as one impression."""
        agent = self.item_agent_
        if not isinstance(agent, OnlineAgent):
            return
        action = batch.actions[:, 0]
        rows = np.arange(len(action))
        items = self.candidates.items(batch.obs)[rows, action]  # (B, 3)
        discount = self.candidates.discount(batch.obs)[rows, action]
        row, slot = np.nonzero(items >= 0)
        shown = items[row, slot]
        taken = batch.accepted[row] >= 0
        size = self.layout.size
        agent.update(
            Batch(
                batch.obs[row, :size],
                shown[:, None],
                np.where(taken, shown, -1),
                np.where(taken, self.world.line_values[shown] * (1.0 - discount[row]), 0.0),
                batch.next_obs[row, :size],
                batch.dones[row],
            )
        )
        agent.num_timesteps_ += len(shown)
