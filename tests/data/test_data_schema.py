"""DataError, validate and CleaningReport."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest

from cartgym.data import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, CleaningReport, DataError, validate


def _table(**changes: object) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u2"],
            "basket_id": ["b1", "b1", "b2"],
            "item_id": ["i1", "i2", "i1"],
            "timestamp": pd.to_datetime(["2020-01-01"] * 3).astype("datetime64[ns]"),
            "quantity": np.array([1, 2, 1], dtype=np.int64),
            "price": [1.0, 2.0, 1.5],
            "category": ["a", None, "a"],
        }
    )
    for col, values in changes.items():
        table[col] = values
    return table


def test_columns_constants():
    assert REQUIRED_COLUMNS == ("user_id", "basket_id", "item_id")
    assert OPTIONAL_COLUMNS == ("timestamp", "quantity", "price", "category")


def test_validate_accepts_canonical_and_minimal_tables():
    validate(_table())
    validate(_table()[list(REQUIRED_COLUMNS)])


@pytest.mark.parametrize(
    ("table", "match"),
    [
        (_table().drop(columns="item_id"), "missing required columns \\['item_id'\\]"),
        (_table(itemid=["x"] * 3), "unknown columns \\['itemid'\\]"),
        (_table(user_id=[1, 1, 2]), "column 'user_id': dtype is int64"),
        (_table(quantity=[1.0, 2.0, 1.0]), "column 'quantity': dtype is float64"),
        (_table(item_id=["i1", None, "i1"]), "row 1, column 'item_id': missing value"),
        (_table(quantity=np.array([1, 0, 1])), "row 1, column 'quantity': quantity must be > 0"),
        (_table(price=[1.0, np.inf, 1.0]), "row 1, column 'price': price must be finite"),
        (_table(price=[1.0, -2.0, 1.0]), "row 1, column 'price'"),
        (_table(user_id=["u1", "u3", "u2"]), "basket 'b1' has several users: \\['u1', 'u3'\\]"),
    ],
)
def test_validate_rejects(table, match):
    with pytest.raises(DataError, match=match):
        validate(table)


def test_validate_rejects_non_frames():
    with pytest.raises(DataError, match="expected a pandas DataFrame"):
        validate([1, 2])  # type: ignore[arg-type]


def test_data_error_message_and_pickle():
    err = DataError("bad", source="f.csv", row=3, column="x")
    assert str(err) == "f.csv, line 3, column 'x': bad"
    assert str(DataError("bad", source="f.csv")) == "f.csv: bad"
    again = pickle.loads(pickle.dumps(err))
    assert (str(again), again.row, again.column, again.source) == (str(err), 3, "x", "f.csv")


def test_report_invariant_and_output():
    report = CleaningReport("f.csv", rows_in=10, rows_out=6, drops={"a": 1, "b": 2}, merged=1)
    assert report.dropped == 3
    assert json.loads(json.dumps(report.to_dict())) == report.to_dict()
    text = str(report)
    assert text.splitlines()[0] == "f.csv"
    assert "dropped: b" in text and text.splitlines()[-1].endswith(" 6")
    widths = {len(line) for line in text.splitlines()[1:]}
    assert len(widths) == 1  # aligned
    with pytest.raises(ValueError, match="does not add up"):
        CleaningReport("f.csv", rows_in=10, rows_out=6, drops={"a": 1}, merged=1)
    with pytest.raises(ValueError, match="negative"):
        CleaningReport("f.csv", rows_in=0, rows_out=1, drops={"a": -1})
