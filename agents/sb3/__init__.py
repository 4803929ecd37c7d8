"""Stable-Baselines3 agents for cartgym: masked policies, representations, a registry, saving.

    from cartgym.agents.sb3 import make_model
    model = make_model("ppo", "CartRec-v0", seed=0).learn(50_000)

- :func:`make_model` builds a registered algorithm (``dqn``, ``qrdqn``, ``ppo``, ``a2c``)
  with tuned defaults on the native vector env; every built-in algorithm uses a masked
  policy, so items in the cart are never recommended
  (:mod:`~cartgym.agents.sb3.policies`, :mod:`~cartgym.agents.sb3.masking`);
- ``features=`` picks the representation (:mod:`~cartgym.agents.sb3.representations`);
- :func:`register_algorithm` adds an algorithm (or the ``cartgym.algorithms`` entry point);
- :func:`save_agent` / :func:`load_agent` keep the world's fingerprint beside the model;
- :func:`make_sb3_vec_env` is the SB3 VecEnv over the batched simulator;
- :func:`~cartgym.agents.sb3.training.train` is one run of ``cartgym train``.
"""

from .algorithms import (
    DEFAULTS,
    REGISTRY,
    Algorithm,
    algorithm_names,
    get_algorithm,
    keep_quiet,
    make_model,
    register_algorithm,
)
from .masking import MaskSource
from .policies import MaskedActorCriticPolicy, MaskedDQN, MaskedQRDQN
from .representations import DEFAULT_FEATURES, FEATURES, catalogue_of, policy_kwargs
from .rewards import ScaledReward, scale_rewards
from .saving import WorldMismatchWarning, load_agent, save_agent
from .vec_env import CartSB3VecEnv, make_sb3_vec_env

__all__ = [
    "DEFAULTS",
    "DEFAULT_FEATURES",
    "FEATURES",
    "REGISTRY",
    "Algorithm",
    "CartSB3VecEnv",
    "MaskSource",
    "MaskedActorCriticPolicy",
    "MaskedDQN",
    "MaskedQRDQN",
    "ScaledReward",
    "WorldMismatchWarning",
    "algorithm_names",
    "catalogue_of",
    "get_algorithm",
    "keep_quiet",
    "load_agent",
    "make_model",
    "make_sb3_vec_env",
    "policy_kwargs",
    "register_algorithm",
    "save_agent",
    "scale_rewards",
]
