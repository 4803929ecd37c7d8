"""The world: the fitted ShopperWorld that the simulator, the environments and the agents read.

A world is a contract between the layers: :mod:`cartgym.calibrate` writes it from logs,
:mod:`cartgym.sim` runs shoppers on it. Two worlds ship inside the package
(:data:`BUNDLED`); :func:`resolve_world` turns a name, a file or a world into a world.
"""

from cartgym.world.bundled import BUNDLED, DEFAULT_WORLD, bundled_world_path, resolve_world
from cartgym.world.coefficients import ChoiceCoefficients, StopModel
from cartgym.world.shopper_world import SCHEMA_VERSION, ShopperWorld, WorldFileError

__all__ = [
    "BUNDLED",
    "DEFAULT_WORLD",
    "SCHEMA_VERSION",
    "ChoiceCoefficients",
    "ShopperWorld",
    "StopModel",
    "WorldFileError",
    "bundled_world_path",
    "resolve_world",
]
