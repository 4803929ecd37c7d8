"""Top-k from SB3 models, and no stray folders: SB3 logs through cartgym's own logger."""

import tempfile

import numpy as np
import pytest
import torch

pytest.importorskip("stable_baselines3")
from cartgym.agents.sb3 import load_agent, make_model, make_sb3_vec_env, save_agent
from cartgym.agents.sb3.ranking import top_k

torch.set_num_threads(1)


@pytest.mark.parametrize("algorithm", ["dqn", "qrdqn", "ppo", "a2c"])
def test_top_k_starts_with_the_predicted_item_and_skips_the_cart(algorithm):
    env = make_sb3_vec_env("CartRec-v0", n_envs=8, seed=0, n_items=30)
    model = make_model(algorithm, env, seed=0)
    obs = env.reset()
    ranked = top_k(model, obs, 6)
    assert ranked.shape == (8, 6)
    assert np.array_equal(ranked[:, 0], model.predict(obs, deterministic=True)[0])
    assert np.take_along_axis(env.action_masks(), ranked, axis=1).all()
    assert all(len(set(row)) == 6 for row in ranked.tolist())
    with pytest.raises(ValueError, match="k must be a positive int"):
        top_k(model, obs, 0)


def test_learning_leaves_no_folder_in_the_temporary_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    env = make_sb3_vec_env("CartRec-v0", n_envs=4, seed=0, n_items=20)
    model = make_model("ppo", env, seed=0, features="mlp", n_steps=16, batch_size=32)
    model.learn(64)
    path = save_agent(model, tmp_path / "saved" / "model")
    load_agent(path, env).learn(64)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved"]
