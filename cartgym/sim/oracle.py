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
