"""A bundle as independent items: the sum of an item agent's scores over its items."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cartgym.data import Transactions

from ..bandits import UCB1, LinearThompsonSampling, LinUCB, ThompsonSampling
from ..cf import CoOccurrenceAgent, MatrixFactorizationAgent, PopularityAgent
from ..knowledge import LogKnowledge
from ..logs import LogAgent
from ..protocol import Agent, Batch, Env, OnlineAgent
from .candidates import BundleAgent


# ----------------------------------------------------------------------------- item scores
def _item_agent_classes() -> dict[str, type[Agent]]:
    return {
        "cooccurrence": CoOccurrenceAgent,
        "popularity": PopularityAgent,
        "mf": MatrixFactorizationAgent,
        "linucb": LinUCB,
        "lin_thompson": LinearThompsonSampling,
        "ucb1": UCB1,
        "thompson": ThompsonSampling,
    }


class ItemScoreBundleAgent(BundleAgent, OnlineAgent):
    """A bundle as independent items: the sum of an item agent's scores over its items.

    The item agent (``item_agent``: a name, with ``item_kwargs``, or an agent instance bound
    to the same bundle environment) scores every item from the observation's cart and
    history blocks as it would on ``CartRec-v0``; a bundle scores the sum over its 2 or 3
    items, which ranks bundles as the top-K of independent items would. Offers are made at
    the lowest discount. Learning is the item agent's:

    - a log-based item agent (``"cooccurrence"``, ``"popularity"``, ``"mf"``) is fitted by
      :meth:`fit` on the logs;
    - an online one (``"linucb"``, ``"lin_thompson"``, ``"ucb1"``, ``"thompson"``) learns by
      :meth:`learn` on the bundle environment: every item of an offered bundle is one
      impression, taken when the bundle is taken (with its line value net of discount as
      the reward), so it learns how likely an item is to be taken within a bundle.

    Args:
        item_agent: ``"cooccurrence"`` (default), ``"popularity"``, ``"mf"``, ``"linucb"``,
            ``"lin_thompson"``, ``"ucb1"``, ``"thompson"``, or an :class:`Agent` instance.
        item_kwargs: settings of the item agent built from a name (``objective``, ...).
    """

    offers_discounts = False

    def __init__(
        self,
        env: Env,
        *,
        item_agent: str | Agent = "cooccurrence",
        item_kwargs: dict[str, Any] | None = None,
        seed: int | None = None,
    ):
        classes = _item_agent_classes()
        if isinstance(item_agent, str):
            if item_agent not in classes:
                raise ValueError(
                    f"item_agent must be an Agent or one of {sorted(classes)}, got {item_agent!r}"
                )
        elif not isinstance(item_agent, Agent) or isinstance(item_agent, BundleAgent):
            raise ValueError(f"item_agent must be an item Agent or a name, got {item_agent!r}")
        if item_kwargs is not None and not isinstance(item_kwargs, dict):
            raise ValueError(f"item_kwargs must be a dict or None, got {item_kwargs!r}")
        if item_kwargs and not isinstance(item_agent, str):
            raise ValueError("item_kwargs are for an item agent given by name")
        super().__init__(env, seed=seed)
        self.item_agent, self.item_kwargs = item_agent, item_kwargs
        if isinstance(item_agent, str):
            self.item_agent_ = classes[item_agent](env, seed=seed, **(item_kwargs or {}))
        else:
            self.item_agent_ = item_agent
        if self.item_agent_.layout != self.layout:
            raise ValueError("item_agent is bound to another catalogue than this environment's")

    def item_scores(self, obs: np.ndarray, explore: bool = False) -> np.ndarray:
        """(B, M) the item agent's scores, from the observations' item blocks."""
        return self.item_agent_.scores(obs[:, : self.layout.scalars.stop], explore=explore)

    def scores(self, obs: np.ndarray, explore: bool = False) -> np.ndarray:
        items = self.candidates.items(obs)
        per_item = self.item_scores(obs, explore)
        rows = np.arange(len(obs))[:, None, None]
        values = np.where(items >= 0, per_item[rows, np.maximum(items, 0)], 0.0)
        return values.sum(axis=2)

    def fit(self, transactions: Transactions | pd.DataFrame) -> ItemScoreBundleAgent:
        """Fit a log-based item agent on logged baskets; returns self."""
        if not isinstance(self.item_agent_, LogAgent):
            raise ValueError(
                f"{type(self.item_agent_).__name__} learns online (learn), not from logs (fit)"
            )
        self.item_agent_.fit(transactions)
        self.fit_report_ = self.item_agent_.fit_report_
        return self

    @property
    def knowledge(self) -> LogKnowledge:
        return Agent.knowledge.fget(self)  # type: ignore[attr-defined]

    @knowledge.setter
    def knowledge(self, knowledge: LogKnowledge) -> None:
        Agent.knowledge.fset(self, knowledge)  # type: ignore[attr-defined]
        self.item_agent_.knowledge = knowledge  # the item agent learns from the same logs

    def update(self, batch: Batch) -> None:
        """Hand every item of the offered bundles to an online item agent as one impression."""
        agent = self.item_agent_
        if not isinstance(agent, OnlineAgent):
            return
        action = batch.actions[:, 0]
        rows = np.arange(len(action))
        items = self.candidates.items(batch.obs)[rows, action]  # (B, 3)
        discount = self.candidates.discount(batch.obs)[rows, action]
        row, slot = np.nonzero(items >= 0)
        shown = items[row, slot]
        taken = batch.accepted[row] >= 0
        size = self.layout.scalars.stop  # the item part of the observation
        value = self.knowledge.line_values[shown] * (1.0 - discount[row])
        agent.update(
            Batch(
                batch.obs[row, :size],
                shown[:, None],
                np.where(taken, shown, -1),
                np.where(taken, value, 0.0),
                batch.next_obs[row, :size],
                batch.dones[row],
                np.where(taken, shown, -1)[:, None],
            )
        )
        agent.num_timesteps_ += len(shown)
