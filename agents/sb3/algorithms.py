"""The SB3 algorithms of cartgym: tuned defaults, a registry, and :func:`make_model`.

:func:`make_model` builds a registered algorithm (``dqn``, ``qrdqn``, ``ppo``, ``a2c``)
with the defaults of :data:`DEFAULTS` (see docs/agents/rl.md), on an SB3 VecEnv or an
environment id (then the native vector env with the algorithm's ``n_envs``). Every
built-in algorithm uses a masked policy (:mod:`cartgym.agents.sb3.policies`): items in the
cart are never recommended.
:func:`register_algorithm` adds an algorithm; packages can also declare one under the entry
point group ``cartgym.algorithms``. ``ppo`` is SB3's PPO with cartgym's masked policy; it
is the only PPO: sb3-contrib's MaskablePPO, handed the same masks by ``action_masks()``,
trains identically (v0 sweeps had identical rows for the two), so it is not registered.

Models log through a logger of cartgym's own (:func:`quiet_logger`): SB3's default would
create an empty ``SB3-<date>`` folder in the system's temporary directory at every
``learn()``.
"""

from __future__ import annotations

import copy
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import gymnasium as gym
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.logger import HumanOutputFormat, Logger
from stable_baselines3.common.vec_env import VecEnv

from ..knowledge import LogKnowledge
from .masking import MaskSource, action_shape
from .policies import (
    MaskedActorCriticPolicy,
    MaskedDQN,
    MaskedQPolicy,
    MaskedQRDQN,
    MaskedQuantilePolicy,
)
from .representations import DEFAULT_FEATURES, FEATURES, default_features, policy_kwargs
from .rewards import scale_rewards
from .vec_env import make_sb3_vec_env

ENTRY_POINT_GROUP = "cartgym.algorithms"

Factory = Callable[..., BaseAlgorithm]

# Tuned on CartRec-v0 (M = 1000, revenue reward); docs/results/rl/tuning.md has the runs.
_Q_NET = {"net_arch": [256, 256]}

_AC_NET = {"net_arch": {"pi": [256, 256], "vf": [256, 256]}}

_Q_LEARNING = {  # DQN and QR-DQN share these
    "learning_rate": 5e-4,
    "buffer_size": 20_000,  # 16 kB per transition at M = 1000: 320 MB
    "learning_starts": 1_000,
    "batch_size": 128,
    "gamma": 0.95,
    "train_freq": 4,
    "gradient_steps": 2,
    "target_update_interval": 1_000,
    "exploration_fraction": 0.3,
    "exploration_final_eps": 0.05,
}

DEFAULTS: dict[str, dict[str, Any]] = {
    "dqn": {**_Q_LEARNING, "policy_kwargs": _Q_NET},
    "qrdqn": {**_Q_LEARNING, "policy_kwargs": {**_Q_NET, "n_quantiles": 25}},
    "ppo": {
        "learning_rate": 3e-4,
        "n_steps": 128,
        "batch_size": 256,
        "n_epochs": 4,
        "gamma": 0.95,
        "gae_lambda": 0.9,
        "ent_coef": 0.01,
        "policy_kwargs": _AC_NET,
    },
    "a2c": {
        "learning_rate": 7e-4,
        "n_steps": 16,
        "gamma": 0.95,
        "gae_lambda": 0.9,
        "ent_coef": 0.01,
        "policy_kwargs": _AC_NET,
    },
}


@dataclass(frozen=True)
class Algorithm:
    """A registered algorithm: its factory and how it is run.

    ``factory(env, *, features, seed, device, **overrides) -> BaseAlgorithm`` builds a
    model on an SB3 VecEnv; ``n_envs`` is the number of sessions it trains on by default;
    ``slate`` says whether it supports ``MultiDiscrete`` slates (CartRecSlate-v0).
    """

    factory: Factory
    n_envs: int = 8
    slate: bool = True
    description: str = ""


# CartRec-v1 pays the whole basket at checkout, so a discount below 1 makes a longer (and
# larger) session worth less: undiscounted returns where validation shoppers preferred them
# (docs/results/cartrec-v1/tuning.md: PPO, DQN and QR-DQN; A2C did better with 0.95); v0
# keeps the settings its results were made with.
V1_OVERRIDES: dict[str, dict[str, Any]] = {
    "dqn": {"gamma": 1.0},
    "qrdqn": {"gamma": 1.0},
    "ppo": {"gamma": 1.0},
}


# The reward SB3 agents train on in CartRec-v1 (the environment they are evaluated on
# keeps its own): clicks, 1 per item taken, paid at the step (what a shop sees at once).
# Trained on the basket paid at checkout, one recommendation moves a return of about 220
# by about 1: on validation shoppers PPO and DQN then stayed near the show-nothing level;
# on clicks they learned which items shoppers take (docs/results/cartrec-v1/tuning.md).
V1_TRAINING_REWARD = "click"


def training_reward(env_id: str, env_kwargs: dict[str, Any] | None = None) -> str | None:
    """The reward to train on for ``env_id`` (:data:`V1_TRAINING_REWARD` on CartRec-v1,
    None to keep the environment's own)."""
    kwargs = {**gym.spec(env_id).kwargs, **(env_kwargs or {})}
    return V1_TRAINING_REWARD if kwargs.get("dynamics") == "v1" else None


def defaults_for(name: str, env: Any) -> dict[str, Any]:
    """A copy of the defaults of algorithm ``name`` on ``env``: :data:`DEFAULTS`, with
    :data:`V1_OVERRIDES` on CartRec-v1 environments."""
    settings = copy.deepcopy(DEFAULTS[name])
    if dynamics_of(env) == "v1":
        settings.update(copy.deepcopy(V1_OVERRIDES.get(name, {})))
    return settings


def dynamics_of(env: Any) -> str | None:
    """``"v0"`` or ``"v1"`` for a cartgym environment (single, vector or SB3 VecEnv)."""
    try:
        sim = env.get_attr("sim")[0] if isinstance(env, VecEnv) else env.unwrapped.sim
    except AttributeError:
        return None
    return getattr(sim.config, "dynamics", None)


def _builtin(cls: type[BaseAlgorithm], policy: type, name: str) -> Factory:
    def factory(
        env: Any,
        *,
        features: str = DEFAULT_FEATURES,
        seed: int | None = None,
        device: str = "auto",
        knowledge: LogKnowledge | None = None,
        **overrides: Any,
    ) -> BaseAlgorithm:
        settings = defaults_for(name, env)
        kwargs = {
            **settings.pop("policy_kwargs", {}),
            **policy_kwargs(features, env, knowledge),
            "mask_source": MaskSource.of_env(env),
            **(overrides.pop("policy_kwargs", None) or {}),
        }
        settings.update(overrides)
        return cls(policy, env, policy_kwargs=kwargs, seed=seed, device=device, **settings)

    factory.__name__ = f"make_{name}"
    factory.__doc__ = f"{cls.__name__} with a masked policy and cartgym's defaults."
    return factory


make_dqn = _builtin(MaskedDQN, MaskedQPolicy, "dqn")

make_qrdqn = _builtin(MaskedQRDQN, MaskedQuantilePolicy, "qrdqn")

make_ppo = _builtin(PPO, MaskedActorCriticPolicy, "ppo")

make_a2c = _builtin(A2C, MaskedActorCriticPolicy, "a2c")

REGISTRY: dict[str, Algorithm] = {
    "dqn": Algorithm(make_dqn, 8, False, "DQN (SB3), masked Q-values and exploration"),
    "qrdqn": Algorithm(make_qrdqn, 8, False, "QR-DQN (sb3-contrib), masked quantiles"),
    "ppo": Algorithm(make_ppo, 8, True, "PPO (SB3), masked logits"),
    "a2c": Algorithm(make_a2c, 8, True, "A2C (SB3), masked logits"),
}


def _key(name: str) -> str:
    return name.lower().replace("-", "_")


def register_algorithm(
    name: str,
    factory: Factory,
    *,
    n_envs: int = 8,
    slate: bool = True,
    description: str = "",
    overwrite: bool = False,
) -> None:
    """Make ``factory`` available as ``name`` to :func:`make_model` and ``cartgym train``.

    ``factory(env, *, features, seed, device, **overrides)`` returns an SB3-compatible
    model (``learn``, ``predict``, ``save``, ``load``) built on the SB3 VecEnv ``env``.
    """
    key = _key(name)
    if not key or not callable(factory):
        raise ValueError("register_algorithm needs a name and a callable factory")
    if key in REGISTRY and not overwrite:
        raise ValueError(f"algorithm {key!r} is already registered (pass overwrite=True)")
    if n_envs < 1:
        raise ValueError(f"n_envs must be >= 1, got {n_envs}")
    REGISTRY[key] = Algorithm(factory, int(n_envs), bool(slate), description)


def _entry_points() -> dict[str, Any]:
    return {_key(ep.name): ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def algorithm_names() -> list[str]:
    """Registered algorithms and those declared under the ``cartgym.algorithms`` entry points."""
    return sorted(set(REGISTRY) | set(_entry_points()))


def get_algorithm(name: str) -> Algorithm:
    """The registered algorithm ``name``, an entry point of that name, or ``module:factory``.

    An entry point or a ``module:factory`` path may name a factory or an :class:`Algorithm`.
    """
    key = _key(name)
    compact = {k.replace("_", ""): spec for k, spec in REGISTRY.items()}
    if key in REGISTRY or key.replace("_", "") in compact:
        return REGISTRY.get(key) or compact[key.replace("_", "")]
    target: Any = None
    if key in _entry_points():
        target = _entry_points()[key].load()
    elif ":" in name:
        module, _, attr = name.partition(":")
        try:
            target = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as error:
            raise ValueError(f"cannot import algorithm factory {name!r}: {error}") from None
    if target is None:
        raise ValueError(
            f"unknown algorithm {name!r}; choose one of {', '.join(algorithm_names())} "
            "or give module:factory"
        )
    if isinstance(target, Algorithm):
        return target
    if not callable(target):
        raise ValueError(f"algorithm factory {name!r} is not callable")
    return Algorithm(target)


def make_model(
    algorithm: str,
    env: VecEnv | gym.Env | str,
    *,
    features: str | None = None,
    seed: int | None = None,
    device: str = "auto",
    reward_scale: float | str | None = "auto",
    knowledge: LogKnowledge | None = None,
    **overrides: Any,
) -> BaseAlgorithm:
    """A new model of ``algorithm`` on ``env`` (a VecEnv, a Gymnasium env or an env id).

    ``knowledge`` is what the representation and the automatic reward scale may know of
    the items (:class:`~cartgym.agents.knowledge.LogKnowledge`; default: the training logs
    behind the environment's catalogue); a custom factory receives it only when given.

    An env id becomes ``make_sb3_vec_env(env, n_envs, seed)`` with the algorithm's n_envs.
    A VecEnv is wrapped in :class:`ScaledReward` (:func:`scale_rewards`; ``reward_scale=None``
    trains on the raw rewards). ``overrides`` replace the defaults (SB3 keyword arguments;
    ``policy_kwargs`` are merged). ``device="auto"`` uses CUDA when present. ``features``
    defaults to :data:`DEFAULT_FEATURES`, or ``"mlp"`` on bundle environments. The masked
    policies get ``mask_source`` from the environment (the cart block, or the bundle
    candidates' ``available`` feature). Raises ValueError for an unknown algorithm, an
    unknown representation, or a slate environment given to DQN or QR-DQN.
    """
    spec = get_algorithm(algorithm)
    if features is not None and features not in FEATURES:
        raise ValueError(f"features must be one of {FEATURES}, got {features!r}")
    if isinstance(env, str):
        env = make_sb3_vec_env(env, n_envs=spec.n_envs, seed=seed)
    assert not isinstance(env, str)
    features = features or default_features(env)
    if isinstance(env, VecEnv):
        env = scale_rewards(env, reward_scale, knowledge)
    _, slate_size = action_shape(env.action_space)
    if slate_size > 1 and not spec.slate:
        raise ValueError(
            f"{algorithm} needs a Discrete action space; slates (MultiDiscrete, e.g. "
            "CartRecSlate-v0) are supported by ppo and a2c"
        )
    if knowledge is not None:
        overrides["knowledge"] = knowledge
    model = spec.factory(env, features=features, seed=seed, device=device, **overrides)
    keep_quiet(model)
    return model


def quiet_logger(verbose: int = 0) -> Logger:
    """A logger that writes nowhere but, with ``verbose >= 1``, to stdout (no folders)."""
    return Logger(None, [HumanOutputFormat(sys.stdout)] if verbose >= 1 else [])


def keep_quiet(model: BaseAlgorithm) -> BaseAlgorithm:
    """Give ``model`` :func:`quiet_logger` unless it logs to TensorBoard or has a logger of
    its own (SB3's default logger makes a ``SB3-<date>`` folder in the temporary directory)."""
    if model.tensorboard_log is None and not model._custom_logger:
        model.set_logger(quiet_logger(model.verbose))
    return model
