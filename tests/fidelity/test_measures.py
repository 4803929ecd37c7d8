"""Each fidelity measure on hand-made baskets with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from cartgym.fidelity import measures
from cartgym.fidelity.measures import Gap


def baskets(*rows: list[int], n_items: int = 4) -> sp.csr_matrix:
    dense = np.zeros((len(rows), n_items))
    for r, items in enumerate(rows):
        dense[r, items] = 1
    return sp.csr_matrix(dense)


def test_relative_wasserstein_known_values():
    assert measures.relative_wasserstein([1, 2, 3], [1, 2, 3]) == 0.0
    # every unit of mass moves by 1; the real mean is 2
    assert measures.relative_wasserstein([1, 2, 3], [2, 3, 4]) == pytest.approx(0.5)
    assert measures.relative_wasserstein([2, 2], [4]) == pytest.approx(1.0)


def test_ks_statistic_known_values():
    assert measures.ks_statistic([1, 2, 3], [3, 2, 1]) == 0.0
    assert measures.ks_statistic([1, 2], [5, 6]) == 1.0
    assert measures.ks_statistic([1, 2, 3, 4], [3, 4, 5, 6]) == pytest.approx(0.5)


def test_gap_between():
    gap = Gap.between(np.array([1.0, 3.0]), np.array([2.0, 4.0]))
    assert (gap.real_mean, gap.sim_mean) == (2.0, 3.0)
    assert gap.relative_w1 == pytest.approx(0.5)
    assert gap.ks == pytest.approx(0.5)


@pytest.mark.parametrize("bad", [[], np.zeros(0)])
def test_empty_samples_raise(bad):
    with pytest.raises(ValueError, match="empty"):
        measures.relative_wasserstein(bad, [1.0])
    with pytest.raises(ValueError, match="empty"):
        measures.ks_statistic([1.0], bad)


def test_relative_wasserstein_needs_positive_real_mean():
    with pytest.raises(ValueError, match="positive mean"):
        measures.relative_wasserstein([0.0, 0.0], [1.0])


def test_popularity_spearman():
    real = baskets([0, 1, 2], [0, 1], [0])  # counts 3, 2, 1, 0
    assert measures.item_counts(real).tolist() == [3, 2, 1, 0]
    assert measures.popularity_spearman(real, real) == pytest.approx(1.0)
    reverse = baskets([3, 2, 1], [3, 2], [3])  # counts 0, 1, 2, 3
    assert measures.popularity_spearman(real, reverse) == pytest.approx(-1.0)
    assert np.isnan(measures.popularity_spearman(real, baskets([], [])))  # constant side


def test_top_pairs_and_lift():
    real = baskets([0, 1], [0, 1], [0, 1, 2], [2, 3], [0])
    pairs = measures.top_pairs(real, 2)
    assert pairs.tolist() == [[0, 1], [0, 2]]  # (0,1) 3 times; then ties by pair index
    lifts = measures.pair_lifts(real, pairs)
    # n01 = 3, n0 = 4, n1 = 3, B = 5: lift = 3 * 5 / 12; n02 = 1, n2 = 2: lift = 5 / 8
    assert lifts == pytest.approx([15 / 12, 5 / 8])
    # a pair whose items are never bought has lift 0, not NaN
    assert measures.pair_lifts(baskets([0], [1]), np.array([[2, 3]])).tolist() == [0.0]
    with pytest.raises(ValueError):
        measures.top_pairs(real, 0)


def test_pair_lift_spearman_ranks_the_real_pairs():
    real = baskets([0, 1], [0, 1], [0, 1, 2], [2, 3], [1, 3], [0, 2], [2, 3], [0])
    rho, pairs = measures.pair_lift_spearman(real, real, n_pairs=10)
    assert rho == pytest.approx(1.0)
    assert len(pairs) == 5  # every pair bought together at least once
    rho, _ = measures.pair_lift_spearman(baskets([0, 1]), real, n_pairs=10)
    assert np.isnan(rho)  # fewer than three pairs: no correlation


def test_repeat_rate():
    bought = baskets([0, 1], [2, 3])
    before = baskets([0], [])  # user of basket 0 bought item 0 before; the other, nothing
    assert measures.repeat_rate(bought, before) == pytest.approx(1 / 4)
    assert np.isnan(measures.repeat_rate(baskets([]), baskets([])))
    with pytest.raises(ValueError, match="shapes"):
        measures.repeat_rate(bought, baskets([0]))


def test_category_shares_and_total_variation():
    categories = np.array([0, 0, 1, 1])
    real = baskets([0, 1, 2], [0])  # 3 items of category 0, 1 of category 1
    sim = baskets([2, 3], [1, 3])  # 1 and 3
    assert measures.category_shares(real, categories, 2) == pytest.approx([0.75, 0.25])
    assert measures.category_shares(sim, categories, 2) == pytest.approx([0.25, 0.75])
    assert measures.total_variation([0.75, 0.25], [0.25, 0.75]) == pytest.approx(0.5)
    assert measures.total_variation([1, 0], [1, 0]) == 0.0
    assert measures.total_variation([2, 0], [0, 5]) == pytest.approx(1.0)  # normalised first
    with pytest.raises(ValueError):
        measures.total_variation([1, 0], [1, 0, 0])
