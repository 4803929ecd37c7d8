"""A sweep's configuration: agents x environments x seeds, with one budget; checked on load.

A config is a JSON file (``cartgym bench --config FILE``) or a preset
(:mod:`~cartgym.harness.presets`) with the keys of :class:`BenchConfig`; a malformed one
raises :class:`ConfigError` naming the key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import gymnasium as gym

from cartgym.agents.registry import AGENTS, ENV_KINDS

EVAL_POPULATIONS = ("test", "validation")  # never "train": agents learn there


class ConfigError(ValueError):
    """A malformed sweep configuration; the message names the key."""


@dataclass(frozen=True)
class SweepEnv:
    """An environment of the sweep: a registered id, its keyword arguments, and optionally
    the agents to run on it (default: the sweep's ``agents``)."""

    id: str = "CartRec-v0"
    kwargs: dict[str, Any] = field(default_factory=dict)
    agents: tuple[str, ...] | None = None

    @property
    def label(self) -> str:
        if not self.kwargs:
            return self.id
        text = json.dumps(self.kwargs, sort_keys=True)
        return f"{self.id}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"


@dataclass(frozen=True)
class BenchConfig:
    """A sweep: every agent on every environment with every seed.

    agents: the agents of every environment that names none of its own (``envs[i].agents``).
    Every agent must be able to act on its environments (``AgentSpec.acts_on`` in
    :mod:`cartgym.agents.registry`: item agents recommend items, bundle agents offer
    bundles, DQN and QR-DQN need ``Discrete`` actions).
    budget: environment steps each learning agent trains for (the same for all).
    eval_sessions: evaluation sessions per run, on held-out shoppers.
    eval_population: the held-out shoppers: ``"test"`` (published results) or
    ``"validation"`` (every choice made before them: hyperparameters, representations,
    checkpoints). Training always uses ``"train"``.
    eval_lanes: sessions run side by side in the evaluation vector env.
    curve_points: evaluations along training for learning curves (0: none).
    curve_sessions: sessions per learning-curve point.
    agent_kwargs: per-agent settings, ``{"ucb1": {"c": 1.0}}``.
    """

    name: str
    agents: tuple[str, ...]
    envs: tuple[SweepEnv, ...]
    seeds: tuple[int, ...]
    budget: int
    eval_sessions: int = 500
    eval_lanes: int = 50
    eval_population: str = "test"
    curve_points: int = 0
    curve_sessions: int = 100
    agent_kwargs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.agents) - set(AGENTS))
        if unknown:
            raise ConfigError(f"agents: unknown agent(s) {unknown}; known: {sorted(AGENTS)}")
        if not self.agents or not self.envs or not self.seeds:
            raise ConfigError("agents, envs and seeds must each list at least one entry")
        for key in ("budget", "eval_sessions", "eval_lanes", "curve_sessions"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{key}: expected a positive integer, got {value!r}")
        if self.eval_population not in EVAL_POPULATIONS:
            raise ConfigError(
                f"eval_population: expected one of {EVAL_POPULATIONS}, got {self.eval_population!r}"
            )
        if not isinstance(self.curve_points, int) or self.curve_points < 0:
            raise ConfigError(f"curve_points: expected an integer >= 0, got {self.curve_points!r}")
        if any(isinstance(s, bool) or not isinstance(s, int) for s in self.seeds):
            raise ConfigError(f"seeds: expected integers, got {list(self.seeds)!r}")
        for i, env in enumerate(self.envs):
            if env.id not in gym.registry:
                raise ConfigError(f"envs: unknown environment id {env.id!r}")
            if env.agents is not None:
                unknown = sorted(set(env.agents) - set(AGENTS))
                if unknown or not env.agents:
                    raise ConfigError(
                        f"envs[{i}].agents: expected a non-empty list of known agents, unknown: "
                        f"{unknown}; known: {sorted(AGENTS)}"
                    )
            self._check_compatible(i, env)
        used = {agent for env in self.envs for agent in self.agents_of(env)}
        stray = sorted(set(self.agent_kwargs) - used)
        if stray:
            raise ConfigError(f"agent_kwargs: settings for agents not in the sweep: {stray}")

    def agents_of(self, env: SweepEnv) -> tuple[str, ...]:
        """The agents that run on ``env``: its own list, or the sweep's."""
        return self.agents if env.agents is None else env.agents

    def _check_compatible(self, i: int, env: SweepEnv) -> None:
        kind = env_kind(env)
        key = "agents" if env.agents is None else f"envs[{i}].agents"
        wrong = [a for a in self.agents_of(env) if kind not in AGENTS[a].acts_on]
        if wrong:
            able = sorted(a for a in AGENTS if kind in AGENTS[a].acts_on)
            raise ConfigError(
                f"{key}: {wrong} cannot act on envs[{i}] ({env.id}: {ENV_KINDS[kind]}); "
                f"agents that can: {able}"
            )

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> BenchConfig:
        if not isinstance(values, dict):
            raise ConfigError(f"a config is a mapping of keys, got {type(values).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown key(s) {unknown}; known keys: {sorted(known)}")
        missing = sorted(
            k for k in ("name", "agents", "envs", "seeds", "budget") if k not in values
        )
        if missing:
            raise ConfigError(f"missing key(s) {missing}")
        envs = []
        for i, env in enumerate(values["envs"]):
            env = {"id": env} if isinstance(env, str) else env
            if not isinstance(env, dict) or set(env) - {"id", "kwargs", "agents"}:
                raise ConfigError(
                    f"envs[{i}]: expected an id or {{'id': ..., 'kwargs': {{...}}, "
                    "'agents': [...] (optional)}"
                )
            agents = env.get("agents")
            if agents is not None and (isinstance(agents, str) or not isinstance(agents, list)):
                raise ConfigError(
                    f"envs[{i}].agents: expected a list of agent names, got {agents!r}"
                )
            envs.append(
                SweepEnv(
                    env.get("id", "CartRec-v0"),
                    dict(env.get("kwargs", {})),
                    None if agents is None else tuple(agents),
                )
            )
        return cls(
            **{
                **values,
                "agents": tuple(values["agents"]),
                "envs": tuple(envs),
                "seeds": tuple(values["seeds"]),
            }
        )

    @classmethod
    def from_file(cls, path: str | Path) -> BenchConfig:
        try:
            values = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise ConfigError(f"{path}: cannot read a JSON config ({error})") from error
        return cls.from_dict(values)

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["envs"] = [
            {k: (list(v) if k == "agents" else v) for k, v in asdict(e).items()}
            if e.agents is not None
            else {"id": e.id, "kwargs": e.kwargs}
            for e in self.envs
        ]
        return values

    def runs(self) -> Iterator[Run]:
        """Every run, the cheap ones first: a sweep stopped early then holds all seeds of
        the agents that need no SB3 training, and whole seeds of the SB3 agents."""
        for trains in (False, True):
            for env in self.envs:
                for seed in self.seeds:
                    for agent in self.agents_of(env):
                        if (AGENTS[agent].kind == "sb3") == trains:
                            yield Run(agent, env, seed)


@dataclass(frozen=True)
class Run:
    agent: str
    env: SweepEnv
    seed: int

    @property
    def key(self) -> str:
        return f"{self.agent}__{self.env.label}__seed{self.seed}"


def env_kind(env: SweepEnv) -> str:
    """``"items"``, ``"slates"`` or ``"bundles"``: what ``env``'s actions are (from its
    registered and given keyword arguments)."""
    kwargs = {**gym.spec(env.id).kwargs, **env.kwargs}
    if kwargs.get("bundle_candidates") is not None:
        return "bundles"
    return "items" if kwargs.get("slate_size", 1) == 1 else "slates"
