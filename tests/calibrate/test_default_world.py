"""The bundled default worlds are exactly what `make world` regenerates from the bundled data."""

import hashlib

import pytest

from cartgym.calibrate import FitConfig, StopFitConfig, fit
from cartgym.data import load_online_retail, online_retail_item_names
from cartgym.world import bundled_world_path


@pytest.mark.parametrize("schema", [1, 2])
def test_default_world_regenerates_bit_for_bit(tmp_path, schema):
    config = FitConfig() if schema == 1 else FitConfig(min_session_size=1)
    stop = StopFitConfig() if schema == 2 else None
    world = fit(load_online_retail(), config, stop=stop, item_names=online_retail_item_names())
    path = world.save(tmp_path / "world.npz")
    bundled = bundled_world_path(schema=schema)
    assert (
        hashlib.sha256(path.read_bytes()).hexdigest()
        == hashlib.sha256(bundled.read_bytes()).hexdigest()
    ), f"run `make world` and commit {bundled.name}"
