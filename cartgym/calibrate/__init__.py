"""Fit a ShopperWorld from transactions; save and load it."""

from cartgym.calibrate.fit import FitConfig, fit
from cartgym.calibrate.world import ChoiceCoefficients, ShopperWorld, WorldFileError

__all__ = ["ChoiceCoefficients", "FitConfig", "ShopperWorld", "WorldFileError", "fit"]
