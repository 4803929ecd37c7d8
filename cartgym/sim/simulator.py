"""The batched shopper dynamics: the only implementation of a cart session.

B shoppers are simulated at once in (B, M) arrays; the single environment is a batch of
one. A step, for every active shopper:

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
4. **Cart update.** The added item's complement row joins the cart; utilities and the
   weight total Z are refreshed. A cart that reaches the intended size checks out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cartgym.calibrate.world import ShopperWorld
from cartgym.sim.choice import ChoiceModel, sample_categorical
from cartgym.sim.oracle import OracleView
from cartgym.sim.population import Population

REWARDS = ("revenue", "click", "basket_value")


@dataclass(frozen=True)
class SimConfig:
    """Named assumptions of the dynamics (not identifiable from purchase logs).

    salience: log-odds bonus of being recommended (exp(2) = 7.4x the weight of the item).
    patience_mean: mean number of ignored recommendations a shopper tolerates (geometric).
    new_shopper_rate: share of shoppers with no logged history.
    population: logged users to draw from: "all", "train" (80%) or "eval" (20%).
    reward: "revenue" (line value of accepted recommendations), "click" (1 per accepted
        recommendation) or "basket_value" (value of the whole cart, paid at checkout).
    """

    salience: float = 2.0
    patience_mean: float = 10.0
    new_shopper_rate: float = 0.0
    population: str = "all"
    reward: str = "revenue"

    def __post_init__(self) -> None:
        if self.reward not in REWARDS:
            raise ValueError(f"reward must be one of {REWARDS}, got {self.reward!r}")
        if not np.isfinite(self.salience):
            raise ValueError(f"salience must be a finite number, got {self.salience!r}")


@dataclass(frozen=True)
class StepOutcome:
    """What happened to each shopper in one step (arrays of length B)."""

    accepted: np.ndarray  # item index taken from the recommendation, -1 if none
    organic: np.ndarray  # item added by the shopper on their own, -1 if none
    reward: np.ndarray
    rec_revenue: np.ndarray
    organic_revenue: np.ndarray
    checkout: np.ndarray
    abandoned: np.ndarray


class CartSimulator:
    """State and dynamics of B shopping sessions over a fitted world."""

    def __init__(self, world: ShopperWorld, n_shoppers: int, config: SimConfig | None = None):
        if n_shoppers < 1:
            raise ValueError(f"n_shoppers must be >= 1, got {n_shoppers}")
        self.world = world
        self.config = config or SimConfig()
        self.choice = ChoiceModel(world)
        self.population = Population(
            world,
            population=self.config.population,
            new_shopper_rate=self.config.new_shopper_rate,
            patience_mean=self.config.patience_mean,
        )
        self.boost = np.float32(np.exp(self.config.salience))
        self.line_values = world.line_values.astype(np.float64)
        b, m = n_shoppers, world.n_items
        self.n_shoppers = b
        self.users = np.full(b, -1, dtype=np.int64)
        self.tastes = np.zeros((b, world.n_factors), dtype=np.float32)
        self.history = np.zeros((b, m), dtype=np.float32)
        self.static = np.zeros((b, m), dtype=np.float32)
        self.comp_sum = np.zeros((b, m), dtype=np.float32)
        self.in_cart = np.zeros((b, m), dtype=bool)
        self.weights = np.zeros((b, m), dtype=np.float32)  # exp(utility - max), 0 in the cart
        self.total = np.zeros(b, dtype=np.float64)  # Z: sum of weights
        self.cart_size = np.zeros(b, dtype=np.int64)
        self.cart_value = np.zeros(b, dtype=np.float64)
        self.intended_size = np.zeros(b, dtype=np.int64)
        self.patience = np.zeros(b, dtype=np.int64)
        self.steps = np.zeros(b, dtype=np.int64)
        self.n_accepted = np.zeros(b, dtype=np.int64)
        self.n_ignored = np.zeros(b, dtype=np.int64)
        self.last_accepted = np.zeros(b, dtype=bool)
        self.done = np.ones(b, dtype=bool)
        self._rows = np.arange(b)

    # ------------------------------------------------------------------ reset
    def reset(self, rng: np.random.Generator, rows: np.ndarray | None = None) -> None:
        """Start new sessions for ``rows`` (default: all): draw shoppers and a first item."""
        rows = self._rows if rows is None else np.asarray(rows)
        if len(rows) == 0:
            return
        arrivals = self.population.draw(len(rows), rng)
        self.users[rows] = arrivals.users
        self.tastes[rows] = arrivals.tastes
        self.history[rows] = arrivals.history
        self.static[rows] = self.choice.static_utilities(arrivals.tastes, arrivals.history)
        self.comp_sum[rows] = 0.0
        self.in_cart[rows] = False
        self.cart_size[rows] = 0
        self.cart_value[rows] = 0.0
        self.intended_size[rows] = arrivals.intended_sizes
        self.patience[rows] = arrivals.patience
        self.steps[rows] = 0
        self.n_accepted[rows] = 0
        self.n_ignored[rows] = 0
        self.last_accepted[rows] = False
        self.done[rows] = False
        self._refresh(rows)
        # The session opens at the shopper's first add-to-cart, chosen on their own.
        first = sample_categorical(self.weights[rows], rng.random(len(rows)))
        self._add(rows, first)

    # ------------------------------------------------------------------ step
    def step(self, recommendations: np.ndarray, rng: np.random.Generator) -> StepOutcome:
        """Advance every shopper by one add-to-cart moment; ``recommendations`` is (B, K).

        Shoppers whose session is over (``done``) are left as they are and get zeros.
        """
        recs = np.asarray(recommendations)
        b = self.n_shoppers
        rows = self._rows
        active = ~self.done
        u_accept, u_organic = rng.random(b), rng.random(b)

        # 1. Respond: a recommended item wins the logit draw, or none does.
        base = self.weights[rows[:, None], recs].astype(np.float64)
        base[:, 1:] *= _first_occurrence(recs)[:, 1:]  # a repeated item is shown once
        boosted = base * self.boost
        shown, offered = base.sum(axis=1), boosted.sum(axis=1)
        denominator = offered + self.total - shown
        accept = active & (u_accept * denominator < offered)
        pick = (np.cumsum(boosted, axis=1) <= (u_accept * denominator)[:, None]).sum(axis=1)
        accepted = np.where(accept, recs[rows, np.minimum(pick, recs.shape[1] - 1)], -1)

        # 2. Patience: an ignored recommendation costs one unit; at zero the shopper leaves.
        ignored = active & ~accept
        self.patience -= ignored
        abandoned = ignored & (self.patience <= 0)

        # 3. Organic add by the shoppers who ignored the recommendation and stayed.
        stays = ignored & ~abandoned
        organic = np.full(b, -1)
        if stays.any():
            who = np.flatnonzero(stays)
            weights = self.weights[who]
            weights[np.arange(len(who))[:, None], recs[who]] = 0.0
            organic[who] = sample_categorical(weights, u_organic[who])

        # 4. Cart update and checkout.
        added = np.where(accept, accepted, organic)
        grows = added >= 0
        self._add(np.flatnonzero(grows), added[grows])
        checkout = (
            active & ~abandoned & ((self.cart_size >= self.intended_size) | (stays & (organic < 0)))
        )
        rec_revenue = np.where(accept, self.line_values[np.maximum(accepted, 0)], 0.0)
        organic_revenue = np.where(organic >= 0, self.line_values[np.maximum(organic, 0)], 0.0)
        self.steps += active
        self.n_accepted += accept
        self.n_ignored += ignored
        self.last_accepted = np.where(active, accept, self.last_accepted)
        self.done |= checkout | abandoned
        reward = self._reward(accept, rec_revenue, checkout)
        return StepOutcome(
            accepted, organic, reward, rec_revenue, organic_revenue, checkout, abandoned
        )

    def _reward(self, accept, rec_revenue, checkout) -> np.ndarray:
        kind = self.config.reward
        if kind == "revenue":
            return rec_revenue
        if kind == "click":
            return accept.astype(np.float64)
        return np.where(checkout, self.cart_value, 0.0)

    # ------------------------------------------------------------------ oracle
    def oracle_view(self) -> OracleView:
        """The shoppers' true choice weights (see :mod:`cartgym.sim.oracle`); a copy."""
        return OracleView(
            weights=self.weights.astype(np.float64),
            total=self.total.copy(),
            boost=float(self.boost),
            line_values=self.line_values,
        )

    # ------------------------------------------------------------------ internals
    def _add(self, rows: np.ndarray, items: np.ndarray) -> None:
        """Put ``items`` into the carts of ``rows`` and refresh their utilities."""
        ok = items >= 0
        rows, items = rows[ok], items[ok]
        if len(rows) == 0:
            return
        self.in_cart[rows, items] = True
        self.cart_size[rows] += 1
        self.cart_value[rows] += self.line_values[items]
        self.comp_sum[rows] += self.choice.complement[items]
        self._refresh(rows)

    def _refresh(self, rows: np.ndarray) -> None:
        utility = self.choice.utilities(
            self.static[rows], self.comp_sum[rows], self.cart_size[rows]
        )
        utility -= utility.max(axis=1, keepdims=True)
        weights = np.exp(utility)
        weights[self.in_cart[rows]] = 0.0
        self.weights[rows] = weights
        self.total[rows] = weights.sum(axis=1, dtype=np.float64)


def _first_occurrence(recs: np.ndarray) -> np.ndarray:
    """(B, K) 1.0 where an item appears for the first time in its row's slate, else 0.0."""
    k = recs.shape[1]
    if k == 1:
        return np.ones(recs.shape)
    earlier = (recs[:, :, None] == recs[:, None, :]) & np.tri(k, k, -1, dtype=bool)[None]
    return (~earlier.any(axis=2)).astype(np.float64)
