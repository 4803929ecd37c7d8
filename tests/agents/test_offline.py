"""Offline data out: logging policies, logs and Minari datasets, importance-sampling values."""

from __future__ import annotations

import dataclasses
import sys

import gymnasium as gym
import numpy as np
import pytest
from scipy.stats import chisquare

import cartgym  # noqa: F401
from cartgym.agents.offline import (
    EpsilonGreedyPolicy,
    Logs,
    SoftmaxPolicy,
    StochasticPolicy,
    UniformPolicy,
    collect,
    ips_value,
    on_policy_value,
    record_dataset,
)
from cartgym.agents.offline.datasets import INSTALL_HINT
from cartgym.agents.protocol import Agent

ENV_ID = "CartRec-v0"
WORLD = {"n_items": 20, "reward": "click"}  # clicks: values not dominated by a few prices
M = WORLD["n_items"]


class RepeatPurchases(Agent):
    """Scores items by the shopper's logged purchases (the observation's history block)."""

    def scores(self, obs: np.ndarray, explore: bool = False) -> np.ndarray:
        return np.asarray(obs)[:, self.layout.history].astype(np.float64)


class Fixed(StochasticPolicy):
    """The same probabilities for every observation (for hand-computed estimates)."""

    def __init__(self, probs: list[float]):
        self.probs = np.asarray(probs)
        self.n_actions = len(probs)

    def probabilities(self, obs: np.ndarray) -> np.ndarray:
        return np.tile(self.probs, (len(obs), 1))


@pytest.fixture(scope="module")
def env() -> gym.Env:
    return gym.make(ENV_ID, **WORLD)


@pytest.fixture(scope="module")
def small_logs(env: gym.Env) -> Logs:
    return collect(ENV_ID, UniformPolicy(env), 200, seed=3, keep_probabilities=True, **WORLD)


def _policies(env: gym.Env) -> dict[str, StochasticPolicy]:
    return {
        "uniform": UniformPolicy(env),
        "epsilon_greedy": EpsilonGreedyPolicy(RepeatPurchases(env), epsilon=0.3),
        "softmax": SoftmaxPolicy(RepeatPurchases(env), temperature=0.3),
    }


@pytest.mark.parametrize("name", ["uniform", "epsilon_greedy", "softmax"])
def test_probabilities_are_distributions_over_items_not_in_the_cart(env, small_logs, name):
    obs = small_logs.observations[:300]
    probs = _policies(env)[name].probabilities(obs)
    in_cart = obs[:, :M] > 0.5
    assert probs.shape == (len(obs), M)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert (probs[in_cart] == 0).all() and (probs[~in_cart] > 0).all()


def test_probabilities_follow_their_formulas(env, small_logs):
    obs = small_logs.observations[:300]
    n_allowed = (obs[:, :M] <= 0.5).sum(axis=1, keepdims=True)
    allowed = obs[:, :M] <= 0.5
    np.testing.assert_allclose(UniformPolicy(env).probabilities(obs), allowed / n_allowed)
    agent = RepeatPurchases(env)
    greedy = agent.predict(obs, deterministic=True)[0]
    probs = EpsilonGreedyPolicy(agent, epsilon=0.3).probabilities(obs)
    expected = 0.3 * allowed / n_allowed
    expected[np.arange(len(obs)), greedy] += 0.7
    np.testing.assert_allclose(probs, expected)
    weights = np.where(allowed, np.exp(agent.scores(obs) / 0.5), 0.0)
    np.testing.assert_allclose(
        SoftmaxPolicy(agent, 0.5).probabilities(obs), weights / weights.sum(1, keepdims=True)
    )


def test_act_samples_from_probabilities(env, small_logs):
    """Chi-squared: 20 000 draws on one observation follow probabilities()."""
    policy = SoftmaxPolicy(RepeatPurchases(env), temperature=0.3)
    obs = np.repeat(small_logs.observations[1:2], 20_000, axis=0)
    actions, propensities = policy.act(obs, np.random.default_rng(0))
    probs = policy.probabilities(obs[:1])[0]
    np.testing.assert_allclose(propensities, probs[actions])
    counts = np.bincount(actions, minlength=M)
    assert counts[probs == 0].sum() == 0
    keep = probs > 0
    assert chisquare(counts[keep], probs[keep] * len(obs)).pvalue > 1e-3


def test_bad_arguments(env):
    agent = RepeatPurchases(env)
    for epsilon in (-0.1, 1.5):
        with pytest.raises(ValueError, match="epsilon"):
            EpsilonGreedyPolicy(agent, epsilon=epsilon)
    for temperature in (0.0, -1.0, np.inf):
        with pytest.raises(ValueError, match="temperature"):
            SoftmaxPolicy(agent, temperature=temperature)
    for env_id in ("CartRecSlate-v0", "CartRecBundle-v0"):
        with pytest.raises(ValueError, match="Discrete"):
            UniformPolicy(gym.make(env_id, n_items=M))
    policy = UniformPolicy(env)
    with pytest.raises(ValueError, match="n_episodes"):
        collect(ENV_ID, policy, 0, **WORLD)
    with pytest.raises(ValueError, match="keyword arguments"):
        collect(env, policy, 5, n_items=M)
    with pytest.raises(ValueError, match="actions"):
        collect(ENV_ID, policy, 5, n_items=30)
    with pytest.raises(ValueError, match="confidence"):
        ips_value(collect(env, policy, 5, seed=0), policy, confidence=1.0)


def test_logs_hold_episodes_in_order(env, small_logs):
    logs = small_logs
    ends = np.cumsum(logs.lengths) - 1
    assert logs.n_episodes == 200 and logs.lengths.min() >= 1
    assert (logs.terminations | logs.truncations)[ends].all()
    assert not np.delete(logs.terminations | logs.truncations, ends).any()
    first = logs.observations[ends - logs.lengths + 1]
    assert (first[:, :M].sum(axis=1) == 1).all()  # a session starts with one item in the cart
    assert (logs.reset_infos["cart_size"] == 1).all() and (logs.reset_infos["accepted"] == -1).all()
    np.testing.assert_array_equal(logs.rewards, logs.infos["accepted"] >= 0)  # click reward
    probs = logs.probabilities
    assert probs is not None
    np.testing.assert_allclose(probs[np.arange(len(probs)), logs.actions], logs.propensities)
    np.testing.assert_allclose(logs.propensities, 1 / (logs.observations[:, :M] <= 0.5).sum(axis=1))


def test_collect_is_repeatable_on_a_single_env_too(env):
    policy = UniformPolicy(env)
    a, b = (collect(env, policy, 30, seed=1) for _ in range(2))
    np.testing.assert_array_equal(a.actions, b.actions)
    np.testing.assert_array_equal(a.observations, b.observations)
    c = collect(ENV_ID, policy, 30, seed=1, num_envs=4, **WORLD)
    np.testing.assert_array_equal(
        c.actions, collect(ENV_ID, policy, 30, 1, num_envs=4, **WORLD).actions
    )
    assert set(a.infos) == set(c.infos) >= {"accepted", "rec_revenue", "checkout", "abandoned"}


def test_estimators_by_hand():
    """Two actions, two episodes; target (0.8, 0.2), logged propensities 0.5."""
    logs = Logs(
        observations=np.zeros((3, 4), dtype=np.float32),
        actions=np.array([0, 1, 0]),
        rewards=np.array([1.0, 2.0, 3.0]),
        propensities=np.full(3, 0.5),
        terminations=np.array([False, True, True]),
        truncations=np.zeros(3, dtype=bool),
        lengths=np.array([2, 1]),
        last_observations=np.zeros((2, 4), dtype=np.float32),
        infos={},
        reset_infos={},
    )
    target = Fixed([0.8, 0.2])
    # weights: episode 0: 1.6, then 1.6 * 0.4 = 0.64; episode 1: 1.6 (kept at t = 1)
    per_decision = (1.6 * 1 + 0.64 * 2 * 0.9 + 1.6 * 3) / 2
    assert ips_value(logs, target, gamma=0.9).value == pytest.approx(per_decision)
    trajectory = (0.64 * (1 + 0.9 * 2) + 1.6 * 3) / 2
    value = ips_value(logs, target, gamma=0.9, per_decision=False).value
    assert value == pytest.approx(trajectory)
    normalised = (1.6 * 1 + 1.6 * 3) / 3.2 + (0.64 * 2) / (0.64 + 1.6)
    assert ips_value(logs, target, self_normalised=True).value == pytest.approx(normalised)
    sn_trajectory = (0.64 * 3 + 1.6 * 3) / (0.64 + 1.6)
    value = ips_value(logs, target, per_decision=False, self_normalised=True).value
    assert value == pytest.approx(sn_trajectory)
    with pytest.raises(ValueError, match="propensit"):
        ips_value(dataclasses.replace(logs, propensities=np.array([0.5, 0.0, 0.5])), target)


def test_logging_policy_as_target_gives_the_logged_mean(env, small_logs):
    mean = small_logs.returns().mean()
    for self_normalised in (False, True):
        estimate = ips_value(small_logs, UniformPolicy(env), self_normalised=self_normalised)
        assert estimate.value == pytest.approx(mean)
    boot = ips_value(small_logs, UniformPolicy(env), n_bootstrap=300, seed=0)
    normal = ips_value(small_logs, UniformPolicy(env))
    assert boot.low < mean < boot.high
    assert boot.high - boot.low == pytest.approx(normal.high - normal.low, rel=0.25)


# --- the measured check: IS from random logs against the target's on-policy value ----------

N_LOGGED, N_TRUE = 5000, 50_000


def _se(estimate) -> float:
    return (estimate.high - estimate.low) / (2 * 1.959964)


def agrees(estimate, truth, logging_value) -> bool:
    """The IS estimate agrees with the on-policy truth, and says something.

    1. |IS - truth| <= 1.96 * sqrt(se_IS^2 + se_truth^2): the difference lies within its
       95% interval (both values carry Monte-Carlo error; the truth's is ~4x smaller);
    2. the IS 95% interval lies above the logging policy's own value (upper end of its
       interval), so the check can tell the target from the policy that made the logs.
    """
    close = abs(estimate.value - truth.value) <= 1.959964 * np.hypot(_se(estimate), _se(truth))
    return bool(close and estimate.low > logging_value.high)


@pytest.fixture(scope="module")
def measured(env):
    logging_policy = UniformPolicy(env)
    target = SoftmaxPolicy(RepeatPurchases(env), temperature=0.3)
    logs = collect(ENV_ID, logging_policy, N_LOGGED, seed=0, num_envs=64, **WORLD)
    truth = on_policy_value(ENV_ID, target, N_TRUE, seed=1, num_envs=256, **WORLD)
    logging_value = on_policy_value(ENV_ID, logging_policy, N_TRUE, seed=2, num_envs=256, **WORLD)
    return logs, target, truth, logging_value


@pytest.mark.parametrize("self_normalised", [False, True])
def test_ips_estimate_from_random_logs_matches_the_on_policy_value(measured, self_normalised):
    logs, target, truth, logging_value = measured
    estimate = ips_value(logs, target, self_normalised=self_normalised)
    print(f"\nIS {estimate}\ntruth {truth}\nlogging policy {logging_value}")
    assert agrees(estimate, truth, logging_value)


def _wrong_propensities(logs: Logs, target: StochasticPolicy, kind: str) -> Logs:
    if kind == "cart_mask_ignored":  # 1/M instead of 1/#items not in the cart
        return dataclasses.replace(logs, propensities=np.full(len(logs.actions), 1 / M))
    # the target's own probabilities: every ratio is 1, IS returns the logging policy's value
    rows = np.arange(len(logs.actions))
    return dataclasses.replace(
        logs, propensities=target.probabilities(logs.observations)[rows, logs.actions]
    )


@pytest.mark.parametrize("kind", ["cart_mask_ignored", "target_probabilities"])
def test_the_check_fails_with_wrong_propensities(measured, kind):
    logs, target, truth, logging_value = measured
    estimate = ips_value(_wrong_propensities(logs, target, kind), target)
    assert not agrees(estimate, truth, logging_value)


# --- SB3 models --------------------------------------------------------------------------


def test_sb3_policies_give_the_models_distributions(small_logs):
    th = pytest.importorskip("torch")
    pytest.importorskip("sb3_contrib")
    from cartgym.agents.offline import SB3Policy
    from cartgym.agents.sb3 import make_model, make_sb3_vec_env

    obs = small_logs.observations[:50]
    in_cart = obs[:, :M] > 0.5
    venv = make_sb3_vec_env(ENV_ID, n_envs=2, seed=0, **WORLD)
    for algorithm in ("ppo", "a2c"):
        model = make_model(algorithm, venv, features="mlp", seed=0, device="cpu")
        probs = SB3Policy(model).probabilities(obs)
        actions = np.random.default_rng(0).integers(M, size=len(obs))
        actions = np.where(in_cart[np.arange(len(obs)), actions], probs.argmax(1), actions)
        obs_tensor, _ = model.policy.obs_to_tensor(obs)
        with th.no_grad():
            _, log_prob, _ = model.policy.evaluate_actions(obs_tensor, th.as_tensor(actions))
        np.testing.assert_allclose(
            probs[np.arange(len(obs)), actions], np.exp(log_prob.numpy()), rtol=1e-5
        )
        assert (probs[in_cart] == 0).all()
        mixed = SB3Policy(model, epsilon=0.5).probabilities(obs)
        uniform = ~in_cart / (~in_cart).sum(axis=1, keepdims=True)
        np.testing.assert_allclose(mixed, 0.5 * probs + 0.5 * uniform)
    model = make_model("dqn", venv, features="mlp", seed=0, device="cpu")
    probs = SB3Policy(model, epsilon=0.2).probabilities(obs)
    greedy = model.predict(obs, deterministic=True)[0]
    n_allowed = (~in_cart).sum(axis=1)
    np.testing.assert_allclose(probs[np.arange(len(obs)), greedy], 0.8 + 0.2 / n_allowed)
    assert (probs[in_cart] == 0).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)


# --- Minari --------------------------------------------------------------------------------


def test_minari_dataset_round_trip(env, tmp_path, monkeypatch):
    minari = pytest.importorskip("minari")
    policy = EpsilonGreedyPolicy(RepeatPurchases(env), epsilon=0.5)
    dataset = record_dataset(
        ENV_ID,
        policy,
        60,
        "cartrec/greedy-v0",
        seed=4,
        root=tmp_path,
        keep_probabilities=True,
        **WORLD,
    )
    logs = collect(ENV_ID, policy, 60, seed=4, keep_probabilities=True, **WORLD)
    assert dataset.total_episodes == 60 and dataset.total_steps == len(logs.actions)
    episode = next(dataset.iterate_episodes())
    assert len(episode.infos["propensity"]) == len(episode.actions) + 1
    assert np.isnan(episode.infos["propensity"][0])
    assert episode.infos["probabilities"].shape == (len(episode.actions) + 1, M)
    assert {"accepted", "rec_revenue", "checkout", "cart_size"} <= set(episode.infos)
    loaded = Logs.from_dataset(dataset)
    for field in dataclasses.fields(Logs):
        a, b = getattr(logs, field.name), getattr(loaded, field.name)
        if isinstance(a, dict):
            assert a.keys() == b.keys()
            for key in a:
                np.testing.assert_array_equal(a[key], b[key])
        else:
            np.testing.assert_array_equal(a, b)
    target = SoftmaxPolicy(RepeatPurchases(env), temperature=0.3)
    assert ips_value(dataset, target) == ips_value(logs, target)
    assert dataset.recover_environment().spec.kwargs == WORLD
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    assert minari.load_dataset("cartrec/greedy-v0").total_episodes == 60


def test_missing_minari_names_the_extra(env, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "minari", None)
    with pytest.raises(ImportError, match=r'pip install "cartgym\[offline\]"'):
        record_dataset(ENV_ID, UniformPolicy(env), 2, "cartrec/x-v0", root=tmp_path, **WORLD)
    assert INSTALL_HINT == 'pip install "cartgym[offline]"'
