"""When shoppers check out: a logit of the stop decision after each add, fitted on logged baskets.

Logs record baskets, not the order of their adds, so each basket is put in random orders,
as for the item model (:mod:`cartgym.calibrate.choice_fit`). After its k-th add a shopper
checks out (k = n, the basket's size) or goes on (k < n), with

    P(checkout) = sigmoid(a + b log(1 + k) + c log(cart value / typical value) - lambda IV)

where the typical value is the shopper's median logged basket value (their other baskets;
a new shopper gets the median over all baskets) and IV, the inclusive value of the item
logit, is the log of the summed choice weights of the items not yet in the cart. SHOPPER
(Ruiz, Athey & Blei 2020) is the case lambda = 1 with a checkout item; Guadagni & Little
(1987) is the nested form. The fit is statsmodels' ``Logit`` by maximum likelihood, with
standard errors clustered by basket (the decisions of one basket are not independent).

Restricted models are fitted beside the full one (:data:`STOP_MODELS`) for the held-out
comparison, with v0's fixed-size rule (:func:`fixed_size_hazard`) as the third reference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit, logsumexp

# restricted stop models (features beside the intercept), fitted for held-out comparisons
STOP_MODELS: dict[str, tuple[str, ...]] = {
    "full": ("log_size", "log_value_ratio", "inclusive_value"),
    "no_inclusive_value": ("log_size", "log_value_ratio"),
    "size_only": ("log_size",),
}


@dataclass(frozen=True)
class StopFitConfig:
    """Settings of the stop fit, each a named assumption with a default (docs/calibration.md).

    baskets: logged baskets used (a uniform subsample; all if fewer).
    orders: random orders of each basket (each a cluster of decisions).
    """

    baskets: int = 5000
    orders: int = 2

    def __post_init__(self) -> None:
        for name in ("baskets", "orders"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"StopFitConfig.{name} must be an int >= 1, got {value!r}")


@dataclass(frozen=True)
class StopDecisions:
    """One row per logged add: the cart after it, and whether the shopper then checked out."""

    cluster: np.ndarray  # (R,) basket x order, for clustered standard errors
    size: np.ndarray  # (R,) items in the cart after the add
    log_value_ratio: np.ndarray  # (R,) log(cart value / the shopper's typical basket value)
    inclusive_value: np.ndarray  # (R,) log of the summed weights of the items not in the cart
    checkout: np.ndarray  # (R,) 1 after a basket's last add

    def features(self, names: Sequence[str]) -> np.ndarray:
        """(R, 1 + len(names)) design matrix: a constant, then the named features."""
        columns = {
            "log_size": np.log1p(self.size),
            "log_value_ratio": self.log_value_ratio,
            "inclusive_value": self.inclusive_value,
        }
        return np.column_stack([np.ones(len(self.size))] + [columns[n] for n in names])


def stop_decisions(
    baskets: Sequence[np.ndarray],
    static: Callable[[int], np.ndarray],
    complement_rows: Callable[[int, np.ndarray], np.ndarray],
    typical: np.ndarray,
    line_values: np.ndarray,
    complement_weight: float,
    rng: np.random.Generator,
    orders: int = 1,
) -> StopDecisions:
    """The stop decisions of ``baskets`` (catalogue items of each), in ``orders`` random orders.

    ``static(b)`` is basket b's (M,) session-constant utility, ``complement_rows(b, items)``
    the (n, M) complement rows of its items, ``typical[b]`` its shopper's typical basket
    value; the utility after k adds is static + complement_weight / k x the summed rows of
    the cart, as in :class:`cartgym.sim.choice.ChoiceModel`.
    """
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("cluster", "size", "ratio", "iv")}
    cluster = 0
    for b, items in enumerate(baskets):
        if len(items) == 0:
            continue
        base, rows = static(b), complement_rows(b, items)
        for _ in range(orders):
            order = rng.permutation(len(items))
            cart = np.asarray(items)[order]
            k = np.arange(1, len(cart) + 1)
            utility = base + complement_weight / k[:, None] * np.cumsum(rows[order], axis=0)
            after, added = np.tril_indices(len(cart))  # item j is in the cart after add k >= j
            utility[after, cart[added]] = -np.inf
            parts["iv"].append(logsumexp(utility, axis=1))
            value = np.cumsum(line_values[cart])
            parts["ratio"].append(np.log(value / typical[b]))
            parts["size"].append(k)
            parts["cluster"].append(np.full(len(cart), cluster))
            cluster += 1
    size = np.concatenate(parts["size"]) if parts["size"] else np.zeros(0, int)
    ends = np.zeros(len(size), dtype=np.int8)
    last = np.cumsum([len(s) for s in parts["size"]]) - 1
    ends[last] = 1
    return StopDecisions(
        cluster=np.concatenate(parts["cluster"]) if parts["cluster"] else np.zeros(0, int),
        size=size,
        log_value_ratio=np.concatenate(parts["ratio"]) if parts["ratio"] else np.zeros(0),
        inclusive_value=np.concatenate(parts["iv"]) if parts["iv"] else np.zeros(0),
        checkout=ends,
    )


@dataclass(frozen=True)
class StopFit:
    """A fitted stop logit: coefficients by name (``const`` and the features), clustered SEs."""

    coefficients: dict[str, float]
    standard_errors: dict[str, float]
    log_likelihood_per_decision: float
    decisions: int
    clusters: int

    def probability(self, decisions: StopDecisions) -> np.ndarray:
        """(R,) P(checkout) of each decision under this model."""
        names = [n for n in self.coefficients if n != "const"]
        beta = np.array([self.coefficients["const"], *(self.coefficients[n] for n in names)])
        return expit(decisions.features(names) @ beta)

    def to_dict(self) -> dict[str, Any]:
        return {
            "coefficients": self.coefficients,
            "standard_errors": self.standard_errors,
            "log_likelihood_per_decision": self.log_likelihood_per_decision,
            "decisions": self.decisions,
            "clusters": self.clusters,
        }


def fit_stop_model(decisions: StopDecisions, features: Sequence[str]) -> StopFit:
    """Maximum-likelihood logit of checkout on ``features`` (statsmodels), SEs clustered by
    basket and order."""
    try:
        import statsmodels.api as sm
    except ImportError:  # pragma: no cover - the [calibrate] extra is missing
        raise ImportError(
            'fitting the stop model needs statsmodels: pip install "cartgym[calibrate]"'
        ) from None
    if len(decisions.size) == 0 or decisions.checkout.sum() == 0:
        raise ValueError("no logged stop decisions to fit the stop model on")
    result = sm.Logit(decisions.checkout, decisions.features(features)).fit(
        disp=0, cov_type="cluster", cov_kwds={"groups": decisions.cluster}
    )
    names = ["const", *features]
    return StopFit(
        coefficients={n: float(v) for n, v in zip(names, result.params, strict=True)},
        standard_errors={n: float(v) for n, v in zip(names, result.bse, strict=True)},
        log_likelihood_per_decision=float(result.llf) / len(decisions.size),
        decisions=len(decisions.size),
        clusters=len(np.unique(decisions.cluster)),
    )


def log_likelihood(probability: np.ndarray, decisions: StopDecisions) -> float:
    """Mean log-likelihood per decision of checkout probabilities (clipped away from 0, 1)."""
    p = np.clip(probability, 1e-12, 1 - 1e-12)
    y = decisions.checkout
    return float(np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def fixed_size_hazard(sizes: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """v0's rule as a stop model: a session replays a logged basket size, so the chance of
    stopping after the k-th add is P(N = k | N >= k) over the logged sizes ``sizes``
    (add-one smoothed, so no held-out decision gets probability 0)."""
    top = int(sizes.max()) + 1
    counts = np.bincount(sizes, minlength=top + 1).astype(float)
    at_least = counts[::-1].cumsum()[::-1]
    hazard = (counts + 1.0) / (at_least + 2.0)

    def probability(size: np.ndarray) -> np.ndarray:
        return hazard[np.minimum(size, top)]

    return probability


def basket_values(items: Any, line_values: np.ndarray) -> np.ndarray:
    """(B,) value of each basket of a baskets x items 0/1 matrix at the world's line values
    (the values the simulator adds up), so the fitted ratio means the same thing there."""
    return np.asarray(items @ line_values).ravel()


def user_basket_values(values: np.ndarray, users: np.ndarray, n_users: int) -> np.ndarray:
    """(N,) each user's median basket value; users without a basket get the overall median."""
    order = np.argsort(users, kind="stable")
    out = np.full(n_users, float(np.median(values)))
    bounds = np.flatnonzero(np.diff(users[order])) + 1
    for group in np.split(order, bounds):
        if len(group) and users[group[0]] >= 0:
            out[users[group[0]]] = float(np.median(values[group]))
    return out


def leave_out_typical(values: np.ndarray, users: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(len(rows),) for each basket of ``rows``, its user's median value over their *other*
    baskets (the overall median when they have none), so no basket predicts its own end."""
    overall = float(np.median(values))
    by_user: dict[int, np.ndarray] = {}
    for user in np.unique(users[rows]):
        by_user[int(user)] = np.flatnonzero(users == user)
    out = np.empty(len(rows))
    for i, row in enumerate(rows):
        others = by_user[int(users[row])]
        others = others[others != row]
        out[i] = float(np.median(values[others])) if len(others) else overall
    return out


def fit_world_stop(
    world: Any,
    log: Any,
    tastes: np.ndarray,
    purchases: Any,
    co_purchases: Any,
    config: StopFitConfig,
    rng: np.random.Generator,
) -> tuple[Any, np.ndarray, dict[str, Any]]:
    """(StopModel, user basket values, report) of a world fitted on ``log`` (a BasketLog).

    Each logged basket's shopper is scored as the item model is: the taste re-fitted
    without that basket (``tastes``, one row per basket), the history before it
    (``purchases``) and complements counted without it (``co_purchases``).
    """
    from cartgym.sim.choice import ChoiceModel  # the simulator's own utility, not a copy
    from cartgym.world import StopModel

    model = ChoiceModel(world)
    values = basket_values(log.items, world.line_values)
    users = log.users
    n_baskets, m = log.items.shape
    rows = np.arange(n_baskets)
    if n_baskets > config.baskets:
        rows = np.sort(rng.choice(n_baskets, config.baskets, replace=False))
    typical = leave_out_typical(values, users, rows)
    baskets = [log.items.indices[log.items.indptr[r] : log.items.indptr[r + 1]] for r in rows]
    every_item = np.arange(m)

    def static(b: int) -> np.ndarray:
        r = rows[b]
        history = purchases.log_count_before(
            np.full(m, users[r]), every_item, np.full(m, log.ranks[r])
        ).astype(np.float32)
        taste = tastes[r][None].astype(np.float32)
        return model.static_utilities(taste, history[None])[0].astype(np.float64)

    def complement_rows(b: int, items: np.ndarray) -> np.ndarray:
        members = np.zeros((len(items), m), dtype=bool)
        members[:, items] = True
        return co_purchases.rows_without_basket(items, members)

    decisions = stop_decisions(
        baskets,
        static,
        complement_rows,
        typical,
        world.line_values,
        model.complement_weight,
        rng,
        config.orders,
    )
    fits = {name: fit_stop_model(decisions, used) for name, used in STOP_MODELS.items()}
    c = fits["full"].coefficients
    stop = StopModel(
        intercept=c["const"],
        log_size=c["log_size"],
        log_value_ratio=c["log_value_ratio"],
        inclusive_value=-c["inclusive_value"],  # lambda: P(checkout) falls as IV rises
        typical_value=float(np.median(values)),
    )
    report = {
        "models": {name: fit.to_dict() for name, fit in fits.items()},
        "baskets": len(rows),
        "orders": config.orders,
        "estimator": "statsmodels Logit (maximum likelihood), SEs clustered by basket x order",
    }
    return stop, user_basket_values(values, users, world.n_users), report


def heldout_decisions(
    world: Any, log: Any, orders: int = 2, seed: int = 0, max_baskets: int | None = 5000
) -> StopDecisions:
    """The stop decisions of held-out baskets ``log`` (a BasketLog over ``world``'s items
    and users) under the world's fitted shoppers: tastes, history and complements as the
    simulator has them, users outside the world with the population's mean taste."""
    from cartgym.sim.choice import ChoiceModel

    model = ChoiceModel(world)
    rng = np.random.default_rng(seed)
    rows = np.arange(log.items.shape[0])
    if max_baskets is not None and len(rows) > max_baskets:
        rows = np.sort(rng.choice(len(rows), max_baskets, replace=False))
    users = log.users[rows]
    known = users >= 0
    values = world.user_basket_values
    typical = np.where(known, values[np.maximum(users, 0)], world.stop.typical_value)
    complement = world.complement
    baskets = [log.items.indices[log.items.indptr[r] : log.items.indptr[r + 1]] for r in rows]

    def static(b: int) -> np.ndarray:
        user = users[b]
        taste = world.user_factors[user] if user >= 0 else world.taste_mean
        history = (
            world.history[user].toarray().astype(np.float32)
            if user >= 0
            else np.zeros((1, world.n_items), np.float32)
        )
        return model.static_utilities(taste[None].astype(np.float32), history)[0].astype(float)

    def complement_rows(b: int, items: np.ndarray) -> np.ndarray:
        return complement[items].toarray().astype(np.float64)

    return stop_decisions(
        baskets,
        static,
        complement_rows,
        typical,
        world.line_values,
        model.complement_weight,
        rng,
        orders,
    )
