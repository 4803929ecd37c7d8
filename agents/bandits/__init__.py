"""Bandits: per-item (epsilon-greedy, UCB1, Thompson sampling) and linear contextual
(LinUCB, linear Thompson sampling) over the catalogue."""

from .item import UCB1, EpsilonGreedy, ThompsonSampling
from .linear import LinearThompsonSampling, LinUCB

__all__ = ["UCB1", "EpsilonGreedy", "LinUCB", "LinearThompsonSampling", "ThompsonSampling"]
