"""Agents that learn from purchase logs: ``fit(transactions)``, then score from the observation.

:meth:`LogAgent.fit` maps the logged items to the environment's catalogue
(``catalogue.item_ids``; lines of other items are ignored and counted in ``fit_report_``),
builds the basket x item matrix and hands it to the agent's :meth:`LogAgent.fit_baskets`.
Fit on the training part of the logs only (``cartgym.data.temporal_split`` or
``user_split``): the environment's shoppers come from the same logs.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from cartgym.calibrate.catalogue import logged_prices
from cartgym.data import Transactions, validate

from .protocol import Agent, Env

OBJECTIVES = ("click", "revenue")


class NotFittedError(ValueError, AttributeError):
    """``predict`` or ``scores`` called before ``fit``."""


@dataclass(frozen=True)
class LoggedBaskets:
    """Logged baskets restricted to a catalogue of M items.

    ``baskets`` (n_baskets, M) holds 1 where a basket bought the item; ``users`` (n_baskets,)
    indexes ``user_ids``; ``report`` counts what was kept and what was ignored.
    """

    baskets: sp.csr_matrix
    users: np.ndarray
    user_ids: np.ndarray
    report: dict[str, int]

    @property
    def user_counts(self) -> sp.csr_matrix:
        """(n_users, M) number of logged baskets of each user holding each item."""
        n = len(self.user_ids)
        owner = sp.csr_matrix(
            (np.ones(len(self.users)), (self.users, np.arange(len(self.users)))),
            shape=(n, len(self.users)),
        )
        return (owner @ self.baskets).tocsr()


def map_to_catalogue(
    transactions: Transactions | pd.DataFrame, item_ids: np.ndarray
) -> LoggedBaskets:
    """Baskets of ``transactions`` over the catalogue ``item_ids`` (items outside are counted)."""
    table = transactions.table if isinstance(transactions, Transactions) else transactions
    if not isinstance(transactions, Transactions):
        validate(table)
    codes = pd.Index(item_ids).get_indexer(table["item_id"].astype(str))
    inside = codes >= 0
    basket_codes, basket_keys = pd.factorize(table["basket_id"].to_numpy()[inside])
    n_baskets = len(basket_keys)
    matrix = sp.csr_matrix(
        (np.ones(int(inside.sum())), (basket_codes, codes[inside])),
        shape=(n_baskets, len(item_ids)),
    )
    matrix.data[:] = 1.0  # repeated lines of an item in one basket count once
    user_of_line = table["user_id"].to_numpy()[inside]
    first_line = np.unique(basket_codes, return_index=True)[1]
    users, user_ids = pd.factorize(user_of_line[first_line])
    report = {
        "lines": len(table),
        "lines_in_catalogue": int(inside.sum()),
        "lines_ignored": int((~inside).sum()),
        "items_ignored": int(table["item_id"][~inside].nunique()),
        "baskets": n_baskets,
        "baskets_ignored": int(table["basket_id"].nunique()) - n_baskets,
        "users": len(user_ids),
    }
    return LoggedBaskets(matrix, users.astype(np.int64), np.asarray(user_ids, dtype=str), report)


class LogAgent(Agent):
    """Base of the collaborative-filtering agents: ``fit(transactions)`` and a relevance score.

    ``scores`` is :meth:`relevance` for ``objective="click"`` (recommend what the shopper is
    most likely to take) and max(relevance, 0) x line value for ``"revenue"``, the line
    value being the median logged price x quantity in the fitted logs (``line_values_``).
    """

    def __init__(self, env: Env, *, objective: str = "click", seed: int | None = None):
        super().__init__(env, seed=seed)
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
        self.objective = objective

    def fit(self, transactions: Transactions | pd.DataFrame) -> LogAgent:
        """Learn from logged baskets (a Transactions or a canonical DataFrame); returns self."""
        logs = map_to_catalogue(transactions, self.catalogue.item_ids)
        if logs.baskets.nnz == 0:
            raise ValueError(
                f"no logged line is an item of the catalogue ({logs.report['lines']} lines, "
                f"{logs.report['items_ignored']} unknown items)"
            )
        self.fit_baskets(logs)
        table = transactions.table if isinstance(transactions, Transactions) else transactions
        prices, quantities = logged_prices(table, self.catalogue.item_ids)
        self.line_values_ = prices * quantities
        self.fit_report_ = logs.report
        return self

    @abstractmethod
    def fit_baskets(self, logs: LoggedBaskets) -> None:
        """Learn from baskets already mapped to the catalogue."""

    @abstractmethod
    def relevance(self, obs: np.ndarray) -> np.ndarray:
        """(B, M) how likely each item is to be taken next, up to a monotone transform."""

    def scores(self, obs: np.ndarray, explore: bool = False) -> np.ndarray:
        if not hasattr(self, "fit_report_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(transactions)")
        relevance = self.relevance(obs)
        if self.objective == "click":
            return relevance
        return np.maximum(relevance, 0.0) * self.line_values_

    def history_counts(self, obs: np.ndarray) -> np.ndarray:
        """(B, M) logged baskets of the shopper holding each item, read back from the obs.

        The observation's history block is log1p(count) / ``catalogue.history_max``.
        """
        scale = self.catalogue.history_max
        return np.rint(np.expm1(obs[:, self.layout.history].astype(np.float64) * scale))
