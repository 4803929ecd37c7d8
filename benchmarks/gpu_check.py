"""Every CUDA check and the GPU throughput rows, in one go (under 5 minutes on one GPU).

    python benchmarks/gpu_check.py [--out results_dir]

1. the CUDA tests (``pytest -m gpu``): torch-on-CUDA dynamics agree with numpy in
   distribution; state lives on the device;
2. the CartRec-v1 vector-env throughput on CUDA at N = 1, 64, 1,024, 16,384 and 131,072
   shoppers, beside numpy on the same machine, median of 3 runs;
3. the TorchRL env on CUDA (``CartRecTorchEnv``: the step with its observations, on the
   device) at up to 524,288 shoppers, against the 100M env-steps/s target, and TorchRL
   PPO end to end against the 1M frames/s target (verdicts computed);
4. the SB3 CUDA smoke test (``benchmarks/cuda_smoke.py``, also run by ``tests/benchmarks/
   test_cuda_smoke.py``: PPO, DQN and A2C trained a few thousand steps, saved, loaded,
   predicting), with its timings.

Exits non-zero if a check fails or no CUDA device is visible.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="folder for the report (default: print only)")
    args = parser.parse_args()
    import torch

    if not torch.cuda.is_available():
        print("gpu_check: no CUDA device visible to torch", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    lines = [f"# GPU check\n\ndevice: {torch.cuda.get_device_name(0)}, torch {torch.__version__}"]
    started = time.perf_counter()
    tests = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-m",
            "gpu",
            "-k",
            "not cuda_smoke",  # run below, where its figures are printed
            "-q",
            "-p",
            "no:cacheprovider",
            str(ROOT / "tests"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    lines.append(f"\n## CUDA tests (exit {tests.returncode})\n\n```\n{tests.stdout[-3000:]}\n```")
    print(lines[-1], flush=True)

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from throughput import torchrl_env_rate, torchrl_ppo_rate, vector_env_rate, verdict

    lines.append("\n## Vector env throughput, 1,000 items (shopper-steps/s, median of 3)\n")
    lines.append("| N | numpy cpu | torch cuda |\n|---|---|---|")
    for n in (1, 64, 1_024, 16_384, 131_072):
        target = max(20 * n, 2_000)
        cpu = vector_env_rate(n, "numpy", "cpu", 3, target) if n <= 16_384 else float("nan")
        cuda = vector_env_rate(n, "torch", "cuda", 3, target)
        lines.append(f"| {n:,} | {cpu:,.0f} | {cuda:,.0f} |")
        print(lines[-1], flush=True)
    lines.append("\n## TorchRL env on CUDA, env-steps/s (target >= 100,000,000 on one H200)\n")
    lines.append("| N | env-steps/s | verdict |\n|---|---|---|")
    for n in (16_384, 131_072, 524_288):
        rate = torchrl_env_rate(n, "cuda", 3, 20 * n)
        lines.append(f"| {n:,} | {rate:,.0f} | {verdict(rate >= 1e8, f'{rate / 1e8:.3f}x')} |")
        print(lines[-1], flush=True)
    rate = torchrl_ppo_rate(131_072 * 16, 131_072, "cuda")
    lines.append(
        f"\nTorchRL PPO end to end, 131,072 sessions: {rate:,.0f} frames/s (target >= "
        f"1,000,000: {verdict(rate >= 1e6, f'{rate / 1e6:.3f}x')})"
    )
    print(lines[-1], flush=True)
    from cuda_smoke import cuda_smoke_test

    smoke = cuda_smoke_test()
    lines.append("\n## SB3 on CUDA: train 4,000 steps, save, load, predict (100 items)\n")
    lines.append("```\n" + json.dumps(smoke, indent=1, sort_keys=True) + "\n```")
    print(lines[-1], flush=True)
    lines.append(f"\ntotal {time.perf_counter() - started:.0f} s")
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "gpu_check.md").write_text(report)
    return tests.returncode or (0 if smoke.get("ok") else 1)


if __name__ == "__main__":
    sys.exit(main())
