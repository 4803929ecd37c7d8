"""Fixtures for the data-layer tests: small CSV files written as bytes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

HEADER = "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID"


@pytest.fixture
def mapping() -> dict[str, str]:
    """load_transactions keywords for files with HEADER."""
    return {
        "user_col": "CustomerID",
        "basket_col": "InvoiceNo",
        "item_col": "StockCode",
        "timestamp_col": "InvoiceDate",
        "quantity_col": "Quantity",
        "price_col": "UnitPrice",
    }


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """write(data: bytes, name="transactions.csv") -> path of the written file."""

    def _write(data: bytes, name: str = "transactions.csv") -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return _write


@pytest.fixture
def csv_rows(write: Callable[..., Path]) -> Callable[..., Path]:
    """csv_rows(*lines, name=...) -> path of a CSV with HEADER and these data lines."""

    def _csv(*lines: str, name: str = "transactions.csv") -> Path:
        text = "\n".join([HEADER, *lines]) + "\n"
        return write(text.encode(), name)

    return _csv
