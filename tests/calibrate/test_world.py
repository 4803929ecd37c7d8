import hashlib
import io
import json
import zipfile

import numpy as np
import pytest

from cartgym.world import SCHEMA_VERSION, ShopperWorld, WorldFileError


def _rewrite(src, dst, edit):
    """Copy a world zip member by member, letting ``edit(name, bytes)`` change members."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            data = edit(name, zin.read(name))
            if data is not None:
                zout.writestr(name, data)


def test_save_load_round_trip(small_world, tmp_path):
    path = small_world.save(tmp_path / "w.npz")
    loaded = ShopperWorld.load(path)
    assert loaded.fingerprint == small_world.fingerprint
    assert loaded.coefficients == small_world.coefficients
    assert np.array_equal(loaded.item_ids, small_world.item_ids)
    assert (loaded.complement != small_world.complement).nnz == 0


def test_save_is_byte_for_byte_reproducible(small_world, tmp_path):
    a = small_world.save(tmp_path / "a.npz").read_bytes()
    b = small_world.save(tmp_path / "b.npz").read_bytes()
    assert hashlib.sha256(a).digest() == hashlib.sha256(b).digest()


def test_rejects_other_schema_version(small_world, tmp_path):
    src = small_world.save(tmp_path / "w.npz")

    def bump(name, data):
        if name == "meta.json":
            meta = json.loads(data)
            meta["schema_version"] = SCHEMA_VERSION + 1
            return json.dumps(meta)
        return data

    _rewrite(src, tmp_path / "v.npz", bump)
    with pytest.raises(WorldFileError, match="schema version"):
        ShopperWorld.load(tmp_path / "v.npz")


def test_rejects_truncated_file(small_world, tmp_path):
    data = small_world.save(tmp_path / "w.npz").read_bytes()
    (tmp_path / "t.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(WorldFileError, match="damaged or truncated"):
        ShopperWorld.load(tmp_path / "t.npz")


def test_rejects_extra_member(small_world, tmp_path):
    src = small_world.save(tmp_path / "w.npz")
    _rewrite(src, tmp_path / "x.npz", lambda name, data: data)
    with zipfile.ZipFile(tmp_path / "x.npz", "a") as archive:
        archive.writestr("evil.npy", b"junk")
    with pytest.raises(WorldFileError, match="unexpected members"):
        ShopperWorld.load(tmp_path / "x.npz")


def test_rejects_tampered_dtype_and_values(small_world, tmp_path):
    src = small_world.save(tmp_path / "w.npz")

    def as_object(name, data):
        if name == "prices.npy":
            buffer = io.BytesIO()
            np.save(buffer, np.array(["1.0"] * small_world.n_items))
            return buffer.getvalue()
        return data

    _rewrite(src, tmp_path / "d.npz", as_object)
    with pytest.raises(WorldFileError, match="prices"):
        ShopperWorld.load(tmp_path / "d.npz")

    def scaled(name, data):
        if name == "prices.npy":
            buffer = io.BytesIO()
            np.save(buffer, small_world.prices * 2)
            return buffer.getvalue()
        return data

    _rewrite(src, tmp_path / "s.npz", scaled)
    with pytest.raises(WorldFileError, match="fingerprint"):
        ShopperWorld.load(tmp_path / "s.npz")


def test_rejects_pickled_member(small_world, tmp_path):
    src = small_world.save(tmp_path / "w.npz")

    def pickled(name, data):
        if name == "item_ids.npy":
            buffer = io.BytesIO()
            np.save(buffer, np.array([object()] * small_world.n_items), allow_pickle=True)
            return buffer.getvalue()
        return data

    _rewrite(src, tmp_path / "p.npz", pickled)
    with pytest.raises(WorldFileError):
        ShopperWorld.load(tmp_path / "p.npz")


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(WorldFileError, match="no such world file"):
        ShopperWorld.load(tmp_path / "absent.npz")
    (tmp_path / "plain.npz").write_bytes(b"not a zip")
    with pytest.raises(WorldFileError, match="damaged"):
        ShopperWorld.load(tmp_path / "plain.npz")


def test_top_items_keeps_the_most_popular(world):
    small = world.top_items(25)
    assert small.n_items == 25
    threshold = np.sort(world.popularity)[-25]
    assert np.all(small.popularity >= threshold)
    assert small.session_sizes.min() >= 2 and small.session_sizes.max() <= 25
    assert small.complement.shape == (25, 25)
    with pytest.raises(ValueError, match="n_items"):
        world.top_items(1)
    with pytest.raises(ValueError, match="n_items"):
        world.top_items(world.n_items + 1)


def test_shape_checks(small_world):
    from dataclasses import replace

    with pytest.raises(ValueError, match="prices"):
        replace(small_world, prices=small_world.prices[:-1])
    with pytest.raises(ValueError, match="positive"):
        replace(small_world, prices=-small_world.prices)
