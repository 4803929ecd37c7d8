"""The SB3 adapter: same-step autoreset, terminal observations, masks, PPO runs on it."""

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("stable_baselines3")
import torch

from cartgym.agents.sb3 import CartSB3VecEnv, keep_quiet, make_sb3_vec_env

torch.set_num_threads(1)


def test_same_step_autoreset_matches_next_step_sessions(small_world):
    same = make_sb3_vec_env("CartRec-v0", n_envs=1, seed=3, world=small_world)
    nxt = gym.make_vec(
        "CartRec-v0", num_envs=1, vectorization_mode="vector_entry_point", world=small_world
    )
    obs_same = same.reset()
    obs_next, _ = nxt.reset(seed=3)
    assert np.array_equal(obs_same, obs_next)
    ended = 0
    for t in range(400):
        action = np.array([t % small_world.n_items])
        same.step_async(action)
        obs_same, reward, dones, infos = same.step_wait()
        obs_next, reward_next, term, trunc, _ = nxt.step(action)
        assert reward[0] == pytest.approx(reward_next[0])
        if dones[0]:
            ended += 1
            assert np.array_equal(infos[0]["terminal_observation"], obs_next[0])
            assert infos[0]["TimeLimit.truncated"] == bool(trunc[0] and not term[0])
            obs_next, *_ = nxt.step(action)  # next-step autoreset catches up
        assert np.array_equal(obs_same, obs_next)
    assert ended > 10


def test_masks_for_maskable_ppo(small_world):
    venv = make_sb3_vec_env("CartRecSlate-v0", n_envs=3, seed=0, world=small_world)
    venv.reset()
    masks = venv.env_method("action_masks")
    assert len(masks) == 3 and masks[0].shape == (3 * small_world.n_items,)
    assert np.array_equal(np.stack(masks), venv.env.action_masks())


def test_ppo_trains_on_the_adapter(small_world):
    from stable_baselines3 import PPO

    venv = make_sb3_vec_env("CartRec-v0", n_envs=4, seed=0, world=small_world)
    model = PPO("MlpPolicy", venv, n_steps=32, batch_size=64, n_epochs=1, seed=0, device="cpu")
    keep_quiet(model).learn(256)
    assert model.num_timesteps >= 256


def test_adapter_refuses_next_step_envs(small_world):
    env = gym.make_vec(
        "CartRec-v0", num_envs=2, vectorization_mode="vector_entry_point", world=small_world
    )
    with pytest.raises(ValueError, match="same_step"):
        CartSB3VecEnv(env)
    with pytest.raises(ValueError, match="autoreset_mode"):
        gym.make_vec(
            "CartRec-v0",
            num_envs=2,
            vectorization_mode="vector_entry_point",
            autoreset_mode="sometimes",
        )
