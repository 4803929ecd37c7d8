"""What the SB3 policies see: the representations of the observation (``features=``).

``"mlp"`` (the flat observation), ``"embeddings"`` (cart and history as mean item
embeddings, :class:`~cartgym.agents.sb3.extractors.EmbeddingExtractor`),
``"embeddings_dot"`` (the same, with items scored through their embeddings) or
``"embeddings_dot_features"`` (the default: the item head also weighs, per item, the
co-purchase, history, popularity and price features the linear bandits use). Embeddings
and item features come from a :class:`~cartgym.agents.knowledge.LogKnowledge` (the
training users' logs), never from the simulator's world.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv

from cartgym.envs.observation import Catalogue, ObservationLayout

from ..features import ItemFeatures
from ..knowledge import LogKnowledge, knowledge_of
from .extractors import EmbeddingExtractor
from .masking import MaskSource

FEATURES = ("mlp", "embeddings", "embeddings_dot", "embeddings_dot_features")

DEFAULT_FEATURES = "embeddings_dot_features"  # the tuning run's clear winner (docs/agents/rl.md)


def catalogue_of(env: Any) -> Catalogue:
    """The Catalogue of a cartgym environment: single, vector, or an SB3 VecEnv."""
    if isinstance(env, VecEnv):
        catalogue = env.get_attr("catalogue")[0]
    else:
        catalogue = getattr(getattr(env, "unwrapped", env), "catalogue", None)
    if not isinstance(catalogue, Catalogue):
        raise ValueError(f"expected a cartgym environment, got {type(env).__name__}")
    return catalogue


def is_bundle_env(env: Any) -> bool:
    """True for a bundle environment (``CartRecBundle-v0``): its actions are bundle offers."""
    source = MaskSource.of_env(env)
    return source is not None and source.allowed_if_set


def default_features(env: Any) -> str:
    """``DEFAULT_FEATURES``, or ``"mlp"`` on bundle environments, whose actions are not items
    (the embedding representations read the cart and history blocks only and score items)."""
    return "mlp" if is_bundle_env(env) else DEFAULT_FEATURES


def policy_kwargs(features: str, env: Any, knowledge: LogKnowledge | None = None) -> dict[str, Any]:
    """Policy keyword arguments of a representation (``FEATURES``) on ``env``'s catalogue,
    from ``knowledge`` (default: :func:`~cartgym.agents.knowledge.knowledge_of` it)."""
    if features not in FEATURES:
        raise ValueError(f"features must be one of {FEATURES}, got {features!r}")
    if features == "mlp":
        return {}
    if is_bundle_env(env):
        raise ValueError(
            f"features={features!r} scores items from the cart and history blocks; on bundle "
            "environments (actions are bundle offers) use features='mlp'"
        )
    catalogue = catalogue_of(env)
    knowledge = knowledge or knowledge_of(catalogue)
    extractor_kwargs: dict[str, Any] = {
        "item_factors": knowledge.item_factors.astype(np.float32),
        "dot_head": features.startswith("embeddings_dot"),
    }
    if features == "embeddings_dot_features":
        items = ItemFeatures(knowledge, ObservationLayout(catalogue.n_items))
        extractor_kwargs["per_item"] = (items.complement, items.static)
    return {
        "features_extractor_class": EmbeddingExtractor,
        "features_extractor_kwargs": extractor_kwargs,
    }
