"""CartRec-v1's shoppers: they check out by a fitted choice, may leave, and have a twin.

N lanes, each a shopper (rows 0..N-1) and their counterfactual twin (rows N..2N-1, the
same shopper, shown nothing), over the carts and choice weights of
:class:`~cartgym.sim.carts.CartState`. A step, for every active shopper, at an
add-to-cart moment with recommendations shown:

1. **Checkout.** P = sigmoid(V0 - lambda IV) with V0 = a + b log(1 + cart size) +
   c log(cart value / the shopper's typical basket value) and IV the log of the summed
   weights of the items not in the cart, shown ones boosted (the world's :class:`StopModel`).
2. **Response.** One draw from the item logit, shown items boosted by exp(salience +
   position effect): if it lands on a shown item, the shopper takes it (slates answered
   once, or by sequential picks; bundles all or nothing).
3. **Own item.** A shopper who took nothing adds an item of their own, drawn with the same
   uniform among the items not shown (the twin's own item uses that uniform too); one who
   took a recommendation also adds their own item with probability ``impulse`` (an
   impulse add), else the taken item took its place.
4. **Leaving.** With probability 1 - (1 - h0)(1 - kappa [the shown recommendation was
   ignored]) the shopper leaves and loses the cart; nothing of this step is added.

Every draw is counter-based (:mod:`cartgym.sim.streams`): the shopper and the twin meet
the same uniforms at the same step, so under show-nothing actions they are identical and
the incremental value of a session is exact. When a session ends, its twin is run to its
own end (shown nothing) before the step returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cartgym.sim.carts import CartState
from cartgym.sim.config import SimConfig
from cartgym.sim.oracle import CheckoutView
from cartgym.sim.population import Population
from cartgym.sim.simulator import StepOutcome
from cartgym.sim.streams import ARRIVAL, EXIT, RESPONSE, Streams
from cartgym.world import ShopperWorld


@dataclass(frozen=True)
class SessionEnds:
    """What happened to the sessions that ended at a step, and to their twins (lanes)."""

    lanes: np.ndarray  # lanes whose session ended
    basket_value: np.ndarray  # value paid: the cart's value at checkout, 0 if not bought
    twin_basket_value: np.ndarray
    twin_basket_size: np.ndarray  # items in the twin's cart at its end
    twin_checkout: np.ndarray
    taken: np.ndarray  # distinct items taken from recommendations
    bought_anyway: np.ndarray  # of those, the ones in the twin's cart at its end


class CheckoutSimulator(CartState):
    """State and dynamics of N CartRec-v1 sessions and their twins over a schema-2 world.

    ``horizon`` caps a twin's session (the environment's ``max_episode_steps``; None for
    no cap). :meth:`step` returns a :class:`~cartgym.sim.simulator.StepOutcome` of the N
    shoppers, and ``self.ends`` the :class:`SessionEnds` of that step.
    """

    def __init__(
        self,
        world: ShopperWorld,
        n_shoppers: int,
        config: SimConfig,
        *,
        backend: str = "numpy",
        device: str = "auto",
        horizon: int | None = None,
    ):
        if world.stop is None:
            raise ValueError(
                "this world has no stop model (a schema-1 world, for CartRec-v0); CartRec-v1 "
                "needs a world fitted with it: refit with `cartgym fit` (it writes schema 2)"
            )
        if config.dynamics != "v1":
            raise ValueError(f"CheckoutSimulator runs dynamics='v1', got {config.dynamics!r}")
        super().__init__(
            world,
            2 * n_shoppers,
            salience=config.number("salience"),
            backend=backend,
            refresh=config.refresh,
            device=device,
        )
        ops = self.ops
        self.config = config
        self.n_shoppers = self.n_lanes = n = n_shoppers
        self.horizon = horizon
        self.population = Population(
            world, population=config.population, new_shopper_rate=config.new_shopper_rate
        )
        stop = world.stop
        self.stop = stop
        self.inclusive_value = (
            stop.inclusive_value if config.inclusive_value is None else config.inclusive_value
        )
        fitted = config.shown_inclusive_value == "fitted"
        self.shown_inclusive_value = (
            self.inclusive_value if fitted else config.number("shown_inclusive_value")
        )
        self.streams = Streams(ops)
        self.lane = self.rows % n
        self.session = ops.zeros((n,), "int64")
        self.base_response = ops.zeros((2 * n,), "int64")
        self.base_exit = ops.zeros((2 * n,), "int64")
        self.typical = ops.zeros((2 * n,), "float64") + stop.typical_value
        self.rec_taken = ops.zeros((2 * n, world.n_items), "bool")
        self.rec_value = ops.zeros((2 * n,), "float64")
        self.checked_out = ops.zeros((2 * n,), "bool")
        self.ends: SessionEnds | None = None
        # (lanes whose session ended at the last step, their basket value over the twin's)
        self._ended = (ops.zeros((0,), "int64"), ops.zeros((0,), "float64"))

    # ------------------------------------------------------------------ reset
    def reset(self, rng: np.random.Generator, rows: Any = None) -> None:
        """Start new sessions in the lanes ``rows`` (default: all, with a new key from
        ``rng``): each lane's next shopper, and their twin."""
        ops, n = self.ops, self.n_lanes
        if rows is None:
            self.streams.rekey(rng)
            self.session[:] = 0
            lanes = ops.arange(n)
        else:
            lanes = ops.asarray(rows, "int64")
            if len(lanes) == 0:
                return
            self.session[lanes] += 1
        sessions = self.session[lanes]
        u = self.streams.uniform(
            self.streams.base(ARRIVAL, lanes, sessions),
            ops.zeros((len(lanes),), "int64"),
            self.population.n_uniforms() + 1,
        )
        arrivals = self.population.arrive(ops.to_numpy(u[1:]))
        both = ops.join([lanes, lanes + n])
        twice = type(arrivals)(*(np.concatenate([a, a]) for a in vars(arrivals).values()))
        self.start(both, twice, ops.join([u[0], u[0]]))
        users = ops.asarray(twice.users, "int64")
        values = ops.asarray(self.world.user_basket_values, "float64")
        self.typical[both] = ops.where(users >= 0, values[ops.clip(users, 0, None)], 0.0) + (
            ops.astype(users < 0, "float64") * self.stop.typical_value
        )
        repeat = ops.join([sessions, sessions])
        self.base_response[both] = self.streams.base(RESPONSE, both % n, repeat)
        self.base_exit[both] = self.streams.base(EXIT, both % n, repeat)
        self.rec_taken[both] = False
        self.rec_value[both] = 0.0
        self.checked_out[both] = False

    # ------------------------------------------------------------------ step
    def step(self, recommendations: Any, discounts: Any = None, on_device: bool = False) -> Any:
        """Advance every shopper by one add-to-cart moment; ``recommendations`` is (N, K)
        items, -1 for an empty slot (all -1: show nothing). ``discounts`` (N,) in [0, 1)
        apply to bundles (``response="bundle"``). Shoppers whose session is over are left
        as they are and get zeros. Returns a :class:`StepOutcome` (numpy), or with
        ``on_device=True`` a dict of backend arrays: ``reward``, ``taken``, ``organic``,
        ``checkout``, ``left`` and ``truncated`` (nothing is copied to the host)."""
        ops, n = self.ops, self.n_lanes
        recs = ops.asarray(recommendations, "int64")
        k = recs.shape[1]
        rows = self.rows[:n][~self.done[:n]]
        twins = self.rows[n:][~self.done[n:]]
        discount = ops.zeros((n,), "float64")
        if discounts is not None and self.config.response == "bundle":
            discount = ops.asarray(discounts, "float64")
        self.last_added = ops.zeros((2 * n, k + 1), "int64") - 1  # refilled by _advance
        everyone = ops.join([rows, twins])
        shown = ops.join([recs[rows], ops.zeros((len(twins), k), "int64") - 1])
        offers = ops.join([discount[rows], ops.zeros((len(twins),), "float64")])
        moves = self._advance(everyone, shown, offers)
        taken = ops.zeros((n, k), "int64") - 1
        mine = len(rows)
        taken[rows] = moves["taken"][:mine]
        organic = ops.zeros((n,), "int64") - 1
        organic[rows] = moves["organic"][:mine]
        checkout = ops.zeros((n,), "bool")
        checkout[rows] = moves["checkout"][:mine]
        left = ops.zeros((n,), "bool")
        left[rows] = moves["left"][:mine]
        truncated = ops.zeros((n,), "bool")
        if self.horizon is not None:
            truncated = ~self.done[:n] & (self.steps[:n] >= self.horizon)
        ended = checkout | left | truncated
        self.ends = self._finish(self.rows[:n][ended], report=not on_device)
        reward = self._reward(taken, checkout)
        if on_device:
            moves = {"taken": taken, "organic": organic, "checkout": checkout, "left": left}
            return {**moves, "reward": reward, "truncated": truncated}
        return self._outcome(taken, discount, organic, checkout, left, reward)

    def _advance(self, rows: Any, recs: Any, discount: Any) -> dict[str, Any]:
        """One step of the sessions in ``rows`` (active ones) shown ``recs`` (R, K)."""
        ops, config, stop = self.ops, self.config, self.stop
        k = recs.shape[1]
        r = len(rows)
        u = self.streams.uniform(self.base_response[rows], self.steps[rows], k + 2)
        exits = self.streams.uniform(self.base_exit[rows], self.steps[rows], 2)
        boost = ops.zeros((r, 1), "float64") + ops.asarray(config.slot_boosts(k), "float64")
        if config.response == "bundle":
            boost = boost * ((1.0 - discount) ** -config.discount_sensitivity)[:, None]
        safe, once = self._slots(recs)
        base = ops.astype(self.weights[rows[:, None], safe], "float64") * once
        shows = (recs >= 0).any(1)
        total = self.total[rows]
        boosted_total = total - base.sum(1) + (base * boost).sum(1)
        own = ops.log(ops.clip(total, 1e-300, None)) + self.shift[rows]
        lift = ops.log(ops.clip(boosted_total, 1e-300, None) / ops.clip(total, 1e-300, None))
        size = self.cart_size[rows]
        value = ops.clip(self.cart_value[rows], 1e-12, None)
        v0 = (
            stop.intercept
            + stop.log_size * ops.log1p(size)
            + stop.log_value_ratio * ops.log(value / self.typical[rows])
        )
        # IV = own + lift: what the shopper's own alternatives are worth, and what the shown
        # items add to it
        p_checkout = ops.sigmoid(
            v0 - self.inclusive_value * own - self.shown_inclusive_value * lift
        )
        checkout = (exits[0] < p_checkout) | (total <= 0)
        going = ~checkout
        if config.response == "single":
            accept, picked, leftover = self.respond(recs, u[0], boost, rows)
            accept = accept & going & shows
            taken = ops.where(accept, picked, -1)[:, None]
        else:
            taken, leftover = self.take_from_slate(
                recs, u[:k], boost, going & shows, config.response, rows=rows
            )
            accept = taken[:, 0] >= 0
        impulse = accept & (u[k + 1] < config.number("impulse"))
        # a shopper who takes nothing draws their own item with the response's uniform
        # (rescaled to the items not shown), as the twin does with the same uniform: a take
        # the shopper would have made anyway is then one the twin makes at the same step
        own = ops.where(accept, u[k], ops.where(shows, leftover, u[0]))
        drawn = self.organic_choice(recs, own, rows)
        organic = ops.where(going & (~accept | impulse), drawn, -1)
        checkout = checkout | (going & ~accept & (organic < 0))  # nothing left to buy
        going = going & ~checkout
        ignored = going & shows & ~accept
        p_leave = 1.0 - (1.0 - config.number("exit_hazard")) * (
            1.0 - config.number("annoyance") * ops.astype(ignored, "float64")
        )
        left = going & (exits[1] < p_leave)
        stays = going & ~left
        if config.response == "single":
            keep = stays & accept
            self._add(rows[keep], taken[keep, 0])
        self._add(rows[stays], organic[stays])
        self._refresh(rows[stays])
        took = taken >= 0
        hit = rows[:, None] + 0 * taken
        self.rec_taken[hit[took], taken[took]] = True
        line = ops.where(took, self._line_values[ops.clip(taken, 0, None)], 0.0).sum(1)
        self.rec_value[rows] += line * (1.0 - discount)
        self.steps[rows] += 1
        self.n_accepted[rows] += ops.astype(accept, "int64")
        self.n_ignored[rows] += ops.astype(ignored, "int64")
        self.last_accepted[rows] = accept
        # what joined the cart (slate picks join as they are made, even if the shopper
        # then leaves; a single take only if they stay), for the observer
        in_cart = took & (stays[:, None] | (config.response != "single"))
        added = ops.concat([ops.where(in_cart, taken, -1), ops.where(stays, organic, -1)[:, None]])
        self.last_added[rows, : added.shape[1]] = added
        self.checked_out[rows] = checkout
        self.done[rows] = checkout | left
        return {"taken": taken, "organic": organic, "checkout": checkout, "left": left}

    def oracle_view(self) -> CheckoutView:
        """The N shoppers' true state for the myopic reference (numpy copies)."""
        ops, n, stop = self.ops, self.n_lanes, self.stop
        numpy = ops.to_numpy
        total = np.array(numpy(self.total[:n]), dtype=np.float64)
        size = np.array(numpy(self.cart_size[:n]))
        value = np.maximum(np.array(numpy(self.cart_value[:n])), 1e-12)
        typical = np.array(numpy(self.typical[:n]))
        own = np.log(np.maximum(total, 1e-300)) + np.array(numpy(self.shift[:n]))
        base = stop.intercept + stop.log_size * np.log1p(size)
        base = base + stop.log_value_ratio * np.log(value / typical) - self.inclusive_value * own
        config = self.config
        return CheckoutView(
            weights=np.array(numpy(self.weights[:n]), dtype=np.float64),
            total=total,
            line_values=self.line_values,
            boosts=config.slot_boosts(64),
            cart_value=value,
            base_logit=base,
            shown_weight=float(self.shown_inclusive_value),
            exit_hazard=config.number("exit_hazard"),
            annoyance=config.number("annoyance"),
            impulse=config.number("impulse"),
        )

    def _finish(self, lanes: Any, report: bool = True) -> SessionEnds | None:
        """Run the twins of the sessions of ``lanes`` (which just ended) to their own end,
        shown nothing, and report both (numpy; ``numpy=False`` keeps only the basket value
        over the twin's, on the backend, for the incremental reward: ``report=False``)."""
        ops, n = self.ops, self.n_lanes
        twins = lanes + n
        while True:
            live = twins[~self.done[twins]]
            if self.horizon is not None:
                live = live[self.steps[live] < self.horizon]
            if len(live) == 0:
                break
            nothing = ops.zeros((len(live), 1), "int64") - 1
            self._advance(live, nothing, ops.zeros((len(live),), "float64"))
        paid = ops.where(self.checked_out[lanes], self.cart_value[lanes], 0.0)
        twin_paid = ops.where(self.checked_out[twins], self.cart_value[twins], 0.0)
        self._ended = (lanes, paid - twin_paid)
        if not report:
            return None
        anyway = (self.rec_taken[lanes] & self.in_cart[twins]).sum(1)
        numpy = ops.to_numpy
        return SessionEnds(
            lanes=np.array(numpy(lanes)),
            basket_value=np.array(numpy(paid)),
            twin_basket_value=np.array(numpy(twin_paid)),
            twin_basket_size=np.array(numpy(self.cart_size[twins])),
            twin_checkout=np.array(numpy(self.checked_out[twins])),
            taken=np.array(numpy(self.rec_taken[lanes].sum(1))),
            bought_anyway=np.array(numpy(anyway)),
        )

    def _reward(self, taken: Any, checkout: Any) -> Any:
        """(N,) float64 reward of the step just made, on the backend (``config.reward``)."""
        ops, n, kind = self.ops, self.n_lanes, self.config.reward
        if kind == "click":
            return ops.astype((taken >= 0).sum(1), "float64")
        if kind == "basket_value":
            return ops.where(checkout, self.cart_value[:n], 0.0)
        if kind == "attributed":
            return ops.where(checkout, self.rec_value[:n], 0.0)
        reward = ops.zeros((n,), "float64")  # incremental: paid at the end, against the twin
        lanes, difference = self._ended
        reward[lanes] = difference
        return reward

    def _outcome(self, taken, discount, organic, checkout, left, reward) -> StepOutcome:
        """The N shoppers' :class:`StepOutcome` (numpy copies)."""
        numpy = self.ops.to_numpy
        taken, discount = np.array(numpy(taken)), np.array(numpy(discount))
        organic, checkout = np.array(numpy(organic)), np.array(numpy(checkout))
        left, reward = np.array(numpy(left)), np.array(numpy(reward))
        values = np.where(taken >= 0, self.line_values[np.maximum(taken, 0)], 0.0).sum(1)
        organic_revenue = np.where(organic >= 0, self.line_values[np.maximum(organic, 0)], 0.0)
        return StepOutcome(
            accepted=taken[:, 0].copy(),
            organic=organic,
            reward=reward,
            rec_revenue=values * (1.0 - discount),
            organic_revenue=organic_revenue,
            checkout=checkout,
            abandoned=left,
            taken=taken,
            discount_cost=values * discount,
        )
