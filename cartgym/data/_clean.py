"""Cleaning rules: counted drops (or errors in strict mode), merges and ordering."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cartgym.data._read import Origin
from cartgym.data.report import CleaningReport, Transactions
from cartgym.data.schema import CANONICAL_COLUMNS, REQUIRED_COLUMNS

DUPLICATE = "exact duplicate line"


@dataclass(frozen=True, eq=False)
class Rule:
    """Drop the rows where ``mask`` is True, counted under ``reason``.

    A row is counted under the first rule that matches it. In strict mode a rule
    with ``strict=True`` raises DataError at its first row instead; rules with
    ``strict=False`` are selection policies (e.g. cancellations) and never raise.
    """

    reason: str
    mask: np.ndarray
    column: str | None = None
    values: Any = None
    strict: bool = True


def standard_rules(
    raw: pd.DataFrame,
    frame: pd.DataFrame,
    used: Mapping[str, str],
    origin: Origin,
    *,
    after_ids: Sequence[Rule] = (),
    after_values: Sequence[Rule] = (),
) -> list[Rule]:
    """The generic rules, in order, with optional extra rules at two places."""
    blank = "blank line" if origin.row_word == "line" else "empty row"
    rules = [Rule(blank, raw.isna().all(axis=1).to_numpy())]
    for canon in REQUIRED_COLUMNS:
        rules.append(Rule(f"missing {canon}", frame[canon].isna().to_numpy(), used[canon]))
    rules.extend(after_ids)
    if "timestamp" in frame.columns:
        missing = frame["timestamp"].isna().to_numpy()
        rules.append(Rule("missing timestamp", missing, used["timestamp"]))
    for canon in ("quantity", "price"):
        if canon not in frame.columns:
            continue
        num = frame[canon].to_numpy()
        col = used.get(canon)
        rules.append(Rule(f"missing {canon}", np.isnan(num), col))
        rules.append(Rule(f"non-positive {canon}", num <= 0, col, values=num))
    rules.extend(after_values)
    return rules


def clean(
    raw: pd.DataFrame,
    frame: pd.DataFrame,
    used: Mapping[str, str],
    origin: Origin,
    rules: Sequence[Rule],
    *,
    strict: bool,
) -> Transactions:
    """Apply ``rules``, drop exact duplicate lines, merge repeats, sort; report it all."""
    n = len(frame)
    check_one_user_per_basket(frame, used, origin)
    code = np.zeros(n, dtype=np.int16)  # 0: kept, i: dropped by rules[i - 1]
    for i, rule in enumerate(rules, start=1):
        code[(code == 0) & np.asarray(rule.mask, dtype=bool)] = i
    kept = np.flatnonzero(code == 0)
    dup = np.zeros(n, dtype=bool)
    dup[kept] = raw.iloc[kept].duplicated().to_numpy()
    if strict:
        _raise_first(raw, origin, rules, code, dup)
    drops = {rule.reason: int(np.count_nonzero(code == i)) for i, rule in enumerate(rules, 1)}
    drops[DUPLICATE] = int(dup.sum())
    table = frame.iloc[np.flatnonzero((code == 0) & ~dup)]
    table, merged = merge_repeats(table)
    table = sort_table(table)
    table = table.astype({"quantity": "int64"})
    report = CleaningReport(
        source=origin.name,
        rows_in=n,
        rows_out=len(table),
        drops={reason: k for reason, k in drops.items() if k},
        merged=merged,
    )
    return Transactions(table=table, report=report)


def check_one_user_per_basket(frame: pd.DataFrame, used: Mapping[str, str], origin: Origin) -> None:
    """Raise DataError naming the first basket seen with a second user, and both lines."""
    both = (frame["user_id"].notna() & frame["basket_id"].notna()).to_numpy()
    pairs = frame.loc[both, ["basket_id", "user_id"]].drop_duplicates()
    second = pairs["basket_id"].duplicated().to_numpy()
    if not second.any():
        return
    pos = int(pairs.index[second.argmax()])
    basket = frame["basket_id"].iat[pos]
    first = int(pairs.index[(pairs["basket_id"] == basket).to_numpy().argmax()])
    users = frame["user_id"]
    word = origin.row_word
    raise origin.error(
        f"basket {basket!r} belongs to two users: {users.iat[first]!r} "
        f"({word} {origin.row(first)}) and {users.iat[pos]!r} ({word} {origin.row(pos)})",
        pos,
        used["basket_id"],
    )


def _raise_first(
    raw: pd.DataFrame, origin: Origin, rules: Sequence[Rule], code: np.ndarray, dup: np.ndarray
) -> None:
    """In strict mode, raise DataError at the earliest row a strict rule drops."""
    strict_codes = [i for i, rule in enumerate(rules, 1) if rule.strict]
    bad = np.isin(code, strict_codes) | dup
    if not bad.any():
        return
    pos = int(bad.argmax())
    hint = " (strict mode; use strict=False to drop and count such rows)"
    if dup[pos]:
        hashes = pd.util.hash_pandas_object(raw.iloc[: pos + 1], index=False).to_numpy()
        twin = int((hashes == hashes[pos]).argmax())
        raise origin.error(f"{DUPLICATE}, same as {origin.row_word} {origin.row(twin)}{hint}", pos)
    rule = rules[code[pos] - 1]
    detail = rule.reason
    if rule.values is not None:
        detail += f": got {np.asarray(rule.values)[pos]:g}"
    raise origin.error(detail + hint, pos, rule.column)


def merge_repeats(table: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Merge lines with the same basket and item.

    Quantities are summed, the price becomes the quantity-weighted mean, the
    timestamp the earliest one and the category the first non-missing one.
    """
    keys = ["basket_id", "item_id"]
    repeated = table.duplicated(keys, keep=False).to_numpy()
    if not repeated.any():
        return table, 0
    part = table.iloc[np.flatnonzero(repeated)]
    agg: dict[str, Any] = {"user_id": "first", "quantity": "sum"}
    if "price" in part.columns:
        part = part.assign(price=part["price"] * part["quantity"])
        agg["price"] = "sum"
    if "timestamp" in part.columns:
        agg["timestamp"] = "min"
    if "category" in part.columns:
        agg["category"] = "first"
    grouped = part.groupby(keys, sort=False).agg(agg).reset_index()
    if "price" in grouped.columns:
        grouped["price"] = grouped["price"] / grouped["quantity"]
    merged = len(part) - len(grouped)
    singles = table.iloc[np.flatnonzero(~repeated)]
    out = pd.concat([singles, grouped[list(singles.columns)]], ignore_index=True)
    return out, merged


def sort_table(table: pd.DataFrame) -> pd.DataFrame:
    """Order by (basket's first timestamp, basket_id, item_id); fresh RangeIndex.

    Sorting by the basket's first timestamp rather than each line's keeps every
    basket's lines together even when a basket spans several timestamps.
    """
    basket, _ = pd.factorize(table["basket_id"], sort=True)
    item, _ = pd.factorize(table["item_id"], sort=True)
    keys: list[np.ndarray] = [item, basket]
    if "timestamp" in table.columns:
        start = table["timestamp"].groupby(basket).transform("min")
        keys.append(start.to_numpy().view("int64"))
    order = np.lexsort(keys)
    columns = [c for c in CANONICAL_COLUMNS if c in table.columns]
    return table.iloc[order][columns].reset_index(drop=True)
