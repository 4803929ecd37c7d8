"""Organic rollouts run the simulator's own dynamics, untouched by the declined item."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cartgym.fidelity import population_rollout, replay_rollout
from cartgym.sim import ChoiceModel, probabilities


def test_replay_reaches_each_intended_size(tiny_world):
    world = tiny_world
    users = np.array([0, 1, -1, 2, -1, 0])
    sizes = np.array([2, 5, 3, 7, 2, 4])
    out = replay_rollout(world, users, sizes, np.random.default_rng(0), batch_size=4)
    assert out.sizes.tolist() == sizes.tolist()  # no session abandoned, none too long
    assert out.users.tolist() == users.tolist()  # rows come back in input order
    values = out.baskets @ world.line_values
    assert out.values == pytest.approx(values)
    again = replay_rollout(world, users, sizes, np.random.default_rng(0), batch_size=4)
    assert (again.baskets != out.baskets).nnz == 0  # same seed, same baskets


def test_replay_rejects_bad_sessions(tiny_world):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="sizes"):
        replay_rollout(tiny_world, np.array([0]), np.array([tiny_world.n_items + 1]), rng)
    with pytest.raises(ValueError, match="user indices"):
        replay_rollout(tiny_world, np.array([tiny_world.n_users]), np.array([2]), rng)
    with pytest.raises(ValueError, match="one length"):
        replay_rollout(tiny_world, np.array([0, 1]), np.array([2]), rng)
    assert replay_rollout(tiny_world, np.zeros(0), np.zeros(0), rng).baskets.shape[0] == 0


def test_organic_pairs_follow_the_choice_model(small_world):
    """Sessions of two items: (first, second) ~ P(first) P(second | first), chi-squared."""
    world = small_world.top_items(8)
    n = 6000
    users = np.zeros(n, dtype=np.int64)
    out = replay_rollout(world, users, np.full(n, 2), np.random.default_rng(1))
    model = ChoiceModel(world)
    history = world.history[[0]].toarray().astype(np.float32)
    static = model.static_utilities(world.user_factors[[0]], history)[0]
    m = world.n_items
    complement = world.complement.toarray().astype(np.float32)
    first = probabilities(static[None], np.ones((1, m), bool))[0]
    expected = np.zeros((m, m))
    for i in range(m):
        after = model.utilities(static[None], complement[[i]], np.array([1]))
        available = np.ones((1, m), bool)
        available[0, i] = False
        expected[i] = first[i] * probabilities(after, available)[0]
    # which item came first is not recorded, so compare unordered pairs
    pairs = expected + expected.T
    upper = np.triu_indices(m, 1)
    observed = np.zeros((m, m))
    for row in out.baskets.tolil().rows:
        observed[row[0], row[1]] += 1
    p = pairs[upper]
    keep = p * n >= 5
    counts, probs = observed[upper][keep], p[keep]
    if (~keep).any():  # pool the rare pairs into one cell
        counts, probs = (
            np.append(counts, observed[upper][~keep].sum()),
            np.append(probs, p[~keep].sum()),
        )
    result = stats.chisquare(counts, probs / probs.sum() * counts.sum())
    assert result.pvalue > 1e-3


def test_population_rollout_draws_sizes_from_the_world(tiny_world):
    out = population_rollout(tiny_world, 300, np.random.default_rng(0), batch_size=128)
    assert out.baskets.shape == (300, tiny_world.n_items)
    assert set(out.sizes.tolist()) <= set(tiny_world.session_sizes.tolist())
    assert set(out.users.tolist()) <= set(tiny_world.session_users.tolist())
    with pytest.raises(ValueError):
        population_rollout(tiny_world, 0, np.random.default_rng(0))
