"""Tables and plots of a sweep: ``python benchmarks/report.py runs/quick/results.parquet --out
docs/results/quick`` (same as ``cartgym report``). See :mod:`cartgym.agents.report`."""

import sys

from cartgym.cli import main

if __name__ == "__main__":
    sys.exit(main(["report", *sys.argv[1:]]))
