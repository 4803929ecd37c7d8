"""The agent registry: every agent of the benchmarks by name, with the harness's defaults.

    >>> import gymnasium as gym, cartgym
    >>> from cartgym.agents.registry import make_agent
    >>> env = gym.make("CartRec-v0", n_items=50)
    >>> agent = make_agent("ucb1", env, seed=0)
    >>> type(agent).__name__
    'UCB1'

:func:`make_agent` builds an agent exactly as ``cartgym bench`` does (for instance ``mf``
runs numpy's ALS whatever optional packages are installed). Each :class:`AgentSpec` says
how the agent learns (``kind``) and which environments it can act on (``acts_on``, a set
of :data:`ENV_KINDS`). Log-based agents still need ``fit(training_logs)``, online ones
``learn(env, steps)``; SB3 entries build a model with :func:`cartgym.agents.sb3.make_model`.
``no_recommendation`` shows nothing (CartRec-v1's show-nothing action; on CartRec-v0 the
harness runs the control with ``show_recommendations=False`` instead).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .bandits import UCB1, EpsilonGreedy, LinearThompsonSampling, LinUCB, ThompsonSampling
from .bundles import (
    AssociationRuleBundleAgent,
    BundleOracleMyopicAgent,
    BundleRandomAgent,
    ItemScoreBundleAgent,
)
from .cf import CoOccurrenceAgent, MatrixFactorizationAgent, PopularityAgent
from .protocol import Agent
from .references import NoRecommendationAgent, OracleMyopicAgent, RandomAgent

# What an environment's actions are.
ENV_KINDS = {
    "items": "one item per step, Discrete(M)",
    "slates": "a slate of K items, MultiDiscrete([M] * K)",
    "bundles": "bundle offers, Discrete(C) over the candidate block",
}
# How an agent learns: a reference policy, the oracle (reads the simulator's true state),
# from the training users' logs, online from its own interactions, an SB3 algorithm, or
# the no-recommendation control.
KINDS = ("reference", "oracle", "logs", "online", "sb3", "control")
ITEMS_AND_SLATES = frozenset({"items", "slates"})
RL_ALGORITHMS = ("dqn", "ppo", "a2c", "qrdqn")


@dataclass(frozen=True)
class AgentSpec:
    """A registered agent: how it learns, what it acts on and how to build it."""

    kind: str
    acts_on: frozenset[str]
    maker: Callable[..., Any]  # maker(env, seed=..., **settings)
    description: str


def _neural(env: Any, **kwargs: Any) -> Agent:
    from .cf.neural import NeuralCFAgent  # torch, on first use

    return NeuralCFAgent(env, **kwargs)


def _item_sum(item_agent: str) -> Callable[..., Agent]:
    def make(env: Any, **kwargs: Any) -> Agent:
        return ItemScoreBundleAgent(env, **{"item_agent": item_agent, **kwargs})

    return make


def _sb3(algorithm: str) -> Callable[..., Any]:
    def make(env: Any, *, seed: int | None = None, **kwargs: Any) -> Any:
        from .sb3 import make_model  # SB3 and torch, on first use

        return make_model(algorithm, env, seed=seed, **kwargs)

    return make


AGENTS: dict[str, AgentSpec] = {
    "random": AgentSpec("reference", ITEMS_AND_SLATES, RandomAgent, "uniform item (floor)"),
    "oracle_myopic": AgentSpec(
        "oracle", ITEMS_AND_SLATES, OracleMyopicAgent, "best one-step gain, true state"
    ),
    "popularity": AgentSpec("logs", ITEMS_AND_SLATES, PopularityAgent, "most-bought items"),
    "cooccurrence": AgentSpec(
        "logs", ITEMS_AND_SLATES, CoOccurrenceAgent, "bought together with the cart"
    ),
    "mf": AgentSpec(
        "logs", ITEMS_AND_SLATES, MatrixFactorizationAgent, "implicit ALS (numpy backend)"
    ),
    "neural_cf": AgentSpec("logs", ITEMS_AND_SLATES, _neural, "MLP next-item model"),
    "epsilon_greedy": AgentSpec("online", ITEMS_AND_SLATES, EpsilonGreedy, "per-item bandit"),
    "ucb1": AgentSpec("online", ITEMS_AND_SLATES, UCB1, "per-item bandit"),
    "thompson": AgentSpec("online", ITEMS_AND_SLATES, ThompsonSampling, "per-item bandit"),
    "linucb": AgentSpec("online", ITEMS_AND_SLATES, LinUCB, "linear contextual bandit"),
    "lin_thompson": AgentSpec(
        "online", ITEMS_AND_SLATES, LinearThompsonSampling, "linear contextual bandit"
    ),
    "bundle_random": AgentSpec(
        "reference", frozenset({"bundles"}), BundleRandomAgent, "uniform offer (floor)"
    ),
    "bundle_oracle_myopic": AgentSpec(
        "oracle", frozenset({"bundles"}), BundleOracleMyopicAgent, "best offer, true state"
    ),
    "bundle_rules": AgentSpec(
        "logs", frozenset({"bundles"}), AssociationRuleBundleAgent, "Apriori rules"
    ),
    "bundle_items_cooccurrence": AgentSpec(
        "logs", frozenset({"bundles"}), _item_sum("cooccurrence"), "sum of item scores"
    ),
    "bundle_items_linucb": AgentSpec(
        "online", frozenset({"bundles"}), _item_sum("linucb"), "sum of item scores"
    ),
    "no_recommendation": AgentSpec(
        "control", frozenset(ENV_KINDS), NoRecommendationAgent, "shows nothing (the control)"
    ),
    "dqn": AgentSpec("sb3", frozenset({"items", "bundles"}), _sb3("dqn"), "SB3 DQN, masked"),
    "ppo": AgentSpec("sb3", frozenset(ENV_KINDS), _sb3("ppo"), "SB3 PPO, masked"),
    "a2c": AgentSpec("sb3", frozenset(ENV_KINDS), _sb3("a2c"), "SB3 A2C, masked"),
    "qrdqn": AgentSpec(
        "sb3", frozenset({"items", "bundles"}), _sb3("qrdqn"), "sb3-contrib QR-DQN, masked"
    ),
}
BUNDLE_AGENTS = tuple(name for name in AGENTS if name.startswith("bundle_"))


def agent_spec(name: str) -> AgentSpec:
    """The registered agent ``name``; ValueError listing the known ones otherwise."""
    if name not in AGENTS:
        raise ValueError(f"unknown agent {name!r}; known: {sorted(AGENTS)}")
    return AGENTS[name]


def make_agent(name: str, env: Any, *, seed: int | None = None, **settings: Any) -> Any:
    """Build the registered agent ``name`` on ``env`` with the harness's defaults."""
    return agent_spec(name).maker(env, seed=seed, **settings)


def agents_for(env_kind: str, exclude: tuple[str, ...] = ()) -> list[str]:
    """Every registered agent that can act on environments of ``env_kind``, sorted."""
    if env_kind not in ENV_KINDS:
        raise ValueError(f"env_kind must be one of {sorted(ENV_KINDS)}, got {env_kind!r}")
    return sorted(a for a, s in AGENTS.items() if env_kind in s.acts_on and a not in exclude)
