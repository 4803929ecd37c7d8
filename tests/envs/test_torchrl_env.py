"""CartRecTorchEnv: TorchRL's spec check, the same shoppers as gym's vector env, bad input,
and a short TorchRL PPO run that beats random (CPU)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("torchrl")
import torch
from torchrl.envs.utils import check_env_specs

import cartgym  # noqa: F401
from cartgym.envs.torchrl import CartRecTorchEnv


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def test_specs_check_and_rollout():
    env = CartRecTorchEnv("CartRec-v1", num_envs=8, device="cpu", n_items=60)
    env.set_seed(0)
    check_env_specs(env)
    rollout = env.rollout(40, break_when_any_done=False)
    assert rollout.batch_size == torch.Size([8, 40])
    assert rollout["next", "done"].any()  # sessions ended and were reset in place
    mask = rollout["action_mask"]
    assert mask.shape == (8, 40, 61) and mask[..., -1].all()  # show-nothing always allowed
    cart = rollout["observation"][..., :60] > 0.5
    assert not (cart & mask[..., :60]).any()  # the mask is the items out of the cart


def test_the_same_shoppers_as_the_gym_vector_env():
    torch_env = CartRecTorchEnv("CartRec-v1", num_envs=6, device="cpu", n_items=60)
    torch_env.set_seed(4)
    first = torch_env.reset()
    vector = gym.make_vec(
        "CartRec-v1", num_envs=6, vectorization_mode="vector_entry_point", n_items=60
    )
    obs, _ = vector.reset(seed=4)
    np.testing.assert_array_equal(
        torch_env.sim.users[:6].numpy(), vector.unwrapped.sessions.users()
    )
    np.testing.assert_allclose(first["observation"].numpy(), obs, atol=1e-6)
    # a shown-nothing step: the same carts in both (the counter-based draws)
    nothing = torch.full((6,), 60)
    step = torch_env.step(first.set("action", nothing))
    obs, reward, *_ = vector.step(np.full(6, 60))
    np.testing.assert_allclose(step["next", "observation"].numpy(), obs, atol=1e-6)
    np.testing.assert_allclose(step["next", "reward"].numpy()[:, 0], reward, rtol=1e-6)


@pytest.mark.parametrize(
    ("env_id", "kwargs", "match"),
    [
        ("CartRec-v0", {}, "CartRec-v1 ids"),
        ("CartRecSlate-v1", {}, "slate_size"),
        ("CartRec-v9", {}, "unknown environment id"),
        ("CartRec-v1", {"num_envs": 0}, "num_envs"),
        ("CartRec-v1", {"reward": "profit"}, "reward"),
    ],
)
def test_bad_input_names_what_is_wrong(env_id, kwargs, match):
    with pytest.raises(ValueError, match=match):
        CartRecTorchEnv(env_id, **{"n_items": 40, **kwargs})


def test_a_short_torchrl_ppo_run_beats_random():
    from cartgym.agents.registry import make_agent
    from cartgym.agents.torchrl_ppo import PPOConfig, train_ppo
    from cartgym.evaluation import evaluate

    kwargs = {"n_items": 50, "reward": "click"}
    config = PPOConfig(
        total_steps=6144, env_kwargs=kwargs, num_envs=16, rollout_steps=64, gamma=0.95
    )
    policy, curve = train_ppo(config)
    assert curve[-1]["steps"] >= 6144 and all(np.isfinite(row["loss"]) for row in curve)
    env = gym.make_vec(
        "CartRec-v1",
        num_envs=10,
        vectorization_mode="vector_entry_point",
        population="validation",
        **kwargs,
    )
    trained = evaluate(policy, env, 200, seed=3).summary()["ctr"]
    random = evaluate(make_agent("random", env, seed=0), env, 200, seed=3).summary()["ctr"]
    assert trained > 3 * random
