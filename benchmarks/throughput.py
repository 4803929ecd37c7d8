"""How fast the simulator runs, against references measured in the same run.

    python benchmarks/throughput.py            # full: about 15 minutes on 2 cores
    python benchmarks/throughput.py --quick    # a smoke-sized run
    python benchmarks/throughput.py --devices cuda   # add the torch CUDA rows (GPU machine)

Every figure is the median of ``--repeats`` runs; torch runs with one thread
(``torch.set_num_threads(1)``), numpy with its default BLAS threads. Rows:

- single env via ``gym.make`` (random actions), catalogue 100, 1,000 and all items;
- ``CartPole-v1`` via ``gym.make``, random actions (reference);
- the native vector env at N = 1, 64, 1,024, 16,384 shoppers, per backend;
- the recommendation response alone (``CartSimulator.respond``) at N = 16,384;
- the organic full-catalogue choice of 4,096 shoppers (utilities refreshed, one draw
  each) against a probe of its raw cost: one matrix product of tastes and item
  embeddings, exp, and one draw per shopper by the same two-level inverse CDF (the
  ceiling), and the same with a plain row-wise cumulative sum (numpy's obvious way);
- SB3 PPO (default settings) training frames/s on CartRec-v0 and on a zero-cost env with
  the same spaces, n_envs 1 (DummyVecEnv) and 8 (the native adapter vs a batched
  zero-cost VecEnv);
- resident memory over a long vector-env run, sampled every million shopper-steps.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np

import cartgym
from cartgym.calibrate import FitConfig, ShopperWorld, fit
from cartgym.data import load_online_retail, online_retail_item_names
from cartgym.sim import CartSimulator, sample_categorical
from cartgym.world import resolve_world

CACHE = Path(os.environ.get("CARTGYM_CACHE", Path.home() / ".cache" / "cartgym"))


@dataclass(frozen=True)
class Args:
    repeats: int = 5
    quick: bool = False
    devices: tuple[str, ...] = ("cpu",)
    memory_steps: int = 10_000_000
    output: str | None = None


def median_rate(run: Callable[[], int], repeats: int) -> float:
    """Median over ``repeats`` of (units done by ``run()``) / seconds."""
    rates = []
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        units = run()
        rates.append(units / (time.perf_counter() - started))
    return statistics.median(rates)


def full_catalogue_world() -> ShopperWorld:
    path = CACHE / "online_retail_all_items.npz"
    if path.exists():
        return ShopperWorld.load(path)
    CACHE.mkdir(parents=True, exist_ok=True)
    world = fit(
        load_online_retail(), FitConfig(n_items=None), item_names=online_retail_item_names()
    )
    return ShopperWorld.load(world.save(path))


def single_env_rate(env_id: str, steps: int, repeats: int, **kwargs) -> float:
    env = gym.make(env_id, **kwargs)
    env.reset(seed=0)
    actions = [env.action_space.sample() for _ in range(steps)]

    def run() -> int:
        for action in actions:
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        return steps

    return median_rate(run, repeats)


def vector_env_rate(n: int, backend: str, device: str, repeats: int, target: int) -> float:
    env = gym.make_vec(
        "CartRec-v0",
        num_envs=n,
        vectorization_mode="vector_entry_point",
        backend=backend,
        device=device,
    )
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    steps = max(3, target // n)
    actions = [rng.integers(0, env.unwrapped.world.n_items, size=n) for _ in range(steps)]
    env.step(actions[0])

    def run() -> int:
        for action in actions:
            env.step(action)
        return steps * n

    return median_rate(run, repeats)


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
    """Spaces of CartRec-v0, no work: zero observations, sessions of 10 steps."""

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

    from cartgym.agents.sb3 import make_sb3_vec_env

    torch.set_num_threads(1)
    spaces = gym.make("CartRec-v0")
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
        "ppo n_envs=1 CartRec-v0": lambda: DummyVecEnv([lambda: gym.make("CartRec-v0")]),
        "ppo n_envs=1 zero-cost": lambda: DummyVecEnv([lambda: ZeroEnv(obs_space, act_space)]),
        "ppo n_envs=8 CartRec-v0": lambda: make_sb3_vec_env("CartRec-v0", n_envs=8, seed=0),
        "ppo n_envs=8 zero-cost": lambda: ZeroVecEnv(8),
    }
    out = {}
    for name, make in makers.items():
        venv = make()
        n_steps = max(frames // venv.num_envs, 64)
        model = PPO("MlpPolicy", venv, n_steps=n_steps, seed=0, device="cpu", verbose=0)
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
    env = gym.make_vec("CartRec-v0", num_envs=n, vectorization_mode="vector_entry_point")
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    samples, done, next_mark = [], 0, 1_000_000
    while done < total_steps:
        env.step(rng.integers(0, env.unwrapped.world.n_items, size=n))
        done += n
        if done >= next_mark:
            samples.append((done, _rss_mib()))
            next_mark += 1_000_000
    return samples


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main(args: Args) -> list[str]:
    repeats = 3 if args.quick else args.repeats
    scale = 0.1 if args.quick else 1.0
    lines = [
        f"cartgym {cartgym.__version__}, python {platform.python_version()}, "
        f"numpy {np.__version__}, "
        f"{os.cpu_count()} cpus; torch threads 1; median of {repeats} runs",
        "",
        "| what | setting | rate | unit |",
        "|---|---|---|---|",
    ]

    def row(what: str, setting: str, rate: float, unit: str) -> None:
        lines.append(f"| {what} | {setting} | {rate:,.0f} | {unit} |")
        print(lines[-1], flush=True)

    print("\n".join(lines))
    world = resolve_world("online_retail")
    full = full_catalogue_world()
    steps = int(20_000 * scale)
    for label, kwargs in (
        ("100 items", {"n_items": 100}),
        ("1,000 items", {}),
        (f"{full.n_items:,} items (all)", {"world": full}),
    ):
        row(
            "single env, gym.make",
            label,
            single_env_rate("CartRec-v0", steps, repeats, **kwargs),
            "steps/s",
        )
    row(
        "CartPole-v1, gym.make",
        "reference",
        single_env_rate("CartPole-v1", steps, repeats),
        "steps/s",
    )

    backends = [("numpy", "cpu")]
    try:
        import torch

        torch.set_num_threads(1)
        backends += [("torch", d) for d in args.devices if d == "cpu" or torch.cuda.is_available()]
    except ImportError:
        pass
    for backend, device in backends:
        for n in (1, 64, 1_024, 16_384):
            target = int((5_000 if n == 1 else 400_000) * scale)
            rate = vector_env_rate(n, backend, device, repeats, target)
            row("vector env, 1,000 items", f"{backend} {device}, N={n:,}", rate, "shopper-steps/s")

    phases = response_and_organic(world, repeats)
    row("recommendation response", "N=16,384", phases["response"], "shopper-steps/s")
    row("organic full-catalogue choice", "4,096 shoppers", phases["organic"], "choices/s")
    row("probe: matrix product + two-level draw", "4,096 shoppers", phases["probe"], "choices/s")
    row("probe: matrix product + cumsum draw", "4,096 shoppers", phases["probe_naive"], "choices/s")
    lines.append(f"\norganic choice at {phases['organic'] / phases['probe']:.2f}x the probe's rate")
    print(lines[-1])

    ppo_repeats = max(1, repeats // 2)  # each PPO run trains a model: fewer of them
    try:
        ppo = ppo_rates(int(4096 * max(scale, 0.25)), ppo_repeats)
    except ImportError:
        ppo = {}
    if ppo:
        lines.append(f"SB3 PPO rows: median of {ppo_repeats} runs")
    for name, rate in ppo.items():
        row("SB3 " + name.split(" ", 1)[0], name.split(" ", 1)[1], rate, "frames/s")
    for n_envs in (1, 8):
        cart, zero = (
            ppo.get(f"ppo n_envs={n_envs} CartRec-v0"),
            ppo.get(f"ppo n_envs={n_envs} zero-cost"),
        )
        if cart and zero:
            lines.append(
                f"PPO n_envs={n_envs}: CartRec-v0 at {cart / zero:.2f}x "
                "the zero-cost env's frames/s"
            )
            print(lines[-1])

    samples = memory_profile(int(args.memory_steps * (0.2 if args.quick else 1.0)))
    first, last = samples[0][1], samples[-1][1]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines.append(
        f"memory, vector env N=16,384 over {samples[-1][0]:,} shopper-steps: "
        f"{first:.0f} MiB at 1M, {last:.0f} MiB at the end ({(last - first) / first:+.1%}); "
        f"process peak {peak:.0f} MiB"
    )
    print(lines[-1])
    if args.output:
        Path(args.output).write_text("\n".join(lines) + "\n")
    return lines


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=Args.repeats)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--devices", nargs="+", default=list(Args.devices), choices=["cpu", "cuda"])
    parser.add_argument("--memory-steps", type=int, default=Args.memory_steps)
    parser.add_argument("--output", help="also write the table (markdown) to this file")
    ns = parser.parse_args()
    main(Args(ns.repeats, ns.quick, tuple(ns.devices), ns.memory_steps, ns.output))
