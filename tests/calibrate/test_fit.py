import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from cartgym.calibrate import FitConfig, fit
from cartgym.calibrate.choice_fit import fit_conditional_logit
from cartgym.calibrate.complementarity import CoPurchases, shrunk_pmi
from cartgym.calibrate.evaluate import heldout_log_likelihood
from cartgym.calibrate.factorization import _solve_side, implicit_als, leave_basket_out_tastes
from cartgym.data import load_online_retail


@pytest.fixture(scope="module")
def retail():
    return load_online_retail()


@pytest.fixture(scope="module")
def small_fit(retail):
    table = retail.table[retail.table["basket_id"].isin(retail.table["basket_id"].unique()[:3000])]
    config = FitConfig(n_items=120, als_iterations=5, max_choice_events=20_000)
    return table, config, fit(table, config)


def test_conditional_logit_recovers_known_coefficients():
    rng = np.random.default_rng(0)
    truth = np.array([1.5, -0.7, 0.3])
    x = rng.normal(size=(20_000, 8, 3))
    utility = x @ truth
    p = np.exp(utility - utility.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    chosen = (p.cumsum(1) < rng.random((len(p), 1))).sum(1)
    # put the chosen alternative first, as fit_conditional_logit expects
    order = np.argsort(np.arange(8)[None, :] != chosen[:, None], axis=1, kind="stable")
    x = np.take_along_axis(x, order[:, :, None], axis=1)
    result = fit_conditional_logit(x)
    assert np.all(np.abs(result.coefficients - truth) < 4 * result.standard_errors)
    assert np.all(result.standard_errors < 0.05)


def test_conditional_logit_fixes_constant_features_at_zero():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(500, 5, 2))
    x[:, :, 1] = 3.0  # no variation within a choice set: not identified
    result = fit_conditional_logit(x)
    assert result.coefficients[1] == 0.0 and np.isnan(result.standard_errors[1])
    with pytest.raises(ValueError, match="no choice events"):
        fit_conditional_logit(np.zeros((0, 3, 2)))


def test_als_half_step_is_the_exact_weighted_ridge_solution():
    counts = sp.random(60, 25, density=0.2, random_state=3, format="csr")
    counts.data = np.ceil(counts.data * 3)
    items = np.random.default_rng(0).normal(size=(25, 4))
    users = _solve_side(counts, items, 0.5, 4.0)
    dense = counts.toarray()
    for u in range(60):
        c = 1 + 4.0 * dense[u]
        a = items.T @ (c[:, None] * items) + 0.5 * np.eye(4)
        b = items.T @ (c * (dense[u] > 0))
        assert np.allclose(np.linalg.solve(a, b), users[u])


def test_leave_basket_out_tastes_match_a_refit_without_the_basket():
    rng = np.random.default_rng(2)
    baskets = sp.csr_matrix((rng.random((30, 12)) < 0.3).astype(float))
    owners = np.repeat(np.arange(10), 3)
    counts = sp.csr_matrix(np.add.reduceat(baskets.toarray(), np.arange(0, 30, 3)))
    _, items = implicit_als(counts, factors=3, regularization=0.5, alpha=2.0, iterations=3, rng=rng)
    tastes = leave_basket_out_tastes(counts, baskets, owners, items, regularization=0.5, alpha=2.0)
    for b in (0, 7, 29):
        without = counts.toarray()
        without[owners[b]] -= baskets[b].toarray()[0]
        direct = _solve_side(sp.csr_matrix(without), items, 0.5, 2.0)[owners[b]]
        assert np.allclose(tastes[b], direct)


def test_shrunk_pmi_known_values():
    # items 0 and 1 always together, item 2 never with them, item 3 everywhere
    rows = [[1, 1, 0, 1]] * 6 + [[0, 0, 1, 1]] * 6
    matrix = shrunk_pmi(sp.csr_matrix(np.array(rows, float)), shrinkage=2.0, top_k=3).toarray()
    expected_01 = np.log((6 + 2) / (6 * 6 / 12 + 2))
    expected_02 = np.log((0 + 2) / (6 * 6 / 12 + 2))
    assert matrix[0, 1] == pytest.approx(expected_01, rel=1e-6) and matrix[0, 1] > 0
    assert matrix[0, 2] == pytest.approx(expected_02, rel=1e-6) and matrix[0, 2] < 0
    assert np.allclose(matrix, matrix.T) and np.all(np.diag(matrix) == 0)
    assert matrix[0, 3] == 0.0  # lift exactly one


def test_pmi_rows_without_basket_remove_that_basket():
    rows = np.array([[1, 1, 0], [1, 1, 0], [1, 0, 1], [0, 1, 1]], float)
    co = CoPurchases(sp.csr_matrix(rows), shrinkage=1.0, top_k=2)
    members = np.array([[True, True, False]])
    left_out = co.rows_without_basket(np.array([0]), members)
    refit = CoPurchases(sp.csr_matrix(rows[1:]), shrinkage=1.0, top_k=2)
    assert left_out[0, 1] == pytest.approx(refit._spmi(np.array(1.0), np.array(2 * 2.0), 3))


def test_fit_small_world_is_deterministic_and_sane(small_fit):
    table, config, world = small_fit
    again = fit(table, config)
    assert again.fingerprint == world.fingerprint
    assert world.n_items == 120 and world.n_factors == config.factors
    c = world.coefficients
    assert c.taste > 0 and c.history > 0 and c.complement > 0  # the signs the logs support
    report = world.meta["report"]
    models = report["choice_models"]
    assert (
        models["full"]["log_likelihood_per_choice"]
        > models["popularity_only"]["log_likelihood_per_choice"]
    )
    assert report["catalogue"]["lines_kept"] + report["catalogue"][
        "lines_outside_catalogue"
    ] == len(table)
    assert world.session_sizes.min() >= config.min_session_size


def test_heldout_log_likelihood_beats_uniform(retail, small_fit):
    _, _, world = small_fit
    later = retail.table[
        retail.table["basket_id"].isin(retail.table["basket_id"].unique()[3000:3400])
    ]
    result = heldout_log_likelihood(world, later)
    per_choice = result["per_choice"]
    assert per_choice["full"] > per_choice["uniform"]
    assert result["choices"] > 0 and result["lines_outside_catalogue"] > 0
    with pytest.raises(ValueError, match="no held-out basket"):
        heldout_log_likelihood(world, later[~later["item_id"].isin(world.item_ids)])


def test_fit_config_rejects_bad_values():
    with pytest.raises(ValueError, match="factors"):
        FitConfig(factors=0)
    with pytest.raises(ValueError, match="n_items"):
        FitConfig(n_items=1)
    with pytest.raises(ValueError, match="unknown FitConfig keys"):
        FitConfig.from_dict({"factor": 8})


def test_fit_rejects_tiny_logs():
    table = pd.DataFrame({"user_id": ["u"], "basket_id": ["b"], "item_id": ["i"]}).astype("str")
    with pytest.raises(ValueError, match="2 or more"):
        fit(table)
