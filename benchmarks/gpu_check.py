"""Every CUDA check and the GPU throughput rows, in one go (under 5 minutes on one GPU).

    python benchmarks/gpu_check.py [--out results_dir]

1. the CUDA tests (``pytest -m gpu``): torch-on-CUDA dynamics agree with numpy in
   distribution; state lives on the device; the SB3 CUDA smoke test (train, save, load,
   predict) when ``cartgym.agents`` provides it;
2. the vector-env throughput on CUDA at N = 1,024, 16,384 and 131,072 shoppers, beside
   numpy on the same machine, median of 3 runs.

Exits non-zero if a check fails or no CUDA device is visible.
"""

from __future__ import annotations

import argparse
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
    from throughput import vector_env_rate

    lines.append("\n## Vector env throughput, 1,000 items (shopper-steps/s, median of 3)\n")
    lines.append("| N | numpy cpu | torch cuda |\n|---|---|---|")
    for n in (1_024, 16_384, 131_072):
        target = 20 * n
        cpu = vector_env_rate(n, "numpy", "cpu", 3, target) if n <= 16_384 else float("nan")
        cuda = vector_env_rate(n, "torch", "cuda", 3, target)
        lines.append(f"| {n:,} | {cpu:,.0f} | {cuda:,.0f} |")
        print(lines[-1], flush=True)
    lines.append(f"\ntotal {time.perf_counter() - started:.0f} s")
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "gpu_check.md").write_text(report)
    return tests.returncode


if __name__ == "__main__":
    sys.exit(main())
