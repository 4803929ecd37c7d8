"""Read a CSV, parquet file or DataFrame into a raw frame, and locate its rows."""

from __future__ import annotations

import gzip
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import pandas as pd

from cartgym.data.schema import DATAFRAME_SOURCE, DataError

Source: TypeAlias = str | os.PathLike[str] | pd.DataFrame

CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
ACCEPTED = CSV_SUFFIXES + PARQUET_SUFFIXES

# Cells holding exactly one of these are missing; everything else is kept as text.
NA_TOKENS = ["", "NA", "N/A", "NaN", "nan", "NULL", "null", "None"]


@dataclass(frozen=True)
class Origin:
    """Where the raw rows came from, to turn a row position into a location."""

    name: str
    row_word: str = "line"
    first_row: int = 2
    labels: pd.Index | None = None

    def row(self, pos: int) -> Any:
        """Location of the row at 0-based position ``pos``."""
        if self.labels is not None:
            return self.labels[pos]
        return pos + self.first_row

    def error(self, detail: str, pos: int | None = None, column: str | None = None) -> DataError:
        """A DataError at row position ``pos`` (None: not row-specific)."""
        row = None if pos is None else self.row(pos)
        return DataError(detail, source=self.name, row=row, column=column, row_word=self.row_word)


def read_source(source: Source, name: str | None = None) -> tuple[pd.DataFrame, Origin]:
    """Read ``source`` as-is: CSV cells as text, parquet and DataFrame columns as typed."""
    if isinstance(source, pd.DataFrame):
        origin = Origin(name or DATAFRAME_SOURCE, row_word="row", labels=source.index)
        raw = source
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        origin = Origin(name or path.name)
        lower = path.name.lower()
        if not lower.endswith(ACCEPTED):
            raise origin.error(f"unknown file type; accepted extensions are {', '.join(ACCEPTED)}")
        if not path.is_file():
            raise origin.error(f"file not found: {path}")
        if lower.endswith(CSV_SUFFIXES):
            raw = _read_csv(path, origin)
        else:
            origin = Origin(origin.name, row_word="row", first_row=1)
            raw = _read_parquet(path, origin)
    else:
        raise DataError(
            f"expected a file path or a pandas DataFrame, got {type(source).__name__}",
            source=str(name or "<source>"),
        )
    if len(raw.columns) == 0:
        raise origin.error("no columns")
    if raw.columns.has_duplicates:
        names = sorted({str(c) for c in raw.columns[raw.columns.duplicated()]})
        raise origin.error(f"duplicate column names {names}")
    if not all(isinstance(c, str) for c in raw.columns):
        raw = raw.rename(columns=str)
    if len(raw) == 0:
        raise origin.error("no data rows")
    return raw, origin


def _read_csv(path: Path, origin: Origin) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            # pandas warns (and drops data) when the first data line is longer than the header
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                na_values=NA_TOKENS,
                skip_blank_lines=False,
                encoding="utf-8",
                index_col=False,
            )
    except pd.errors.ParserWarning:
        raise origin.error("more fields than the header has column names", 0) from None
    except pd.errors.EmptyDataError:
        raise origin.error("file is empty") from None
    except UnicodeDecodeError:
        raise _utf8_error(path, origin) from None
    except pd.errors.ParserError as exc:
        raise origin.error(f"cannot parse CSV: {_short(exc)}") from None
    except (OSError, EOFError) as exc:  # a corrupt or truncated .gz
        raise origin.error(f"cannot read file: {_short(exc)}") from None


def _read_parquet(path: Path, origin: Origin) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise origin.error(f"cannot read parquet file: {_short(exc)}") from None


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _utf8_error(path: Path, origin: Origin) -> DataError:
    """Locate the first byte that is not UTF-8 (line, and column by counting commas)."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        data: bytes = fh.read()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = exc.start
    else:  # pandas saw something we do not: report without a location
        return origin.error("file is not valid UTF-8; re-save it as UTF-8")
    line_start = data.rfind(b"\n", 0, start) + 1
    line = data.count(b"\n", 0, start) + 1
    header = data.split(b"\n", 1)[0].decode("utf-8", "replace").rstrip("\r").split(",")
    index = data.count(b",", line_start, start)
    column = header[index].strip('"') if line > 1 and index < len(header) else None
    detail = (
        f"not valid UTF-8: byte 0x{data[start]:02x} at character {start - line_start + 1} "
        "of the line; re-save the file as UTF-8"
    )
    return DataError(detail, source=origin.name, row=line, column=column)
