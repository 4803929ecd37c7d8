"""Top-k recommendations from an SB3 model, whatever the environment's slate size.

``predict`` returns the environment's action (one item, or a slate of K); a deployed
recommender often needs a ranked list of another length. :func:`action_scores` reads the
model's own scores of every action: the policy's log-probabilities (PPO, A2C, MaskablePPO;
for slates, those of the first position), the Q-values (DQN) or the mean of the quantiles
(QR-DQN), with masked actions at the bottom; :func:`top_k` ranks them.

    >>> from cartgym.agents.sb3 import make_model, make_sb3_vec_env
    >>> from cartgym.agents.sb3.ranking import top_k
    >>> env = make_sb3_vec_env("CartRec-v0", n_envs=4, seed=0, n_items=30)
    >>> model = make_model("ppo", env, seed=0, features="mlp")
    >>> top_k(model, env.reset(), 5).shape
    (4, 5)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th

from ..ranking import top_k as rank
from .masking import MASKED, MaskSource


def action_scores(model: Any, obs: np.ndarray) -> np.ndarray:
    """(B, A) the model's score of every action for (B, D) observations; higher is better."""
    policy = model.policy
    tensor, _ = policy.obs_to_tensor(np.asarray(obs, dtype=np.float32))
    with th.no_grad():
        if hasattr(policy, "get_distribution"):  # actor-critic
            distribution = policy.get_distribution(tensor)
            parts = getattr(distribution, "distributions", None)
            logits = (parts[0] if parts else distribution.distribution).logits
        elif hasattr(policy, "quantile_net"):  # QR-DQN
            logits = policy.quantile_net(tensor).mean(dim=1)
        else:  # DQN
            logits = policy.q_net(tensor)
    return logits.cpu().numpy().astype(np.float64)


def top_k(model: Any, obs: np.ndarray, k: int) -> np.ndarray:
    """(B, k) the k best allowed actions for (B, D) observations, best first (items in the
    cart, or bundles overlapping it, never; a row with fewer than k repeats its best)."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    obs = np.atleast_2d(np.asarray(obs, dtype=np.float32))
    source = getattr(model.policy, "mask_source", None) or MaskSource.infer(
        model.observation_space, model.action_space
    )
    scores = action_scores(model, obs)
    allowed = source.allowed(obs) & (scores > MASKED / 2)
    return rank(scores, allowed, int(k))
