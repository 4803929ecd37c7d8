"""Saving and loading SB3 agents: same actions, a sidecar with the world, a clear warning."""

import json
import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch

pytest.importorskip("stable_baselines3")
from cartgym.agents.sb3 import (
    WorldMismatchWarning,
    load_agent,
    make_model,
    make_sb3_vec_env,
    save_agent,
)
from cartgym.agents.sb3.saving import sidecar_path

torch.set_num_threads(1)


@pytest.mark.parametrize(
    ("algorithm", "features", "env_id"),
    [
        ("dqn", "embeddings_dot", "CartRec-v0"),
        ("qrdqn", "mlp", "CartRec-v0"),
        ("ppo", "embeddings", "CartRecSlate-v0"),
        ("a2c", "mlp", "CartRec-v0"),
        ("a2c", "embeddings_dot", "CartRecSlate-v0"),
        ("ppo", "embeddings_dot_features", "CartRec-v0"),
        ("dqn", "embeddings_dot_features", "CartRec-v0"),
    ],
)
def test_round_trip_gives_the_same_actions(tmp_path, algorithm, features, env_id):
    venv = make_sb3_vec_env(env_id, n_envs=4, seed=0, n_items=20)
    model = make_model(algorithm, venv, features=features, seed=0, device="cpu")
    model.learn(300)
    obs = venv.reset()
    path = save_agent(model, tmp_path / "agent", algorithm=algorithm)
    assert path == tmp_path / "agent.zip" and path.exists()
    meta = json.loads(sidecar_path(path).read_text())
    assert meta["algorithm"] == algorithm
    assert meta["world_fingerprint"] == venv.env.world.fingerprint
    assert meta["n_items"] == 20 and meta["num_timesteps"] == model.num_timesteps
    with warnings.catch_warnings():
        warnings.simplefilter("error", WorldMismatchWarning)
        loaded = load_agent(path, venv, device="cpu")
    assert type(loaded) is type(model)
    expected = model.predict(obs, deterministic=True)[0]
    assert np.array_equal(loaded.predict(obs, deterministic=True)[0], expected)
    alone = load_agent(tmp_path / "agent", device="cpu")  # no env, no check; .zip optional
    assert np.array_equal(alone.predict(obs, deterministic=True)[0], expected)


def test_loading_on_another_world_warns(tmp_path):
    venv = make_sb3_vec_env("CartRec-v0", n_envs=2, seed=0, n_items=20)
    model = make_model("ppo", venv, seed=0, device="cpu", n_steps=16, batch_size=32)
    path = save_agent(model, tmp_path / "ppo.zip")
    other = make_sb3_vec_env("CartRec-v0", n_envs=2, seed=0, n_items=20, reward="click")
    load_agent(path, other, device="cpu")  # the same world, another reward: no warning
    shifted = gym.make("CartRec-v0", world=venv.env.world.top_items(19))
    assert shifted.unwrapped.world.fingerprint != venv.env.world.fingerprint
    with pytest.warns(WorldMismatchWarning, match="trained on world"):
        with pytest.raises(ValueError):  # 19 items: SB3 then refuses the spaces
            load_agent(path, shifted, device="cpu")
    sidecar_path(path).unlink()
    with pytest.raises(ValueError, match="pass cls="):
        load_agent(path, venv, device="cpu")
    with pytest.warns(WorldMismatchWarning, match="no sidecar"):
        load_agent(path, venv, device="cpu", cls=type(model))
    with pytest.raises(FileNotFoundError):
        load_agent(tmp_path / "missing.zip")


def test_same_sized_other_world_warns(tmp_path, small_world):
    from dataclasses import replace

    venv = make_sb3_vec_env("CartRec-v0", n_envs=2, seed=0, world=small_world)
    model = make_model("a2c", venv, seed=0, device="cpu")
    path = save_agent(model, tmp_path / "a2c")
    changed = replace(small_world, prices=small_world.prices * 1.1)
    other = make_sb3_vec_env("CartRec-v0", n_envs=2, seed=0, world=changed)
    with pytest.warns(WorldMismatchWarning, match="not meaningful here"):
        loaded = load_agent(path, other, device="cpu")
    assert loaded.num_timesteps == 0
