"""``copy_buffers=False``: the vector env hands out its own buffers, updated in place, and
they hold exactly what the copies hold."""

import gymnasium as gym
import numpy as np
import pytest

import cartgym  # noqa: F401


def _make(env_id, copy_buffers, **kwargs):
    return gym.make_vec(
        env_id,
        num_envs=16,
        vectorization_mode="vector_entry_point",
        copy_buffers=copy_buffers,
        n_items=60,
        **kwargs,
    )


@pytest.mark.parametrize("env_id", ["CartRec-v1", "CartRecSlate-v1", "CartRec-v0"])
def test_persistent_buffers_hold_what_the_copies_hold(env_id):
    copies, buffers = _make(env_id, True), _make(env_id, False)
    a, _ = copies.reset(seed=3)
    b, _ = buffers.reset(seed=3)
    first = b
    copies.action_space.seed(3)
    for _ in range(60):
        action = copies.action_space.sample()
        a, ra, *_ = copies.step(action)
        b, rb, *_ = buffers.step(action)
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(ra, rb)
        masks = buffers.unwrapped.action_masks()
        np.testing.assert_array_equal(masks, copies.unwrapped.action_masks())
        assert np.shares_memory(masks, buffers.unwrapped.action_masks())  # one buffer
        m = copies.unwrapped.catalogue.n_items
        np.testing.assert_array_equal(masks[:, :m], ~buffers.unwrapped.sessions.in_cart())
    assert np.shares_memory(b, first)  # one observation buffer, written in place
    assert not np.shares_memory(a, copies.step(copies.action_space.sample())[0])


def test_same_step_autoreset_keeps_the_final_observation():
    env = _make("CartRec-v1", False, autoreset_mode="same_step")
    env.reset(seed=0)
    for _ in range(40):
        obs, _, terminated, truncated, info = env.step(env.action_space.sample())
        if (terminated | truncated).any():
            assert info["final_obs"] is not obs
            rows = np.flatnonzero(info["_final_obs"])
            assert not np.array_equal(info["final_obs"][rows], obs[rows])
            return
    pytest.fail("no session ended in 40 steps")
