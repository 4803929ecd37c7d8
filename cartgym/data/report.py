"""What cleaning did to a table, and the cleaned table with its report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class CleaningReport:
    """Row accounting of one load (or split).

    Every input row is either kept (``rows_out``), dropped for one reason (``drops``,
    reason -> count, in the order the rules were applied, zero counts left out) or
    merged into an earlier line of the same basket and item (``merged``), so
    ``rows_in == rows_out + sum(drops.values()) + merged``.
    """

    source: str
    rows_in: int
    rows_out: int
    drops: dict[str, int] = field(default_factory=dict)
    merged: int = 0

    def __post_init__(self) -> None:
        drops = {str(k): int(v) for k, v in self.drops.items()}
        object.__setattr__(self, "drops", drops)
        counts = [self.rows_in, self.rows_out, self.merged, *drops.values()]
        if any(int(c) < 0 for c in counts):
            raise ValueError(f"negative count in report: {self!r}")
        if self.rows_in != self.rows_out + sum(drops.values()) + self.merged:
            raise ValueError(
                f"report does not add up: rows_in={self.rows_in} != rows_out={self.rows_out}"
                f" + drops={sum(drops.values())} + merged={self.merged}"
            )

    @property
    def dropped(self) -> int:
        """Total number of dropped rows."""
        return sum(self.drops.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of the report."""
        return {
            "source": self.source,
            "rows_in": int(self.rows_in),
            "rows_out": int(self.rows_out),
            "drops": dict(self.drops),
            "merged": int(self.merged),
        }

    def __str__(self) -> str:
        lines = [("rows in", self.rows_in)]
        lines += [(f"  dropped: {reason}", n) for reason, n in self.drops.items()]
        lines += [("  merged: same item in a basket", self.merged), ("rows out", self.rows_out)]
        width = max(len(label) for label, _ in lines)
        digits = max(len(f"{n:,}") for _, n in lines)
        body = [f"{label:<{width}}  {n:>{digits},}" for label, n in lines]
        return "\n".join([self.source, *body])


@dataclass(frozen=True, eq=False, repr=False)
class Transactions:
    """A canonical transactions table (see ``cartgym.data.schema``) and its report."""

    table: pd.DataFrame
    report: CleaningReport

    @property
    def n_users(self) -> int:
        """Number of distinct users."""
        return int(self.table["user_id"].nunique())

    @property
    def n_baskets(self) -> int:
        """Number of distinct baskets."""
        return int(self.table["basket_id"].nunique())

    @property
    def n_items(self) -> int:
        """Number of distinct items."""
        return int(self.table["item_id"].nunique())

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        return (
            f"Transactions({len(self.table):,} lines, {self.n_users:,} users, "
            f"{self.n_baskets:,} baskets, {self.n_items:,} items; source={self.report.source!r})"
        )

    def summary(self) -> str:
        """A few lines: size, time span, basket sizes and the cleaning report."""
        t = self.table
        head = (
            f"{len(t):,} lines, {self.n_users:,} users, {self.n_baskets:,} baskets, "
            f"{self.n_items:,} items"
        )
        lines = [head]
        if len(t):
            sizes = t.groupby("basket_id", sort=False).size()
            lines.append(f"lines per basket: mean {sizes.mean():.1f}, median {sizes.median():g}")
        if "timestamp" in t.columns and len(t):
            lines.append(f"from {t['timestamp'].min()} to {t['timestamp'].max()}")
        return "\n".join([*lines, "", str(self.report)])
