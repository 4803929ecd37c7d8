"""Behaviour pins: digests of worlds, trajectories and a small sweep, compared across changes.

``python tests/pins/behaviour.py --write`` records them in ``pins.json`` (done once, on the
code before a refactor); ``tests/test_pins.py`` checks that the code still reproduces them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import gymnasium as gym
import numpy as np

import cartgym  # noqa: F401  (registers the ids)

PINS = Path(__file__).with_name("pins.json")
V0_IDS = (
    "CartRec-v0",
    "CartRecSlate-v0",
    "CartRecMultiSlate-v0",
    "CartRecBundle-v0",
    "CartRec-Grocery-v0",
)
V1_IDS = (
    "CartRec-v1",
    "CartRecSlate-v1",
    "CartRecMultiSlate-v1",
    "CartRecBundle-v1",
    "CartRec-Grocery-v1",
)
# the sweep's columns that are results (not timings or versions)
RESULT_COLUMNS = (
    "agent",
    "env",
    "seed",
    "interactions",
    "revenue_per_session",
    "ctr",
    "conversion",
    "basket_size",
    "basket_value",
    "coverage",
    "items_per_recommendation",
    "discount_cost",
    "sessions",
    "curve",
)
SWEEP = {
    "name": "pins",
    "agents": [
        "random",
        "oracle_myopic",
        "no_recommendation",
        "popularity",
        "cooccurrence",
        "ucb1",
        "linucb",
        "ppo",
    ],
    "envs": [{"id": "CartRec-v0", "kwargs": {"n_items": 100}}],
    "seeds": [0],
    "budget": 512,
    "eval_sessions": 40,
    "eval_lanes": 8,
    "curve_points": 2,
    "curve_sessions": 16,
}


def _digest(parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(np.ascontiguousarray(np.asarray(part)).tobytes())
    return h.hexdigest()


def trajectory_digest(env_id: str, steps: int = 300, seed: int = 3) -> str:
    """sha256 of a same-seed rollout of ``env_id``: observations, rewards, ends, infos."""
    env = gym.make(env_id)
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    parts = [obs]
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        parts += [obs, np.float64(reward), np.bool_(terminated), np.bool_(truncated)]
        parts += [np.float64(info[k]) for k in ("accepted", "organic", "cart_value")]
        if terminated or truncated:
            obs, _ = env.reset()
            parts.append(obs)
    return _digest(parts)


def vector_digest(env_id: str = "CartRec-v0", steps: int = 100, seed: int = 4) -> str:
    """sha256 of a same-seed rollout of the native vector env (8 lanes)."""
    env = gym.make_vec(env_id, num_envs=8, vectorization_mode="vector_entry_point")
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    parts = [obs]
    for _ in range(steps):
        masks = env.unwrapped.action_masks()
        actions = np.array([rng.choice(np.flatnonzero(m)) for m in masks])
        obs, reward, terminated, truncated, info = env.step(actions)
        parts += [obs, reward, terminated, truncated, info["accepted"], info["cart_value"]]
    return _digest(parts)


def world_fingerprints() -> dict[str, str]:
    from cartgym.world import BUNDLED, resolve_world

    return {name: resolve_world(name).fingerprint for name in sorted(BUNDLED)}


def sweep_rows(out: Path) -> list[dict]:
    """The result columns of the small fixed sweep, one dict per run, sorted."""
    from cartgym.harness import BenchConfig, sweep

    table = sweep(BenchConfig.from_dict(SWEEP), out, log=lambda _: None)
    rows = table[list(RESULT_COLUMNS)].sort_values(["agent", "env", "seed"])
    return json.loads(rows.to_json(orient="records", double_precision=15))


def measure(out: Path) -> dict:
    return {
        "worlds": world_fingerprints(),
        "trajectories": {env_id: trajectory_digest(env_id) for env_id in V0_IDS + V1_IDS},
        "vector": vector_digest(),
        "vector_v1": vector_digest("CartRec-v1"),
        "sweep": sweep_rows(out),
    }


if __name__ == "__main__":
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"record the pins in {PINS}")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pins = measure(Path(tmp))
    text = json.dumps(pins, indent=1, sort_keys=True)
    if args.write:
        PINS.write_text(text + "\n")
    print(text[:2000])
