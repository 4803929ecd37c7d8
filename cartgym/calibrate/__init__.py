"""Fit a ShopperWorld from transactions (re-exported here with the world file types)."""

from cartgym.calibrate.catalogue import CatalogueFit, fit_catalogue
from cartgym.calibrate.fit import FitConfig, fit, fit_v1
from cartgym.calibrate.stop_fit import StopFitConfig
from cartgym.world import ChoiceCoefficients, ShopperWorld, WorldFileError

__all__ = [
    "CatalogueFit",
    "ChoiceCoefficients",
    "FitConfig",
    "ShopperWorld",
    "StopFitConfig",
    "WorldFileError",
    "fit",
    "fit_catalogue",
    "fit_v1",
]
