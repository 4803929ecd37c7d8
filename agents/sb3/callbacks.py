"""SB3 callbacks for cartgym runs: shop metrics, evaluation, the latest checkpoint.

- :class:`ShopMetricsCallback` logs the training sessions' reward, revenue, CTR, conversion
  and basket size (means over the last 100 sessions) under ``shop/``, and adds a
  TensorBoard custom-scalars layout that puts training and evaluation side by side.
- :class:`EvaluationCallback` evaluates the model every ``eval_freq`` steps with
  :func:`cartgym.evaluation.evaluate` (the loop behind every published figure), on a
  cartgym vector env of held-out shoppers reset with the same seed each time, so every
  evaluation meets the same shoppers. It logs the metrics under ``eval/``, appends them to
  a CSV, keeps SB3's ``evaluations.npz`` layout and saves the best model with its sidecar.
- :class:`CheckpointCallback` keeps one checkpoint (model, sidecar and, for off-policy
  algorithms, the replay buffer) to resume from, overwritten every ``save_freq`` steps.
"""

from __future__ import annotations

import csv
import json
import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import TensorBoardOutputFormat
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm

from cartgym.evaluation import evaluate

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
    "incremental_basket_value",
    "wall_s",
)
METRICS = ("reward", "revenue", "ctr", "conversion", "basket_size", "basket_value")


class EpisodeStats:
    """Per-session accumulators over a VecEnv's training steps; finished sessions as rows."""

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


def evaluation_row(sessions: Any, references: dict[str, float]) -> dict[str, float]:
    """The shop metrics of :func:`~cartgym.evaluation.evaluate`'s sessions, as a CSV row:
    reward (mean per session, with its std), revenue of taken recommendations, CTR,
    conversion, basket size and value, session length, the normalised score, and on
    CartRec-v1 the incremental basket value against each session's twin."""
    reward = float(sessions["revenue"].mean())
    random, oracle = references.get("random"), references.get("oracle_myopic")
    normalised = float("nan")
    if random is not None and oracle is not None and oracle != random:
        normalised = (reward - random) / (oracle - random)
    return {
        "reward": reward,
        "reward_std": float(sessions["revenue"].std(ddof=0)),
        "revenue": float(sessions["rec_revenue"].mean()),
        "ctr": float(sessions["accepted"].sum() / max(sessions["recommendations"].sum(), 1)),
        "conversion": float(sessions["checkout"].mean()),
        "basket_size": float(sessions["basket_size"].mean()),
        "basket_value": float(sessions["basket_value"].mean()),
        "episode_length": float(sessions["recommendations"].mean()),
        "normalised": normalised,
        "incremental_basket_value": float(
            (sessions["basket_value"] - sessions["twin_basket_value"]).mean()
        ),
    }


class EvaluationCallback(BaseCallback):
    """Every ``eval_freq`` calls, :func:`~cartgym.evaluation.evaluate` the model.

    Args:
        eval_env: a cartgym vector env of held-out shoppers (``gym.make_vec``).
        n_sessions: sessions per evaluation; eval_seed: the seed of every evaluation.
        eval_freq: calls between evaluations (a call is one step of every training env).
        folder: where ``eval.csv``, ``evaluations.npz`` and ``best_model.zip`` go.
        save: ``save(path)`` saves the model and its sidecar (the best model).
        references: ``{"random": r, "oracle_myopic": o}`` for the normalised score.

    ``evaluations.npz`` has SB3's ``EvalCallback`` layout (``timesteps``, ``results``:
    every session's reward, ``ep_lengths``); a resumed run continues it.
    """

    def __init__(
        self,
        eval_env: Any,
        *,
        n_sessions: int,
        eval_seed: int,
        eval_freq: int,
        folder: Path,
        save: Any = None,
        references: dict[str, float] | None = None,
        verbose: int = 0,
    ):
        super().__init__(verbose)
        self.eval_env = eval_env
        self.n_sessions = n_sessions
        self.eval_seed = eval_seed
        self.eval_freq = eval_freq
        self.folder = Path(folder)
        self.save = save
        self.references = references or {}
        self.timesteps: list[int] = []
        self.results: list[list[float]] = []
        self.lengths: list[list[float]] = []
        self.best_mean_reward = -np.inf
        self._started = time.perf_counter()
        npz = self.folder / "evaluations.npz"
        if npz.exists():  # resuming: continue the earlier run's log and best score
            with np.load(npz, allow_pickle=False) as old:
                self.timesteps = old["timesteps"].tolist()
                self.results = old["results"].tolist()
                self.lengths = old["ep_lengths"].tolist()
            if self.results:
                self.best_mean_reward = float(max(np.mean(r) for r in self.results))

    def _on_step(self) -> bool:
        if self.eval_freq > 0 and self.n_calls % self.eval_freq == 0:
            self.evaluate_now()
        return True

    def evaluate_now(self) -> dict[str, float]:
        """Evaluate the model now: log, append the CSV row, keep the best model."""
        result = evaluate(self.model, self.eval_env, self.n_sessions, self.eval_seed)
        sessions = result.sessions
        row = evaluation_row(sessions, self.references)
        for key in (*METRICS, "episode_length"):
            self.logger.record(f"eval/{key}", row[key])
        self.timesteps.append(self.num_timesteps)
        self.results.append(sessions["revenue"].tolist())
        self.lengths.append(sessions["recommendations"].tolist())
        np.savez(
            self.folder / "evaluations.npz",
            timesteps=np.array(self.timesteps),
            results=np.array(self.results),
            ep_lengths=np.array(self.lengths),
        )
        row = {**row, "timesteps": self.num_timesteps}
        row["wall_s"] = time.perf_counter() - self._started
        new = not (self.folder / "eval.csv").exists()
        with (self.folder / "eval.csv").open("a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=EVAL_COLUMNS, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow({k: f"{v:.6g}" if isinstance(v, float) else v for k, v in row.items()})
        if row["reward"] > self.best_mean_reward:
            self.best_mean_reward = row["reward"]
            if self.save is not None:
                self.save(self.folder / "best_model.zip")
        self.logger.dump(self.num_timesteps)
        return row


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
