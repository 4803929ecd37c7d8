"""What the single and the vector environment share: a simulator, its spaces and infos."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from cartgym.envs.config import CartEnvConfig
from cartgym.envs.observation import Catalogue, Observer
from cartgym.sim.checkout import CheckoutSimulator
from cartgym.sim.config import SimConfig
from cartgym.sim.simulator import CartSimulator, StepOutcome
from cartgym.world import resolve_world

# the world schema each shopper model reads
SCHEMAS = {"v0": 1, "v1": 2}


class CartSessions:
    """B shopping sessions over one world, with the spaces of one session.

    ``config`` holds the environment's arguments (see :class:`CartEnvConfig`); bundle
    sessions override the slate size and the simulator's config. ``horizon`` is the
    environment's ``max_episode_steps`` (CartRec-v1's twins stop there too). With
    ``dynamics="v1"`` one more action shows nothing: item ``M`` (of ``Discrete(M + 1)``,
    or in a slate's position), and the mask always allows it.
    """

    def __init__(
        self,
        n_sessions: int,
        config: CartEnvConfig,
        slate_size: int | None = None,
        sim_config: SimConfig | None = None,
        horizon: int | None = None,
    ):
        self.config = config
        sim_config = sim_config or config.sim
        schema = SCHEMAS[sim_config.dynamics]
        self.world = resolve_world(config.world, config.n_items, schema)
        if self.world.schema_version != schema:
            raise ValueError(_schema_message(config.world, self.world.schema_version, schema))
        m = self.world.n_items
        slate_size = config.slate_size if slate_size is None else slate_size
        if not 1 <= slate_size <= m:
            raise ValueError(f"slate_size must be an int in [1, {m}], got {slate_size!r}")
        self.sim: CartSimulator | CheckoutSimulator
        if sim_config.dynamics == "v1":
            self.sim = CheckoutSimulator(
                self.world, n_sessions, sim_config, backend=config.backend,
                device=config.device, horizon=horizon,
            )  # fmt: skip
        else:
            self.sim = CartSimulator(
                self.world, n_sessions, sim_config, backend=config.backend, device=config.device
            )
        self.n = n_sessions
        self.nothing = int(sim_config.dynamics == "v1")  # actions that show nothing
        self.slate_size = int(slate_size)
        self.observer = Observer(self.sim, extra=self.nothing, tiles=self.slate_size)
        self.layout = self.observer.layout
        self.catalogue = Catalogue.of_world(self.world)
        self.observation_space = self.layout.space()
        choices = m + self.nothing
        self.action_space: spaces.Space = (
            spaces.Discrete(choices)
            if slate_size == 1
            else spaces.MultiDiscrete([choices] * slate_size)
        )

    def recommendations(self, actions: Any, batched: bool) -> np.ndarray:
        """(B, K) item indices from one action (``batched=False``) or a batch of actions;
        -1 for a slot that shows nothing.

        Raises ValueError naming the action and the expected space otherwise.
        """
        b, k = self.n, self.slate_size
        top = self.world.n_items + self.nothing
        expected = f"{b} x " if batched else ""
        expected += f"an int in [0, {top})" if k == 1 else f"{k} ints in [0, {top})"
        array = np.asarray(actions)
        shape = ((b,) if k == 1 else (b, k)) if batched else (() if k == 1 else (k,))
        if (
            array.shape != shape
            or array.dtype.kind not in "iu"
            or (array.size and (array.min() < 0 or array.max() >= top))
        ):
            raise ValueError(f"invalid action {actions!r}: expected {expected}")
        recs = array.astype(np.int64).reshape(b, k)
        return np.where(recs >= self.world.n_items, -1, recs)

    def step(self, actions: Any, batched: bool, rng: np.random.Generator) -> StepOutcome:
        """Check the action(s) and advance the simulator one step."""
        recs = self.recommendations(actions, batched)
        if isinstance(self.sim, CheckoutSimulator):  # counter-based draws: no generator
            return self.sim.step(recs)
        return self.sim.step(recs, rng)

    def reset(self, rng: np.random.Generator, rows: Any = None) -> None:
        """Start new sessions in ``rows`` (default: all)."""
        self.sim.reset(rng, rows)

    def observe(self, copy: bool = True) -> np.ndarray:
        """(B, D) observations of every session (``copy=False``: the persistent buffer)."""
        return self.observer.observe(copy)

    def users(self) -> np.ndarray:
        """(N,) the user index of each lane's shopper (-1 for a new shopper)."""
        return self.lane(self.sim.users)

    def lane(self, values: Any) -> np.ndarray:
        """A numpy copy of the sessions' rows of a simulator array (not CartRec-v1's twins)."""
        return np.array(self.sim.ops.to_numpy(values[: self.n]))

    def in_cart(self) -> np.ndarray:
        """(B, M) True for the items in each session's cart."""
        return self.lane(self.sim.in_cart)

    def action_masks(self, copy: bool = True) -> np.ndarray:
        """(B, M) items not in each cart (then True for show-nothing, with CartRec-v1);
        tiled per slate position for slates. Kept in step with the carts by the observer
        (``copy=False``: its persistent buffer, valid until the next step)."""
        self.observer.update()
        return self.observer.masks(copy)

    def shown_items(self, actions: Any, rows: np.ndarray) -> np.ndarray:
        """Distinct catalogue items that the batched ``actions`` show in ``rows`` (none in
        the no-recommendation control)."""
        if not self.sim.config.show_recommendations and not self.nothing:
            return np.zeros(0, dtype=np.int64)
        items = np.unique(np.asarray(actions)[rows])
        return items[items < self.world.n_items]

    def numpy(self, values: Any) -> np.ndarray:
        """A numpy copy of a simulator array."""
        return np.array(self.sim.ops.to_numpy(values))

    def info(self, outcome: StepOutcome | None) -> dict[str, np.ndarray]:
        """Per-session arrays: cart size and value, and after a step what happened in it.

        ``basket_value`` is what a session is worth at its end: the cart's value (v0), or
        the value paid, 0 unless it checked out (v1). CartRec-v1 adds, for sessions that
        ended at this step (0 elsewhere): the twin's ``twin_basket_value`` (paid),
        ``twin_basket_size`` (its cart's size) and ``twin_checkout``; ``session_taken``
        (distinct items taken from recommendations) and ``bought_anyway`` (of those, the
        ones the twin added to its cart too).
        """
        sim = self.sim
        cart_value = self.lane(sim.cart_value)
        info = {"cart_size": self.lane(sim.cart_size), "cart_value": cart_value}
        if outcome is None:
            return info
        info.update(
            accepted=outcome.accepted,
            organic=outcome.organic,
            rec_revenue=outcome.rec_revenue,
            organic_revenue=outcome.organic_revenue,
            checkout=outcome.checkout,
            abandoned=outcome.abandoned,
            accepted_count=(outcome.taken >= 0).sum(axis=1),
            taken=outcome.taken,
            discount_cost=outcome.discount_cost,
            basket_value=cart_value,
        )
        if isinstance(sim, CheckoutSimulator):
            ends = sim.ends
            extra = {
                key: np.zeros(self.n)
                for key in (
                    "twin_basket_value",
                    "twin_basket_size",
                    "twin_checkout",
                    "session_taken",
                    "bought_anyway",
                )
            }
            info["basket_value"] = np.where(outcome.checkout, cart_value, 0.0)
            if ends is not None and len(ends.lanes):
                extra["twin_basket_value"][ends.lanes] = ends.twin_basket_value
                extra["twin_basket_size"][ends.lanes] = ends.twin_basket_size
                extra["twin_checkout"][ends.lanes] = ends.twin_checkout
                extra["session_taken"][ends.lanes] = ends.taken
                extra["bought_anyway"][ends.lanes] = ends.bought_anyway
            info.update(extra)
        return info


def _schema_message(world: Any, found: int, needed: int) -> str:
    name = world if isinstance(world, str) else "the world"
    if needed == 2:
        return (
            f"{name} is a schema-1 world (CartRec-v0's shoppers, no stop model); CartRec-v1 "
            "needs schema 2: refit it with `cartgym fit` (which writes schema 2), or use a "
            "CartRec-v0 id"
        )
    return (
        f"{name} is a schema-{found} world (CartRec-v1's shoppers); CartRec-v0 replays its "
        "published results on schema-1 worlds only: use a CartRec-v1 id, or refit with "
        "`cartgym fit --v0`"
    )
