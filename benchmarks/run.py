"""Run a benchmark sweep: ``python benchmarks/run.py --preset quick`` (same as ``cartgym bench``).

See :mod:`cartgym.agents.bench` for the config keys, presets, executors and resume rules.
"""

import sys

from cartgym.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
