"""CartEnv: one shopper filling a cart, one recommendation (or slate) per add-to-cart."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.error import ResetNeeded

from cartgym.envs.build import build_sessions
from cartgym.envs.config import CartEnvConfig
from cartgym.envs.observation import ObservationLayout
from cartgym.sim.oracle import CheckoutView, OracleView
from cartgym.sim.simulator import StepOutcome


class CartEnv(gym.Env):
    """Recommend items to a simulated shopper while they fill a shopping cart.

    ## Description

    A shopper, drawn from the logged customers of a real retailer, fills a cart. At each
    add-to-cart moment the agent recommends one item (or a slate of ``slate_size`` items),
    or nothing. The shopper first decides whether to check out, by a logit fitted on
    logged baskets: P = sigmoid(V0 - lambda IV), V0 = a + b log(1 + cart size) +
    c log(cart value / the shopper's typical basket value), IV the log of the summed
    choice weights of the items not in the cart (shown ones boosted). If they go on, their
    next item is one draw from a conditional logit over the items not in the cart, fitted
    by maximum likelihood: utility = taste (matrix factorisation) + repeat buying +
    popularity + price + complementarity with the cart (shrunk PMI); a shown item's weight
    is multiplied by exp(salience + position effect). If the draw lands on a shown item
    the recommendation is taken; the shopper then also adds an item of their own with
    probability ``impulse`` (an impulse add). Otherwise they add their own item. Each
    step they may leave, losing the cart (``exit_hazard``, plus ``annoyance`` after an
    ignored recommendation). Every shopper has a counterfactual twin, shown nothing, who
    meets the same random draws: the incremental value of a session is exact.

    The response to being shown an item (salience, impulse, the shown items' weight in
    IV) cannot be identified from purchase logs; it is calibrated to field experiments
    (docs/calibration.md). ``dynamics="v0"`` (the CartRec-v0 ids) keeps v0's shoppers.

    ## Action Space

    ``slate_size == 1``: ``Discrete(M + 1)``: item i in [0, M) shows item i, ``M`` shows
    nothing. ``slate_size == K > 1``: ``MultiDiscrete([M + 1] * K)``; a slot holding ``M``
    is empty (all empty: nothing shown), a repeated item is shown once. Bundle envs:
    ``Discrete(C + 1)``, the last offer showing nothing. Items already in the cart are
    legal but masked by :meth:`action_masks` (such a recommendation is never taken);
    showing nothing is always allowed. Anything outside the action space raises
    ``ValueError``. (v0: ``Discrete(M)`` / ``MultiDiscrete([M] * K)`` / ``Discrete(C)``.)

    ## Observation Space

    ``Box(0, 1, (2M + 6,), float32)``: the cart (M entries, 1 for items in it), the
    shopper's logged purchase history (M entries, scaled log counts), then six scalars:
    cart size, cart value, last recommendation accepted, acceptance rate so far, ignored
    recommendations so far, and whether the shopper has a logged history. The layout is
    ``env.unwrapped.layout`` (:class:`~cartgym.envs.observation.ObservationEncoder` builds
    the same observations from logged carts). The shopper's taste, typical basket value
    and the twin are hidden.

    ## Rewards

    ``reward="basket_value"`` (default): the value of the cart (unit price x median
    quantity of each item), paid at checkout; 0 if the shopper leaves. ``"attributed"``:
    the line value of the items taken from recommendations, paid at checkout.
    ``"incremental"``: the basket value paid minus the twin's, paid when the session ends.
    ``"click"``: 1 per item taken from a recommendation. Every step's ``info`` carries:
    ``accepted`` (the first item taken, -1 for none), ``taken`` (every item taken from the
    slate, in order, -1 padded), ``accepted_count``, ``organic`` (the shopper's own item, -1
    for none), ``rec_revenue``, ``organic_revenue``, ``discount_cost``, ``cart_size``,
    ``cart_value``, ``basket_value`` (paid), ``checkout``, ``abandoned``; at a session's
    last step also ``twin_basket_value``, ``twin_basket_size``, ``twin_checkout``,
    ``session_taken`` and ``bought_anyway`` (taken items the twin carted too).

    ## Starting State

    A logged basket is drawn at random; its customer (taste, history, typical basket
    value) becomes the shopper. The cart starts with one item the shopper chose on their
    own. The twin starts identical.

    ## Episode End

    Terminated at checkout or when the shopper leaves (abandonment). Truncated after
    ``max_episode_steps`` (100 for the registered ids).

    ## Arguments

    * ``world``: ``"online_retail"`` (bundled, default), a path to a world file from
      ``cartgym fit``, or a :class:`~cartgym.world.ShopperWorld`. v1 reads schema-2
      worlds (with a stop model), v0 schema-1 worlds; the other raises ``ValueError``.
    * ``n_items``: keep only the world's ``n_items`` most popular items (default: all).
    * ``slate_size``: items recommended per step (default 1).
    * ``reward``: see Rewards (v0: ``"revenue"``, ``"click"`` or ``"basket_value"``).
    * ``salience``: log-odds bonus of a shown item (calibrated; v0: 2.0).
    * ``position_effects``: log-odds added to the salience per slate slot (default 0s).
    * ``impulse``: chance that a taken recommendation is an impulse add (calibrated).
    * ``shown_inclusive_value``: the weight of what shown items add to IV (calibrated).
    * ``inclusive_value``: lambda of the stop model (default: the world's fitted value).
    * ``exit_hazard``: per-step chance of leaving (default 0, buyers only; the Baymard
      calibration is ``CartRec-Abandon-v1``).
    * ``annoyance``: added chance of leaving after an ignored recommendation (default 0;
      v0's patience mean of 10 is ``CartRec-Patience-v1``).
    * ``patience_mean``: v0 only, mean ignored recommendations tolerated (default 10).
    * ``new_shopper_rate``: share of shoppers with no history, taste from the fitted
      population Gaussian (default 0).
    * ``population``: which logged users arrive: ``"all"``, ``"train"``,
      ``"validation"`` or ``"test"`` (the fixed split of :func:`cartgym.data.user_groups`,
      3/5, 1/5, 1/5 of users by a hash of the id; ``"eval"`` is v0's name of ``"test"``).
      Agents learn on train, every choice is made on validation, results come from test.
    * ``response``: ``"single"`` (default: at most one item of a slate is taken) or
      ``"multi"`` (any subset, by sequential picks with the cart updated between picks;
      needs ``slate_size >= 2``).
    * ``show_recommendations``: v0 only: ``False`` runs v0's no-recommendation control
      (in v1 showing nothing is an action).
    * ``bundle_candidates``: offer bundles instead of items: ``Discrete(C)`` (v1: C + 1)
      with C = ``bundle_candidates`` x ``len(bundle_discounts)``; each action is one of the
      bundles (2-3 complementary items, see :mod:`cartgym.envs.bundles`) most
      complementary to the cart, at one of ``bundle_discounts`` (default 0, 10%, 20%). The
      shopper takes the whole bundle or nothing; the observation gains 9 features per
      action (items, value, discount, lift with the cart, lift within, popularity,
      available: see ``cartgym.envs.observation.CANDIDATE_FEATURES``;
      ``env.unwrapped.layout`` is then a ``BundleLayout`` whose ``candidates`` slice holds
      them); masks hide bundles that overlap the cart.
    * ``discount_sensitivity``: in bundle envs a discount d multiplies the bundle's weight
      by (1 - d) ** -discount_sensitivity (default 1.0, an assumption).
    * ``render_mode``: ``None`` or ``"ansi"``.
    * ``backend``: ``"numpy"`` (default) or ``"torch"``; ``device``: ``"auto"`` (CUDA when
      present), ``"cpu"`` or ``"cuda"`` (torch only). The dynamics are the same code.

    The arguments but ``render_mode`` are one frozen dataclass,
    :class:`~cartgym.envs.config.CartEnvConfig` (``env.unwrapped.config``; the dynamics'
    assumptions are its ``sim`` field, a :class:`~cartgym.sim.config.SimConfig`), shared
    with the vector env; an unknown or bad argument raises ``ValueError`` naming it and
    the allowed range.

    ## Version History

    * v1: the checkout choice replaces v0's replayed basket size; leaving (exit hazard,
      annoyance) replaces patience; rewards are paid at checkout; showing nothing is an
      action; every shopper has a counterfactual twin; the response to a shown item is
      calibrated to field experiments (salience 2.0 in v0).
    * v0: initial release (the CartRec-v0 ids, kept for reproducibility).

    ## Example

    >>> import gymnasium as gym, cartgym
    >>> env = gym.make("CartRec-v1")
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape, env.action_space
    ((2006,), Discrete(1001))
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
        self.catalogue = self.sessions.catalogue  # what agents may read of the shop
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

    def oracle_view(self) -> OracleView | CheckoutView:
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
