"""Splits that keep every basket whole, and the one split of users into train, validation
and test.

:func:`user_groups` is the split everything uses: the data layer (:func:`users_in`,
:func:`user_split`), the simulator's populations and the benchmark harness. A user's group
is fixed by a hash of their id (crc32 modulo 5: 0 test, 1 validation, else train), so it
is the same on every machine, for every catalogue and every seed: agents learn from
train users' logs and train shoppers, every choice (hyperparameters, representation,
checkpoint) is made on validation shoppers, and published figures come from test
shoppers only.

Each side of a split is a Transactions whose report starts from the full table's report
and counts the rows that went to the other side as a drop named after the split, so the
row accounting still adds up.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import pandas as pd

from cartgym.data.report import CleaningReport, Transactions
from cartgym.data.schema import DATAFRAME_SOURCE, DataError

Holdout: TypeAlias = str | pd.Timestamp | pd.offsets.BaseOffset | pd.Timedelta
_MONTHS = re.compile(r"^\s*(\d*)\s*(M|ME|MS|months?)\s*$")
GROUPS = ("train", "validation", "test")
_BUCKETS = {0: "test", 1: "validation"}  # crc32(id) % 5; the other three buckets: train


def user_groups(user_ids: np.ndarray) -> np.ndarray:
    """(N,) the group of each user id: ``"train"`` (3 in 5), ``"validation"`` or ``"test"``
    (1 in 5 each), by crc32 of the id modulo 5 (0 test, 1 validation)."""
    buckets = [zlib.crc32(str(u).encode()) % 5 for u in user_ids]
    return np.array([_BUCKETS.get(b, "train") for b in buckets], dtype=object)


def users_in(transactions: Transactions, *groups: str) -> Transactions:
    """The baskets of the users in ``groups`` (:func:`user_groups`); the rest are counted as
    a drop, as for the other splits."""
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown or not groups:
        raise ValueError(f"groups must be among {GROUPS}, got {list(groups)}")
    keep = np.isin(user_groups(transactions.table["user_id"].to_numpy()), groups)
    label = "+".join(groups)
    return _split(transactions, ~keep, f"{label} users", f"users not in {label}")[0]


@dataclass(frozen=True)
class TemporalSplit:
    """The two sides of :func:`temporal_split` and its cutoff; unpacks as (train, test)."""

    train: Transactions
    test: Transactions
    cutoff: pd.Timestamp

    def __iter__(self) -> Iterator[Transactions]:
        return iter((self.train, self.test))

    def __getitem__(self, side: int) -> Transactions:
        return (self.train, self.test)[side]


def temporal_split(transactions: Transactions, holdout: Holdout = "1M") -> TemporalSplit:
    """Hold out the most recent baskets: test is every basket starting at or after a cutoff
    (returned as ``.cutoff``; the result unpacks as ``train, test``).

    ``holdout`` is the cutoff itself (a Timestamp), or a span back from the last
    basket's start: a pandas offset or Timedelta, or a string; ``"1M"`` (also
    ``"1ME"``, ``"1 month"``) means one calendar month, other strings such as
    ``"14D"`` or ``"2W"`` are read by ``pd.tseries.frequencies.to_offset``. A
    basket's time is its first line's timestamp, so no basket is cut in two.
    """
    table = transactions.table
    if "timestamp" not in table.columns:
        raise _error(transactions, "temporal_split needs a timestamp column", "timestamp")
    start = table.groupby("basket_id", sort=False)["timestamp"].transform("min")
    cutoff = _cutoff(transactions, start.max(), holdout)
    test = (start >= cutoff).to_numpy()
    when = f"{cutoff:%Y-%m-%d %H:%M:%S}"
    train, held = _split(transactions, test, f"before {when}", f"from {when} on")
    return TemporalSplit(train, held, pd.Timestamp(cutoff))


def user_split(
    transactions: Transactions, held_out: tuple[str, ...] = ("test",)
) -> tuple[Transactions, Transactions]:
    """(the other users' baskets, the baskets of the users in the ``held_out`` groups),
    by :func:`user_groups`: the same users the simulator's populations hold out."""
    unknown = sorted(set(held_out) - set(GROUPS))
    if unknown or not held_out:
        raise ValueError(f"held_out must be among {GROUPS}, got {list(held_out)}")
    users = transactions.table["user_id"].to_numpy()
    if len(np.unique(users)) < 2:
        raise _error(
            transactions, f"user_split needs at least 2 users, got {len(np.unique(users))}"
        )
    test = np.isin(user_groups(users), held_out)
    label = "+".join(held_out)
    return _split(transactions, test, f"users not in {label}", f"{label} users")


def _cutoff(
    transactions: Transactions,
    last: pd.Timestamp,
    holdout: Holdout,
) -> pd.Timestamp:
    if isinstance(holdout, pd.Timestamp):
        return holdout
    if isinstance(holdout, str):
        match = _MONTHS.match(holdout)
        if match:
            return last - pd.DateOffset(months=int(match.group(1) or 1))
        try:
            return last - pd.tseries.frequencies.to_offset(holdout)
        except ValueError:
            raise _error(
                transactions,
                f"holdout {holdout!r} is not a period such as '1M', '14D', or a Timestamp",
            ) from None
    if isinstance(holdout, pd.offsets.BaseOffset | pd.Timedelta):
        return last - holdout
    raise TypeError(f"holdout must be a str, Timestamp, DateOffset or Timedelta, not {holdout!r}")


def _split(
    transactions: Transactions, test: np.ndarray, train_label: str, test_label: str
) -> tuple[Transactions, Transactions]:
    if test.all() or not test.any():
        side = "training" if test.all() else "test"
        raise _error(transactions, f"the split leaves the {side} side empty")
    return _side(transactions, ~test, "train", train_label, test_label), _side(
        transactions, test, "test", test_label, train_label
    )


def _side(
    transactions: Transactions, keep: np.ndarray, side: str, label: str, other: str
) -> Transactions:
    report = transactions.report
    table = transactions.table.iloc[np.flatnonzero(keep)].reset_index(drop=True)
    drops = dict(report.drops)
    key = f"split off: {other}"
    drops[key] = drops.get(key, 0) + int((~keep).sum())
    new = CleaningReport(
        source=f"{report.source} [{side}: {label}]",
        rows_in=report.rows_in,
        rows_out=len(table),
        drops=drops,
        merged=report.merged,
    )
    return Transactions(table=table, report=new)


def _error(transactions: Transactions, detail: str, column: str | None = None) -> DataError:
    source = transactions.report.source or DATAFRAME_SOURCE
    return DataError(detail, source=source, column=column)
