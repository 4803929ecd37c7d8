"""Property: any small messy table either loads with exact accounting or raises DataError."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cartgym.data import DataError, load_transactions, validate

# Good values are listed several times so that most tables load and some do not.
GOOD_NUMBERS = ["1", "2", "3.0", " 2 "] * 6
BAD_NUMBERS = ["0", "-1", "", "NaN", "1.5", "abc", "inf"]
USERS = st.sampled_from([None] * 12 + ["a", "00123", "17850.0", "", "NA", "é"])
BASKETS = st.sampled_from(["1", "2", "3", "C4", "17850.0", ""])
ITEMS = st.sampled_from(["x", "y", "00123", " z ", "", "NA"])
NUMBERS = st.sampled_from(GOOD_NUMBERS + BAD_NUMBERS)
TIMES = st.sampled_from(["2020-01-01", "2020-01-01 10:00:00", "2020-01-02"] * 5 + ["", "soon"])


@st.composite
def row(draw: st.DrawFn) -> tuple[str, ...]:
    """One line; the user is mostly a function of the basket (else possibly a conflict)."""
    basket = draw(BASKETS)
    user = draw(USERS)
    user = f"u{basket}" if user is None else user
    return (user, basket, draw(ITEMS), draw(NUMBERS), draw(NUMBERS), draw(TIMES))


COLUMNS = ["user", "basket", "item", "qty", "price", "time"]
KW = {
    "user_col": "user",
    "basket_col": "basket",
    "item_col": "item",
    "quantity_col": "qty",
    "price_col": "price",
    "timestamp_col": "time",
}


def _csv(rows: list[tuple[str, ...]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(row(), max_size=12), as_frame=st.booleans(), strict=st.booleans())
def test_messy_tables_load_or_raise_data_error(rows, as_frame, strict):
    with tempfile.TemporaryDirectory() as tmp:
        if as_frame:
            source: Path | pd.DataFrame = pd.DataFrame(rows, columns=COLUMNS, dtype=object)
        else:
            source = Path(tmp) / "t.csv"
            source.write_bytes(_csv(rows))
        try:
            data = load_transactions(source, strict=strict, **KW)
        except DataError as err:
            assert str(err).startswith(("t.csv", "<DataFrame>"))
            return
    report = data.report
    assert report.rows_in == len(rows)
    assert report.rows_in == report.rows_out + sum(report.drops.values()) + report.merged
    assert report.rows_out == len(data.table)
    if strict:
        assert not report.drops
    validate(data.table)
