"""The heavier rows of benchmarks/throughput.py: the organic-choice probes, SB3 PPO against
a zero-cost env, resident memory over a long run, and the step's profile."""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np

from cartgym.calibrate import ShopperWorld
from cartgym.sim import CartSimulator, sample_categorical


def median_rate(run: Callable[[], int], repeats: int) -> float:
    """Median over ``repeats`` of (units done by ``run()``) / seconds."""
    rates = []
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        units = run()
        rates.append(units / (time.perf_counter() - started))
    return statistics.median(rates)


def response_and_organic(world: ShopperWorld, repeats: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    out = {}
    sim = CartSimulator(world, 16_384)
    sim.reset(rng)
    recs = rng.integers(0, world.n_items, size=(16_384, 1))
    uniforms = rng.random(16_384)
    out["response"] = median_rate(lambda: (sim.respond(recs, uniforms), 16_384)[1], repeats)

    n = 4_096
    sim = CartSimulator(world, n)
    sim.reset(rng)
    recs = rng.integers(0, world.n_items, size=(n, 1))
    uniforms = rng.random(n)

    def organic() -> int:
        sim._refresh()
        sim.respond(recs, uniforms)
        sim.organic_choice(recs, uniforms)
        return n

    out["organic"] = median_rate(organic, repeats)

    tastes = world.user_factors[rng.integers(0, world.n_users, size=n)].astype(np.float32)
    factors_t = np.ascontiguousarray(world.item_factors.T, dtype=np.float32)
    item_terms = (world.popularity * world.coefficients.popularity).astype(np.float32)

    def probe_naive() -> int:
        weights = np.exp(utilities())
        cumulative = np.cumsum(weights, axis=1)
        targets = uniforms * cumulative[:, -1]
        np.minimum((cumulative <= targets[:, None]).sum(axis=1), world.n_items - 1)
        return n

    def probe() -> int:
        sample_categorical(np.exp(utilities()), uniforms)
        return n

    def utilities() -> np.ndarray:
        utility = tastes @ factors_t
        utility += item_terms
        utility -= utility.max(axis=1, keepdims=True)
        return utility

    out["probe"] = median_rate(probe, repeats)
    out["probe_naive"] = median_rate(probe_naive, repeats)
    return out


class ZeroEnv(gym.Env):
    """Spaces of CartRec-v1, no work: zero observations, sessions of 10 steps."""

    def __init__(self, observation_space, action_space):
        self.observation_space, self.action_space = observation_space, action_space
        self._obs = np.zeros(observation_space.shape, dtype=np.float32)
        self._t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._t = 0
        return self._obs, {}

    def step(self, action):
        self._t += 1
        return self._obs, 0.0, self._t >= 10, False, {}


def ppo_rates(frames: int, repeats: int) -> dict[str, float]:
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv

    from cartgym.agents.sb3 import keep_quiet, make_sb3_vec_env

    torch.set_num_threads(1)
    spaces = gym.make("CartRec-v1")
    obs_space, act_space = spaces.observation_space, spaces.action_space

    class ZeroVecEnv(VecEnv):
        def __init__(self, n):
            super().__init__(n, obs_space, act_space)
            self._obs = np.zeros((n, *obs_space.shape), dtype=np.float32)
            self._t = np.zeros(n, dtype=int)

        def reset(self):
            self._t[:] = 0
            return self._obs.copy()

        def step_async(self, actions):
            pass

        def step_wait(self):
            self._t += 1
            dones = self._t >= 10
            infos = [{"terminal_observation": self._obs[0]} if d else {} for d in dones]
            self._t[dones] = 0
            return self._obs.copy(), np.zeros(self.num_envs, np.float32), dones, infos

        def close(self):
            pass

        def get_attr(self, name, indices=None):
            return [None] * self.num_envs

        def set_attr(self, name, value, indices=None):
            pass

        def env_method(self, name, *args, indices=None, **kwargs):
            return [None] * self.num_envs

        def env_is_wrapped(self, wrapper_class, indices=None):
            return [False] * self.num_envs

    makers = {
        "ppo n_envs=1 CartRec-v1": lambda: DummyVecEnv([lambda: gym.make("CartRec-v1")]),
        "ppo n_envs=1 zero-cost": lambda: DummyVecEnv([lambda: ZeroEnv(obs_space, act_space)]),
        "ppo n_envs=8 CartRec-v1": lambda: make_sb3_vec_env("CartRec-v1", n_envs=8, seed=0),
        "ppo n_envs=8 zero-cost": lambda: ZeroVecEnv(8),
    }
    out = {}
    for name, make in makers.items():
        venv = make()
        n_steps = max(frames // venv.num_envs, 64)
        model = keep_quiet(PPO("MlpPolicy", venv, n_steps=n_steps, seed=0, device="cpu"))
        model.learn(n_steps * venv.num_envs)  # warm-up: allocations, first update
        out[name] = median_rate(
            lambda m=model, k=n_steps * venv.num_envs: (m.learn(k, reset_num_timesteps=False), k)[
                1
            ],
            repeats,
        )
    return out


def memory_profile(total_steps: int, n: int = 16_384) -> list[tuple[int, float]]:
    """(shopper-steps, resident MiB) every million shopper-steps of a vector-env run."""
    env = gym.make_vec("CartRec-v1", num_envs=n, vectorization_mode="vector_entry_point")
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    samples, done, next_mark = [], 0, 1_000_000
    while done < total_steps:
        env.step(rng.integers(0, env.unwrapped.catalogue.n_items, size=n))
        done += n
        if done >= next_mark:
            samples.append((done, _rss_mib()))
            next_mark += 1_000_000
    return samples


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def profile_step(n: int = 16_384, steps: int = 20) -> str:
    """The top of a cProfile of the v1 vector step (observations and masks read)."""
    import cProfile
    import io
    import pstats

    env = gym.make_vec("CartRec-v1", num_envs=n, vectorization_mode="vector_entry_point")
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    actions = [rng.integers(0, env.unwrapped.catalogue.n_items, size=n) for _ in range(steps)]
    env.step(actions[0])
    profiler = cProfile.Profile()
    profiler.enable()
    for action in actions:
        env.step(action)
        env.unwrapped.action_masks()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    body = "\n".join(line for line in out.getvalue().splitlines() if line.strip())
    title = f"Profile of {steps} steps of the vector env at N = {n:,} (numpy; top 15 by own time)"
    return f"{title}:\n\n```\n{body}\n```"
