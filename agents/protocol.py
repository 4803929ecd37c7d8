"""The agent protocol: SB3's ``predict``, scores over the catalogue, a shared learning loop.

Every agent is bound to a cartgym environment at construction (``Agent(env, ...)``): it
reads the catalogue the environment publishes (``env.unwrapped.catalogue``, never the
simulator's world), the observation layout and the slate size, and works on any
environment with that layout, single or vector. What else it may know of the items is
``agent.knowledge``: statistics of the training users' logs
(:class:`~cartgym.agents.knowledge.LogKnowledge`). An agent that needs no live environment
(the log-based ones, the bandits) can be bound to a catalogue or a world instead
(``PopularityAgent(world)``, one item per recommendation) and scored on observations
encoded from real carts (:class:`~cartgym.envs.observation.ObservationEncoder`). Settings
are keyword arguments of ``__init__``; learned state ends in ``_``.

An agent implements :meth:`Agent.scores` (B observations -> (B, M) item scores); the base
class turns scores into recommendations: the K highest-scoring items not in the cart. The
cart is read from the observation itself (``obs[layout.cart] > 0.5`` marks items in the
cart, exactly the items ``action_masks()`` masks), so ``predict(obs)`` needs nothing else.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import VectorEnv

from cartgym.envs.observation import Catalogue, ObservationLayout
from cartgym.world import ShopperWorld

from .knowledge import LogKnowledge, knowledge_of
from .ranking import top_k

Env = gym.Env | VectorEnv


def bind(env: Env | Catalogue | ShopperWorld) -> tuple[Catalogue, ObservationLayout, int]:
    """(catalogue, observation layout, slate size) of a cartgym environment, single or
    vector, or of a catalogue or world (its item layout, one item per recommendation)."""
    if isinstance(env, ShopperWorld):
        env = Catalogue.of_world(env)
    if isinstance(env, Catalogue):
        return env, ObservationLayout(env.n_items), 1
    core = env.unwrapped
    catalogue, layout = getattr(core, "catalogue", None), getattr(core, "layout", None)
    if not isinstance(catalogue, Catalogue) or not isinstance(layout, ObservationLayout):
        raise ValueError(
            "an agent needs a cartgym environment (CartEnv or CartVectorEnv), "
            f"got {type(core).__name__}"
        )
    space = getattr(core, "single_action_space", core.action_space)
    if isinstance(space, spaces.Discrete):
        slate_size = 1
    elif isinstance(space, spaces.MultiDiscrete):
        slate_size = len(space.nvec)
    else:
        raise ValueError(f"expected a Discrete or MultiDiscrete action space, got {space}")
    return catalogue, layout, slate_size


class Agent(ABC):
    """Base of every cartgym agent: binding to an environment, ``predict`` and ``scores``.

    Args:
        env: a cartgym environment (``gym.make("CartRec-v1")``, the slate variant, or the
            vector env), or a catalogue or world; the agent reads its catalogue,
            observation layout and slate size.
        seed: seed of the agent's own generator (random tie-breaks, exploration).
    """

    def __init__(self, env: Env | Catalogue | ShopperWorld, *, seed: int | None = None):
        self.catalogue, self.layout, self.slate_size = bind(env)
        self.n_items: int = self.layout.n_items
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self._knowledge: LogKnowledge | None = None

    @property
    def knowledge(self) -> LogKnowledge:
        """The training logs' item statistics this agent uses (prices, popularity,
        embeddings, co-purchases); by default those of the bundled logs behind its
        catalogue (:func:`~cartgym.agents.knowledge.knowledge_of`). Set it, before the
        agent first acts, to learn from logs of your own."""
        if self._knowledge is None:
            self._knowledge = knowledge_of(self.catalogue)
        return self._knowledge

    @knowledge.setter
    def knowledge(self, knowledge: LogKnowledge) -> None:
        if not isinstance(knowledge, LogKnowledge):
            raise TypeError(f"knowledge must be a LogKnowledge, got {type(knowledge).__name__}")
        if not np.array_equal(knowledge.catalogue.item_ids, self.catalogue.item_ids):
            raise ValueError(
                f"knowledge of a catalogue of {knowledge.catalogue.n_items} items does not "
                f"match the agent's ({self.n_items} items, in the environment's order)"
            )
        self._knowledge = knowledge

    def set_seed(self, seed: int | None) -> None:
        """Restart the agent's generator from ``seed``."""
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    @abstractmethod
    def scores(self, obs: np.ndarray, explore: bool = False) -> np.ndarray:
        """(B, M) scores of every item for (B, D) observations; higher is better.

        ``explore=True`` when acting to learn (``predict(deterministic=False)``): an agent
        may then add exploration (a posterior sample, an optimism bonus, random rows).
        Masking is done by the caller.
        """

    def select(self, obs: np.ndarray, allowed: np.ndarray, deterministic: bool) -> np.ndarray:
        """(B, K) recommended items: the K best allowed items by :meth:`scores`."""
        rng = None if deterministic else self.rng
        return top_k(self.scores(obs, explore=not deterministic), allowed, self.slate_size, rng)

    def top_k(self, observation: np.ndarray, k: int) -> np.ndarray:
        """(N, k) the k best items not in the cart for (N, D) observations (or (k,) for one
        observation), best first, whatever the environment's slate size; exploration off.

        Items in the cart are never returned, unless fewer than k are left (then the list
        repeats its best item).
        """
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive int, got {k!r}")
        obs = self.check_obs(observation)
        batch = obs[None] if obs.ndim == 1 else obs
        items = top_k(self.scores(batch), self.allowed(batch), int(k))
        return items[0] if obs.ndim == 1 else items

    def predict(
        self,
        observation: np.ndarray,
        state: Any = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, Any]:
        """SB3's predict: an action for one observation (D,) or a batch (N, D).

        Returns (action, state): for one observation an int array of shape () or (K,); for
        a batch, shape (N,) or (N, K). Items in the cart are never recommended (unless a
        cart leaves fewer than K items, when the slate repeats its best item). ``state`` is
        passed through; ``deterministic=True`` breaks ties by lowest index and turns
        exploration off.
        """
        obs = self.check_obs(observation)
        single = obs.ndim == 1
        batch = obs[None] if single else obs
        slates = self.select(batch, self.allowed(batch), deterministic)
        actions = slates[:, 0] if self.slate_size == 1 else slates
        return (actions[0] if single else actions), state

    def allowed(self, obs: np.ndarray) -> np.ndarray:
        """(B, M) True for items not in the cart, read from the observations' cart block."""
        return obs[:, self.layout.cart] <= 0.5

    def check_obs(self, observation: Any) -> np.ndarray:
        obs = np.asarray(observation, dtype=np.float32)
        if obs.ndim not in (1, 2) or obs.shape[-1] != self.layout.size:
            raise ValueError(
                f"observation of shape {obs.shape} does not fit this agent's environment: "
                f"expected ({self.layout.size},) or (N, {self.layout.size})"
            )
        return obs

    def check_env(self, env: Env) -> None:
        """Raise ValueError unless ``env`` has the layout and slate size the agent was bound to."""
        catalogue, layout, slate_size = bind(env)
        same_items = catalogue is self.catalogue or np.array_equal(
            catalogue.item_ids, self.catalogue.item_ids
        )
        if not same_items or layout != self.layout or slate_size != self.slate_size:
            raise ValueError(
                f"environment with {layout.n_items} items and slate size {slate_size} does not "
                f"match the agent's catalogue ({self.n_items} items, slate size {self.slate_size})"
            )

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({settings})"

    def get_params(self) -> dict[str, Any]:
        """The settings given to ``__init__`` (scikit-learn style), env excluded."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {n: getattr(self, n) for n in names if n != "env" and hasattr(self, n)}


@dataclass(frozen=True)
class Batch:
    """One environment step of B sessions, as handed to :meth:`OnlineAgent.update`."""

    obs: np.ndarray  # (B, D) observations the recommendations were made on
    actions: np.ndarray  # (B, K) recommended items
    accepted: np.ndarray  # (B,) the first item taken, -1 if the recommendation was ignored
    rewards: np.ndarray  # (B,) environment rewards
    next_obs: np.ndarray  # (B, D)
    dones: np.ndarray  # (B,) True where the session ended (terminated or truncated)
    # (B, K) every item taken from the slate, in the order taken, then -1 (default:
    # ``accepted`` alone, for environments that take one item per step)
    taken: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.taken is None:
            object.__setattr__(self, "taken", np.asarray(self.accepted)[:, None])

    def rows(self, keep: np.ndarray) -> Batch:
        return Batch(*(getattr(self, f)[keep] for f in self.__dataclass_fields__))


class OnlineAgent(Agent):
    """An agent that learns by interacting: :meth:`learn` runs the loop, :meth:`update` learns.

    ``learn(env, total_timesteps)`` plays ``predict(obs, deterministic=False)`` on a single
    or vector environment and hands every step to :meth:`update` as a :class:`Batch`
    (a vector env's autoreset steps, whose actions are ignored, are left out). It counts
    timesteps as SB3 does (one per session per step) in ``num_timesteps_``.
    """

    def __init__(self, env: Env, *, seed: int | None = None):
        super().__init__(env, seed=seed)
        self.num_timesteps_ = 0

    @abstractmethod
    def update(self, batch: Batch) -> None:
        """Learn from one step of B sessions (vectorised over the batch)."""

    def learn(self, env: Env, total_timesteps: int, *, seed: int | None = None) -> OnlineAgent:
        """Interact with ``env`` for ``total_timesteps`` steps (``seed`` seeds its first reset)."""
        if isinstance(total_timesteps, bool) or not isinstance(total_timesteps, (int, np.integer)):
            raise ValueError(f"total_timesteps must be an int >= 0, got {total_timesteps!r}")
        if total_timesteps < 0:
            raise ValueError(f"total_timesteps must be an int >= 0, got {total_timesteps!r}")
        self.check_env(env)
        vector = isinstance(env, VectorEnv)
        n = env.num_envs if isinstance(env, VectorEnv) else 1
        obs, _ = env.reset(seed=seed)
        restarting = np.zeros(n, dtype=bool)
        end = self.num_timesteps_ + int(total_timesteps)
        while self.num_timesteps_ < end:
            actions, _ = self.predict(obs, deterministic=False)
            next_obs, reward, terminated, truncated, info = env.step(actions)
            done = np.atleast_1d(np.logical_or(terminated, truncated))
            accepted = np.atleast_1d(info.get("accepted", np.full(n, -1))).astype(np.int64)
            taken = info.get("taken", accepted[:, None])
            batch = Batch(
                np.atleast_2d(obs),
                np.asarray(actions).reshape(n, self.slate_size),
                accepted,
                np.atleast_1d(np.asarray(reward, dtype=np.float64)),
                np.atleast_2d(next_obs),
                done,
                np.asarray(taken, dtype=np.int64).reshape(n, -1),
            )
            valid = ~restarting
            self.update(batch if valid.all() else batch.rows(valid))
            self.num_timesteps_ += int(valid.sum())
            if vector:
                restarting = done
            elif done[0]:
                next_obs, _ = env.reset()
            obs = next_obs
        return self
