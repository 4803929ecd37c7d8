"""Gymnasium environments over the batched shopper simulator."""

from cartgym.envs.cart_env import CartEnv
from cartgym.envs.registration import ENV_IDS

__all__ = ["ENV_IDS", "CartEnv"]
