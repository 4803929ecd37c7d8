"""The oracle interface: the simulator's true response model, for reference policies only.

An agent that reads this knows each shopper's hidden taste, history weight and patience
state through the choice weights; it is the *oracle* of the normalised score
(agent - random) / (oracle - random) and must never be used by a learning agent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OracleView:
    """Each shopper's current choice weights, batched (B rows).

    ``weights[b, i]`` is exp(utility) of item i for shopper b (up to a per-row factor; 0 for
    items in the cart), ``total[b]`` their sum, ``boost`` = exp(salience) the multiplier of
    a recommended item, ``line_values[i]`` the revenue of item i when accepted.

    A slate S is accepted with probability boost * W_S / (boost * W_S + total - W_S), with
    W_S the sum of the weights in S, and item a in S is the one taken with probability
    boost * w_a / (boost * W_S + total - W_S).
    """

    weights: np.ndarray  # (B, M)
    total: np.ndarray  # (B,)
    boost: float
    line_values: np.ndarray  # (M,)

    def accept_probabilities(self) -> np.ndarray:
        """(B, M) probability that each item, recommended alone, is accepted."""
        boosted = self.weights * self.boost
        return boosted / (boosted + self.total[:, None] - self.weights)

    def expected_revenue(self) -> np.ndarray:
        """(B, M) expected immediate revenue of recommending each item alone."""
        return self.accept_probabilities() * self.line_values

    def slate_accept_probabilities(self, slates: np.ndarray) -> np.ndarray:
        """(B, K) probability that each item of each row's slate (distinct items) is taken."""
        w = np.take_along_axis(self.weights, slates, axis=1)
        shown = w.sum(axis=1, keepdims=True)
        return self.boost * w / (self.boost * shown + self.total[:, None] - shown)


@dataclass(frozen=True)
class CheckoutView:
    """CartRec-v1's true shopper state, for the myopic reference (B shoppers).

    ``weights``, ``total`` and ``line_values`` as in :class:`OracleView`; ``boosts`` (K,)
    exp(salience + position effect) per slot; ``cart_value`` (B,); ``base_logit`` (B,) the
    checkout logit with nothing shown (V0 - lambda IV); ``shown_weight`` lambda_shown;
    ``exit_hazard``, ``annoyance`` and ``impulse`` the assumptions of
    :class:`~cartgym.sim.config.SimConfig`.

    The value of a step is what the cart is worth after it: its value if the shopper
    checks out or goes on shopping, 0 if they leave. Showing a slate S gives

        E[V'] = p V + (1 - p)(1 - h0) [sum_a q_a (V + v_a + rho E_own)
                                       + (1 - Q)(1 - kappa)(V + E_own)]

    with p = sigmoid(base_logit - lambda_shown log(Zb / Z)), Zb = Z + sum (boost_a - 1) w_a,
    q_a = boost_a w_a / Zb, Q = sum q_a, and E_own the expected value of the shopper's own
    item (drawn among the items not shown).
    """

    weights: np.ndarray  # (B, M)
    total: np.ndarray  # (B,)
    line_values: np.ndarray  # (M,)
    boosts: np.ndarray  # (K,)
    cart_value: np.ndarray  # (B,)
    base_logit: np.ndarray  # (B,)
    shown_weight: float
    exit_hazard: float
    annoyance: float
    impulse: float

    def _parts(self, slates: np.ndarray):
        """Per row: the shown weights, p (checkout), q (each slot taken), E_own."""
        shown = slates >= 0
        safe = np.where(shown, slates, 0)
        w = np.where(shown, np.take_along_axis(self.weights, safe, axis=1), 0.0)
        boost = self.boosts[: slates.shape[1]]
        z = np.maximum(self.total, 1e-300)
        zb = z + ((boost - 1.0) * w).sum(1)
        q = boost * w / zb[:, None]
        rest = np.maximum(z - w.sum(1), 1e-300)
        own = (self.weights @ self.line_values - (w * self.line_values[safe]).sum(1)) / rest
        p = 1.0 / (1.0 + np.exp(-(self.base_logit - self.shown_weight * np.log(zb / z))))
        return shown, safe, p, q, own

    def slate_values(self, slates: np.ndarray) -> np.ndarray:
        """(B,) E[V'] of showing (B, K) slates of distinct items (-1: an empty slot)."""
        shown, safe, p, q, own = self._parts(slates)
        value = self.cart_value
        taken = (q * (self.line_values[safe] + self.impulse * own[:, None])).sum(1)
        miss = 1.0 - q.sum(1)
        annoyed = 1.0 - self.annoyance * shown.any(1)
        stays = (1.0 - self.exit_hazard) * (
            q.sum(1) * value + taken + miss * annoyed * (value + own)
        )
        return p * value + (1.0 - p) * stays

    def slate_takes(self, slates: np.ndarray) -> np.ndarray:
        """(B, K) probability that each slot's item is taken at this step."""
        _, _, p, q, _ = self._parts(slates)
        return (1.0 - p)[:, None] * q

    def item_values(self) -> np.ndarray:
        """(B, M) E[V'] of showing each item alone (:meth:`slate_values`, vectorised)."""
        v, w, z = self.line_values, self.weights, np.maximum(self.total, 1e-300)[:, None]
        boost = self.boosts[0]
        zb = z + (boost - 1.0) * w
        q = boost * w / zb
        own = ((self.weights @ v)[:, None] - w * v) / np.maximum(z - w, 1e-300)
        p = 1.0 / (1.0 + np.exp(-(self.base_logit[:, None] - self.shown_weight * np.log(zb / z))))
        value = self.cart_value[:, None]
        stays = (1.0 - self.exit_hazard) * (
            q * (value + v + self.impulse * own)
            + (1.0 - q) * (1.0 - self.annoyance) * (value + own)
        )
        return p * value + (1.0 - p) * stays

    def item_takes(self) -> np.ndarray:
        """(B, M) probability that each item, shown alone, is taken at this step."""
        w, z = self.weights, np.maximum(self.total, 1e-300)[:, None]
        boost = self.boosts[0]
        zb = z + (boost - 1.0) * w
        p = 1.0 / (1.0 + np.exp(-(self.base_logit[:, None] - self.shown_weight * np.log(zb / z))))
        return (1.0 - p) * boost * w / zb
