"""What an agent may know of the shop beyond the observation and its own interactions.

A deployed recommender knows its catalogue and its logs. :class:`LogKnowledge` is the item
statistics of the **training users'** logged baskets over an environment's catalogue:
prices and quantities as logged (medians), popularity (log basket share), item embeddings
(implicit ALS) and the shrunk-PMI co-purchase matrix, estimated by
:func:`cartgym.calibrate.fit_catalogue`, the same estimators :func:`cartgym.calibrate.fit`
uses, but on training users only. Nothing here is read from the simulator's world, whose
terms are fitted on every user (validation and test included).

An agent's item statistics are ``agent.knowledge``: by default :func:`knowledge_of` the
environment's catalogue, the bundled logs the catalogue's world was fitted from
(:func:`cartgym.data.training_logs`), restricted to training users. With a world of your
own, register the knowledge of its catalogue once, and every agent (and the benchmark
harness) built on it uses it::

    register_knowledge(LogKnowledge.from_logs(my_training_logs, env.unwrapped.catalogue))

or set it on one agent (``agent.knowledge = ...``) before it first acts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from cartgym.calibrate import CatalogueFit, FitConfig, fit_catalogue
from cartgym.data import Transactions, training_logs
from cartgym.envs.observation import Catalogue


@dataclass(frozen=True, eq=False)
class LogKnowledge:
    """Item statistics of training logs over a catalogue (see the module docstring)."""

    catalogue: Catalogue
    fitted: CatalogueFit

    @classmethod
    def from_logs(
        cls,
        transactions: Transactions | pd.DataFrame,
        catalogue: Catalogue,
        config: FitConfig | None = None,
    ) -> LogKnowledge:
        """Fit the statistics on ``transactions`` (training users' logs only) over
        ``catalogue``."""
        return cls(catalogue, fit_catalogue(transactions, catalogue.item_ids, config))

    @property
    def prices(self) -> np.ndarray:
        """(M,) median logged unit price of each item."""
        return self.fitted.prices

    @property
    def quantities(self) -> np.ndarray:
        """(M,) median logged quantity of a line of each item."""
        return self.fitted.quantities

    @property
    def line_values(self) -> np.ndarray:
        """(M,) price x quantity: what a line of each item typically adds to a basket."""
        return self.fitted.prices * self.fitted.quantities

    @property
    def popularity(self) -> np.ndarray:
        """(M,) log share of the logged baskets holding each item (add-one smoothed)."""
        return self.fitted.popularity

    @property
    def item_factors(self) -> np.ndarray:
        """(M, d) item embeddings (implicit ALS on the training users' purchases)."""
        return self.fitted.item_factors

    @property
    def complement(self) -> sp.csr_matrix:
        """(M, M) shrunk PMI of co-purchases in the training baskets."""
        return self.fitted.complement


def register_knowledge(knowledge: LogKnowledge) -> None:
    """Make ``knowledge`` what :func:`knowledge_of` returns for its catalogue (its source
    and items), in this process."""
    if not isinstance(knowledge, LogKnowledge):
        raise TypeError(f"expected a LogKnowledge, got {type(knowledge).__name__}")
    _CACHE[_key(knowledge.catalogue)] = knowledge


def knowledge_of(catalogue: Catalogue) -> LogKnowledge:
    """The :class:`LogKnowledge` registered for ``catalogue``, or else that of the bundled
    logs behind it (training users), computed once per catalogue and process. ValueError
    when neither exists."""
    key = _key(catalogue)
    if key not in _CACHE:
        try:
            logs = training_logs(catalogue.source)
        except ValueError as err:
            raise ValueError(
                f"{err}; register_knowledge(LogKnowledge.from_logs(training_logs, "
                "env.unwrapped.catalogue)) first"
            ) from None
        _CACHE[key] = LogKnowledge.from_logs(logs, catalogue)
    return _CACHE[key]


def _key(catalogue: Catalogue) -> tuple[str, tuple[str, ...]]:
    return catalogue.source, tuple(catalogue.item_ids.tolist())


_CACHE: dict[tuple[str, tuple[str, ...]], LogKnowledge] = {}
