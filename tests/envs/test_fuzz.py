"""Fuzzing the environments: random and adversarial actions on every registered id."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import ResetNeeded
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cartgym  # noqa: F401
from cartgym.envs import ENV_IDS

IDS = sorted(ENV_IDS)
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))

_envs: dict = {}


def _env(env_id, vector=False):
    key = (env_id, vector)
    if key not in _envs:
        if vector:
            _envs[key] = gym.make_vec(
                env_id, num_envs=4, vectorization_mode="vector_entry_point", n_items=30
            )
        else:
            _envs[key] = gym.make(env_id, n_items=30)
    return _envs[key]


def _masks(core):
    return core.action_masks()


def _check_step(env, obs, reward, core):
    space = (
        env.single_observation_space
        if hasattr(env, "single_observation_space")
        else (env.observation_space)
    )
    batch = np.atleast_2d(obs)
    assert np.isfinite(batch).all() and np.isfinite(reward).all()
    assert all(space.contains(row) for row in batch)
    assert core.sim.steps.max() <= 100


@pytest.mark.parametrize("env_id", IDS)
@FUZZ
@given(
    seed=st.integers(0, 2**31 - 1),
    picks=st.lists(st.integers(0, 10**6), min_size=1, max_size=60),
    masked=st.floats(0, 1),
)
def test_single_env_valid_actions(env_id, seed, picks, masked):
    env = _env(env_id)
    core = env.unwrapped
    obs, _ = env.reset(seed=seed)
    n_actions = (
        int(np.prod(env.action_space.nvec))
        if hasattr(env.action_space, "nvec")
        else (env.action_space.n)
    )
    for pick in picks:
        mask = _masks(core)
        # adversarial: sometimes deliberately a masked (in-cart) item, always a legal action
        if hasattr(env.action_space, "nvec"):
            k, m = len(env.action_space.nvec), env.action_space.nvec[0]
            action = np.array([(pick * (j + 7)) % m for j in range(k)])
        else:
            candidates = np.flatnonzero(~mask if pick % 100 < masked * 100 else mask)
            candidates = candidates if len(candidates) else np.arange(n_actions)
            action = int(candidates[pick % len(candidates)])
        obs, reward, terminated, truncated, info = env.step(action)
        _check_step(env, obs, reward, core)
        cart = core.sim.in_cart[0]
        assert np.array_equal(obs[: core.layout.n_items] > 0.5, cart)
        assert info["cart_size"] == cart.sum()
        if terminated:
            with pytest.raises(ResetNeeded):
                core.step(action)
        if terminated or truncated:
            obs, _ = env.reset()


@pytest.mark.parametrize("env_id", IDS)
@FUZZ
@given(seed=st.integers(0, 2**31 - 1), steps=st.integers(1, 40))
def test_vector_env_valid_actions(env_id, seed, steps):
    env = _env(env_id, vector=True)
    core = env.unwrapped
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(
            env.action_space.sample()
            if rng.random() < 0.5
            else np.zeros(env.action_space.shape, int)
        )
        _check_step(env, obs, reward, core)
        assert np.array_equal(obs[:, : core.layout.n_items] > 0.5, core.sim.in_cart)
        assert np.array_equal(info["cart_size"], core.sim.in_cart.sum(axis=1))
        assert terminated.dtype == bool and truncated.dtype == bool
        assert not (terminated & truncated & (core.sim.steps < 100)).any()


BAD_ACTIONS = [
    -1,
    10**9,
    2.5,
    "1",
    None,
    True,
    [],
    [[1]],
    np.array([1.0]),
    np.array([[1, 2], [3, 4]]),
    {"a": 1},
    float("nan"),
]


@pytest.mark.parametrize("env_id", IDS)
@pytest.mark.parametrize("action", BAD_ACTIONS, ids=[repr(a)[:20] for a in BAD_ACTIONS])
def test_invalid_actions_raise_value_error(env_id, action):
    env = _env(env_id)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="invalid action"):
        env.step(action)
    vector = _env(env_id, vector=True)
    vector.reset(seed=0)
    with pytest.raises(ValueError, match="invalid action"):
        vector.step(action)


@pytest.mark.parametrize("env_id", IDS)
def test_step_before_reset_raises(env_id):
    single = gym.make(env_id, n_items=30).unwrapped
    with pytest.raises(ResetNeeded):
        single.step(0)
    vector = gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point", n_items=30)
    with pytest.raises(ResetNeeded):
        vector.step(vector.action_space.sample())
