"""SB3 agents learn: each algorithm beats random on a small world; same seed, same agent."""

import gymnasium as gym
import numpy as np
import pytest
import torch

pytest.importorskip("stable_baselines3")
from cartgym.agents import RandomAgent
from cartgym.agents.sb3 import make_model, make_sb3_vec_env
from cartgym.evaluation import evaluate

torch.set_num_threads(1)

# 20 items, a click per accepted recommendation: random scores ~0.34 per session, the
# oracle-myopic policy ~1.4; every algorithm gets to ~0.65-0.8 in 3000 steps.
WORLD = {"n_items": 20, "reward": "click"}
STEPS = 3_000
SESSIONS = 400
MARGIN = 0.2  # about 4 standard errors of a 400-session mean
QUICK = {"dqn": {"learning_starts": 500}, "qrdqn": {"learning_starts": 500}}


def _train(algorithm: str, seed: int = 0, steps: int = STEPS, features: str = "mlp"):
    venv = make_sb3_vec_env("CartRec-v0", n_envs=8, seed=seed, population="train", **WORLD)
    model = make_model(
        algorithm, venv, features=features, seed=seed, device="cpu", **QUICK.get(algorithm, {})
    )
    return model.learn(steps)


def _mean_reward(policy, sessions: int = SESSIONS) -> float:
    env = gym.make("CartRec-v0", population="eval", **WORLD)
    return float(evaluate(policy, env, sessions, seed=1).sessions["revenue"].mean())


@pytest.fixture(scope="module")
def random_level() -> float:
    return _mean_reward(RandomAgent(gym.make("CartRec-v0", **WORLD), seed=0))


@pytest.mark.parametrize("algorithm", ["dqn", "qrdqn", "ppo", "a2c"])
def test_beats_random_on_a_small_world(algorithm, random_level):
    model = _train(algorithm)
    learned = _mean_reward(model)
    assert learned > random_level + MARGIN, (learned, random_level)


@pytest.mark.parametrize("features", ["embeddings_dot", "embeddings_dot_features"])
def test_embedding_features_learn_too(random_level, features):
    model = _train("ppo", features=features)
    learned = _mean_reward(model)
    assert learned > random_level + MARGIN, (learned, random_level)


@pytest.mark.parametrize("algorithm", ["dqn", "qrdqn", "ppo", "a2c"])
def test_same_seed_same_learned_actions(algorithm):
    venv = make_sb3_vec_env("CartRec-v0", n_envs=8, seed=5, **WORLD)
    obs = np.concatenate([venv.reset() for _ in range(4)])
    first, second, other = (_train(algorithm, seed, steps=1_200) for seed in (0, 0, 1))
    actions = first.predict(obs, deterministic=True)[0]
    assert np.array_equal(actions, second.predict(obs, deterministic=True)[0])
    params = [p.detach().numpy() for p in first.policy.parameters()]
    same = [p.detach().numpy() for p in second.policy.parameters()]
    assert all(np.array_equal(a, b) for a, b in zip(params, same, strict=True))
    different = [p.detach().numpy() for p in other.policy.parameters()]
    assert not all(np.array_equal(a, b) for a, b in zip(params, different, strict=True))


@pytest.mark.slow
def test_ppo_learns_on_the_full_catalogue():
    """CartRec-v0 as registered (1000 items, revenue): the tuning run's PPO in 30k steps."""
    venv = make_sb3_vec_env("CartRec-v0", n_envs=8, seed=0, population="train")
    model = make_model("ppo", venv, seed=0, device="cpu").learn(30_000)
    env = gym.make("CartRec-v0", population="eval")
    agent = RandomAgent(env, seed=0)
    random = evaluate(agent, env, 300, seed=1).sessions
    learned = evaluate(model, env, 300, seed=1).sessions
    assert learned["revenue"].mean() > random["revenue"].mean() + 5.0
