"""Environment ids, registered with Gymnasium when ``cartgym`` is imported."""

from __future__ import annotations

import gymnasium as gym

from cartgym.envs.config import MAX_EPISODE_STEPS
from cartgym.sim.config import VARIANTS

V1 = {"dynamics": "v1"}
# id -> keyword arguments of CartEnv. CartRec-v1 is the current model; every v0 id keeps
# its exact behaviour, so that published v0 results stay reproducible.
ENV_IDS: dict[str, dict] = {
    "CartRec-v1": V1,
    "CartRecSlate-v1": {**V1, "slate_size": 3},
    "CartRecMultiSlate-v1": {**V1, "slate_size": 3, "response": "multi"},
    "CartRecBundle-v1": {**V1, "bundle_candidates": 10},
    "CartRec-Grocery-v1": {**V1, "world": "complete_journey"},
    # named variants of v1's assumptions (docs/calibration.md)
    "CartRec-Items5-v1": {**V1, **VARIANTS["items5"]},
    "CartRec-Items35-v1": {**V1, **VARIANTS["items35"]},
    "CartRec-LogsOnly-v1": {**V1, **VARIANTS["logs_only"]},
    "CartRec-Abandon-v1": {**V1, **VARIANTS["abandon"]},
    "CartRec-Patience-v1": {**V1, **VARIANTS["patience"]},
    "CartRec-v0": {},
    "CartRecSlate-v0": {"slate_size": 3},
    "CartRecMultiSlate-v0": {"slate_size": 3, "response": "multi"},
    "CartRecBundle-v0": {"bundle_candidates": 10},
    "CartRec-Grocery-v0": {"world": "complete_journey"},
}


def register_envs() -> None:
    for env_id, kwargs in ENV_IDS.items():
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point="cartgym.envs.cart_env:CartEnv",
            vector_entry_point="cartgym.envs.vector_env:CartVectorEnv",
            kwargs=kwargs,
            max_episode_steps=MAX_EPISODE_STEPS,
        )
