"""Stable-Baselines3 agents for cartgym: factories, a registry, saving with the world's id.

    from cartgym.agents.sb3 import make_model
    model = make_model("ppo", "CartRec-v0", seed=0).learn(50_000)

:func:`make_model` builds a registered algorithm (``dqn``, ``qrdqn``, ``ppo``, ``a2c``,
``maskable_ppo``) with the defaults of :data:`DEFAULTS`, tuned on CartRec-v0 (see
docs/agents/rl.md), on an SB3 VecEnv or an environment id (then the native vector env with
the algorithm's ``n_envs``). Every built-in algorithm uses a masked policy
(:mod:`cartgym.agents.masking`): items in the cart are never recommended. ``features``
picks the representation: ``"mlp"`` (the flat observation), ``"embeddings"`` (cart and
history as mean item embeddings, :class:`~cartgym.agents.extractors.EmbeddingExtractor`),
``"embeddings_dot"`` (the same, with items scored through their embeddings) or
``"embeddings_dot_features"`` (the default, by far the best in the tuning run: the item
head also weighs, per item, the co-purchase, history, popularity and price features the
linear bandits use).

:func:`register_algorithm` adds an algorithm; packages can also declare one under the entry
point group ``cartgym.algorithms``. :func:`save_agent` writes the model and a JSON sidecar
with the world's fingerprint; :func:`load_agent` warns when the world differs.
"""

from __future__ import annotations

import copy
import importlib
import json
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points, version
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from sb3_contrib import MaskablePPO
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from cartgym.calibrate.world import ShopperWorld
from cartgym.envs.observation import ObservationLayout

from .extractors import EmbeddingExtractor
from .features import ItemFeatures
from .masking import (
    MaskedActorCriticPolicy,
    MaskedDQN,
    MaskedQPolicy,
    MaskedQRDQN,
    MaskedQuantilePolicy,
    MaskSource,
    action_shape,
)
from .vec_env import make_sb3_vec_env

FEATURES = ("mlp", "embeddings", "embeddings_dot", "embeddings_dot_features")
DEFAULT_FEATURES = "embeddings_dot_features"  # the tuning run's clear winner (docs/agents/rl.md)
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
    "maskable_ppo": {
        "learning_rate": 3e-4,
        "n_steps": 128,
        "batch_size": 256,
        "n_epochs": 4,
        "gamma": 0.95,
        "gae_lambda": 0.9,
        "ent_coef": 0.01,
        "policy_kwargs": _AC_NET,
    },
}


class WorldMismatchWarning(UserWarning):
    """A model is loaded on an environment whose world differs from the one it learned on."""


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


def world_of(env: Any) -> ShopperWorld:
    """The ShopperWorld of a cartgym environment: single, vector, or an SB3 VecEnv."""
    if isinstance(env, VecEnv):
        world = env.get_attr("world")[0]
    else:
        world = getattr(getattr(env, "unwrapped", env), "world", None)
    if not isinstance(world, ShopperWorld):
        raise ValueError(f"expected a cartgym environment, got {type(env).__name__}")
    return world


class ScaledReward(VecEnvWrapper):
    """Training rewards times ``scale``; observations, infos and masks pass through.

    Revenue rewards run from 0 to about 40 per step (line values), which makes PPO's and
    A2C's value loss dominate their clipped gradient and slows DQN's Huber fit; scaled to
    about 1 per accepted item they train well. Evaluation uses the unscaled environment.
    """

    def __init__(self, venv: VecEnv, scale: float):
        if not np.isfinite(scale) or scale <= 0:
            raise ValueError(f"reward scale must be a positive number, got {scale!r}")
        super().__init__(venv)
        self.scale = float(scale)

    def reset(self) -> Any:
        return self.venv.reset()

    def step_wait(self) -> Any:
        obs, rewards, dones, infos = self.venv.step_wait()
        return obs, rewards * self.scale, dones, infos


def auto_reward_scale(env: Any) -> float:
    """1 / median line value of the world's items for revenue rewards, 1 for clicks."""
    sim = env.get_attr("sim")[0] if isinstance(env, VecEnv) else env.unwrapped.sim
    if sim.config.reward == "click":
        return 1.0
    world = world_of(env)
    return float(1.0 / np.median(world.prices * world.quantities))


def scale_rewards(env: VecEnv, reward_scale: float | str | None = "auto") -> VecEnv:
    """``env`` with :class:`ScaledReward` (``"auto"``: :func:`auto_reward_scale`).

    ``None`` or 1 leave ``env`` as it is, as does an env that already scales its rewards.
    """
    if reward_scale is None or _find(env, ScaledReward) is not None:
        return env
    if reward_scale == "auto":
        reward_scale = auto_reward_scale(env)
    if isinstance(reward_scale, str):
        raise ValueError(
            f"reward_scale must be 'auto', a positive number or None, got {reward_scale!r}"
        )
    return env if reward_scale == 1 else ScaledReward(env, reward_scale)


def _find(env: Any, wrapper: type) -> Any:
    while isinstance(env, VecEnvWrapper):
        if isinstance(env, wrapper):
            return env
        env = env.venv
    return None


def is_bundle_env(env: Any) -> bool:
    """True for a bundle environment (``CartRecBundle-v0``): its actions are bundle offers."""
    source = MaskSource.of_env(env)
    return source is not None and source.allowed_if_set


def default_features(env: Any) -> str:
    """``DEFAULT_FEATURES``, or ``"mlp"`` on bundle environments, whose actions are not items
    (the embedding representations read the cart and history blocks only and score items)."""
    return "mlp" if is_bundle_env(env) else DEFAULT_FEATURES


def policy_kwargs(features: str, env: Any) -> dict[str, Any]:
    """Policy keyword arguments of a representation (``FEATURES``) on ``env``'s world."""
    if features not in FEATURES:
        raise ValueError(f"features must be one of {FEATURES}, got {features!r}")
    if features == "mlp":
        return {}
    if is_bundle_env(env):
        raise ValueError(
            f"features={features!r} scores items from the cart and history blocks; on bundle "
            "environments (actions are bundle offers) use features='mlp'"
        )
    world = world_of(env)
    extractor_kwargs: dict[str, Any] = {
        "item_factors": world.item_factors.astype(np.float32),
        "dot_head": features.startswith("embeddings_dot"),
    }
    if features == "embeddings_dot_features":
        items = ItemFeatures(world, ObservationLayout(world.n_items))
        extractor_kwargs["per_item"] = (items.complement, items.static)
    return {
        "features_extractor_class": EmbeddingExtractor,
        "features_extractor_kwargs": extractor_kwargs,
    }


def _builtin(cls: type[BaseAlgorithm], policy: type, name: str) -> Factory:
    def factory(
        env: Any,
        *,
        features: str = DEFAULT_FEATURES,
        seed: int | None = None,
        device: str = "auto",
        **overrides: Any,
    ) -> BaseAlgorithm:
        settings = copy.deepcopy(DEFAULTS[name])
        kwargs = {
            **settings.pop("policy_kwargs", {}),
            **policy_kwargs(features, env),
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
make_maskable_ppo = _builtin(MaskablePPO, MaskedActorCriticPolicy, "maskable_ppo")

REGISTRY: dict[str, Algorithm] = {
    "dqn": Algorithm(make_dqn, 8, False, "DQN (SB3), masked Q-values and exploration"),
    "qrdqn": Algorithm(make_qrdqn, 8, False, "QR-DQN (sb3-contrib), masked quantiles"),
    "ppo": Algorithm(make_ppo, 8, True, "PPO (SB3), masked logits"),
    "a2c": Algorithm(make_a2c, 8, True, "A2C (SB3), masked logits"),
    "maskable_ppo": Algorithm(
        make_maskable_ppo, 8, True, "MaskablePPO (sb3-contrib), env.action_masks()"
    ),
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
    **overrides: Any,
) -> BaseAlgorithm:
    """A new model of ``algorithm`` on ``env`` (a VecEnv, a Gymnasium env or an env id).

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
        env = scale_rewards(env, reward_scale)
    _, slate_size = action_shape(env.action_space)
    if slate_size > 1 and not spec.slate:
        raise ValueError(
            f"{algorithm} needs a Discrete action space; slates (MultiDiscrete, e.g. "
            "CartRecSlate-v0) are supported by ppo, a2c and maskable_ppo"
        )
    return spec.factory(env, features=features, seed=seed, device=device, **overrides)


def sidecar_path(path: str | Path) -> Path:
    """The JSON sidecar of a model file: ``model.zip`` -> ``model.json``."""
    path = Path(path)
    return path.with_suffix(".json") if path.suffix == ".zip" else Path(f"{path}.json")


def model_metadata(
    model: BaseAlgorithm, world: ShopperWorld, algorithm: str | None = None, **extra: Any
) -> dict[str, Any]:
    """What the sidecar records: algorithm, class, world fingerprint, spaces, versions."""
    cls = type(model)
    n_items, slate_size = action_shape(model.action_space)
    return {
        "algorithm": algorithm or cls.__name__.lower(),
        "class": f"{cls.__module__}:{cls.__qualname__}",
        "world_fingerprint": world.fingerprint,
        "n_items": n_items,
        "slate_size": slate_size,
        "num_timesteps": int(model.num_timesteps),
        "versions": {p: version(p) for p in ("cartgym", "stable_baselines3", "torch")},
        **extra,
    }


def save_agent(
    model: BaseAlgorithm,
    path: str | Path,
    *,
    world: ShopperWorld | None = None,
    algorithm: str | None = None,
    **extra: Any,
) -> Path:
    """Save ``model`` to ``path`` (.zip) and its sidecar (.json) with the world's fingerprint.

    ``world`` defaults to the world of the model's environment. Returns the .zip path.
    """
    path = Path(path)
    path = path if path.suffix == ".zip" else Path(f"{path}.zip")
    if world is None:
        world = world_of(model.get_env())
    model.save(path)
    meta = model_metadata(model, world, algorithm, **extra)
    sidecar_path(path).write_text(json.dumps(meta, indent=1, sort_keys=True, default=str))
    return path


def _import(path: str) -> type[BaseAlgorithm]:
    module, _, name = path.partition(":")
    target: Any = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    return target


def load_agent(
    path: str | Path,
    env: VecEnv | gym.Env | None = None,
    *,
    device: str = "auto",
    cls: type[BaseAlgorithm] | None = None,
    **kwargs: Any,
) -> BaseAlgorithm:
    """Load a model saved by :func:`save_agent`, warning if ``env``'s world is another one.

    The class comes from the sidecar (or ``cls``). A different world fingerprint raises a
    :class:`WorldMismatchWarning`: item i of one world is not item i of another, so the
    model's recommendations would mean other items. ``kwargs`` go to ``cls.load``.
    """
    path = Path(path)
    if not path.exists() and Path(f"{path}.zip").exists():
        path = Path(f"{path}.zip")
    if not path.exists():
        raise FileNotFoundError(f"no model at {path}")
    sidecar = sidecar_path(path)
    meta: dict[str, Any] = json.loads(sidecar.read_text()) if sidecar.exists() else {}
    if cls is None:
        if "class" not in meta:
            raise ValueError(f"{sidecar} is missing: pass cls= (the model's SB3 class)")
        cls = _import(meta["class"])
    if env is not None:
        trained_on = meta.get("world_fingerprint")
        current = world_of(env).fingerprint
        if trained_on is None:
            warnings.warn(
                f"{path} has no sidecar with a world fingerprint: cannot check that it was "
                "trained on this environment's world",
                WorldMismatchWarning,
                stacklevel=2,
            )
        elif trained_on != current:
            warnings.warn(
                f"{path} was trained on world {trained_on[:12]} but this environment's world "
                f"is {current[:12]}: item indices refer to other items, so its "
                "recommendations are not meaningful here",
                WorldMismatchWarning,
                stacklevel=2,
            )
    return cls.load(path, env=env, device=device, **kwargs)


def cuda_smoke_test(
    algorithms: tuple[str, ...] = ("ppo", "dqn", "maskable_ppo"),
    steps: int = 4_000,
    n_items: int = 100,
) -> dict[str, Any]:
    """Train each algorithm ``steps`` steps on CUDA, save, load, predict; report timings.

    ``result["ok"]`` is True when every model ran on CUDA, the loaded model gives the same
    deterministic actions as the trained one, and no action is an item in the cart.
    Raises RuntimeError without a CUDA device.
    """
    if not th.cuda.is_available():
        raise RuntimeError("cuda_smoke_test needs a CUDA device (torch.cuda.is_available())")
    result: dict[str, Any] = {"device": th.cuda.get_device_name(0), "torch": th.__version__}
    runs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in algorithms:
            env = make_sb3_vec_env("CartRec-v0", n_envs=8, seed=0, n_items=n_items)
            quick: dict[str, Any] = {}
            if "learning_starts" in DEFAULTS.get(name, {}):
                quick["learning_starts"] = 500
            model = make_model(name, env, seed=0, device="auto", **quick)
            started = time.perf_counter()
            model.learn(steps)
            seconds = time.perf_counter() - started
            obs = env.reset()
            actions, _ = model.predict(obs, deterministic=True)
            path = save_agent(model, Path(folder) / name, algorithm=name)
            loaded = load_agent(path, env, device="cuda")
            again, _ = loaded.predict(obs, deterministic=True)
            allowed = np.take_along_axis(env.env.action_masks(), actions[:, None], axis=1)
            runs[name] = {
                "device": str(model.device),
                "loaded_device": str(loaded.device),
                "steps": int(model.num_timesteps),
                "seconds": round(seconds, 2),
                "steps_per_s": round(model.num_timesteps / seconds, 1),
                "same_actions_after_load": bool(np.array_equal(actions, again)),
                "no_masked_action": bool(allowed.all()),
            }
    result["runs"] = runs
    result["ok"] = all(
        r["device"].startswith("cuda")
        and r["loaded_device"].startswith("cuda")
        and r["same_actions_after_load"]
        and r["no_masked_action"]
        for r in runs.values()
    )
    return result
