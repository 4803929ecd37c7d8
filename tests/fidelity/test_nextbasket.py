"""Next-basket metrics, baselines and formats on hand-made cases; Ta-Feng cross-check."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from cartgym.data import DataError
from cartgym.fidelity import (
    evaluate_next_basket,
    g_topfreq,
    gp_topfreq,
    next_basket_scores,
    p_topfreq,
    read_keyset,
    read_sequences,
    sequences_from_transactions,
    sequences_to_transactions,
    shopper_ranker,
    task_from_sequences,
)
from cartgym.sim import ChoiceModel

TAFENG = (
    Path(
        os.environ.get(
            "CARTGYM_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"
        )
    )
    / "tafeng_nbr"
)


def target(*rows: list[int], n_items: int = 10) -> sp.csr_matrix:
    dense = np.zeros((len(rows), n_items))
    for r, items in enumerate(rows):
        dense[r, items] = 1
    return sp.csr_matrix(dense)


def test_scores_known_values():
    truth = target([0, 1, 2])
    ranking = np.array([[0, 5, 1, 6]])
    scores = next_basket_scores(ranking, truth, ks=(2, 4))
    assert scores["Recall@2"] == pytest.approx(1 / 3)
    assert scores["Recall@4"] == pytest.approx(2 / 3)
    ideal = 1 + 1 / np.log2(3) + 1 / np.log2(4)  # all three true items, not capped at k
    assert scores["NDCG@2"] == pytest.approx(1 / ideal)
    assert scores["NDCG@4"] == pytest.approx((1 + 1 / np.log2(4)) / ideal)
    assert scores["PHR@2"] == 1.0


def test_scores_average_over_users_and_ignore_padding():
    truth = target([0], [1, 2])
    ranking = np.array([[3, -1], [2, -1]])  # -1: no item
    scores = next_basket_scores(ranking, truth, ks=(2,))
    assert scores["Recall@2"] == pytest.approx((0 + 0.5) / 2)
    assert scores["PHR@2"] == pytest.approx(0.5)


def test_scores_reject_bad_rankings():
    with pytest.raises(ValueError, match="twice"):
        next_basket_scores(np.array([[1, 1]]), target([1]), ks=(2,))
    with pytest.raises(ValueError, match="length"):
        next_basket_scores(np.array([[1]]), target([1]), ks=(2,))
    with pytest.raises(ValueError, match="rankings for"):
        next_basket_scores(np.array([[1, 2]]), target([1], [2]), ks=(2,))


SEQUENCES = {
    # user a: history b, b, c (b twice), target: b, d
    "a": [["b", "c"], ["b"], ["b", "d"]],
    # user x: history e, c then c; target: e
    "x": [["e", "c"], ["c"], ["e"]],
    # a single basket: no history, skipped
    "s": [["b"]],
}


def test_task_from_sequences_last_basket_is_the_target():
    task = task_from_sequences(SEQUENCES)
    assert task.user_ids.tolist() == ["a", "x"]
    assert task.skipped == {"users with fewer than 2 baskets": 1}
    items = task.item_ids.tolist()
    assert sorted(items) == ["b", "c", "d", "e"]
    history = pd.DataFrame(task.history.toarray(), index=task.user_ids, columns=items)
    assert history.loc["a", ["b", "c", "d"]].tolist() == [2, 1, 0]
    assert history.loc["x", ["c", "e"]].tolist() == [2, 1]
    target_items = {u: {items[i] for i in task.target[r].indices} for r, u in enumerate(["a", "x"])}
    assert target_items == {"a": {"b", "d"}, "x": {"e"}}
    # G-TopFreq counts history baskets of all users: c 3, b 2, e 1, d 0
    assert dict(zip(items, task.popularity, strict=True)) == {"b": 2, "c": 3, "d": 0, "e": 1}


def test_task_counts_requested_users_that_cannot_be_evaluated():
    task = task_from_sequences(SEQUENCES, users=["x", "s", "nobody"])
    assert task.user_ids.tolist() == ["x"]
    assert task.skipped == {"users with fewer than 2 baskets": 1, "users not in the data": 1}


def test_baselines_on_a_small_task():
    task = task_from_sequences(SEQUENCES)
    names = task.item_ids

    def listed(ranking: np.ndarray) -> list[list[str]]:
        return [[str(names[i]) for i in row if i >= 0] for row in ranking]

    assert listed(g_topfreq(task, 3)) == [["c", "b", "e"], ["c", "b", "e"]]
    # P-TopFreq: own items by count, unpadded; x's c (2) before e (1)
    assert listed(p_topfreq(task, 3)) == [["b", "c"], ["c", "e"]]
    # GP-TopFreq: padded with G-TopFreq items not yet listed
    assert listed(gp_topfreq(task, 3)) == [["b", "c", "e"], ["c", "e", "b"]]


def test_p_topfreq_ties_first_purchase_first():
    task = task_from_sequences({"u": [["z"], ["y"], ["q"]], "v": [["y", "y2"], ["y"], ["q"]]})
    names = task.item_ids
    first = [str(names[i]) for i in p_topfreq(task, 2)[0]]
    assert first == ["z", "y"]  # equal counts: z was bought first, although y is more popular
    without_order = type(task)(
        task.item_ids, task.user_ids, task.history, task.target, task.popularity
    )
    assert [str(names[i]) for i in p_topfreq(without_order, 2)[0]] == ["y", "z"]


def test_evaluate_reports_every_baseline():
    result = evaluate_next_basket(task_from_sequences(SEQUENCES), ks=(1, 2))
    assert list(result.scores) == ["G-TopFreq", "P-TopFreq", "GP-TopFreq"]
    assert result.users == 2
    assert result.ties == "first purchase"
    assert set(result.scores["P-TopFreq"]) == {
        "Recall@1",
        "NDCG@1",
        "PHR@1",
        "Recall@2",
        "NDCG@2",
        "PHR@2",
    }
    # a: [b, c] hits b (1 of 2); x: [c, e] hits e at rank 2
    assert result.scores["P-TopFreq"]["Recall@2"] == pytest.approx((0.5 + 1.0) / 2)
    mean, low, high = result.difference("GP-TopFreq", "P-TopFreq", "Recall@2")
    assert mean == pytest.approx(0.0)
    assert low <= mean <= high
    with pytest.raises(ValueError, match="no user"):
        evaluate_next_basket(task_from_sequences(SEQUENCES, users=["s"]))


def test_shopper_ranker_follows_the_static_utility(tiny_world):
    world = tiny_world
    user = str(world.user_ids[0])
    every_item = [str(i) for i in world.item_ids]
    seq = {
        user: [[every_item[0]], [every_item[1]]],
        "new": [every_item, ["not in the catalogue"]],  # unknown user, brings every item
    }
    task = task_from_sequences(seq)
    ranking = shopper_ranker(world)(task, 5)
    model = ChoiceModel(world)
    history = np.zeros((2, world.n_items), dtype=np.float32)
    history[0, 0] = np.log1p(1.0)
    history[1, :] = np.log1p(1.0)
    tastes = np.stack([world.user_factors[0], world.taste_mean]).astype(np.float32)
    static = model.static_utilities(tastes, history)
    for row in range(2):
        expected = [every_item[i] for i in np.argsort(-static[row], kind="stable")[:5]]
        assert [str(task.item_ids[i]) for i in ranking[row]] == expected
    assert "not in the catalogue" not in task.item_ids[ranking].ravel().tolist()


def test_read_sequences_and_keyset(tmp_path):
    history = {"1": [[-1], [3, 4], [4], [-1]], "2": [[-1], [5], [-1]]}
    future = {"1": [[-1], [4, 6], [-1]], "2": [[-1], [3], [-1]]}
    with gzip.open(tmp_path / "h.json.gz", "wt") as f:
        json.dump(history, f)
    (tmp_path / "f.json").write_text(json.dumps(future))
    (tmp_path / "k.json").write_text(json.dumps({"item_num": 7, "train": [2], "test": [1]}))
    seq = read_sequences(tmp_path / "h.json.gz", tmp_path / "f.json")
    assert seq == {"1": [["3", "4"], ["4"], ["4", "6"]], "2": [["5"], ["3"]]}
    assert read_keyset(tmp_path / "k.json") == {"train": ["2"], "val": [], "test": ["1"]}
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(DataError, match="json object"):
        read_sequences(tmp_path / "bad.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(DataError, match=r"broken\.json"):
        read_sequences(tmp_path / "broken.json")
    (tmp_path / "two.json").write_text(json.dumps({"1": [[-1], [1], [2], [-1]]}))
    with pytest.raises(DataError, match="2 future baskets"):
        read_sequences(tmp_path / "h.json.gz", tmp_path / "two.json")


def test_sequences_round_trip_through_transactions(log):
    seq = sequences_from_transactions(log)
    assert sum(len(b) for b in seq.values()) == log.n_baskets
    table = log.table
    first_user = table["user_id"].iloc[0]
    times = table[table["user_id"] == first_user].groupby("basket_id")["timestamp"].min()
    assert len(seq[first_user]) == len(times)
    back = sequences_to_transactions(seq, "round trip")
    assert sequences_from_transactions(back) == {
        u: [sorted(b) for b in bs] for u, bs in seq.items()
    }


@pytest.mark.skipif(not TAFENG.is_dir(), reason="Ta-Feng NBR files not at hand")
def test_tafeng_baselines_match_the_reference_figures():
    """SOURCE.md's figures for keysets 0-4 (mean over folds), to the 4 decimals given."""
    seq = read_sequences(TAFENG / "tafeng_history.json.gz", TAFENG / "tafeng_future.json.gz")
    folds = []
    for fold in range(5):
        test = read_keyset(TAFENG / f"tafeng_keyset_{fold}.json.gz")["test"]
        folds.append(pd.DataFrame(evaluate_next_basket(task_from_sequences(seq, test)).scores))
    mean = sum(folds) / len(folds)
    assert mean.loc["Recall@10"].round(4).tolist() == [0.0813, 0.1072, 0.1212]
    assert mean.loc["NDCG@20"].round(4).tolist() == [0.0954, 0.1093, 0.1204]
    assert mean.loc["PHR@20"].round(4).tolist() == [0.3287, 0.4360, 0.4872]
