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

from cartgym.sim.population import population_groups

DYNAMICS = ("v1", "v0")
REWARDS = {
    "v1": ("basket_value", "attributed", "incremental", "click"),
    "v0": ("revenue", "click", "basket_value"),
}
RESPONSES = ("single", "multi", "bundle")

# CartRec-v1's defaults (docs/calibration.md, "The response to being shown an item"). The
# response is calibrated by simulated method of moments to two field results with the
# co-occurrence policy (benchmarks/calibrate_response.py; docs/results/calibration/
# response.md, a test checks these against its response.json).
V1_DEFAULTS: dict[str, Any] = {
    "salience": 0.0251,  # log-odds bonus of a shown item
    "impulse": 1.0,  # a taken recommendation adds to the shopper's own item
    "shown_inclusive_value": 8.6728,  # weight of what shown items add to IV
    # per-slot log-odds added to the salience: 0, the Open Bandit sample shows no effect
    # (benchmarks/position_effects.py, docs/results/calibration/position_effects.md)
    "position_effects": (0.0, 0.0, 0.0),
    # buyers only: the logs are completed orders, on which the stop model is fitted
    # (the Baymard-calibrated hazard is VARIANTS["abandon"])
    "exit_hazard": 0.0,
    # no annoyance: with v0's 0.1 the co-occurrence policy loses 78% of its items, where
    # the field measures gains (docs/calibration.md); VARIANTS["patience"] keeps 0.1
    "annoyance": 0.0,
    "reward": "basket_value",
}
# Named variants of the v1 assumptions, registered as their own ids (envs/registration.py).
VARIANTS: dict[str, dict[str, Any]] = {
    # the items target at +5% and +35% (response.md)
    "items5": {"salience": 0.0934, "impulse": 0.6306, "shown_inclusive_value": "fitted"},
    "items35": {"salience": 0.1, "impulse": 1.0, "shown_inclusive_value": 55.0113},
    # the response from the logs alone: the fitted lambda, the salience at the Complete
    # Journey display estimate (an upper bound, benchmarks/promotion_effect.py), no
    # impulse adds
    "logs_only": {"salience": 0.234, "impulse": 0.0, "shown_inclusive_value": "fitted"},
    # the Baymard Institute's 70.19% cart abandonment (benchmarks/calibrate_exits.py)
    "abandon": {"exit_hazard": 0.1577},
    # v0's patience: each ignored recommendation ends the visit with probability 1/10
    "patience": {"annoyance": 0.1},
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
        being the inclusive value without the boost; ``"fitted"`` takes ``inclusive_value``
        (the plain stop model, as the logs fit it). Purchase logs show nothing, so the
        default is calibrated, not fitted.
    patience_mean: mean number of ignored recommendations a shopper tolerates (v0).
    new_shopper_rate: share of shoppers with no logged history.
    population: logged users to draw from: "all", "train", "validation" or "test"
        (``cartgym.data.user_groups``; "eval" is v0's name of "test"), or groups joined
        by "+" ("train+validation").
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
    refresh: how the choice weights follow the cart (not a dynamics parameter):
        "incremental" (default) recomputes only the items the cart touched, O(K +
        partners) a step; "full" recomputes whole rows, O(M), the reference it is tested
        against (``cartgym.sim.carts``).
    """

    dynamics: str = "v0"
    salience: float | None = None
    position_effects: tuple[float, ...] | None = None
    exit_hazard: float | None = None
    annoyance: float | None = None
    impulse: float | None = None
    inclusive_value: float | None = None
    shown_inclusive_value: float | str | None = None
    patience_mean: float | None = None
    new_shopper_rate: float = 0.0
    population: str = "all"
    reward: str | None = None
    response: str = "single"
    discount_sensitivity: float = 1.0
    show_recommendations: bool | None = None
    refresh: str = "incremental"

    def __post_init__(self) -> None:
        if self.dynamics not in DYNAMICS:
            raise ValueError(f"dynamics must be one of {DYNAMICS}, got {self.dynamics!r}")
        population_groups(self.population)  # a clear error for an unknown population
        if self.refresh not in ("incremental", "full"):
            raise ValueError(f"refresh must be 'incremental' or 'full', got {self.refresh!r}")
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
            if name == "shown_inclusive_value" and value == "fitted":
                continue
            values = value if isinstance(value, tuple) else (value,)
            if value is None:
                continue
            ok = all(_is_number(v) and low <= float(v) <= high for v in values)
            if not ok or (name == "position_effects" and len(values) > 64):
                bound = "at most 64 values, each" if name == "position_effects" else "a number"
                bound += " or 'fitted'," if name == "shown_inclusive_value" else ""
                raise ValueError(f"{name} must be {bound} in [{low}, {high}], got {value!r}")
        if not 0.0 <= self.new_shopper_rate <= 1.0:
            raise ValueError(f"new_shopper_rate must be in [0, 1], got {self.new_shopper_rate!r}")

    def number(self, name: str) -> float:
        """A numeric assumption of this shopper model (resolved from its default)."""
        value = getattr(self, name)
        if not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"{name} is not a number of dynamics={self.dynamics!r}: {value!r}")
        return float(value)

    def slot_boosts(self, k: int) -> np.ndarray:
        """(k,) exp(salience + position effect) of each slot of a slate of k items."""
        effects = np.zeros(k)
        given = np.asarray(self.position_effects or (), dtype=float)[:k]
        effects[: len(given)] = given
        return np.exp(self.number("salience") + effects)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _is_number(value: Any) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, (int, float, np.integer, np.floating))
        and bool(np.isfinite(value) or np.isinf(value))
        and not np.isnan(value)
    )
