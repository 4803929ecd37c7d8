"""The torch backend runs the same dynamics: same seed, same sessions (CPU); CUDA if present."""

import gymnasium as gym
import numpy as np
import pytest
from scipy import stats

import cartgym  # noqa: F401
from cartgym.sim.backend import make_ops

torch = pytest.importorskip("torch")
torch.set_num_threads(1)
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _sessions(backend, device, world, n_envs=256, steps=60, seed=0):
    env = gym.make_vec(
        "CartRecSlate-v0",
        num_envs=n_envs,
        vectorization_mode="vector_entry_point",
        world=world,
        backend=backend,
        device=device,
    )
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    sizes, accepted, observations = [], [], [obs]
    for _ in range(steps):
        actions = rng.integers(0, world.n_items, size=(n_envs, 3))
        obs, _, terminated, truncated, info = env.step(actions)
        observations.append(obs)
        accepted.append(info["accepted"] >= 0)
        sizes.extend(info["cart_size"][terminated | truncated])
    return np.array(sizes), np.concatenate(accepted), np.stack(observations)


def test_torch_cpu_agrees_with_numpy(small_world):
    sizes_np, acc_np, obs_np = _sessions("numpy", "cpu", small_world)
    sizes_t, acc_t, obs_t = _sessions("torch", "cpu", small_world)
    # Both consume the same uniforms, so sessions coincide except where float32 sums are
    # rounded differently near a draw's threshold; in distribution they must agree.
    assert (obs_np == obs_t).all(axis=2).mean() > 0.95
    assert stats.ks_2samp(sizes_np, sizes_t).pvalue > 1e-3
    table = [[acc_np.sum(), (~acc_np).sum()], [acc_t.sum(), (~acc_t).sum()]]
    assert stats.chi2_contingency(table).pvalue > 1e-3


def test_torch_single_env_passes_the_checker():
    from gymnasium.utils.env_checker import check_env

    env = gym.make("CartRec-v0", n_items=50, backend="torch", device="cpu")
    check_env(env.unwrapped, skip_render_check=True)


def test_backend_arguments_are_checked():
    with pytest.raises(ValueError, match="backend"):
        make_ops("jax")
    with pytest.raises(ValueError, match="device"):
        make_ops("torch", "tpu")
    with pytest.raises(ValueError, match="needs backend='torch'"):
        make_ops("numpy", "cuda")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            gym.make("CartRec-v0", backend="torch", device="cuda")


@pytest.mark.gpu
@CUDA
def test_cuda_agrees_with_numpy(small_world):
    sizes_np, acc_np, _ = _sessions("numpy", "cpu", small_world, n_envs=2048)
    sizes_c, acc_c, _ = _sessions("torch", "cuda", small_world, n_envs=2048)
    assert stats.ks_2samp(sizes_np, sizes_c).pvalue > 1e-3
    table = [[acc_np.sum(), (~acc_np).sum()], [acc_c.sum(), (~acc_c).sum()]]
    assert stats.chi2_contingency(table).pvalue > 1e-3


@pytest.mark.gpu
@CUDA
def test_cuda_auto_device_and_state_on_gpu():
    env = gym.make_vec(
        "CartRec-v0",
        num_envs=64,
        vectorization_mode="vector_entry_point",
        backend="torch",
        device="auto",
    )
    env.reset(seed=0)
    assert env.unwrapped.sim.weights.device.type == "cuda"
    obs, *_ = env.step(np.zeros(64, dtype=np.int64))
    assert isinstance(obs, np.ndarray) and np.isfinite(obs).all()
