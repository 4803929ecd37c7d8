"""Off-policy values from logs (importance sampling) and the on-policy ground truth."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import gymnasium as gym
import numpy as np
from scipy.stats import norm

if TYPE_CHECKING:
    from minari import MinariDataset
from .collect import Logs, collect
from .policies import LoggingPolicy

CHUNK = 4096  # rows of (rows, M) probabilities computed at once


class Estimate(NamedTuple):
    """A value and its confidence interval."""

    value: float
    low: float
    high: float


def ips_value(
    data: Logs | MinariDataset,
    target: LoggingPolicy,
    *,
    gamma: float = 1.0,
    per_decision: bool = True,
    self_normalised: bool = False,
    confidence: float = 0.95,
    n_bootstrap: int = 0,
    seed: int | None = None,
) -> Estimate:
    """Importance-sampling estimate of ``target``'s expected return per session from logs.

    ``data``: :class:`Logs` or a Minari dataset from :func:`record_dataset`. With
    w_t = prod_{s <= t} target(a_s | x_s) / propensity_s, an episode scores
    sum_t gamma^t w_t r_t (``per_decision``, the default: a reward is weighted by the
    actions before it only) or w_T sum_t gamma^t r_t (trajectory-wise); the estimate is
    their mean over episodes. ``self_normalised`` divides by the mean weight instead of 1
    (at each step for per-decision, where an ended episode keeps its last weight): a little
    bias, often much less variance. The interval is normal over episodes (the delta method
    for the self-normalised ratio), or a percentile bootstrap over episodes with
    ``n_bootstrap`` resamples drawn from ``seed``.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if not 0 <= gamma <= 1:
        raise ValueError(f"gamma must be in [0, 1], got {gamma!r}")
    logs = data if isinstance(data, Logs) else Logs.from_dataset(data)
    mu, pi = logs.propensities, _chosen_probabilities(target, logs.observations, logs.actions)
    if not (np.isfinite(mu).all() and (mu > 0).all() and (mu <= 1 + 1e-9).all()):
        raise ValueError("every logged propensity must lie in (0, 1]")
    t = logs.step_index
    rows = np.repeat(np.arange(logs.n_episodes), logs.lengths)
    ratios = np.ones((logs.n_episodes, int(logs.lengths.max())))
    rewards = np.zeros_like(ratios)
    ratios[rows, t] = pi / mu
    rewards[rows, t] = logs.rewards * gamma ** t.astype(np.float64)
    weights = np.cumprod(ratios, axis=1)  # an ended episode keeps its last weight
    if not per_decision:
        weights, rewards = weights[:, -1:], rewards.sum(axis=1, keepdims=True)
    value, influence = _weighted_mean(weights, rewards, self_normalised)
    if n_bootstrap <= 0:
        return _normal(value, influence, confidence)
    rng = np.random.default_rng(seed)
    draws = [
        _weighted_mean(weights[i], rewards[i], self_normalised)[0]
        for i in rng.integers(logs.n_episodes, size=(n_bootstrap, logs.n_episodes))
    ]
    low, high = np.quantile(draws, [(1 - confidence) / 2, (1 + confidence) / 2])
    return Estimate(value, float(low), float(high))


def _chosen_probabilities(
    policy: LoggingPolicy, obs: np.ndarray, actions: np.ndarray
) -> np.ndarray:
    """(n,) probability of each logged action under ``policy``, in chunks of rows."""
    out = np.empty(len(actions))
    for i in range(0, len(actions), CHUNK):
        probs = policy.probabilities(obs[i : i + CHUNK])
        out[i : i + CHUNK] = probs[np.arange(len(probs)), actions[i : i + CHUNK]]
    if not ((out >= 0) & (out <= 1 + 1e-9)).all():
        raise ValueError("the target policy gave probabilities outside [0, 1]")
    return out


def _weighted_mean(
    weights: np.ndarray, rewards: np.ndarray, self_normalised: bool
) -> tuple[float, np.ndarray]:
    """(value, per-episode influence) of the (E, T) weighted rewards, plain or normalised."""
    terms = weights * rewards
    if not self_normalised:
        scores = terms.sum(axis=1)
        return float(scores.mean()), scores - scores.mean()
    a, b = terms.mean(axis=0), weights.mean(axis=0)
    b = np.where(b > 0, b, 1.0)  # no weight at t: a is 0 there too
    return float((a / b).sum()), ((terms - (a / b) * weights) / b).sum(axis=1)


def _normal(value: float, influence: np.ndarray, confidence: float) -> Estimate:
    n = len(influence)
    half = norm.ppf((1 + confidence) / 2) * (influence.std(ddof=1) / np.sqrt(n) if n > 1 else 0)
    return Estimate(value, float(value - half), float(value + half))


def on_policy_value(
    env: str | gym.Env,
    policy: LoggingPolicy,
    n_episodes: int,
    seed: int | None = None,
    *,
    gamma: float = 1.0,
    confidence: float = 0.95,
    num_envs: int = 16,
    **env_kwargs: Any,
) -> Estimate:
    """The mean return per session of ``policy`` run on ``env`` itself, with a normal interval.

    The ground truth for :func:`ips_value`: use the ``env_kwargs`` the logs were made with.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    returns = collect(env, policy, n_episodes, seed, num_envs=num_envs, **env_kwargs).returns(gamma)
    return _normal(float(returns.mean()), returns - returns.mean(), confidence)
