"""The stop model: decisions from logged baskets, the clustered logit fit, schema-2 worlds."""

from __future__ import annotations

import numpy as np
import pytest

from cartgym.calibrate.stop_fit import (
    STOP_MODELS,
    StopDecisions,
    StopFitConfig,
    fit_stop_model,
    fixed_size_hazard,
    leave_out_typical,
    log_likelihood,
    stop_decisions,
    user_basket_values,
)
from cartgym.world import ShopperWorld, WorldFileError, bundled_world_path


def _synthetic(n_baskets=3000, seed=0):
    """Decisions drawn from a known stop logit: 0.5 - 0.8 log(1 + k) + 1.2 ratio."""
    rng = np.random.default_rng(seed)
    cluster, size, ratio, iv, stop = [], [], [], [], []
    for b in range(n_baskets):
        k, typical = 0, rng.uniform(5, 20)
        while True:
            k += 1
            r = np.log(k * 2.0 / typical)
            p = 1 / (1 + np.exp(-(0.5 - 0.8 * np.log1p(k) + 1.2 * r)))
            done = rng.random() < p or k >= 60
            cluster.append(b), size.append(k), ratio.append(r), iv.append(rng.normal())
            stop.append(int(done))
            if done:
                break
    return StopDecisions(
        np.array(cluster), np.array(size), np.array(ratio), np.array(iv), np.array(stop)
    )


def test_the_fit_recovers_a_known_stop_logit_with_clustered_errors():
    decisions = _synthetic()
    fit = fit_stop_model(decisions, STOP_MODELS["full"])
    truth = {"const": 0.5, "log_size": -0.8, "log_value_ratio": 1.2, "inclusive_value": 0.0}
    for name, value in truth.items():
        assert abs(fit.coefficients[name] - value) < 4 * fit.standard_errors[name], name
    assert fit.clusters == 3000 and fit.decisions == len(decisions.size)
    p = fit.probability(decisions)
    assert log_likelihood(p, decisions) == pytest.approx(fit.log_likelihood_per_decision)


def test_decisions_follow_the_baskets_in_random_orders():
    m = 6
    baskets = [np.array([0, 2, 4]), np.array([1])]
    rng = np.random.default_rng(0)
    decisions = stop_decisions(
        baskets,
        lambda b: np.zeros(m),
        lambda b, items: np.zeros((len(items), m)),
        np.array([3.0, 1.0]),
        np.ones(m),
        1.0,
        rng,
        orders=2,
    )
    assert decisions.size.tolist() == [1, 2, 3, 1, 2, 3, 1, 1]
    assert decisions.checkout.tolist() == [0, 0, 1, 0, 0, 1, 1, 1]
    # value ratio: cumulative value (1 per item) over the typical value
    assert np.allclose(decisions.log_value_ratio[:3], np.log([1 / 3, 2 / 3, 1]))
    # the inclusive value counts the items not in the cart (utility 0: log of their count)
    assert np.allclose(decisions.inclusive_value[:3], np.log([5, 4, 3]))


def test_fixed_size_hazard_is_the_hazard_of_the_logged_sizes():
    hazard = fixed_size_hazard(np.array([1, 2, 2, 3]))
    assert hazard(np.array([1]))[0] == pytest.approx((1 + 1) / (4 + 2))
    assert hazard(np.array([3]))[0] == pytest.approx((1 + 1) / (1 + 2))


def test_typical_values_leave_the_basket_out():
    values = np.array([10.0, 20.0, 30.0, 5.0])
    users = np.array([0, 0, 0, 1])
    assert leave_out_typical(values, users, np.array([0, 3])).tolist() == [25.0, 15.0]
    assert user_basket_values(values, users, 3).tolist() == [20.0, 5.0, 15.0]


def test_bad_stop_fit_settings_are_refused():
    with pytest.raises(ValueError, match=r"StopFitConfig\.baskets must be an int >= 1"):
        StopFitConfig(baskets=0)
    empty = StopDecisions(*(np.zeros(0) for _ in range(5)))
    with pytest.raises(ValueError, match="no logged stop decisions"):
        fit_stop_model(empty, ("log_size",))


def test_schema_2_worlds_round_trip_and_keep_schema_1_fingerprints(tmp_path):
    v1 = ShopperWorld.load(bundled_world_path(schema=2))
    v0 = ShopperWorld.load(bundled_world_path(schema=1))
    assert (v1.schema_version, v0.schema_version) == (2, 1)
    path = v1.save(tmp_path / "v1.npz")
    again = ShopperWorld.load(path)
    assert again.fingerprint == v1.fingerprint and again.stop == v1.stop
    small = v1.top_items(50)
    assert small.stop is not None and small.user_basket_values.shape == (v1.n_users,)
    assert small.stop.typical_value < v1.stop.typical_value  # values shrink with the items


def test_a_damaged_stop_model_is_refused(tmp_path):
    import json
    import zipfile

    source = bundled_world_path(schema=2)
    target = tmp_path / "bad.npz"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            data = old.read(name)
            if name == "meta.json":
                meta = json.loads(data)
                meta["stop_model"]["intercept"] = float("nan")
                data = json.dumps(meta).encode()
            new.writestr(name, data)
    with pytest.raises(WorldFileError, match="stop model intercept must be finite"):
        ShopperWorld.load(target)
