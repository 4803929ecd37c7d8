"""Environment ids, registered with Gymnasium when ``cartgym`` is imported."""

from __future__ import annotations

import gymnasium as gym

from cartgym.envs.config import MAX_EPISODE_STEPS

# id -> keyword arguments of CartEnv
ENV_IDS: dict[str, dict] = {
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
