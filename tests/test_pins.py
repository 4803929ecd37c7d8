"""Behaviour pinned across refactors: world fingerprints, same-seed trajectories of every v0
id and of the vector env, and the rows of a small fixed sweep (``tests/pins/``)."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "pins"))
import behaviour

PINNED = json.loads(behaviour.PINS.read_text())


def test_world_fingerprints_are_pinned():
    assert behaviour.world_fingerprints() == PINNED["worlds"]


@pytest.mark.parametrize("env_id", behaviour.V0_IDS)
def test_v0_trajectories_are_pinned(env_id):
    assert behaviour.trajectory_digest(env_id) == PINNED["trajectories"][env_id]


def test_vector_env_trajectory_is_pinned():
    assert behaviour.vector_digest() == PINNED["vector"]


def test_small_sweep_rows_are_pinned(tmp_path):
    rows = behaviour.sweep_rows(tmp_path)
    assert [r["agent"] for r in rows] == [r["agent"] for r in PINNED["sweep"]]
    for row, pinned in zip(rows, PINNED["sweep"], strict=True):
        for key, value in pinned.items():
            expected = pytest.approx(value, rel=1e-12) if isinstance(value, float) else value
            assert row[key] == expected, (row["agent"], key)
