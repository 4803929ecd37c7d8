"""Reference bundle policies: a random offer (the floor) and the myopic oracle (the ceiling)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..protocol import Env
from ..ranking import top_k
from .candidates import BundleAgent


class BundleRandomAgent(BundleAgent):
    """A uniformly random available offer (bundle and discount); random in both modes."""

    def scores(self, obs: np.ndarray, explore: bool = False) -> np.ndarray:
        return self.rng.random((len(obs), self.n_actions))

    def select(self, obs: np.ndarray, allowed: np.ndarray, deterministic: bool) -> np.ndarray:
        return top_k(self.scores(obs), allowed, 1)


OBJECTIVES = ("revenue", "click")


class BundleOracleMyopicAgent(BundleAgent):
    """The offer of largest expected immediate reward under the true shopper: a reference.

    **Not a deployable agent.** It reads ``env.unwrapped.oracle_bundle_revenue()`` (exact:
    the take probability of the whole bundle, summed over the orders of the sequential picks,
    times its revenue net of discount) at each call, so ``predict(obs)`` must be given the
    current observation of the environment it was built with. ``objective="click"``
    maximises expected items taken (take probability x bundle size); ``None`` follows the
    environment's reward (``"basket_value"`` is served as ``"revenue"``).
    """

    def __init__(self, env: Env, *, objective: str | None = None, seed: int | None = None):
        super().__init__(env, seed=seed)
        core = env.unwrapped
        if not callable(getattr(core, "oracle_bundle_revenue", None)):
            raise ValueError(
                "BundleOracleMyopicAgent needs an environment with oracle_bundle_revenue()"
            )
        if objective is not None and objective not in OBJECTIVES:
            raise ValueError(f"objective must be None or one of {OBJECTIVES}, got {objective!r}")
        self.env = env
        self.objective = objective
        env_reward = getattr(getattr(core, "sim", None), "config", None)
        env_reward = getattr(env_reward, "reward", "revenue")
        self._target = objective or ("click" if env_reward == "click" else "revenue")

    def scores(self, obs: np.ndarray, explore: bool = False) -> np.ndarray:
        core: Any = self.env.unwrapped
        if self._target == "click":
            values = np.atleast_2d(core.sessions.take_probabilities()) * self.bundle_sizes(obs)
        else:
            values = np.atleast_2d(core.oracle_bundle_revenue())
        if len(values) != len(obs):
            raise ValueError(
                f"the oracle sees {len(values)} shoppers in its environment but was given "
                f"{len(obs)} observations; pass that environment's current observations"
            )
        return values
