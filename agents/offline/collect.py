"""Rolling a logging policy out into logged episodes (:class:`Logs`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import SyncVectorEnv, VectorEnv

if TYPE_CHECKING:
    from minari import MinariDataset
from .policies import LoggingPolicy, _n_items


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
        column = np.full((n_episodes, *values.shape[1:]), filler, dtype=values.dtype)
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
