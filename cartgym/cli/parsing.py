"""What every command shares: one-line errors, argument types, the column flags."""

from __future__ import annotations

import argparse
import json
from typing import Any


class UserError(ValueError):
    """An error caused by the command's input, reported in one line (exit status 2)."""


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (exit status 2), no usage dump."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def add_column_flags(parser: argparse.ArgumentParser) -> None:
    """The ``--user-col`` ... ``--category-col`` flags that map a file's columns."""
    for column in ("user", "basket", "item"):
        parser.add_argument(f"--{column}-col", help=f"column holding the {column} id")
    for column in ("timestamp", "quantity", "price", "category"):
        parser.add_argument(f"--{column}-col", help=f"optional column holding the {column}")


def load_mapped(source: str, args: argparse.Namespace, strict: bool = False):
    """Transactions from ``source`` with the column flags of ``args`` (see add_column_flags)."""
    from cartgym.data import load_transactions

    missing = [f"--{c}-col" for c in ("user", "basket", "item") if not getattr(args, f"{c}_col")]
    if missing:
        raise UserError(f"reading {source} needs {', '.join(missing)}")
    return load_transactions(
        source,
        user_col=args.user_col,
        basket_col=args.basket_col,
        item_col=args.item_col,
        timestamp_col=args.timestamp_col,
        quantity_col=args.quantity_col,
        price_col=args.price_col,
        category_col=args.category_col,
        strict=strict,
    )


def positive_int(text: str) -> int:
    """An argparse type: a positive integer (``1_000`` allowed)."""
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """An argparse type: an integer >= 0."""
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def json_object(text: str) -> dict[str, Any]:
    """An argparse type: a JSON object."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"invalid JSON {text!r}: {error.msg}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object like '{\"n_items\": 100}'")
    return value


def reward_scale(text: str) -> float | str | None:
    """An argparse type: ``auto``, ``none`` or a positive number."""
    if text in ("auto", "none"):
        return None if text == "none" else text
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected 'auto', 'none' or a number > 0, got {text!r}")
    return value
