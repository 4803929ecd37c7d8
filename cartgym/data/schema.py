"""The canonical transactions table, the package's data error and a validator.

One row of the canonical table is one item line in one basket:

============  ======================  ==========================================
column        dtype                   meaning
============  ======================  ==========================================
user_id       ``str`` (STRING_DTYPE)  shopper id, never missing
basket_id     ``str`` (STRING_DTYPE)  basket (order, invoice) id, never missing
item_id       ``str`` (STRING_DTYPE)  product id, never missing
timestamp     ``datetime64[ns]``      optional, naive (UTC if the source had zones)
quantity      ``int64``               optional, > 0
price         ``float64``             optional, unit price, finite and > 0
category      ``str`` (STRING_DTYPE)  optional, may be missing
============  ======================  ==========================================

All text columns use pandas' default string dtype ``pd.StringDtype(na_value=np.nan)``
(shown as ``str``; the default for text in pandas 3).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

REQUIRED_COLUMNS: tuple[str, ...] = ("user_id", "basket_id", "item_id")
OPTIONAL_COLUMNS: tuple[str, ...] = ("timestamp", "quantity", "price", "category")
CANONICAL_COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

STRING_DTYPE = pd.StringDtype(na_value=np.nan)
"""The dtype of every text column (ids and category): pandas' default ``str``."""

DTYPES: dict[str, Any] = {
    "user_id": STRING_DTYPE,
    "basket_id": STRING_DTYPE,
    "item_id": STRING_DTYPE,
    "timestamp": np.dtype("datetime64[ns]"),
    "quantity": np.dtype("int64"),
    "price": np.dtype("float64"),
    "category": STRING_DTYPE,
}

DATAFRAME_SOURCE = "<DataFrame>"


class DataError(ValueError):
    """Bad input data, located as precisely as possible.

    Attributes:
        source: file name, or ``"<DataFrame>"``.
        row: 1-based line number in a CSV file (the header is line 1), 1-based row
            number in a parquet file, or the index label in a DataFrame; ``None`` if
            the problem is not about one row.
        column: the user's column name, or ``None``.
        detail: the bare message, without the location.
    """

    def __init__(
        self,
        detail: str,
        *,
        source: str,
        row: Any = None,
        column: str | None = None,
        row_word: str = "line",
    ) -> None:
        self.detail = detail
        self.source = source
        self.row = row
        self.column = column
        self.row_word = row_word
        where = [source]
        if row is not None:
            where.append(f"{row_word} {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {detail}")

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {
            "source": self.source,
            "row": self.row,
            "column": self.column,
            "row_word": self.row_word,
        }
        return (_rebuild_error, (self.detail, kwargs))


def _rebuild_error(detail: str, kwargs: dict[str, Any]) -> DataError:
    return DataError(detail, **kwargs)


def validate(table: pd.DataFrame) -> None:
    """Check that ``table`` is a canonical transactions table; raise DataError if not.

    Checks the column names and dtypes, that ids are never missing, that quantities
    and prices are positive (prices also finite) and that each basket has one user.
    Extra columns are refused, so a misspelt name cannot slip through.
    """
    src = DATAFRAME_SOURCE

    def fail(detail: str, row: Any = None, column: str | None = None) -> DataError:
        return DataError(detail, source=src, row=row, column=column, row_word="row")

    if not isinstance(table, pd.DataFrame):
        raise fail(f"expected a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise fail(f"missing required columns {missing}; columns are {list(table.columns)}")
    extra = [c for c in table.columns if c not in CANONICAL_COLUMNS]
    if extra:
        raise fail(f"unknown columns {extra}; allowed: {list(CANONICAL_COLUMNS)}")
    for col in table.columns:
        if table[col].dtype != DTYPES[col]:
            raise fail(
                f"dtype is {table[col].dtype}, expected {DTYPES[col]}; "
                "load the table with load_transactions() to convert it",
                column=col,
            )
    for col in (*REQUIRED_COLUMNS, "timestamp"):
        if col in table.columns:
            bad = table[col].isna().to_numpy()
            if bad.any():
                raise fail("missing value", row=table.index[bad.argmax()], column=col)
    if "quantity" in table.columns:
        bad = (table["quantity"] <= 0).to_numpy()
        if bad.any():
            i = bad.argmax()
            got = table["quantity"].iat[i]
            raise fail(f"quantity must be > 0, got {got}", row=table.index[i], column="quantity")
    if "price" in table.columns:
        price = table["price"].to_numpy()
        bad = ~(np.isfinite(price) & (price > 0))
        if bad.any():
            i = int(bad.argmax())
            raise fail(
                f"price must be finite and > 0, got {price[i]}", row=table.index[i], column="price"
            )
    pairs = table[["basket_id", "user_id"]].drop_duplicates()
    dup = pairs["basket_id"].duplicated().to_numpy()
    if dup.any():
        basket = pairs["basket_id"].iat[int(dup.argmax())]
        users = sorted(table.loc[table["basket_id"] == basket, "user_id"].unique())
        raise fail(f"basket {basket!r} has several users: {users}", column="basket_id")
