"""What the recommender sees: a flat vector in [0, 1], built for a batch of shoppers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from cartgym.sim.backend import NumpyOps, Ops
from cartgym.sim.carts import CartState
from cartgym.world import ShopperWorld

SCALARS = (
    "cart_size",  # log1p(items in cart) / log1p(largest logged basket), clipped to 1
    "cart_value",  # log1p(cart value) / log1p(largest logged basket value), clipped to 1
    "last_accepted",  # 1 if the previous recommendation was accepted
    "acceptance_rate",  # accepted recommendations / steps so far (0 before the first)
    "ignored",  # log1p(ignored recommendations) / log1p(100), clipped to 1
    "known_shopper",  # 1 if the shopper has a logged history, 0 for a new shopper
)


# Per bundle action (bundle environments): its bundle's three items (index + 1 over M, 0 for
# none), value (log scale), discount, mean complement with the cart and within itself (over
# the largest PMI), popularity, and 1 if none of its items is in the cart (the action mask).
CANDIDATE_FEATURES = (
    "item_1",
    "item_2",
    "item_3",
    "value",
    "discount",
    "cart_lift",
    "internal_lift",
    "popularity",
    "available",
)


@dataclass(frozen=True)
class ObservationLayout:
    """Where each part lies in the observation vector.

    ``cart``: M entries, 1 for items in the cart. ``history``: M entries, the shopper's
    logged purchases, log1p(baskets holding the item) over its largest value in the world.
    ``scalars``: the entries named in ``SCALARS``.
    """

    n_items: int

    @property
    def cart(self) -> slice:
        return slice(0, self.n_items)

    @property
    def history(self) -> slice:
        return slice(self.n_items, 2 * self.n_items)

    @property
    def scalars(self) -> slice:
        return slice(2 * self.n_items, 2 * self.n_items + len(SCALARS))

    @property
    def size(self) -> int:
        return 2 * self.n_items + len(SCALARS)

    def scalar(self, name: str) -> int:
        return 2 * self.n_items + SCALARS.index(name)

    def space(self) -> spaces.Box:
        return spaces.Box(0.0, 1.0, shape=(self.size,), dtype=np.float32)


@dataclass(frozen=True)
class BundleLayout(ObservationLayout):
    """The layout of a bundle environment: the item layout, then the candidate block.

    Action a (one of ``n_actions`` = candidates x ``n_discounts`` offers) has its feature f
    (``CANDIDATE_FEATURES[f]``) at ``candidates.start + a * len(CANDIDATE_FEATURES) + f``.
    """

    n_actions: int = 1
    n_discounts: int = 1

    @property
    def candidates(self) -> slice:
        start = 2 * self.n_items + len(SCALARS)
        return slice(start, start + self.n_actions * len(CANDIDATE_FEATURES))

    @property
    def size(self) -> int:
        return self.candidates.stop

    def candidate_feature(self, action: int, name: str) -> int:
        """The index of feature ``name`` of ``action`` in the observation."""
        offset = action * len(CANDIDATE_FEATURES) + CANDIDATE_FEATURES.index(name)
        return self.candidates.start + offset

    def space(self) -> spaces.Box:
        return spaces.Box(-1.0, 1.0, shape=(self.size,), dtype=np.float32)


@dataclass(frozen=True, eq=False)
class Catalogue:
    """What an environment publishes about its shop: the items it sells, by index, the
    scale of the observation's history block (log1p(count) / ``history_max``), the logs
    its shoppers were fitted from (``source``, see :func:`cartgym.data.logs_of`) and the
    name of its world (``fingerprint``, to tell one world from another).

    Agents read this, never the simulator's world (``env.unwrapped.catalogue``).
    """

    item_ids: np.ndarray
    history_max: float
    source: str = ""
    fingerprint: str = ""

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @classmethod
    def of_world(cls, world: ShopperWorld) -> Catalogue:
        return cls(
            np.asarray(world.item_ids).astype(str),
            max(float(world.history.max()), 1e-12),
            str(world.meta.get("source", "")),
            world.fingerprint,
        )


class ObservationEncoder:
    """Observations from carts, histories and session counters, with a world's fixed scales.

    The live environments build their observations with it, and so can anyone who wants
    to score an agent on real logged carts without a simulator::

        >>> import numpy as np, cartgym
        >>> from cartgym.world import resolve_world
        >>> world = resolve_world("online_retail", n_items=50)
        >>> encoder = ObservationEncoder(world)
        >>> obs = encoder.encode(carts=[[3, 7]], cart_values=[12.5])
        >>> obs.shape, float(obs[0, 3]), float(obs[0, encoder.layout.scalar("known_shopper")])
        ((1, 106), 1.0, 0.0)

    ``history`` is the shoppers' rows of ``world.history`` (log1p basket counts), zeros
    for new shoppers; the scalars not given are those of a session's first step.
    """

    def __init__(self, world: ShopperWorld):
        self.layout = ObservationLayout(world.n_items)
        self.history_scale = 1.0 / max(float(world.history.max()), 1e-12)
        self.size_scale = 1.0 / float(np.log1p(max(int(world.session_sizes.max()), 1)))
        self.value_scale = 1.0 / float(np.log1p(max(float(world.spend_quantiles[-1]), 1.0)))
        self.ignored_scale = 1.0 / float(np.log1p(100.0))

    def encode(
        self,
        carts: Sequence[Sequence[int]],
        history: np.ndarray | None = None,
        cart_values: Sequence[float] | None = None,
        *,
        known: Sequence[bool] | None = None,
        last_accepted: Sequence[bool] | None = None,
        accepted: Sequence[int] | None = None,
        steps: Sequence[int] | None = None,
        ignored: Sequence[int] | None = None,
    ) -> np.ndarray:
        """(B, size) float32 observations of B carts (each a list of item indices)."""
        b, m = len(carts), self.layout.n_items
        obs = np.zeros((b, self.layout.size), dtype=np.float32)
        for row, cart in enumerate(carts):
            items = np.asarray(cart, dtype=np.int64)
            if items.size and (items.min() < 0 or items.max() >= m):
                raise ValueError(f"carts[{row}]: item indices must be in [0, {m})")
            obs[row, items] = 1.0
        sizes = obs[:, self.layout.cart].sum(axis=1).astype(np.int64)
        if history is not None:
            history = np.asarray(history, dtype=np.float32)
            if history.shape != (b, m):
                raise ValueError(f"history must have shape ({b}, {m}), got {history.shape}")
            obs[:, self.layout.history] = history * self.history_scale
        known_rows: Any = known
        if known is None and history is not None:
            known_rows = (history > 0).any(axis=1)

        def column(values, default):
            return np.full(b, default, float) if values is None else np.asarray(values, float)

        n_steps = column(steps, 0)
        self.scalars(
            obs[:, self.layout.scalars],
            sizes,
            column(cart_values, 0.0),
            column(last_accepted, 0.0),
            column(accepted, 0.0) / np.maximum(n_steps, 1),
            column(ignored, 0.0),
            column(known_rows, 0.0),
        )
        return obs

    def scalars(
        self, out, size, value, last_accepted, acceptance, ignored, known, ops: Ops | None = None
    ) -> None:
        """Write the ``SCALARS`` of each row into ``out`` (B, 6), in place (on the backend
        of ``ops``, numpy by default)."""
        ops = ops or NumpyOps()
        out[:, 0] = ops.log1p(size) * self.size_scale
        out[:, 1] = ops.log1p(value) * self.value_scale
        out[:, 2] = last_accepted
        out[:, 3] = acceptance
        out[:, 4] = ops.log1p(ignored) * self.ignored_scale
        out[:, 5] = known
        ops.clip_max_(out, 1.0)


class Observer:
    """Builds observations of a simulator's shoppers, with the world's fixed scales.

    The buffers (observations, and the action masks: items not in the cart, then ``extra``
    always-allowed actions, tiled ``tiles`` times for slates) live on the simulator's
    backend and are updated, not rebuilt: the cart and history blocks of restarted sessions
    are rewritten, then each cart gains the items added at the last step; only the scalars
    are recomputed for every session. O(K) a session and step, past restarts.
    """

    def __init__(self, sim: CartState, extra: int = 0, tiles: int = 1):
        self.sim = sim
        self.encoder = ObservationEncoder(sim.world)
        self.layout = self.encoder.layout
        ops, n, m = sim.ops, sim.n_shoppers, sim.world.n_items
        self._buffer = ops.zeros((n, self.layout.size), "float32")
        self._masks = ops.zeros((n, tiles, m + extra), "bool") | True
        self._seen = ops.zeros((n,), "int64") - 1

    def observe(self, copy: bool = True) -> np.ndarray:
        """(B, size) float32 observations of every shopper: the first B rows of the simulator
        (CartRec-v1's twins, after them, are never observed). ``copy=False`` returns the
        persistent buffer itself (numpy; valid until the next step)."""
        self.update()
        obs = self.sim.ops.to_numpy(self._buffer)
        return np.array(obs) if copy else obs

    def masks(self, copy: bool = True) -> np.ndarray:
        """(B, tiles x (M + extra)) allowed actions, kept in step by :meth:`observe`."""
        masks = self.sim.ops.to_numpy(self._masks).reshape(len(self._masks), -1)
        return np.array(masks) if copy else masks

    def update(self) -> None:
        """Bring the buffers in step with the simulator (after a step or a reset)."""
        sim, layout, ops, obs = self.sim, self.layout, self.sim.ops, self._buffer
        n, m = sim.n_shoppers, sim.world.n_items
        fresh = sim.sessions_started[:n] != self._seen
        if bool(fresh.any()):
            in_cart = sim.in_cart[:n][fresh]
            obs[fresh, layout.cart] = ops.astype(in_cart, "float32")
            obs[fresh, layout.history] = sim.history[:n][fresh] * self.encoder.history_scale
            self._masks[fresh, :, :m] = ~in_cart[:, None, :]
            self._seen[:] = sim.sessions_started[:n]
        last = sim.last_added[:n]
        added = last >= 0
        rows = sim.rows[:n, None] + 0 * last
        obs[rows[added], last[added]] = 1.0  # the cart block starts at 0
        self._masks[rows[added], :, last[added]] = False
        self.encoder.scalars(
            obs[:, layout.scalars],
            sim.cart_size[:n],
            sim.cart_value[:n],
            ops.astype(sim.last_accepted[:n], "float32"),
            sim.n_accepted[:n] / ops.clip(sim.steps[:n], 1, None),
            sim.n_ignored[:n],
            ops.astype(sim.users[:n] >= 0, "float32"),
            ops,
        )
