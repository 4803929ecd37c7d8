"""The named assumptions of the shopper dynamics: one frozen dataclass, checked on creation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REWARDS = ("revenue", "click", "basket_value")

RESPONSES = ("single", "multi", "bundle")


@dataclass(frozen=True)
class SimConfig:
    """Named assumptions of the dynamics (not identifiable from purchase logs).

    salience: log-odds bonus of being recommended (exp(2) = 7.4x the weight of the item).
    patience_mean: mean number of ignored recommendations a shopper tolerates (geometric).
    new_shopper_rate: share of shoppers with no logged history.
    population: logged users to draw from: "all", "train" (80%) or "eval" (20%).
    reward: "revenue" (line value of accepted recommendations, net of discounts), "click"
        (1 per accepted item) or "basket_value" (value of the whole cart, paid at checkout).
    response: how a slate is answered. "single": at most one item (a conditional logit
        over the slate and the shopper's own alternatives). "multi": any subset, by
        sequential picks with the cart updated between picks (so an item taken makes its
        complements in the slate more likely); the first draw outside the slate ends the
        picking. "bundle": the whole slate or nothing (taken when the sequential picks
        take every item; otherwise declined).
    discount_sensitivity: in bundle mode a discount d multiplies the bundle's weight by
        (1 - d) ** -discount_sensitivity (a named assumption: the logs hold no discounts).
    show_recommendations: False gives the no-recommendation control: nothing is shown,
        every item is the shopper's own and patience is never used.
    """

    salience: float = 2.0
    patience_mean: float = 10.0
    new_shopper_rate: float = 0.0
    population: str = "all"
    reward: str = "revenue"
    response: str = "single"
    discount_sensitivity: float = 1.0
    show_recommendations: bool = True

    def __post_init__(self) -> None:
        if self.reward not in REWARDS:
            raise ValueError(f"reward must be one of {REWARDS}, got {self.reward!r}")
        if self.response not in RESPONSES:
            raise ValueError(f"response must be one of {RESPONSES}, got {self.response!r}")
        if not np.isfinite(self.salience):
            raise ValueError(f"salience must be a finite number, got {self.salience!r}")
        if not (np.isfinite(self.discount_sensitivity) and self.discount_sensitivity >= 0):
            raise ValueError(
                f"discount_sensitivity must be finite and >= 0, got {self.discount_sensitivity!r}"
            )
