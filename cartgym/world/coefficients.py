"""The fitted coefficients of a world: the item choice model and the stop model."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass(frozen=True)
class ChoiceCoefficients:
    """Weights of the conditional-logit utility, estimated by maximum likelihood.

    utility(shopper b, item i) = taste * (z_b . v_i) + history * h_bi + popularity * pop_i
                                 + complement * comp_bi + log_price * log(price_i)
    """

    taste: float
    history: float
    popularity: float
    complement: float
    log_price: float

    def as_array(self) -> np.ndarray:
        return np.array([getattr(self, f.name) for f in fields(self)])

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


@dataclass(frozen=True)
class StopModel:
    """When a shopper checks out, fitted by maximum likelihood on logged baskets.

    After each add, P(checkout) = sigmoid(V0 - inclusive_value * IV) with
    V0 = intercept + log_size * log(1 + cart size)
    + log_value_ratio * log(cart value / the shopper's typical basket value), and IV the
    log of the summed choice weights of the items not in the cart. ``typical_value`` is the
    typical basket value of a shopper with no logged baskets (the median over baskets).
    """

    intercept: float
    log_size: float
    log_value_ratio: float
    inclusive_value: float
    typical_value: float

    def __post_init__(self) -> None:
        for f in fields(self):
            if not np.isfinite(getattr(self, f.name)):
                raise ValueError(f"stop model {f.name} must be finite, got {getattr(self, f.name)}")
        if self.typical_value <= 0:
            raise ValueError(f"stop model typical_value must be > 0, got {self.typical_value}")

    def to_dict(self) -> dict[str, float]:
        return {f.name: float(getattr(self, f.name)) for f in fields(self)}
