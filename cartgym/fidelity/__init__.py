"""Fidelity: simulated shoppers against held-out real baskets, and next-basket evaluation.

``validate(world, heldout, out_dir)`` is the whole check (``cartgym validate``);
``fit_and_validate(transactions, out_dir)`` splits a log, fits a world and validates it.
See ``docs/fidelity.md``.
"""

from cartgym.fidelity.measures import Gap
from cartgym.fidelity.nbr_data import (
    read_keyset,
    read_sequences,
    sequences_from_transactions,
    sequences_to_transactions,
)
from cartgym.fidelity.nextbasket import (
    NextBasketResult,
    NextBasketTask,
    evaluate_next_basket,
    g_topfreq,
    gp_topfreq,
    next_basket_scores,
    p_topfreq,
    shopper_ranker,
    task_from_sequences,
    task_from_world,
)
from cartgym.fidelity.report import FidelityConfig, FidelityReport, InputCounts, TargetCheck
from cartgym.fidelity.rollout import Rollout, population_rollout, replay_rollout
from cartgym.fidelity.validate import fit_and_validate, validate, write_report

__all__ = [
    "FidelityConfig",
    "FidelityReport",
    "Gap",
    "InputCounts",
    "NextBasketResult",
    "NextBasketTask",
    "Rollout",
    "TargetCheck",
    "evaluate_next_basket",
    "fit_and_validate",
    "g_topfreq",
    "gp_topfreq",
    "next_basket_scores",
    "p_topfreq",
    "population_rollout",
    "read_keyset",
    "read_sequences",
    "replay_rollout",
    "sequences_from_transactions",
    "sequences_to_transactions",
    "shopper_ranker",
    "task_from_sequences",
    "task_from_world",
    "validate",
    "write_report",
]
