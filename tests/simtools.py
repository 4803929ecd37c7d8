"""Helpers for statistical tests of the simulator."""

from __future__ import annotations

import numpy as np

from cartgym.sim import CartSimulator


def clone_first_shopper(sim: CartSimulator) -> None:
    """Give every row the state of row 0, so that one step is many draws from one state."""
    for name, value in vars(sim).items():
        if (
            isinstance(value, np.ndarray)
            and value.shape[:1] == (sim.n_shoppers,)
            and name != "rows"
        ):
            value[:] = value[0]
