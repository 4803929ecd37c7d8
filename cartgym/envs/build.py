"""The sessions an environment steps: items or slates, or bundle offers."""

from __future__ import annotations

from cartgym.envs.bundles import BundleSessions
from cartgym.envs.config import CartEnvConfig
from cartgym.envs.sessions import CartSessions


def build_sessions(
    n_sessions: int, config: CartEnvConfig, horizon: int | None = None
) -> CartSessions:
    """``n_sessions`` item or slate sessions, or bundle sessions when ``config.bundles``;
    ``horizon`` is the environment's ``max_episode_steps``."""
    if config.bundles:
        return BundleSessions(n_sessions, config, horizon)
    return CartSessions(n_sessions, config, horizon=horizon)
