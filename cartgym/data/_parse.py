"""Map the user's columns onto canonical names and convert them to canonical types.

Conversion never drops rows: a missing value stays missing (NaN / NaT) for the
cleaning rules to count; only values that cannot be read at all raise DataError.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from cartgym.data._read import NA_TOKENS, Origin
from cartgym.data.schema import CANONICAL_COLUMNS, REQUIRED_COLUMNS, STRING_DTYPE

_INT_LIKE = r"^[+-]?\d+(\.0*)?$"


def check_mapping(
    columns: pd.Index, mapping: Mapping[str, str | None], origin: Origin
) -> dict[str, str]:
    """Canonical name -> user column, checked against the columns that exist."""
    used = {canon: col for canon, col in mapping.items() if col is not None}
    for canon in REQUIRED_COLUMNS:
        if canon not in used:
            raise origin.error(f"no column given for {canon}")
    seen: dict[str, str] = {}
    for canon, col in used.items():
        if not isinstance(col, str) or not col:
            raise origin.error(f"column for {canon} must be a non-empty string, got {col!r}")
        if col in seen:
            raise origin.error(f"column mapped twice, to {seen[col]} and to {canon}", column=col)
        seen[col] = canon
    names = [str(c) for c in columns]
    for canon, col in used.items():
        if col not in names:
            raise origin.error(_missing_column_detail(col, canon, names), column=col)
    return used


def _missing_column_detail(col: str, canon: str, names: list[str]) -> str:
    detail = f"column for {canon} not found; the columns are {names}"
    folded = [n for n in names if n.casefold() == col.casefold()]
    close = folded or difflib.get_close_matches(col, names, n=1, cutoff=0.6)
    if close:
        detail += f"; did you mean {close[0]!r}?"
    elif len(names) == 1 and any(sep in names[0] for sep in ";\t|"):
        detail += "; the file seems to use another separator than ','"
    return detail


def build_frame(raw: pd.DataFrame, used: Mapping[str, str], origin: Origin) -> pd.DataFrame:
    """Typed canonical columns, positional index, same rows as ``raw``.

    ``quantity`` is always present (1 per line when not mapped) so that merged
    repeats of an item keep their count; it is float until cleaning removes NaNs.
    """
    out: dict[str, pd.Series | np.ndarray] = {}
    for canon in CANONICAL_COLUMNS:
        col = used.get(canon)
        if col is None:
            continue
        values = raw[col].reset_index(drop=True)
        if canon in REQUIRED_COLUMNS:
            out[canon] = to_id(values)
        elif canon == "category":
            out[canon] = to_text(values)
        elif canon == "timestamp":
            out[canon] = to_time(values, origin, col)
        else:
            out[canon] = to_number(values, origin, col, whole=canon == "quantity")
    if "quantity" not in out:
        out["quantity"] = np.ones(len(raw))
    return pd.DataFrame(out)


def to_text(values: pd.Series) -> pd.Series:
    """Text with surrounding blanks removed; empty -> missing."""
    text = values.astype(STRING_DTYPE).str.strip()
    return text.mask(text == "")


def _missing_tokens(text: pd.Series) -> pd.Series:
    """Treat the NA_TOKENS spellings ('NaN', 'null', ...) as missing, as CSV reading does."""
    return text.mask(text.isin(NA_TOKENS))


def to_id(values: pd.Series) -> pd.Series:
    """Ids as text. Integer-valued floats lose their '.0' ('17850.0' -> '17850')."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return to_text(values)
    if pd.api.types.is_float_dtype(values.dtype):
        finite = values.dropna()
        if (finite % 1 == 0).all():
            return values.astype("Int64").astype(STRING_DTYPE)
        return to_text(values)
    text = to_text(values)
    if text.str.contains(".", regex=False).any():
        present = text.dropna()
        if present.str.fullmatch(_INT_LIKE).all():
            text = text.str.replace(r"\.0*$", "", regex=True)
    return text


MAX_VALUE = 1e15  # largest quantity or price accepted (float64 holds integers exactly to 9e15)


def to_number(values: pd.Series, origin: Origin, column: str, *, whole: bool) -> np.ndarray:
    """Float array (NaN where missing); non-numbers raise DataError at the first one."""
    if pd.api.types.is_bool_dtype(values.dtype):
        raise origin.error("expected numbers, got true/false values", column=column)
    if pd.api.types.is_numeric_dtype(values.dtype):
        num = values.astype("float64").to_numpy(na_value=np.nan)
    else:
        text = _missing_tokens(to_text(values))
        num = pd.to_numeric(text, errors="coerce").astype("float64").to_numpy(na_value=np.nan)
        bad = np.isnan(num) & text.notna().to_numpy()
        if bad.any():
            pos = int(bad.argmax())
            raise origin.error(f"expected a number, got {text.iat[pos]!r}", pos, column)
    infinite = np.isinf(num)
    if infinite.any():
        pos = int(infinite.argmax())
        raise origin.error(f"expected a finite number, got {num[pos]}", pos, column)
    huge = np.abs(np.nan_to_num(num)) > MAX_VALUE
    if huge.any():  # beyond exact float integers: sums and int64 casts would overflow
        pos = int(huge.argmax())
        raise origin.error(
            f"expected a number below {MAX_VALUE:.0e}, got {num[pos]:g}", pos, column
        )
    if whole:
        fractional = np.isfinite(num) & (num % 1 != 0)
        if fractional.any():
            pos = int(fractional.argmax())
            raise origin.error(f"expected a whole number, got {num[pos]:g}", pos, column)
    return num


def to_time(values: pd.Series, origin: Origin, column: str) -> pd.Series:
    """Naive datetime64[ns]; zoned times are converted to UTC. Unparseable -> DataError."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return values.astype("datetime64[ns]")
    if pd.api.types.is_numeric_dtype(values.dtype):
        raise origin.error(
            "expected dates, got numbers; convert them first, e.g. pd.to_datetime(col, unit='s')",
            column=column,
        )
    text = _missing_tokens(to_text(values))
    present = text.notna().to_numpy()
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
    bad = parsed.isna().to_numpy() & present
    if bad.any():
        # not ISO 8601: try the format pandas guesses from the first value that failed
        guess = guess_datetime_format(text.iat[int(bad.argmax())])
        if guess is not None:
            other = pd.to_datetime(text, errors="coerce", format=guess, utc=True)
            other_bad = other.isna().to_numpy() & present
            if other_bad.sum() < bad.sum():
                parsed, bad = other, other_bad
    if bad.any():
        pos = int(bad.argmax())
        raise origin.error(f"cannot read {text.iat[pos]!r} as a date/time", pos, column)
    return parsed.dt.tz_localize(None).astype("datetime64[ns]")
