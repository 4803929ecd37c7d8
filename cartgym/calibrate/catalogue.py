"""Item statistics of logged baskets over a given catalogue: what an agent may learn from
the training users' logs (prices and popularity as logged, embeddings, complements)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from cartgym.calibrate.baskets import BasketLog
from cartgym.calibrate.fit import FitConfig, fit_item_parts, per_item_statistic
from cartgym.data import Transactions


@dataclass(frozen=True, eq=False)
class CatalogueFit:
    """Statistics of logged baskets over a given catalogue (``item_ids``, in its order):
    median unit prices and quantities, popularity (log basket share), item embeddings
    (implicit ALS) and the shrunk-PMI complement matrix, as :func:`fit` estimates them.

    Prices and quantities of items no logged basket holds are the catalogue's medians.
    """

    item_ids: np.ndarray
    prices: np.ndarray
    quantities: np.ndarray
    popularity: np.ndarray
    item_factors: np.ndarray
    complement: sp.csr_matrix
    baskets: int


def fit_catalogue(
    transactions: Transactions | pd.DataFrame, item_ids: np.ndarray, config: FitConfig | None = None
) -> CatalogueFit:
    """The item statistics of :func:`fit`, from ``transactions``, over the catalogue
    ``item_ids`` (for instance an environment's, fitted on its training users' logs)."""
    config = config or FitConfig()
    table = transactions.table if isinstance(transactions, Transactions) else transactions
    item_ids = np.asarray(item_ids).astype(str)
    log, user_ids = BasketLog.build(table, item_ids)
    if log.items.nnz == 0:
        raise ValueError("no logged line is an item of the catalogue: nothing to fit")
    prices, quantities = logged_prices(table, item_ids)
    parts = fit_item_parts(log, len(user_ids), config, np.random.default_rng(config.seed))
    return CatalogueFit(
        item_ids=item_ids,
        prices=prices,
        quantities=quantities,
        popularity=parts.popularity,
        item_factors=parts.item_factors.astype(np.float32),
        complement=parts.co_purchases.matrix,
        baskets=int(log.items.shape[0]),
    )


def logged_prices(table: pd.DataFrame, item_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(M,) median logged unit price and (M,) median quantity of a line, of each item of
    ``item_ids``; an item no line holds gets the catalogue's medians (1 without a price
    or quantity column)."""
    item_ids = np.asarray(item_ids).astype(str)
    lines = table[table["item_id"].astype(str).isin(item_ids)]
    by_item = lines.groupby(lines["item_id"].astype(str))
    prices = per_item_statistic(by_item, "price", "median", item_ids, default=1.0)
    quantities = per_item_statistic(by_item, "quantity", "median", item_ids, default=1.0)
    if np.isnan(prices).all():
        return np.ones(len(item_ids)), np.ones(len(item_ids))
    prices = np.where(np.isnan(prices), np.nanmedian(prices), prices)
    quantities = np.where(np.isnan(quantities), np.nanmedian(quantities), quantities)
    return prices, quantities
