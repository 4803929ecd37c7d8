"""Resolve the ``world`` argument of the environments: a name, a file or a ShopperWorld."""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from cartgym.world.shopper_world import ShopperWorld

# Worlds shipped inside the package, by name and schema (1: CartRec-v0, 2: CartRec-v1).
BUNDLED = {
    "online_retail": {1: "online_retail.npz", 2: "online_retail_v1.npz"},
    "complete_journey": {1: "complete_journey.npz", 2: "complete_journey_v1.npz"},
}
DEFAULT_WORLD = "online_retail"


def bundled_world_path(name: str = DEFAULT_WORLD, schema: int = 1) -> Path:
    """The file of bundled world ``name`` with ``schema`` 1 (CartRec-v0) or 2 (CartRec-v1)."""
    if name not in BUNDLED:
        raise ValueError(f"unknown bundled world {name!r}; bundled worlds: {sorted(BUNDLED)}")
    if schema not in BUNDLED[name]:
        raise ValueError(f"schema must be one of {sorted(BUNDLED[name])}, got {schema!r}")
    return Path(str(resources.files("cartgym") / "world" / "data" / BUNDLED[name][schema]))


def resolve_world(
    world: str | Path | ShopperWorld, n_items: int | None = None, schema: int = 1
) -> ShopperWorld:
    """A ShopperWorld from a bundled name (its ``schema`` 1 or 2 file), a path to a world
    file or a world itself, optionally restricted to its ``n_items`` most popular items."""
    if isinstance(world, ShopperWorld):
        resolved = world
    elif isinstance(world, (str, Path)):
        bundled = str(world) in BUNDLED
        path = bundled_world_path(str(world), schema) if bundled else Path(world)
        resolved = _load(path.resolve(), path.stat().st_mtime_ns if path.exists() else 0)
    else:
        raise ValueError(
            f"world must be a bundled name {sorted(BUNDLED)}, a path or a ShopperWorld, "
            f"got {type(world).__name__}"
        )
    if n_items is not None:
        resolved = resolved.top_items(n_items)
    return resolved


@functools.lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int) -> ShopperWorld:
    # Worlds are immutable, so environments made from one file share one copy.
    return ShopperWorld.load(path)
