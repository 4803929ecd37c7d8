"""Build ``bundled/online_retail.parquet`` from the raw UCI Online Retail CSV parts.

Usage::

    python -m cartgym.data.bundle_online_retail ../shared/data/uci_online_retail

Keeps every raw row, in the original order (so cleaning happens, and is counted, at
load time): InvoiceNo, StockCode, Description, Quantity, InvoiceDate (timestamp),
UnitPrice, CustomerID (text, empty -> null), Country. The file is dictionary-encoded,
zstd-compressed, one row group, without writer metadata, so a rerun with the same
pyarrow version writes the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

PARTS = "online_retail_part*of3.csv.gz"
OUTPUT = Path(__file__).parent / "bundled" / "online_retail.parquet"
SCHEMA = pa.schema(
    [
        ("InvoiceNo", pa.string()),
        ("StockCode", pa.string()),
        ("Description", pa.string()),
        ("Quantity", pa.int32()),
        ("InvoiceDate", pa.timestamp("ms")),
        ("UnitPrice", pa.float64()),
        ("CustomerID", pa.string()),
        ("Country", pa.string()),
    ]
)
TEXT = ["InvoiceNo", "StockCode", "Description", "CustomerID", "Country"]


def read_parts(folder: Path) -> pd.DataFrame:
    """Concatenate the CSV parts in order; text stays text, empty cells are null."""
    files = sorted(folder.glob(PARTS))
    if len(files) != 3:
        raise SystemExit(f"expected 3 files {PARTS} in {folder}, found {len(files)}")
    frames = [
        pd.read_csv(f, dtype=dict.fromkeys(TEXT, str), keep_default_na=False, na_values=[""])
        for f in files
    ]
    df = pd.concat(frames, ignore_index=True)
    df["InvoiceDate"] = pd.to_datetime(df["InvoiceDate"], format="%Y-%m-%d %H:%M:%S")
    return df[SCHEMA.names]


def write_parquet(df: pd.DataFrame, out: Path) -> None:
    """Write ``df`` deterministically: fixed schema, no pandas metadata, zstd level 19."""
    table = pa.Table.from_pandas(df, schema=SCHEMA, preserve_index=False)
    table = table.replace_schema_metadata(None)
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        table,
        out,
        compression="zstd",
        compression_level=19,
        use_dictionary=True,
        row_group_size=len(df),
        write_statistics=False,
        store_schema=False,
    )


def main(argv: list[str] | None = None) -> None:
    """Convert the CSV parts in a folder and print the file's size, rows and sha256."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder holding the 3 CSV.gz parts")
    parser.add_argument("--out", type=Path, default=OUTPUT, help=f"default: {OUTPUT}")
    args = parser.parse_args(argv)
    df = read_parts(args.folder)
    write_parquet(df, args.out)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    size = args.out.stat().st_size
    print(f"{args.out}: {len(df):,} rows, {size:,} bytes, sha256 {digest}")


if __name__ == "__main__":
    main()
