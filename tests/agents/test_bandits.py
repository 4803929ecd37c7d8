"""Bandits find the clearly best item of `best_world` within a small budget and beat random."""

from __future__ import annotations

import numpy as np
import pytest
from agent_cases import BEST, N_ITEMS, new_agent

from cartgym.agents import (
    UCB1,
    EpsilonGreedy,
    LinearThompsonSampling,
    LinUCB,
    RandomAgent,
    ThompsonSampling,
)
from cartgym.agents.bandits.item import shown_and_hits

BANDITS = ("epsilon_greedy", "ucb1", "thompson", "thompson_click", "linucb", "linear_thompson")


def _obs_without_best(env) -> np.ndarray:
    for seed in range(100):
        obs, _ = env.reset(seed=seed)
        if env.unwrapped.action_masks()[BEST]:
            return obs
    raise AssertionError("every session starts with BEST in the cart")


@pytest.mark.parametrize("name", BANDITS)
def test_bandit_learns_the_best_item_and_beats_random(name, best_world, make_env, mean_revenue):
    agent = new_agent(name, make_env(best_world), seed=0)
    agent.learn(make_env(best_world, n=8), 3000, seed=0)
    env = make_env(best_world)
    assert agent.predict(_obs_without_best(env), deterministic=True)[0] == BEST
    random = mean_revenue(RandomAgent(env, seed=0), env)
    assert mean_revenue(agent, env) > 1.5 * random


@pytest.mark.parametrize("name", ["ucb1", "thompson", "linucb"])
def test_slate_bandit_shows_the_best_item(name, best_world, make_env):
    agent = new_agent(name, make_env(best_world, slate=True), seed=0)
    agent.learn(make_env(best_world, slate=True, n=8), 3000, seed=0)
    slate, _ = agent.predict(
        _obs_without_best(make_env(best_world, slate=True)), deterministic=True
    )
    assert BEST in slate and len(set(slate)) == 3


def test_vectorised_update_counts_each_distinct_shown_item(best_world, make_env):
    from cartgym.agents import Batch

    agent = ThompsonSampling(make_env(best_world, slate=True))
    d = agent.layout.size
    batch = Batch(
        obs=np.zeros((2, d), np.float32),
        actions=np.array([[1, 2, 2], [3, 1, 4]]),
        accepted=np.array([2, -1]),
        rewards=np.zeros(2),
        next_obs=np.zeros((2, d), np.float32),
        dones=np.zeros(2, bool),
    )
    agent.update(batch)
    assert agent.pulls_[[1, 2, 3, 4]].tolist() == [2, 1, 1, 1]
    assert agent.accepts_.sum() == 1 and agent.accepts_[2] == 1


@pytest.mark.parametrize("cls", [ThompsonSampling, LinUCB])
def test_slate_bandits_learn_every_taken_item(cls, best_world, make_env):
    """A multi-choice slate can have several takes: every one is a success, none a miss."""
    from cartgym.agents import Batch

    agent = cls(make_env(best_world, slate=True))
    d = agent.layout.size
    batch = Batch(
        obs=np.zeros((2, d), np.float32),
        actions=np.array([[1, 2, 3], [4, 5, N_ITEMS]]),  # N_ITEMS: not an item (show nothing)
        accepted=np.array([3, -1]),
        rewards=np.zeros(2),
        next_obs=np.zeros((2, d), np.float32),
        dones=np.zeros(2, bool),
        taken=np.array([[3, 1, -1], [-1, -1, -1]]),
    )
    _, items, hit = shown_and_hits(batch, agent.n_items)
    assert items.tolist() == [1, 2, 3, 4, 5] and hit.tolist() == [1, 0, 1, 0, 0]
    agent.update(batch)
    if cls is ThompsonSampling:
        assert agent.accepts_[[1, 3]].tolist() == [1, 1] and agent.accepts_.sum() == 2
    else:
        assert agent.b_[0] == 2  # two successes on the bias feature


def test_epsilon_decays(best_world, make_env):
    agent = EpsilonGreedy(make_env(best_world), epsilon=0.5, decay=0.99, min_epsilon=0.1)
    agent.learn(make_env(best_world), 50, seed=0)
    assert agent.current_epsilon == pytest.approx(max(0.1, 0.5 * 0.99**50))


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (EpsilonGreedy, {"epsilon": -0.1}),
        (EpsilonGreedy, {"epsilon": 1.5}),
        (EpsilonGreedy, {"decay": 0.0}),
        (EpsilonGreedy, {"epsilon": 0.1, "min_epsilon": 0.2}),
        (EpsilonGreedy, {"objective": "profit"}),
        (UCB1, {"c": -1.0}),
        (ThompsonSampling, {"prior_alpha": 0.0}),
        (ThompsonSampling, {"prior_beta": -1.0}),
        (LinUCB, {"alpha": 0.0}),
        (LinUCB, {"alpha": -1.0}),
        (LinUCB, {"ridge": 0.0}),
        (LinearThompsonSampling, {"scale": 0.0}),
        (LinearThompsonSampling, {"objective": "clicks"}),
    ],
)
def test_bad_arguments(cls, kwargs, best_world, make_env):
    with pytest.raises(ValueError):
        cls(make_env(best_world), **kwargs)


@pytest.mark.parametrize("steps", [-1, 2.5, True])
def test_bad_total_timesteps(steps, best_world, make_env):
    env = make_env(best_world)
    with pytest.raises(ValueError, match="total_timesteps"):
        UCB1(env).learn(env, steps)
