"""The public seams users reach for: the agent registry, the observation encoder, top-k from
any agent, agents built from a world without an environment."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from agent_cases import BEST

import cartgym  # noqa: F401
from cartgym.agents import MatrixFactorizationAgent, PopularityAgent, RandomAgent
from cartgym.agents.registry import AGENTS, KINDS, agent_spec, agents_for, make_agent
from cartgym.envs.observation import ObservationEncoder

BUILT_HERE = [n for n, s in AGENTS.items() if s.kind != "sb3"]


def test_every_registered_agent_has_a_kind_and_acts_somewhere():
    for name, spec in AGENTS.items():
        assert spec.kind in KINDS and spec.acts_on, name
    assert "no_recommendation" in agents_for("bundles") and "dqn" not in agents_for("slates")


@pytest.mark.parametrize("name", BUILT_HERE)
def test_make_agent_builds_every_baseline(name):
    acts_on = agent_spec(name).acts_on
    env_id = "CartRecBundle-v1" if acts_on == {"bundles"} else "CartRec-v1"
    env = gym.make(env_id, n_items=60)
    kwargs = {"epochs": 1} if name == "neural_cf" else {}
    agent = make_agent(name, env, seed=0, **kwargs)
    assert agent.seed == 0 and hasattr(agent, "predict")


def test_make_agent_is_what_the_harness_builds():
    env = gym.make("CartRec-v0", n_items=60)
    # the registry's mf and a directly built one run the same ALS backend
    assert make_agent("mf", env).backend == MatrixFactorizationAgent(env).backend == "numpy"


def test_registry_errors_name_the_agent():
    env = gym.make("CartRec-v0", n_items=60)
    with pytest.raises(ValueError, match="unknown agent 'nope'; known"):
        make_agent("nope", env)
    with pytest.raises(ValueError, match="no show-nothing action"):
        make_agent("no_recommendation", env)  # v0: the control is show_recommendations=False
    with pytest.raises(ValueError, match="env_kind must be one of"):
        agents_for("pixels")


def _sim_state(env):
    sim = env.unwrapped.sim
    carts = [np.flatnonzero(row) for row in sim.in_cart]
    return dict(
        carts=carts,
        history=sim.history,
        cart_values=sim.cart_value,
        known=sim.users >= 0,
        last_accepted=sim.last_accepted,
        accepted=sim.n_accepted,
        steps=sim.steps,
        ignored=sim.n_ignored,
    )


def test_the_encoder_reproduces_the_live_observations():
    env = gym.make_vec("CartRec-v0", num_envs=16, vectorization_mode="vector_entry_point")
    obs, _ = env.reset(seed=3)
    encoder = ObservationEncoder(env.unwrapped.world)
    rng = np.random.default_rng(0)
    for _ in range(25):
        assert np.array_equal(encoder.encode(**_sim_state(env)), obs)
        masks = env.unwrapped.action_masks()
        obs, *_ = env.step(np.array([rng.choice(np.flatnonzero(m)) for m in masks]))


def test_the_encoder_checks_its_input(small_world):
    encoder = ObservationEncoder(small_world)
    with pytest.raises(ValueError, match=r"carts\[1\]: item indices must be in \[0, 40\)"):
        encoder.encode([[0], [40]])
    with pytest.raises(ValueError, match=r"history must have shape \(1, 40\)"):
        encoder.encode([[0]], history=np.zeros((1, 3)))


def test_top_k_of_any_length_never_repeats_the_cart(best_world, make_env):
    env = make_env(best_world)
    obs, _ = env.reset(seed=0)
    agent = RandomAgent(env, seed=0)
    ranked = agent.top_k(obs, 7)
    assert ranked.shape == (7,) and len(set(ranked.tolist())) == 7
    assert not obs[ranked].any()  # the cart block comes first
    with pytest.raises(ValueError, match="k must be a positive int"):
        agent.top_k(obs, 0)


def test_a_log_agent_bound_to_a_world_scores_real_carts(best_world, best_logs, make_env):
    agent = PopularityAgent(best_world).fit(best_logs)
    encoder = ObservationEncoder(best_world)
    obs = encoder.encode([[0, 1], [BEST]])
    ranked = agent.top_k(obs, 3)
    assert ranked[0, 0] == BEST and BEST not in ranked[1]
    # the same agent bound to an environment gives the same scores
    env_agent = PopularityAgent(make_env(best_world)).fit(best_logs)
    assert np.array_equal(agent.scores(obs), env_agent.scores(obs))
