"""Held-out log-likelihood of a world's choice model over the full catalogue.

Each held-out basket is put in a random order, as in the fit; every choice is scored by
the simulator's own :class:`~cartgym.sim.choice.ChoiceModel` against every catalogue
item not yet in the cart (no sampling). The world's restricted models (fitted beside the
full one, see ``MODEL_VARIANTS``) and a uniform choice are scored on the same choices.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from cartgym.calibrate.choice_fit import ChoiceSequence, cart_prefix_sums
from cartgym.calibrate.fit import BasketLog
from cartgym.data import Transactions
from cartgym.sim.choice import ChoiceModel
from cartgym.world import ChoiceCoefficients, ShopperWorld


def heldout_log_likelihood(
    world: ShopperWorld,
    heldout: Transactions | pd.DataFrame,
    *,
    seed: int = 0,
    max_baskets: int | None = None,
) -> dict[str, object]:
    """Mean log-likelihood per held-out choice for each model variant, plus counts.

    Returns ``{"per_choice": {variant: value, ..., "uniform": value}, "choices": n,
    "baskets": n, "unknown_users": n, "lines_outside_catalogue": n}``. Users absent from
    the world score with the population's mean taste and no history; items outside the
    catalogue are left out and counted.
    """
    table = heldout.table if isinstance(heldout, Transactions) else heldout
    log, _ = BasketLog.build(table, world.item_ids, user_ids=world.user_ids)
    if log.items.shape[0] == 0:
        raise ValueError("no held-out basket holds a catalogue item; nothing to score")
    rng = np.random.default_rng(seed)
    if max_baskets is not None and log.items.shape[0] > max_baskets:
        keep = np.sort(rng.choice(log.items.shape[0], max_baskets, replace=False))
        log = replace(log, items=log.items[keep], users=log.users[keep], ranks=log.ranks[keep])
    sequence = ChoiceSequence.from_baskets(log.items, rng)
    variants = {
        name: ChoiceModel(replace(world, coefficients=ChoiceCoefficients(**fit["coefficients"])))
        for name, fit in world.meta.get("report", {}).get("choice_models", {}).items()
    } or {"full": ChoiceModel(world)}
    totals = dict.fromkeys([*variants, "uniform"], 0.0)
    m = world.n_items
    complement = world.complement.toarray()

    def one_hot(span: slice) -> np.ndarray:
        items = sequence.items[span]
        rows = np.zeros((len(items), m), dtype=np.float32)
        rows[np.arange(len(items)), items] = 1.0
        return rows

    carts = cart_prefix_sums(sequence, one_hot)
    comps = cart_prefix_sums(sequence, lambda span: complement[sequence.items[span]])
    for (span, in_cart), (_, comp_sum) in zip(carts, comps, strict=True):
        users = log.users[sequence.basket[span]]
        known = users >= 0
        tastes = np.where(
            known[:, None], world.user_factors[np.maximum(users, 0)], world.taste_mean
        )
        history = world.history[np.maximum(users, 0)].toarray() * known[:, None]
        available = in_cart < 0.5
        size = sequence.position[span]
        chosen = sequence.items[span]
        rows = np.arange(len(chosen))
        for name, model in variants.items():
            static = model.static_utilities(tastes, history.astype(np.float32))
            utility = model.utilities(static, comp_sum.astype(np.float32), size).astype(np.float64)
            utility[~available] = -np.inf
            top = utility.max(axis=1, keepdims=True)
            log_norm = top[:, 0] + np.log(np.exp(utility - top).sum(axis=1))
            totals[name] += float((utility[rows, chosen] - log_norm).sum())
        totals["uniform"] -= float(np.log(available.sum(axis=1)).sum())
    n_choices = len(sequence.items)
    lines = table[table["item_id"].isin(world.item_ids)]
    return {
        "per_choice": {name: total / n_choices for name, total in totals.items()},
        "choices": n_choices,
        "baskets": int(log.items.shape[0]),
        "baskets_of_unknown_users": int((log.users < 0).sum()),
        "lines_outside_catalogue": int(len(table) - len(lines)),
    }
