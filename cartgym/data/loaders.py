"""Load any purchase log (CSV, parquet or DataFrame) into a canonical table."""

from __future__ import annotations

from cartgym.data._clean import clean, standard_rules
from cartgym.data._parse import build_frame, check_mapping
from cartgym.data._read import Source, read_source
from cartgym.data.report import Transactions


def load_transactions(
    source: Source,
    *,
    user_col: str,
    basket_col: str,
    item_col: str,
    timestamp_col: str | None = None,
    quantity_col: str | None = None,
    price_col: str | None = None,
    category_col: str | None = None,
    strict: bool = False,
    name: str | None = None,
) -> Transactions:
    """Read, check and clean a purchase log; one row per item line in a basket.

    Args:
        source: path to a ``.csv``, ``.csv.gz``, ``.parquet`` or ``.pq`` file, or a
            pandas DataFrame.
        user_col: the source's column of user ids (required).
        basket_col: the source's column of basket ids (required).
        item_col: the source's column of item ids (required).
        timestamp_col: optional column of timestamps.
        quantity_col: optional column of quantities (without it each line counts as 1).
        price_col: optional column of unit prices.
        category_col: optional column of item categories.
        strict: raise DataError at the first row that would be dropped, instead of
            dropping and counting it.
        name: source name used in messages and the report (default: file name).

    Returns:
        Transactions: the canonical table (see ``cartgym.data.schema``) sorted by
        (basket's first timestamp, basket_id, item_id), and its CleaningReport.

    Raises:
        DataError: unreadable input, with file, line and column where they apply.

    Rows dropped and counted (errors if ``strict``), a row under its first reason:
    blank line, missing user_id / basket_id / item_id / timestamp / quantity / price,
    non-positive quantity or price, exact duplicate line (all columns equal to an
    earlier kept line). Lines repeating a (basket, item) are merged: quantities summed,
    price the quantity-weighted mean.
    """
    raw, origin = read_source(source, name)
    mapping = {
        "user_id": user_col,
        "basket_id": basket_col,
        "item_id": item_col,
        "timestamp": timestamp_col,
        "quantity": quantity_col,
        "price": price_col,
        "category": category_col,
    }
    used = check_mapping(raw.columns, mapping, origin)
    frame = build_frame(raw, used, origin)
    rules = standard_rules(raw, frame, used, origin)
    return clean(raw, frame, used, origin, rules, strict=strict)
