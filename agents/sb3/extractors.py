"""Representations built on the world's fitted item embeddings (``world.item_factors``).

:class:`EmbeddingExtractor` is an SB3 features extractor: the cart as the mean embedding of
its items, the shopper's history as the history-weighted mean embedding, and the six
scalars, through an MLP. With ``dot_head=True`` the masked policies of
:mod:`cartgym.agents.masking` also score items through the embeddings (:class:`ItemHead`):
score(s, i) = u(s) . e_i + b_i, so what is learned about one item carries over to similar
items, with M + 16 h output parameters instead of h M.

With ``per_item`` (the world's published co-purchase matrix and item statistics) the head
also weighs, for every item, the features the linear bandits see
(:class:`~cartgym.agents.features.ItemFeatures` less its bias): score(s, i) = u(s) . e_i +
w(s) . f_i(s) + b_i, with f_i(s) the item's mean co-purchase PMI with the cart, the
shopper's history of it, its popularity and its log price.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch as th
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from cartgym.envs.observation import SCALARS, ObservationLayout

# Per-item features of ``per_item``, in this order (those of ItemFeatures, less the bias).
PER_ITEM_FEATURES = ("co_purchase", "history", "popularity", "log_price")


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
        item_factors: (M, d) item embeddings (``agent.knowledge.item_factors``: the
            training users' logs, never the simulator's world).
        hidden: hidden layer sizes of the MLP.
        features_dim: size of the output (ReLU features).
        dot_head: ask the masked policies to score items with :class:`ItemHead`.
        fine_tune: learn the embeddings too (they start from the fitted ones).
        per_item: ``(complement, static)``: the (M, M) co-purchase matrix and the (M, 2)
            standardised popularity and log price of
            :class:`~cartgym.agents.features.ItemFeatures`; the item head then weighs the
            :data:`PER_ITEM_FEATURES` of every item too (needs ``dot_head``).
    """

    complement: th.Tensor  # buffers, with per_item
    item_static: th.Tensor

    def __init__(
        self,
        observation_space: spaces.Box,
        item_factors: np.ndarray,
        hidden: Sequence[int] = (128,),
        features_dim: int = 128,
        dot_head: bool = False,
        fine_tune: bool = False,
        per_item: tuple[sp.spmatrix | np.ndarray, np.ndarray] | None = None,
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
        self.per_item = per_item is not None
        if self.per_item:
            if not self.dot_head:
                raise ValueError("per_item features are weighed by the item head: dot_head=True")
            complement, static = per_item  # type: ignore[misc]
            dense = sp.csr_matrix(complement).toarray()
            static = np.asarray(static)
            if dense.shape != (m, m) or static.shape != (m, 2):
                raise ValueError(
                    f"per_item: expected a ({m}, {m}) co-purchase matrix and ({m}, 2) item "
                    f"statistics, got {dense.shape} and {static.shape}"
                )
            # rebuilt from the keyword arguments on load: not saved with the weights
            for name, values in (("complement", dense), ("item_static", static)):
                tensor = th.as_tensor(values, dtype=th.float32)
                self.register_buffer(name, tensor, persistent=False)
        self.item_features_: th.Tensor | None = None
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
        if self.per_item:
            # (B, M, 4), read by the ItemHead in the same forward pass (SB3 always calls the
            # head right after the extractor, on the same observations)
            co_purchase = cart @ self.complement / cart.sum(dim=1, keepdim=True).clamp(min=1.0)
            static = self.item_static.expand(len(cart), -1, -1)
            self.item_features_ = th.cat([co_purchase[..., None], history[..., None], static], 2)
        return self.mlp(x)


class ItemHead(nn.Module):
    """Scores of every item from features h: u_j(h) . e_i + b_ji for j < n_out blocks.

    The output is (B, n_out * (M + extra)), laid out as n_out blocks (slate positions of a
    MultiDiscrete policy, or the quantiles of QR-DQN), like the linear layer it replaces;
    ``extra`` actions after the items (CartRec-v1's show-nothing) get a linear score of h.
    """

    def __init__(
        self,
        in_features: int,
        item_factors: th.Tensor,
        n_out: int = 1,
        extractor: EmbeddingExtractor | None = None,
        extra: int = 0,
    ):
        super().__init__()
        m, d = item_factors.shape
        self.n_out, self.n_items, self.dim = int(n_out), int(m), int(d)
        self.extra = int(extra)
        self.others = nn.Linear(in_features, self.n_out * self.extra) if self.extra else None
        self.register_buffer("item_factors", item_factors.detach().clone())
        self.project = nn.Linear(in_features, self.n_out * self.dim)
        self.bias = nn.Parameter(th.zeros(self.n_out, self.n_items))
        nn.init.normal_(self.project.weight, std=0.01)
        nn.init.zeros_(self.project.bias)
        # the extractor whose per-item features to weigh; a tuple, so that it is not
        # registered (its parameters belong to the policy once)
        self._extractor: tuple[EmbeddingExtractor, ...] = (
            (extractor,) if extractor is not None and extractor.per_item else ()
        )
        self.weigh: nn.Linear | None = None
        if self._extractor:
            self.weigh = nn.Linear(in_features, self.n_out * len(PER_ITEM_FEATURES))
            nn.init.normal_(self.weigh.weight, std=0.01)
            nn.init.zeros_(self.weigh.bias)

    def forward(self, features: th.Tensor) -> th.Tensor:
        u = self.project(features).view(-1, self.n_out, self.dim)
        scores = u @ self.item_factors.T + self.bias
        if self.weigh is not None:
            per_item = self._extractor[0].item_features_
            if per_item is None or len(per_item) != len(features):
                raise RuntimeError("ItemHead: the extractor has not seen these observations")
            w = self.weigh(features).view(-1, self.n_out, len(PER_ITEM_FEATURES))
            scores = scores + th.einsum("bok,bmk->bom", w, per_item)
        if self.others is not None:
            others = self.others(features).view(-1, self.n_out, self.extra)
            scores = th.cat([scores, others], dim=2)
        return scores.reshape(-1, self.n_out * (self.n_items + self.extra))


def item_head_for(
    extractor: nn.Module, in_features: int, n_out: int, n_actions: int | None = None
) -> ItemHead | None:
    """An :class:`ItemHead` when ``extractor`` asks for one (``dot_head=True``), else None;
    ``n_actions`` beyond the items (CartRec-v1's show-nothing) get scores of their own."""
    if not getattr(extractor, "dot_head", False):
        return None
    factors: Any = extractor.item_factors
    return ItemHead(
        in_features,
        factors,
        n_out,
        extractor if isinstance(extractor, EmbeddingExtractor) else None,
        0 if n_actions is None else n_actions - len(factors),
    )
