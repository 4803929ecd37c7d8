"""The SB3 CUDA smoke test: train, save, load and predict on the GPU (gpu_check runs it).

python benchmarks/cuda_smoke.py
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch as th

from cartgym.agents.sb3 import DEFAULTS, load_agent, make_model, make_sb3_vec_env, save_agent


def cuda_smoke_test(
    algorithms: tuple[str, ...] = ("ppo", "dqn", "a2c"),
    steps: int = 4_000,
    n_items: int = 100,
) -> dict[str, Any]:
    """Train each algorithm ``steps`` steps on CUDA, save, load, predict; report timings.

    ``result["ok"]`` is True when every model ran on CUDA, the loaded model gives the same
    deterministic actions as the trained one, and no action is an item in the cart.
    Raises RuntimeError without a CUDA device.
    """
    if not th.cuda.is_available():
        raise RuntimeError("cuda_smoke_test needs a CUDA device (torch.cuda.is_available())")
    result: dict[str, Any] = {"device": th.cuda.get_device_name(0), "torch": th.__version__}
    runs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in algorithms:
            env = make_sb3_vec_env("CartRec-v0", n_envs=8, seed=0, n_items=n_items)
            quick: dict[str, Any] = {}
            if "learning_starts" in DEFAULTS.get(name, {}):
                quick["learning_starts"] = 500
            model = make_model(name, env, seed=0, device="auto", **quick)
            started = time.perf_counter()
            model.learn(steps)
            seconds = time.perf_counter() - started
            obs = env.reset()
            actions, _ = model.predict(obs, deterministic=True)
            path = save_agent(model, Path(folder) / name, algorithm=name)
            loaded = load_agent(path, env, device="cuda")
            again, _ = loaded.predict(obs, deterministic=True)
            allowed = np.take_along_axis(env.env.action_masks(), actions[:, None], axis=1)
            runs[name] = {
                "device": str(model.device),
                "loaded_device": str(loaded.device),
                "steps": int(model.num_timesteps),
                "seconds": round(seconds, 2),
                "steps_per_s": round(model.num_timesteps / seconds, 1),
                "same_actions_after_load": bool(np.array_equal(actions, again)),
                "no_masked_action": bool(allowed.all()),
            }
    result["runs"] = runs
    result["ok"] = all(
        r["device"].startswith("cuda")
        and r["loaded_device"].startswith("cuda")
        and r["same_actions_after_load"]
        and r["no_masked_action"]
        for r in runs.values()
    )
    return result


if __name__ == "__main__":
    if not th.cuda.is_available():
        print("cuda_smoke: no CUDA device visible to torch", file=sys.stderr)
        sys.exit(2)
    th.set_num_threads(1)
    result = cuda_smoke_test()
    print(json.dumps(result, indent=1, sort_keys=True))
    sys.exit(0 if result["ok"] else 1)
