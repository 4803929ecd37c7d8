"""Running a sweep's missing runs: in this process, in a process pool, or on Ray.

One row per run goes to ``OUT/rows/`` and ``OUT/results.parquet`` is rebuilt from the rows
(:mod:`~cartgym.harness.storage`); a failed run is reported and does not stop the others.
A progress bar (tqdm, on stderr) shows the runs done and the estimated time left; a lock
file keeps a second sweep out of the same ``OUT``.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from cartgym.harness.config import BenchConfig, ConfigError, Run
from cartgym.harness.runner import _one_thread, run_one
from cartgym.harness.storage import RowStore, SweepLock

EXECUTORS = ("local", "ray")


# --------------------------------------------------------------------------- executors
def sweep(
    config: BenchConfig,
    out: str | Path,
    *,
    backend: str = "local",
    workers: int = 1,
    address: str | None = None,
    fresh: bool = False,
    log: Callable[[str], None] | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Run every missing run of ``config``; return the results table. ``log`` receives a
    line per finished run (default: printed above the progress bar)."""
    if backend not in EXECUTORS:
        raise ConfigError(f"backend: expected one of {EXECUTORS}, got {backend!r}")
    with SweepLock(out):
        return _sweep(config, out, backend, workers, address, fresh, log, progress)


def _sweep(config, out, backend, workers, address, fresh, log, progress) -> pd.DataFrame:
    store = RowStore(out)
    store.prepare(config, fresh=fresh)
    todo = [run for run in config.runs() if run.key not in store.done()]
    bar = tqdm(total=len(todo), desc=config.name, unit="run", disable=not progress, leave=True)
    say = log or bar.write
    say(f"{config.name}: {len(todo)} run(s) to do, {len(store.done())} already done in {out}")
    failures: list[str] = []

    def finished(run: Run, row: dict[str, Any] | None, error: str | None) -> None:
        bar.update(1)
        if row is not None:
            store.write(run.key, row)
            store.rebuild()
            say(f"  done {run.key}: revenue/session {row['revenue_per_session']:.2f}")
        else:
            failures.append(f"{run.key}: {error}")
            say(f"  FAILED {run.key}: {error}")

    if backend == "ray":
        _ray_sweep(todo, config, address, workers, finished)
    elif workers <= 1:
        for run in todo:
            try:
                finished(run, run_one(run, config), None)
            except Exception as error:  # a failed run must not stop the others
                finished(run, None, _describe(error))
    else:
        with ProcessPoolExecutor(max_workers=workers, initializer=_one_thread) as pool:
            pending = {pool.submit(run_one, run, config): run for run in todo}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    run = pending.pop(future)
                    failure = future.exception()
                    finished(run, None if failure else future.result(), _describe(failure))
    bar.close()
    table = store.rebuild()
    if failures:
        raise RuntimeError(f"{len(failures)} run(s) failed: " + "; ".join(failures))
    return table


def _describe(error: BaseException | None) -> str | None:
    if error is None:
        return None
    return "".join(traceback.format_exception_only(type(error), error)).strip()


def _ray_sweep(todo, config, address, workers, finished) -> None:
    try:
        import ray
    except ImportError:
        raise ImportError('--backend ray needs Ray: pip install "cartgym[distributed]"') from None
    started_here = not ray.is_initialized()
    if started_here:
        kwargs = {"address": address} if address else {"num_cpus": max(workers, 1)}
        ray.init(include_dashboard=False, log_to_driver=False, **kwargs)
    try:
        remote = ray.remote(max_retries=3, retry_exceptions=True, num_cpus=1)(run_one)
        pending = {remote.remote(run, config): run for run in todo}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                run = pending.pop(ref)
                try:
                    finished(run, ray.get(ref), None)
                except Exception as error:  # retries exhausted
                    finished(run, None, _describe(error))
    finally:
        if started_here:
            ray.shutdown()
