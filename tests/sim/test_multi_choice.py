"""Multi-item slates and bundles: taken subsets follow the sequential-pick probabilities."""

import itertools

import numpy as np
import pytest
from scipy import stats
from simtools import clone_first_shopper

from cartgym.sim import CartSimulator, SimConfig

N = 40_000


def _weights(sim, world, added):
    """Weights of every item for row 0's shopper after ``added`` joined the cart (test-side)."""
    complement = world.complement.toarray()
    static = sim.static[0].astype(np.float64).copy()
    comp = sim.comp_sum[0].astype(np.float64) + complement[list(added)].sum(axis=0)
    static[list(added)] = -np.inf
    size = sim.cart_size[0] + len(added)
    return np.exp(static + world.coefficients.complement / size * comp)


def _sequence_probabilities(sim, world, slate, boost, limit):
    """P(the picks are exactly this ordered tuple), by enumerating the sequential picks."""
    probabilities = {}

    def walk(prefix, p):
        w = _weights(sim, world, prefix)
        left = [i for i in slate if i not in prefix]
        shown = sum(w[i] for i in left)
        denominator = boost * shown + w.sum() - shown
        if not left or len(prefix) >= limit:
            probabilities[prefix] = probabilities.get(prefix, 0.0) + p
            return
        probabilities[prefix] = probabilities.get(prefix, 0.0) + p * (w.sum() - shown) / denominator
        for item in left:
            walk((*prefix, item), p * boost * w[item] / denominator)

    walk((), 1.0)
    return probabilities


def _slate(world):
    """Three popular items with complement links among them."""
    c = world.complement.tocsr()
    for a in np.argsort(-world.popularity)[:200]:
        partners = c.indices[c.indptr[a] : c.indptr[a + 1]][
            c.data[c.indptr[a] : c.indptr[a + 1]] > 0
        ]
        for b, d in itertools.combinations(partners, 2):
            if c[b, d] > 0:
                return [int(a), int(b), int(d)]
    raise AssertionError("no complementary triple")


@pytest.fixture
def state(small_world):
    slate = _slate(small_world)
    return small_world, slate


@pytest.mark.parametrize("response", ["multi", "bundle"])
def test_taken_subsets_follow_the_sequential_pick_model(state, response):
    world, slate = state
    sim = CartSimulator(world, N, SimConfig(salience=2.5, patience_mean=1e9, response=response))
    rng = np.random.default_rng(0)
    sim.reset(rng)
    sim.in_cart[0, slate] = False  # a state where the whole slate is available
    sim.static[0, slate] = np.where(np.isinf(sim.static[0, slate]), 0.0, sim.static[0, slate])
    sim._refresh()
    clone_first_shopper(sim)
    sim.patience[:] = 10**9
    sim.intended_size[:] = 10**6
    expected = _sequence_probabilities(sim, world, slate, np.exp(2.5), limit=3)
    before = sim.in_cart.copy()
    outcome = sim.step(np.tile(slate, (N, 1)), rng)
    taken = [tuple(int(i) for i in row if i >= 0) for row in outcome.taken]
    if response == "bundle":
        full = sum(p for seq, p in expected.items() if len(seq) == 3)
        expected = {"all": full, "none": 1.0 - full}
        observed = {"all": sum(len(t) == 3 for t in taken), "none": sum(len(t) == 0 for t in taken)}
        assert observed["all"] + observed["none"] == N  # all or nothing
        declined = np.array([len(t) == 0 for t in taken])
        organic = outcome.organic[declined]
        after = sim.in_cart[declined]
        after[np.arange(len(organic)), organic] = False
        assert np.array_equal(after, before[declined])  # a declined bundle leaves no trace
    else:
        observed = {}
        for t in taken:
            observed[t] = observed.get(t, 0) + 1
    keys = sorted(expected, key=str)
    counts = np.array([observed.get(k, 0) for k in keys])
    probs = np.array([expected[k] for k in keys])
    keep = probs * N >= 5
    merged_counts = np.append(counts[keep], counts[~keep].sum())
    merged_probs = np.append(probs[keep], probs[~keep].sum())
    if merged_probs[-1] == 0:
        merged_counts, merged_probs = merged_counts[:-1], merged_probs[:-1]
    assert stats.chisquare(merged_counts, merged_probs / merged_probs.sum() * N).pvalue > 1e-3


def test_multi_choice_rewards_every_item_taken(small_world):
    sim = CartSimulator(small_world, 2_000, SimConfig(response="multi", salience=3.0))
    rng = np.random.default_rng(1)
    sim.reset(rng)
    outcome = sim.step(rng.integers(0, small_world.n_items, size=(2_000, 3)), rng)
    values = np.where(outcome.taken >= 0, small_world.line_values[np.maximum(outcome.taken, 0)], 0)
    assert np.allclose(outcome.reward, values.sum(axis=1))
    assert (outcome.taken >= 0).sum(axis=1).max() >= 2  # some shoppers took several
    assert np.all(sim.in_cart.sum(axis=1) == sim.cart_size)


def test_control_run_shows_nothing_and_never_uses_patience(small_world):
    sim = CartSimulator(small_world, 500, SimConfig(show_recommendations=False, patience_mean=1.0))
    rng = np.random.default_rng(2)
    sim.reset(rng)
    for _ in range(30):
        outcome = sim.step(np.zeros((500, 1), dtype=int), rng)
        assert np.all(outcome.accepted == -1) and not outcome.abandoned.any()
    assert sim.done.all()  # every session ends at checkout


def test_bad_response_settings():
    with pytest.raises(ValueError, match="response"):
        SimConfig(response="some")
    with pytest.raises(ValueError, match="discount_sensitivity"):
        SimConfig(discount_sensitivity=-1.0)
