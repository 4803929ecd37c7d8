"""Loader fuzzing (issue: hardening): malformed tables load with exact accounting or raise
the package's DataError naming the file, and the row and column it blames (which must
exist); never a bare KeyError/TypeError/IndexError."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fuzzing import fuzz_loader


def test_malformed_tables_load_or_raise_data_error():
    tally = fuzz_loader(200, hypothesis_seed=1)
    assert tally["cases"] == 200
    assert tally["loaded"] > 10 and tally["data error"] > 10  # both paths exercised
    # errors point at what is wrong: most name the row and the column
    assert tally["data error naming row and column"] > tally["data error"] / 4
    assert tally["data error naming column"] > 0


def test_huge_numbers_are_refused_naming_line_and_column(tmp_path):
    # found by the reliability fuzzing: 1e308 became an int64 overflow (-2**63) as a quantity
    import pytest

    from cartgym.data import DataError, load_transactions

    for qty, price, column in (("1e308", "1", "qty"), ("2", "1e300", "price")):
        path = tmp_path / "t.csv"
        path.write_text(f"user,basket,item,qty,price\na,b,c,{qty},{price}\n")
        with pytest.raises(DataError, match=rf"t.csv, line 2, column '{column}'.*below 1e\+15"):
            load_transactions(
                path,
                user_col="user",
                basket_col="basket",
                item_col="item",
                quantity_col="qty",
                price_col="price",
            )
