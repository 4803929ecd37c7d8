"""Neural collaborative filtering: an MLP that predicts the next item of a basket (torch, CPU).

Input: the cart multi-hot and the shopper's history block, exactly as in the observation
(2M numbers). Output: M logits, a softmax over the next item. Training on the logged
baskets with leave-one-out targets: for each basket of two items or more, one item is the
target and a random subset of 1 to n - 1 of the others is the cart (so carts of every size
are seen); the history is the user's logged counts *without that basket*, scaled as the
observation scales it. The loss is the cross-entropy of the target against the items not in
the cart. A new sample is drawn for every basket at every epoch.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..logs import LogAgent, LoggedBaskets
from ..protocol import Env

try:
    import torch
    from torch import nn
except ImportError as error:  # pragma: no cover
    raise ImportError(
        "NeuralCFAgent needs torch: pip install 'cartgym[agents]' (or pip install torch)"
    ) from error


class NeuralCFAgent(LogAgent):
    """MLP next-item model: [cart, history] -> Linear -> ReLU -> Linear -> ReLU -> Linear.

    Relevance is the softmax probability of each item (``objective="revenue"`` multiplies it
    by the line value).

    Args:
        hidden: width of the two hidden layers, >= 1.
        epochs: passes over the logged baskets, >= 1.
        batch_size: baskets per gradient step, >= 1.
        learning_rate: Adam step size, > 0.
        weight_decay: Adam L2 penalty, >= 0.
        device: torch device (``"cpu"`` by default).
        objective: ``"click"`` or ``"revenue"``.
        seed: seeds the sampling of training carts and the network's initialisation.
    """

    def __init__(
        self,
        env: Env,
        *,
        hidden: int = 256,
        epochs: int = 10,
        batch_size: int = 256,
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        device: str = "cpu",
        objective: str = "click",
        seed: int | None = None,
    ):
        for name, value in (("hidden", hidden), ("epochs", epochs), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if not learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}")
        if not weight_decay >= 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
        super().__init__(env, objective=objective, seed=seed)
        self.hidden, self.epochs, self.batch_size = hidden, epochs, batch_size
        self.learning_rate, self.weight_decay, self.device = learning_rate, weight_decay, device

    def fit_baskets(self, logs: LoggedBaskets) -> None:
        m = self.n_items
        baskets = logs.baskets
        keep = np.flatnonzero(np.diff(baskets.indptr) >= 2)
        if len(keep) == 0:
            raise ValueError("NeuralCFAgent needs logged baskets with at least two catalogue items")
        rng = np.random.default_rng(self.seed)
        generator = torch.Generator().manual_seed(int(rng.integers(2**63 - 1)))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(rng.integers(2**63 - 1)))
            model = _mlp(m, self.hidden).to(self.device)
        optimiser = torch.optim.Adam(
            model.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay
        )
        largest = self.catalogue.history_max  # the observation's history scale
        history_scale = 1.0 / largest if largest > 0 else 0.0
        counts = logs.user_counts
        losses = []
        for _ in range(self.epochs):
            order = keep[torch.randperm(len(keep), generator=generator).numpy()]
            total = 0.0
            for start in range(0, len(order), self.batch_size):
                chosen = order[start : start + self.batch_size]
                inputs, cart, target = _samples(
                    baskets[chosen], counts[logs.users[chosen]], history_scale, rng
                )
                logits = model(torch.as_tensor(inputs, device=self.device))
                logits = logits.masked_fill(torch.as_tensor(cart, device=self.device), -1e9)
                loss = nn.functional.cross_entropy(
                    logits, torch.as_tensor(target, device=self.device)
                )
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                total += loss.item() * len(chosen)
            losses.append(total / len(order))
        model.eval()
        self.model_ = model
        self.losses_ = losses

    def relevance(self, obs: np.ndarray) -> np.ndarray:
        inputs = np.ascontiguousarray(obs[:, : 2 * self.n_items], dtype=np.float32)
        with torch.inference_mode():
            logits = self.model_(torch.as_tensor(inputs, device=self.device))
            return torch.softmax(logits.double(), dim=1).cpu().numpy()


def _mlp(n_items: int, hidden: int) -> nn.Module:
    return nn.Sequential(
        nn.Linear(2 * n_items, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, n_items),
    )


def _samples(
    baskets: sp.csr_matrix,
    user_counts: sp.csr_matrix,
    history_scale: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(inputs (b, 2M), cart mask (b, M), targets (b,)) for b baskets of >= 2 items.

    Each basket's items are put in random order; the first is the target, the next k
    (k uniform in 1..n-1) form the cart. History = the user's counts minus this basket.
    """
    b, m = baskets.shape
    sizes = np.diff(baskets.indptr)
    rows = np.repeat(np.arange(b), sizes)
    order = np.lexsort((rng.random(len(rows)), rows))  # shuffle within each basket
    items = baskets.indices[order]
    rank = np.arange(len(rows)) - baskets.indptr[rows]
    cart_size = rng.integers(1, sizes)  # 1 .. n-1
    in_cart = (rank >= 1) & (rank <= cart_size[rows])
    cart = np.zeros((b, m), dtype=bool)
    cart[rows[in_cart], items[in_cart]] = True
    target = items[rank == 0]
    history = (user_counts - baskets).toarray()
    history = np.minimum(np.log1p(np.maximum(history, 0.0)) * history_scale, 1.0)
    inputs = np.concatenate([cart, history], axis=1)
    return inputs.astype(np.float32), cart, target.astype(np.int64)
