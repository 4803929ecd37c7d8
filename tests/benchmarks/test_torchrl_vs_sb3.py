"""The TorchRL-against-SB3 comparison script runs end to end at a smoke size."""

import sys
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("torchrl")
sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
import torchrl_vs_sb3


def test_the_comparison_writes_its_page_and_table(tmp_path):
    torchrl_vs_sb3.main(
        [
            "--steps",
            "1024",
            "--every",
            "1024",
            "--sessions",
            "10",
            "--seeds",
            "0",
            "--out",
            str(tmp_path),
        ]
    )
    table = pd.read_csv(tmp_path / "learning_curves.csv")
    assert set(table["trainer"]) == {"sb3", "torchrl"}
    assert (table.groupby("trainer")["steps"].max() >= 1024).all()
    page = (tmp_path / "learning_curves.md").read_text()
    assert "Command: `python benchmarks/torchrl_vs_sb3.py --steps 1024" in page
    assert "Learns at least as well" in page and "nan" not in page
