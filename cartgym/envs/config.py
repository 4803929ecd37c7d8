"""The environments' arguments: one frozen dataclass, shared by every environment class.

``gym.make(id, **kwargs)`` hands flat keyword arguments to :class:`CartEnv` and
:class:`CartVectorEnv`; both turn them into a :class:`CartEnvConfig` with
:meth:`CartEnvConfig.from_kwargs`. The named assumptions of the shopper dynamics are the
fields of :class:`~cartgym.sim.simulator.SimConfig` (defaults and validation live there,
once); the fields here say what is simulated and how it is offered.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from cartgym.sim.backend import BACKENDS, DEVICES
from cartgym.sim.config import SimConfig
from cartgym.world import DEFAULT_WORLD, ShopperWorld

MAX_EPISODE_STEPS = 100  # the registered ids' TimeLimit


@dataclass(frozen=True)
class CartEnvConfig:
    """What a cart environment simulates and offers (see CartEnv's docstring, Arguments).

    world: a bundled world name, a world file or a ShopperWorld; n_items: keep the world's
    most popular items only; slate_size: items per recommendation; bundle_candidates and
    bundle_discounts: offer bundles instead of items; backend and device: the array
    backend of the simulator; sim: the shopper dynamics' named assumptions.
    """

    world: str | Path | ShopperWorld = DEFAULT_WORLD
    n_items: int | None = None
    slate_size: int = 1
    bundle_candidates: int | None = None
    bundle_discounts: tuple[float, ...] = (0.0, 0.1, 0.2)
    backend: str = "numpy"
    device: str = "auto"
    sim: SimConfig = field(default_factory=SimConfig)

    def __post_init__(self) -> None:
        if not isinstance(self.world, (str, Path, ShopperWorld)):
            raise ValueError(
                "world must be a bundled name, a path or a ShopperWorld, "
                f"got {type(self.world).__name__}"
            )
        if self.n_items is not None and not _is_int(self.n_items, 2):
            raise ValueError(f"n_items must be None or an int >= 2, got {self.n_items!r}")
        if not _is_int(self.slate_size, 1):
            raise ValueError(f"slate_size must be an int >= 1, got {self.slate_size!r}")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, got {self.device!r}")
        if self.sim.response != "single" and self.slate_size < 2 and not self.bundles:
            raise ValueError(f"response={self.sim.response!r} needs slate_size >= 2")
        if self.bundles:
            if not _is_int(self.bundle_candidates, 1):
                raise ValueError(
                    f"bundle_candidates must be a positive int, got {self.bundle_candidates!r}"
                )
            if self.slate_size != 1 or self.sim.response != "single":
                raise ValueError(
                    "bundle offers replace slates: leave slate_size and response unset"
                )
        values = np.asarray(self.bundle_discounts, dtype=float)
        if values.ndim != 1 or not len(values) or values.min() < 0 or values.max() >= 0.9:
            raise ValueError(
                f"bundle_discounts must be values in [0, 0.9), got {self.bundle_discounts!r}"
            )
        object.__setattr__(self, "bundle_discounts", tuple(float(v) for v in values))

    @property
    def bundles(self) -> bool:
        """True when the environment offers bundles (``bundle_candidates`` is set)."""
        return self.bundle_candidates is not None

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Every keyword argument :meth:`from_kwargs` accepts."""
        own = tuple(f.name for f in fields(cls) if f.name != "sim")
        return own + tuple(f.name for f in fields(SimConfig))

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> CartEnvConfig:
        """The config of flat keyword arguments (those of ``gym.make``); an unknown name
        raises ValueError listing the known ones."""
        unknown = sorted(set(kwargs) - set(cls.names()))
        if unknown:
            raise ValueError(f"unknown argument(s) {unknown}; known: {sorted(cls.names())}")
        sim_names = {f.name for f in fields(SimConfig)}
        sim = SimConfig(**{k: v for k, v in kwargs.items() if k in sim_names})
        return cls(**{k: v for k, v in kwargs.items() if k not in sim_names}, sim=sim)


def _is_int(value: Any, low: int) -> bool:
    return bool(
        not isinstance(value, bool) and isinstance(value, (int, np.integer)) and value >= low
    )
