"""Agents for cartgym, installed as ``cartgym.agents`` (see docs/agents/index.md).

One protocol (:class:`Agent`, in :mod:`~cartgym.agents.protocol`): SB3's
``predict(obs, state, episode_start, deterministic)``, ``scores(obs) -> (B, M)`` and
``top_k(obs, k)``; online agents add ``learn(env, total_timesteps)``, log-based ones
``fit(transactions)``. The subpackages hold the families:

- :mod:`~cartgym.agents.references`: random and oracle-myopic (the normalised score's ends);
- :mod:`~cartgym.agents.bandits`: per-item and linear contextual bandits;
- :mod:`~cartgym.agents.cf`: collaborative filtering from the training logs;
- :mod:`~cartgym.agents.bundles`: agents for bundle offers (``CartRecBundle-v0``);
- :mod:`~cartgym.agents.sb3`: Stable-Baselines3 algorithms with masked policies;
- :mod:`~cartgym.agents.offline`: logging policies, offline datasets, off-policy values;
- :mod:`~cartgym.agents.registry`: every agent by name, with the harness's defaults.

``NeuralCFAgent`` (:mod:`cartgym.agents.cf.neural`) and :mod:`~cartgym.agents.sb3` need torch
(the ``[agents]`` extra); importing this package does not.
"""

from .bandits import UCB1, EpsilonGreedy, LinearThompsonSampling, LinUCB, ThompsonSampling
from .bundles import (
    AssociationRuleBundleAgent,
    BundleAgent,
    BundleOracleMyopicAgent,
    BundleRandomAgent,
    FrequentItemsets,
    ItemScoreBundleAgent,
)
from .cf import CoOccurrenceAgent, MatrixFactorizationAgent, PopularityAgent
from .features import ItemFeatures
from .logs import LogAgent, NotFittedError
from .protocol import Agent, Batch, OnlineAgent
from .references import (
    NoRecommendationAgent,
    OracleMyopicAgent,
    RandomAgent,
    normalised_score,
)
from .registry import AGENTS, make_agent

__all__ = [
    "AGENTS",
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
    "NoRecommendationAgent",
    "NotFittedError",
    "OnlineAgent",
    "OracleMyopicAgent",
    "PopularityAgent",
    "RandomAgent",
    "ThompsonSampling",
    "make_agent",
    "normalised_score",
]
