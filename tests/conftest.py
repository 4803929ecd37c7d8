"""Shared fixtures: the bundled world and small worlds cut from it."""

from __future__ import annotations

import pytest

from cartgym.world import ShopperWorld, resolve_world


@pytest.fixture(scope="session")
def world() -> ShopperWorld:
    return resolve_world("online_retail")


@pytest.fixture(scope="session")
def small_world(world: ShopperWorld) -> ShopperWorld:
    return world.top_items(40)
