"""Saving SB3 models with a sidecar that records the world they learned on; loading them.

:func:`save_agent` writes the model and a JSON sidecar with the world's fingerprint;
:func:`load_agent` warns when the world differs (item i of one world is not item i of
another).
"""

from __future__ import annotations

import importlib
import json
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

import gymnasium as gym
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.vec_env import VecEnv

from cartgym.envs.observation import Catalogue

from .masking import action_shape
from .representations import catalogue_of


class WorldMismatchWarning(UserWarning):
    """A model is loaded on an environment whose world differs from the one it learned on."""


def sidecar_path(path: str | Path) -> Path:
    """The JSON sidecar of a model file: ``model.zip`` -> ``model.json``."""
    path = Path(path)
    return path.with_suffix(".json") if path.suffix == ".zip" else Path(f"{path}.json")


def model_metadata(
    model: BaseAlgorithm, catalogue: Catalogue, algorithm: str | None = None, **extra: Any
) -> dict[str, Any]:
    """What the sidecar records: algorithm, class, world fingerprint, spaces, versions."""
    cls = type(model)
    n_items, slate_size = action_shape(model.action_space)
    return {
        "algorithm": algorithm or cls.__name__.lower(),
        "class": f"{cls.__module__}:{cls.__qualname__}",
        "world_fingerprint": catalogue.fingerprint,
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
    catalogue: Catalogue | None = None,
    algorithm: str | None = None,
    **extra: Any,
) -> Path:
    """Save ``model`` to ``path`` (.zip) and its sidecar (.json) with the fingerprint of
    the world its catalogue belongs to.

    ``catalogue`` defaults to that of the model's environment. Returns the .zip path.
    """
    path = Path(path)
    path = path if path.suffix == ".zip" else Path(f"{path}.zip")
    if catalogue is None:
        catalogue = catalogue_of(model.get_env())
    model.save(path)
    meta = model_metadata(model, catalogue, algorithm, **extra)
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
        current = catalogue_of(env).fingerprint
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
    model = cls.load(path, env=env, device=device, **kwargs)
    if model.tensorboard_log is None:  # no SB3-<date> folder in the temporary directory
        model.set_logger(Logger(None, []))
    return model
