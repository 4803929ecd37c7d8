"""The bundled UCI Online Retail data: exact counts, a valid table, item names, the bundle."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from cartgym.data import DataError, load_online_retail, online_retail_item_names, validate
from cartgym.data.bundle_online_retail import main as bundle_main
from cartgym.data.online_retail import NON_PRODUCT_CODES, bundled_path

# the raw CSV parts in the project's shared/ folder beside the checkout (as in CI)
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
RAW = Path(os.environ.get("CARTGYM_SHARED_DATA", SHARED)) / "uci_online_retail"
RAW_HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"


@pytest.fixture(scope="module")
def retail():
    return load_online_retail()


def test_bundled_counts(retail):
    report = retail.report
    assert report.rows_in == 541_909
    assert report.drops == {
        "missing user_id": 135_080,
        "cancellation": 8_905,
        "non-positive price": 40,
        "non-product item": 1_547,
        "exact duplicate line": 5_187,
    }
    assert report.merged == 4_824
    assert report.rows_out == len(retail.table) == 386_326
    assert (retail.n_users, retail.n_baskets, retail.n_items) == (4_334, 18_402, 3_659)


def test_bundled_table_is_clean(retail):
    table = retail.table
    validate(table)
    assert "category" not in table.columns
    assert not table["basket_id"].str.startswith("C").any()
    assert not table["item_id"].isin(NON_PRODUCT_CODES).any()
    assert not table["item_id"].str.startswith("gift_0001_").any()
    assert not table.duplicated(["basket_id", "item_id"]).any()
    starts = table.groupby("basket_id", sort=False)["timestamp"].min()
    assert starts.is_monotonic_increasing
    assert table["basket_id"].ne(table["basket_id"].shift()).sum() == retail.n_baskets


def test_strict_raises_at_first_dropped_row():
    with pytest.raises(
        DataError, match=r"online_retail\.parquet, row 518: exact duplicate line, same as row 495"
    ):
        load_online_retail(strict=True)


def test_item_names(retail):
    names = online_retail_item_names()
    assert names.name == "name" and names.index.name == "item_id"
    assert names["85123A"] == "WHITE HANGING HEART T-LIGHT HOLDER"
    assert set(retail.table["item_id"]) <= set(names.index)
    assert names.index.is_monotonic_increasing


def test_raw_schema_csv(write):
    lines = [
        "536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom",
        "C536379,85123A,WHITE HANGING HEART,-1,2010-12-01 09:41:00,2.55,17850,United Kingdom",
        "536365,POST,POSTAGE,1,2010-12-01 08:26:00,18.0,17850,United Kingdom",
        "536365,gift_0001_20,VOUCHER,1,2010-12-01 08:26:00,17.0,17850,United Kingdom",
        "536365,DCGS0003,BOXED GLASS ASHTRAY,1,2010-12-01 08:26:00,2.0,17850,United Kingdom",
    ]
    path = write("\n".join([RAW_HEADER, *lines]).encode() + b"\n", "retail.csv")
    data = load_online_retail(path, strict=True)  # selections never raise
    assert data.report.drops == {"cancellation": 1, "non-product item": 2}
    assert sorted(data.table["item_id"]) == ["85123A", "DCGS0003"]
    bad = lines[0].replace(",17850,", ",,")
    with pytest.raises(DataError, match=r"bad\.csv, line 2, column 'CustomerID': missing user_id"):
        load_online_retail(write(f"{RAW_HEADER}\n{bad}\n".encode(), "bad.csv"), strict=True)


@pytest.mark.skipif(not RAW.is_dir(), reason="raw Online Retail CSV parts not available")
def test_bundle_is_reproducible(tmp_path, capsys):
    out = tmp_path / "online_retail.parquet"
    bundle_main([str(RAW), "--out", str(out)])
    assert "541,909 rows" in capsys.readouterr().out
    assert out.read_bytes() == Path(bundled_path()).read_bytes()


def test_bundled_file_matches_documented_sha256():
    doc = (Path(bundled_path()).parent / "ONLINE_RETAIL.md").read_text()
    digest = hashlib.sha256(Path(bundled_path()).read_bytes()).hexdigest()
    assert digest in doc
