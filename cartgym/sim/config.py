"""The named assumptions of the shopper dynamics: one frozen dataclass, checked on creation.

Two shopper models exist. ``dynamics="v1"`` (CartRec-v1) has shoppers who check out by
a fitted stop model, may leave, and meet a counterfactual twin. ``dynamics="v0"``
(CartRec-v0, kept for reproducibility) replays a logged basket size, with patience. A
field left at ``None`` takes its model's default (:data:`V1_DEFAULTS`, :data:`V0_DEFAULTS`);
a field of the other model must stay ``None``. The v1 defaults are documented in
docs/calibration.md, each with where its value comes from.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

DYNAMICS = ("v1", "v0")
REWARDS = {
    "v1": ("basket_value", "attributed", "incremental", "click"),
    "v0": ("revenue", "click", "basket_value"),
}
RESPONSES = ("single", "multi", "bundle")

# CartRec-v1's defaults (docs/calibration.md: "The response to being shown an item").
V1_DEFAULTS: dict[str, Any] = {
    # log-odds bonus of a shown item; calibrated with ``impulse`` by simulated method of
    # moments to two field results (benchmarks/calibrate_response.py)
    "salience": 0.25,
    # per-slot log-odds added to the salience; 0: the Open Bandit sample shows no effect
    # (benchmarks/position_effects.py)
    "position_effects": (0.0, 0.0, 0.0),
    # per-step chance of leaving (losing the cart), calibrated to the Baymard Institute's
    # 70.19% average cart abandonment (benchmarks/calibrate_exits.py)
    "exit_hazard": 0.05,
    # added chance of leaving at a step whose recommendation is ignored: v0's patience mean
    # of 10 ignored recommendations
    "annoyance": 0.1,
    # chance that a taken recommendation is an impulse add, on top of the shopper's own item
    # (calibrated with ``salience``)
    "impulse": 0.5,
    "reward": "basket_value",
}
V0_DEFAULTS: dict[str, Any] = {
    "salience": 2.0,
    "patience_mean": 10.0,
    "reward": "revenue",
    "show_recommendations": True,
}
# the allowed range of each numeric assumption (inclusive unless noted)
RANGES: dict[str, tuple[float, float]] = {
    "salience": (-10.0, 10.0),
    "position_effects": (-10.0, 10.0),
    "exit_hazard": (0.0, 0.999),
    "annoyance": (0.0, 1.0),
    "impulse": (0.0, 1.0),
    "inclusive_value": (-10.0, 10.0),
    "shown_inclusive_value": (-100.0, 100.0),
    "patience_mean": (1.0, float("inf")),
    "discount_sensitivity": (0.0, 100.0),
}


@dataclass(frozen=True)
class SimConfig:
    """Named assumptions of the dynamics (not identifiable from purchase logs alone).

    dynamics: ``"v1"`` or ``"v0"`` (see the module docstring); default ``"v0"``, which the
        v1 environments set to ``"v1"`` when they are registered.
    salience: log-odds bonus of a shown item (v0: 2.0, exp(2) = 7.4x its weight).
    position_effects: per-slot log-odds added to the salience of a slate's k-th item (v1);
        ``()`` for none; a slate longer than the tuple gets 0 in the slots beyond it.
    exit_hazard: per-step chance of leaving the shop, losing the cart (v1, "h0").
    annoyance: added chance of leaving at a step whose shown recommendation is ignored (v1,
        "kappa"): P(leave) = 1 - (1 - exit_hazard) (1 - annoyance [ignored]).
    impulse: chance that a taken recommendation is an impulse add, on top of the item the
        shopper would have added at that step (v1, "rho"); otherwise it takes that item's
        place.
    inclusive_value: lambda of the stop model (v1); ``None`` takes the world's fitted value.
    shown_inclusive_value: the weight of what the shown items add to IV (v1): P(checkout) =
        sigmoid(V0 - inclusive_value IV_own - shown_inclusive_value (IV - IV_own)), IV_own
        being the inclusive value without the boost; ``None`` takes ``inclusive_value`` (the
        plain stop model). Purchase logs show nothing, so this is calibrated, not fitted.
    patience_mean: mean number of ignored recommendations a shopper tolerates (v0).
    new_shopper_rate: share of shoppers with no logged history.
    population: logged users to draw from: "all", "train" or "eval".
    reward: v1: "basket_value" (the cart's value at checkout, 0 if abandoned), "attributed"
        (the line value of the taken recommended items, paid at checkout), "incremental"
        (basket value minus the twin's, paid at the end) or "click" (1 per item taken).
        v0: "revenue" (line value of accepted recommendations, net of discounts), "click"
        or "basket_value".
    response: how a slate is answered. "single": at most one item (a conditional logit
        over the slate and the shopper's own alternatives). "multi": any subset, by
        sequential picks with the cart updated between picks (so an item taken makes its
        complements in the slate more likely); the first draw outside the slate ends the
        picking. "bundle": the whole slate or nothing (taken when the sequential picks
        take every item; otherwise declined).
    discount_sensitivity: in bundle mode a discount d multiplies the bundle's weight by
        (1 - d) ** -discount_sensitivity (a named assumption: the logs hold no discounts).
    show_recommendations: False gives v0's no-recommendation control: nothing is shown,
        every item is the shopper's own and patience is never used (in v1 showing
        nothing is an action, and the control a policy).
    """

    dynamics: str = "v0"
    salience: float | None = None
    position_effects: tuple[float, ...] | None = None
    exit_hazard: float | None = None
    annoyance: float | None = None
    impulse: float | None = None
    inclusive_value: float | None = None
    shown_inclusive_value: float | None = None
    patience_mean: float | None = None
    new_shopper_rate: float = 0.0
    population: str = "all"
    reward: str | None = None
    response: str = "single"
    discount_sensitivity: float = 1.0
    show_recommendations: bool | None = None

    def __post_init__(self) -> None:
        if self.dynamics not in DYNAMICS:
            raise ValueError(f"dynamics must be one of {DYNAMICS}, got {self.dynamics!r}")
        defaults = V1_DEFAULTS if self.dynamics == "v1" else V0_DEFAULTS
        v1_only = {*V1_DEFAULTS, "inclusive_value", "shown_inclusive_value"}
        mine = v1_only if self.dynamics == "v1" else set(defaults)
        theirs = {*V0_DEFAULTS, *v1_only} - mine
        for name in sorted(theirs):
            if getattr(self, name) is not None:
                raise ValueError(
                    f"{name} is an assumption of the other shopper model; "
                    f"dynamics={self.dynamics!r} does not use it"
                )
        for name, value in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        if self.position_effects is not None:
            object.__setattr__(self, "position_effects", tuple(self.position_effects))
        self._check()

    def _check(self) -> None:
        rewards = REWARDS[self.dynamics]
        if self.reward not in rewards:
            raise ValueError(f"reward must be one of {rewards}, got {self.reward!r}")
        if self.response not in RESPONSES:
            raise ValueError(f"response must be one of {RESPONSES}, got {self.response!r}")
        for name, (low, high) in RANGES.items():
            value = getattr(self, name)
            values = value if isinstance(value, tuple) else (value,)
            if value is None:
                continue
            ok = all(_is_number(v) and low <= float(v) <= high for v in values)
            if not ok or (name == "position_effects" and len(values) > 64):
                bound = "at most 64 values, each" if name == "position_effects" else "a number"
                raise ValueError(f"{name} must be {bound} in [{low}, {high}], got {value!r}")
        if not 0.0 <= self.new_shopper_rate <= 1.0:
            raise ValueError(f"new_shopper_rate must be in [0, 1], got {self.new_shopper_rate!r}")

    def slot_boosts(self, k: int) -> np.ndarray:
        """(k,) exp(salience + position effect) of each slot of a slate of k items."""
        effects = np.zeros(k)
        given = np.asarray(self.position_effects or (), dtype=float)[:k]
        effects[: len(given)] = given
        return np.exp(float(self.salience) + effects)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _is_number(value: Any) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, (int, float, np.integer, np.floating))
        and bool(np.isfinite(value) or np.isinf(value))
        and not np.isnan(value)
    )
