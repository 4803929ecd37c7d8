"""The batched shopper dynamics: the only implementation of a cart session.

B shoppers are simulated at once in (B, M) arrays, on numpy or torch (see
:mod:`cartgym.sim.backend`); the single environment is a batch of one. A step, for every
active shopper:

1. **Respond.** The shopper's next item is one draw from the conditional logit over the
   items not in the cart, in which each recommended item's weight is multiplied by
   ``exp(salience)``. If the draw is a recommended item, the recommendation is accepted.
   The draw is split in two so that the response costs O(K), not O(M): the shopper
   accepts with probability S / (S + Z - S0), where Z is the total weight of the items
   not in the cart, S0 that of the recommended ones and S = exp(salience) * S0.
2. **Patience.** An ignored recommendation uses up one unit of patience; a shopper with
   none left abandons the session (terminated, nothing bought after that).
3. **Organic add.** A shopper who ignored the recommendation and stays adds an item of
   their own, drawn from the same logit over the items neither in the cart nor
   recommended.
4. **Cart update.** The added item's complement row joins the cart; the weights and
   their total Z are refreshed. A cart that reaches the intended size checks out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cartgym.sim.backend import make_ops
from cartgym.sim.choice import ChoiceModel, sample_categorical
from cartgym.sim.config import SimConfig
from cartgym.sim.oracle import OracleView
from cartgym.sim.population import Arrivals, Population
from cartgym.world import ShopperWorld


@dataclass(frozen=True)
class StepOutcome:
    """What happened to each shopper in one step (numpy arrays of length B)."""

    accepted: np.ndarray  # first item taken from the recommendation, -1 if none
    organic: np.ndarray  # item added by the shopper on their own, -1 if none
    reward: np.ndarray
    rec_revenue: np.ndarray  # line values of the items taken, net of discount
    organic_revenue: np.ndarray
    checkout: np.ndarray
    abandoned: np.ndarray
    taken: np.ndarray  # (B, K) items taken from the slate in order, -1 padded
    discount_cost: np.ndarray  # revenue given up by the discount on taken items


class CartSimulator:
    """State and dynamics of B shopping sessions over a fitted world.

    ``backend="numpy"`` (default) or ``"torch"`` with ``device`` "cpu", "cuda" or "auto".
    State arrays live on the backend; :class:`StepOutcome` is returned as numpy.
    """

    def __init__(
        self,
        world: ShopperWorld,
        n_shoppers: int,
        config: SimConfig | None = None,
        *,
        backend: str = "numpy",
        device: str = "auto",
    ):
        if n_shoppers < 1:
            raise ValueError(f"n_shoppers must be >= 1, got {n_shoppers}")
        self.world = world
        self.config = config or SimConfig()
        self.ops = ops = make_ops(backend, device)
        self.choice = ChoiceModel(world, ops)
        self.population = Population(
            world,
            population=self.config.population,
            new_shopper_rate=self.config.new_shopper_rate,
            patience_mean=self.config.patience_mean,
        )
        self.boost = float(np.exp(self.config.salience))
        self.line_values = world.line_values.astype(np.float64)
        self._line_values = ops.asarray(self.line_values, "float64")
        b, m = n_shoppers, world.n_items
        self.n_shoppers = b
        self.users = ops.zeros((b,), "int64") - 1
        self.history = ops.zeros((b, m), "float32")
        # Session-constant utility minus an upper bound of the shopper's utility (so weights
        # never overflow), and -inf for items in the cart (so their weight is exactly 0).
        self.static = ops.zeros((b, m), "float32")
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
        self.intended_size = ops.zeros((b,), "int64")
        self.patience = ops.zeros((b,), "int64")
        self.steps = ops.zeros((b,), "int64")
        self.n_accepted = ops.zeros((b,), "int64")
        self.n_ignored = ops.zeros((b,), "int64")
        self.last_accepted = ops.zeros((b,), "bool")
        self.done = ops.zeros((b,), "bool") | True
        self.sessions_started = ops.zeros((b,), "int64")  # bumped at each reset of a row
        self.rows = ops.arange(b)

    # ------------------------------------------------------------------ reset
    def reset(
        self, rng: np.random.Generator, rows: Any = None, *, arrivals: Arrivals | None = None
    ) -> None:
        """Start new sessions for ``rows`` (default: all): draw shoppers and a first item.

        ``arrivals`` replays given shoppers (one per row) instead of drawing them from the
        population, e.g. the users and basket sizes of held-out logs.
        """
        ops = self.ops
        rows = self.rows if rows is None else ops.asarray(rows, "int64")
        n = len(rows)
        if n == 0:
            return
        if arrivals is None:
            arrivals = self.population.draw(n, rng)
        elif len(arrivals.users) != n:
            raise ValueError(f"{len(arrivals.users)} arrivals for {n} rows")
        first_uniform = ops.asarray(rng.random(n), "float64")
        history = ops.asarray(arrivals.history, "float32")
        static = self.choice.static_utilities(ops.asarray(arrivals.tastes, "float32"), history)
        self.users[rows] = ops.asarray(arrivals.users, "int64")
        self.history[rows] = history
        static -= (ops.row_max(static) + self.choice.complement_bound)[:, None]
        self.static[rows] = static
        self.comp_sum[rows] = 0.0
        self.in_cart[rows] = False
        for counter in (self.cart_size, self.steps, self.n_accepted, self.n_ignored):
            counter[rows] = 0
        self.cart_value[rows] = 0.0
        self.intended_size[rows] = ops.asarray(arrivals.intended_sizes, "int64")
        self.patience[rows] = ops.asarray(arrivals.patience, "int64")
        self.last_accepted[rows] = False
        self.done[rows] = False
        self.sessions_started[rows] += 1
        # The session opens at the shopper's first add-to-cart, chosen on their own.
        weights = ops.exp_(static.clone() if ops.name == "torch" else static.copy())
        first = sample_categorical(weights, first_uniform, ops)
        self._add(rows, first)
        self.last_added[rows] = -1  # the observer reads a restarted cart whole
        self._refresh(rows)

    # ------------------------------------------------------------------ step
    def step(
        self, recommendations: Any, rng: np.random.Generator, discounts: Any = None
    ) -> StepOutcome:
        """Advance every shopper by one add-to-cart moment; ``recommendations`` is (B, K).

        ``discounts`` (B,) in [0, 1) applies to bundles (``response="bundle"``) only.
        Shoppers whose session is over (``done``) are left as they are and get zeros.
        """
        ops, config = self.ops, self.config
        recs = ops.asarray(recommendations, "int64")
        k = recs.shape[1]
        draws = 2 if config.response == "single" else k + 1
        uniforms = ops.asarray(rng.random((draws, self.n_shoppers)), "float64")
        active = ~self.done
        discount = ops.zeros((self.n_shoppers,), "float64")
        if discounts is not None and config.response == "bundle":
            discount = ops.asarray(discounts, "float64")

        # 1. Respond: items of the slate win logit draws, or none does.
        if not config.show_recommendations:  # control: nothing shown, nothing taken
            taken = ops.zeros((self.n_shoppers, k), "int64") - 1
        elif config.response == "single":
            accept, picked = self.respond(recs, uniforms[0])
            taken = ops.where(accept & active, picked, -1)[:, None]
        else:
            boost = self.boost * (1.0 - discount) ** -config.discount_sensitivity
            taken = self._take_from_slate(recs, uniforms[:k], boost, active, config.response)
        accept = taken[:, 0] >= 0

        # 2. Patience: an ignored recommendation costs one unit; at zero the shopper leaves.
        ignored = active & ~accept
        if config.show_recommendations:
            self.patience -= ops.astype(ignored, "int64")
        abandoned = ignored & (self.patience <= 0)

        # 3. Organic add by those who took nothing and stay (drawn for every row,
        #    branch-free, from the items neither in the cart nor shown).
        stays = ignored & ~abandoned
        shown = recs if config.show_recommendations else recs[:, :0]
        organic = ops.where(stays, self.organic_choice(shown, uniforms[-1]), -1)

        # 4. Cart update and checkout (items taken from a multi-item slate are in already).
        added = ops.where(accept, taken[:, 0], organic)
        self.last_added = ops.concat([taken, organic[:, None]])
        fresh = organic >= 0 if config.response != "single" else added >= 0
        self._add(self.rows[fresh], added[fresh])
        self._refresh()
        checkout = (
            active & ~abandoned & ((self.cart_size >= self.intended_size) | (stays & (organic < 0)))
        )
        self.steps += ops.astype(active, "int64")
        self.n_accepted += ops.astype(accept, "int64")
        self.n_ignored += ops.astype(ignored, "int64")
        self.last_accepted = ops.where(active, accept, self.last_accepted)
        self.done |= checkout | abandoned
        return self._outcome(taken, discount, organic, checkout, abandoned)

    def _take_from_slate(self, recs: Any, uniforms: Any, boost: Any, active: Any, mode: str):
        """(B, K) items taken by sequential picks, the cart updated between picks.

        In bundle mode a shopper who does not take every distinct item of the slate takes
        none: their cart is put back as it was.
        """
        ops = self.ops
        n, k = recs.shape
        taken = ops.zeros((n, k), "int64") - 1
        picking = active
        saved = None
        for j in range(k):
            accept, picked = self.respond(recs, uniforms[j], boost)
            accept = accept & picking & (self.cart_size < self.intended_size)
            if not bool(accept.any()):
                break
            rows = self.rows[accept]
            if j == 0 and mode == "bundle":
                saved = (rows, self._state(rows))
            taken[rows, j] = picked[accept]
            self._add(rows, picked[accept])
            self._refresh(rows)
            picking = accept
        if saved is not None:
            rows, state = saved
            wanted = ops.astype(_first_occurrence(recs, ops), "int64").sum(1)
            failed = ((taken >= 0).sum(1) < wanted)[rows]
            if bool(failed.any()):
                self._restore(rows[failed], {name: part[failed] for name, part in state.items()})
                taken[rows[failed]] = -1
        return taken

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

    def respond(self, recs: Any, uniforms: Any, boost: Any = None) -> tuple[Any, Any]:
        """The response to (B, K) recommendations, in O(K) per shopper.

        ``boost`` multiplies the shown items' weights (default exp(salience); a (B,) array
        for per-shopper boosts). Returns (accept, the item taken, meaningless where not
        accepted).
        """
        ops = self.ops
        boost = self.boost if boost is None else boost
        base = ops.astype(self._shown_weights(recs), "float64")
        shown_total = base.sum(1)
        offered = shown_total * boost
        threshold = uniforms * (offered + self.total - shown_total)
        accept = threshold < offered
        if recs.shape[1] == 1:
            return accept, recs[:, 0]
        # which recommended item: by its share of the offered weight
        scale = boost[:, None] if hasattr(boost, "shape") and boost.shape else boost
        position = ((base * scale).cumsum(1) <= threshold[:, None]).sum(1)
        return accept, recs[self.rows, ops.clip(position, None, recs.shape[1] - 1)]

    def _shown_weights(self, recs: Any) -> Any:
        shown = self.weights[self.rows[:, None], recs]
        if recs.shape[1] > 1:
            shown = shown * _first_occurrence(recs, self.ops)  # a repeated item is shown once
        return shown

    def organic_choice(self, recs: Any, uniforms: Any) -> Any:
        """One draw per shopper over the items neither in the cart nor in ``recs``.

        The recommended items' weights are set aside for the draw: zeroed in the weight
        rows and taken off their blocks' sums (O(K) per shopper), then restored.
        """
        ops, rows = self.ops, self.rows[:, None]
        if recs.shape[1] == 0:
            return sample_categorical(self.weights, uniforms, ops, blocks=self.blocks)
        blocks = self.blocks.clone() if ops.name == "torch" else self.blocks.copy()
        shown = ops.astype(self._shown_weights(recs), "float64")
        ops.add_at(blocks, (rows, recs // self.block_width), -shown)
        saved = self.weights[rows, recs]
        self.weights[rows, recs] = 0.0
        drawn = sample_categorical(self.weights, uniforms, ops, blocks=blocks)
        self.weights[rows, recs] = saved
        return drawn

    def _outcome(self, taken, discount, organic, checkout, abandoned) -> StepOutcome:
        to_numpy = self.ops.to_numpy
        taken, discount, organic = to_numpy(taken), to_numpy(discount), to_numpy(organic)
        checkout, abandoned = to_numpy(checkout), to_numpy(abandoned)
        values = np.where(taken >= 0, self.line_values[np.maximum(taken, 0)], 0.0).sum(1)
        rec_revenue = values * (1.0 - discount)
        organic_revenue = np.where(organic >= 0, self.line_values[np.maximum(organic, 0)], 0.0)
        kind = self.config.reward
        if kind == "revenue":
            reward = rec_revenue
        elif kind == "click":
            reward = (taken >= 0).sum(1).astype(np.float64)
        else:
            reward = np.where(checkout, to_numpy(self.cart_value), 0.0)
        return StepOutcome(
            accepted=taken[:, 0].copy(),
            organic=organic,
            reward=reward,
            rec_revenue=rec_revenue,
            organic_revenue=organic_revenue,
            checkout=checkout,
            abandoned=abandoned,
            taken=taken,
            discount_cost=values * discount,
        )

    # ------------------------------------------------------------------ oracle
    def oracle_view(self) -> OracleView:
        """The shoppers' true choice weights (see :mod:`cartgym.sim.oracle`); numpy copies."""
        return OracleView(
            weights=self.ops.to_numpy(self.weights).astype(np.float64),
            total=self.ops.to_numpy(self.total).copy(),
            boost=self.boost,
            line_values=self.line_values,
        )

    # ------------------------------------------------------------------ internals
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

    def _refresh(self, rows: Any = None) -> None:
        """Recompute weights, block sums and totals: in place for all rows, or for ``rows``."""
        ops, choice = self.ops, self.choice
        if rows is None:
            weights = self.weights
            scale = ops.astype(
                choice.complement_weight / ops.clip(self.cart_size, 1, None), "float32"
            )
            ops.multiply(self.comp_sum, scale[:, None], out=weights)
            weights += self.static
            ops.exp_(weights)
            self.blocks[:] = ops.block_sums(weights, self.block_width)
            self.total[:] = self.blocks.sum(1)
            return
        weights = ops.exp_(
            choice.utilities(self.static[rows], self.comp_sum[rows], self.cart_size[rows])
        )
        self.weights[rows] = weights
        blocks = ops.block_sums(weights, self.block_width)
        self.blocks[rows] = blocks
        self.total[rows] = blocks.sum(1)


def _first_occurrence(recs, ops):
    """(B, K) True where an item appears for the first time in its row's slate."""
    k = recs.shape[1]
    earlier = (recs[:, :, None] == recs[:, None, :]) & ops.asarray(np.tri(k, k, -1, dtype=bool))
    return ~earlier.any(2)
