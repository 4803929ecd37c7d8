"""How long fitting the default world takes, and how well its choice model predicts.

    python benchmarks/fit_time.py [--repeats 3]

1. Time to fit the default world from the raw bundled data (load, clean, fit), the
   median of ``--repeats`` runs, in one process (goal: under 60 s on 2 cores).
2. Held-out log-likelihood per choice on a temporal split (the last month held out):
   the world is fitted on the earlier baskets, and every held-out choice is scored
   against the whole catalogue by the full model, the no-complementarity and the
   popularity-only models (each refitted by maximum likelihood) and a uniform choice.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from dataclasses import dataclass

import numpy as np

from cartgym.calibrate import FitConfig, fit
from cartgym.calibrate.evaluate import heldout_log_likelihood
from cartgym.data import load_online_retail, online_retail_item_names, temporal_split


@dataclass(frozen=True)
class Args:
    repeats: int = 3
    seed: int = 0


def main(args: Args) -> None:
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"{os.cpu_count()} cpus, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    times, load_times = [], []
    for _ in range(args.repeats):
        started = time.perf_counter()
        transactions = load_online_retail()
        loaded = time.perf_counter()
        world = fit(transactions, FitConfig(seed=args.seed), item_names=online_retail_item_names())
        times.append(time.perf_counter() - started)
        load_times.append(loaded - started)
    print(
        f"\nfit default world from raw bundled data: median {statistics.median(times):.1f} s "
        f"over {args.repeats} runs (load+clean median {statistics.median(load_times):.1f} s; "
        f"runs: {', '.join(f'{t:.1f}' for t in times)})"
    )
    print(world.summary())

    train, test = temporal_split(transactions)
    heldout_world = fit(train, FitConfig(seed=args.seed))
    result = heldout_log_likelihood(heldout_world, test, seed=args.seed)
    per_choice = result["per_choice"]
    print(
        f"\nheld-out log-likelihood per choice, last month held out "
        f"({result['choices']} choices in {result['baskets']} baskets; "
        f"{result['baskets_of_unknown_users']} baskets of users unseen in training; "
        f"{result['lines_outside_catalogue']} lines outside the catalogue left out):"
    )
    print(f"  {'model':<18}{'log-lik/choice':>16}{'vs full':>10}{'perplexity':>12}")
    for name, value in sorted(per_choice.items(), key=lambda item: -item[1]):
        gap = value - per_choice["full"]
        print(f"  {name:<18}{value:>16.4f}{gap:>+10.4f}{np.exp(-value):>12.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=Args.repeats)
    parser.add_argument("--seed", type=int, default=Args.seed)
    main(Args(**vars(parser.parse_args())))
