"""Basket sequences for next-basket evaluation: the common json format and transactions.

The common preprocessed NBR format (Li et al. 2023; TIFU-KNN) is json, one key per user:

* history file: ``{"user": [[-1], basket, ..., basket, [-1]]}`` (``[-1]`` marks start and end);
* future file: ``{"user": [[-1], basket, [-1]]}``, the held-out next basket;
* merged file: ``{"user": [basket, ..., basket]}``, the last basket being the target;
* keyset file: ``{"item_num": M, "train": [users], "val": [users], "test": [users]}``.

Files may be gzip-compressed (``.gz``). A sequence is ``{user: [basket, ...]}`` in time
order, each basket a list of item ids as text.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from cartgym.data import DataError, Transactions, load_transactions

Sequences = dict[str, list[list[str]]]
MARKER = [-1]


def read_sequences(
    history: str | os.PathLike[str], future: str | os.PathLike[str] | None = None
) -> Sequences:
    """Baskets per user from a history (or merged) json file, the future basket appended last."""
    sequences = {
        user: _strip(user, baskets, history) for user, baskets in _read_json(history).items()
    }
    if future is not None:
        for user, baskets in _read_json(future).items():
            tail = _strip(user, baskets, future)
            if len(tail) != 1:
                raise DataError(
                    f"user {user!r} has {len(tail)} future baskets, expected 1", source=str(future)
                )
            sequences.setdefault(user, []).extend(tail)
    return sequences


def read_keyset(path: str | os.PathLike[str]) -> dict[str, list[str]]:
    """The user lists of a keyset file: ``{"train": [...], "val": [...], "test": [...]}``."""
    data = _read_json(path)
    split = {name: [str(u) for u in data.get(name, [])] for name in ("train", "val", "test")}
    if not any(split.values()):
        raise DataError("no 'train', 'val' or 'test' user list", source=str(path))
    return split


def sequences_from_transactions(transactions: Transactions | pd.DataFrame) -> Sequences:
    """Each user's baskets, ordered by first timestamp (if any), then basket id."""
    table = transactions.table if isinstance(transactions, Transactions) else transactions
    grouped = table.groupby("basket_id", sort=True)
    baskets = grouped["user_id"].first().to_frame()
    baskets["items"] = grouped["item_id"].agg(list)
    if "timestamp" in table.columns:
        baskets["timestamp"] = grouped["timestamp"].min()
        baskets = baskets.sort_values("timestamp", kind="stable")
    sequences: Sequences = {}
    for user, items in zip(baskets["user_id"], baskets["items"], strict=True):
        sequences.setdefault(str(user), []).append([str(i) for i in items])
    return sequences


def sequences_to_transactions(
    sequences: Mapping[str, Sequence[Sequence[object]]], name: str
) -> Transactions:
    """A canonical table of the baskets (no timestamps; basket ids keep each user's order)."""
    width = len(str(max((len(b) for b in sequences.values()), default=1)))
    rows = [
        (str(user), f"{user}#{k:0{width}d}", str(item))
        for user, baskets in sequences.items()
        for k, basket in enumerate(baskets)
        for item in basket
    ]
    frame = pd.DataFrame(rows, columns=["user", "basket", "item"])
    return load_transactions(
        frame, user_col="user", basket_col="basket", item_col="item", name=name
    )


def _read_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(f"not a readable json file ({error})", source=str(path)) from error
    if not isinstance(data, dict):
        raise DataError(f"expected a json object, got {type(data).__name__}", source=str(path))
    return data


def _strip(user: str, baskets: Any, path: str | os.PathLike[str]) -> list[list[str]]:
    if not isinstance(baskets, list) or not all(isinstance(b, list) for b in baskets):
        raise DataError(f"user {user!r}: expected a list of baskets (lists)", source=str(path))
    return [[str(i) for i in b] for b in baskets if b != MARKER]
