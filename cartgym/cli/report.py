"""``cartgym report``: tables and plots of a sweep's results, generated.

cartgym report runs/quick/results.parquet --out docs/results/quick
"""

from __future__ import annotations

from cartgym.cli.parsing import OneLineParser
from cartgym.harness.report import write_report


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="cartgym report", description=__doc__.splitlines()[0])
    parser.add_argument("results", help="a results.parquet written by cartgym bench")
    parser.add_argument("--out", required=True, help="folder for index.md and the plots")
    args = parser.parse_args(argv)
    path = write_report(args.results, args.out, command="cartgym report " + " ".join(argv or []))
    print(f"wrote {path}")
    return 0
