"""CartRecBundle-v0: fitted candidates, whole-or-nothing acceptance, discounts, the oracle."""

import gymnasium as gym
import numpy as np
import pytest
from simtools import clone_first_shopper

import cartgym  # noqa: F401
from cartgym.envs.bundles import BundleCatalogue


def test_catalogue_bundles_are_complementary_pairs_and_triples(world):
    catalogue = BundleCatalogue.fit(world)
    dense = world.complement.toarray()
    for items, size in zip(catalogue.items[::97], catalogue.size[::97], strict=True):
        members = list(dict.fromkeys(items.tolist()))
        assert len(members) == size
        for i in members:
            for j in members:
                assert i == j or dense[i, j] > 0


def test_offers_masks_and_net_revenue():
    env = gym.make("CartRecBundle-v0")
    obs, _ = env.reset(seed=0)
    core = env.unwrapped
    assert env.action_space.n == 30 and env.observation_space.contains(obs)
    for _ in range(200):
        mask = core.action_masks()
        in_cart = core.sim.in_cart[0]
        bundles = core.sessions.bundles.items[core.sessions.current[0]]
        assert np.array_equal(mask, np.repeat(~in_cart[bundles].any(axis=1), 3))
        action = int(np.flatnonzero(mask)[0]) if mask.any() else 0
        discount = core.sessions.discounts[action % 3]
        bundle = bundles[action // 3]
        obs, reward, terminated, truncated, info = env.step(action)
        if info["accepted_count"]:
            value = core.world.line_values[np.unique(bundle)].sum()
            assert reward == pytest.approx(value * (1 - discount))
            assert info["discount_cost"] == pytest.approx(value * discount)
            assert core.sim.in_cart[0, bundle].all()
        if terminated or truncated:
            env.reset()


def test_oracle_take_probabilities_match_the_simulated_acceptance(small_world):
    n = 20_000
    envs = gym.make_vec(
        "CartRecBundle-v0",
        num_envs=n,
        vectorization_mode="vector_entry_point",
        world=small_world,
        patience_mean=1e9,
        bundle_discounts=[0.0, 0.3],
    )
    envs.reset(seed=0)
    sim = envs.unwrapped.sim
    clone_first_shopper(sim)  # every shopper in row 0's state
    sessions = envs.unwrapped.sessions
    sessions.current[:] = sessions.current[0]
    expected = sessions.take_probabilities(rows=0)[0]
    action = int(np.argmax(expected))
    _, _, _, _, info = envs.step(np.full(n, action))
    taken = (info["accepted_count"] > 0).mean()
    p = expected[action]
    assert 0.01 < p < 0.99
    assert abs(taken - p) < 4 * np.sqrt(p * (1 - p) / n)


def test_a_discount_raises_the_take_probability(small_world):
    env = gym.make("CartRecBundle-v0", world=small_world, bundle_discounts=[0.0, 0.2])
    env.reset(seed=3)
    p = env.unwrapped.sessions.take_probabilities()[0]
    assert np.all(p[1::2] >= p[0::2]) and np.any(p[1::2] > p[0::2])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"bundle_candidates": 0}, "bundle_candidates"),
        ({"bundle_discounts": [0.95]}, "bundle_discounts"),
        ({"bundle_discounts": []}, "bundle_discounts"),
        ({"slate_size": 3}, "bundle offers replace slates"),
    ],
)
def test_bad_bundle_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        gym.make("CartRecBundle-v0", **kwargs)


def test_invalid_bundle_actions():
    env = gym.make("CartRecBundle-v0")
    env.reset(seed=0)
    for action in (30, -1, 1.0, [1, 2]):
        with pytest.raises(ValueError, match="invalid action"):
            env.step(action)


def test_the_available_feature_is_the_action_mask():
    from cartgym.envs.observation import CANDIDATE_FEATURES

    env = gym.make("CartRecBundle-v0")
    obs, _ = env.reset(seed=1)
    core = env.unwrapped
    width = len(CANDIDATE_FEATURES)
    for _ in range(50):
        block = obs[core.sessions.candidate_block].reshape(-1, width)
        assert np.array_equal(
            block[:, CANDIDATE_FEATURES.index("available")] > 0.5, core.action_masks()
        )
        obs, _, terminated, truncated, _ = env.step(0)
        if terminated or truncated:
            obs, _ = env.reset()
