"""Baseline agents for cartgym, installed as ``cartgym.agents`` (see docs/agents/index.md).

One protocol (:class:`Agent`): SB3's ``predict(obs, state, episode_start, deterministic)``,
``scores(obs) -> (B, M)``; online agents add ``learn(env, total_timesteps)``, log-based ones
``fit(transactions)``. Bundle agents (:class:`BundleAgent`, for ``CartRecBundle-v0``) score
the C offers of the observation's candidate block instead: ``scores(obs) -> (B, C)``.
``NeuralCFAgent`` imports torch on first use.
"""

from typing import Any

from .bandits import UCB1, EpsilonGreedy, ThompsonSampling
from .base import Agent, Batch, OnlineAgent
from .bundle_agents import (
    AssociationRuleBundleAgent,
    BundleAgent,
    BundleOracleMyopicAgent,
    BundleRandomAgent,
    FrequentItemsets,
    ItemScoreBundleAgent,
)
from .cf import CoOccurrenceAgent, MatrixFactorizationAgent, PopularityAgent
from .features import ItemFeatures
from .linear import LinearThompsonSampling, LinUCB
from .logs import LogAgent, NotFittedError
from .references import OracleMyopicAgent, RandomAgent, normalised_score

__all__ = [
    "UCB1",
    "Agent",
    "AssociationRuleBundleAgent",
    "Batch",
    "BundleAgent",
    "BundleOracleMyopicAgent",
    "BundleRandomAgent",
    "CoOccurrenceAgent",
    "EpsilonGreedy",
    "FrequentItemsets",
    "ItemFeatures",
    "ItemScoreBundleAgent",
    "LinUCB",
    "LinearThompsonSampling",
    "LogAgent",
    "MatrixFactorizationAgent",
    "NeuralCFAgent",
    "NotFittedError",
    "OnlineAgent",
    "OracleMyopicAgent",
    "PopularityAgent",
    "RandomAgent",
    "ThompsonSampling",
    "normalised_score",
]


def __getattr__(name: str) -> Any:
    if name == "NeuralCFAgent":
        from .neural import NeuralCFAgent

        return NeuralCFAgent
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
