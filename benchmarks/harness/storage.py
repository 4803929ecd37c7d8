"""Finished runs on disk: one parquet row file per run, written atomically, and the table.

A run is either complete on disk or absent, so a killed sweep resumes where it stopped.
A lock file (``OUT/.lock``, :class:`SweepLock`) stops two sweeps from writing into one
folder.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

import pandas as pd

from cartgym.harness.config import BenchConfig, ConfigError


# --------------------------------------------------------------------------- storage
class RowStore:
    """Finished runs as one parquet file each, written atomically; the table rebuilt from them."""

    def __init__(self, out: str | Path):
        self.out = Path(out)
        self.rows = self.out / "rows"

    def prepare(self, config: BenchConfig, fresh: bool = False) -> None:
        self.rows.mkdir(parents=True, exist_ok=True)
        for folder in (self.out, self.rows):
            for partial in folder.glob(".*.partial"):
                partial.unlink()  # left by a killed run: never a result
        saved = self.out / "config.json"
        text = json.dumps(config.to_dict(), indent=1, sort_keys=True)
        if saved.exists() and not fresh and saved.read_text() != text:
            raise ConfigError(
                f"{self.out} holds results of a different config; use another --out or --fresh"
            )
        if fresh:
            for row in self.rows.glob("*.parquet"):
                row.unlink()
        _atomic_write_text(saved, text)

    def done(self) -> set[str]:
        return {p.stem for p in self.rows.glob("*.parquet")}

    def write(self, key: str, row: dict[str, Any]) -> None:
        _atomic_write_parquet(self.rows / f"{key}.parquet", pd.DataFrame([row]))

    def table(self) -> pd.DataFrame:
        files = sorted(self.rows.glob("*.parquet"))
        if not files:
            return pd.DataFrame()
        return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)

    def rebuild(self) -> pd.DataFrame:
        table = self.table()
        _atomic_write_parquet(self.out / "results.parquet", table)
        return table


class SweepLock:
    """``OUT/.lock`` held while a sweep writes into ``OUT``: a second sweep on the same
    folder gets a ConfigError naming the holder. A lock left by a process that no longer
    runs (on this host) is taken over."""

    def __init__(self, out: str | Path):
        self.path = Path(out) / ".lock"

    def __enter__(self) -> SweepLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        me = f"{socket.gethostname()} {os.getpid()}"
        for _ in range(2):
            try:
                with open(self.path, "x") as handle:
                    handle.write(me)
                return self
            except FileExistsError:
                holder = self.path.read_text().strip()
                if not _stale(holder):
                    raise ConfigError(
                        f"{self.path.parent} is in use by another sweep (process {holder}); wait "
                        f"for it to finish, use another --out, or delete {self.path} if that "
                        "process is gone"
                    ) from None
                self.path.unlink(missing_ok=True)
        raise ConfigError(f"could not take the lock {self.path}")

    def __exit__(self, *exc: object) -> None:
        self.path.unlink(missing_ok=True)


def _stale(holder: str) -> bool:
    """True when ``holder`` ("host pid") is a process of this host that no longer runs."""
    host, _, pid = holder.rpartition(" ")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's sweep (a shared folder): never taken over
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _atomic_write_parquet(path: Path, table: pd.DataFrame) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    table.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    tmp.write_text(text)
    os.replace(tmp, path)
