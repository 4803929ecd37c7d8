"""Masked SB3 policies: the deterministic policy never recommends an item in the cart."""

import gymnasium as gym
import numpy as np
import pytest
import torch

pytest.importorskip("stable_baselines3")
from cartgym.agents.features import ItemFeatures
from cartgym.agents.sb3 import make_model, make_sb3_vec_env
from cartgym.agents.sb3.extractors import EmbeddingExtractor, ItemHead, item_head_for
from cartgym.agents.sb3.masking import distinct_greedy, random_allowed

torch.set_num_threads(1)

N_ITEMS = 20
ALGORITHMS = ("dqn", "qrdqn", "ppo", "a2c")
SLATE_ALGORITHMS = ("ppo", "a2c")
QUICK = {"dqn": {"learning_starts": 100}, "qrdqn": {"learning_starts": 100}}


def _venv(slate: bool = False, n_envs: int = 4):
    env_id = "CartRecSlate-v0" if slate else "CartRec-v0"
    return make_sb3_vec_env(env_id, n_envs=n_envs, seed=0, n_items=N_ITEMS)


def _crowded_carts(venv, rows: int = 64, free: int = 2, seed: int = 0) -> tuple:
    """Observations whose carts hold every item but ``free`` random ones."""
    rng = np.random.default_rng(seed)
    obs = rng.random((rows, venv.observation_space.shape[0])).astype(np.float32)
    allowed = np.zeros((rows, N_ITEMS), dtype=bool)
    for row in range(rows):
        allowed[row, rng.choice(N_ITEMS, free, replace=False)] = True
    obs[:, :N_ITEMS] = (~allowed).astype(np.float32)
    return obs, allowed


def _check(actions: np.ndarray, allowed: np.ndarray) -> None:
    slates = actions.reshape(len(allowed), -1)
    assert np.take_along_axis(allowed, slates, axis=1).all()


@pytest.mark.parametrize("features", ["mlp", "embeddings_dot", "embeddings_dot_features"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_deterministic_policy_never_recommends_cart_items(algorithm, features):
    venv = _venv()
    quick = QUICK.get(algorithm, {})
    model = make_model(algorithm, venv, features=features, seed=0, device="cpu", **quick)
    obs, allowed = _crowded_carts(venv)
    actions, _ = model.predict(obs, deterministic=True)
    _check(actions, allowed)
    model.learn(400)  # after some learning, rollouts too
    actions, _ = model.predict(obs, deterministic=True)
    _check(actions, allowed)
    obs = venv.reset()
    for _ in range(50):
        actions, _ = model.predict(obs, deterministic=True)
        _check(actions, venv.env.action_masks())
        obs, *_ = venv.step(actions)


@pytest.mark.parametrize("algorithm", SLATE_ALGORITHMS)
def test_slates_are_distinct_and_never_hold_cart_items(algorithm):
    venv = _venv(slate=True)
    model = make_model(algorithm, venv, features="mlp", seed=0, device="cpu")
    obs, allowed = _crowded_carts(venv, free=5)
    slates, _ = model.predict(obs, deterministic=True)
    assert slates.shape == (len(obs), 3)
    _check(slates, allowed)
    assert all(len(set(row)) == 3 for row in slates.tolist())
    obs, allowed = _crowded_carts(venv, free=1)  # fewer free items than K: repeats, no cart
    slates, _ = model.predict(obs, deterministic=True)
    _check(slates, allowed)
    sampled, _ = model.predict(obs, deterministic=False)
    _check(sampled, allowed)


@pytest.mark.parametrize("algorithm", ["dqn", "qrdqn"])
def test_q_learning_refuses_slates(algorithm):
    with pytest.raises(ValueError, match="Discrete action space"):
        make_model(algorithm, _venv(slate=True), device="cpu")


@pytest.mark.parametrize("algorithm", ["dqn", "qrdqn"])
def test_exploration_and_warm_up_stay_among_allowed_items(algorithm):
    venv = _venv()
    model = make_model(algorithm, venv, seed=0, device="cpu", exploration_initial_eps=1.0)
    model.exploration_rate = 1.0
    obs, allowed = _crowded_carts(venv)
    actions, _ = model.predict(obs, deterministic=False)
    _check(actions, allowed)
    model._last_obs = obs
    warm, stored = model._sample_action(learning_starts=10**6, n_envs=len(obs))
    _check(warm, allowed)
    assert np.array_equal(warm, stored)


def test_maskable_ppo_env_masks_equal_observation_masks():
    """sb3-contrib's MaskablePPO, handed env.action_masks(), gets the masks that cartgym's
    masked policy reads from the observation (why ``ppo`` is the only PPO)."""
    from sb3_contrib import MaskablePPO

    from cartgym.agents.sb3.masking import MaskSource
    from cartgym.agents.sb3.policies import MaskedActorCriticPolicy

    venv = _venv(slate=True)
    model = MaskablePPO(
        MaskedActorCriticPolicy,
        venv,
        policy_kwargs={"mask_source": MaskSource.of_env(venv)},
        seed=0,
        device="cpu",
    )
    obs = venv.reset()
    from_obs = model.policy.masks(torch.as_tensor(obs)).numpy()
    assert np.array_equal(from_obs, venv.env.action_masks())


def test_helpers():
    rng = np.random.default_rng(0)
    obs = np.zeros((500, 2 * N_ITEMS + 6), dtype=np.float32)
    obs[:, : N_ITEMS - 3] = 1.0
    picks = random_allowed(obs, N_ITEMS, rng)
    assert set(picks.tolist()) == {N_ITEMS - 3, N_ITEMS - 2, N_ITEMS - 1}
    logits = torch.tensor([[[3.0, 2.0, -1e8, 1.0]] * 3])
    assert distinct_greedy(logits).tolist() == [[0, 1, 3]]


def test_embedding_extractor_and_item_head():
    env = gym.make("CartRec-v0", n_items=N_ITEMS)
    factors = env.unwrapped.world.item_factors
    extractor = EmbeddingExtractor(env.observation_space, factors, features_dim=32)
    obs, _ = env.reset(seed=0)
    features = extractor(torch.as_tensor(obs[None]))
    assert features.shape == (1, 32)
    head = ItemHead(32, extractor.item_factors, n_out=3)
    assert head(features).shape == (1, 3 * N_ITEMS)
    with pytest.raises(ValueError, match="item_factors has 30 items"):
        EmbeddingExtractor(env.observation_space, np.zeros((30, 16)))


def test_per_item_features_are_the_linear_bandits_features():
    venv = _venv(n_envs=8)
    world = venv.env.world
    items = ItemFeatures(world, venv.env.layout)
    extractor = EmbeddingExtractor(
        venv.observation_space,
        world.item_factors,
        features_dim=32,
        dot_head=True,
        per_item=(items.complement, items.static),
    )
    obs = venv.reset()
    for _ in range(3):  # carts of a few items
        obs, *_ = venv.step(np.array([venv.action_space.sample() for _ in range(8)]))
    features = extractor(torch.as_tensor(obs))
    expected = items(obs)[..., 1:]  # co_purchase, history, popularity, log_price
    assert np.allclose(extractor.item_features_.numpy(), expected, atol=1e-5)
    head = item_head_for(extractor, 32, n_out=2)
    assert head is not None and head.weigh is not None
    assert head(features).shape == (8, 2 * N_ITEMS)
    assert not any(name.startswith("_extractor") for name, _ in head.named_parameters())
    with pytest.raises(RuntimeError, match="has not seen these observations"):
        head(features[:3])


def test_per_item_features_need_the_dot_head_and_matching_shapes():
    env = gym.make("CartRec-v0", n_items=N_ITEMS)
    world = env.unwrapped.world
    items = ItemFeatures(world, env.unwrapped.layout)
    with pytest.raises(ValueError, match="dot_head=True"):
        EmbeddingExtractor(
            env.observation_space, world.item_factors, per_item=(items.complement, items.static)
        )
    with pytest.raises(ValueError, match=r"expected a \(20, 20\) co-purchase matrix"):
        EmbeddingExtractor(
            env.observation_space,
            world.item_factors,
            dot_head=True,
            per_item=(items.complement, items.static[:5]),
        )
