"""load_transactions: reading, typed ids, errors that name file/line/column, counted drops."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from cartgym.data import DataError, load_transactions, validate

GOOD = (
    "536365,85123A,6,2010-12-01 08:26:00,2.55,17850.0",
    "536365,00123,2,2010-12-01 08:26:00,1.50,17850.0",
    "536366,00123,1,2010-12-01 08:28:00,1.50,13047.0",
)


def test_good_file_gives_canonical_table(csv_rows, mapping):
    data = load_transactions(csv_rows(*GOOD), **mapping)
    table = data.table
    validate(table)
    assert list(table.columns) == [
        "user_id",
        "basket_id",
        "item_id",
        "timestamp",
        "quantity",
        "price",
    ]
    assert table["item_id"].tolist() == ["00123", "85123A", "00123"]
    assert table["user_id"].tolist() == ["17850", "17850", "13047"]
    assert table["basket_id"].tolist() == ["536365", "536365", "536366"]
    assert table["timestamp"].dtype == np.dtype("datetime64[ns]")
    assert table["quantity"].dtype == np.dtype("int64")
    assert isinstance(table.index, pd.RangeIndex)
    assert (data.n_users, data.n_baskets, data.n_items) == (2, 2, 2)
    assert data.report.rows_in == data.report.rows_out == 3
    assert data.report.drops == {}
    assert "3 lines" in data.summary()


def test_error_message_names_file_line_and_column(csv_rows, mapping):
    lines = [GOOD[0]] * 15 + ["536365,X,1,2010-12-01 08:26:00,abc,17850"]
    with pytest.raises(DataError) as info:
        load_transactions(csv_rows(*lines), **mapping)
    err = info.value
    assert str(err) == "transactions.csv, line 17, column 'UnitPrice': expected a number, got 'abc'"
    assert (err.source, err.row, err.column) == ("transactions.csv", 17, "UnitPrice")
    assert isinstance(err, ValueError)


def test_missing_column_lists_columns_and_suggests(csv_rows, mapping):
    with pytest.raises(DataError) as info:
        load_transactions(csv_rows(*GOOD), **{**mapping, "user_col": "CustomerId"})
    msg = str(info.value)
    assert info.value.column == "CustomerId" and info.value.row is None
    assert msg.startswith("transactions.csv, column 'CustomerId':")
    assert "did you mean 'CustomerID'" in msg
    assert "'InvoiceNo', 'StockCode'" in msg
    with pytest.raises(DataError, match="did you mean 'UnitPrice'"):
        load_transactions(csv_rows(*GOOD), **{**mapping, "price_col": "UnitPrize"})


def test_same_column_mapped_twice(csv_rows, mapping):
    with pytest.raises(DataError, match="mapped twice, to item_id and to price") as info:
        load_transactions(csv_rows(*GOOD), **{**mapping, "price_col": "StockCode"})
    assert info.value.column == "StockCode"


@pytest.mark.parametrize(
    ("line", "reason", "column"),
    [
        ("536370,X,1,2010-12-01 09:00:00,1.0,", "missing user_id", "CustomerID"),
        (",X,1,2010-12-01 09:00:00,1.0,12345", "missing basket_id", "InvoiceNo"),
        ("536370, ,1,2010-12-01 09:00:00,1.0,12345", "missing item_id", "StockCode"),
        ("536370,X,1,,1.0,12345", "missing timestamp", "InvoiceDate"),
        ("536370,X,-2,2010-12-01 09:00:00,1.0,12345", "non-positive quantity", "Quantity"),
        ("536370,X,0,2010-12-01 09:00:00,1.0,12345", "non-positive quantity", "Quantity"),
        ("536370,X,1,2010-12-01 09:00:00,-1.5,12345", "non-positive price", "UnitPrice"),
        ("536370,X,1,2010-12-01 09:00:00,,12345", "missing price", "UnitPrice"),
        ("536370,X,1,2010-12-01 09:00:00,NaN,12345", "missing price", "UnitPrice"),
    ],
)
def test_bad_rows_dropped_and_counted_or_strict_error(csv_rows, mapping, line, reason, column):
    path = csv_rows(GOOD[0], line, GOOD[1])
    data = load_transactions(path, **mapping)
    assert data.report.drops == {reason: 1}
    assert data.report.rows_out == 2
    with pytest.raises(DataError) as info:
        load_transactions(path, **mapping, strict=True)
    assert (info.value.row, info.value.column) == (3, column)
    assert str(info.value).startswith(f"transactions.csv, line 3, column '{column}': {reason}")


def test_strict_error_shows_bad_value(csv_rows, mapping):
    path = csv_rows(GOOD[0], "536370,X,1,2010-12-01 09:00:00,-1.5,12345")
    with pytest.raises(DataError, match=r"non-positive price: got -1\.5"):
        load_transactions(path, **mapping, strict=True)


@pytest.mark.parametrize(
    ("line", "column", "detail"),
    [
        ("536370,X,1,2010-12-01 09:00:00,1.2.3,12345", "UnitPrice", "expected a number"),
        ("536370,X,two,2010-12-01 09:00:00,1.0,12345", "Quantity", "expected a number"),
        ("536370,X,1.5,2010-12-01 09:00:00,1.0,12345", "Quantity", "expected a whole number"),
        ("536370,X,1,2010-12-01 09:00:00,inf,12345", "UnitPrice", "expected a finite number"),
        ("536370,X,1,yesterday,1.0,12345", "InvoiceDate", "cannot read 'yesterday'"),
    ],
)
def test_unreadable_values_raise_even_when_not_strict(csv_rows, mapping, line, column, detail):
    with pytest.raises(DataError, match=detail) as info:
        load_transactions(csv_rows(GOOD[0], GOOD[1], line), **mapping)
    assert (info.value.source, info.value.row, info.value.column) == (
        "transactions.csv",
        4,
        column,
    )


def test_empty_and_header_only_files(write, csv_rows, mapping):
    with pytest.raises(DataError, match=r"transactions\.csv: file is empty"):
        load_transactions(write(b""), **mapping)
    with pytest.raises(DataError, match=r"transactions\.csv: no data rows"):
        load_transactions(csv_rows(), **mapping)


def test_non_utf8_bytes_located(write, mapping):
    data = (
        b"InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID\n"
        b"536365,85123A,6,2010-12-01 08:26:00,2.55,17850\n"
        b"536365,71053,6,2010-12-01 08:26:00,3.39,17850\n"
        b"536365,CAF\xe9,6,2010-12-01 08:26:00,3.39,17850\n"
    )
    with pytest.raises(DataError) as info:
        load_transactions(write(data), **mapping)
    assert (info.value.row, info.value.column) == (4, "StockCode")
    assert "transactions.csv, line 4, column 'StockCode': not valid UTF-8: byte 0xe9" in str(
        info.value
    )


def test_exact_duplicate_lines_counted_and_strict(csv_rows, mapping):
    path = csv_rows(GOOD[0], GOOD[1], GOOD[0], GOOD[2], GOOD[0])
    data = load_transactions(path, **mapping)
    assert data.report.drops == {"exact duplicate line": 2}
    assert data.report.merged == 0
    assert len(data.table) == 3
    with pytest.raises(DataError, match="line 4: exact duplicate line, same as line 2"):
        load_transactions(path, **mapping, strict=True)


def test_repeated_item_in_basket_is_merged(csv_rows, mapping):
    path = csv_rows(
        "536365,85123A,1,2010-12-01 08:26:00,2.00,17850",
        "536365,85123A,3,2010-12-01 08:27:00,4.00,17850",
        "536365,71053,1,2010-12-01 08:26:00,1.00,17850",
    )
    data = load_transactions(path, **mapping)
    assert data.report.merged == 1 and data.report.rows_out == 2
    row = data.table.set_index("item_id").loc["85123A"]
    assert row["quantity"] == 4
    assert row["price"] == pytest.approx((1 * 2.0 + 3 * 4.0) / 4)
    assert row["timestamp"] == pd.Timestamp("2010-12-01 08:26:00")


def test_without_quantity_each_line_counts_one(csv_rows, mapping):
    path = csv_rows(GOOD[0], GOOD[0].replace(",6,", ",7,"))
    del mapping["quantity_col"]
    data = load_transactions(path, **mapping)
    assert data.table["quantity"].tolist() == [2]
    assert data.report.merged == 1


def test_basket_with_two_users(csv_rows, mapping):
    path = csv_rows(GOOD[0], GOOD[2], "536365,71053,6,2010-12-01 08:26:00,3.39,99999")
    with pytest.raises(DataError) as info:
        load_transactions(path, **mapping)
    msg = str(info.value)
    assert info.value.row == 4 and info.value.column == "InvoiceNo"
    assert "basket '536365' belongs to two users: '17850' (line 2) and '99999' (line 4)" in msg


@pytest.mark.parametrize("name", ["transactions.txt", "transactions.xlsx", "transactions"])
def test_unknown_extension(write, mapping, name):
    with pytest.raises(DataError, match=r"unknown file type.*\.csv, \.csv\.gz, \.parquet, \.pq"):
        load_transactions(write(b"a,b\n1,2\n", name), **mapping)


def test_missing_file(tmp_path, mapping):
    with pytest.raises(DataError, match=r"nope\.csv: file not found"):
        load_transactions(tmp_path / "nope.csv", **mapping)


@pytest.mark.parametrize(
    ("lines", "detail"),
    [
        (["1,2,3,4,5,6,7"], "line 2: more fields than the header"),
        (["1,2,3,4,5,6", "1,2,3,4,5,6,7"], "cannot parse CSV: .*line 3"),
    ],
)
def test_ragged_line(csv_rows, mapping, lines, detail):
    with pytest.raises(DataError, match=detail):
        load_transactions(csv_rows(*lines), **mapping)


def test_csv_gz_source(write, mapping):
    text = "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID\n" + GOOD[0] + "\n"
    data = load_transactions(write(gzip.compress(text.encode()), "t.csv.gz"), **mapping)
    assert data.table["item_id"].tolist() == ["85123A"]
    assert data.report.source == "t.csv.gz"


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cust": [17850.0, np.nan, 13047.0, 17850.0],
            "inv": [536365, 536366, 536367, 536365],
            "sku": ["85123A", "00123", "00123", "71053"],
            "price": [2.55, 1.0, -1.0, 3.39],
        },
        index=[10, 11, 12, 13],
    )


def test_dataframe_source_labels_rows_by_index():
    kw = {"user_col": "cust", "basket_col": "inv", "item_col": "sku", "price_col": "price"}
    data = load_transactions(_frame(), **kw)
    assert data.report.source == "<DataFrame>"
    assert data.report.drops == {"missing user_id": 1, "non-positive price": 1}
    assert sorted(data.table["user_id"]) == ["17850", "17850"]
    assert set(data.table["basket_id"]) == {"536365"}
    with pytest.raises(DataError) as info:
        load_transactions(_frame(), **kw, strict=True)
    assert str(info.value).startswith("<DataFrame>, row 11, column 'cust': missing user_id")
    assert info.value.row == 11


def test_parquet_source(tmp_path):
    path = tmp_path / "log.parquet"
    _frame().to_parquet(path)
    kw = {"user_col": "cust", "basket_col": "inv", "item_col": "sku", "price_col": "price"}
    data = load_transactions(path, **kw)
    assert data.report.rows_out == 2 and data.report.source == "log.parquet"
    with pytest.raises(DataError, match=r"log.parquet, row 2, column 'cust': missing user_id"):
        load_transactions(path, **kw, strict=True)
    pq_path = tmp_path / "log.pq"
    _frame().to_parquet(pq_path)
    assert load_transactions(pq_path, **kw).report.rows_out == 2


def test_leading_zeros_and_text_ids_survive(csv_rows, mapping):
    path = csv_rows(
        "000123,0042,1,2010-12-01 08:26:00,1.0,007",
        "000123,NA ,1,2010-12-01 08:26:00,1.0,007",
    )
    data = load_transactions(path, **mapping)
    assert data.table["user_id"].tolist() == ["007", "007"]
    assert data.table["basket_id"].tolist() == ["000123", "000123"]
    assert data.table["item_id"].tolist() == ["0042", "NA"]


def test_float_formatted_ids_lose_point_zero(csv_rows, mapping):
    path = csv_rows(
        "536365.0,85123A,1,2010-12-01 08:26:00,1.0,17850.0",
        "536366.0,85123A,1,2010-12-01 08:27:00,1.0,",
    )
    data = load_transactions(path, **mapping)
    assert data.table["user_id"].tolist() == ["17850"]
    assert data.table["basket_id"].tolist() == ["536365"]


def test_order_is_by_basket_time_then_ids(csv_rows, mapping):
    path = csv_rows(
        "B,y,1,2010-12-01 10:00:00,1.0,u1",
        "A,z,1,2010-12-01 11:00:00,1.0,u2",
        "B,x,1,2010-12-01 12:00:00,1.0,u1",
        "A,w,1,2010-12-01 10:30:00,1.0,u2",
    )
    table = load_transactions(path, **mapping).table
    assert table[["basket_id", "item_id"]].values.tolist() == [
        ["B", "x"],
        ["B", "y"],
        ["A", "w"],
        ["A", "z"],
    ]


def test_iso_timestamps_with_zones_become_naive_utc(csv_rows, mapping):
    path = csv_rows("B,y,1,2010-12-01T10:00:00+01:00,1.0,u1")
    table = load_transactions(path, **mapping).table
    assert table["timestamp"].iat[0] == pd.Timestamp("2010-12-01 09:00:00")


def test_dataframe_with_odd_column_labels():
    frame = pd.DataFrame([["u", "b", "i"]], columns=[0, 1, 2])
    data = load_transactions(frame, user_col="0", basket_col="1", item_col="2")
    assert data.table["item_id"].tolist() == ["i"]
    twice = pd.DataFrame([["u", "b", "i"]], columns=["a", "a", "c"])
    with pytest.raises(DataError, match=r"duplicate column names \['a'\]"):
        load_transactions(twice, user_col="a", basket_col="b", item_col="c")
