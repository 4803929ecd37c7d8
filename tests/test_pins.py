"""Behaviour pinned across refactors: world fingerprints, same-seed trajectories of every v0
and v1 id and of the vector env, and the rows of a small fixed sweep (``tests/pins/``).

History: the v0 trajectories were pinned before the package was restructured (issue 12)
and still hold after the O(K) refresh (issue 15); the sweep rows were re-pinned when the
agents moved to the training users' logs (issue 14), and the v1 trajectories pinned then.
"""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "pins"))
import behaviour

PINNED = json.loads(behaviour.PINS.read_text())


def test_world_fingerprints_are_pinned():
    assert behaviour.world_fingerprints() == PINNED["worlds"]


@pytest.mark.parametrize("env_id", behaviour.V0_IDS + behaviour.V1_IDS)
def test_trajectories_are_pinned(env_id):
    assert behaviour.trajectory_digest(env_id) == PINNED["trajectories"][env_id]


@pytest.mark.parametrize(("env_id", "key"), [("CartRec-v0", "vector"), ("CartRec-v1", "vector_v1")])
def test_vector_env_trajectory_is_pinned(env_id, key):
    assert behaviour.vector_digest(env_id) == PINNED[key]


def test_small_sweep_rows_are_pinned(tmp_path):
    rows = behaviour.sweep_rows(tmp_path)
    assert [r["agent"] for r in rows] == [r["agent"] for r in PINNED["sweep"]]
    for row, pinned in zip(rows, PINNED["sweep"], strict=True):
        for key, value in pinned.items():
            expected = pytest.approx(value, rel=1e-12) if isinstance(value, float) else value
            assert row[key] == expected, (row["agent"], key)
