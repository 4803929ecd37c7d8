"""Batched shopper dynamics: the choice model, the population and the simulator."""

from cartgym.sim.choice import ChoiceModel, probabilities, sample_categorical
from cartgym.sim.config import SimConfig
from cartgym.sim.population import Population
from cartgym.sim.simulator import CartSimulator, StepOutcome

__all__ = [
    "CartSimulator",
    "ChoiceModel",
    "Population",
    "SimConfig",
    "StepOutcome",
    "probabilities",
    "sample_categorical",
]
