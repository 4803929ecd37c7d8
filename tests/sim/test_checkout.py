"""CartRec-v1's shoppers: checkout, leaving, the twin, rewards, and their bad inputs."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import cartgym  # noqa: F401
from cartgym.evaluation import evaluate
from cartgym.sim.config import SimConfig
from cartgym.world import bundled_world_path


def _vector(n=32, env_id="CartRec-v1", **kwargs):
    return gym.make_vec(
        env_id, num_envs=n, vectorization_mode="vector_entry_point", n_items=200, **kwargs
    )


def _nothing(env):
    m = env.unwrapped.world.n_items
    return lambda obs: np.full(len(obs), m)


def _best(env):
    """The item of largest current choice weight (a relevant recommendation)."""
    sim = env.unwrapped.sim
    return lambda obs: np.asarray(sim.weights[: sim.n_lanes]).argmax(1)


@pytest.mark.parametrize("env_id", ["CartRec-v1", "CartRecSlate-v1", "CartRecBundle-v1"])
def test_showing_nothing_makes_the_shopper_and_the_twin_identical(env_id):
    env = _vector(env_id=env_id, exit_hazard=0.1)  # with exits, which both meet alike
    offers = env.unwrapped.single_action_space
    nothing = np.full(env.num_envs, offers.n - 1) if hasattr(offers, "n") else None
    if nothing is None:
        policy = lambda obs: np.full((len(obs), len(offers.nvec)), offers.nvec[0] - 1)  # noqa
    else:
        policy = lambda obs: nothing  # noqa: E731
    s = evaluate(policy, env, 400, seed=1).sessions
    assert np.array_equal(s["basket_value"], s["twin_basket_value"])
    assert np.array_equal(s["checkout"], s["twin_checkout"])
    assert np.array_equal(s["basket_size"], s["twin_basket_size"])
    assert (s["checkout"] == 0).any()  # the hazard did end some sessions


def test_a_relevant_recommendation_grows_the_basket_and_a_random_one_does_not():
    env = _vector()
    best = evaluate(_best(env), env, 600, seed=2)
    env = _vector()
    rng = np.random.default_rng(0)
    random = evaluate(lambda obs: rng.integers(0, 200, len(obs)), env, 600, seed=2)
    assert best.against_twin()["incremental_items"] > 0.05
    assert abs(random.against_twin()["incremental_items"]) < 0.02
    assert best.summary()["ctr"] > 10 * random.summary()["ctr"]


def test_annoyance_makes_ignored_recommendations_cost_carts():
    env = _vector(annoyance=0.1)
    rng = np.random.default_rng(0)
    s = evaluate(lambda obs: rng.integers(0, 200, len(obs)), env, 400, seed=3).sessions
    assert (
        s["abandoned"].mean() > 0.3 and (s["basket_value"] <= s["twin_basket_value"]).mean() > 0.9
    )


def test_exit_hazard_lowers_conversion():
    env = _vector()
    buyers = evaluate(_nothing(env), env, 300, seed=4).sessions
    env = _vector(exit_hazard=0.15)
    leavers = evaluate(_nothing(env), env, 300, seed=4).sessions
    assert buyers["checkout"].mean() > 0.98 > 0.6 > leavers["checkout"].mean()
    assert (leavers.loc[leavers["checkout"] == 0, "basket_value"] == 0).all()  # carts lost


def test_basket_value_is_paid_at_checkout_only():
    env = gym.make("CartRec-v1", n_items=200, exit_hazard=0.05)
    env.reset(seed=0)
    paid = []
    for _ in range(2000):
        _, reward, terminated, truncated, info = env.step(200)
        if not (terminated or truncated):
            assert reward == 0.0
            continue
        expected = info["cart_value"] if info["checkout"] else 0.0
        assert reward == pytest.approx(expected) == info["basket_value"]
        paid.append(reward)
        env.reset()
    assert 0 in paid and max(paid) > 0


def test_incremental_reward_is_the_basket_value_minus_the_twins():
    env = gym.make("CartRec-v1", n_items=200, reward="incremental")
    env.reset(seed=1)
    core = env.unwrapped
    for _ in range(3000):
        action = int(np.asarray(core.sim.weights[0]).argmax())
        _, reward, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            assert reward == pytest.approx(info["basket_value"] - info["twin_basket_value"])
            assert 0 <= info["bought_anyway"] <= info["session_taken"]
            env.reset()
        else:
            assert reward == 0.0


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("salience", 11.0, r"salience must be a number in \[-10.0, 10.0\]"),
        ("exit_hazard", 1.0, r"exit_hazard must be a number in \[0.0, 0.999\]"),
        ("annoyance", -0.1, r"annoyance must be a number in \[0.0, 1.0\]"),
        ("impulse", 2.0, r"impulse must be a number in \[0.0, 1.0\]"),
        ("inclusive_value", 50.0, r"inclusive_value must be a number in \[-10.0, 10.0\]"),
        ("position_effects", (0.0, 20.0), r"position_effects must be at most 64 values, each"),
        ("salience", float("nan"), "salience must be a number"),
        ("reward", "revenue", "reward must be one of"),
        ("patience_mean", 5.0, "patience_mean is an assumption of the other shopper model"),
        ("show_recommendations", False, "show_recommendations is an assumption of the other"),
    ],
)
def test_bad_assumptions_name_the_argument_and_the_range(name, value, message):
    with pytest.raises(ValueError, match=message):
        gym.make("CartRec-v1", n_items=50, **{name: value})


def test_v0_arguments_refuse_v1_assumptions():
    with pytest.raises(ValueError, match="exit_hazard is an assumption of the other"):
        gym.make("CartRec-v0", exit_hazard=0.1)
    with pytest.raises(ValueError, match="dynamics must be one of"):
        SimConfig(dynamics="v2")


def test_a_world_of_the_other_schema_is_refused_with_what_to_do():
    with pytest.raises(ValueError, match=r"schema-2 world .* CartRec-v0 replays"):
        gym.make("CartRec-v0", world=bundled_world_path(schema=2))
    with pytest.raises(ValueError, match=r"schema-1 world .* refit it with `cartgym fit`"):
        gym.make("CartRec-v1", world=bundled_world_path(schema=1))


def test_same_lane_same_shoppers_whatever_the_policy():
    """Counter-based draws: each lane's k-th session is the same shopper for any agent."""
    users = []
    for policy in ("nothing", "best"):
        env = _vector(n=8)
        core = env.unwrapped
        make = _nothing if policy == "nothing" else _best
        act = make(env)
        obs, _ = env.reset(seed=9)
        seen: list[list[int]] = [[] for _ in range(8)]
        started = np.zeros(8, dtype=int)
        for _ in range(150):
            fresh = np.asarray(core.sim.sessions_started[:8]) != started
            for lane in np.flatnonzero(fresh | (started == 0)):
                seen[lane].append(int(core.sim.users[lane]))
            started = np.asarray(core.sim.sessions_started[:8]).copy()
            obs, *_ = env.step(act(obs))
        users.append([lane[:4] for lane in seen])
    assert users[0] == users[1]
