"""Collaborative filtering from logged baskets: popularity, co-occurrence rules, ALS, neural CF.

Each is fitted with ``fit(transactions)`` on the training users' logs and scores items from
the observation alone. ``NeuralCFAgent`` (in :mod:`cartgym.agents.cf.neural`) needs torch.
"""

from .counting import CoOccurrenceAgent, PopularityAgent
from .factorization import MatrixFactorizationAgent

__all__ = ["CoOccurrenceAgent", "MatrixFactorizationAgent", "PopularityAgent"]
