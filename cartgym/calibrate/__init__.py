"""Fit a ShopperWorld from transactions (re-exported here with the world file types)."""

from cartgym.calibrate.fit import FitConfig, fit
from cartgym.world import ChoiceCoefficients, ShopperWorld, WorldFileError

__all__ = ["ChoiceCoefficients", "FitConfig", "ShopperWorld", "WorldFileError", "fit"]
