"""CartRec-v0's shoppers: a logged basket size replayed, patience used up by ignored
recommendations.

B shoppers are simulated at once in (B, M) arrays, on numpy or torch (see
:mod:`cartgym.sim.backend`), over the carts and choice weights of
:class:`~cartgym.sim.carts.CartState`; the single environment is a batch of one. A step,
for every active shopper:

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

from cartgym.sim.carts import CartState
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


class CartSimulator(CartState):
    """State and dynamics of B shopping sessions over a fitted world (CartRec-v0's rules).

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
        self.config = config or SimConfig()
        super().__init__(
            world,
            n_shoppers,
            salience=self.config.number("salience"),
            backend=backend,
            refresh=self.config.refresh,
            device=device,
        )
        self.population = Population(
            world,
            population=self.config.population,
            new_shopper_rate=self.config.new_shopper_rate,
            patience_mean=self.config.number("patience_mean"),
        )
        self.n_shoppers = self.n_lanes = n_shoppers
        self.intended_size = self.ops.zeros((n_shoppers,), "int64")
        self.patience = self.ops.zeros((n_shoppers,), "int64")

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
        self.intended_size[rows] = ops.asarray(arrivals.intended_sizes, "int64")
        self.patience[rows] = ops.asarray(arrivals.patience, "int64")
        self.start(rows, arrivals, first_uniform)

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
            accept, picked, _ = self.respond(recs, uniforms[0])
            taken = ops.where(accept & active, picked, -1)[:, None]
        else:
            boost = self.boost * (1.0 - discount) ** -config.discount_sensitivity
            taken, _ = self.take_from_slate(
                recs, uniforms[:k], boost, active, config.response, self._has_room
            )
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
        self._refresh(self.rows[fresh])  # (the other rows' carts did not change)
        checkout = (
            active & ~abandoned & ((self.cart_size >= self.intended_size) | (stays & (organic < 0)))
        )
        self.steps += ops.astype(active, "int64")
        self.n_accepted += ops.astype(accept, "int64")
        self.n_ignored += ops.astype(ignored, "int64")
        self.last_accepted = ops.where(active, accept, self.last_accepted)
        self.done |= checkout | abandoned
        return self._outcome(taken, discount, organic, checkout, abandoned)

    def _has_room(self) -> Any:
        """(B,) True for carts below their intended (logged) size."""
        return self.cart_size < self.intended_size

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
