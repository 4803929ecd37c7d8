"""The agents under test and the constants of the test worlds (imported by the tests)."""

from __future__ import annotations

BEST = 7  # the item every shopper prefers in the `best_world` fixture
N_ITEMS = 20

AGENT_NAMES = (
    "random",
    "oracle",
    "epsilon_greedy",
    "ucb1",
    "thompson",
    "thompson_click",
    "linucb",
    "linear_thompson",
    "popularity",
    "cooccurrence",
    "als",
    "neural",
)


def new_agent(name: str, env, seed: int):
    from cartgym import agents
    from cartgym.agents.cf.neural import NeuralCFAgent

    factories = {
        "random": lambda: agents.RandomAgent(env, seed=seed),
        "oracle": lambda: agents.OracleMyopicAgent(env, seed=seed),
        "epsilon_greedy": lambda: agents.EpsilonGreedy(env, epsilon=0.2, seed=seed),
        "ucb1": lambda: agents.UCB1(env, c=0.5, seed=seed),
        "thompson": lambda: agents.ThompsonSampling(env, seed=seed),
        "thompson_click": lambda: agents.ThompsonSampling(env, objective="click", seed=seed),
        "linucb": lambda: agents.LinUCB(env, seed=seed),
        "linear_thompson": lambda: agents.LinearThompsonSampling(env, seed=seed),
        "popularity": lambda: agents.PopularityAgent(env, seed=seed),
        "cooccurrence": lambda: agents.CoOccurrenceAgent(env, seed=seed),
        "als": lambda: agents.MatrixFactorizationAgent(env, factors=8, backend="numpy", seed=seed),
        "neural": lambda: NeuralCFAgent(env, hidden=32, epochs=10, batch_size=32, seed=seed),
    }
    return factories[name]()
