"""The evaluation loop: every published figure of an agent comes from :func:`evaluate`.

The harness, ``cartgym train`` (its evaluations, references and best-model choice), the
SB3 callbacks and ``cartgym demo`` all call it, so the same agent on the same seed gives
the same figure everywhere.

    >>> import gymnasium as gym, cartgym
    >>> from cartgym.evaluation import evaluate
    >>> env = gym.make_vec("CartRec-v0", num_envs=4, vectorization_mode="vector_entry_point",
    ...                    n_items=50)
    >>> result = evaluate(lambda obs: env.unwrapped.action_masks().argmax(1), env, 8, seed=0)
    >>> len(result.sessions)
    8

A policy is anything with SB3's ``predict(obs, deterministic=...)`` (every cartgym agent,
every SB3 model) or a plain function ``obs -> actions``; it acts on the (N, D)
observations of a cartgym vector env. Each of the N lanes plays its share of the
sessions in order, so short sessions are not favoured by the stopping rule. A single
environment (``gym.make``) is played as one lane, its observations batched as (1, D).

Sessions are listed by lane, then by their order in the lane (``lane``, ``index``). On
CartRec-v1 every draw of lane i's k-th session comes from streams of its own
(:mod:`cartgym.sim.streams`), so two policies evaluated from the same seed and number of
lanes meet the same shopper in each row, with the same draws as far as their actions
allow: rows pair session by session (:func:`paired_sessions`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cartgym.stats import Interval, mean_ci, ratio_ci

# One row per finished session: its lane and order in the lane, the shopper's user index
# (-1 for a new shopper), the sum of rewards ("revenue", its name since v0), steps,
# accepted recommendations, how it ended, the cart at the end, items taken from
# recommendations, their line value net of discount, and the discounts given.
SESSION_COLUMNS = (
    "lane",
    "index",
    "user",
    "revenue",
    "recommendations",
    "accepted",
    "checkout",
    "abandoned",
    "truncated",
    "basket_size",
    "basket_value",
    "items_taken",
    "rec_revenue",
    "discount_cost",
)
# CartRec-v1's sessions also record their counterfactual twin (NaN on v0): the value it
# paid, the items in its cart and whether it checked out, and the distinct items the
# session took from recommendations, of which the twin carted anyway.
TWIN_COLUMNS = (
    "twin_basket_value",
    "twin_basket_size",
    "twin_checkout",
    "session_taken",
    "bought_anyway",
)
Policy = Callable[[np.ndarray], Any]


def summarize(sessions: pd.DataFrame, level: float = 0.95) -> dict[str, Interval]:
    """The metrics users expect, each with its interval over sessions:

    revenue per session, conversion, basket size and basket value (means, t intervals);
    CTR (accepted recommendations over recommendations, a ratio with a delta-method
    interval).
    """
    return {
        "revenue_per_session": mean_ci(sessions["revenue"], level),
        "ctr": ratio_ci(sessions["accepted"], sessions["recommendations"], level),
        "conversion": mean_ci(sessions["checkout"], level),
        "basket_size": mean_ci(sessions["basket_size"], level),
        "basket_value": mean_ci(sessions["basket_value"], level),
    }


@dataclass(frozen=True)
class Evaluation:
    """What :func:`evaluate` measured: one row per session, and the items shown."""

    sessions: pd.DataFrame  # SESSION_COLUMNS
    shown_items: int  # distinct catalogue items recommended at least once
    n_items: int  # catalogue size

    def metrics(self, level: float = 0.95) -> dict[str, Interval]:
        """:func:`summarize` of the sessions."""
        return summarize(self.sessions, level)

    def against_twin(self) -> dict[str, float]:
        """CartRec-v1's counterfactual measures (NaN on v0): the incremental basket value
        (mean over sessions of basket value minus the twin's), the items purchased over
        the twin's (a ratio - 1), conversion over the twin's, and the share of the items
        taken from recommendations that the twin added to its cart too (NaN if none)."""
        s = self.sessions
        items = (s["basket_size"] * (s["checkout"] > 0)).sum()
        twin_items = (s["twin_basket_size"] * (s["twin_checkout"] > 0)).sum()
        taken = s["session_taken"].sum()
        return {
            "incremental_basket_value": float((s["basket_value"] - s["twin_basket_value"]).mean()),
            "incremental_items": float(items / twin_items - 1) if twin_items > 0 else np.nan,
            "incremental_conversion": float((s["checkout"] - s["twin_checkout"]).mean()),
            "bought_anyway_share": float(s["bought_anyway"].sum() / taken) if taken > 0 else np.nan,
        }

    def summary(self) -> dict[str, float]:
        """Point estimates: :func:`summarize`'s means, coverage (share of the catalogue
        shown), items taken per recommendation, discount cost per session, sessions."""
        out = {name: interval.mean for name, interval in self.metrics().items()}
        sessions = self.sessions
        out["coverage"] = self.shown_items / self.n_items
        out["items_per_recommendation"] = float(
            sessions["items_taken"].sum() / sessions["recommendations"].sum()
        )
        out["discount_cost"] = float(sessions["discount_cost"].mean())
        out["sessions"] = len(sessions)
        return out


def paired_sessions(a: Evaluation, b: Evaluation, column: str = "basket_value") -> np.ndarray:
    """(S,) ``column`` of ``a`` minus that of ``b``, session by session: the two
    evaluations must have played the same sessions (lane, order in the lane and shopper),
    as two policies do on CartRec-v1 from the same seed and number of lanes."""
    key = ["lane", "index", "user"]
    left, right = a.sessions, b.sessions
    if len(left) != len(right) or not left[key].equals(right[key]):
        raise ValueError(
            "the evaluations did not play the same sessions (lane, index, shopper): evaluate "
            "both on CartRec-v1 with the same seed, number of sessions and lanes"
        )
    return (left[column] - right[column]).to_numpy()


def as_policy(policy: Any, deterministic: bool = True) -> Policy:
    """``policy`` as a function of observations: its ``predict`` if it has one."""
    if hasattr(policy, "predict"):
        return lambda obs: policy.predict(obs, deterministic=deterministic)[0]
    if callable(policy):
        return policy
    raise ValueError(
        f"policy must have predict(obs, deterministic=...) or be a function of observations, "
        f"got {type(policy).__name__}"
    )


def evaluate(
    policy: Any, env: Any, n_sessions: int, seed: int, *, deterministic: bool = True
) -> Evaluation:
    """Play exactly ``n_sessions`` sessions of ``policy`` on the vector env ``env``, which is
    reset with ``seed``; returns the sessions (see :class:`Evaluation`)."""
    if isinstance(n_sessions, bool) or not isinstance(n_sessions, (int, np.integer)):
        raise ValueError(f"n_sessions must be a positive int, got {n_sessions!r}")
    if n_sessions < 1:
        raise ValueError(f"n_sessions must be a positive int, got {n_sessions!r}")
    core = env.unwrapped
    if not hasattr(core, "sessions"):
        raise ValueError(f"evaluate needs a cartgym environment, got {type(core).__name__}")
    if not hasattr(env, "num_envs"):
        env = OneLane(env)
    act = as_policy(policy, deterministic)
    lanes = env.num_envs
    quota = np.full(lanes, n_sessions // lanes)
    quota[: n_sessions % lanes] += 1
    obs, _ = env.reset(seed=seed)
    counted = np.zeros(lanes, dtype=int)
    restarting = np.zeros(lanes, dtype=bool)
    # per lane: revenue, recommendations, accepted, items taken, rec revenue, discount cost
    current = np.zeros((lanes, 6))
    rows, shown = [], set()
    while (counted < quota).any():
        actions = np.asarray(act(obs))
        live = ~restarting & (counted < quota)
        shown.update(core.sessions.shown_items(actions, live).tolist())
        obs, reward, terminated, truncated, info = env.step(actions)
        step = np.stack(
            [
                reward,
                np.ones(lanes),
                info["accepted"] >= 0,
                info["accepted_count"],
                info["rec_revenue"],
                info["discount_cost"],
            ],
            axis=1,
        )
        current[live] += step[live]
        ended = np.flatnonzero(live & (terminated | truncated))
        # (a lane's next session starts at its next step: its row still holds this shopper)
        users = core.sessions.users() if len(ended) else np.zeros(0)
        for lane in ended:
            twin = {key: float(info[key][lane]) if key in info else np.nan for key in TWIN_COLUMNS}
            rows.append(
                {
                    **twin,
                    "lane": lane,
                    "index": counted[lane],
                    "user": users[lane],
                    "revenue": current[lane, 0],
                    "recommendations": current[lane, 1],
                    "accepted": current[lane, 2],
                    "checkout": float(info["checkout"][lane]),
                    "abandoned": float(info["abandoned"][lane]),
                    "truncated": float(truncated[lane] and not terminated[lane]),
                    "basket_size": float(info["cart_size"][lane]),
                    "basket_value": float(info["basket_value"][lane]),
                    "items_taken": current[lane, 3],
                    "rec_revenue": current[lane, 4],
                    "discount_cost": current[lane, 5],
                }
            )
            counted[lane] += 1
            current[lane] = 0.0
        restarting = terminated | truncated
    sessions = pd.DataFrame(rows, columns=[*SESSION_COLUMNS, *TWIN_COLUMNS]).astype(float)
    sessions = sessions.sort_values(["lane", "index"], kind="stable").reset_index(drop=True)
    return Evaluation(sessions, len(shown), core.catalogue.n_items)


class OneLane:
    """A single cartgym environment seen as a vector env of one lane (next-step autoreset:
    the step after the one that ends a session starts the next; its action is ignored and
    its reward and infos are zeros)."""

    num_envs = 1

    def __init__(self, env: Any):
        self.env = env
        self.unwrapped = env.unwrapped
        self._restart = False
        self._info: dict[str, np.ndarray] = {}

    def reset(self, *, seed: int | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        self._restart = False
        obs, info = self.env.reset(seed=seed)
        return np.asarray(obs)[None], info

    def step(self, actions: Any) -> tuple[Any, ...]:
        ended = np.array([False])
        if self._restart:
            obs, _ = self.reset()
            idle = {key: np.zeros_like(value) for key, value in self._info.items()}
            return obs, np.zeros(1), ended, ended, idle
        obs, reward, terminated, truncated, info = self.env.step(np.asarray(actions)[0])
        self._restart = bool(terminated or truncated)
        self._info = {key: np.asarray([value]) for key, value in info.items()}
        return (
            np.asarray(obs)[None],
            np.array([float(reward)]),
            np.array([bool(terminated)]),
            np.array([bool(truncated)]),
            self._info,
        )
