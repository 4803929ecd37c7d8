"""Logged baskets seen through a catalogue, the form every fit and check reads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp


@dataclass(frozen=True)
class BasketLog:
    """The logs seen through a catalogue: one row per basket, time-ordered."""

    items: sp.csr_matrix  # baskets x catalogue items, 1 where bought
    users: np.ndarray  # (B,) index into ``user_ids``; -1 for a user outside it
    ranks: np.ndarray  # (B,) 0 for a user's first basket, 1 for the next, ...
    values: np.ndarray  # (B,) basket value over catalogue items (price x quantity)

    @classmethod
    def build(
        cls, table: pd.DataFrame, item_ids: np.ndarray, user_ids: np.ndarray | None = None
    ) -> tuple[BasketLog, np.ndarray]:
        """Baskets of ``table`` over the catalogue ``item_ids``; users indexed by ``user_ids``
        (default: every user present, sorted). Returns the log and its user ids."""
        item_index = pd.Index(item_ids)
        lines = table[table["item_id"].isin(item_index)]
        columns = {"user_id": ("user_id", "first")}
        if "timestamp" in lines:
            columns["timestamp"] = ("timestamp", "min")
        baskets = lines.groupby("basket_id", sort=False).agg(**columns).reset_index()
        order = ["timestamp", "basket_id"] if "timestamp" in lines else ["basket_id"]
        baskets = baskets.sort_values(order, kind="stable").reset_index(drop=True)
        if user_ids is None:
            user_ids = np.sort(baskets["user_id"].unique().astype(str))
        users = pd.Index(user_ids).get_indexer(baskets["user_id"])
        ranks = baskets.groupby("user_id", sort=False).cumcount().to_numpy()
        row = pd.Index(baskets["basket_id"]).get_indexer(lines["basket_id"])
        col = item_index.get_indexer(lines["item_id"])
        items = sp.csr_matrix(
            (np.ones(len(lines)), (row, col)), shape=(len(baskets), len(item_ids))
        )
        items.sum_duplicates()
        items.data[:] = 1.0
        line_value = _line_values(lines)
        values = np.bincount(row, weights=line_value, minlength=len(baskets))
        return cls(items.tocsr(), users.astype(np.int64), ranks, values), user_ids


def _line_values(lines: pd.DataFrame) -> np.ndarray:
    price = lines["price"].to_numpy(float) if "price" in lines else np.ones(len(lines))
    quantity = lines["quantity"].to_numpy(float) if "quantity" in lines else np.ones(len(lines))
    return price * quantity
