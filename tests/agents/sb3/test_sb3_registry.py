"""The algorithm registry: built-ins, register_algorithm, entry points, module:factory."""

from types import SimpleNamespace

import pytest
import torch

pytest.importorskip("stable_baselines3")
from stable_baselines3 import PPO

from cartgym.agents.sb3 import (
    REGISTRY,
    Algorithm,
    MaskedActorCriticPolicy,
    algorithm_names,
    algorithms,
    get_algorithm,
    make_model,
    make_sb3_vec_env,
    policy_kwargs,
    register_algorithm,
)

torch.set_num_threads(1)


def small_ppo(env, *, features="mlp", seed=None, device="auto", **overrides):
    """A user's algorithm: PPO with tiny rollouts, cartgym's masked policy."""
    return PPO(
        MaskedActorCriticPolicy,
        env,
        n_steps=16,
        batch_size=32,
        policy_kwargs=policy_kwargs(features, env),
        seed=seed,
        device=device,
        **overrides,
    )


@pytest.fixture
def registry():
    saved = dict(REGISTRY)
    yield REGISTRY
    REGISTRY.clear()
    REGISTRY.update(saved)


def test_builtins():
    assert {"dqn", "qrdqn", "ppo", "a2c"} <= set(algorithm_names())
    assert "maskable_ppo" not in algorithm_names()  # the same algorithm as ppo here
    assert get_algorithm("PPO") is REGISTRY["ppo"]
    assert get_algorithm("q-r-dqn".replace("-", "", 1)) is REGISTRY["qrdqn"]
    assert not REGISTRY["dqn"].slate and REGISTRY["ppo"].slate


def test_register_and_use(registry):
    register_algorithm("small-ppo", small_ppo, n_envs=2, description="tiny PPO")
    assert "small_ppo" in algorithm_names()
    venv = make_sb3_vec_env("CartRecSlate-v0", n_envs=2, seed=0, n_items=20)
    model = make_model("small_ppo", venv, seed=0, device="cpu").learn(64)
    assert isinstance(model, PPO) and model.n_steps == 16
    with pytest.raises(ValueError, match="already registered"):
        register_algorithm("small_ppo", small_ppo)
    register_algorithm("small_ppo", small_ppo, slate=False, overwrite=True)
    with pytest.raises(ValueError, match="Discrete action space"):
        make_model("small_ppo", venv)


def test_module_path_and_entry_points(monkeypatch):
    spec = get_algorithm(f"{__name__}:small_ppo")
    assert spec.factory is small_ppo
    with pytest.raises(ValueError, match="not callable"):
        get_algorithm(f"{__name__}:REGISTRY")
    point = SimpleNamespace(name="tiny", load=lambda: Algorithm(small_ppo, n_envs=2))
    monkeypatch.setattr(
        algorithms,
        "entry_points",
        lambda group: [point] if group == algorithms.ENTRY_POINT_GROUP else [],
    )
    assert "tiny" in algorithm_names()
    assert get_algorithm("tiny").n_envs == 2


def test_bad_names_and_features():
    with pytest.raises(ValueError, match="unknown algorithm 'sac'"):
        make_model("sac", "CartRec-v0")
    with pytest.raises(ValueError, match="features must be one of"):
        make_model("ppo", "CartRec-v0", features="pixels")
    with pytest.raises(ValueError, match="callable factory"):
        register_algorithm("x", None)  # type: ignore[arg-type]
