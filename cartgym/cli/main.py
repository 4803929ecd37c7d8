"""The ``cartgym`` command line.

    cartgym fit SOURCE [--user-col C --basket-col C --item-col C ...] -o WORLD.npz
    cartgym info WORLD
    cartgym demo [--sessions N] [--seed S]
    cartgym bench --preset quick | --config FILE [--backend ray] ...   (needs [agents])
    cartgym report RESULTS --out FOLDER                                (needs [agents])
    cartgym train ALGORITHM ...                                        (needs [agents])
    cartgym validate WORLD HELDOUT ...

A user error (bad argument, missing file, unreadable data) prints one line and exits
with status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from cartgym.cli.parsing import (
    OneLineParser,
    UserError,
    add_column_flags,
    load_mapped,
    positive_int,
)

BUNDLED_SOURCES = ("online_retail",)
# Commands with parsers of their own (each has its own --help); all but validate need the
# [agents] extra for their SB3 parts.
PASSTHROUGH_HELP = {
    "bench": "run a benchmark sweep (agents x envs x seeds)",
    "report": "tables and plots of a sweep's results",
    "train": "train an SB3 agent on a cartgym environment",
    "validate": "compare simulated shoppers with held-out real ones",
}


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="cartgym", description="Shopping-cart recommendation environments.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser
    )

    fit = commands.add_parser("fit", help="fit a shopper world from transactions")
    fit.add_argument(
        "source", help="a .csv, .csv.gz or .parquet file, or 'online_retail' (bundled data)"
    )
    fit.add_argument("-o", "--output", required=True, help="world file to write (.npz)")
    add_column_flags(fit)
    fit.add_argument("--strict", action="store_true", help="fail on the first bad row")
    fit.add_argument("--n-items", type=positive_int, help="catalogue size (default 1000)")
    fit.add_argument("--all-items", action="store_true", help="keep every item")
    fit.add_argument("--factors", type=positive_int, help="embedding dimension (default 16)")
    fit.add_argument("--seed", type=int, default=0, help="seed of the fit (default 0)")
    fit.add_argument(
        "--v0",
        action="store_true",
        help="a schema-1 world for CartRec-v0 (no stop model); default: schema 2, CartRec-v1",
    )

    info = commands.add_parser("info", help="describe a world file")
    info.add_argument("world", help="a world file, or 'online_retail'")
    info.add_argument("--json", action="store_true", help="print the full fit report as JSON")

    # Commands implemented elsewhere get their arguments unparsed (each has its own --help).
    for name, help_text in PASSTHROUGH_HELP.items():
        passthrough = commands.add_parser(name, help=help_text, add_help=False)
        passthrough.add_argument("args", nargs=argparse.REMAINDER)

    demo = commands.add_parser("demo", help="roll out shoppers and print session metrics")
    demo.add_argument("--env", default="CartRec-v1", help="environment id")
    demo.add_argument("--world", help="world name or file (default: the environment's)")
    demo.add_argument("--sessions", type=positive_int, default=300, help="sessions per policy")
    demo.add_argument("--seed", type=int, default=0)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = argv[:1] == ["--debug"]
    rest = argv[1:] if debug else argv
    if rest and rest[0] in PASSTHROUGH_HELP:
        return _passthrough(rest[0], rest[1:], debug)
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"fit": _fit, "info": _info, "demo": _demo}
    try:
        handlers[args.command](args)
    except (UserError, ValueError, OSError) as error:
        if args.debug:
            raise
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"cartgym {args.command}: error: {message}", file=sys.stderr)
        return 2
    return 0


def _command(name: str) -> Callable[[list[str]], int]:
    """The ``main`` of a command with its own parser (imported here: they are heavier)."""
    if name == "bench":
        from cartgym.cli.bench import main
    elif name == "report":
        from cartgym.cli.report import main
    elif name == "train":
        from cartgym.cli.train import main
    else:
        from cartgym.cli.validate import main
    return main


def _passthrough(command: str, argv: list[str], debug: bool) -> int:
    try:
        run = _command(command)
    except ImportError as error:
        if debug:
            raise
        print(f'cartgym {command}: error: {error} (pip install "cartgym[agents]")', file=sys.stderr)
        return 2
    try:
        return int(run(argv) or 0)
    except (ValueError, OSError, ImportError) as error:
        if debug:
            raise
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"cartgym {command}: error: {message}", file=sys.stderr)
        return 2


def _fit(args: argparse.Namespace) -> None:
    from cartgym.calibrate import FitConfig, StopFitConfig, fit
    from cartgym.data import load_online_retail, online_retail_item_names

    output = Path(args.output)
    if not output.parent.exists():
        raise UserError(f"output folder {output.parent} does not exist")
    started = time.perf_counter()
    names = None
    if args.source in BUNDLED_SOURCES:
        transactions = load_online_retail(strict=args.strict)
        names = online_retail_item_names()
    else:
        transactions = load_mapped(args.source, args, strict=args.strict)
    print(transactions.report)
    # v1 (the default): every logged basket seeds sessions, the stop model is fitted too
    settings: dict[str, object] = {"seed": args.seed, "min_session_size": 2 if args.v0 else 1}
    if args.all_items:
        settings["n_items"] = None
    elif args.n_items:
        settings["n_items"] = args.n_items
    if args.factors:
        settings["factors"] = args.factors
    stop = None if args.v0 else StopFitConfig()
    world = fit(transactions, FitConfig.from_dict(settings), stop=stop, item_names=names)
    world.save(output)
    print(world.summary())
    print(f"wrote {output} in {time.perf_counter() - started:.1f} s")


def _info(args: argparse.Namespace) -> None:
    from cartgym.world import resolve_world

    world = resolve_world(args.world)
    if args.json:
        print(json.dumps(world.meta, indent=1, sort_keys=True, default=str))
    else:
        print(world.summary())


def _demo(args: argparse.Namespace) -> None:
    import gymnasium as gym

    import cartgym  # noqa: F401  (registers the environment ids)
    from cartgym.cli.demo import run_demo

    if args.env not in gym.registry:
        raise UserError(f"unknown environment id {args.env!r}")
    world_kwargs = {} if args.world is None else {"world": args.world}
    world = gym.make(args.env, **world_kwargs).unwrapped.world  # type: ignore[attr-defined]
    print(world.summary())
    print(
        f"\n{args.sessions} test sessions per policy on {args.env}, seed {args.seed}; "
        "mean [95% CI]:"
    )
    table = run_demo(args.env, args.sessions, args.seed, **world_kwargs)
    print(table.to_string())


if __name__ == "__main__":
    sys.exit(main())
