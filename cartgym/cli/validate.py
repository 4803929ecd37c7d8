"""``cartgym validate``: simulated shoppers against held-out real ones.

    cartgym validate WORLD HELDOUT --user-col C --basket-col C --item-col C [...] --out DIR
    cartgym validate --refit online_retail [--split user] --out DIR

The first form compares a fitted world (a file or a bundled name) with held-out
transactions (a CSV or parquet file, columns mapped as in ``cartgym fit``); fit the world
on data that excludes them. The second splits a bundled log itself (the last month held
out, or 20% of users), fits a world on the rest and validates it. Prints each target and
whether it is met; ``--json`` prints every number.
"""

from __future__ import annotations

import argparse

from cartgym.cli.parsing import OneLineParser, add_column_flags, load_mapped
from cartgym.fidelity.report import FidelityConfig, FidelityReport
from cartgym.fidelity.validate import fit_and_validate, validate

REFIT_SOURCES = ("online_retail", "complete_journey")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="cartgym validate", description=__doc__.splitlines()[0])
    parser.add_argument("world", nargs="?", help="a world file or a bundled world name")
    parser.add_argument("heldout", nargs="?", help="held-out transactions (.csv or .parquet)")
    parser.add_argument(
        "--refit", choices=REFIT_SOURCES, help="split, fit and validate a bundled log"
    )
    parser.add_argument("--split", choices=("temporal", "user"), default="temporal")
    add_column_flags(parser)
    parser.add_argument("--out", help="folder for report.md, report.json and the plots")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--replicas", type=int, default=3, help="simulated sessions per basket")
    parser.add_argument("--max-baskets", type=int, help="compare at most this many baskets")
    parser.add_argument("--json", action="store_true", help="print every number as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    config = FidelityConfig(
        seed=args.seed, replicas=args.replicas, max_baskets=args.max_baskets, plots=bool(args.out)
    )
    command = "cartgym validate " + " ".join(argv or [])
    if args.refit:
        if args.world or args.heldout:
            parser.error("give either WORLD HELDOUT or --refit, not both")
        _, report = fit_and_validate(
            _bundled(args.refit), args.out, split=args.split, config=config, command=command
        )
    else:
        if not (args.world and args.heldout):
            parser.error("give WORLD and HELDOUT (or --refit SOURCE)")
        heldout = load_mapped(args.heldout, args)
        report = validate(args.world, heldout, args.out, config=config, command=command)
    print(report.to_json() if args.json else summary(report))
    return 0


def summary(report: FidelityReport) -> str:
    lines = [f"{report.world} against {report.heldout}:"]
    for target in report.targets:
        verdict = "met" if target.met else f"missed by {target.miss:.3g}"
        lines.append(
            f"  {target.name}: {target.value:.4f} ({target.op} {target.threshold}) {verdict}"
        )
    return "\n".join(lines)


def _bundled(name: str):
    from cartgym.data import load_complete_journey, load_online_retail

    return load_online_retail() if name == "online_retail" else load_complete_journey()
