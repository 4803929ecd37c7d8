"""The benchmark harness, installed as ``cartgym.harness`` (its source is ``benchmarks/harness/``).

A sweep runs agents x environments x seeds with one budget (:mod:`~cartgym.harness.config`,
named sweeps in :mod:`~cartgym.harness.presets`); each run trains on training shoppers and
is evaluated on held-out ones with :func:`cartgym.evaluation.evaluate`
(:mod:`~cartgym.harness.runner`); rows are stored atomically (:mod:`~cartgym.harness.storage`)
by an executor (:mod:`~cartgym.harness.executors`: local, process pool or Ray), and
:mod:`~cartgym.harness.report` writes the tables and plots.

    cartgym bench --preset quick --out runs/quick --report runs/quick/report
"""

from cartgym.harness.config import BenchConfig, ConfigError, Run, SweepEnv
from cartgym.harness.executors import sweep
from cartgym.harness.presets import PRESETS
from cartgym.harness.report import write_report
from cartgym.harness.runner import training_logs

__all__ = [
    "PRESETS",
    "BenchConfig",
    "ConfigError",
    "Run",
    "SweepEnv",
    "sweep",
    "training_logs",
    "write_report",
]
