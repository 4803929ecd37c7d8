"""Named sweeps: ``cartgym bench --preset NAME`` (``quick`` is the README's main job)."""

from __future__ import annotations

from typing import Any

from cartgym.agents.registry import BUNDLE_AGENTS, RL_ALGORITHMS, agents_for

# --------------------------------------------------------------------------- presets
ITEM_BASELINES = agents_for("items", exclude=(*RL_ALGORITHMS, "no_recommendation"))
SLATE_BASELINES = agents_for("slates", exclude=(*RL_ALGORITHMS, "no_recommendation"))

PRESETS: dict[str, dict[str, Any]] = {
    # the README's main job: does each agent beat showing nothing? (about 3 minutes)
    "quick": {
        "name": "quick",
        "agents": [
            "no_recommendation",
            "random",
            "oracle_myopic",
            "popularity",
            "cooccurrence",
            "ucb1",
            "linucb",
            "dqn",
            "ppo",
        ],
        "envs": [{"id": "CartRec-v1"}],
        "seeds": [0, 1, 2],
        "budget": 3000,
        "eval_sessions": 200,
        "eval_lanes": 50,
        "curve_points": 0,
        "curve_sessions": 100,
    },
    # the published CartRec-v1 results (docs/results/cartrec-v1/sweep): every item agent,
    # the show-nothing control included, 10 seeds, 150k steps per learning agent
    "cartrec_v1": {
        "name": "cartrec-v1",
        "agents": agents_for("items"),
        "envs": [{"id": "CartRec-v1"}],
        "seeds": list(range(10)),
        "budget": 150_000,
        "eval_sessions": 1000,
        "eval_lanes": 100,
        "curve_points": 5,
        "curve_sessions": 200,
    },
    # combination recommendation on CartRec-v1 (docs/results/cartrec-v1/combinations):
    # slates, multi-choice slates and discounted bundles, 5 seeds
    "combinations": {
        "name": "combinations",
        "agents": [
            "no_recommendation",
            "random",
            "oracle_myopic",
            "cooccurrence",
            "linucb",
            "ppo",
        ],
        "envs": [
            {"id": "CartRecSlate-v1"},
            {"id": "CartRecMultiSlate-v1"},
            {
                "id": "CartRecBundle-v1",
                "agents": [*BUNDLE_AGENTS, "no_recommendation", "dqn", "ppo"],
            },
        ],
        "seeds": [0, 1, 2, 3, 4],
        "budget": 30_000,
        "eval_sessions": 500,
        "eval_lanes": 50,
        "curve_points": 0,
        "curve_sessions": 100,
    },
    # everything on every CartRec-v1 kind, the long way (on demand: hours)
    "full": {
        "name": "full",
        "agents": agents_for("items"),
        "envs": [
            {"id": "CartRec-v1"},
            {"id": "CartRecSlate-v1", "agents": agents_for("slates")},
            {"id": "CartRecMultiSlate-v1", "agents": agents_for("slates")},
            {"id": "CartRecBundle-v1", "agents": agents_for("bundles")},
        ],
        "seeds": list(range(10)),
        "budget": 200_000,
        "eval_sessions": 2000,
        "eval_lanes": 100,
        "curve_points": 10,
        "curve_sessions": 300,
    },
    # every baseline (references, bandits, collaborative filtering) on items and slates,
    # the question of docs/agents/index.md: which non-RL recommender to beat
    "baselines": {
        "name": "baselines",
        "agents": ITEM_BASELINES,
        "envs": [{"id": "CartRec-v1"}, {"id": "CartRecSlate-v1", "agents": SLATE_BASELINES}],
        "seeds": [0, 1, 2, 3, 4],
        "budget": 100_000,
        "eval_sessions": 1000,
        "eval_lanes": 100,
        "curve_points": 0,
        "curve_sessions": 100,
    },
    # CartRec-v1's plausibility check (docs/results/cartrec-v1/plausibility.md): the
    # control, the references and the log-based recommenders against their twins, 5 seeds,
    # at the default and under the two leaving variants (Baymard exits, v0's annoyance)
    "plausibility": {
        "name": "plausibility",
        "agents": ["no_recommendation", "random", "popularity", "cooccurrence", "oracle_myopic"],
        "envs": [{"id": "CartRec-v1"}, {"id": "CartRec-Abandon-v1"}, {"id": "CartRec-Patience-v1"}],
        "seeds": [0, 1, 2, 3, 4],
        "budget": 1,
        "eval_sessions": 1000,
        "eval_lanes": 100,
        "curve_points": 0,
        "curve_sessions": 100,
    },
}
