"""Loader fuzzing (issue: hardening): malformed tables load with exact accounting or raise
the package's DataError naming the file; never a bare KeyError/TypeError/IndexError."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fuzzing import fuzz_loader


def test_malformed_tables_load_or_raise_data_error():
    tally = fuzz_loader(200, hypothesis_seed=1)
    assert tally["cases"] == 200
    assert tally["loaded"] > 10 and tally["data error"] > 10  # both paths exercised
