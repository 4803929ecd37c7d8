"""The O(K + partners) refresh gives the trajectories of the O(M) one, and its running sums
stay within a measured bound of sums recomputed from scratch."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import cartgym  # noqa: F401

IDS = ("CartRec-v1", "CartRecMultiSlate-v1", "CartRecBundle-v1", "CartRec-v0", "CartRecSlate-v0")


def _rollout(env_id: str, refresh: str, steps: int = 120, lanes: int = 32, **kwargs):
    env = gym.make_vec(
        env_id, num_envs=lanes, vectorization_mode="vector_entry_point", refresh=refresh, **kwargs
    )
    obs, _ = env.reset(seed=7)
    env.action_space.seed(7)
    parts, drift = [obs], 0.0
    sim = env.unwrapped.sim
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        parts += [obs, reward, terminated, truncated, info["taken"], info["cart_value"]]
        weights = np.asarray(sim.weights, dtype=np.float64)
        width = sim.block_width
        fresh = np.add.reduceat(weights, np.arange(0, weights.shape[1], width), axis=1)
        scale = np.maximum(fresh.sum(1), 1e-300)
        drift = max(drift, float(np.max(np.abs(fresh - np.asarray(sim.blocks)).sum(1) / scale)))
        drift = max(drift, float(np.max(np.abs(fresh.sum(1) - np.asarray(sim.total)) / scale)))
    return parts, drift, env


@pytest.mark.parametrize("env_id", IDS)
def test_incremental_refresh_reproduces_the_full_one(env_id):
    full, full_drift, _ = _rollout(env_id, "full", n_items=200)
    fast, drift, env = _rollout(env_id, "incremental", n_items=200)
    assert len(full) == len(fast)
    for a, b in zip(full, fast, strict=True):
        np.testing.assert_array_equal(a, b)
    assert full_drift == 0.0
    assert drift <= 1e-12  # the running sums' rounding, relative to the row's total
    sim = env.unwrapped.sim
    assert int(sim.n_partners.max()) < sim.world.n_items  # fewer items than the catalogue
    assert int(sim.refreshes.max()) < 32  # a whole-row refresh at least every 32 steps


def test_partners_are_the_touched_items():
    _, _, env = _rollout("CartRec-v1", "incremental", steps=10, lanes=8, n_items=200)
    sim = env.unwrapped.sim
    for row in range(sim.weights.shape[0]):
        listed = set(sim.partners[row, : sim.n_partners[row]].tolist())
        assert listed == set(np.flatnonzero(sim.touched[row]).tolist())
        assert len(listed) == int(sim.n_partners[row])  # no item listed twice
        assert set(np.flatnonzero(sim.in_cart[row])) <= listed
        assert set(np.flatnonzero(sim.comp_sum[row])) <= listed  # every nonzero term


def test_torch_incremental_matches_numpy():
    pytest.importorskip("torch")
    numpy_parts, _, _ = _rollout("CartRec-v1", "incremental", steps=40, lanes=8, n_items=100)
    torch_parts, _, _ = _rollout(
        "CartRec-v1", "incremental", steps=40, lanes=8, n_items=100, backend="torch", device="cpu"
    )
    for a, b in zip(numpy_parts, torch_parts, strict=True):
        np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float))


def test_bad_refresh_names_the_argument():
    with pytest.raises(ValueError, match="refresh"):
        gym.make("CartRec-v1", refresh="sometimes")


def test_a_slate_never_yields_an_item_in_the_cart():
    """respond() picks a slate position with the sampler's zero-weight guard. A draw whose
    threshold lands in the rounding gap between the offered total (summed, then boosted)
    and the boosted weights' cumulative sum would otherwise point past the last positive
    slot, at an item already in the cart; such draws are built here on purpose."""
    env = gym.make_vec(
        "CartRec-v1", num_envs=1, vectorization_mode="vector_entry_point", n_items=80
    )
    env.reset(seed=2)
    sim = env.unwrapped.sim
    rows = sim.rows[:1]
    in_cart = np.flatnonzero(np.asarray(sim.in_cart[0]))
    out = np.flatnonzero(~np.asarray(sim.in_cart[0]))
    rng = np.random.default_rng(0)
    found = 0
    for _ in range(20_000):
        slate = np.array([[*rng.choice(out, 3, replace=False), in_cart[0]]])
        base = np.asarray(sim.weights[0, slate[0]], dtype=np.float64)
        boost = float(np.exp(rng.uniform(0.01, 3.0)))
        offered = base.sum() * boost
        last = np.cumsum(base * boost)[-1]
        if not offered > last:
            continue  # no rounding gap for this slate and boost
        denominator = offered + float(sim.total[0]) - base.sum()
        u = np.nextafter(last / denominator, 1.0)
        if not last <= u * denominator < offered:
            continue
        accept, item, _ = sim.respond(slate, np.array([u]), np.array([boost]), rows)
        assert accept[0] and item[0] != in_cart[0], "an item already in the cart was taken"
        found += 1
        if found == 5:
            return
    pytest.fail(f"built only {found} boundary draws")
