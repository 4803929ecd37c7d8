"""What an agent may know: the observation, its own interactions, the training users' logs.

Nothing may come from the simulator's world (whose terms are fitted on every user, test
shoppers included): swapping the world's utility terms for noise must change no agent's
features or first predictions, while it does change the oracle's (which reads the world by
design), so the swap is seen.
"""

from __future__ import annotations

from dataclasses import replace

import gymnasium as gym
import numpy as np
import pytest
import scipy.sparse as sp

import cartgym  # noqa: F401
from cartgym.agents.knowledge import LogKnowledge, knowledge_of, register_knowledge
from cartgym.agents.logs import map_to_catalogue
from cartgym.agents.registry import AGENTS, agents_for, make_agent
from cartgym.data import logs_of, training_logs, user_groups
from cartgym.envs.observation import Catalogue
from cartgym.evaluation import evaluate
from cartgym.world import ChoiceCoefficients, ShopperWorld

N_ITEMS = 60
ENVS = {"items": "CartRec-v1", "slates": "CartRecMultiSlate-v1", "bundles": "CartRecBundle-v1"}


def _noisy(world: ShopperWorld, seed: int = 0) -> ShopperWorld:
    """The same catalogue and shoppers' histories, with the utility terms replaced by noise."""
    rng = np.random.default_rng(seed)
    m = world.n_items
    noise = sp.random(m, m, density=0.2, random_state=seed, format="csr")
    noise.data = noise.data * 4 - 2
    complement = ((noise + noise.T) / 2).tocsr().astype(world.complement.dtype)
    return replace(
        world,
        complement=complement,
        item_factors=rng.normal(size=world.item_factors.shape).astype(world.item_factors.dtype),
        user_factors=rng.normal(size=world.user_factors.shape).astype(world.user_factors.dtype),
        popularity=rng.normal(size=m),
        coefficients=ChoiceCoefficients(*rng.normal(size=5)),
    )


def _observations(env, n: int = 24) -> np.ndarray:
    obs, _ = env.reset(seed=3)
    env.action_space.seed(3)
    out = [obs]
    while len(out) < n:
        obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            obs, _ = env.reset()
        out.append(obs)
    return np.stack(out).astype(np.float32)


def _first_predictions(name: str, env, obs: np.ndarray) -> dict[str, np.ndarray]:
    """Everything an agent computes before its first interaction, on fixed observations."""
    agent = make_agent(name, env, seed=0)
    if AGENTS[name].kind == "sb3":
        state = {k: v.detach().numpy().copy() for k, v in agent.policy.state_dict().items()}
        return {**state, "actions": agent.predict(obs, deterministic=True)[0]}
    if hasattr(agent, "fit") and AGENTS[name].kind == "logs":
        agent.fit(training_logs(agent.catalogue.source))
    out = {"actions": agent.predict(obs, deterministic=True)[0]}
    if hasattr(agent, "scores"):
        out["scores"] = agent.scores(obs)
    if hasattr(agent, "features"):
        out["features"] = agent.features(obs)
    return out


@pytest.mark.parametrize("kind", sorted(ENVS))
def test_agents_do_not_read_the_simulator_world(kind):
    env = gym.make(ENVS[kind], n_items=N_ITEMS)
    world = env.unwrapped.world
    noisy_env = gym.make(ENVS[kind], world=_noisy(world))
    assert np.array_equal(noisy_env.unwrapped.catalogue.item_ids, world.item_ids)
    obs = _observations(env)
    checked = []
    for name in agents_for(kind):
        if AGENTS[name].kind == "oracle":
            continue
        real, noisy = _first_predictions(name, env, obs), _first_predictions(name, noisy_env, obs)
        assert real.keys() == noisy.keys(), name
        for key in real:
            np.testing.assert_array_equal(real[key], noisy[key], err_msg=f"{name}: {key}")
        checked.append(name)
    assert {"linucb", "cooccurrence", "ppo"} & set(checked)
    # the swap is real: the oracle, which reads the simulator by design, does change
    oracle = "bundle_oracle_myopic" if kind == "bundles" else "oracle_myopic"
    scores = []
    for e in (env, noisy_env):
        now, _ = e.reset(seed=5)  # the same shopper in both (same streams, same histories)
        scores.append(make_agent(oracle, e, seed=0).scores(now[None]))
    assert not np.allclose(*scores)


def test_knowledge_comes_from_training_users_only():
    env = gym.make("CartRec-v1", n_items=N_ITEMS)
    knowledge = knowledge_of(env.unwrapped.catalogue)
    logs = training_logs(env.unwrapped.catalogue.source)
    assert set(user_groups(logs.table["user_id"].unique())) == {"train"}
    again = LogKnowledge.from_logs(logs, env.unwrapped.catalogue)
    np.testing.assert_array_equal(knowledge.item_factors, again.item_factors)
    np.testing.assert_allclose(knowledge.complement.toarray(), again.complement.toarray())
    # logged prices are the training lines' medians, not the world's (all users') values
    assert knowledge.prices.shape == (N_ITEMS,) and (knowledge.prices > 0).all()
    everyone = map_to_catalogue(
        logs_of(env.unwrapped.catalogue.source), knowledge.catalogue.item_ids
    )
    assert 0.5 < knowledge.fitted.baskets / everyone.report["baskets"] < 0.7  # 3 users in 5


def test_a_world_of_your_own_needs_its_knowledge_registered(small_world):
    own = replace(small_world.top_items(20), meta={"source": "my shop's logs"})
    env = gym.make("CartRec-v0", world=own)
    agent = make_agent("linucb", env, seed=0)
    with pytest.raises(ValueError, match="register_knowledge"):
        agent.features  # noqa: B018
    logs = training_logs("online_retail")
    register_knowledge(LogKnowledge.from_logs(logs, Catalogue.of_world(own)))
    assert agent.features.dim == 5
    other = LogKnowledge.from_logs(logs, Catalogue.of_world(small_world.top_items(30)))
    with pytest.raises(ValueError, match="does not match"):
        agent.knowledge = other
    with pytest.raises(TypeError, match="LogKnowledge"):
        agent.knowledge = "logs"


def test_agents_meet_the_same_shoppers():
    """Two different agents, evaluated from one seed on CartRec-v1, see the same arrivals in
    every lane (and each session's twin, shown nothing, the very same session)."""
    env = gym.make_vec(
        "CartRec-v1", num_envs=8, vectorization_mode="vector_entry_point", population="test"
    )
    runs = {}
    for name in ("random", "cooccurrence", "no_recommendation"):
        agent = make_agent(name, env, seed=0)
        if name == "cooccurrence":
            agent.fit(training_logs(agent.catalogue.source))
        runs[name] = evaluate(agent, env, 96, seed=11).sessions
    first = runs["random"]
    assert first.groupby("lane")["index"].max().eq(11).all()  # 12 sessions in each lane
    for name, sessions in runs.items():
        for lane in range(8):
            mine = sessions[sessions["lane"] == lane]["user"].to_numpy()
            np.testing.assert_array_equal(mine, first[first["lane"] == lane]["user"], name)
        np.testing.assert_array_equal(sessions["twin_basket_value"], first["twin_basket_value"])
    # they did act differently: the sessions' own outcomes differ
    assert not np.array_equal(runs["random"]["basket_value"], runs["cooccurrence"]["basket_value"])
    # and the show-nothing policy is its own twin, session by session
    control = runs["no_recommendation"]
    np.testing.assert_allclose(control["basket_value"], control["twin_basket_value"])
