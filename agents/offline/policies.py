"""Logging policies that know their action probabilities (propensities)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Protocol

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import VectorEnv

from ..protocol import Agent, bind

if TYPE_CHECKING:
    pass


def _n_items(source: Any) -> int:
    """M of a Discrete(M) item environment, agent or SB3 model; ValueError for anything else."""
    space: Any
    if isinstance(source, Agent):
        n = source.n_items
        space = spaces.Discrete(n) if source.slate_size == 1 else None
    elif isinstance(source, (gym.Env, VectorEnv)):
        n = bind(source)[1].n_items
        core = source.unwrapped
        space = getattr(core, "single_action_space", core.action_space)
    else:  # an SB3 model: observation = cart (M), history (M), six scalars
        n, space = (int(np.prod(source.observation_space.shape)) - 6) // 2, source.action_space
    if not isinstance(space, spaces.Discrete) or int(space.n) != n:
        raise ValueError(
            "offline logging supports Discrete(M) item environments only (one item per step, "
            f"no slates or bundles), got action space {space}"
        )
    return n


def allowed_items(obs: np.ndarray, n_items: int) -> np.ndarray:
    """(B, M) True for items not in the cart; every item where the cart holds all of them."""
    allowed = np.asarray(obs)[:, :n_items] <= 0.5
    allowed[~allowed.any(axis=1)] = True
    return allowed


def sample(probabilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(B,) one action per row of (B, A) probabilities, by inversion; never a 0-probability one."""
    cdf = np.cumsum(probabilities, axis=1)
    cdf /= cdf[:, -1:]
    return (cdf <= rng.random((len(cdf), 1))).sum(axis=1)


class LoggingPolicy(Protocol):
    """A stochastic policy that knows its action probabilities."""

    n_actions: int

    def probabilities(self, obs: np.ndarray) -> np.ndarray:
        """(B, A) probability of each action for (B, D) observations; rows sum to 1."""
        ...

    def act(self, obs: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(B,) actions drawn with ``rng`` and (B,) their probabilities (propensities)."""
        ...


class StochasticPolicy(ABC):
    """A :class:`LoggingPolicy` that samples from :meth:`probabilities`: define only that."""

    n_actions: int

    @abstractmethod
    def probabilities(self, obs: np.ndarray) -> np.ndarray:
        """(B, A) probability of each action for (B, D) observations; rows sum to 1."""

    def act(self, obs: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(B,) actions drawn with ``rng`` and (B,) their probabilities (propensities)."""
        probs = self.probabilities(np.atleast_2d(obs))
        actions = sample(probs, rng)
        return actions, probs[np.arange(len(probs)), actions]

    def __repr__(self) -> str:
        settings = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in settings.items())})"


class UniformPolicy(StochasticPolicy):
    """A uniformly random item among those not in the cart: 1 / #allowed each."""

    def __init__(self, env: gym.Env | VectorEnv):
        self.n_actions = _n_items(env)

    def probabilities(self, obs: np.ndarray) -> np.ndarray:
        allowed = allowed_items(obs, self.n_actions)
        return allowed / allowed.sum(axis=1, keepdims=True)


class EpsilonGreedyPolicy(StochasticPolicy):
    """The agent's deterministic ``predict`` with probability 1 - epsilon, else a random item.

    Probabilities: epsilon / #allowed on every item not in the cart, plus 1 - epsilon on the
    agent's choice. ``agent``: a cartgym agent or an SB3 model whose deterministic
    ``predict`` depends on the observation only (not an oracle reading the simulator).
    """

    def __init__(self, agent: Any, epsilon: float = 0.1):
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon!r}")
        self.agent, self.epsilon = agent, float(epsilon)
        self.n_actions = _n_items(agent)

    def probabilities(self, obs: np.ndarray) -> np.ndarray:
        greedy = np.asarray(self.agent.predict(obs, deterministic=True)[0]).reshape(-1)
        return _epsilon_greedy(greedy, allowed_items(obs, self.n_actions), self.epsilon)


def _epsilon_greedy(greedy: np.ndarray, allowed: np.ndarray, epsilon: float) -> np.ndarray:
    probs = epsilon * allowed / allowed.sum(axis=1, keepdims=True)
    probs[np.arange(len(probs)), greedy] += 1.0 - epsilon
    return probs


class SoftmaxPolicy(StochasticPolicy):
    """Items not in the cart with probability proportional to exp(score / temperature).

    ``agent``: a cartgym agent; its ``scores(obs)`` (exploration off) are used. A high
    temperature tends to uniform, a low one to the agent's greedy choice.
    """

    def __init__(self, agent: Agent, temperature: float = 1.0):
        if not (np.isfinite(temperature) and temperature > 0):
            raise ValueError(f"temperature must be a positive number, got {temperature!r}")
        self.agent, self.temperature = agent, float(temperature)
        self.n_actions = _n_items(agent)

    def probabilities(self, obs: np.ndarray) -> np.ndarray:
        allowed = allowed_items(obs, self.n_actions)
        scores = np.asarray(self.agent.scores(obs), dtype=np.float64) / self.temperature
        scores = np.where(allowed & ~np.isnan(scores), scores, -np.inf)
        top = scores.max(axis=1, keepdims=True)
        weights = np.exp(scores - np.where(np.isfinite(top), top, 0.0))
        bad = ~np.isfinite(weights).all(axis=1) | (weights.sum(axis=1) <= 0)
        weights[bad] = allowed[bad]  # no usable score: uniform over the allowed items
        return weights / weights.sum(axis=1, keepdims=True)


class SB3Policy(StochasticPolicy):
    """The action distribution of a Stable-Baselines3 model on a Discrete(M) item env.

    Actor-critic models (PPO, A2C, MaskablePPO): the policy's categorical distribution
    (``policy.get_distribution(obs).distribution.probs``; cartgym's masked policies give 0
    to items in the cart), mixed with a uniform item not in the cart with weight
    ``epsilon`` (default 0). Q-learning models (DQN, QR-DQN): epsilon-greedy around the
    deterministic prediction, with ``epsilon`` (default: the model's current
    ``exploration_rate``, 0 before training) spread over the items not in the cart for
    cartgym's ``MaskedDQN``/``MaskedQRDQN``, over all items for SB3's own, as their
    ``predict`` does.
    """

    def __init__(self, model: Any, epsilon: float | None = None):
        self.model = model
        self.n_actions = _n_items(model)
        self.actor_critic = hasattr(model.policy, "get_distribution")
        if epsilon is None:
            epsilon = 0.0 if self.actor_critic else float(model.exploration_rate)
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon!r}")
        self.epsilon = float(epsilon)
        from ..sb3.policies import MaskedDQN, MaskedQRDQN

        self._masked_exploration = isinstance(model, (MaskedDQN, MaskedQRDQN))

    def probabilities(self, obs: np.ndarray) -> np.ndarray:
        import torch as th

        obs = np.asarray(obs, dtype=np.float32)
        if not self.actor_critic:
            greedy = np.asarray(self.model.policy.predict(obs, deterministic=True)[0])
            allowed = allowed_items(obs, self.n_actions)
            if not self._masked_exploration:
                allowed = np.ones_like(allowed)
            return _epsilon_greedy(greedy.reshape(-1), allowed, self.epsilon)
        obs_tensor, _ = self.model.policy.obs_to_tensor(obs)
        with th.no_grad():
            probs = self.model.policy.get_distribution(obs_tensor).distribution.probs
        probs = probs.cpu().numpy().astype(np.float64)
        allowed = allowed_items(obs, self.n_actions)
        uniform = allowed / allowed.sum(axis=1, keepdims=True)
        return (1 - self.epsilon) * probs / probs.sum(
            axis=1, keepdims=True
        ) + self.epsilon * uniform
