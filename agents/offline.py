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
are read from the observation's cart block, as :mod:`cartgym.agents.masking` does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import SyncVectorEnv, VectorEnv
from scipy.stats import norm

from .base import Agent, bind

if TYPE_CHECKING:
    from minari import MinariDataset

INSTALL_HINT = 'pip install "cartgym[offline]"'
CHUNK = 4096  # rows of (rows, M) probabilities computed at once


def _n_items(source: Any) -> int:
    """M of a Discrete(M) item environment, agent or SB3 model; ValueError for anything else."""
    space: Any
    if isinstance(source, Agent):
        n = source.n_items
        space = spaces.Discrete(n) if source.slate_size == 1 else None
    elif isinstance(source, (gym.Env, VectorEnv)):
        n = bind(source)[1].n_items
        core = source.unwrapped
        space = getattr(core, "single_action_space", core.action_space)
    else:  # an SB3 model: observation = cart (M), history (M), six scalars
        n, space = (int(np.prod(source.observation_space.shape)) - 6) // 2, source.action_space
    if not isinstance(space, spaces.Discrete) or int(space.n) != n:
        raise ValueError(
            "offline logging supports Discrete(M) item environments only (one item per step, "
            f"no slates or bundles), got action space {space}"
        )
    return n


def allowed_items(obs: np.ndarray, n_items: int) -> np.ndarray:
    """(B, M) True for items not in the cart; every item where the cart holds all of them."""
    allowed = np.asarray(obs)[:, :n_items] <= 0.5
    allowed[~allowed.any(axis=1)] = True
    return allowed


def sample(probabilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(B,) one action per row of (B, A) probabilities, by inversion; never a 0-probability one."""
    cdf = np.cumsum(probabilities, axis=1)
    cdf /= cdf[:, -1:]
    return (cdf <= rng.random((len(cdf), 1))).sum(axis=1)


class LoggingPolicy(Protocol):
    """A stochastic policy that knows its action probabilities."""

    n_actions: int

    def probabilities(self, obs: np.ndarray) -> np.ndarray:
        """(B, A) probability of each action for (B, D) observations; rows sum to 1."""
        ...

    def act(self, obs: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(B,) actions drawn with ``rng`` and (B,) their probabilities (propensities)."""
        ...


class StochasticPolicy(ABC):
    """A :class:`LoggingPolicy` that samples from :meth:`probabilities`: define only that."""

    n_actions: int

    @abstractmethod
    def probabilities(self, obs: np.ndarray) -> np.ndarray:
        """(B, A) probability of each action for (B, D) observations; rows sum to 1."""

    def act(self, obs: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(B,) actions drawn with ``rng`` and (B,) their probabilities (propensities)."""
        probs = self.probabilities(np.atleast_2d(obs))
        actions = sample(probs, rng)
        return actions, probs[np.arange(len(probs)), actions]

    def __repr__(self) -> str:
        settings = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in settings.items())})"


class UniformPolicy(StochasticPolicy):
    """A uniformly random item among those not in the cart: 1 / #allowed each."""

    def __init__(self, env: gym.Env | VectorEnv):
        self.n_actions = _n_items(env)

    def probabilities(self, obs: np.ndarray) -> np.ndarray:
        allowed = allowed_items(obs, self.n_actions)
        return allowed / allowed.sum(axis=1, keepdims=True)


class EpsilonGreedyPolicy(StochasticPolicy):
    """The agent's deterministic ``predict`` with probability 1 - epsilon, else a random item.

    Probabilities: epsilon / #allowed on every item not in the cart, plus 1 - epsilon on the
    agent's choice. ``agent``: a cartgym agent or an SB3 model whose deterministic
    ``predict`` depends on the observation only (not an oracle reading the simulator).
    """

    def __init__(self, agent: Any, epsilon: float = 0.1):
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon!r}")
        self.agent, self.epsilon = agent, float(epsilon)
        self.n_actions = _n_items(agent)

    def probabilities(self, obs: np.ndarray) -> np.ndarray:
        greedy = np.asarray(self.agent.predict(obs, deterministic=True)[0]).reshape(-1)
        return _epsilon_greedy(greedy, allowed_items(obs, self.n_actions), self.epsilon)


def _epsilon_greedy(greedy: np.ndarray, allowed: np.ndarray, epsilon: float) -> np.ndarray:
    probs = epsilon * allowed / allowed.sum(axis=1, keepdims=True)
    probs[np.arange(len(probs)), greedy] += 1.0 - epsilon
    return probs


class SoftmaxPolicy(StochasticPolicy):
    """Items not in the cart with probability proportional to exp(score / temperature).

    ``agent``: a cartgym agent; its ``scores(obs)`` (exploration off) are used. A high
    temperature tends to uniform, a low one to the agent's greedy choice.
    """

    def __init__(self, agent: Agent, temperature: float = 1.0):
        if not (np.isfinite(temperature) and temperature > 0):
            raise ValueError(f"temperature must be a positive number, got {temperature!r}")
        self.agent, self.temperature = agent, float(temperature)
        self.n_actions = _n_items(agent)

    def probabilities(self, obs: np.ndarray) -> np.ndarray:
        allowed = allowed_items(obs, self.n_actions)
        scores = np.asarray(self.agent.scores(obs), dtype=np.float64) / self.temperature
        scores = np.where(allowed & ~np.isnan(scores), scores, -np.inf)
        top = scores.max(axis=1, keepdims=True)
        weights = np.exp(scores - np.where(np.isfinite(top), top, 0.0))
        bad = ~np.isfinite(weights).all(axis=1) | (weights.sum(axis=1) <= 0)
        weights[bad] = allowed[bad]  # no usable score: uniform over the allowed items
        return weights / weights.sum(axis=1, keepdims=True)


class SB3Policy(StochasticPolicy):
    """The action distribution of a Stable-Baselines3 model on a Discrete(M) item env.

    Actor-critic models (PPO, A2C, MaskablePPO): the policy's categorical distribution
    (``policy.get_distribution(obs).distribution.probs``; cartgym's masked policies give 0
    to items in the cart), mixed with a uniform item not in the cart with weight
    ``epsilon`` (default 0). Q-learning models (DQN, QR-DQN): epsilon-greedy around the
    deterministic prediction, with ``epsilon`` (default: the model's current
    ``exploration_rate``, 0 before training) spread over the items not in the cart for
    cartgym's ``MaskedDQN``/``MaskedQRDQN``, over all items for SB3's own, as their
    ``predict`` does.
    """

    def __init__(self, model: Any, epsilon: float | None = None):
        self.model = model
        self.n_actions = _n_items(model)
        self.actor_critic = hasattr(model.policy, "get_distribution")
        if epsilon is None:
            epsilon = 0.0 if self.actor_critic else float(model.exploration_rate)
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon!r}")
        self.epsilon = float(epsilon)
        from .masking import MaskedDQN, MaskedQRDQN

        self._masked_exploration = isinstance(model, (MaskedDQN, MaskedQRDQN))

    def probabilities(self, obs: np.ndarray) -> np.ndarray:
        import torch as th

        obs = np.asarray(obs, dtype=np.float32)
        if not self.actor_critic:
            greedy = np.asarray(self.model.policy.predict(obs, deterministic=True)[0])
            allowed = allowed_items(obs, self.n_actions)
            if not self._masked_exploration:
                allowed = np.ones_like(allowed)
            return _epsilon_greedy(greedy.reshape(-1), allowed, self.epsilon)
        obs_tensor, _ = self.model.policy.obs_to_tensor(obs)
        with th.no_grad():
            probs = self.model.policy.get_distribution(obs_tensor).distribution.probs
        probs = probs.cpu().numpy().astype(np.float64)
        allowed = allowed_items(obs, self.n_actions)
        uniform = allowed / allowed.sum(axis=1, keepdims=True)
        return (1 - self.epsilon) * probs / probs.sum(
            axis=1, keepdims=True
        ) + self.epsilon * uniform


@dataclass(frozen=True)
class Logs:
    """Logged episodes as flat arrays, episode after episode, steps in order.

    ``observations`` (n, D) are those the actions were chosen on; ``propensities`` (n,) the
    logging probability of each action taken; ``probabilities`` (n, A) all of them (only
    when asked for). ``infos`` hold the environment's step info per key (n,);
    ``reset_infos`` the reset info per episode (E,) under the same keys (-1, NaN or False
    where the reset has no such entry). ``last_observations`` (E, D) follow each episode's
    last step.
    """

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    propensities: np.ndarray
    terminations: np.ndarray
    truncations: np.ndarray
    lengths: np.ndarray
    last_observations: np.ndarray
    infos: dict[str, np.ndarray]
    reset_infos: dict[str, np.ndarray]
    probabilities: np.ndarray | None = None

    @property
    def n_episodes(self) -> int:
        return len(self.lengths)

    @property
    def step_index(self) -> np.ndarray:
        """(n,) position of each step within its episode (0 first)."""
        starts = np.cumsum(self.lengths) - self.lengths
        return np.arange(len(self.actions)) - np.repeat(starts, self.lengths)

    def returns(self, gamma: float = 1.0) -> np.ndarray:
        """(E,) discounted return of each episode."""
        episode = np.repeat(np.arange(self.n_episodes), self.lengths)
        discounted = self.rewards * gamma ** self.step_index.astype(np.float64)
        return np.bincount(episode, weights=discounted, minlength=self.n_episodes)

    def episodes(self) -> Iterator[dict[str, Any]]:
        """Each episode as Minari lays it out: T + 1 observations and infos, T of the rest.

        Row 0 of the infos is the reset; row t + 1 the info of step t, with its
        ``propensity`` (and ``probabilities`` when logged; NaN at the reset).
        """
        ends = np.cumsum(self.lengths)
        for e, (start, end) in enumerate(zip(ends - self.lengths, ends, strict=True)):
            steps = slice(start, end)
            infos = {
                k: np.concatenate([self.reset_infos[k][e : e + 1], v[steps]])
                for k, v in self.infos.items()
            }
            infos["propensity"] = np.concatenate([[np.nan], self.propensities[steps]])
            if self.probabilities is not None:
                blank = np.full((1, self.probabilities.shape[1]), np.nan)
                infos["probabilities"] = np.concatenate([blank, self.probabilities[steps]])
            yield {
                "observations": np.concatenate(
                    [self.observations[steps], self.last_observations[e : e + 1]]
                ),
                "actions": self.actions[steps],
                "rewards": self.rewards[steps],
                "terminations": self.terminations[steps],
                "truncations": self.truncations[steps],
                "infos": infos,
            }

    @classmethod
    def from_dataset(cls, dataset: MinariDataset) -> Logs:
        """The logs of a Minari dataset written by :func:`record_dataset`."""
        episodes = list(dataset.iterate_episodes())
        if not episodes:
            raise ValueError("the dataset holds no episode")
        if "propensity" not in episodes[0].infos:
            raise ValueError("the dataset has no 'propensity' info: record it with record_dataset")
        cat = np.concatenate
        keys = [k for k in episodes[0].infos if k not in ("propensity", "probabilities")]
        with_probs = "probabilities" in episodes[0].infos
        return cls(
            observations=cat([ep.observations[:-1] for ep in episodes]),
            actions=cat([ep.actions for ep in episodes]).astype(np.int64),
            rewards=cat([ep.rewards for ep in episodes]).astype(np.float64),
            propensities=cat([ep.infos["propensity"][1:] for ep in episodes]),
            terminations=cat([ep.terminations for ep in episodes]),
            truncations=cat([ep.truncations for ep in episodes]),
            lengths=np.array([len(ep.actions) for ep in episodes]),
            last_observations=np.stack([ep.observations[-1] for ep in episodes]),
            infos={k: cat([ep.infos[k][1:] for ep in episodes]) for k in keys},
            reset_infos={k: np.array([ep.infos[k][0] for ep in episodes]) for k in keys},
            probabilities=(
                cat([ep.infos["probabilities"][1:] for ep in episodes]) if with_probs else None
            ),
        )


def _vector_env(env: str | gym.Env, num_envs: int, env_kwargs: dict[str, Any]) -> VectorEnv:
    if isinstance(env, str):
        return gym.make_vec(
            env, num_envs=num_envs, vectorization_mode="vector_entry_point", **env_kwargs
        )
    if env_kwargs:
        raise ValueError("environment keyword arguments go with an environment id, not an env")
    return SyncVectorEnv([lambda: env])


def collect(
    env: str | gym.Env,
    policy: LoggingPolicy,
    n_episodes: int,
    seed: int | None = None,
    *,
    keep_probabilities: bool = False,
    num_envs: int = 16,
    **env_kwargs: Any,
) -> Logs:
    """Roll ``policy`` out for ``n_episodes`` sessions and return what it logged.

    ``env``: an environment id (then ``num_envs`` sessions run together in cartgym's vector
    env, made with ``env_kwargs``) or a single environment. The episodes kept are the first
    ``n_episodes`` to start, whatever their length, so short sessions are not favoured.
    ``seed`` seeds the environment and the policy's generator (separate streams).
    """
    if isinstance(n_episodes, bool) or not isinstance(n_episodes, (int, np.integer)):
        raise ValueError(f"n_episodes must be a positive int, got {n_episodes!r}")
    if n_episodes < 1:
        raise ValueError(f"n_episodes must be a positive int, got {n_episodes!r}")
    venv = _vector_env(env, num_envs, env_kwargs)
    try:
        n_actions = _n_items(venv if isinstance(env, str) else env)
        if n_actions != policy.n_actions:
            raise ValueError(
                f"the policy has {policy.n_actions} actions, the environment {n_actions}"
            )
        return _rollout(venv, policy, int(n_episodes), seed, keep_probabilities)
    finally:
        if isinstance(env, str):
            venv.close()


def _rollout(
    venv: VectorEnv,
    policy: LoggingPolicy,
    n_episodes: int,
    seed: int | None,
    keep_probabilities: bool,
) -> Logs:
    """The first ``n_episodes`` sessions to start on ``venv`` (next-step autoreset)."""
    seeds = np.random.SeedSequence(seed)
    rng = np.random.default_rng(seeds.spawn(1)[0])
    obs, info = venv.reset(seed=int(seeds.generate_state(1)[0]))
    b = venv.num_envs
    episode, t = np.full(b, -1), np.zeros(b, dtype=np.int64)  # episode -1: not kept
    fresh, waiting = np.ones(b, dtype=bool), np.zeros(b, dtype=bool)  # just reset; ended
    started = finished = 0
    last_obs = np.zeros((n_episodes, *obs.shape[1:]), dtype=obs.dtype)
    starts: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []
    steps: list[dict[str, Any]] = []
    while finished < n_episodes:
        new = np.flatnonzero(fresh)[: n_episodes - started]
        episode[fresh], t[new] = -1, 0
        episode[new] = np.arange(started, started + len(new))
        started += len(new)
        starts.append((episode[new], {k: np.asarray(v)[new] for k, v in _plain(info).items()}))
        live = np.flatnonzero((episode >= 0) & ~waiting)
        seen = obs[live]
        chosen, propensities = policy.act(seen, rng) if len(live) else (live, live)
        actions = np.zeros(b, dtype=np.int64)  # sessions not kept or restarting: any item
        actions[live] = chosen
        obs, reward, terminated, truncated, info = venv.step(actions)
        ended = (np.asarray(terminated) | np.asarray(truncated)) & ~waiting
        steps.append(
            {
                "episode": episode[live],
                "t": t[live],
                "observations": seen,
                "actions": chosen,
                "propensities": propensities,
                "rewards": np.asarray(reward, dtype=np.float64)[live],
                "terminations": np.asarray(terminated)[live],
                "truncations": np.asarray(truncated)[live],
                "infos": {k: np.asarray(v)[live] for k, v in _plain(info).items()},
            }
        )
        if keep_probabilities:
            steps[-1]["probabilities"] = policy.probabilities(seen) if len(live) else None
        t[live] += 1
        done = live[ended[live]]
        last_obs[episode[done]] = obs[done]
        finished += len(done)
        fresh, waiting = waiting, ended
    return _logs([s for s in steps if len(s["episode"])], starts, last_obs, n_episodes)


def _plain(info: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in info.items() if not k.startswith("_")}


def _logs(
    steps: list[dict[str, Any]],
    starts: list[tuple[np.ndarray, dict[str, np.ndarray]]],
    last_obs: np.ndarray,
    n_episodes: int,
) -> Logs:
    episode = np.concatenate([s["episode"] for s in steps])
    order = np.lexsort((np.concatenate([s["t"] for s in steps]), episode))

    def gather(key: str) -> np.ndarray:
        return np.concatenate([s[key] for s in steps])[order]

    infos = {k: np.concatenate([s["infos"][k] for s in steps])[order] for k in steps[-1]["infos"]}
    reset_infos = {}
    for key, values in infos.items():
        filler = {"f": np.nan, "b": False, "i": -1}.get(values.dtype.kind, 0)
        column = np.full(n_episodes, filler, dtype=values.dtype)
        for ids, reset in starts:
            if key in reset:
                column[ids] = reset[key]
        reset_infos[key] = column
    return Logs(
        observations=gather("observations"),
        actions=gather("actions").astype(np.int64),
        rewards=gather("rewards"),
        propensities=gather("propensities").astype(np.float64),
        terminations=gather("terminations").astype(bool),
        truncations=gather("truncations").astype(bool),
        lengths=np.bincount(episode, minlength=n_episodes),
        last_observations=last_obs,
        infos=infos,
        reset_infos=reset_infos,
        probabilities=gather("probabilities") if "probabilities" in steps[0] else None,
    )


def _minari() -> Any:
    try:
        import minari
    except ImportError as err:
        raise ImportError(f"Minari datasets need minari:\n{INSTALL_HINT}") from err
    return minari


@contextlib.contextmanager
def _datasets_path(root: str | os.PathLike | None) -> Iterator[None]:
    """Minari's datasets folder set to ``root`` for the duration (Minari reads the variable)."""
    if root is None:
        yield
        return
    before = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(Path(root).resolve())
    try:
        yield
    finally:
        if before is None:
            del os.environ["MINARI_DATASETS_PATH"]
        else:
            os.environ["MINARI_DATASETS_PATH"] = before


def record_dataset(
    env: str | gym.Env,
    policy: LoggingPolicy,
    n_episodes: int,
    dataset_id: str,
    seed: int | None = None,
    *,
    root: str | os.PathLike | None = None,
    keep_probabilities: bool = False,
    num_envs: int = 16,
    data_format: str = "arrow",
    description: str | None = None,
    **env_kwargs: Any,
) -> MinariDataset:
    """Log ``n_episodes`` of ``policy`` on ``env`` into a new Minari dataset and return it.

    ``env`` and ``env_kwargs`` as in :func:`collect`. Each step's ``infos`` carry the
    environment's info (``accepted``, ``rec_revenue``, ``checkout``, ...) and the
    ``propensity`` of the action taken; ``keep_probabilities=True`` adds the whole
    action-probability vector (M floats a step). The dataset goes under ``root`` (default:
    ``$MINARI_DATASETS_PATH``, else ``~/.minari/datasets``) as ``dataset_id``
    (``namespace/name-v0``). The environment's spec (id and keyword arguments) is stored, so
    ``dataset.recover_environment()`` rebuilds it when those arguments are JSON values.
    Needs minari (``pip install "cartgym[offline]"``); ``data_format="arrow"`` needs only
    pyarrow, ``"hdf5"`` needs h5py.
    """
    minari = _minari()
    from minari.data_collector.episode_buffer import EpisodeBuffer

    logs = collect(
        env,
        policy,
        n_episodes,
        seed,
        keep_probabilities=keep_probabilities,
        num_envs=num_envs,
        **env_kwargs,
    )
    if isinstance(env, str):
        spec = gym.spec(env)
        source: Any = dataclasses.replace(spec, kwargs={**spec.kwargs, **env_kwargs})
    else:
        source = env
    buffers = [
        EpisodeBuffer(
            id=e,
            observations=ep["observations"],
            actions=ep["actions"],
            rewards=ep["rewards"].tolist(),
            terminations=ep["terminations"].tolist(),
            truncations=ep["truncations"].tolist(),
            # Minari's arrow format reads 1-D array infos back wrongly: scalars go as lists
            infos={k: v.tolist() if v.ndim == 1 else v for k, v in ep["infos"].items()},
        )
        for e, ep in enumerate(logs.episodes())
    ]
    about = description or f"{n_episodes} episodes of {policy!r} (seed {seed}), with propensities"
    with _datasets_path(root), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is set to None", category=UserWarning)
        dataset = minari.create_dataset_from_buffers(
            dataset_id,
            [],
            env=source,
            algorithm_name=type(policy).__name__,
            description=about,
            data_format=data_format,
            requirements=["cartgym"],
        )
        _write(dataset.storage, buffers)
        return minari.MinariDataset(dataset.storage.data_path)


def _write(storage: Any, buffers: list[Any]) -> None:
    """``storage.update_episodes(buffers)`` without Minari's size scan after every episode.

    Minari 0.5 re-measures the whole folder after each episode it adds (quadratic in the
    number of episodes: minutes for a few thousand); the size is measured once at the end.
    """
    bulk = type("BulkWriter", (type(storage),), {"get_size": lambda self: 0.0})
    bulk(storage.data_path, storage.observation_space, storage.action_space).update_episodes(
        buffers
    )
    storage.update_metadata({"dataset_size": storage.get_size()})


class Estimate(NamedTuple):
    """A value and its confidence interval."""

    value: float
    low: float
    high: float


def ips_value(
    data: Logs | MinariDataset,
    target: LoggingPolicy,
    *,
    gamma: float = 1.0,
    per_decision: bool = True,
    self_normalised: bool = False,
    confidence: float = 0.95,
    n_bootstrap: int = 0,
    seed: int | None = None,
) -> Estimate:
    """Importance-sampling estimate of ``target``'s expected return per session from logs.

    ``data``: :class:`Logs` or a Minari dataset from :func:`record_dataset`. With
    w_t = prod_{s <= t} target(a_s | x_s) / propensity_s, an episode scores
    sum_t gamma^t w_t r_t (``per_decision``, the default: a reward is weighted by the
    actions before it only) or w_T sum_t gamma^t r_t (trajectory-wise); the estimate is
    their mean over episodes. ``self_normalised`` divides by the mean weight instead of 1
    (at each step for per-decision, where an ended episode keeps its last weight): a little
    bias, often much less variance. The interval is normal over episodes (the delta method
    for the self-normalised ratio), or a percentile bootstrap over episodes with
    ``n_bootstrap`` resamples drawn from ``seed``.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if not 0 <= gamma <= 1:
        raise ValueError(f"gamma must be in [0, 1], got {gamma!r}")
    logs = data if isinstance(data, Logs) else Logs.from_dataset(data)
    mu, pi = logs.propensities, _chosen_probabilities(target, logs.observations, logs.actions)
    if not (np.isfinite(mu).all() and (mu > 0).all() and (mu <= 1 + 1e-9).all()):
        raise ValueError("every logged propensity must lie in (0, 1]")
    t = logs.step_index
    rows = np.repeat(np.arange(logs.n_episodes), logs.lengths)
    ratios = np.ones((logs.n_episodes, int(logs.lengths.max())))
    rewards = np.zeros_like(ratios)
    ratios[rows, t] = pi / mu
    rewards[rows, t] = logs.rewards * gamma ** t.astype(np.float64)
    weights = np.cumprod(ratios, axis=1)  # an ended episode keeps its last weight
    if not per_decision:
        weights, rewards = weights[:, -1:], rewards.sum(axis=1, keepdims=True)
    value, influence = _weighted_mean(weights, rewards, self_normalised)
    if n_bootstrap <= 0:
        return _normal(value, influence, confidence)
    rng = np.random.default_rng(seed)
    draws = [
        _weighted_mean(weights[i], rewards[i], self_normalised)[0]
        for i in rng.integers(logs.n_episodes, size=(n_bootstrap, logs.n_episodes))
    ]
    low, high = np.quantile(draws, [(1 - confidence) / 2, (1 + confidence) / 2])
    return Estimate(value, float(low), float(high))


def _chosen_probabilities(
    policy: LoggingPolicy, obs: np.ndarray, actions: np.ndarray
) -> np.ndarray:
    """(n,) probability of each logged action under ``policy``, in chunks of rows."""
    out = np.empty(len(actions))
    for i in range(0, len(actions), CHUNK):
        probs = policy.probabilities(obs[i : i + CHUNK])
        out[i : i + CHUNK] = probs[np.arange(len(probs)), actions[i : i + CHUNK]]
    if not ((out >= 0) & (out <= 1 + 1e-9)).all():
        raise ValueError("the target policy gave probabilities outside [0, 1]")
    return out


def _weighted_mean(
    weights: np.ndarray, rewards: np.ndarray, self_normalised: bool
) -> tuple[float, np.ndarray]:
    """(value, per-episode influence) of the (E, T) weighted rewards, plain or normalised."""
    terms = weights * rewards
    if not self_normalised:
        scores = terms.sum(axis=1)
        return float(scores.mean()), scores - scores.mean()
    a, b = terms.mean(axis=0), weights.mean(axis=0)
    b = np.where(b > 0, b, 1.0)  # no weight at t: a is 0 there too
    return float((a / b).sum()), ((terms - (a / b) * weights) / b).sum(axis=1)


def _normal(value: float, influence: np.ndarray, confidence: float) -> Estimate:
    n = len(influence)
    half = norm.ppf((1 + confidence) / 2) * (influence.std(ddof=1) / np.sqrt(n) if n > 1 else 0)
    return Estimate(value, float(value - half), float(value + half))


def on_policy_value(
    env: str | gym.Env,
    policy: LoggingPolicy,
    n_episodes: int,
    seed: int | None = None,
    *,
    gamma: float = 1.0,
    confidence: float = 0.95,
    num_envs: int = 16,
    **env_kwargs: Any,
) -> Estimate:
    """The mean return per session of ``policy`` run on ``env`` itself, with a normal interval.

    The ground truth for :func:`ips_value`: use the ``env_kwargs`` the logs were made with.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    returns = collect(env, policy, n_episodes, seed, num_envs=num_envs, **env_kwargs).returns(gamma)
    return _normal(float(returns.mean()), returns - returns.mean(), confidence)
