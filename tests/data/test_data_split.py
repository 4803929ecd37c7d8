"""temporal_split and user_split keep baskets whole and report what they split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cartgym.data import (
    DataError,
    load_transactions,
    temporal_split,
    user_groups,
    user_split,
    users_in,
)


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(1)
    n_baskets = 200
    starts = pd.Timestamp("2021-01-01") + pd.to_timedelta(
        np.sort(rng.integers(0, 90 * 24 * 60, n_baskets)), unit="min"
    )
    rows = []
    for b in range(n_baskets):
        user = f"u{rng.integers(0, 30)}"
        for k, item in enumerate(rng.choice(50, size=rng.integers(1, 6), replace=False)):
            # lines of one basket a few minutes apart, so a cutoff could fall inside it
            rows.append((user, f"b{b}", f"i{item}", starts[b] + pd.Timedelta(minutes=3 * k)))
    frame = pd.DataFrame(rows, columns=["u", "b", "i", "t"])
    return load_transactions(frame, user_col="u", basket_col="b", item_col="i", timestamp_col="t")


def _baskets(side):
    return set(side.table["basket_id"])


@pytest.mark.parametrize(
    "holdout", ["1M", "1ME", "2 months", "14D", pd.Timestamp("2021-02-10"), pd.Timedelta(days=9)]
)
def test_temporal_split_is_disjoint_and_ordered(small, holdout):
    train, test = temporal_split(small, holdout)
    assert not _baskets(train) & _baskets(test)
    assert _baskets(train) | _baskets(test) == _baskets(small)
    assert len(train) + len(test) == len(small)
    first = {side: side.table.groupby("basket_id")["timestamp"].min() for side in (train, test)}
    assert first[train].max() < first[test].min()
    for side in (train, test):
        assert side.report.rows_in == small.report.rows_in
        assert side.report.rows_out == len(side.table)
        assert isinstance(side.table.index, pd.RangeIndex)


def test_temporal_split_one_month_cutoff(small):
    train, test = temporal_split(small, "1M")
    last = small.table.groupby("basket_id")["timestamp"].min().max()
    cutoff = last - pd.DateOffset(months=1)
    assert test.table.groupby("basket_id")["timestamp"].min().min() >= cutoff
    assert f"from {cutoff:%Y-%m-%d %H:%M:%S} on" in test.report.source
    assert train.report.drops[f"split off: from {cutoff:%Y-%m-%d %H:%M:%S} on"] == len(test)


def test_temporal_split_errors(small):
    with pytest.raises(DataError, match="not a period"):
        temporal_split(small, "soon")
    with pytest.raises(DataError, match="test side empty"):
        temporal_split(small, pd.Timestamp("2030-01-01"))
    no_time = load_transactions(
        small.table.drop(columns="timestamp"),
        user_col="user_id",
        basket_col="basket_id",
        item_col="item_id",
    )
    with pytest.raises(DataError, match="needs a timestamp column"):
        temporal_split(no_time)


def test_user_split(small):
    train, test = user_split(small)
    train_users, test_users = set(train.table["user_id"]), set(test.table["user_id"])
    assert not train_users & test_users
    assert not _baskets(train) & _baskets(test)
    assert len(train) + len(test) == len(small)
    users = small.table["user_id"].to_numpy()
    groups = dict(zip(users, user_groups(users), strict=True))
    assert all(groups[u] == "test" for u in test_users)
    assert all(groups[u] != "test" for u in train_users)
    assert "test users" in test.report.source
    assert test.report.drops["split off: users not in test"] == len(train)
    _, held = user_split(small, held_out=("validation", "test"))
    assert {groups[u] for u in held.table["user_id"]} == {"validation", "test"}
    with pytest.raises(ValueError, match="held_out must be among"):
        user_split(small, held_out=("holdout",))


def test_user_groups_are_a_fixed_hash_of_the_id():
    ids = np.array([f"u{i}" for i in range(5000)])
    groups = user_groups(ids)
    # the same ids get the same groups every time, whatever else is in the array
    assert (user_groups(ids[::-1])[::-1] == groups).all()
    share = {g: float(np.mean(groups == g)) for g in ("train", "validation", "test")}
    assert abs(share["train"] - 0.6) < 0.03 and abs(share["test"] - 0.2) < 0.03
    assert user_groups(np.array([12345]))[0] == user_groups(np.array(["12345"]))[0]


def test_users_in_keeps_whole_users(small):
    train = users_in(small, "train")
    groups = user_groups(train.table["user_id"].to_numpy())
    assert (groups == "train").all()
    assert train.report.rows_in == small.report.rows_in
    with pytest.raises(ValueError, match="groups must be among"):
        users_in(small, "everyone")
