"""Statistical checks: sampled choices follow the choice model's probabilities."""

import numpy as np
import pytest
from scipy import stats
from simtools import clone_first_shopper

from cartgym.sim import CartSimulator, SimConfig, probabilities, sample_categorical

ALPHA = 1e-3  # each chi-squared test fails by chance once in a thousand runs


def _chi2_pvalue(counts: np.ndarray, expected_p: np.ndarray) -> float:
    keep = expected_p > 0
    assert counts[~keep].sum() == 0, "drew an item of probability zero"
    expected = expected_p[keep] * counts.sum()
    return stats.chisquare(counts[keep], expected).pvalue


def test_probabilities_are_a_masked_softmax():
    utilities = np.array([[0.0, 1.0, 2.0, 50.0], [3.0, 3.0, 3.0, 3.0]])
    available = np.array([[True, True, True, False], [False, False, False, False]])
    p = probabilities(utilities, available)
    assert np.allclose(p[0, :3], np.exp([0.0, 1.0, 2.0]) / np.exp([0.0, 1.0, 2.0]).sum())
    assert p[0, 3] == 0 and np.all(p[1] == 0)


def test_sample_categorical_follows_the_weights():
    rng = np.random.default_rng(0)
    weights = np.array([0.0, 1.0, 3.0, 0.0, 6.0, 0.5])
    draws = sample_categorical(np.tile(weights, (60_000, 1)), rng.random(60_000))
    counts = np.bincount(draws, minlength=len(weights))
    assert _chi2_pvalue(counts, weights / weights.sum()) > ALPHA
    assert sample_categorical(np.zeros((2, 3)), rng.random(2)).tolist() == [-1, -1]


@pytest.mark.parametrize("slate", [[5], [5, 9, 5]])
def test_one_step_is_one_draw_from_the_boosted_logit(small_world, slate):
    n = 60_000
    sim = CartSimulator(small_world, n, SimConfig(salience=1.5, patience_mean=1e9))
    rng = np.random.default_rng(1)
    sim.reset(rng)
    clone_first_shopper(sim)
    sim.patience[:] = 10**9
    recs = np.tile(np.array(slate), (n, 1))
    weights = sim.weights[0].astype(np.float64)
    boosted = weights.copy()
    boosted[np.unique(slate)] *= np.exp(1.5)
    view = sim.oracle_view()
    outcome = sim.step(recs, rng)
    added = np.where(outcome.accepted >= 0, outcome.accepted, outcome.organic)
    counts = np.bincount(added, minlength=small_world.n_items)
    assert _chi2_pvalue(counts, boosted / boosted.sum()) > ALPHA
    # the oracle's acceptance probability is the boosted share of the recommended items
    shown = np.unique(slate)
    p_accept = view.slate_accept_probabilities(shown[None, :])[0].sum()
    assert p_accept == pytest.approx(boosted[shown].sum() / boosted.sum())
    accepted = (outcome.accepted >= 0).mean()
    assert abs(accepted - p_accept) < 4 * np.sqrt(p_accept * (1 - p_accept) / n)


def test_recommending_an_item_in_the_cart_is_always_ignored(small_world):
    sim = CartSimulator(small_world, 2_000, SimConfig(patience_mean=1e9))
    rng = np.random.default_rng(2)
    sim.reset(rng)
    in_cart = sim.in_cart.argmax(axis=1)
    outcome = sim.step(in_cart[:, None], rng)
    assert np.all(outcome.accepted == -1)
    assert np.all(outcome.organic != in_cart)


def test_patience_is_geometric_with_the_configured_mean(small_world):
    sim = CartSimulator(small_world, 40_000, SimConfig(patience_mean=4.0))
    sim.reset(np.random.default_rng(3))
    assert sim.patience.min() >= 1
    assert sim.patience.mean() == pytest.approx(4.0, rel=0.03)


def test_sessions_end_at_checkout_or_abandonment(small_world):
    sim = CartSimulator(small_world, 500, SimConfig(patience_mean=3.0))
    rng = np.random.default_rng(4)
    sim.reset(rng)
    ended_checkout = np.zeros(500, bool)
    ended_abandoned = np.zeros(500, bool)
    for _ in range(200):
        was_done = sim.done.copy()
        outcome = sim.step(rng.integers(0, small_world.n_items, size=(500, 1)), rng)
        assert not (outcome.checkout & outcome.abandoned).any()
        assert not (was_done & (outcome.checkout | outcome.abandoned)).any()
        ended_checkout |= outcome.checkout
        ended_abandoned |= outcome.abandoned
    assert sim.done.all()
    assert np.all(sim.cart_size[ended_checkout] == sim.intended_size[ended_checkout])
    assert np.all(sim.cart_size[ended_abandoned] < sim.intended_size[ended_abandoned])
    assert np.all(sim.in_cart.sum(axis=1) == sim.cart_size)
    assert np.allclose(sim.cart_value, (sim.in_cart * small_world.line_values).sum(axis=1))


def test_population_history_rows_match_the_sparse_matrix(world):
    from cartgym.sim.population import Population

    users = np.array([0, -1, 5, world.n_users - 1, 17, 5])
    rows = Population(world)._history_rows(users)
    expected = world.history[np.maximum(users, 0)].toarray()
    expected[users < 0] = 0.0
    assert np.array_equal(rows, expected)
