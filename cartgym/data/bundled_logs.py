"""The logs behind the bundled worlds, by the world's source, and their training users.

A world records the source it was fitted from (``world.meta["source"]``); for the bundled
worlds that source is a dataset this package can load, so an agent can learn from the
same logs the world was fitted on, restricted to the training users
(:func:`cartgym.data.split.user_groups`).
"""

from __future__ import annotations

import functools

from cartgym.data.complete_journey import load_complete_journey
from cartgym.data.online_retail import load_online_retail
from cartgym.data.report import Transactions
from cartgym.data.split import users_in

# a world's source (a part of its ``meta["source"]``) -> the loader of those logs
LOADERS = {"online_retail": load_online_retail, "completejourney": load_complete_journey}


def logs_of(source: str) -> Transactions:
    """The logs a bundled world was fitted from; ValueError for another source."""
    for key, load in LOADERS.items():
        if key in source:
            return _load(key, load)
    raise ValueError(
        f"the logs of world source {source!r} are not bundled (bundled: {sorted(LOADERS)}): "
        "fit the agent on your own training logs"
    )


def training_logs(source: str) -> Transactions:
    """The training users' baskets of a bundled world's logs (never validation or test)."""
    return users_in(logs_of(source), "train")


@functools.lru_cache(maxsize=4)
def _load(key: str, load) -> Transactions:
    return load()
