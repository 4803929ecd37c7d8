"""validate() end to end on a small log, and its handling of bad held-out data."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from cartgym.data import load_transactions
from cartgym.fidelity import FidelityConfig, TargetCheck, fit_and_validate, validate
from cartgym.fidelity.report import HALVES, RESAMPLED, TRAINING


def table_of(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["user", "basket", "item"])
    loaded = load_transactions(frame, user_col="user", basket_col="basket", item_col="item")
    return loaded.table


def test_validate_writes_a_report(tiny_world, split, tmp_path):
    train, test = split
    report = validate(tiny_world, test, tmp_path, training=train, title="Synthetic")
    c = report.counts
    assert c.baskets == test.n_baskets and c.lines == len(test)
    assert c.baskets_compared + c.baskets_below_min_size + c.baskets_without_catalogue_items == (
        c.baskets
    )
    assert 0 <= report.basket_size.relative_w1 < 1
    assert -1 <= report.popularity_spearman <= 1
    assert 0 <= report.repeat_rate_real <= 1 and 0 <= report.repeat_rate_sim <= 1
    assert report.category_tv is None  # one category
    assert report.next_basket is not None
    assert set(report.next_basket.scores) >= {"GP-TopFreq", "shopper model"}
    assert [t.name for t in report.targets][:3] == [
        "basket size, relative W1",
        "item popularity, Spearman",
        "top-pair lift, Spearman",
    ]
    assert set(report.references) == {RESAMPLED, HALVES, TRAINING}
    text = (tmp_path / "report.md").read_text()
    assert text.startswith("# Synthetic") and "## Targets" in text and "N/A" in text
    for figure in ("basket_size", "spend", "popularity", "pair_lift", "next_basket"):
        assert (tmp_path / f"{figure}.png").stat().st_size > 0
        assert f"({figure}.png)" in text
    numbers = json.loads((tmp_path / "report.json").read_text())
    assert numbers["counts"]["baskets"] == c.baskets
    assert numbers["targets"][0]["met"] == report.targets[0].met


def test_validate_is_reproducible(tiny_world, split):
    config = FidelityConfig(seed=3, replicas=1, plots=False)
    a = validate(tiny_world, split[1], config=config)
    b = validate(tiny_world, split[1], config=config)
    assert a.to_dict() == b.to_dict()


def test_empty_heldout_set_raises(tiny_world, split):
    empty = split[1].table.iloc[:0]
    with pytest.raises(ValueError, match="empty"):
        validate(tiny_world, empty)


def test_unknown_users_and_items_are_counted(tiny_world, split):
    test = split[1].table
    extra = table_of(
        [
            ("stranger", "s1", "i1"),
            ("stranger", "s1", "i2"),
            ("stranger", "s1", "zzz"),
            ("stranger", "s2", "yyy"),
        ]
    )
    heldout = pd.concat([test, extra.astype(test.dtypes[extra.columns].to_dict())])
    heldout = heldout.reset_index(drop=True)
    report = validate(tiny_world, heldout, config=FidelityConfig(plots=False))
    c = report.counts
    assert c.unknown_users == 1
    assert c.baskets_of_unknown_users == 1  # s1 is compared, simulated as a new shopper
    assert c.lines_outside_catalogue == 2 and c.items_outside_catalogue == 2
    assert c.baskets_without_catalogue_items == 1  # s2
    assert report.next_basket is not None
    assert report.next_basket.skipped == {"held-out users unknown to the world": 1}


def test_nothing_comparable_raises_with_counts(tiny_world):
    heldout = table_of([("u0", "x1", "not-an-item"), ("u1", "x2", "i0")])
    with pytest.raises(ValueError, match="no held-out basket holds 2 or more") as error:
        validate(tiny_world, heldout)
    assert "lines_outside_catalogue=1" in str(error.value)


def test_user_split_has_no_next_basket_section(log, small_fit, tmp_path):
    _, report = fit_and_validate(
        log, tmp_path, split="user", fit_config=small_fit, config=FidelityConfig(replicas=1)
    )
    assert report.counts.unknown_users == report.counts.users  # every held-out user is new
    assert report.repeat_rate_real == 0 and report.repeat_rate_sim == 0
    assert report.next_basket is None
    assert "N/A: no held-out user has a history" in (tmp_path / "report.md").read_text()
    assert len(report.targets) == 3


def test_bad_arguments_raise(log):
    with pytest.raises(ValueError, match="split must be one of"):
        fit_and_validate(log, split="random")
    for bad in ({"replicas": 0}, {"top_pairs": 1}, {"ks": ()}, {"max_baskets": 0}):
        with pytest.raises(ValueError):
            FidelityConfig(**bad)


def test_target_checks():
    assert TargetCheck("x", 0.04, "<=", 0.05).met
    missed = TargetCheck("x", 0.07, "<=", 0.05)
    assert not missed.met and missed.miss == pytest.approx(0.02)
    assert TargetCheck("x", 0.95, ">=", 0.9).met
    assert not TargetCheck("x", 0.2, ">", 0.2).met
    assert not TargetCheck("x", math.nan, ">=", 0.9).met


def test_max_baskets_subsamples(tiny_world, split):
    report = validate(tiny_world, split[1], config=FidelityConfig(max_baskets=10, plots=False))
    assert report.counts.baskets_compared == 10
