"""Gymnasium environments over the batched shopper simulator."""

from cartgym.envs.cart_env import CartEnv
from cartgym.envs.registration import ENV_IDS
from cartgym.envs.vector_env import CartVectorEnv

__all__ = ["ENV_IDS", "CartEnv", "CartVectorEnv"]
