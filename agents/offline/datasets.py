"""Logged episodes as Minari datasets (the ``offline`` extra)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gymnasium as gym

if TYPE_CHECKING:
    from minari import MinariDataset
from .collect import collect
from .policies import LoggingPolicy

INSTALL_HINT = 'pip install "cartgym[offline]"'


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
