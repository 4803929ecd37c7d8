"""What the single and the vector environment share: a simulator, its spaces and infos."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from cartgym.envs.config import CartEnvConfig
from cartgym.envs.observation import Observer
from cartgym.sim.config import SimConfig
from cartgym.sim.simulator import CartSimulator, StepOutcome
from cartgym.world import resolve_world


class CartSessions:
    """B shopping sessions over one world, with the spaces of one session.

    ``config`` holds the environment's arguments (see :class:`CartEnvConfig`); bundle
    sessions override the slate size and the simulator's config.
    """

    def __init__(
        self,
        n_sessions: int,
        config: CartEnvConfig,
        slate_size: int | None = None,
        sim_config: SimConfig | None = None,
    ):
        self.config = config
        self.world = resolve_world(config.world, config.n_items)
        m = self.world.n_items
        slate_size = config.slate_size if slate_size is None else slate_size
        if not 1 <= slate_size <= m:
            raise ValueError(f"slate_size must be an int in [1, {m}], got {slate_size!r}")
        self.sim = CartSimulator(
            self.world,
            n_sessions,
            sim_config or config.sim,
            backend=config.backend,
            device=config.device,
        )
        self.observer = Observer(self.sim)
        self.layout = self.observer.layout
        self.slate_size = int(slate_size)
        self.observation_space = self.layout.space()
        self.action_space: spaces.Space = (
            spaces.Discrete(m) if slate_size == 1 else spaces.MultiDiscrete([m] * slate_size)
        )

    def recommendations(self, actions: Any, batched: bool) -> np.ndarray:
        """(B, K) item indices from one action (``batched=False``) or a batch of actions.

        Raises ValueError naming the action and the expected space otherwise.
        """
        b, k, m = self.sim.n_shoppers, self.slate_size, self.world.n_items
        expected = f"{b} x " if batched else ""
        expected += f"an int in [0, {m})" if k == 1 else f"{k} ints in [0, {m})"
        array = np.asarray(actions)
        shape = ((b,) if k == 1 else (b, k)) if batched else (() if k == 1 else (k,))
        if (
            array.shape != shape
            or array.dtype.kind not in "iu"
            or (array.size and (array.min() < 0 or array.max() >= m))
        ):
            raise ValueError(f"invalid action {actions!r}: expected {expected}")
        return array.astype(np.int64).reshape(b, k)

    def step(self, actions: Any, batched: bool, rng: np.random.Generator) -> StepOutcome:
        """Check the action(s) and advance the simulator one step."""
        return self.sim.step(self.recommendations(actions, batched), rng)

    def observe(self) -> np.ndarray:
        """(B, D) observations of every session."""
        return self.observer.observe()

    def action_masks(self) -> np.ndarray:
        """(B, M) items not in each cart; (B, K * M) tiled per slate position for slates."""
        mask = ~self.numpy(self.sim.in_cart)
        return mask if self.slate_size == 1 else np.tile(mask, (1, self.slate_size))

    def shown_items(self, actions: Any, rows: np.ndarray) -> np.ndarray:
        """Distinct catalogue items that the batched ``actions`` show in ``rows`` (none in
        the no-recommendation control)."""
        if not self.sim.config.show_recommendations:
            return np.zeros(0, dtype=np.int64)
        return np.unique(np.asarray(actions)[rows])

    def numpy(self, values: Any) -> np.ndarray:
        """A numpy copy of a simulator array."""
        return np.array(self.sim.ops.to_numpy(values))

    def info(self, outcome: StepOutcome | None) -> dict[str, np.ndarray]:
        """Per-session arrays: cart size and value, and after a step what happened in it."""
        sim = self.sim
        info = {"cart_size": self.numpy(sim.cart_size), "cart_value": self.numpy(sim.cart_value)}
        if outcome is not None:
            info.update(
                accepted=outcome.accepted,
                organic=outcome.organic,
                rec_revenue=outcome.rec_revenue,
                organic_revenue=outcome.organic_revenue,
                checkout=outcome.checkout,
                abandoned=outcome.abandoned,
                accepted_count=(outcome.taken >= 0).sum(axis=1),
                discount_cost=outcome.discount_cost,
            )
        return info
