"""Offline data out: logging policies with propensities, Minari datasets, off-policy values.

A logging policy says how likely each action is (:meth:`LoggingPolicy.probabilities`) and
samples one with the generator it is handed (:meth:`LoggingPolicy.act`), so every logged
action carries its propensity. :func:`collect` rolls a policy out into :class:`Logs`
(flat arrays); :func:`record_dataset` writes them as a Minari dataset (the ``offline``
extra). :func:`ips_value` estimates a target policy's expected return per session from
such logs by importance sampling; :func:`on_policy_value` measures it by running the
target policy, the ground truth the simulator offers.

Only ``Discrete(M)`` item environments (CartRec-v0 and its variants with
``slate_size=1``) are supported: slates and bundles raise ``ValueError``. Items in the cart
are read from the observation's cart block, as :mod:`cartgym.agents.sb3.masking` does.
"""

from .collect import Logs, collect
from .datasets import record_dataset
from .estimators import Estimate, ips_value, on_policy_value
from .policies import (
    EpsilonGreedyPolicy,
    LoggingPolicy,
    SB3Policy,
    SoftmaxPolicy,
    StochasticPolicy,
    UniformPolicy,
    allowed_items,
    sample,
)

__all__ = [
    "EpsilonGreedyPolicy",
    "Estimate",
    "LoggingPolicy",
    "Logs",
    "SB3Policy",
    "SoftmaxPolicy",
    "StochasticPolicy",
    "UniformPolicy",
    "allowed_items",
    "collect",
    "ips_value",
    "on_policy_value",
    "record_dataset",
    "sample",
]
