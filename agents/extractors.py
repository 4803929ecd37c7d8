"""Representations built on the world's fitted item embeddings (``world.item_factors``).

:class:`EmbeddingExtractor` is an SB3 features extractor: the cart as the mean embedding of
its items, the shopper's history as the history-weighted mean embedding, and the six
scalars, through an MLP. With ``dot_head=True`` the masked policies of
:mod:`cartgym.agents.masking` also score items through the embeddings (:class:`ItemHead`):
score(s, i) = u(s) . e_i + b_i, so what is learned about one item carries over to similar
items, with M + 16 h output parameters instead of h M.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from cartgym.envs.observation import SCALARS, ObservationLayout


def standardised(item_factors: np.ndarray) -> th.Tensor:
    """(M, d) float32 embeddings scaled to unit standard deviation overall."""
    factors = np.asarray(item_factors, dtype=np.float64)
    if factors.ndim != 2 or not np.isfinite(factors).all():
        raise ValueError(f"item_factors must be a finite (M, d) array, got shape {factors.shape}")
    scale = factors.std() or 1.0
    return th.as_tensor(factors / scale, dtype=th.float32)


class EmbeddingExtractor(BaseFeaturesExtractor):
    """Cart embedding, history embedding and scalars of a cartgym observation, then an MLP.

    Args:
        observation_space: the environment's ``Box`` of size 2M + 6.
        item_factors: (M, d) item embeddings, ``env.unwrapped.world.item_factors``.
        hidden: hidden layer sizes of the MLP.
        features_dim: size of the output (ReLU features).
        dot_head: ask the masked policies to score items with :class:`ItemHead`.
        fine_tune: learn the embeddings too (they start from the fitted ones).
    """

    def __init__(
        self,
        observation_space: spaces.Box,
        item_factors: np.ndarray,
        hidden: Sequence[int] = (128,),
        features_dim: int = 128,
        dot_head: bool = False,
        fine_tune: bool = False,
    ):
        super().__init__(observation_space, features_dim)
        factors = standardised(item_factors)
        m, d = factors.shape
        self.layout = ObservationLayout(m)
        size = int(np.prod(observation_space.shape))
        if size != self.layout.size:
            raise ValueError(
                f"item_factors has {m} items, so observations of size {self.layout.size} were "
                f"expected, got {size}: use the factors of the environment's own world"
            )
        self.dot_head = bool(dot_head)
        self.fine_tune = bool(fine_tune)
        if self.fine_tune:
            self.item_factors = nn.Parameter(factors)
        else:
            self.register_buffer("item_factors", factors)
        layers: list[nn.Module] = []
        width = 2 * d + len(SCALARS)
        for h in [*hidden, features_dim]:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        self.mlp = nn.Sequential(*layers)

    def forward(self, observations: th.Tensor) -> th.Tensor:
        layout, factors = self.layout, self.item_factors
        cart = observations[:, layout.cart]
        history = observations[:, layout.history]
        cart_mean = cart @ factors / cart.sum(dim=1, keepdim=True).clamp(min=1.0)
        history_mean = history @ factors / history.sum(dim=1, keepdim=True).clamp(min=1e-6)
        x = th.cat([cart_mean, history_mean, observations[:, layout.scalars]], dim=1)
        return self.mlp(x)


class ItemHead(nn.Module):
    """Scores of every item from features h: u_j(h) . e_i + b_ji for j < n_out blocks.

    The output is (B, n_out * M), laid out as n_out blocks of M (slate positions of a
    MultiDiscrete policy, or the quantiles of QR-DQN), like the linear layer it replaces.
    """

    def __init__(self, in_features: int, item_factors: th.Tensor, n_out: int = 1):
        super().__init__()
        m, d = item_factors.shape
        self.n_out, self.n_items, self.dim = int(n_out), int(m), int(d)
        self.register_buffer("item_factors", item_factors.detach().clone())
        self.project = nn.Linear(in_features, self.n_out * self.dim)
        self.bias = nn.Parameter(th.zeros(self.n_out, self.n_items))
        nn.init.normal_(self.project.weight, std=0.01)
        nn.init.zeros_(self.project.bias)

    def forward(self, features: th.Tensor) -> th.Tensor:
        u = self.project(features).view(-1, self.n_out, self.dim)
        scores = u @ self.item_factors.T + self.bias
        return scores.reshape(-1, self.n_out * self.n_items)


def item_head_for(extractor: nn.Module, in_features: int, n_out: int) -> ItemHead | None:
    """An :class:`ItemHead` when ``extractor`` asks for one (``dot_head=True``), else None."""
    if not getattr(extractor, "dot_head", False):
        return None
    return ItemHead(in_features, extractor.item_factors, n_out)  # type: ignore[arg-type]
