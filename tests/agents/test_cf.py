"""Collaborative filtering: catalogue mapping, known answers, beating random, bad arguments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from agent_cases import BEST, N_ITEMS, new_agent

from cartgym.agents import (
    CoOccurrenceAgent,
    MatrixFactorizationAgent,
    NotFittedError,
    PopularityAgent,
    RandomAgent,
)
from cartgym.agents.cf.neural import NeuralCFAgent
from cartgym.agents.logs import map_to_catalogue
from cartgym.data import Transactions, load_transactions

CF = ("popularity", "cooccurrence", "als", "neural")


def _strings(table: pd.DataFrame) -> pd.DataFrame:
    return table.astype({c: pd.StringDtype(na_value=np.nan) for c in table.columns})


def test_items_outside_the_catalogue_are_ignored_and_counted(best_world, best_logs):
    logs = map_to_catalogue(best_logs, best_world.item_ids)
    assert logs.report["lines_ignored"] == 6 and logs.report["items_ignored"] == 1
    assert logs.report["lines_in_catalogue"] == 900 and logs.report["baskets"] == 300
    assert logs.baskets.shape == (300, N_ITEMS) and logs.baskets.sum() == 900
    assert logs.user_counts.shape == (150, N_ITEMS)
    assert logs.user_counts[:, BEST].sum() == 300


def test_fit_takes_transactions_from_the_data_layer(best_world, best_logs, make_env, tmp_path):
    path = tmp_path / "logs.csv"
    best_logs.to_csv(path, index=False)
    transactions = load_transactions(
        path, user_col="user_id", basket_col="basket_id", item_col="item_id"
    )
    assert isinstance(transactions, Transactions)
    agent = PopularityAgent(make_env(best_world)).fit(transactions)
    assert agent.fit_report_["lines_ignored"] == 6
    assert np.argmax(agent.popularity_) == BEST


@pytest.mark.parametrize("name", CF)
def test_cf_recommends_the_best_item_and_beats_random(
    name, best_world, best_logs, make_env, mean_revenue
):
    env = make_env(best_world)
    agent = new_agent(name, env, seed=0).fit(best_logs)
    for seed in range(20):
        obs, _ = env.reset(seed=seed)
        if env.unwrapped.action_masks()[BEST]:
            assert agent.predict(obs, deterministic=True)[0] == BEST
    random = mean_revenue(RandomAgent(env, seed=0), env)
    assert mean_revenue(agent, env) > 1.5 * random


def test_cooccurrence_follows_the_cart(best_world, make_env):
    ids = best_world.item_ids
    rows = [("u", f"b{b}", str(ids[item])) for b in range(30) for item in (2, 5)]
    rows += [("v", f"c{b}", str(ids[item])) for b in range(50) for item in (3, 9)]
    logs = _strings(pd.DataFrame(rows, columns=["user_id", "basket_id", "item_id"]))
    env = make_env(best_world)
    layout = env.unwrapped.layout
    obs = np.zeros(layout.size, np.float32)
    obs[layout.cart.start + 2] = 1.0  # item 2 in the cart: 5 is its partner, 3 is more popular
    for measure in ("confidence", "lift"):
        for aggregate in ("sum", "max"):
            agent = CoOccurrenceAgent(env, measure=measure, aggregate=aggregate).fit(logs)
            assert agent.predict(obs, deterministic=True)[0] == 5
    assert PopularityAgent(env).fit(logs).predict(obs, deterministic=True)[0] == 3


def test_als_backends_agree_on_the_answer(best_world, best_logs, make_env):
    env = make_env(best_world)
    obs = next(o for seed in range(50) if (o := env.reset(seed=seed)[0])[BEST] == 0)
    numpy_agent = MatrixFactorizationAgent(env, factors=8, backend="numpy", seed=0).fit(best_logs)
    assert numpy_agent.backend_ == "numpy"
    pytest.importorskip("implicit")
    implicit_agent = MatrixFactorizationAgent(env, factors=8, backend="implicit", seed=0)
    implicit_agent.fit(best_logs)
    assert implicit_agent.backend_ == "implicit"
    assert implicit_agent.item_factors_.shape == numpy_agent.item_factors_.shape == (N_ITEMS, 8)
    masked = ~env.unwrapped.action_masks()
    for agent in (numpy_agent, implicit_agent):
        relevance = np.where(masked, -np.inf, agent.relevance(obs[None])[0])
        assert np.argmax(relevance) == BEST


def test_implicit_backend_without_the_package_names_the_extra(
    best_world, best_logs, make_env, monkeypatch
):
    import sys

    monkeypatch.setitem(sys.modules, "implicit.cpu.als", None)  # import fails
    agent = MatrixFactorizationAgent(make_env(best_world), factors=8, backend="implicit")
    with pytest.raises(ImportError, match=r'pip install "cartgym\[cf\]"'):
        agent.fit(best_logs)


def test_neural_cf_learns(best_world, best_logs, make_env):
    agent = NeuralCFAgent(make_env(best_world), hidden=32, epochs=8, seed=0).fit(best_logs)
    assert agent.losses_[-1] < agent.losses_[0]


def test_revenue_objective_weighs_by_line_value(best_world, best_logs, make_env):
    env = make_env(best_world)
    obs, _ = env.reset(seed=0)
    click = PopularityAgent(env).fit(best_logs)
    revenue = PopularityAgent(env, objective="revenue").fit(best_logs)
    np.testing.assert_allclose(
        revenue.scores(obs[None]), click.scores(obs[None]) * best_world.line_values
    )


def test_predict_before_fit_raises(best_world, make_env):
    env = make_env(best_world)
    obs, _ = env.reset(seed=0)
    with pytest.raises(NotFittedError, match="call fit"):
        PopularityAgent(env).predict(obs)


def test_logs_without_catalogue_items_raise(best_world, make_env):
    logs = _strings(pd.DataFrame({"user_id": ["u"], "basket_id": ["b"], "item_id": ["nope"]}))
    with pytest.raises(ValueError, match="no logged line"):
        PopularityAgent(make_env(best_world)).fit(logs)


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (PopularityAgent, {"objective": "profit"}),
        (CoOccurrenceAgent, {"measure": "jaccard"}),
        (CoOccurrenceAgent, {"aggregate": "mean"}),
        (CoOccurrenceAgent, {"min_count": 0}),
        (MatrixFactorizationAgent, {"factors": 0}),
        (MatrixFactorizationAgent, {"regularization": 0.0}),
        (MatrixFactorizationAgent, {"alpha": -1.0}),
        (MatrixFactorizationAgent, {"cart_weight": -1.0}),
        (MatrixFactorizationAgent, {"backend": "gpu"}),
        (NeuralCFAgent, {"hidden": 0}),
        (NeuralCFAgent, {"epochs": 0}),
        (NeuralCFAgent, {"learning_rate": 0.0}),
        (NeuralCFAgent, {"weight_decay": -1.0}),
    ],
)
def test_bad_arguments(cls, kwargs, best_world, make_env):
    with pytest.raises(ValueError):
        cls(make_env(best_world), **kwargs)
