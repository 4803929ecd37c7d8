"""Agents for bundle offers (``CartRecBundle-v0``): each action is one candidate bundle at one
discount, and the observation says which.

A bundle environment's action a is one of C = ``bundle_candidates`` x ``len(bundle_discounts)``
offers, refreshed for every cart. Its 9 features lie in the observation's candidate block
(``env.unwrapped.layout``, a :class:`~cartgym.envs.observation.BundleLayout`; the features
are ``CANDIDATE_FEATURES``): the bundle's items, value, discount, lift with the cart and
within itself, popularity, and ``available`` (none of its items is in the cart: the action
mask). :class:`BundleAgent` reads that block, so ``predict(obs)`` needs nothing else, like
every agent of :mod:`cartgym.agents`: it scores the C actions (:meth:`BundleAgent.scores`
-> (B, C)) and offers the best available one.

- :class:`BundleRandomAgent`: a uniformly random available offer (the floor).
- :class:`BundleOracleMyopicAgent`: the offer of largest expected immediate revenue under
  the true shopper (``env.unwrapped.oracle_bundle_revenue()``, exact), the myopic ceiling.
- :class:`AssociationRuleBundleAgent`: "frequently bought together": Apriori itemsets of
  sizes 1 to 3 fitted on the logs; an offer is scored by the rules from the cart's items to
  the bundle plus the bundle's own support.
- :class:`ItemScoreBundleAgent`: the bundle as independent items: the sum of an item
  agent's scores (``CoOccurrenceAgent``, ``LinUCB``, ...) over the bundle's items.

The logs hold no discounts, so the two log-based agents have no model of how a discount
changes the take rate: they offer every bundle at the lowest discount of the grid
(``offers_discounts = False``). The oracle and the RL agents choose discounts.
"""

from .candidates import BundleAgent, CandidateBlock
from .item_scores import ItemScoreBundleAgent
from .references import BundleOracleMyopicAgent, BundleRandomAgent
from .rules import AssociationRuleBundleAgent, FrequentItemsets

__all__ = [
    "AssociationRuleBundleAgent",
    "BundleAgent",
    "BundleOracleMyopicAgent",
    "BundleRandomAgent",
    "CandidateBlock",
    "FrequentItemsets",
    "ItemScoreBundleAgent",
]
