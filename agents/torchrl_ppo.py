"""PPO that never leaves the device: TorchRL's collector, GAE and ``ClipPPOLoss`` on
:class:`~cartgym.envs.torchrl.CartRecTorchEnv`, with a masked categorical policy.

    from cartgym.agents.torchrl_ppo import PPOConfig, train_ppo
    policy, curve = train_ppo(PPOConfig(total_steps=200_000, device="cuda"))

The networks are SB3 PPO's on CartRec-v1 (the default representation
``embeddings_dot_features`` of :mod:`cartgym.agents.sb3.representations`: the extractor,
then (256, 256) for the policy and the value, the item head scoring every item and
show-nothing), trained on train shoppers with the same settings as
``cartgym.agents.sb3.DEFAULTS["ppo"]``, v1's undiscounted return and training reward
(clicks, :func:`~cartgym.agents.sb3.algorithms.training_reward`), and rewards scaled by
the median logged line value. What differs is the loop: the environment, the rollout,
the advantages and the updates all stay on ``device``. ``cartgym train --backend
torchrl`` runs it; :class:`DevicePolicy` evaluates the result with
:func:`cartgym.evaluation.evaluate` like any other agent.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tensordict.nn import TensorDictModule
from torch import nn
from torchrl.collectors import Collector
from torchrl.modules import MaskedCategorical, ProbabilisticActor, ValueOperator
from torchrl.objectives import ClipPPOLoss
from torchrl.objectives.value import GAE

from cartgym.envs.torchrl import CartRecTorchEnv

from .knowledge import knowledge_of
from .sb3.algorithms import training_reward
from .sb3.extractors import EmbeddingExtractor, item_head_for
from .sb3.representations import policy_kwargs


@dataclass
class PPOConfig:
    """Settings of one TorchRL PPO run (defaults: SB3 PPO's on CartRec-v1)."""

    env_id: str = "CartRec-v1"
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    total_steps: int = 100_000
    num_envs: int = 8
    rollout_steps: int = 128  # steps of every session per batch (SB3's n_steps)
    epochs: int = 4
    batch_size: int = 256
    learning_rate: float = 3e-4
    gamma: float = 1.0
    gae_lambda: float = 0.9
    clip: float = 0.2
    entropy: float = 0.01
    value_coef: float = 0.5
    max_grad_norm: float = 0.5
    seed: int = 0
    device: str = "cpu"
    # the training env's reward: "auto" (clicks on CartRec-v1, as SB3's), None (the env's)
    train_reward: str | None = "auto"

    def __post_init__(self) -> None:
        for name in ("total_steps", "num_envs", "rollout_steps", "epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not 0.0 <= self.gamma <= 1.0 or not 0.0 <= self.gae_lambda <= 1.0:
            raise ValueError(
                f"gamma and gae_lambda must be in [0, 1], got {self.gamma}, {self.gae_lambda}"
            )


class PolicyNet(nn.Module):
    """Extractor, then an MLP, then the item head: logits of every action."""

    def __init__(self, extractor: EmbeddingExtractor, n_actions: int, hidden: int = 256):
        super().__init__()
        self.extractor = extractor
        width = extractor.features_dim
        self.mlp = nn.Sequential(
            nn.Linear(width, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh()
        )
        head = item_head_for(extractor, hidden, 1, n_actions)
        self.head = head if head is not None else nn.Linear(hidden, n_actions)

    def forward(self, observation: torch.Tensor) -> torch.Tensor:
        return self.head(self.mlp(self.extractor(observation)))


class Flat(nn.Module):
    """``net`` on (..., D) inputs: the leading dimensions (lanes, time) flattened."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x.reshape(-1, x.shape[-1]))
        return out.reshape(*x.shape[:-1], out.shape[-1])


def make_modules(env: CartRecTorchEnv, seed: int) -> tuple[ProbabilisticActor, ValueOperator]:
    """The masked categorical actor and the critic for ``env`` (on its device)."""
    torch.manual_seed(seed)
    kwargs = policy_kwargs("embeddings_dot_features", env.sessions, knowledge_of(env.catalogue))
    space = env.sessions.observation_space
    extractor = EmbeddingExtractor(space, **kwargs["features_extractor_kwargs"])
    net = Flat(PolicyNet(extractor, env.n_actions)).to(env.device)
    actor = ProbabilisticActor(
        TensorDictModule(net, in_keys=["observation"], out_keys=["logits"]),
        in_keys={"logits": "logits", "mask": "action_mask"},
        distribution_class=MaskedCategorical,
        return_log_prob=True,
    )
    value_extractor = EmbeddingExtractor(space, **kwargs["features_extractor_kwargs"])
    width = value_extractor.features_dim
    value_net = Flat(
        nn.Sequential(
            value_extractor,
            nn.Linear(width, 256),
            nn.Tanh(),
            nn.Linear(256, 256),
            nn.Tanh(),
            nn.Linear(256, 1),
        )
    ).to(env.device)
    return actor, ValueOperator(value_net, in_keys=["observation"])


class DevicePolicy:
    """A trained actor as a policy of numpy observations (SB3's ``predict``), masked by the
    cart block: what :func:`cartgym.evaluation.evaluate` runs."""

    def __init__(self, actor: ProbabilisticActor, n_items: int, device: str):
        self.net = actor.module[0].module
        self.n_items, self.device = n_items, torch.device(device)

    @torch.no_grad()
    def predict(
        self,
        observation: np.ndarray,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
    ):
        obs = torch.as_tensor(np.atleast_2d(observation), dtype=torch.float32, device=self.device)
        logits = self.net(obs)
        in_cart = obs[:, : self.n_items] > 0.5
        logits[:, : self.n_items] = logits[:, : self.n_items].masked_fill(in_cart, -1e8)
        if deterministic:
            actions = logits.argmax(1)
        else:
            actions = torch.distributions.Categorical(logits=logits).sample()
        actions = actions.cpu().numpy()
        return (actions[0] if np.ndim(observation) == 1 else actions), state


def train_ppo(
    config: PPOConfig, evaluate_every: int = 0, evaluation: Any = None
) -> tuple[DevicePolicy, list[dict[str, float]]]:
    """Train PPO on ``config``'s environment (train shoppers); returns the policy and one
    row per batch (steps, seconds, frames per second, losses) and, every
    ``evaluate_every`` steps, ``evaluation(policy)`` merged into the row."""
    reward = config.train_reward
    if reward == "auto":
        reward = training_reward(config.env_id, config.env_kwargs)
    kwargs = config.env_kwargs if reward is None else {**config.env_kwargs, "reward": reward}
    env = CartRecTorchEnv(
        config.env_id, num_envs=config.num_envs, device=config.device, population="train", **kwargs
    )
    env.set_seed(config.seed)
    actor, critic = make_modules(env, config.seed)
    scale = float(1.0 / np.median(knowledge_of(env.catalogue).line_values))
    advantage = GAE(gamma=config.gamma, lmbda=config.gae_lambda, value_network=critic)
    loss = ClipPPOLoss(
        actor, critic, clip_epsilon=config.clip, entropy_coeff=config.entropy,
        critic_coeff=config.value_coef, normalize_advantage=True,
    )  # fmt: skip
    optimiser = torch.optim.Adam(loss.parameters(), lr=config.learning_rate)
    frames = config.num_envs * config.rollout_steps
    collector = Collector(
        env, actor, frames_per_batch=frames, total_frames=config.total_steps,
        auto_register_policy_transforms=False,
    )  # fmt: skip
    policy = DevicePolicy(actor, env.catalogue.n_items, config.device)
    curve: list[dict[str, float]] = []
    steps, started, next_eval = 0, time.perf_counter(), evaluate_every
    for batch in collector:
        batch["next", "reward"] = batch["next", "reward"] * scale
        with torch.no_grad():
            advantage(batch)
        flat = batch.reshape(-1)
        for _ in range(config.epochs):
            order = torch.randperm(len(flat), device=flat.device)
            for start in range(0, len(flat), config.batch_size):
                terms = loss(flat[order[start : start + config.batch_size]])
                total = terms["loss_objective"] + terms["loss_critic"] + terms["loss_entropy"]
                optimiser.zero_grad()
                total.backward()
                nn.utils.clip_grad_norm_(loss.parameters(), config.max_grad_norm)
                optimiser.step()
        collector.update_policy_weights_()
        steps += flat.numel()
        seconds = time.perf_counter() - started
        row = {"steps": steps, "seconds": seconds, "frames_per_s": steps / seconds}
        row["loss"] = float(total.detach())
        if evaluation is not None and evaluate_every and steps >= next_eval:
            row.update(evaluation(policy))
            next_eval += evaluate_every
        curve.append(row)
    collector.shutdown()
    return policy, curve


def train_run(
    config: PPOConfig,
    output: Path,
    *,
    eval_freq: int = 10_000,
    eval_episodes: int = 200,
    eval_envs: int = 8,
    eval_seed: int = 1_000,
    test_episodes: int = 1_000,
) -> dict[str, Any]:
    """One ``cartgym train --backend torchrl`` run: train, evaluating every ``eval_freq``
    steps on validation shoppers (``eval.csv``; the best policy is kept), then the best
    policy once on test shoppers (``test.json``). Writes ``config.json``, ``policy.pt``
    (the actor's weights) and returns the test summary."""
    import json

    import gymnasium as gym

    from cartgym.evaluation import evaluate

    output.mkdir(parents=True, exist_ok=True)
    (output / "config.json").write_text(json.dumps(asdict(config), indent=1, default=str))

    def lanes(population: str) -> Any:
        return gym.make_vec(
            config.env_id, num_envs=eval_envs, vectorization_mode="vector_entry_point",
            population=population, **config.env_kwargs,
        )  # fmt: skip

    validation, best = lanes("validation"), {"reward": -np.inf}

    def on_validation(policy: DevicePolicy) -> dict[str, float]:
        result = evaluate(policy, validation, eval_episodes, eval_seed)
        row = {"reward": float(result.sessions["revenue"].mean()), **result.against_twin()}
        if row["reward"] > best["reward"]:
            best.update(row)
            torch.save(policy.net.state_dict(), output / "policy.pt")
        return row

    policy, curve = train_ppo(config, eval_freq, on_validation if eval_freq else None)
    keys = sorted({key for row in curve for key in row})
    lines = [",".join(keys)] + [",".join(str(row.get(k, "")) for k in keys) for row in curve]
    (output / "eval.csv").write_text("\n".join(lines) + "\n")
    if not (output / "policy.pt").exists():
        torch.save(policy.net.state_dict(), output / "policy.pt")
    policy.net.load_state_dict(torch.load(output / "policy.pt"))
    summary: dict[str, Any] = {"population": "test", "sessions": test_episodes}
    if test_episodes:
        result = evaluate(policy, lanes("test"), test_episodes, eval_seed)
        summary.update({k: v._asdict() for k, v in result.metrics().items()})
        summary.update(result.against_twin())
        (output / "test.json").write_text(json.dumps(summary, indent=1))
    return summary
