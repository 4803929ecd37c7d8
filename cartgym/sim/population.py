"""Who comes to shop: logged sessions replayed as new shoppers, or shoppers drawn afresh."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from cartgym.data.split import GROUPS, user_groups
from cartgym.world import ShopperWorld

# "all", a group of cartgym.data.split.user_groups, or groups joined by "+"
POPULATIONS = ("all", *GROUPS, "eval")
ALIASES = {"eval": "test"}  # CartRec-v0's name of the test shoppers


def population_groups(population: str) -> tuple[str, ...]:
    """The user groups of a population name: ``"all"``, ``"train"``, ``"validation"``,
    ``"test"`` (alias ``"eval"``), or groups joined by ``"+"`` (``"train+validation"``)."""
    if not isinstance(population, str):
        raise ValueError(f"population must be a str such as 'train', got {population!r}")
    if population == "all":
        return GROUPS
    groups = tuple(ALIASES.get(part, part) for part in population.split("+"))
    if not set(groups) <= set(GROUPS):
        raise ValueError(
            f"population must be 'all', one of {GROUPS} (or 'eval', the test shoppers), or "
            f"groups joined by '+', got {population!r}"
        )
    return groups


def in_population(user_ids: np.ndarray, population: str) -> np.ndarray:
    """(N,) True for the users of ``population`` (the fixed split by a hash of the id,
    :func:`cartgym.data.split.user_groups`: identical on every machine and catalogue)."""
    return np.isin(user_groups(user_ids), population_groups(population))


@dataclass(frozen=True)
class Arrivals:
    """A batch of arriving shoppers."""

    users: np.ndarray  # (B,) user index, -1 for a new shopper with no history
    tastes: np.ndarray  # (B, d)
    history: np.ndarray  # (B, M) float32 log1p purchase counts (zeros for new shoppers)
    intended_sizes: np.ndarray  # (B,) items the shopper means to buy
    patience: np.ndarray  # (B,) ignored recommendations the shopper tolerates


class Population:
    """Draws shoppers: a logged session's user and basket size, or a new shopper.

    A logged session is drawn uniformly from the world's sessions (restricted to the chosen
    user group), so shoppers arrive as often as their logged baskets did. A new shopper
    (probability ``new_shopper_rate``) has a taste drawn from the fitted Gaussian, no
    history and a basket size drawn from all sessions. Patience is geometric with mean
    ``patience_mean`` (each ignored recommendation ends the session with probability
    1 / patience_mean).
    """

    def __init__(
        self,
        world: ShopperWorld,
        *,
        population: str = "all",
        new_shopper_rate: float = 0.0,
        patience_mean: float = 10.0,
    ):
        groups = population_groups(population)
        if not 0.0 <= new_shopper_rate <= 1.0:
            raise ValueError(f"new_shopper_rate must be in [0, 1], got {new_shopper_rate!r}")
        if not patience_mean >= 1.0:
            raise ValueError(f"patience_mean must be >= 1, got {patience_mean!r}")
        self.world = world
        self.new_shopper_rate = new_shopper_rate
        self.patience_mean = patience_mean
        sessions = np.arange(len(world.session_users))
        if population != "all":
            sessions = sessions[np.isin(user_groups(world.user_ids), groups)[world.session_users]]
        if len(sessions) == 0:
            if new_shopper_rate < 1.0:
                raise ValueError(f"the world has no logged sessions in population {population!r}")
            sessions = np.arange(len(world.session_users))  # only sizes are drawn from them
        self.sessions = sessions
        self._taste_chol = np.linalg.cholesky(world.taste_cov + 1e-9 * np.eye(world.n_factors))

    def _history_rows(self, users: np.ndarray) -> np.ndarray:
        """(B, M) dense history rows of ``users`` (zeros for -1), straight from the CSR arrays."""
        csr = self.world.history
        known = np.maximum(users, 0)
        starts, ends = csr.indptr[known], csr.indptr[known + 1]
        lengths = np.where(users >= 0, ends - starts, 0)
        positions = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(
            lengths.sum()
        )
        rows = np.zeros((len(users), csr.shape[1]), dtype=np.float32)
        rows[np.repeat(np.arange(len(users)), lengths), csr.indices[positions]] = csr.data[
            positions
        ]
        return rows

    # uniforms :meth:`arrive` reads per shopper: new or logged, which logged session, taste
    def n_uniforms(self) -> int:
        return 2 + self.world.n_factors

    def arrive(self, uniforms: np.ndarray) -> Arrivals:
        """Shoppers from (n_uniforms(), n) uniforms (CartRec-v1: counter-based draws, so a
        lane's k-th shopper is the same whatever happened before). Basket size and patience
        are v0's and set to 0."""
        world = self.world
        n = uniforms.shape[1]
        new = uniforms[0] < self.new_shopper_rate
        index = np.minimum(
            (uniforms[1] * len(self.sessions)).astype(np.int64), len(self.sessions) - 1
        )
        logged = self.sessions[index]
        normals = ndtri(np.clip(uniforms[2:], 1e-300, 1 - 1e-16)).T
        fresh_taste = world.taste_mean + normals @ self._taste_chol.T
        users = np.where(new, -1, world.session_users[logged])
        tastes = np.where(new[:, None], fresh_taste, world.user_factors[np.maximum(users, 0)])
        history = self._history_rows(users)
        zeros = np.zeros(n, dtype=np.int64)
        return Arrivals(users, tastes.astype(np.float32), history, zeros, zeros)

    def draw(self, n: int, rng: np.random.Generator) -> Arrivals:
        """Draw ``n`` shoppers; always consumes the same number of random draws."""
        world = self.world
        new = rng.random(n) < self.new_shopper_rate
        logged = self.sessions[rng.integers(0, len(self.sessions), size=n)]
        any_size = world.session_sizes[rng.integers(0, len(world.session_sizes), size=n)]
        fresh_taste = world.taste_mean + rng.standard_normal((n, world.n_factors)) @ (
            self._taste_chol.T
        )
        patience = rng.geometric(1.0 / self.patience_mean, size=n)
        users = np.where(new, -1, world.session_users[logged])
        tastes = np.where(new[:, None], fresh_taste, world.user_factors[np.maximum(users, 0)])
        history = self._history_rows(np.where(new, -1, users))
        sizes = np.where(new, any_size, world.session_sizes[logged])
        return Arrivals(users, tastes.astype(np.float32), history, sizes, patience)
