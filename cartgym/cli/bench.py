"""``cartgym bench``: run a benchmark sweep (agents x environments x seeds).

    cartgym bench --preset quick --out runs/quick
    cartgym bench --config my_sweep.json --backend ray --address auto

A sweep is a :class:`~cartgym.harness.config.BenchConfig`; see :mod:`cartgym.harness`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cartgym.cli.parsing import OneLineParser
from cartgym.harness.config import BenchConfig, ConfigError
from cartgym.harness.executors import EXECUTORS, sweep
from cartgym.harness.presets import PRESETS
from cartgym.harness.report import compact, write_report


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="cartgym bench", description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--preset", choices=sorted(PRESETS))
    which.add_argument("--config", help="a JSON file with BenchConfig keys")
    parser.add_argument("--out", help="results folder (default: runs/<config name>)")
    parser.add_argument("--backend", choices=EXECUTORS, default="local")
    parser.add_argument("--address", help="Ray cluster address (with --backend ray)")
    parser.add_argument("--workers", type=int, default=1, help="parallel runs (default 1)")
    parser.add_argument("--fresh", action="store_true", help="discard earlier rows in --out")
    parser.add_argument("--report", help="write the markdown report and plots to this folder")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.workers < 1:
        raise ConfigError(f"--workers: expected a positive integer, got {args.workers}")
    config = (
        BenchConfig.from_dict(PRESETS[args.preset])
        if args.preset
        else BenchConfig.from_file(args.config)
    )
    out = args.out or f"runs/{config.name}"
    table = sweep(
        config,
        out,
        backend=args.backend,
        workers=args.workers,
        address=args.address,
        fresh=args.fresh,
        progress=not args.no_progress,
    )
    print(f"{len(table)} rows in {Path(out) / 'results.parquet'}")
    if args.report:
        path = write_report(Path(out) / "results.parquet", args.report)
        print("\n" + compact(table) + f"full report: {path}")
    return 0
