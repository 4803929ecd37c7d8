"""How fast the simulator runs, against references measured in the same run, each row
beside its target with the verdict computed here (never typed).

    python benchmarks/throughput.py --output docs/results/throughput.md   # about 25 min
    python benchmarks/throughput.py --quick    # a smoke-sized run
    python benchmarks/throughput.py --devices cuda   # add the CUDA rows (GPU machine)

Every figure is the median of ``--repeats`` runs; torch runs with one thread
(``torch.set_num_threads(1)``), numpy with its default BLAS threads. The environment is
CartRec-v1 (each session with its twin) unless a row says v0. Rows:

- single env via ``gym.make`` (random actions), catalogue 100, 1,000 and all items;
- ``CartPole-v1`` via ``gym.make``, random actions (reference);
- the native vector env at N = 1, 64, 1,024, 16,384 shoppers, per backend: the full step
  with the observations and the action masks read each step, copied (the default) and
  as the persistent buffers (``copy_buffers=False``); and v0's at N = 16,384;
- the TorchRL env (``CartRecTorchEnv``) per device, and TorchRL PPO's training frames/s;
- the recommendation response alone (``CartSimulator.respond``) at N = 16,384;
- the organic full-catalogue choice of 4,096 shoppers (utilities refreshed, one draw
  each) against a probe of its raw cost: one matrix product of tastes and item
  embeddings, exp, and one draw per shopper by the same two-level inverse CDF (the
  ceiling), and the same with a plain row-wise cumulative sum (numpy's obvious way);
- SB3 PPO (default settings) training frames/s on CartRec-v1 and on a zero-cost env with
  the same spaces, n_envs 1 (DummyVecEnv) and 8 (the native adapter vs a batched
  zero-cost VecEnv);
- resident memory over a long vector-env run, sampled every million shopper-steps;
- ``--profile``: where the time of the N = 16,384 vector step goes (cProfile, top rows).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
from throughput_parts import (
    median_rate,
    memory_profile,
    ppo_rates,
    profile_step,
    response_and_organic,
)

import cartgym
from cartgym.calibrate import FitConfig, ShopperWorld, fit, fit_v1
from cartgym.data import load_online_retail, online_retail_item_names
from cartgym.world import resolve_world

CACHE = Path(os.environ.get("CARTGYM_CACHE", Path.home() / ".cache" / "cartgym"))


@dataclass(frozen=True)
class Args:
    repeats: int = 5
    quick: bool = False
    devices: tuple[str, ...] = ("cpu",)
    memory_steps: int | None = None  # None: 10M (2M with quick)
    output: str | None = None
    profile: bool = False
    command: str = ""


def full_catalogue_world(schema: int = 2) -> ShopperWorld:
    """The world of every Online Retail item (cached): v1's (schema 2) or v0's."""
    path = CACHE / f"online_retail_all_items_schema{schema}.npz"
    if path.exists():
        return ShopperWorld.load(path)
    CACHE.mkdir(parents=True, exist_ok=True)
    fitter = fit_v1 if schema == 2 else fit
    world = fitter(
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


def vector_env_rate(
    n: int,
    backend: str,
    device: str,
    repeats: int,
    target: int,
    env_id: str = "CartRec-v1",
    copy_buffers: bool = True,
    **env_kwargs,
) -> float:
    """Shopper-steps/s of the full vector-env step, its observations and masks read."""
    env = gym.make_vec(
        env_id,
        num_envs=n,
        vectorization_mode="vector_entry_point",
        backend=backend,
        device=device,
        copy_buffers=copy_buffers,
        **env_kwargs,
    )
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    steps = max(3, target // n)
    m = env.unwrapped.catalogue.n_items
    actions = [rng.integers(0, m, size=n) for _ in range(steps)]
    env.step(actions[0])
    core = env.unwrapped

    def run() -> int:
        for action in actions:
            obs, *_ = env.step(action)
            masks = core.action_masks()
            _ = (obs[0, 0], masks[0, 0])  # read both
        return steps * n

    return median_rate(run, repeats)


def torchrl_env_rate(n: int, device: str, repeats: int, target: int) -> float:
    """Env-steps/s of CartRecTorchEnv (random actions, auto-reset), on ``device``."""
    import torch

    from cartgym.envs.torchrl import CartRecTorchEnv

    env = CartRecTorchEnv("CartRec-v1", num_envs=n, device=device)
    env.set_seed(0)
    td = env.reset()
    steps = max(3, target // n)
    generator = torch.Generator(device=device).manual_seed(0)
    actions = [
        torch.randint(0, env.n_actions - 1, (n,), device=device, generator=generator)
        for _ in range(steps)
    ]

    def run() -> int:
        nonlocal td
        for action in actions:
            td.set("action", action)
            _, td = env.step_and_maybe_reset(td)
        if device != "cpu":
            torch.cuda.synchronize()
        return steps * n

    return median_rate(run, repeats)


def torchrl_ppo_rate(frames: int, num_envs: int, device: str) -> float:
    """Training frames/s of TorchRL PPO end to end (collection, GAE, updates)."""
    from cartgym.agents.torchrl_ppo import PPOConfig, train_ppo

    config = PPOConfig(
        total_steps=frames,
        num_envs=num_envs,
        rollout_steps=max(frames // num_envs // 4, 8),
        batch_size=max(256, frames // 16),
        device=device,
    )
    _, curve = train_ppo(config)
    return float(curve[-1]["frames_per_s"])


class Table:
    """The rows of the page, each with its target and the verdict computed from the rates.
    With an ``output``, the page is rewritten after every row, marked partial until
    :meth:`finish`: a run stopped early keeps what it measured."""

    def __init__(self, header: str, output: str | None = None, preamble: tuple[str, ...] = ()):
        self.lines = [header, "", "| what | setting | rate | unit | target | verdict |"]
        self.lines.append("|---|---|---|---|---|---|")
        self.rates: dict[str, float] = {}
        self.output, self.preamble = output, list(preamble)
        print("\n".join(self.lines), flush=True)

    def write(self, partial: bool = True) -> None:
        if self.output:
            end = ["", "**Partial: the run stopped before its end.**"] if partial else []
            Path(self.output).write_text("\n".join([*self.preamble, *self.lines, *end]) + "\n")

    def finish(self) -> None:
        self.write(partial=False)

    def row(
        self,
        key: str,
        what: str,
        setting: str,
        rate: float,
        unit: str,
        target: str = "",
        verdict: str = "",
    ) -> float:
        self.rates[key] = rate
        self.lines.append(f"| {what} | {setting} | {rate:,.0f} | {unit} | {target} | {verdict} |")
        print(self.lines[-1], flush=True)
        self.write()
        return rate

    def note(self, text: str) -> None:
        self.lines.append(text)
        print(text, flush=True)
        self.write()


def verdict(met: bool, detail: str) -> str:
    return f"{'met' if met else '**missed**'} ({detail})"


def main(args: Args) -> list[str]:
    repeats = 3 if args.quick else args.repeats
    scale = 0.1 if args.quick else 1.0
    table = Table(
        f"cartgym {cartgym.__version__}, python {platform.python_version()}, "
        f"numpy {np.__version__}, {os.cpu_count()} cpus; torch threads 1; median of "
        f"{repeats} runs; CartRec-v1 unless a row says v0",
        args.output,
        (
            "# Throughput",
            "",
            "<!-- generated by benchmarks/throughput.py; do not edit -->",
            "",
            f"Command: `python benchmarks/throughput.py {args.command}`",
            "",
        ),
    )
    full = full_catalogue_world(schema=2)
    steps = int(20_000 * scale)
    cartpole = single_env_rate("CartPole-v1", steps, repeats)
    for label, kwargs in (
        ("100 items", {"n_items": 100}),
        ("1,000 items", {}),
        (f"{full.n_items:,} items (all)", {"world": full}),
    ):
        rate = single_env_rate("CartRec-v1", steps, repeats, **kwargs)
        ratio = rate / cartpole
        table.row(
            f"single {label}",
            "single env, gym.make",
            label,
            rate,
            "steps/s",
            ">= 0.5x CartPole-v1",
            verdict(ratio >= 0.5, f"{ratio:.3f}x"),
        )
    table.row("cartpole", "CartPole-v1, gym.make", "reference", cartpole, "steps/s")

    backends = [("numpy", "cpu")]
    try:
        import torch

        torch.set_num_threads(1)
        backends += [("torch", d) for d in args.devices if d == "cpu" or torch.cuda.is_available()]
    except ImportError:
        pass
    for backend, device in backends:
        for n in (1, 64, 1_024, 16_384):
            for copy in (True, False):
                if not copy and (backend != "numpy" or n < 1_024):
                    continue
                target_steps = int((5_000 if n == 1 else 400_000) * scale)
                rate = vector_env_rate(n, backend, device, repeats, target_steps, copy_buffers=copy)
                setting = f"{backend} {device}, N={n:,}" + ("" if copy else ", buffers")
                target, judged = "", ""
                if backend == "numpy" and n == 16_384:
                    ratio = rate / cartpole
                    target = ">= 1,000,000 (about 14x CartPole-v1)"
                    judged = verdict(rate >= 1e6, f"{ratio:.2f}x CartPole-v1")
                elif backend == "torch" and device == "cpu" and n >= 1_024:
                    numpy_rate = table.rates[f"numpy cpu {n}"]
                    target = ">= numpy at the same N"
                    judged = verdict(rate >= numpy_rate, f"{rate / numpy_rate:.2f}x numpy")
                elif device == "cuda" and n == 16_384:
                    target = ">= 100,000,000 on one H200"
                    judged = verdict(rate >= 1e8, f"{rate / 1e8:.3f}x")
                key = f"{backend} {device} {n}" + ("" if copy else " buffers")
                table.row(
                    key, "vector env, 1,000 items", setting, rate, "shopper-steps/s", target, judged
                )
    v0 = vector_env_rate(16_384, "numpy", "cpu", repeats, int(400_000 * scale), "CartRec-v0")
    table.row(
        "v0 16384", "vector env, 1,000 items", "v0, numpy cpu, N=16,384", v0, "shopper-steps/s"
    )

    try:
        devices = ["cpu"] + [d for d in args.devices if d == "cuda"]
        for device in devices:
            for n in (1_024, 16_384):
                rate = torchrl_env_rate(n, device, repeats, int(400_000 * scale))
                target = ">= 100,000,000 on one H200" if device == "cuda" and n == 16_384 else ""
                judged = verdict(rate >= 1e8, f"{rate / 1e8:.3f}x") if target else ""
                table.row(
                    f"torchrl {device} {n}",
                    "TorchRL env (CartRecTorchEnv)",
                    f"{device}, N={n:,}",
                    rate,
                    "env-steps/s",
                    target,
                    judged,
                )
            lanes = 1_024 if device == "cpu" else 16_384
            rate = torchrl_ppo_rate(int(lanes * 64 * max(scale, 0.25)), lanes, device)
            target = ">= 1,000,000 on one H200" if device == "cuda" else ""
            judged = verdict(rate >= 1e6, f"{rate / 1e6:.3f}x") if target else ""
            table.row(
                f"torchrl ppo {device}",
                "TorchRL PPO, end to end",
                f"{device}, {lanes:,} sessions",
                rate,
                "frames/s",
                target,
                judged,
            )
        if "cuda" not in devices:
            table.note("CUDA rows: not run (no GPU on this machine; `--devices cuda` adds them)")
    except ImportError as error:
        table.note(f"TorchRL rows: not run ({error}; pip install 'cartgym[torchrl]')")

    world = resolve_world("online_retail")
    phases = response_and_organic(world, repeats)
    table.row(
        "response",
        "recommendation response only (not the step)",
        "N=16,384",
        phases["response"],
        "shopper-steps/s",
    )
    table.row(
        "organic", "organic full-catalogue choice", "4,096 shoppers", phases["organic"], "choices/s"
    )
    table.row(
        "probe",
        "probe: matrix product + two-level draw",
        "4,096 shoppers",
        phases["probe"],
        "choices/s",
    )
    table.row(
        "probe naive",
        "probe: matrix product + cumsum draw",
        "4,096 shoppers",
        phases["probe_naive"],
        "choices/s",
    )

    ppo_repeats = max(1, repeats // 2)  # each PPO run trains a model: fewer of them
    try:
        ppo = ppo_rates(int(4096 * max(scale, 0.25)), ppo_repeats)
    except ImportError:
        ppo = {}
    for n_envs in (1, 8):
        cart, zero = (
            ppo.get(f"ppo n_envs={n_envs} CartRec-v1"),
            ppo.get(f"ppo n_envs={n_envs} zero-cost"),
        )
        if cart and zero:
            table.row(
                f"sb3 zero {n_envs}",
                "SB3 PPO (zero-cost env)",
                f"n_envs={n_envs}",
                zero,
                "frames/s",
            )
            table.row(
                f"sb3 {n_envs}",
                "SB3 PPO",
                f"n_envs={n_envs} CartRec-v1",
                cart,
                "frames/s",
                ">= 0.85x the zero-cost env",
                verdict(cart / zero >= 0.85, f"{cart / zero:.2f}x"),
            )

    memory_steps = args.memory_steps or (2_000_000 if args.quick else 10_000_000)
    samples = memory_profile(memory_steps)
    first, last = samples[0][1], samples[-1][1]
    growth = (last - first) / first
    long_enough = samples[-1][0] >= 10_000_000
    table.row(
        "memory",
        "resident memory at the end, vector env N=16,384",
        f"{samples[-1][0]:,} shopper-steps",
        last,
        "MiB",
        "flat within 5% over 10M steps",
        verdict(abs(growth) <= 0.05, f"{growth:+.1%} from {first:.0f} MiB at 1M")
        if long_enough
        else f"not judged: {samples[-1][0]:,} steps, under 10M",
    )
    if args.profile:
        table.note("")
        table.note(profile_step())
    table.finish()
    return table.lines


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=Args.repeats)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--devices", nargs="+", default=list(Args.devices), choices=["cpu", "cuda"])
    parser.add_argument(
        "--memory-steps", type=int, default=None, help="default 10M (2M with --quick)"
    )
    parser.add_argument("--output", help="also write the table (markdown) to this file")
    parser.add_argument("--profile", action="store_true", help="add the step's profile")
    ns = parser.parse_args()
    command = " ".join(sys.argv[1:])
    main(
        Args(
            ns.repeats, ns.quick, tuple(ns.devices), ns.memory_steps, ns.output, ns.profile, command
        )
    )
