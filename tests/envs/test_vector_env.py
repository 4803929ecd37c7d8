"""The native vector env: same dynamics as CartEnv, batched, with next-step autoreset."""

import gymnasium as gym
import numpy as np
import pytest
from scipy import stats

import cartgym  # noqa: F401
from cartgym.envs import CartVectorEnv
from cartgym.evaluation import evaluate


def make_vec(env_id="CartRec-v0", n=1, **kwargs):
    return gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point", **kwargs)


@pytest.mark.parametrize("env_id", ["CartRec-v0", "CartRecSlate-v0"])
def test_one_session_vector_env_reproduces_the_single_env_step_for_step(env_id):
    single = gym.make(env_id, n_items=200)
    vector = make_vec(env_id, 1, n_items=200)
    assert isinstance(vector.unwrapped, CartVectorEnv)
    o1, _ = single.reset(seed=7)
    o2, _ = vector.reset(seed=7)
    assert np.array_equal(o1, o2[0])
    rng = np.random.default_rng(0)
    episodes = 0
    for _ in range(1500):
        action = single.action_space.sample() if env_id != "CartRec-v0" else int(rng.integers(200))
        o1, r1, te1, tr1, i1 = single.step(action)
        o2, r2, te2, tr2, i2 = vector.step(np.asarray(action)[None])
        assert np.array_equal(o1, o2[0])
        assert (r1, te1, tr1) == (r2[0], te2[0], tr2[0])
        assert i1["accepted"] == i2["accepted"][0]
        if te1 or tr1:
            episodes += 1
            o1, _ = single.reset()
            o2, r2, te2, tr2, _ = vector.step(np.asarray(action)[None])  # the autoreset step
            assert np.array_equal(o1, o2[0]) and r2[0] == 0 and not te2[0] and not tr2[0]
    assert episodes > 20


def test_truncation_matches_the_time_limit(small_world):
    # no abandonment and huge baskets: every session runs into the step limit
    kwargs = {"world": small_world, "patience_mean": 1e9}
    single = gym.make("CartRec-v0", max_episode_steps=5, **kwargs)
    vector = make_vec("CartRec-v0", 1, max_episode_steps=5, **kwargs)
    single.reset(seed=1)
    vector.reset(seed=1)
    for _ in range(40):
        o1, r1, te1, tr1, _ = single.step(0)
        o2, r2, te2, tr2, _ = vector.step(np.array([0]))
        assert (r1, te1, tr1) == (r2[0], te2[0], tr2[0]) and np.array_equal(o1, o2[0])
        if te1 or tr1:
            single.reset()
            vector.step(np.array([0]))


def _vector_sessions(vector, n_sessions, seed):
    n = vector.num_envs
    vector.reset(seed=seed)
    revenue, sizes, checkouts = np.zeros(n), [], []
    done_revenue = []
    rng = np.random.default_rng(seed)
    while len(done_revenue) < n_sessions:
        masks = vector.unwrapped.action_masks()
        actions = np.array([rng.choice(np.flatnonzero(m)) for m in masks])
        _, reward, terminated, truncated, info = vector.step(actions)
        revenue += reward
        for i in np.flatnonzero(terminated | truncated):
            done_revenue.append(revenue[i])
            sizes.append(info["cart_size"][i])
            checkouts.append(info["checkout"][i])
            revenue[i] = 0.0
    return np.array(sizes), np.array(checkouts, float)


def test_many_sessions_match_the_single_env_statistics(small_world):
    vector = make_vec("CartRec-v0", 64, world=small_world)
    sizes_v, checkout_v = _vector_sessions(vector, 2000, seed=3)
    single = gym.make("CartRec-v0", world=small_world)

    def policy(obs):
        core = single.unwrapped
        return np.array([core.np_random.choice(np.flatnonzero(core.action_masks()))])

    sessions = evaluate(policy, single, 2000, seed=4).sessions
    assert stats.ks_2samp(sizes_v, sessions["basket_size"]).pvalue > 1e-3
    table = [
        [checkout_v.sum(), len(checkout_v) - checkout_v.sum()],
        [sessions["checkout"].sum(), len(sessions) - sessions["checkout"].sum()],
    ]
    assert stats.chi2_contingency(table).pvalue > 1e-3


def test_batched_masks_spaces_and_errors():
    vector = make_vec("CartRecSlate-v0", 4, n_items=40)
    obs, info = vector.reset(seed=0)
    assert obs.shape == (4, 86) and vector.observation_space.contains(obs)
    masks = vector.unwrapped.action_masks()
    assert masks.shape == (4, 120)
    assert np.array_equal(masks[:, :40], ~vector.unwrapped.sim.in_cart)
    _, reward, _, _, info = vector.step(vector.action_space.sample())
    assert reward.shape == (4,) and info["_accepted"].all()
    for bad in (
        np.zeros((4, 2), int),
        np.zeros((3, 3), int),
        np.full((4, 3), 40),
        np.zeros((4, 3)),
    ):
        with pytest.raises(ValueError, match="invalid action"):
            vector.step(bad)
    with pytest.raises(ValueError, match="num_envs"):
        CartVectorEnv(num_envs=0)
