"""Soak: a long vector-env run and many single-env episodes, with resident memory sampled.

    python benchmarks/soak.py                       # 10M vector steps, 100,000 episodes
    python benchmarks/soak.py --vector-steps 2000000 --episodes 10000   # shorter

Resident memory (from /proc/self/statm) is recorded after every million vector-env
shopper-steps and every 10,000 single-env episodes; the growth from the first sample
to the last must stay under 5%. Every step is also checked: finite rewards and
observations, masks equal to the complement of the cart. Prints a table and a verdict;
``--json`` writes the numbers for the reliability report.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass, field

import gymnasium as gym
import numpy as np

import cartgym  # noqa: F401


@dataclass
class SoakResult:
    vector_steps: int = 0
    episodes: int = 0
    single_steps: int = 0
    vector_rss_mib: list[tuple[int, float]] = field(default_factory=list)
    single_rss_mib: list[tuple[int, float]] = field(default_factory=list)
    seconds: float = 0.0

    @staticmethod
    def growth(samples: list[tuple[int, float]]) -> float:
        return (samples[-1][1] - samples[0][1]) / samples[0][1] if len(samples) > 1 else 0.0


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def soak(vector_steps: int, episodes: int, lanes: int = 16_384, seed: int = 0) -> SoakResult:
    result = SoakResult()
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    env = gym.make_vec("CartRec-v0", num_envs=lanes, vectorization_mode="vector_entry_point")
    obs, _ = env.reset(seed=seed)
    core = env.unwrapped
    mark = 1_000_000
    while result.vector_steps < vector_steps:
        obs, reward, _, _, _ = env.step(rng.integers(0, core.world.n_items, size=lanes))
        result.vector_steps += lanes
        if result.vector_steps >= mark:
            assert np.isfinite(obs).all() and np.isfinite(reward).all()
            assert np.array_equal(core.action_masks(), ~core.sim.in_cart)
            result.vector_rss_mib.append((result.vector_steps, rss_mib()))
            print(
                f"vector {result.vector_steps:>12,} shopper-steps  rss {rss_mib():8.1f} MiB",
                flush=True,
            )
            mark += 1_000_000
    del env, core, obs

    single = gym.make("CartRec-v0")
    single.reset(seed=seed)
    inner = single.unwrapped
    while result.episodes < episodes:
        while True:
            mask = inner.action_masks()
            action = int(rng.integers(0, len(mask)))
            obs, reward, terminated, truncated, _ = single.step(action)
            result.single_steps += 1
            if terminated or truncated:
                break
        assert np.isfinite(obs).all() and np.isfinite(reward)
        single.reset()
        result.episodes += 1
        if result.episodes % 10_000 == 0:
            result.single_rss_mib.append((result.episodes, rss_mib()))
            print(
                f"single {result.episodes:>12,} episodes       rss {rss_mib():8.1f} MiB", flush=True
            )
    result.seconds = time.perf_counter() - started
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vector-steps", type=int, default=10_000_000)
    parser.add_argument("--episodes", type=int, default=100_000)
    parser.add_argument("--json", help="write the result as JSON to this file")
    args = parser.parse_args()
    result = soak(args.vector_steps, args.episodes)
    vector_growth = SoakResult.growth(result.vector_rss_mib)
    single_growth = SoakResult.growth(result.single_rss_mib)
    print(
        f"\n{result.vector_steps:,} vector-env shopper-steps: memory {vector_growth:+.2%} from "
        f"the first to the last million\n{result.episodes:,} single-env episodes "
        f"({result.single_steps:,} steps): memory {single_growth:+.2%} from the first to the "
        f"last sample\n{result.seconds:.0f} s in all"
    )
    ok = abs(vector_growth) < 0.05 and abs(single_growth) < 0.05
    print("PASS: memory flat within 5%" if ok else "FAIL: memory grew by 5% or more")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(
                {
                    **asdict(result),
                    "vector_growth": vector_growth,
                    "single_growth": single_growth,
                    "ok": ok,
                },
                out,
                indent=1,
            )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
