"""The agent protocol, for every agent: shapes, masks, seeds, SB3 evaluation, env binding."""

from __future__ import annotations

import numpy as np
import pytest
from agent_cases import AGENT_NAMES, N_ITEMS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stable_baselines3.common.evaluation import evaluate_policy

from cartgym.agents import UCB1, OracleMyopicAgent, RandomAgent

pytestmark = pytest.mark.filterwarnings("ignore:Evaluation environment is not wrapped")


@pytest.fixture(scope="module")
def agents(best_world, make_env, build_agent):
    """(slate, vector) -> {name: agent}, all bound to one env each (4 sessions when vector)."""
    out = {}
    for slate in (False, True):
        for n in (None, 4):
            env = make_env(best_world, slate=slate, n=n)
            env.reset(seed=0)
            out[slate, n] = env, {name: build_agent(name, env) for name in AGENT_NAMES}
    return out


def _observations(env, data, rows: int, k: int) -> np.ndarray:
    """Random observations with random carts that leave at least ``k`` items free."""
    layout = env.unwrapped.layout
    obs = np.array(
        data.draw(
            st.lists(
                st.lists(st.floats(0, 1, width=32), min_size=layout.size, max_size=layout.size),
                min_size=rows,
                max_size=rows,
            )
        ),
        dtype=np.float32,
    )
    cart = obs[:, layout.cart] > 0.5
    full = cart.sum(axis=1) > N_ITEMS - k
    obs[full, layout.cart] = 0.0
    return obs


@pytest.mark.parametrize("slate", [False, True], ids=["single", "slate"])
@pytest.mark.parametrize("vector", [None, 4], ids=["env", "vector"])
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), deterministic=st.booleans())
def test_predictions_never_hit_the_cart(agents, slate, vector, data, deterministic):
    env, bound = agents[slate, vector]
    rows = vector or 1
    obs = _observations(env, data, rows, 3 if slate else 1)
    cart = obs[:, env.unwrapped.layout.cart] > 0.5
    for name, agent in bound.items():
        single_obs = obs[0] if vector is None else obs
        actions, state = agent.predict(single_obs, deterministic=deterministic)
        assert state is None
        expected = ((3,) if slate else ()) if vector is None else ((rows, 3) if slate else (rows,))
        assert np.shape(actions) == expected, name
        items = np.asarray(actions).reshape(rows, -1)
        assert not np.take_along_axis(cart, items, axis=1).any(), name
        if slate and name != "oracle":  # the oracle may repeat its best item on purpose
            assert all(len(set(row)) == 3 for row in items.tolist()), name


@pytest.mark.parametrize("name", AGENT_NAMES)
@pytest.mark.parametrize("slate", [False, True], ids=["single", "slate"])
def test_same_seed_same_actions(name, slate, best_world, make_env, build_agent):
    def trace(seed: int) -> list:
        env = make_env(best_world, slate=slate)
        agent = build_agent(name, env, seed=seed)
        obs, _ = env.reset(seed=5)
        actions = []
        for _ in range(40):
            action, _ = agent.predict(obs)
            actions.append(np.asarray(action).tolist())
            obs, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                obs, _ = env.reset()
        return actions

    assert trace(3) == trace(3)


def test_ties_break_at_random_unless_deterministic(best_world, make_env):
    env = make_env(best_world)
    obs, _ = env.reset(seed=0)
    untrained = UCB1(env, seed=0)  # every item untried: all tie at +inf when exploring
    picks = {int(untrained.predict(obs)[0]) for _ in range(50)}
    assert len(picks) > 5
    greedy = {int(untrained.predict(obs, deterministic=True)[0]) for _ in range(5)}
    assert len(greedy) == 1


@pytest.mark.parametrize("slate", [False, True], ids=["single", "slate"])
def test_sb3_evaluate_policy(slate, best_world, make_env, build_agent):
    env = make_env(best_world, slate=slate)
    for name in ("ucb1", "oracle", "cooccurrence"):
        agent = build_agent(name, env)
        mean, _ = evaluate_policy(agent, env, n_eval_episodes=5)
        assert np.isfinite(mean) and mean >= 0


def test_learn_returns_self_and_counts_timesteps(best_world, make_env):
    env = make_env(best_world, n=4)
    agent = UCB1(env, seed=0)
    assert agent.learn(env, 100, seed=0) is agent
    assert 100 <= agent.num_timesteps_ < 104
    agent.learn(make_env(best_world), 10)  # a single env works too
    assert agent.num_timesteps_ >= 110


def test_agents_refuse_other_environments(best_world, small_world, make_env):
    agent = UCB1(make_env(best_world))
    with pytest.raises(ValueError, match="does not match"):
        agent.learn(make_env(best_world, slate=True), 10)
    with pytest.raises(ValueError, match="does not match"):
        agent.learn(make_env(small_world.top_items(N_ITEMS + 1)), 10)
    with pytest.raises(ValueError, match="observation of shape"):
        agent.predict(np.zeros(5))
    with pytest.raises(ValueError, match="cartgym environment"):
        RandomAgent(__import__("gymnasium").make("CartPole-v1"))


def test_oracle_needs_its_own_environment_rows(best_world, make_env):
    env = make_env(best_world, n=4)
    obs, _ = env.reset(seed=0)
    oracle = OracleMyopicAgent(env)
    assert oracle.predict(obs)[0].shape == (4,)
    with pytest.raises(ValueError, match="sees 4 shoppers"):
        oracle.predict(obs[:2])


def test_get_params_and_repr(best_world, make_env):
    agent = UCB1(make_env(best_world), c=0.3, seed=2)
    assert agent.get_params() == {"c": 0.3, "objective": "revenue", "seed": 2}
    assert repr(agent) == "UCB1(c=0.3, objective='revenue', seed=2)"
