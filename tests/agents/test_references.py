"""Random and oracle-myopic references, the exact oracle slate and the normalised score."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cartgym.agents import OracleMyopicAgent, RandomAgent, normalised_score


def test_normalised_score():
    assert normalised_score(5.0, 1.0, 9.0) == 0.5
    assert normalised_score(1.0, 1.0, 9.0) == 0.0
    assert normalised_score(11.0, 1.0, 6.0) == 2.0
    assert np.isnan(normalised_score(3.0, 2.0, 2.0))
    np.testing.assert_allclose(normalised_score([2.0, 3.0], [1.0, 1.0], [3.0, 5.0]), [0.5, 0.5])


def test_random_is_uniform_over_free_items(small_world, make_env):
    env = make_env(small_world)
    obs, _ = env.reset(seed=0)
    agent = RandomAgent(env, seed=0)
    free = np.flatnonzero(env.unwrapped.action_masks())
    picks = np.array([agent.predict(obs, deterministic=True)[0] for _ in range(4000)])
    counts = np.bincount(picks, minlength=small_world.n_items)
    assert set(np.flatnonzero(counts)) == set(free)
    expected = 4000 / len(free)
    assert np.all(np.abs(counts[free] - expected) < 5 * np.sqrt(expected))


@pytest.mark.parametrize("slate", [False, True], ids=["single", "slate"])
def test_oracle_beats_random(slate, small_world, make_env, mean_revenue):
    env = make_env(small_world, slate=slate)
    oracle = mean_revenue(OracleMyopicAgent(env), env)
    random = mean_revenue(RandomAgent(env, seed=0), env)
    assert oracle > 2 * random


def test_oracle_single_item_is_argmax_of_expected_reward(small_world, make_env):
    for reward, objective in (("revenue", "revenue"), ("click", "click")):
        env = make_env(small_world, reward=reward)
        obs, _ = env.reset(seed=1)
        view = env.unwrapped.oracle_view()
        value = view.expected_revenue() if reward == "revenue" else view.accept_probabilities()
        agent = OracleMyopicAgent(env)
        assert agent._target == objective
        assert agent.predict(obs)[0] == np.argmax(np.where(view.weights > 0, value, -1)[0])


def _slate_revenue(view, slate, values):
    items = list(set(slate))
    w = view.weights[0, items]
    return (view.boost * w * values[items]).sum() / (view.total[0] + (view.boost - 1) * w.sum())


@pytest.mark.parametrize("reward", ["revenue", "click"])
def test_oracle_slate_is_the_best_assortment(reward, small_world, make_env):
    world = small_world.top_items(10)
    env = make_env(world, slate=True, reward=reward)
    agent = OracleMyopicAgent(env)
    values = world.line_values if reward == "revenue" else np.ones(world.n_items)
    obs, _ = env.reset(seed=0)
    for _ in range(40):
        view = env.unwrapped.oracle_view()
        free = np.flatnonzero(env.unwrapped.action_masks()[:10])
        slate, _ = agent.predict(obs)
        assert set(slate) <= set(free)
        best = max(
            _slate_revenue(view, s, values)
            for k in (1, 2, 3)
            for s in itertools.combinations(free, k)
        )
        assert _slate_revenue(view, slate, values) == pytest.approx(best, rel=1e-9)
        obs, _, terminated, truncated, _ = env.step(slate)
        if terminated or truncated:
            obs, _ = env.reset()


def test_oracle_bad_arguments(small_world, make_env):
    with pytest.raises(ValueError, match="objective"):
        OracleMyopicAgent(make_env(small_world), objective="profit")


def test_on_v1_the_myopic_oracle_beats_showing_nothing_and_may_show_nothing():
    import gymnasium as gym

    from cartgym.agents import NoRecommendationAgent
    from cartgym.evaluation import evaluate

    def make():
        return gym.make_vec(
            "CartRec-v1", num_envs=20, vectorization_mode="vector_entry_point", n_items=200
        )

    env = make()
    oracle = evaluate(OracleMyopicAgent(env), env, 200, seed=0)
    env = make()
    nothing = evaluate(NoRecommendationAgent(env), env, 200, seed=0)
    assert oracle.against_twin()["incremental_basket_value"] > 0
    assert nothing.against_twin()["incremental_basket_value"] == 0
    # with a high annoyance the oracle often prefers showing nothing
    env = gym.make_vec(
        "CartRec-v1", num_envs=20, vectorization_mode="vector_entry_point", n_items=200,
        annoyance=0.5,
    )  # fmt: skip
    obs, _ = env.reset(seed=1)
    actions = OracleMyopicAgent(env).predict(obs, deterministic=True)[0]
    assert (actions == 200).any() and (actions < 200).any()


def test_no_recommendation_shows_nothing_on_every_v1_kind():
    import gymnasium as gym

    from cartgym.agents import NoRecommendationAgent

    for env_id, nothing in (("CartRec-v1", 60), ("CartRecSlate-v1", [60] * 3)):
        env = gym.make(env_id, n_items=60)
        obs, _ = env.reset(seed=0)
        action = NoRecommendationAgent(env).predict(obs)[0]
        assert np.array_equal(action, nothing)
    env = gym.make("CartRecBundle-v1", n_items=60)
    obs, _ = env.reset(seed=0)
    assert NoRecommendationAgent(env).predict(obs)[0] == env.action_space.n - 1
