"""The bundled default world is exactly what `make world` regenerates from the bundled data."""

import hashlib

from cartgym.calibrate import FitConfig, fit
from cartgym.data import load_online_retail, online_retail_item_names
from cartgym.world import bundled_world_path


def test_default_world_regenerates_bit_for_bit(tmp_path):
    world = fit(load_online_retail(), FitConfig(), item_names=online_retail_item_names())
    path = world.save(tmp_path / "online_retail.npz")
    bundled = bundled_world_path()
    assert (
        hashlib.sha256(path.read_bytes()).hexdigest()
        == hashlib.sha256(bundled.read_bytes()).hexdigest()
    ), "run `make world` and commit cartgym/world/data/online_retail.npz"
