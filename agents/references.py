"""Reference policies that bound every score: random (the floor) and oracle-myopic (the ceiling).

normalised score = (agent - random) / (oracle-myopic - random): 0 is random, 1 is the best
policy that looks one step ahead with the shopper's true hidden state; above 1 means the
agent found value in planning ahead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cartgym.envs.observation import BundleLayout
from cartgym.sim.oracle import CheckoutView, OracleView

from .protocol import Agent, Env
from .ranking import first_occurrence, top_k

OBJECTIVES = ("revenue", "click")


def normalised_score(
    agent: np.ndarray | float, random: np.ndarray | float, oracle: np.ndarray | float
):
    """(agent - random) / (oracle - random), elementwise; NaN where oracle equals random."""
    agent, random, oracle = (np.asarray(x, dtype=np.float64) for x in (agent, random, oracle))
    span = oracle - random
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(span != 0, (agent - random) / np.where(span != 0, span, 1.0), np.nan)
    return float(out) if out.ndim == 0 else out


class RandomAgent(Agent):
    """A uniformly random item (or slate of distinct items) among those not in the cart.

    Random in both modes: ``deterministic=True`` changes nothing, since a random policy
    has nothing else to play; the agent's ``seed`` makes it repeatable.
    """

    def scores(self, obs: np.ndarray, explore: bool = False) -> np.ndarray:
        return self.rng.random((len(obs), self.n_items))

    def select(self, obs: np.ndarray, allowed: np.ndarray, deterministic: bool) -> np.ndarray:
        return top_k(self.scores(obs), allowed, self.slate_size)


class OracleMyopicAgent(Agent):
    """Maximises the expected immediate reward with the simulator's true shopper state.

    **A reference, not a deployable agent.** It reads ``env.unwrapped.oracle_view()``
    (:class:`~cartgym.sim.oracle.OracleView`: every shopper's true choice weights, which hold
    their hidden taste) at each call, so ``predict(obs)`` must be given the current
    observation of the environment it was built with (the single env, or the vector env
    for a batch of its N observations).

    One item: argmax of ``expected_revenue()`` (``objective="revenue"``) or of
    ``accept_probabilities()`` (``"click"``). A slate of K: the exact best assortment of at
    most K items under the shopper's multinomial logit, found by Dinkelbach's iteration on
    the ratio R(S) = sum_S boost w_a r_a / (Z + (boost - 1) W_S): with lambda the current
    revenue, the next slate is the (at most K) items with the largest positive
    boost w_a r_a - lambda (boost - 1) w_a; the iteration stops when lambda stops rising,
    which is optimal. If fewer than K items add revenue, the slate repeats its best item
    (a repeated item is shown once), as showing a low-value item would lower the expected
    revenue. ``objective=None`` follows the environment's reward (``"basket_value"`` is
    served as ``"revenue"``: the line value of an accepted item is what it adds).

    Under multi-choice slates (``response="multi"``, CartRecMultiSlate-v0) this slate is
    exact for the first item taken only; later picks, with the cart updated, are not
    optimised, so there it is an approximation of the myopic optimum (docs/combinations.md
    measures the gap).

    **On CartRec-v1** (a :class:`~cartgym.sim.oracle.CheckoutView`) it maximises the
    expected one-step gain of the environment's reward from the true state, showing nothing
    included: for ``basket_value`` (and ``incremental``: the twin does not depend on the
    action) the expected value of the cart after the step, 0 if the shopper leaves
    (``CheckoutView.slate_values``); for ``attributed`` the expected value of the items
    taken; for ``click`` the expected items taken. It knows each shopper's choice weights,
    checkout logit, the salience and position effects, the exit hazard, annoyance and
    impulse share, but not the future. A slate is greedy: the K items of largest one-item
    gain, shown if that beats the best item alone and showing nothing.
    """

    def __init__(self, env: Env, *, objective: str | None = None, seed: int | None = None):
        super().__init__(env, seed=seed)
        core = env.unwrapped
        if not callable(getattr(core, "oracle_view", None)):
            raise ValueError("OracleMyopicAgent needs an environment with oracle_view()")
        if objective is not None and objective not in OBJECTIVES:
            raise ValueError(f"objective must be None or one of {OBJECTIVES}, got {objective!r}")
        self.env = env
        self.objective = objective
        sim_config = getattr(getattr(core, "sim", None), "config", None)
        env_reward = getattr(sim_config, "reward", "revenue")
        self._target = objective or ("click" if env_reward == "click" else "revenue")

    def view(self, n_rows: int) -> OracleView | CheckoutView:
        view: OracleView | CheckoutView = self.env.unwrapped.oracle_view()  # type: ignore
        if len(view.total) != n_rows:
            raise ValueError(
                f"the oracle sees {len(view.total)} shoppers in its environment but was given "
                f"{n_rows} observations; pass that environment's current observations"
            )
        return view

    def values(self, view: OracleView) -> np.ndarray:
        """(M,) revenue of each item when accepted: line values, or 1 for clicks."""
        if self._target == "click":
            return np.ones_like(view.line_values)
        return view.line_values

    def scores(self, obs: np.ndarray, explore: bool = False) -> np.ndarray:
        view = self.view(len(obs))
        if isinstance(view, CheckoutView):
            return self._item_gains(view)
        return view.accept_probabilities() * self.values(view)

    def select(self, obs: np.ndarray, allowed: np.ndarray, deterministic: bool) -> np.ndarray:
        view = self.view(len(obs))
        if isinstance(view, CheckoutView):
            return self._select_v1(view, allowed)
        if self.slate_size == 1:
            return super().select(obs, allowed, deterministic)
        return best_assortment(view, self.values(view), allowed, self.slate_size)

    def _reward(self) -> str:
        core: Any = self.env.unwrapped
        return str(core.sim.config.reward)

    def _item_gains(self, view: CheckoutView) -> np.ndarray:
        """(B, M) the expected one-step gain of showing each item alone."""
        reward = self._reward()
        if reward == "click":
            return view.item_takes()
        if reward == "attributed":
            return view.item_takes() * view.line_values * (1.0 - view.exit_hazard)
        return view.item_values()

    def _slate_gains(self, view: CheckoutView, slates: np.ndarray) -> np.ndarray:
        reward = self._reward()
        if reward == "click":
            return view.slate_takes(slates).sum(1)
        if reward == "attributed":
            takes = view.slate_takes(slates)
            items = np.where(slates >= 0, view.line_values[np.maximum(slates, 0)], 0.0)
            return (takes * items).sum(1) * (1.0 - view.exit_hazard)
        return view.slate_values(slates)

    def _select_v1(self, view: CheckoutView, allowed: np.ndarray) -> np.ndarray:
        """(B, K) the slate (or item) of largest one-step gain; ``n_items`` shows nothing."""
        k, n = self.slate_size, len(allowed)
        gains = self._item_gains(view)
        best = top_k(gains, allowed, k)
        single = np.full((n, k), -1)
        single[:, 0] = best[:, 0]
        options = [np.full((n, k), -1), single]
        if k > 1:
            once = first_occurrence(best)
            useful = np.take_along_axis(allowed, best, axis=1) & once
            options.append(np.where(useful, best, -1))
        values = np.stack([self._slate_gains(view, o) for o in options], axis=1)
        choice = np.stack(options, axis=1)[np.arange(n), values.argmax(1)]
        return np.where(choice >= 0, choice, self.n_items)


class NoRecommendationAgent(Agent):
    """Shows nothing, ever: the no-recommendation control as a policy (CartRec-v1's
    show-nothing action: item ``M``, a slate of ``M`` s, or offer ``C`` on bundles)."""

    def __init__(self, env: Env, *, seed: int | None = None):
        super().__init__(env, seed=seed)
        core = env.unwrapped
        space: Any = getattr(core, "single_action_space", core.action_space)
        n = int(space.n) if hasattr(space, "n") else int(space.nvec[0])
        layout = self.layout
        offers = layout.n_actions if isinstance(layout, BundleLayout) else layout.n_items
        if n <= offers:
            raise ValueError(
                "this environment has no show-nothing action (a CartRec-v0 id: its control "
                "is show_recommendations=False)"
            )
        self.nothing_ = offers

    def scores(self, obs: np.ndarray, explore: bool = False) -> np.ndarray:
        return np.zeros((len(obs), self.n_items))

    def select(self, obs: np.ndarray, allowed: np.ndarray, deterministic: bool) -> np.ndarray:
        return np.full((len(obs), self.slate_size), self.nothing_)

    def check_obs(self, observation):
        return np.asarray(observation, dtype=np.float32)


def best_assortment(
    view: OracleView, values: np.ndarray, allowed: np.ndarray, k: int, max_iter: int = 50
) -> np.ndarray:
    """(B, k) slates of at most k distinct allowed items maximising expected revenue (exact).

    Dinkelbach's iteration (see :class:`OracleMyopicAgent`); rows with fewer than k useful
    items repeat their best one.
    """
    w = np.where(allowed, view.weights, 0.0)
    gain = view.boost * w * values  # numerator terms
    cost = (view.boost - 1.0) * w  # denominator terms, beside the total Z
    lam = np.zeros((len(w), 1))
    for _ in range(max_iter):
        terms = gain - lam * cost
        slate = top_k(terms, allowed, k)
        useful = np.take_along_axis(terms, slate, axis=1) > 0
        useful[:, 0] = True
        slate = np.where(useful, slate, slate[:, :1])
        new = _revenue(view, gain, cost, slate)[:, None]
        if np.all(new <= lam * (1 + 1e-12)):
            break
        lam = np.maximum(lam, new)
    return slate


def _revenue(view: OracleView, gain: np.ndarray, cost: np.ndarray, slate: np.ndarray) -> np.ndarray:
    """(B,) expected revenue of slates (repeated items count once)."""
    once = first_occurrence(slate)
    g = (np.take_along_axis(gain, slate, axis=1) * once).sum(axis=1)
    c = (np.take_along_axis(cost, slate, axis=1) * once).sum(axis=1)
    return g / (view.total + c)
