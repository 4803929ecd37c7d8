"""CartEnv: one shopper filling a cart, one recommendation (or slate) per add-to-cart."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.error import ResetNeeded

from cartgym.envs.build import build_sessions
from cartgym.envs.config import CartEnvConfig
from cartgym.envs.observation import ObservationLayout
from cartgym.sim.oracle import OracleView
from cartgym.sim.simulator import StepOutcome


class CartEnv(gym.Env):
    """Recommend items to a simulated shopper while they fill a shopping cart.

    ## Description

    A shopper, drawn from the logged customers of a real retailer, fills a cart. At each
    add-to-cart moment the agent recommends one item (or a slate of ``slate_size`` items).
    The shopper's next item is drawn from a conditional logit over the items not yet in
    the cart, fitted by maximum likelihood on logged baskets: utility = taste (matrix
    factorisation) + repeat buying + popularity + price + complementarity with the cart
    (shrunk PMI). Recommended items carry a salience bonus; if the draw lands on one, the
    recommendation is accepted. Otherwise the shopper adds an item on their own, and the
    ignored recommendation costs patience.

    ## Action Space

    ``slate_size == 1``: ``Discrete(M)``, the index of the recommended item.
    ``slate_size == K > 1``: ``MultiDiscrete([M] * K)``; a repeated item is shown once.
    Items already in the cart are legal but masked by :meth:`action_masks` (a masked
    recommendation is always ignored, which costs patience). Anything outside the action
    space raises ``ValueError``.

    ## Observation Space

    ``Box(0, 1, (2M + 6,), float32)``: the cart (M entries, 1 for items in it), the
    shopper's logged purchase history (M entries, scaled log counts), then six scalars:
    cart size, cart value, last recommendation accepted, acceptance rate so far, ignored
    recommendations so far, and whether the shopper has a logged history. The layout is
    ``env.unwrapped.layout``. The shopper's taste, intended basket size and patience are
    hidden.

    ## Rewards

    ``reward="revenue"`` (default): the line value (unit price x median quantity) of an
    accepted recommendation, else 0. ``"click"``: 1 per accepted recommendation.
    ``"basket_value"``: the value of the whole cart, paid at checkout. Every step's
    ``info`` carries all parts: ``accepted`` (the first item taken, -1 for none),
    ``accepted_count`` (items taken from the slate), ``organic`` (the shopper's own item,
    -1 for none), ``rec_revenue``, ``organic_revenue``, ``discount_cost``, ``cart_size``,
    ``cart_value``, ``checkout``, ``abandoned``.

    ## Starting State

    A logged basket is drawn at random; its customer (taste, history) becomes the shopper,
    its number of catalogue items the intended basket size. Patience is geometric with mean
    ``patience_mean``. The cart starts with one item the shopper chose on their own.

    ## Episode End

    Terminated when the cart reaches the intended size (checkout) or patience runs out
    (abandonment). Truncated after ``max_episode_steps`` (100 for the registered ids).

    ## Arguments

    * ``world``: ``"online_retail"`` (bundled, default), a path to a world file from
      ``cartgym fit``, or a :class:`~cartgym.world.ShopperWorld`.
    * ``n_items``: keep only the world's ``n_items`` most popular items (default: all).
    * ``slate_size``: items recommended per step (default 1).
    * ``reward``: ``"revenue"``, ``"click"`` or ``"basket_value"``.
    * ``salience``: log-odds bonus of a recommended item (default 2.0, an assumption).
    * ``patience_mean``: mean ignored recommendations tolerated (default 10, an assumption).
    * ``new_shopper_rate``: share of shoppers with no history, taste from the fitted
      population Gaussian (default 0).
    * ``population``: ``"all"``, ``"train"`` or ``"eval"``: which logged users arrive
      (a fixed 80/20 split by user id).
    * ``response``: ``"single"`` (default: at most one item of a slate is taken) or
      ``"multi"`` (any subset, by sequential picks with the cart updated between picks;
      needs ``slate_size >= 2``).
    * ``show_recommendations``: ``False`` runs the no-recommendation control: the same
      shoppers fill their carts on their own (actions are ignored, patience is never used).
    * ``bundle_candidates``: offer bundles instead of items: ``Discrete(C)`` with
      C = ``bundle_candidates`` x ``len(bundle_discounts)``; each action is one of the
      bundles (2-3 complementary items, see :mod:`cartgym.envs.bundles`) most
      complementary to the cart, at one of ``bundle_discounts`` (default 0, 10%, 20%). The
      shopper takes the whole bundle or nothing; the reward is its revenue net of
      discount; the observation gains 9 features per action (items, value, discount, lift
      with the cart, lift within, popularity, available: see
      ``cartgym.envs.observation.CANDIDATE_FEATURES``; ``env.unwrapped.layout`` is then a
      ``BundleLayout`` whose ``candidates`` slice holds them); masks hide bundles that
      overlap the cart.
    * ``discount_sensitivity``: in bundle envs a discount d multiplies the bundle's weight
      by (1 - d) ** -discount_sensitivity (default 1.0, an assumption).
    * ``render_mode``: ``None`` or ``"ansi"``.

    The arguments but ``render_mode`` are one frozen dataclass,
    :class:`~cartgym.envs.config.CartEnvConfig` (``env.unwrapped.config``; the dynamics'
    assumptions are its ``sim`` field, a :class:`~cartgym.sim.config.SimConfig`), shared
    with the vector env; an unknown or bad argument raises ``ValueError`` naming it.
    * ``backend``: ``"numpy"`` (default) or ``"torch"``; ``device``: ``"auto"`` (CUDA when
      present), ``"cpu"`` or ``"cuda"`` (torch only). The dynamics are the same code.

    ## Version History

    * v0: initial release.

    ## Example

    >>> import gymnasium as gym, cartgym
    >>> env = gym.make("CartRec-v0")
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape
    (2006,)
    >>> mask = env.unwrapped.action_masks()
    >>> obs, reward, terminated, truncated, info = env.step(int(mask.argmax()))
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, render_mode: str | None = None, **kwargs: Any):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        self.config = CartEnvConfig.from_kwargs(**kwargs)
        self.sessions = build_sessions(1, self.config)
        self.world = self.sessions.world
        self.sim = self.sessions.sim
        self.layout: ObservationLayout = self.sessions.layout
        self.slate_size = self.sessions.slate_size
        self.observation_space = self.sessions.observation_space
        self.action_space = self.sessions.action_space
        self.render_mode = render_mode
        self._last: StepOutcome | None = None
        self._started = False

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if hasattr(self.sim, "horizon"):  # CartRec-v1's twins stop at the TimeLimit too
            self.sim.horizon = self.spec.max_episode_steps if self.spec else None
        self.sim.reset(self.np_random)
        self._started = True
        self._last = None
        return self.sessions.observe()[0], self._info(None)

    def step(self, action):
        if not self._started:
            raise ResetNeeded("call reset() before step()")
        if bool(self.sim.done[0]):
            raise ResetNeeded("the episode is over (terminated); call reset() before step()")
        self._last = outcome = self.sessions.step(action, False, self.np_random)
        terminated = bool(outcome.checkout[0] or outcome.abandoned[0])
        return (
            self.sessions.observe()[0],
            float(outcome.reward[0]),
            terminated,
            False,
            self._info(outcome),
        )

    def action_masks(self) -> np.ndarray:
        """Boolean mask of recommendable items (not in the cart); tiled per slate position."""
        return self.sessions.action_masks()[0]

    def oracle_view(self) -> OracleView:
        """The shopper's true choice weights, for oracle reference policies only."""
        return self.sim.oracle_view()

    def oracle_bundle_revenue(self) -> np.ndarray:
        """(C,) expected revenue of each bundle action now (bundle envs; oracle only)."""
        return self.sessions.expected_revenue()[0]  # type: ignore[attr-defined]

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        sim, names, numpy = self.sim, self.world.item_names, self.sessions.lane
        cart = ", ".join(names[np.flatnonzero(numpy(sim.in_cart)[0])][:10])
        size = int(numpy(sim.cart_size)[0])
        more = max(size - 10, 0)
        line = f"step {int(numpy(sim.steps)[0])}: cart ({size} items, "
        line += f"{float(numpy(sim.cart_value)[0]):.2f}) [{cart}{f', +{more}' if more else ''}]"
        if self._last is not None:
            accepted = int(self._last.accepted[0])
            line += f"; accepted {names[accepted]}" if accepted >= 0 else "; ignored"
        return line

    def _info(self, outcome: StepOutcome | None) -> dict[str, Any]:
        info = self.sessions.info(outcome)
        return {k: v[0].item() if v.ndim == 1 else v[0].copy() for k, v in info.items()}
