"""Fixtures: a small synthetic purchase log and a world fitted on its first months."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cartgym.calibrate import FitConfig, ShopperWorld, fit
from cartgym.data import Transactions, load_transactions, temporal_split

SMALL_FIT = FitConfig(
    n_items=None, factors=4, als_iterations=3, negatives=5, max_choice_events=3000
)


def synthetic_log(n_users: int = 40, n_items: int = 30, seed: int = 0) -> Transactions:
    """Users with two taste groups buy 6 baskets each over three months; items 'i0'..."""
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2020-01-01")
    for user in range(n_users):
        group = user % 2
        weights = np.where(np.arange(n_items) % 2 == group, 3.0, 1.0) / (1 + np.arange(n_items))
        for basket in range(6):
            size = int(rng.integers(2, 8))
            items = rng.choice(n_items, size=size, replace=False, p=weights / weights.sum())
            when = start + pd.Timedelta(days=int(rng.integers(0, 90)))
            for item in items:
                rows.append(
                    (
                        f"u{user}",
                        f"u{user}b{basket}",
                        f"i{item}",
                        when,
                        1 + item % 3,
                        1.0 + item / 10,
                    )
                )
    frame = pd.DataFrame(rows, columns=["user", "basket", "item", "when", "qty", "price"])
    return load_transactions(
        frame,
        user_col="user",
        basket_col="basket",
        item_col="item",
        timestamp_col="when",
        quantity_col="qty",
        price_col="price",
        name="synthetic",
    )


@pytest.fixture(scope="session")
def small_fit() -> FitConfig:
    return SMALL_FIT


@pytest.fixture(scope="session")
def log() -> Transactions:
    return synthetic_log()


@pytest.fixture(scope="session")
def split(log: Transactions) -> tuple[Transactions, Transactions]:
    return temporal_split(log, "1M")


@pytest.fixture(scope="session")
def tiny_world(split: tuple[Transactions, Transactions]) -> ShopperWorld:
    return fit(split[0], SMALL_FIT)
