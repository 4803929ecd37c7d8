"""Fit a ShopperWorld from a canonical transactions table."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from cartgym.calibrate.baskets import BasketLog
from cartgym.calibrate.choice_fit import (
    FEATURES,
    ChoiceFeatures,
    ChoiceSequence,
    PurchaseIndex,
    basket_members,
    cart_prefix_sums,
    fit_conditional_logit,
    sample_choice_sets,
)
from cartgym.calibrate.complementarity import CoPurchases
from cartgym.calibrate.factorization import implicit_als, leave_basket_out_tastes
from cartgym.calibrate.stop_fit import StopFitConfig, fit_world_stop
from cartgym.data import Transactions, validate
from cartgym.world import ChoiceCoefficients, ShopperWorld

# Restricted choice models fitted beside the full one, for held-out comparisons.
MODEL_VARIANTS: dict[str, tuple[str, ...]] = {
    "full": FEATURES,
    "no_complement": tuple(f for f in FEATURES if f != "complement"),
    "popularity_only": ("popularity",),
}


@dataclass(frozen=True)
class FitConfig:
    """Settings of :func:`fit`, each a named assumption with a default (docs/parameters.md).

    n_items: catalogue size, the most-bought items (None: every item).
    factors, als_regularization, als_alpha, als_iterations: implicit ALS (Hu et al. 2008).
    complement_shrinkage: pseudo-baskets at lift one in the shrunk PMI.
    complement_top_k: partners kept per item.
    negatives: sampled non-chosen alternatives per logged choice.
    max_choice_events: logged choices used by the maximum-likelihood fit (uniform subsample).
    min_session_size: logged baskets with fewer catalogue items do not seed sessions.
    seed: the one seed of every random draw in the fit.
    """

    n_items: int | None = 1000
    factors: int = 16
    als_regularization: float = 5.0
    als_alpha: float = 10.0
    als_iterations: int = 15
    complement_shrinkage: float = 10.0
    complement_top_k: int = 20
    negatives: int = 20
    max_choice_events: int = 200_000
    min_session_size: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        positive = {
            "factors": self.factors,
            "als_regularization": self.als_regularization,
            "als_alpha": self.als_alpha,
            "als_iterations": self.als_iterations,
            "complement_shrinkage": self.complement_shrinkage,
            "complement_top_k": self.complement_top_k,
            "negatives": self.negatives,
            "max_choice_events": self.max_choice_events,
        }
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"FitConfig.{name} must be > 0, got {value!r}")
        if self.n_items is not None and self.n_items < 2:
            raise ValueError(f"FitConfig.n_items must be >= 2 or None, got {self.n_items!r}")
        if self.min_session_size < 1:
            raise ValueError(
                f"FitConfig.min_session_size must be >= 1, got {self.min_session_size}"
            )

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> FitConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown FitConfig keys {unknown}; known keys: {sorted(known)}")
        return cls(**values)


def fit(
    transactions: Transactions | pd.DataFrame,
    config: FitConfig | None = None,
    *,
    stop: StopFitConfig | None = None,
    source: str | None = None,
    item_names: pd.Series | None = None,
) -> ShopperWorld:
    """Fit every parameter of a shopper world from logged baskets.

    Estimators: catalogue statistics by counting; tastes and item embeddings by implicit ALS;
    complements and substitutes by shrunk PMI; choice coefficients by maximum likelihood on
    the within-basket choices (see :mod:`cartgym.calibrate.choice_fit`). With ``stop`` (a
    :class:`~cartgym.calibrate.stop_fit.StopFitConfig`), also the stop model of CartRec-v1's
    shoppers (:mod:`cartgym.calibrate.stop_fit`), making a schema-2 world; without it, a
    schema-1 world for CartRec-v0. ``item_names`` maps item ids to display names (default:
    the ids). :func:`fit_v1` fits CartRec-v1's world with the default settings.
    """
    config = config or FitConfig()
    report: dict[str, Any] = {}
    if isinstance(transactions, Transactions):
        table = transactions.table
        report["cleaning"] = transactions.report.to_dict()
        source = source or transactions.report.source
    else:
        table = transactions
        validate(table)
    if table.empty:
        raise ValueError("cannot fit a world on an empty transactions table")
    rng = np.random.default_rng(config.seed)

    # Catalogue: the most-bought items (by baskets), ties broken by id.
    basket_counts = table.groupby("item_id")["basket_id"].nunique()
    ranked = basket_counts.reset_index().sort_values(
        ["basket_id", "item_id"], ascending=[False, True], kind="stable"
    )
    n_items = len(ranked) if config.n_items is None else min(config.n_items, len(ranked))
    if n_items < 2:
        raise ValueError(f"the logs hold {len(ranked)} distinct item(s); a world needs 2 or more")
    item_ids = ranked["item_id"].to_numpy(str)[:n_items]
    log, user_ids = BasketLog.build(table, item_ids)
    lines = table[table["item_id"].isin(item_ids)]
    report["catalogue"] = {
        "items_in_logs": len(ranked),
        "items_kept": n_items,
        "lines_kept": len(lines),
        "lines_outside_catalogue": len(table) - len(lines),
        "baskets": log.items.shape[0],
        "users": len(user_ids),
    }

    # Items: prices, quantities, popularity, categories.
    by_item = lines.groupby("item_id")
    prices = per_item_statistic(by_item, "price", "median", item_ids, default=1.0)
    quantities = per_item_statistic(by_item, "quantity", "median", item_ids, default=1.0)
    if "category" in lines:
        top = by_item["category"].agg(
            lambda c: c.value_counts().index[0] if c.notna().any() else "(no category)"
        )
        category_names, categories = np.unique(
            top.reindex(item_ids).to_numpy(str), return_inverse=True
        )
    else:
        category_names, categories = np.array(["all"]), np.zeros(n_items, dtype=np.int64)

    parts = fit_item_parts(log, len(user_ids), config, rng)

    # Choice coefficients: conditional logit on the logged choices, each scored with its
    # user's taste re-fitted without that basket.
    tastes = leave_basket_out_tastes(
        parts.counts,
        log.items,
        log.users,
        parts.item_factors,
        regularization=config.als_regularization,
        alpha=config.als_alpha,
    )
    inputs = ChoiceFeatures(
        tastes, parts.item_factors, parts.popularity, np.log(prices), _purchase_index(log, n_items)
    )
    features = _choice_features(log, inputs, parts.co_purchases, config, rng)
    variants = {}
    for name, used in MODEL_VARIANTS.items():
        columns = [FEATURES.index(f) for f in used]
        result = fit_conditional_logit(features[:, :, columns])
        coefficients = dict.fromkeys(FEATURES, 0.0)
        errors = dict.fromkeys(FEATURES, float("nan"))
        for column, feature in enumerate(used):
            coefficients[feature] = float(result.coefficients[column])
            errors[feature] = float(result.standard_errors[column])
        variants[name] = {
            "coefficients": coefficients,
            "standard_errors": errors,
            "log_likelihood_per_choice": result.log_likelihood / result.n_events,
            "events": result.n_events,
            "alternatives": features.shape[1],
            "iterations": result.iterations,
        }
    report["choice_models"] = variants

    # Sessions: logged baskets with enough catalogue items, each a (user, intended size).
    sizes = np.diff(log.items.indptr)
    seeds = sizes >= config.min_session_size
    report["sessions"] = {
        "kept": int(seeds.sum()),
        f"dropped_below_{config.min_session_size}_items": int((~seeds).sum()),
    }
    report["config"] = asdict(config)
    world = ShopperWorld(
        item_ids=item_ids.astype(str),
        item_names=_names(item_ids, item_names),
        prices=prices,
        quantities=quantities,
        popularity=parts.popularity,
        categories=categories.astype(np.int32),
        category_names=category_names.astype(str),
        item_factors=parts.item_factors.astype(np.float32),
        user_ids=user_ids.astype(str),
        user_factors=parts.user_factors.astype(np.float32),
        history=sp.csr_matrix(
            (np.log1p(parts.counts.data), parts.counts.indices, parts.counts.indptr),
            shape=parts.counts.shape,
            dtype=np.float32,
        ),
        complement=parts.co_purchases.matrix,
        session_users=log.users[seeds].astype(np.int32),
        session_sizes=sizes[seeds].astype(np.int32),
        taste_mean=parts.user_factors.mean(axis=0),
        taste_cov=np.cov(parts.user_factors, rowvar=False, bias=True).reshape(config.factors, -1),
        spend_quantiles=np.quantile(log.values[seeds], np.linspace(0, 1, 101)),
        coefficients=ChoiceCoefficients(**variants["full"]["coefficients"]),
        meta={"source": source or "<DataFrame>", "report": report},
    )
    if stop is None:
        return world
    model, values, report["stop_model"] = fit_world_stop(
        world, log, tastes, inputs.purchases, parts.co_purchases, stop, rng
    )
    report["stop_config"] = asdict(stop)
    return replace(world, stop=model, user_basket_values=values)


def fit_v1(
    transactions: Transactions | pd.DataFrame,
    config: FitConfig | None = None,
    *,
    stop: StopFitConfig | None = None,
    source: str | None = None,
    item_names: pd.Series | None = None,
) -> ShopperWorld:
    """CartRec-v1's world: :func:`fit` with the stop model. By default every logged basket
    seeds sessions (``min_session_size=1``: a shopper may check out after one add)."""
    return fit(
        transactions,
        config or FitConfig(min_session_size=1),
        stop=stop or StopFitConfig(),
        source=source,
        item_names=item_names,
    )


def _names(item_ids: np.ndarray, names: pd.Series | None) -> np.ndarray:
    if names is None:
        return item_ids.astype(str)
    found = pd.Series(names).reindex(item_ids)
    return found.fillna(pd.Series(item_ids, index=item_ids)).to_numpy(str)


def per_item_statistic(
    grouped, column: str, how: str, item_ids: np.ndarray, default: float
) -> np.ndarray:
    if column not in grouped.obj:
        return np.full(len(item_ids), default)
    return grouped[column].agg(how).reindex(item_ids).to_numpy(float)


@dataclass(frozen=True)
class ItemParts:
    user_factors: np.ndarray
    item_factors: np.ndarray
    counts: sp.csr_matrix  # baskets holding the item, users x items
    co_purchases: CoPurchases
    popularity: np.ndarray


def fit_item_parts(
    log: BasketLog, n_users: int, config: FitConfig, rng: np.random.Generator
) -> ItemParts:
    """Embeddings (implicit ALS), history, complements (shrunk PMI) and popularity."""
    n_baskets, n_items = log.items.shape
    user_of_basket = sp.csr_matrix(
        (np.ones(n_baskets), (log.users, np.arange(n_baskets))), shape=(n_users, n_baskets)
    )
    counts = (user_of_basket @ log.items).tocsr()
    user_factors, item_factors = implicit_als(
        counts,
        factors=config.factors,
        regularization=config.als_regularization,
        alpha=config.als_alpha,
        iterations=config.als_iterations,
        rng=rng,
    )
    holders = np.asarray(log.items.sum(axis=0)).ravel()
    return ItemParts(
        user_factors=user_factors,
        item_factors=item_factors,
        counts=counts,
        co_purchases=CoPurchases(
            log.items, shrinkage=config.complement_shrinkage, top_k=config.complement_top_k
        ),
        popularity=np.log((holders + 1.0) / (n_baskets + n_items)),
    )


def _purchase_index(log: BasketLog, n_items: int) -> PurchaseIndex:
    rows = np.repeat(np.arange(log.items.shape[0]), np.diff(log.items.indptr))
    return PurchaseIndex(log.users[rows], log.items.indices, log.ranks[rows], n_items)


def _choice_features(
    log: BasketLog,
    inputs: ChoiceFeatures,
    co_purchases: CoPurchases,
    config: FitConfig,
    rng: np.random.Generator,
) -> np.ndarray:
    """(E, 1 + negatives, F) features of a uniform subsample of the logged choices.

    ``inputs.user_factors`` holds one taste per basket, and the complement of each cart is
    computed without its own basket (both leave-basket-out, so no basket scores itself).
    """
    sequence = ChoiceSequence.from_baskets(log.items, rng)
    n_events = len(sequence.items)
    events = np.arange(n_events)
    if n_events > config.max_choice_events:
        events = np.sort(rng.choice(n_events, config.max_choice_events, replace=False))
    n_items = log.items.shape[1]
    choice_sets = sample_choice_sets(sequence, events, n_items, config.negatives, rng)
    comp = np.empty(choice_sets.shape)

    def rows_of(span: slice) -> np.ndarray:
        members = basket_members(sequence, span, n_items)
        return co_purchases.rows_without_basket(sequence.items[span], members)

    for span, sums in cart_prefix_sums(sequence, rows_of):
        lo, hi = np.searchsorted(events, [span.start, span.stop])
        local = events[lo:hi] - span.start
        mean = sums[local] / np.maximum(sequence.position[events[lo:hi]], 1)[:, None]
        comp[lo:hi] = np.take_along_axis(mean, choice_sets[lo:hi], axis=1)
    basket = sequence.basket[events]
    return inputs.build(basket, log.users[basket], log.ranks[basket], choice_sets, comp)
