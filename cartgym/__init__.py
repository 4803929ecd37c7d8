"""cartgym: shopping-cart recommendation as a Gymnasium environment.

Importing the package registers the environment ids (``CartRec-v0`` and its
variants) with Gymnasium; nothing else happens at import time.
"""

__version__ = "0.1.0"

from cartgym.envs.registration import register_envs

register_envs()

__all__ = ["__version__"]
