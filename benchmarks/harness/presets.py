"""Named sweeps: ``cartgym bench --preset NAME`` (``quick`` is the README's main job)."""

from __future__ import annotations

from typing import Any

from cartgym.agents.registry import BUNDLE_AGENTS, RL_ALGORITHMS, agents_for

# --------------------------------------------------------------------------- presets
PRESETS: dict[str, dict[str, Any]] = {
    "quick": {
        "name": "quick",
        "agents": [
            "random",
            "oracle_myopic",
            "popularity",
            "cooccurrence",
            "ucb1",
            "linucb",
            "dqn",
            "ppo",
        ],
        "envs": [{"id": "CartRec-v0"}],
        "seeds": [0, 1, 2],
        "budget": 3000,
        "eval_sessions": 200,
        "eval_lanes": 50,
        "curve_points": 3,
        "curve_sessions": 100,
    },
    "full": {
        "name": "full",
        "agents": agents_for("items"),
        "envs": [
            {"id": "CartRec-v0"},
            {"id": "CartRecSlate-v0", "agents": agents_for("slates")},
            {"id": "CartRecMultiSlate-v0", "agents": agents_for("slates")},
            {"id": "CartRecBundle-v0", "agents": agents_for("bundles")},
        ],
        "seeds": list(range(10)),
        "budget": 200_000,
        "eval_sessions": 2000,
        "eval_lanes": 100,
        "curve_points": 10,
        "curve_sessions": 300,
    },
    # Combination recommendation, CI-sized (minutes): bundle offers and multi-choice slates,
    # RL against the baselines, the references and the no-recommendation control.
    "combinations": {
        "name": "combinations",
        "agents": [
            "random",
            "oracle_myopic",
            "cooccurrence",
            "linucb",
            "no_recommendation",
            "ppo",
        ],
        "envs": [
            {
                "id": "CartRecBundle-v0",
                "agents": [
                    *BUNDLE_AGENTS,
                    "no_recommendation",
                    "dqn",
                    "ppo",
                ],
            },
            {"id": "CartRecMultiSlate-v0"},
        ],
        "seeds": [0, 1, 2],
        "budget": 10_000,
        "eval_sessions": 200,
        "eval_lanes": 50,
        "curve_points": 0,
        "curve_sessions": 100,
    },
}

# Every baseline (references, bandits, collaborative filtering) on items and slates, the
# question of docs/agents/index.md: which non-RL recommender to beat.
PRESETS["baselines"] = {
    "name": "baselines",
    "agents": agents_for("items", exclude=(*RL_ALGORITHMS, "no_recommendation")),
    "envs": [
        {"id": "CartRec-v0"},
        {
            "id": "CartRecSlate-v0",
            "agents": agents_for("slates", exclude=(*RL_ALGORITHMS, "no_recommendation")),
        },
    ],
    "seeds": [0, 1, 2, 3, 4],
    "budget": 100_000,
    "eval_sessions": 1000,
    "eval_lanes": 100,
    "curve_points": 0,
    "curve_sessions": 100,
}
# CartRec-v1's plausibility check (docs/results/cartrec-v1/plausibility.md): the control,
# the references and the log-based recommenders against their twins, 5 seeds.
PRESETS["plausibility"] = {
    "name": "plausibility",
    "agents": ["no_recommendation", "random", "popularity", "cooccurrence", "oracle_myopic"],
    "envs": [{"id": "CartRec-v1"}],
    "seeds": [0, 1, 2, 3, 4],
    "budget": 1,
    "eval_sessions": 2000,
    "eval_lanes": 100,
    "curve_points": 0,
    "curve_sessions": 100,
}
# The same sweep with 5 seeds, 3x the training budget and 500 sessions per run (about half
# an hour on two CPU cores with --workers 2).
PRESETS["combinations_large"] = {
    **PRESETS["combinations"],
    "name": "combinations_large",
    "seeds": [0, 1, 2, 3, 4],
    "budget": 30_000,
    "eval_sessions": 500,
}
