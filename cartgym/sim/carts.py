"""Carts and the choice weights that follow them: the mechanics every shopper model shares.

B rows over one world, on numpy or torch (see :mod:`cartgym.sim.backend`). Each row holds a
shopper's session-constant utility, the summed complement rows of their cart and the
choice weights exp(utility), with their sums over blocks of about sqrt(M) items and in all
(Z). :class:`CartState` answers recommendations and draws the shopper's own items from
those weights, and keeps them in step with the cart. The session rules (when a shopper
checks out or leaves, what is paid) are the simulators': CartRec-v0's in
:mod:`cartgym.sim.simulator`, CartRec-v1's in :mod:`cartgym.sim.checkout`.

**O(K + partners) per step.** An item's complement term is the cart's mean PMI with it,
so when the cart grows the weights change only for the items in it and their complement
partners: every other item has a complement sum of 0 and keeps the weight exp(static)
it had when the session started. Each row keeps the list of items its cart has touched
(``partners``); a refresh recomputes their weights only and moves the block sums and
the total by the differences (float64). A session's start computes its row whole, and
every ``exact_every`` steps of a session the row is recomputed whole again, so rounding
in the running sums cannot build up (``refresh="full"`` recomputes every refreshed row
whole, the O(M) algorithm, for comparison).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cartgym.sim.backend import make_ops
from cartgym.sim.choice import ChoiceModel, sample_categorical
from cartgym.sim.population import Arrivals
from cartgym.world import ShopperWorld

REFRESH = ("incremental", "full")
EXACT_EVERY = 32  # incremental refreshes of a row between two whole ones


class CartState:
    """The carts and choice weights of ``n_rows`` sessions over ``world``.

    ``boost`` = exp(salience) multiplies a recommended item's weight. State arrays live on
    the backend (``backend="numpy"`` or ``"torch"`` with ``device``).
    """

    def __init__(
        self,
        world: ShopperWorld,
        n_rows: int,
        *,
        salience: float,
        backend: str = "numpy",
        device: str = "auto",
        refresh: str = "incremental",
    ):
        if n_rows < 1:
            raise ValueError(f"n_shoppers must be >= 1, got {n_rows}")
        if refresh not in REFRESH:
            raise ValueError(f"refresh must be one of {REFRESH}, got {refresh!r}")
        self.refresh = refresh
        self.world = world
        self.ops = ops = make_ops(backend, device)
        self.choice = ChoiceModel(world, ops)
        self.boost = float(np.exp(salience))
        self.line_values = world.line_values.astype(np.float64)
        self._line_values = ops.asarray(self.line_values, "float64")
        b, m = n_rows, world.n_items
        self.n_shoppers = self.n_lanes = b  # the observed shoppers (CartRec-v1: not the twins)
        self.users = ops.zeros((b,), "int64") - 1
        self.history = ops.zeros((b, m), "float32")
        # Session-constant utility minus an upper bound of the shopper's utility (so weights
        # never overflow), and -inf for items in the cart (so their weight is exactly 0).
        self.static = ops.zeros((b, m), "float32")
        self.shift = ops.zeros((b,), "float64")  # what was taken off: utility = log w + shift
        self.comp_sum = ops.zeros((b, m), "float32")
        self.in_cart = ops.zeros((b, m), "bool")
        self.weights = ops.zeros((b, m), "float32")  # exp(utility - shift), 0 in the cart
        # Weights summed over blocks of about sqrt(M) consecutive items (for two-level
        # sampling), and in all: Z.
        self.block_width = int(np.ceil(np.sqrt(m)))
        self.blocks = ops.zeros((b, -(-m // self.block_width)), "float64")
        self.total = ops.zeros((b,), "float64")
        # (B, K + 1) items added at the last step (taken from the slate, then organic), -1
        # padded; a reset row's cart is read whole from in_cart instead.
        self.last_added = ops.zeros((b, 1), "int64") - 1
        self.cart_size = ops.zeros((b,), "int64")
        self.cart_value = ops.zeros((b,), "float64")
        self.steps = ops.zeros((b,), "int64")
        self.n_accepted = ops.zeros((b,), "int64")
        self.n_ignored = ops.zeros((b,), "int64")
        self.last_accepted = ops.zeros((b,), "bool")
        self.done = ops.zeros((b,), "bool") | True
        self.sessions_started = ops.zeros((b,), "int64")  # bumped at each reset of a row
        self.rows = ops.arange(b)
        self.n_shoppers_total = b  # every row (CartRec-v1: the shoppers and their twins)
        # items each cart has touched (its items and their complement partners), -1 padded
        self.touched = ops.zeros((b, m), "bool")
        self.partners = ops.zeros((b, 64), "int64") - 1
        self.n_partners = ops.zeros((b,), "int64")
        self.refreshes = ops.zeros((b,), "int64")  # incremental refreshes since a whole one

    def start(self, rows: Any, arrivals: Arrivals, first_uniform: Any) -> None:
        """Open sessions in ``rows`` for ``arrivals``, at the shopper's first add-to-cart,
        chosen on their own with ``first_uniform`` (one per row)."""
        ops = self.ops
        history = ops.asarray(arrivals.history, "float32")
        static = self.choice.static_utilities(ops.asarray(arrivals.tastes, "float32"), history)
        self.users[rows] = ops.asarray(arrivals.users, "int64")
        self.history[rows] = history
        shift = ops.row_max(static) + self.choice.complement_bound
        static -= shift[:, None]
        self.static[rows] = static
        self.shift[rows] = ops.astype(shift, "float64")
        self.comp_sum[rows] = 0.0
        self.in_cart[rows] = False
        for counter in (self.cart_size, self.steps, self.n_accepted, self.n_ignored):
            counter[rows] = 0
        self.cart_value[rows] = 0.0
        self.touched[rows] = False
        self.n_partners[rows] = 0
        self.refreshes[rows] = 0
        self.last_accepted[rows] = False
        self.done[rows] = False
        self.sessions_started[rows] += 1
        weights = ops.exp_(static.clone() if ops.name == "torch" else static.copy())
        first = sample_categorical(weights, first_uniform, ops)
        self._add(rows, first)
        self.last_added[rows] = -1  # the observer reads a restarted cart whole
        self._refresh_whole(rows)

    def take_from_slate(
        self,
        recs: Any,
        uniforms: Any,
        boost: Any,
        active: Any,
        mode: str,
        room: Any = None,
        rows: Any = None,
    ) -> tuple[Any, Any]:
        """(R, K) items taken by sequential picks, the cart updated between picks, and the
        first pick's leftover uniform (see :meth:`respond`).

        ``rows`` (default: every row) are the carts that ``recs``, ``uniforms``, ``boost``
        and ``active`` (which rows pick) refer to. In bundle mode a shopper who does not
        take every distinct item of the slate takes none: their cart is put back as it was.
        ``room`` (a function of no argument giving (B,) bools) stops the picks of shoppers
        whose cart is full.
        """
        ops = self.ops
        at = self.rows if rows is None else rows
        n, k = recs.shape
        taken = ops.zeros((n, k), "int64") - 1
        picking = active
        saved = None
        leftover = uniforms[0]
        for j in range(k):
            accept, picked, rest = self.respond(recs, uniforms[j], boost, rows)
            if j == 0:
                leftover = rest
            accept = accept & picking
            if room is not None:
                accept = accept & room()[at]
            if not bool(accept.any()):
                break
            local = ops.arange(n)[accept]
            if j == 0 and mode == "bundle":
                saved = (local, self._state(at[local]))
            taken[local, j] = picked[accept]
            self._add(at[local], picked[accept])
            self._refresh(at[local])
            picking = accept
        if saved is not None:
            local, state = saved
            wanted = ops.astype(self._slots(recs)[1] > 0, "int64").sum(1)
            failed = ((taken >= 0).sum(1) < wanted)[local]
            if bool(failed.any()):
                parts = {name: part[failed] for name, part in state.items()}
                self._restore(at[local[failed]], parts)
                taken[local[failed]] = -1
        return taken, leftover

    _STATE = (
        "static",
        "comp_sum",
        "in_cart",
        "weights",
        "blocks",
        "total",
        "cart_size",
        "cart_value",
    )

    def _state(self, rows: Any) -> dict[str, Any]:
        return {name: getattr(self, name)[rows] for name in self._STATE}

    def _restore(self, rows: Any, state: dict[str, Any]) -> None:
        for name, part in state.items():
            getattr(self, name)[rows] = part

    def respond(
        self, recs: Any, uniforms: Any, boost: Any = None, rows: Any = None
    ) -> tuple[Any, Any, Any]:
        """The response to (R, K) recommendations (-1: an empty slot), in O(K) per shopper.

        One draw over the items not in the cart, the shown ones' weights multiplied by
        ``boost`` (default exp(salience); an (R,) array per shopper, or (R, K) per slot),
        for the carts ``rows`` (default: every row). Returns (accept, the item taken, the
        draw's uniform rescaled to the items not shown), so that a shopper who takes nothing
        draws their own item with the same uniform as a shopper shown nothing.
        """
        ops = self.ops
        at = self.rows if rows is None else rows
        local = ops.arange(len(at))
        boost = self.boost if boost is None else boost
        safe, once = self._slots(recs)
        base = ops.astype(self.weights[at[:, None], safe], "float64") * once
        per_slot = hasattr(boost, "shape") and len(boost.shape) == 2
        scale = boost if per_slot else boost[:, None] if hasattr(boost, "shape") else boost
        shown_total = base.sum(1)
        offered = (base * scale).sum(1) if per_slot else shown_total * boost
        total = self.total[at]
        threshold = uniforms * (offered + total - shown_total)
        accept = threshold < offered
        rest = ops.clip(total - shown_total, 1e-300, None)
        leftover = ops.clip((threshold - offered) / rest, 0.0, 1.0 - 1e-16)
        if recs.shape[1] == 1:
            return accept, safe[:, 0], leftover
        # which recommended item: by its share of the offered weight (never one of weight 0,
        # which a draw on the boundary could otherwise pick)
        boosted = base * scale
        position = (boosted.cumsum(1) <= threshold[:, None]).sum(1)
        position = ops.clip(position, None, recs.shape[1] - 1)
        positive = ops.astype(boosted > 0, "int64")
        flipped = positive.flip(1) if ops.name == "torch" else positive[:, ::-1]
        last = recs.shape[1] - 1 - flipped.argmax(1)  # the last slot of positive weight
        position = ops.where(positive[local, position] > 0, position, last)
        return accept, safe[local, position], leftover

    def _slots(self, recs: Any) -> tuple[Any, Any]:
        """(safe, once) of (B, K) recommendations with -1 for empty slots: indices safe to
        gather with (an empty slot repeats a shown item of its row, or item 0 if none) and
        the weight of each slot (1 for the first occurrence of a shown item, else 0)."""
        ops = self.ops
        valid = recs >= 0
        if recs.shape[1] == 1:
            return ops.where(valid, recs, 0), ops.astype(valid, "float64")
        any_valid = valid.any(1)
        first = recs[ops.arange(recs.shape[0]), ops.astype(valid, "int64").argmax(1)]
        fill = ops.where(any_valid, first, 0)
        safe = ops.where(valid, recs, fill[:, None])
        unique = ops.where(valid, recs, -1 - ops.arange(recs.shape[1])[None, :])
        once = valid & _first_occurrence(unique, ops)
        return safe, ops.astype(once, "float64")

    def organic_choice(self, recs: Any, uniforms: Any, rows: Any = None) -> Any:
        """One draw per shopper over the items neither in the cart nor in ``recs`` (-1 for
        an empty slot), for the carts ``rows`` (default: every row).

        The recommended items' weights are set aside for the draw: zeroed in the weight
        rows and taken off their blocks' sums (O(K) per shopper), then restored.
        """
        ops = self.ops
        weights = self.weights if rows is None else self.weights[rows]
        blocks = self.blocks if rows is None else self.blocks[rows]
        if recs.shape[1] == 0:
            return sample_categorical(weights, uniforms, ops, blocks=blocks)
        local = ops.arange(recs.shape[0])[:, None]
        safe, once = self._slots(recs)
        blocks = blocks.clone() if ops.name == "torch" else blocks.copy()
        saved = weights[local, safe]
        ops.add_at(blocks, (local, safe // self.block_width), -ops.astype(saved, "float64") * once)
        # an empty slot points at a shown item of its row (zeroed too) or, in a row showing
        # nothing, at item 0 (left as it is)
        shows = (recs >= 0).any(1)[:, None]
        weights[local, safe] = ops.where(shows, 0.0, saved)
        drawn = sample_categorical(weights, uniforms, ops, blocks=blocks)
        weights[local, safe] = saved
        return drawn

    def _add(self, rows: Any, items: Any) -> None:
        """Put ``items`` (one per row, -1 for none) into the carts of ``rows``."""
        ok = items >= 0
        rows, items = rows[ok], items[ok]
        if len(rows) == 0:
            return
        self.in_cart[rows, items] = True
        self.static[rows, items] = -np.inf
        self.cart_size[rows] += 1
        self.cart_value[rows] += self._line_values[items]
        # the added items' sparse complement rows join their carts' sums
        at_rows, columns, values = self.choice.complement_rows(rows, items)
        self.comp_sum[at_rows, columns] += values
        self._touch(rows, items)  # one item a row
        self._touch(at_rows, columns)  # each row's partners, one contiguous group a row

    def _touch(self, rows: Any, items: Any) -> None:
        """Append the (row, item) pairs not touched yet to their rows' partner lists; the
        pairs of a row come as one contiguous group, with distinct items."""
        ops = self.ops
        new = ~self.touched[rows, items]
        rows, items = rows[new], items[new]
        if len(rows) == 0:
            return
        self.touched[rows, items] = True
        first = ops.join([rows[:1] >= 0, rows[1:] != rows[:-1]])  # a group's first pair
        ones = ops.astype(rows * 0 + 1, "float64")
        counts = ops.astype(ops.bincount(rows, ones, self.n_shoppers_total), "int64")
        group_counts = counts[rows[first]]
        group_starts = group_counts.cumsum(0) - group_counts
        rank = ops.arange(len(rows)) - ops.repeat(group_starts, group_counts)
        slot = self.n_partners[rows] + rank
        needed = int(slot.max()) + 1
        if needed > self.partners.shape[1]:
            width = max(needed, 2 * self.partners.shape[1])
            grown = ops.zeros((self.partners.shape[0], width), "int64") - 1
            grown[:, : self.partners.shape[1]] = self.partners
            self.partners = grown
        self.partners[rows, slot] = items
        self.n_partners[rows[first]] += group_counts

    def _refresh(self, rows: Any = None) -> None:
        """Bring the weights, block sums and totals of ``rows`` (default: every row) in step
        with their carts: the touched items only, or whole rows (see the module docstring)."""
        rows = self.rows if rows is None else rows
        if len(rows) == 0:
            return
        if self.refresh == "full":
            self._refresh_whole(rows)
            return
        self.refreshes[rows] += 1
        due = self.refreshes[rows] >= EXACT_EVERY
        if bool(due.any()):
            self._refresh_whole(rows[due])
            rows = rows[~due]
        if len(rows) == 0:
            return
        ops = self.ops
        # every row's partners, flattened without padding (entries past a row's count are
        # stale): the position of entry j of row r in the partner array is r * P + j
        counts = self.n_partners[rows]
        local = ops.repeat(ops.arange(len(rows)), counts)
        starts = counts.cumsum(0) - counts
        within = ops.arange(len(local)) - ops.repeat(starts, counts)
        items = ops.take_flat(self.partners, rows[local] * self.partners.shape[1] + within)
        at = rows[local]
        flat = at * self.world.n_items + items  # flat indices: far faster than (row, column)
        new = self.choice.weights(
            ops.take_flat(self.static, flat), ops.take_flat(self.comp_sum, flat), self.cart_size[at]
        )
        change = ops.astype(new, "float64") - ops.astype(
            ops.take_flat(self.weights, flat), "float64"
        )
        ops.put_flat(self.weights, flat, new)
        n_blocks = self.blocks.shape[1]
        by_block = ops.bincount(
            local * n_blocks + items // self.block_width, change, len(rows) * n_blocks
        )
        self.blocks[rows] += by_block.reshape(len(rows), n_blocks)
        self.total[rows] += ops.bincount(local, change, len(rows))

    def _refresh_whole(self, rows: Any) -> None:
        """Recompute the weights, block sums and totals of ``rows`` from scratch (O(M))."""
        if len(rows) == 0:
            return
        self.refreshes[rows] = 0
        weights = self.choice.weights(self.static[rows], self.comp_sum[rows], self.cart_size[rows])
        self.weights[rows] = weights
        blocks = self.ops.block_sums(weights, self.block_width)
        self.blocks[rows] = blocks
        self.total[rows] = blocks.sum(1)


def _first_occurrence(recs, ops):
    """(B, K) True where an item appears for the first time in its row's slate."""
    k = recs.shape[1]
    earlier = (recs[:, :, None] == recs[:, None, :]) & ops.asarray(np.tri(k, k, -1, dtype=bool))
    return ~earlier.any(2)
