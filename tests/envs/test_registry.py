"""Every registered id: checkers, seeding, pickling, spec, errors (STYLE.md, point 10)."""

import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import ResetNeeded
from gymnasium.utils.env_checker import check_env as gym_check_env

import cartgym  # noqa: F401
from cartgym.envs import ENV_IDS

IDS = sorted(ENV_IDS)


def _rollout(env, seed, steps=150):
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    trace = [obs]
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        trace += [obs, reward, terminated, info["accepted"]]
        if terminated or truncated:
            obs, _ = env.reset()
            trace.append(obs)
    return trace


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("env_id", IDS)
def test_gymnasium_check_env(env_id):
    env = gym.make(env_id, n_items=60)
    gym_check_env(env.unwrapped, skip_render_check=True)


@pytest.mark.parametrize("env_id", IDS)
def test_sb3_check_env(env_id):
    sb3_checker = pytest.importorskip("stable_baselines3.common.env_checker")
    env = gym.make(env_id, n_items=60)
    sb3_checker.check_env(env.unwrapped, warn=True)


@pytest.mark.parametrize("env_id", IDS)
def test_same_seed_same_trajectory(env_id):
    a = _rollout(gym.make(env_id), seed=11)
    b = _rollout(gym.make(env_id), seed=11)
    c = _rollout(gym.make(env_id), seed=12)
    assert _same(a, b)
    assert not _same(a, c)


@pytest.mark.parametrize("env_id", IDS)
def test_pickle_round_trip_continues_identically(env_id):
    env = gym.make(env_id, n_items=80)
    env.action_space.seed(0)  # (an unseeded first action could end the session)
    env.reset(seed=5)
    _, _, terminated, truncated, _ = env.step(env.action_space.sample())
    if terminated or truncated:
        env.reset(seed=6)
    clone = pickle.loads(pickle.dumps(env))
    for _ in range(30):
        action = env.action_space.sample()
        out_a, out_b = env.step(action), clone.step(action)
        assert np.array_equal(out_a[0], out_b[0]) and out_a[1:4] == out_b[1:4]
        if out_a[2] or out_a[3]:
            env.reset(seed=1)
            clone.reset(seed=1)


@pytest.mark.parametrize("env_id", IDS)
def test_spec_to_json_round_trip(env_id):
    env = gym.make(env_id, n_items=50, reward="click")
    text = env.spec.to_json()
    spec = gym.envs.registration.EnvSpec.from_json(text)
    assert spec.kwargs["n_items"] == 50 and spec.max_episode_steps == 100
    remade = gym.make(spec)
    assert remade.unwrapped.world.n_items == 50
    assert remade.unwrapped.sim.config.reward == "click"


@pytest.mark.parametrize("env_id", IDS)
def test_invalid_actions_raise_clear_errors(env_id):
    env = gym.make(env_id, n_items=30)
    with pytest.raises(ResetNeeded):
        env.unwrapped.step(env.action_space.sample())
    env.reset(seed=0)
    k = env.unwrapped.slate_size
    space = env.action_space
    top = int(space.n) if hasattr(space, "n") else int(space.nvec[0])  # v1: 30 shows nothing
    bad = [top, -1, 2.5, "3", [1] * (k + 1), True]
    if k == 1:
        bad.append(np.array([1]))
    for action in bad:
        with pytest.raises(ValueError, match="invalid action"):
            env.step(action)


def test_step_after_termination_raises(small_world):
    env = gym.make("CartRec-v0", world=small_world, patience_mean=1.0)
    env.reset(seed=0)
    in_cart = int(np.flatnonzero(~env.unwrapped.action_masks())[0])
    _, _, terminated, _, info = env.step(in_cart)  # ignored, patience 1: abandons
    assert terminated and info["abandoned"]
    with pytest.raises(ResetNeeded, match="episode is over"):
        env.unwrapped.step(0)


def test_masks_track_the_cart_and_episodes_end_within_the_limit(small_world):
    env = gym.make("CartRecSlate-v0", world=small_world)
    env.reset(seed=3)
    for _ in range(400):
        mask = env.unwrapped.action_masks()
        cart = env.unwrapped.sim.in_cart[0]
        assert np.array_equal(mask, np.tile(~cart, 3))
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        assert np.isfinite(reward) and env.observation_space.contains(obs)
        assert env.unwrapped.sim.steps[0] <= 100
        if terminated or truncated:
            env.reset()


@pytest.mark.filterwarnings("ignore:.*render_mode")
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"reward": "profit"}, "reward"),
        ({"slate_size": 0}, "slate_size"),
        ({"population": "holdout"}, "population"),
        ({"patience_mean": 0.5}, "patience_mean"),
        ({"new_shopper_rate": 2.0}, "new_shopper_rate"),
        ({"world": 3}, "world"),
        ({"world": "nowhere.npz"}, "no such world file"),
        ({"render_mode": "human"}, "render_mode"),
        ({"n_items": 1}, "n_items"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        gym.make("CartRec-v0", **kwargs)


def test_rewards_and_info_parts_agree(world):
    for reward in ("revenue", "click", "basket_value"):
        env = gym.make("CartRec-v0", reward=reward)
        env.reset(seed=2)
        total = 0.0
        while True:
            best = int(env.unwrapped.oracle_view().expected_revenue()[0].argmax())
            _, r, terminated, truncated, info = env.step(best)
            total += r
            if reward == "revenue":
                assert r == info["rec_revenue"]
            elif reward == "click":
                assert r == float(info["accepted"] >= 0)
            if terminated or truncated:
                break
        if reward == "basket_value":
            assert total == (info["cart_value"] if info["checkout"] else 0.0)


def test_render_ansi():
    env = gym.make("CartRec-v0", render_mode="ansi")
    env.reset(seed=0)
    env.step(0)
    assert "cart (" in env.render()


def test_populations_are_disjoint_and_the_data_split():
    from cartgym.data import user_groups

    users = {}
    world = gym.make("CartRec-v1").unwrapped.world
    for name in ("train", "validation", "test"):
        population = gym.make("CartRec-v1", population=name).unwrapped.sim.population
        users[name] = set(world.session_users[population.sessions])
        # the simulator's population is the data layer's group, user by user
        assert set(user_groups(world.user_ids[list(users[name])])) == {name}
    assert not users["train"] & users["validation"]
    assert not users["train"] & users["test"] and not users["validation"] & users["test"]
    total = sum(len(u) for u in users.values())
    assert 0.15 < len(users["test"]) / total < 0.25
    assert 0.15 < len(users["validation"]) / total < 0.25
    evaluation = gym.make("CartRec-v1", population="eval").unwrapped.sim.population
    assert set(world.session_users[evaluation.sessions]) == users["test"]  # v0's name
