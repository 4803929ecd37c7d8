"""SB3's default logger makes an ``SB3-<date>`` folder in the temporary directory at every
``learn()``; cartgym's models log nowhere unless asked (issue 12, item 10)."""

import tempfile

import torch
from stable_baselines3 import PPO

from cartgym.agents.sb3 import keep_quiet, make_model, make_sb3_vec_env

torch.set_num_threads(1)


def _sb3_folders(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("SB3-"))


def test_learning_leaves_no_sb3_folder(tmp_path, monkeypatch, small_world):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    venv = make_sb3_vec_env("CartRec-v0", n_envs=2, seed=0, world=small_world)
    make_model("ppo", venv, seed=0, device="cpu", n_steps=16, batch_size=32).learn(32)
    keep_quiet(PPO("MlpPolicy", venv, n_steps=16, batch_size=32, seed=0)).learn(32)
    assert _sb3_folders(tmp_path) == []
    # the check can fail: SB3's own default does write the folder
    PPO("MlpPolicy", venv, n_steps=16, batch_size=32, seed=0, device="cpu").learn(32)
    assert len(_sb3_folders(tmp_path)) == 1
