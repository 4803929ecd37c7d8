"""The bundled UCI "Online Retail" dataset (UK online gift shop, Dec 2010 - Dec 2011).

The package ships every raw row in ``bundled/online_retail.parquet`` (see
``bundled/ONLINE_RETAIL.md`` for attribution); cleaning happens at load time.
"""

from __future__ import annotations

import os
from importlib import resources

import pandas as pd

from cartgym.data._clean import Rule, clean, standard_rules
from cartgym.data._parse import build_frame, check_mapping, to_id, to_text
from cartgym.data._read import read_source
from cartgym.data.report import Transactions

MAPPING: dict[str, str | None] = {
    "user_id": "CustomerID",
    "basket_id": "InvoiceNo",
    "item_id": "StockCode",
    "timestamp": "InvoiceDate",
    "quantity": "Quantity",
    "price": "UnitPrice",
}

NON_PRODUCT_CODES: frozenset[str] = frozenset(
    {"POST", "DOT", "M", "m", "C2", "D", "S", "BANK CHARGES", "AMAZONFEE", "CRUK", "B", "PADS"}
)
"""Stock codes that are not products: postage (POST, DOT, C2), manual entries (M, m),
discounts (D), samples (S), fees and charges (BANK CHARGES, AMAZONFEE, CRUK, PADS) and
bad-debt adjustments (B). Gift vouchers (``gift_0001_*``) are dropped too. ``DCGS*``
codes are real products and are kept."""

GIFT_VOUCHER_PREFIX = "gift_0001_"


def bundled_path() -> str:
    """Path of the bundled parquet file."""
    return str(
        resources.files("cartgym.data").joinpath("bundled").joinpath("online_retail.parquet")
    )


def load_online_retail(
    path: str | os.PathLike[str] | None = None, strict: bool = False
) -> Transactions:
    """Load and clean UCI Online Retail: the bundled copy, or a file in its raw schema.

    Mapping: CustomerID -> user_id, InvoiceNo -> basket_id, StockCode -> item_id,
    InvoiceDate -> timestamp, Quantity -> quantity, UnitPrice -> price (GBP). There
    is no category column. Drops, each counted, a row under its first reason:
    missing user_id (no CustomerID), cancellation (InvoiceNo starting with 'C'),
    non-positive quantity, non-positive price, non-product item (NON_PRODUCT_CODES
    and gift vouchers), exact duplicate line; repeated (invoice, item) lines are
    merged. With ``strict=True`` the data-quality drops raise DataError instead
    (the raw data has missing customers, so the bundled copy then raises);
    cancellations and non-product items are a selection and are always dropped.
    """
    source = bundled_path() if path is None else path
    raw, origin = read_source(source)
    used = check_mapping(raw.columns, MAPPING, origin)
    frame = build_frame(raw, used, origin)
    cancellation = frame["basket_id"].str.startswith("C").fillna(False).to_numpy(dtype=bool)
    item = frame["item_id"]
    non_product = item.isin(NON_PRODUCT_CODES) | item.str.startswith(GIFT_VOUCHER_PREFIX)
    rules = standard_rules(
        raw,
        frame,
        used,
        origin,
        after_ids=[Rule("cancellation", cancellation, "InvoiceNo", strict=False)],
        after_values=[
            Rule(
                "non-product item",
                non_product.fillna(False).to_numpy(dtype=bool),
                "StockCode",
                strict=False,
            )
        ],
    )
    return clean(raw, frame, used, origin, rules, strict=strict)


def online_retail_item_names(path: str | os.PathLike[str] | None = None) -> pd.Series:
    """Item name per item_id: its most frequent Description on sale lines.

    Sale lines have Quantity > 0 and UnitPrice > 0 (this leaves out adjustment notes
    such as 'damaged'); ties go to the alphabetically first description. Returns a
    Series of str named ``name``, indexed by ``item_id``, sorted by item_id.
    """
    raw, _ = read_source(bundled_path() if path is None else path)
    qty = pd.to_numeric(raw["Quantity"], errors="coerce")
    price = pd.to_numeric(raw["UnitPrice"], errors="coerce")
    lines = pd.DataFrame({"item_id": to_id(raw["StockCode"]), "name": to_text(raw["Description"])})
    lines = lines[((qty > 0) & (price > 0)).to_numpy(dtype=bool)].dropna()
    counts = lines.value_counts().rename("n").reset_index()
    counts = counts.sort_values(["item_id", "n", "name"], ascending=[True, False, True])
    names = counts.drop_duplicates("item_id").set_index("item_id")["name"]
    return names
