"""Bundle offers: candidate bundles fitted from co-purchases, refreshed for each cart.

A bundle is 2 or 3 items that are complements in the logs: every pair of its items has a
positive shrunk PMI in the world's complement matrix (fitted on the logged baskets). At
each step the ``n_candidates`` bundles most complementary to the shopper's cart are
offered, each at every discount of ``discounts``, so the action space is a fixed
``Discrete(n_candidates * len(discounts))``. The shopper takes the whole bundle or
nothing (see ``response="bundle"`` in :class:`~cartgym.sim.simulator.SimConfig`).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from gymnasium import spaces

from cartgym.envs.config import CartEnvConfig
from cartgym.envs.observation import BundleLayout
from cartgym.envs.sessions import CartSessions
from cartgym.sim.checkout import CheckoutSimulator
from cartgym.sim.simulator import StepOutcome
from cartgym.world import ShopperWorld


@dataclass(frozen=True)
class BundleCatalogue:
    """Every candidate bundle of a world: complementary pairs and triples.

    ``items`` (N, 3) holds the bundle's items, a pair repeating its first item in the
    third slot; ``size`` is 2 or 3; ``internal`` the mean PMI over the bundle's pairs.
    """

    items: np.ndarray
    size: np.ndarray
    internal: np.ndarray

    @classmethod
    def fit(cls, world: ShopperWorld, max_pairs: int = 2000, max_triples: int = 2000):
        """Pairs with positive PMI (the strongest ``max_pairs``) and triples whose three
        pairs all have positive PMI (the strongest ``max_triples`` by mean PMI)."""
        upper = world.complement.tocoo()
        keep = (upper.row < upper.col) & (upper.data > 0)
        a, b, pmi = upper.row[keep], upper.col[keep], upper.data[keep]
        order = np.lexsort((b, a, -pmi))[:max_pairs]
        pairs = np.stack([a[order], b[order], a[order]], axis=1)
        positive = {(int(x), int(y)): float(v) for x, y, v in zip(a, b, pmi, strict=True)}
        neighbours: dict[int, set[int]] = {}
        for x, y in positive:
            neighbours.setdefault(x, set()).add(y)
        triples = []
        for x, ys in neighbours.items():
            for y, z in itertools.combinations(sorted(ys), 2):
                if (y, z) in positive:
                    mean = (positive[(x, y)] + positive[(x, z)] + positive[(y, z)]) / 3
                    triples.append((mean, x, y, z))
        triples.sort(key=lambda t: (-t[0], t[1], t[2], t[3]))
        triples = triples[:max_triples]
        items = np.concatenate(
            [pairs, np.array([t[1:] for t in triples], dtype=np.int64).reshape(-1, 3)]
        )
        size = np.concatenate([np.full(len(pairs), 2), np.full(len(triples), 3)])
        internal = np.concatenate([pmi[order], np.array([t[0] for t in triples])])
        if len(items) == 0:
            raise ValueError("the world has no complementary pairs to build bundles from")
        return cls(items.astype(np.int64), size.astype(np.int64), internal.astype(np.float64))


class BundleSessions(CartSessions):
    """B sessions in which the agent offers one bundle (of the current candidates) a step."""

    def __init__(self, n_sessions: int, config: CartEnvConfig, horizon: int | None = None):
        sim_config = replace(config.sim, response="bundle")
        super().__init__(n_sessions, config, 3, sim_config, horizon)
        self.bundles = BundleCatalogue.fit(self.world)
        assert config.bundle_candidates is not None
        self.n_candidates = min(config.bundle_candidates, len(self.bundles.items))
        self.discounts = values = np.asarray(config.bundle_discounts)
        n_actions = self.n_candidates * len(values)
        self.action_space = spaces.Discrete(n_actions + self.nothing)  # then: show nothing
        self.layout = BundleLayout(self.world.n_items, n_actions, len(values))
        self.observation_space = self.layout.space()
        self.candidate_block = self.layout.candidates
        self.current = np.zeros((n_sessions, self.n_candidates), dtype=np.int64)
        world = self.world
        self._value = world.line_values[self.bundles.items]
        self._value[self.bundles.size == 2, 2] = 0.0
        self._value = self._value.sum(axis=1)
        self._value_scale = 1.0 / np.log1p(max(float(world.spend_quantiles[-1]), 1.0))
        self._pmi_scale = 1.0 / max(float(np.abs(world.complement.data).max(initial=1e-9)), 1e-9)
        pop = world.popularity[self.bundles.items].mean(axis=1)
        self._popularity = (pop - world.popularity.min()) / max(np.ptp(world.popularity), 1e-9)

    def recommendations(self, actions: Any, batched: bool) -> np.ndarray:
        b, n = self.n, self.action_space.n  # type: ignore[attr-defined]
        array = np.asarray(actions)
        shape = (b,) if batched else ()
        if (
            array.shape != shape
            or array.dtype.kind not in "iu"
            or (array.size and (array.min() < 0 or array.max() >= n))
        ):
            expected = f"{b} x an int" if batched else "an int"
            raise ValueError(f"invalid action {actions!r}: expected {expected} in [0, {n})")
        return array.astype(np.int64).reshape(b)

    def step(self, actions: Any, batched: bool, rng: np.random.Generator) -> StepOutcome:
        action = self.recommendations(actions, batched)
        offers = self.layout.n_actions  # type: ignore[attr-defined]
        shows = action < offers
        offer = np.minimum(action, offers - 1)
        bundle = self.current[np.arange(len(action)), offer // len(self.discounts)]
        discount = np.where(shows, self.discounts[offer % len(self.discounts)], 0.0)
        items = np.where(shows[:, None], self.bundles.items[bundle], -1)
        if isinstance(self.sim, CheckoutSimulator):  # counter-based draws: no generator
            return self.sim.step(items, discount)
        return self.sim.step(items, rng, discounts=discount)

    def shown_items(self, actions: Any, rows: np.ndarray) -> np.ndarray:
        """Distinct catalogue items of the bundles that ``actions`` offer in ``rows``."""
        if not self.sim.config.show_recommendations and not self.nothing:
            return np.zeros(0, dtype=np.int64)
        lanes = np.arange(self.n)[rows]
        actions = np.asarray(actions)[rows]
        offers = actions < self.layout.n_actions  # type: ignore[attr-defined]
        bundles = self.current[lanes[offers], actions[offers] // len(self.discounts)]
        return np.unique(self.bundles.items[bundles])

    def observe(self, copy: bool = True) -> np.ndarray:
        base = super().observe()  # (a new array either way: the candidates are appended)
        features = self._candidate_features()
        return np.concatenate([base, features.reshape(len(base), -1)], axis=1)

    def action_masks(self, copy: bool = True) -> np.ndarray:
        """(B, C) candidates whose items are all out of the cart (then True for showing
        nothing, with CartRec-v1)."""
        in_cart = self.in_cart()
        overlap = in_cart[np.arange(len(in_cart))[:, None, None], self.bundles.items[self.current]]
        masks = np.repeat(~overlap.any(axis=2), len(self.discounts), axis=1)
        return np.concatenate([masks, np.ones((self.n, self.nothing), dtype=bool)], axis=1)

    def _candidate_features(self) -> np.ndarray:
        """Choose each shopper's candidates for the current cart; (B, C, 9) features."""
        sim = self.sim
        comp = self.lane(sim.comp_sum) / np.maximum(self.lane(sim.cart_size), 1)[:, None]
        in_cart = self.in_cart()
        items = self.bundles.items
        cart_lift = comp[:, items].mean(axis=2)  # (B, N) mean complement with the cart
        overlaps = in_cart[:, items].any(axis=2)
        score = np.where(overlaps, -np.inf, cart_lift + self.bundles.internal)
        top = np.argpartition(-score, self.n_candidates - 1, axis=1)[:, : self.n_candidates]
        order = np.lexsort((top, -np.take_along_axis(score, top, axis=1)), axis=1)
        self.current = np.take_along_axis(top, order, axis=1)
        chosen = self.current
        rows = np.arange(len(chosen))[:, None]
        padded = (
            np.where(np.arange(3) < self.bundles.size[chosen][..., None], items[chosen] + 1, 0)
            / self.world.n_items
        )
        per_bundle = np.stack(
            [
                np.log1p(self._value[chosen]) * self._value_scale,
                np.zeros(chosen.shape),
                cart_lift[rows, chosen] * self._pmi_scale,
                self.bundles.internal[chosen] * self._pmi_scale,
                self._popularity[chosen],
            ],
            axis=2,
        )
        nd = len(self.discounts)
        available = ~np.take_along_axis(overlaps, chosen, axis=1)
        features = np.concatenate([padded, per_bundle, available[..., None]], axis=2)
        features = np.repeat(features, nd, axis=1)  # (B, C, 9)
        features[:, :, 4] = np.tile(self.discounts, self.n_candidates)
        return np.clip(features, -1.0, 1.0).astype(np.float32)

    def take_probabilities(self, rows: Any = None) -> np.ndarray:
        """(R, C) probability that each offered action's bundle is taken (oracle view), for
        ``rows`` (default: every session).

        Sums the sequential-pick probabilities over every order of the bundle's items,
        recomputing the shopper's weights for each partial cart (exact, O(C x M) a row).
        """
        sim, config = self.sim, self.sim.config
        static = self.lane(sim.static).astype(np.float64)
        comp = self.lane(sim.comp_sum).astype(np.float64)
        size = self.lane(sim.cart_size)
        # v0's shoppers stop at their logged basket size; v1's have no such cap
        intended = getattr(sim, "intended_size", None)
        room = self.lane(intended - sim.cart_size) if intended is not None else size * 0 + 3
        complement = sim.choice
        dense = self.world.complement.toarray()
        rows = np.arange(sim.n_shoppers) if rows is None else np.atleast_1d(rows)
        # the offers only (CartRec-v1's show-nothing action, after them, takes nothing)
        out = np.zeros((len(rows), self.n_candidates * len(self.discounts)))
        for r, b in enumerate(rows):
            weights = _partial_cart_weights(
                static[b], comp[b], int(size[b]), dense, complement.complement_weight
            )
            for j, bundle in enumerate(self.current[b]):
                members = tuple(dict.fromkeys(self.bundles.items[bundle].tolist()))
                if len(members) > room[b]:
                    continue  # the basket would overflow: the shopper cannot take it all
                for k, discount in enumerate(self.discounts):
                    boost = sim.boost * (1.0 - discount) ** -config.discount_sensitivity
                    out[r, j * len(self.discounts) + k] = _take_all(members, weights, boost)
        return out

    def expected_revenue(self) -> np.ndarray:
        """(B, C) expected revenue net of discount of each offered action (oracle view)."""
        bundles = np.repeat(self.current, len(self.discounts), axis=1)
        net = self._value[bundles] * (1.0 - np.tile(self.discounts, self.n_candidates))
        return self.take_probabilities() * net


def _partial_cart_weights(static, comp, size, dense, weight):
    """weights(added) -> the shopper's item weights once ``added`` joined the cart (cached)."""

    @functools.cache
    def cached(key: tuple[int, ...]) -> np.ndarray:
        utility = static.copy()
        utility[list(key)] = -np.inf
        return np.exp(utility + weight / (size + len(key)) * (comp + dense[list(key)].sum(axis=0)))

    return lambda added: cached(tuple(sorted(added)))


def _take_all(members: tuple[int, ...], weights, boost: float) -> float:
    """P(sequential picks take every member), summed over the orders of the picks."""
    total = 0.0
    for order in itertools.permutations(members):
        p = 1.0
        for j, item in enumerate(order):
            w = weights(order[:j])
            left = [i for i in members if i not in order[:j]]
            shown = float(w[left].sum())
            p *= boost * w[item] / (boost * shown + float(w.sum()) - shown)
        total += p
    return total
