"""Train/test splits that keep every basket whole.

Each side is a Transactions whose report starts from the full table's report and
counts the rows that went to the other side as a drop named after the split, so
the row accounting still adds up.
"""

from __future__ import annotations

import re
from typing import TypeAlias

import numpy as np
import pandas as pd

from cartgym.data.report import CleaningReport, Transactions
from cartgym.data.schema import DATAFRAME_SOURCE, DataError

Holdout: TypeAlias = str | pd.Timestamp | pd.offsets.BaseOffset | pd.Timedelta
_MONTHS = re.compile(r"^\s*(\d*)\s*(M|ME|MS|months?)\s*$")


def temporal_split(
    transactions: Transactions,
    holdout: Holdout = "1M",
) -> tuple[Transactions, Transactions]:
    """Hold out the most recent baskets: test is every basket starting at or after a cutoff.

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
    return _split(transactions, test, f"before {when}", f"from {when} on")


def user_split(
    transactions: Transactions, test_fraction: float = 0.2, seed: int = 0
) -> tuple[Transactions, Transactions]:
    """Put a random ``test_fraction`` of users (all their baskets) in the test side.

    Users are sorted then shuffled with ``numpy.random.default_rng(seed)``, so the
    split depends only on the set of users and the seed; the test side gets
    ``round(test_fraction * n_users)`` users, at least one and leaving at least one.
    """
    if not 0.0 < float(test_fraction) < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    users = np.sort(transactions.table["user_id"].unique().astype(str))
    if len(users) < 2:
        raise _error(transactions, f"user_split needs at least 2 users, got {len(users)}")
    n_test = min(max(round(test_fraction * len(users)), 1), len(users) - 1)
    rng = np.random.default_rng(seed)
    chosen = rng.permutation(users)[:n_test]
    test = transactions.table["user_id"].isin(chosen).to_numpy()
    label = f"{test_fraction:g} of users, seed {seed}"
    return _split(transactions, test, f"users not in test ({label})", f"test users ({label})")


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
