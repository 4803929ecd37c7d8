"""SB3 callbacks for cartgym runs: shop metrics, evaluation with them, latest checkpoint.

- :class:`ShopMetricsCallback` logs the training sessions' reward, revenue, CTR, conversion
  and basket size (means over the last 100 sessions) under ``shop/``, and adds a
  TensorBoard custom-scalars layout that puts training and evaluation side by side.
- :class:`ShopEvalCallback` is SB3's ``EvalCallback`` (``evaluate_policy`` on a separate
  environment, ``evaluations.npz``, ``best_model.zip``) that also reseeds the evaluation
  environment before each evaluation (every evaluation meets the same shoppers), logs the
  same shop metrics under ``eval/``, appends them to a CSV and writes the best model's
  sidecar.
- :class:`CheckpointCallback` keeps one checkpoint (model, sidecar and, for off-policy
  algorithms, the replay buffer) to resume from, overwritten every ``save_freq`` steps.
"""

from __future__ import annotations

import csv
import json
import time
import warnings
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback, EvalCallback
from stable_baselines3.common.logger import TensorBoardOutputFormat
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm

EVAL_COLUMNS = (
    "timesteps",
    "reward",
    "reward_std",
    "revenue",
    "ctr",
    "conversion",
    "basket_size",
    "basket_value",
    "episode_length",
    "normalised",
    "wall_s",
)
METRICS = ("reward", "revenue", "ctr", "conversion", "basket_size", "basket_value")


class EpisodeStats:
    """Per-session accumulators over a VecEnv's steps; finished sessions as rows."""

    def __init__(self, n_envs: int):
        self.reward = np.zeros(n_envs)
        self.revenue = np.zeros(n_envs)
        self.steps = np.zeros(n_envs)
        self.accepted = np.zeros(n_envs)
        self.finished: list[dict[str, float]] = []

    def add(self, i: int, reward: float, info: dict[str, Any], done: bool) -> None:
        self.reward[i] += float(reward)
        self.revenue[i] += float(info.get("rec_revenue", 0.0))
        self.steps[i] += 1
        self.accepted[i] += float(info.get("accepted", -1) >= 0)
        if done:
            self.finished.append(
                {
                    "reward": self.reward[i],
                    "revenue": self.revenue[i],
                    "steps": self.steps[i],
                    "accepted": self.accepted[i],
                    "conversion": float(info.get("checkout", 0.0)),
                    "basket_size": float(info.get("cart_size", 0.0)),
                    "basket_value": float(info.get("cart_value", 0.0)),
                }
            )
            self.reward[i] = self.revenue[i] = self.steps[i] = self.accepted[i] = 0.0


def summary(rows: Any) -> dict[str, float]:
    """Means of the shop metrics over finished sessions; CTR is accepted / recommendations."""
    rows = list(rows)
    if not rows:
        return {}
    mean = {key: float(np.mean([r[key] for r in rows])) for key in rows[0]}
    mean["ctr"] = mean["accepted"] / max(mean["steps"], 1e-12)
    return {key: mean[key] for key in METRICS} | {"episode_length": mean["steps"]}


def _layout() -> dict[str, Any]:
    charts = {
        name: ["Multiline", [f"shop/{key}", f"eval/{key}"]]
        for name, key in (
            ("reward per session", "reward"),
            ("revenue per session", "revenue"),
            ("CTR", "ctr"),
            ("conversion", "conversion"),
            ("basket size", "basket_size"),
        )
    }
    return {"cartgym (train vs eval)": charts}


class ShopMetricsCallback(BaseCallback):
    """Logs the shop metrics of the last ``window`` training sessions under ``shop/``."""

    def __init__(self, window: int = 100, verbose: int = 0):
        super().__init__(verbose)
        self.window = window
        self.stats: EpisodeStats | None = None
        self.recent: deque[dict[str, float]] = deque(maxlen=window)

    def _on_training_start(self) -> None:
        self.stats = EpisodeStats(self.training_env.num_envs)
        for output in self.logger.output_formats:
            if isinstance(output, TensorBoardOutputFormat):
                output.writer.add_custom_scalars(_layout())

    def _on_step(self) -> bool:
        assert self.stats is not None
        rewards = self.locals["rewards"] / getattr(self.training_env, "scale", 1.0)
        dones, infos = self.locals["dones"], self.locals["infos"]
        for i, info in enumerate(infos):
            self.stats.add(i, rewards[i], info, bool(dones[i]))
        if self.stats.finished:
            self.recent.extend(self.stats.finished)
            self.stats.finished.clear()
        return True

    def _on_rollout_end(self) -> None:
        for key, value in summary(self.recent).items():
            self.logger.record(f"shop/{key}", value)


class ShopEvalCallback(EvalCallback):
    """``EvalCallback`` with reseeding, shop metrics, a CSV and the best model's sidecar.

    Args:
        eval_env: the evaluation VecEnv (``population="eval"`` shoppers).
        eval_seed: seed given to ``eval_env`` before every evaluation.
        csv_path: CSV file the evaluations are appended to (``EVAL_COLUMNS``).
        sidecar: writes the best model's sidecar: ``sidecar(path_of_best_model_zip)``.
        references: ``{"random": r, "oracle_myopic": o}`` for the normalised score.
        kwargs: EvalCallback's (``n_eval_episodes``, ``eval_freq`` in calls, paths...).
    """

    def __init__(
        self,
        eval_env: Any,
        *,
        eval_seed: int,
        csv_path: Path,
        sidecar: Any = None,
        references: dict[str, float] | None = None,
        **kwargs: Any,
    ):
        super().__init__(eval_env, warn=False, **kwargs)
        self.eval_seed = eval_seed
        self.csv_path = Path(csv_path)
        self.sidecar = sidecar
        self.references = references or {}
        self.stats = EpisodeStats(self.eval_env.num_envs)
        self._started = time.perf_counter()
        if self.log_path is not None and Path(f"{self.log_path}.npz").exists():
            self._restore(Path(f"{self.log_path}.npz"))

    def _init_callback(self) -> None:
        with warnings.catch_warnings():  # the training env may be wrapped (ScaledReward)
            warnings.filterwarnings("ignore", "Training and eval env are not of the same type")
            super()._init_callback()

    def _restore(self, path: Path) -> None:
        """Continue an earlier run's evaluations.npz and best score (when resuming)."""
        with np.load(path, allow_pickle=False) as old:
            self.evaluations_timesteps = old["timesteps"].tolist()
            self.evaluations_results = old["results"].tolist()
            self.evaluations_length = old["ep_lengths"].tolist()
        if self.evaluations_results:
            self.best_mean_reward = float(max(np.mean(r) for r in self.evaluations_results))

    def _log_success_callback(self, locals_: dict[str, Any], globals_: dict[str, Any]) -> None:
        super()._log_success_callback(locals_, globals_)
        self.stats.add(locals_["i"], locals_["reward"], locals_["info"], bool(locals_["done"]))
        if locals_["done"]:  # the last value recorded before the dump covers every session
            for key, value in summary(self.stats.finished).items():
                self.logger.record(f"eval/{key}", value)

    def _on_step(self) -> bool:
        due = self.eval_freq > 0 and self.n_calls % self.eval_freq == 0
        if not due:
            return super()._on_step()
        self.eval_env.seed(self.eval_seed)
        self.stats = EpisodeStats(self.eval_env.num_envs)
        best = self.best_mean_reward
        keep_going = super()._on_step()
        self._write_row()
        if self.best_mean_reward > best and self.sidecar and self.best_model_save_path:
            self.sidecar(Path(self.best_model_save_path) / "best_model.zip")
        return keep_going

    def _write_row(self) -> None:
        metrics = summary(self.stats.finished)
        rewards = [r["reward"] for r in self.stats.finished]
        random, oracle = self.references.get("random"), self.references.get("oracle_myopic")
        normalised = float("nan")
        if random is not None and oracle is not None and oracle != random:
            normalised = (metrics["reward"] - random) / (oracle - random)
        row = {
            **metrics,
            "timesteps": self.num_timesteps,
            "reward_std": float(np.std(rewards)),
            "normalised": normalised,
            "wall_s": time.perf_counter() - self._started,
        }
        new = not self.csv_path.exists()
        with self.csv_path.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=EVAL_COLUMNS, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow({k: f"{v:.6g}" if isinstance(v, float) else v for k, v in row.items()})


class CheckpointCallback(BaseCallback):
    """Every ``save_freq`` steps, overwrite ``checkpoint.zip`` (+ sidecar, + replay buffer).

    ``save(path)`` saves the model and its sidecar (see :func:`cartgym.agents.sb3.save_agent`).
    """

    def __init__(self, save_freq: int, folder: Path, save: Any, verbose: int = 0):
        super().__init__(verbose)
        self.save_freq = save_freq
        self.folder = Path(folder)
        self.save = save
        self._last = 0

    def _on_step(self) -> bool:
        if self.save_freq > 0 and self.num_timesteps - self._last >= self.save_freq:
            self._last = self.num_timesteps
            self.save(self.folder / "checkpoint.zip")
            if isinstance(self.model, OffPolicyAlgorithm):
                self.model.save_replay_buffer(self.folder / "checkpoint_replay_buffer.pkl")
        return True


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as indented JSON (numbers and paths as they print)."""
    Path(path).write_text(json.dumps(data, indent=1, sort_keys=True, default=str))
