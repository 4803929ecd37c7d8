"""Bundle agents on CartRecBundle-v0: beat random, repeat under a seed, respect the masks,
refuse bad arguments; frequent itemsets match brute force and efficient-apriori; the masked
SB3 policies never offer a bundle that overlaps the cart."""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import cartgym  # noqa: F401
from cartgym.agents import (
    AssociationRuleBundleAgent,
    BundleOracleMyopicAgent,
    BundleRandomAgent,
    FrequentItemsets,
    ItemScoreBundleAgent,
    LinUCB,
    NotFittedError,
)
from cartgym.agents.bundles import CandidateBlock
from cartgym.evaluation import evaluate
from cartgym.harness import training_logs

N_ITEMS = 60


def _bundle_env(n: int | None = None, population: str = "all", **kwargs):
    kwargs = {"n_items": N_ITEMS, "population": population, **kwargs}
    if n is None:
        return gym.make("CartRecBundle-v0", **kwargs)
    return gym.make_vec(
        "CartRecBundle-v0", num_envs=n, vectorization_mode="vector_entry_point", **kwargs
    )


@pytest.fixture(scope="module")
def logs():
    """The training users' logged baskets of the bundled world (never eval users)."""
    return training_logs(_bundle_env().unwrapped.catalogue)


@pytest.fixture(scope="module")
def fitted(logs):
    """Every bundle baseline, fitted or trained, bound to an eval vector env of 50 lanes."""
    env = _bundle_env(50, "eval")
    train = _bundle_env(8, "train")
    agents = {
        "rules": AssociationRuleBundleAgent(env, seed=0).fit(logs),
        "items_cooccurrence": ItemScoreBundleAgent(env, seed=0).fit(logs),
        "items_linucb": ItemScoreBundleAgent(train, item_agent="linucb", seed=0).learn(
            train, 1000, seed=0
        ),
    }
    return env, agents


def _revenue(agent, env, seed: int, sessions: int = 300) -> float:
    return evaluate(agent, env, sessions, seed).summary()["revenue_per_session"]


def test_candidate_block_decodes_the_offers():
    env = _bundle_env()
    obs, _ = env.reset(seed=0)
    block = CandidateBlock.of_env(env)
    sessions = env.unwrapped.sessions
    for _ in range(20):
        bundles = np.repeat(sessions.current[0], len(sessions.discounts))
        expected = sessions.bundles.items[bundles].copy()
        expected[sessions.bundles.size[bundles] == 2, 2] = -1
        assert np.array_equal(block.items(obs[None])[0], expected)
        assert np.array_equal(block.available(obs[None])[0], env.unwrapped.action_masks())
        obs, _, terminated, truncated, _ = env.step(int(np.argmax(env.unwrapped.action_masks())))
        if terminated or truncated:
            obs, _ = env.reset()


def test_bundle_baselines_beat_bundle_random(fitted):
    env, agents = fitted
    random = BundleRandomAgent(env, seed=0)
    oracle = BundleOracleMyopicAgent(env)
    for seed in (1, 2):
        floor = _revenue(random, env, seed)
        for name, agent in agents.items():
            assert _revenue(agent, env, seed) > 1.2 * floor, name
        assert _revenue(oracle, env, seed) > 1.8 * floor


def test_oracle_takes_the_best_available_offer():
    env = _bundle_env(4)
    obs, _ = env.reset(seed=0)
    oracle = BundleOracleMyopicAgent(env)
    for _ in range(10):
        actions, _ = oracle.predict(obs, deterministic=True)
        revenue = env.unwrapped.oracle_bundle_revenue()
        best = np.where(env.unwrapped.action_masks(), revenue, -1.0).max(axis=1)
        assert np.allclose(revenue[np.arange(4), actions], best)
        obs, *_ = env.step(actions)
    with pytest.raises(ValueError, match="observations"):
        oracle.predict(obs[:2])


def test_deterministic_under_a_seed(logs):
    def rollout(seed: int) -> tuple[list[int], np.ndarray]:
        env = _bundle_env(8)
        agent = ItemScoreBundleAgent(env, item_agent="linucb", seed=seed).learn(env, 200, seed=3)
        random = BundleRandomAgent(env, seed=seed)
        obs, _ = env.reset(seed=5)
        actions = []
        for _ in range(5):
            action = agent.predict(obs, deterministic=False)[0]
            actions += [*action.tolist(), *random.predict(obs)[0].tolist()]
            obs, *_ = env.step(action)
        return actions, agent.item_agent_.A_

    first, again = rollout(0), rollout(0)
    assert first[0] == again[0] and np.array_equal(first[1], again[1])
    env = _bundle_env(8)
    rules = [AssociationRuleBundleAgent(env).fit(logs) for _ in range(2)]
    obs, _ = env.reset(seed=1)
    assert np.array_equal(rules[0].predict(obs)[0], rules[1].predict(obs)[0])


@pytest.fixture(scope="module")
def mask_cases(fitted):
    env, agents = fitted
    obs, _ = env.reset(seed=0)
    return env, {**agents, "random": BundleRandomAgent(env, seed=0)}, obs


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_masks_are_never_violated(mask_cases, data):
    env, agents, template = mask_cases
    block = CandidateBlock.of_env(env)
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    rows = data.draw(st.integers(1, 6))
    obs = template[rng.integers(0, len(template), rows)].copy()
    cart = rng.random((rows, N_ITEMS)) < data.draw(st.floats(0.0, 0.5))
    cart[np.arange(rows), rng.integers(0, N_ITEMS, rows)] = True
    obs[:, :N_ITEMS] = cart
    features = block.features(obs)  # a view: writes go into obs
    items = rng.integers(0, N_ITEMS, (rows, block.n_actions, 3))
    items[rng.random((rows, block.n_actions)) < 0.5, 2] = -1
    features[:, :, :3] = (items + 1) / N_ITEMS
    available = rng.random((rows, block.n_actions)) < data.draw(st.floats(0.05, 1.0))
    available[np.arange(rows), rng.integers(0, block.n_actions, rows)] = True
    features[:, :, -1] = available
    for name, agent in agents.items():
        for deterministic in (True, False):
            actions, _ = agent.predict(obs, deterministic=deterministic)
            allowed = agent.allowed(obs)
            assert np.all(available[np.arange(rows), actions]), name
            if allowed.any(axis=1).all():
                assert np.all(allowed[np.arange(rows), actions]), name


def test_log_agents_offer_the_lowest_discount(fitted):
    env, agents = fitted
    obs, _ = env.reset(seed=4)
    block = CandidateBlock.of_env(env)
    for agent in agents.values():
        actions, _ = agent.predict(obs, deterministic=True)
        assert np.all(block.discount(obs)[np.arange(len(obs)), actions] == 0.0)


def test_frequent_itemsets_match_brute_force():
    rng = np.random.default_rng(0)
    x = (rng.random((300, 12)) < rng.uniform(0.05, 0.5, 12)).astype(float)
    sets = FrequentItemsets.fit(sp.csr_matrix(x), min_count=8, chunk=5)
    for size in (1, 2, 3):
        for combo in itertools.combinations(range(12), size):
            count = int(x[:, list(combo)].all(axis=1).sum())
            expected = count if size == 1 or count >= 8 else 0
            query = np.array([*combo, *[-1] * (3 - size)])
            assert sets.counts(rng.permutation(query)[None])[0] == expected, combo
    assert sets.counts(np.array([[-1, -1, -1], [3, 3, -1]])).tolist() == [300, x[:, 3].sum()]


def test_numpy_and_efficient_apriori_find_the_same_itemsets():
    pytest.importorskip("efficient_apriori")
    rng = np.random.default_rng(1)
    x = sp.csr_matrix((rng.random((400, 30)) < 0.15).astype(float))
    mine = FrequentItemsets.fit(x, min_count=6)
    theirs = FrequentItemsets.fit(x, min_count=6, backend="efficient_apriori")
    assert len(mine.triple_codes) > 10
    for name in ("pair_codes", "pair_counts", "triple_codes", "triple_counts", "item_counts"):
        assert np.array_equal(getattr(mine, name), getattr(theirs, name)), name


@pytest.mark.parametrize(
    "make",
    [
        lambda env: AssociationRuleBundleAgent(env, measure="support"),
        lambda env: AssociationRuleBundleAgent(env, aggregate="min"),
        lambda env: AssociationRuleBundleAgent(env, min_count=0),
        lambda env: AssociationRuleBundleAgent(env, min_count=2.5),
        lambda env: AssociationRuleBundleAgent(env, support_weight=-1.0),
        lambda env: AssociationRuleBundleAgent(env, support_weight=float("nan")),
        lambda env: AssociationRuleBundleAgent(env, objective="profit"),
        lambda env: AssociationRuleBundleAgent(env, backend="mlxtend"),
        lambda env: ItemScoreBundleAgent(env, item_agent="nope"),
        lambda env: ItemScoreBundleAgent(env, item_agent="linucb", item_kwargs="alpha=1"),
        lambda env: ItemScoreBundleAgent(env, item_agent=BundleRandomAgent(env)),
        lambda env: ItemScoreBundleAgent(env, item_agent=LinUCB(env), item_kwargs={"alpha": 1}),
        lambda env: ItemScoreBundleAgent(env, item_agent="linucb", item_kwargs={"alpha": -1}),
        lambda env: BundleOracleMyopicAgent(env, objective="profit"),
        lambda env: BundleRandomAgent(gym.make("CartRec-v0", n_items=N_ITEMS)),
        lambda env: FrequentItemsets.fit(sp.eye(3), min_count=0),
        lambda env: FrequentItemsets.fit(sp.eye(3), min_count=1, backend="mlxtend"),
        lambda env: BundleRandomAgent(env).predict(np.zeros(10)),
        lambda env: ItemScoreBundleAgent(env, item_agent="linucb").fit(None),
    ],
)
def test_bad_arguments_raise_value_error(make):
    with pytest.raises(ValueError):
        make(_bundle_env())


def test_not_fitted_and_wrong_env(logs):
    env = _bundle_env()
    obs, _ = env.reset(seed=0)
    with pytest.raises(NotFittedError):
        AssociationRuleBundleAgent(env).predict(obs)
    with pytest.raises(NotFittedError):
        ItemScoreBundleAgent(env).predict(obs)
    agent = ItemScoreBundleAgent(env, item_agent="linucb")
    with pytest.raises(ValueError, match="match"):
        agent.learn(_bundle_env(bundle_candidates=4), 10)


# ----------------------------------------------------------------------------- SB3
@pytest.mark.parametrize("algorithm", ["dqn", "ppo"])
def test_sb3_policies_never_offer_a_masked_bundle(algorithm, tmp_path):
    pytest.importorskip("stable_baselines3")
    import torch

    from cartgym.agents.sb3 import MaskSource, load_agent, make_model, make_sb3_vec_env, save_agent

    torch.set_num_threads(1)
    venv = make_sb3_vec_env("CartRecBundle-v0", n_envs=4, seed=0, n_items=N_ITEMS)
    quick = {"learning_starts": 100} if algorithm == "dqn" else {}
    model = make_model(algorithm, venv, seed=0, device="cpu", **quick)
    source = MaskSource.of_env(venv)
    assert source == MaskSource.infer(venv.observation_space, venv.action_space)
    assert model.policy.mask_source == source and source.allowed_if_set
    model.learn(300)
    # crafted states: one or two offers available per row
    rng = np.random.default_rng(0)
    obs = np.repeat(venv.reset(), 16, axis=0)
    n = venv.action_space.n
    allowed = np.zeros((len(obs), n), dtype=bool)
    for row in range(len(obs)):
        allowed[row, rng.choice(n, rng.integers(1, 3), replace=False)] = True
    obs[:, source.start : source.end : source.stride] = allowed
    actions, _ = model.predict(obs, deterministic=True)
    assert allowed[np.arange(len(obs)), actions].all()
    loaded = load_agent(save_agent(model, tmp_path / algorithm), venv, device="cpu")
    assert loaded.policy.mask_source == source
    assert np.array_equal(loaded.predict(obs, deterministic=True)[0], actions)
    # rollouts
    obs = venv.reset()
    for _ in range(60):
        actions, _ = model.predict(obs, deterministic=True)
        masks = venv.env.action_masks()
        usable = masks.any(axis=1)
        assert masks[np.arange(4), actions][usable].all()
        obs, *_ = venv.step(actions)


def test_embedding_features_are_refused_on_bundles_and_mask_sources_are_checked():
    pytest.importorskip("stable_baselines3")
    from cartgym.agents.sb3 import MaskedActorCriticPolicy, MaskSource, make_model, make_sb3_vec_env

    venv = make_sb3_vec_env("CartRecBundle-v0", n_envs=2, seed=0, n_items=N_ITEMS)
    with pytest.raises(ValueError, match="features='mlp'"):
        make_model("ppo", venv, features="embeddings_dot", device="cpu")
    with pytest.raises(ValueError, match="does not fit"):
        MaskedActorCriticPolicy(
            venv.observation_space,
            venv.action_space,
            lambda _: 1e-3,
            mask_source=MaskSource.cart(N_ITEMS),
        )
    with pytest.raises(ValueError):
        MaskSource(0, 0, 3, True)
