"""Fuzzing the environments: random and adversarial actions on every registered id."""

import sys
from pathlib import Path

import gymnasium as gym
import pytest
from gymnasium.error import ResetNeeded

from cartgym.envs import ENV_IDS

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fuzzing import fuzz_env

IDS = sorted(ENV_IDS)


@pytest.mark.parametrize("env_id", IDS)
def test_random_and_adversarial_action_sequences(env_id):
    tally = fuzz_env(env_id, 12, hypothesis_seed=3)
    assert tally["sequences"] == 12
    assert tally["invalid actions refused"] == 24  # one bad action per sequence, single+vector
    assert tally["steps"] > 100
    assert tally["masks checked against the cart"] >= tally["steps"]


@pytest.mark.parametrize("env_id", IDS)
def test_step_before_reset_raises(env_id):
    single = gym.make(env_id, n_items=30).unwrapped
    with pytest.raises(ResetNeeded):
        single.step(0)
    vector = gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point", n_items=30)
    with pytest.raises(ResetNeeded):
        vector.step(vector.action_space.sample())
