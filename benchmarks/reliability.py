"""The reliability report: what was thrown at cartgym, and what held. Writes docs/reliability.md.

    python benchmarks/reliability.py                      # about 15 minutes on 2 cores
    python benchmarks/reliability.py --quick              # smoke-sized
    python benchmarks/reliability.py --soak-json soak.json   # include a soak run's figures

Runs, and counts:
1. loader fuzzing: malformed transaction tables (tests/fuzzing.py), each must load with
   drop counts that add up or raise the package's DataError naming the file;
2. environment fuzzing: random and adversarial action sequences on every registered id,
   single and vector, with invalid actions thrown in;
3. world-file faults: truncated files, other schema versions, extra members, tampered
   dtypes, shapes and values, pickled members: each must be refused with WorldFileError;
4. CLI misuse: every command with bad arguments, missing files or unwritable outputs must
   exit 2 with one line on stderr and no traceback;
5. crash injection: benchmark sweeps killed with SIGKILL at random moments, then resumed:
   no finished row lost or duplicated, no partial file left as a result;
6. soak (from ``benchmarks/soak.py --json``): steps soaked and memory growth.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fuzzing import fuzz_env, fuzz_loader  # noqa: E402

import cartgym  # noqa: E402
from cartgym.envs import ENV_IDS  # noqa: E402
from cartgym.world import (  # noqa: E402
    ShopperWorld,
    WorldFileError,
    resolve_world,
)


def world_faults(n_truncations: int) -> dict[str, int]:
    """Damage a world file in every way listed; count refusals (all must be refused)."""
    world = resolve_world("online_retail").top_items(40)
    counts = {"cases": 0, "refused": 0}
    with tempfile.TemporaryDirectory() as tmp:
        good = world.save(Path(tmp) / "good.npz")
        data = good.read_bytes()
        cases: list[bytes] = []
        for cut in np.linspace(1, len(data) - 1, n_truncations).astype(int):
            cases.append(data[:cut])
        with zipfile.ZipFile(good) as archive:
            members = {name: archive.read(name) for name in archive.namelist()}

        def rebuilt(change: dict[str, bytes | None]) -> bytes:
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w") as archive:
                for name, content in {**members, **change}.items():
                    if content is not None:
                        archive.writestr(name, content)
            return out.getvalue()

        meta = json.loads(members["meta.json"])
        for version in (0, 2, "1", None):
            cases.append(rebuilt({"meta.json": json.dumps({**meta, "schema_version": version})}))
        cases.append(rebuilt({"extra.npy": b"junk"}))
        cases.append(rebuilt({"prices.npy": None}))
        for name, array in (
            ("prices.npy", np.array(["1"] * world.n_items)),
            ("prices.npy", world.prices[:-1]),
            ("prices.npy", world.prices * 2),
            ("item_factors.npy", world.item_factors.ravel()),
            ("complement_indices.npy", world.complement.indices + 10_000),
            ("item_ids.npy", np.array([object()] * world.n_items)),
        ):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, array, allow_pickle=True)
            cases.append(rebuilt({name: buffer.getvalue()}))
        cases.append(b"")
        cases.append(b"PK\x03\x04 not really a zip")
        for i, content in enumerate(cases):
            path = Path(tmp) / f"bad{i}.npz"
            path.write_bytes(content)
            counts["cases"] += 1
            try:
                ShopperWorld.load(path)
            except WorldFileError:
                counts["refused"] += 1
    return counts


CLI_MISUSE = [
    ["fit"],
    ["fit", "missing.csv", "-o", "w.npz"],
    [
        "fit",
        "missing.csv",
        "--user-col",
        "a",
        "--basket-col",
        "b",
        "--item-col",
        "c",
        "-o",
        "w.npz",
    ],
    ["fit", "{csv}", "--user-col", "nope", "--basket-col", "b", "--item-col", "c", "-o", "w.npz"],
    ["fit", "{garbage}", "--user-col", "a", "--basket-col", "b", "--item-col", "c", "-o", "w.npz"],
    ["fit", "online_retail", "-o", "/proc/forbidden/w.npz"],
    ["fit", "online_retail", "--n-items", "-3", "-o", "w.npz"],
    ["info", "missing.npz"],
    ["info", "{garbage}"],
    ["demo", "--env", "Nope-v0"],
    ["demo", "--sessions", "zero"],
    ["bench", "--preset", "nope"],
    ["bench", "--config", "missing.json"],
    ["bench", "--config", "{garbage}"],
    ["bench", "--config", "{badconfig}"],
    ["bench", "--preset", "quick", "--backend", "spark"],
    ["bench", "--preset", "quick", "--workers", "0"],
    ["report", "missing.parquet", "--out", "r"],
    ["report", "{garbage}", "--out", "r"],
    ["report", "{results}", "--out", "/proc/forbidden/report"],
    ["bench", "--config", "{tinyconfig}", "--out", "/proc/forbidden/sweep"],
    ["train", "--algo", "nope-algorithm"],
    ["train", "--env-kwargs", "{not json"],
    ["train", "--steps", "-5"],
    ["train", "--env", "Nope-v0"],
    ["train", "-o", "/proc/forbidden/run"],
    ["validate"],
    [
        "validate",
        "missing.npz",
        "missing.csv",
        "--user-col",
        "a",
        "--basket-col",
        "b",
        "--item-col",
        "c",
    ],
    ["nonsense-command"],
]


def cli_misuse() -> dict[str, object]:
    """Each misuse must exit 2 with one line on stderr and no traceback."""
    failures, cases = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        garbage = Path(tmp) / "garbage.bin"
        garbage.write_bytes(b"\x00\xff" * 100)
        csv = Path(tmp) / "t.csv"
        csv.write_text("a,b,c\n1,2,3\n")
        bad_config = Path(tmp) / "bad.json"
        bad_config.write_text(
            json.dumps(
                {
                    "name": "x",
                    "agents": ["random"],
                    "envs": ["CartRec-v0"],
                    "seeds": [0],
                    "budget": 5,
                    "budgte": 1,
                }
            )
        )
        tiny_config = Path(tmp) / "tiny.json"
        tiny_config.write_text(
            json.dumps(
                {
                    "name": "x",
                    "agents": ["random"],
                    "envs": [{"id": "CartRec-v0", "kwargs": {"n_items": 20}}],
                    "seeds": [0],
                    "budget": 5,
                }
            )
        )
        results = Path(tmp) / "results.parquet"
        pd.DataFrame({"config": ["x"], "env": ["CartRec-v0"]}).to_parquet(results)
        fill = {
            "{csv}": str(csv),
            "{garbage}": str(garbage),
            "{badconfig}": str(bad_config),
            "{tinyconfig}": str(tiny_config),
            "{results}": str(results),
        }
        for argv in CLI_MISUSE:
            argv = [fill.get(a, a) for a in argv]
            cases += 1
            run = subprocess.run(
                [sys.executable, "-m", "cartgym.cli", *argv],
                cwd=tmp,
                capture_output=True,
                text=True,
                timeout=300,
            )
            err = run.stderr.strip().splitlines()
            if run.returncode != 2 or len(err) != 1 or "Traceback" in run.stderr:
                failures.append(f"cartgym {' '.join(argv)} -> exit {run.returncode}: {err[-3:]}")
    return {"cases": cases, "failures": failures}


def crash_injection(kills: int, seed: int = 0) -> dict[str, object]:
    """Kill a sweep with SIGKILL at random moments, resume, check the rows."""
    import pandas as pd

    from cartgym.harness import RowStore

    rng = np.random.default_rng(seed)
    config = {
        "name": "crash",
        "agents": ["random", "popularity", "ucb1"],
        "envs": [{"id": "CartRec-v0", "kwargs": {"n_items": 40}}],
        "seeds": [0, 1, 2, 3],
        "budget": 200,
        "eval_sessions": 30,
        "eval_lanes": 10,
    }
    results = {"sweeps": 0, "kills": 0, "rows_lost": 0, "rows_duplicated": 0, "partials_left": 0}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.json"
        path.write_text(json.dumps(config))
        for sweep in range(max(1, kills // 3)):
            out = Path(tmp) / f"out{sweep}"
            command = [
                sys.executable,
                "-m",
                "cartgym.cli",
                "bench",
                "--config",
                str(path),
                "--out",
                str(out),
            ]
            results["sweeps"] += 1
            finished_rows: set[str] = set()
            for _ in range(3):  # start or resume, and kill at a random moment
                process = subprocess.Popen(
                    command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
                time.sleep(float(rng.uniform(2.0, 8.0)))
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                results["kills"] += 1
                now = RowStore(out).done()
                results["rows_lost"] += len(finished_rows - now)  # a finished row vanished
                finished_rows = now
            finished = subprocess.run(command, capture_output=True, text=True)
            assert finished.returncode == 0, finished.stderr[-500:]
            table = pd.read_parquet(out / "results.parquet")
            results["rows_duplicated"] += int(table.duplicated(["agent", "env", "seed"]).sum())
            results["rows_lost"] += 12 - len(table)
            results["partials_left"] += len(list(out.rglob("*.partial")))
    return results


TRUST = """\
World files are data only: a zip of `.npy` arrays and one JSON member, read with
`allow_pickle=False`, every member's name, dtype and number of dimensions checked and the
content checked against its stored fingerprint, so a world file from anywhere can be
loaded safely (the faults above are refused). Stable-Baselines3 model files (`.zip`)
are not: SB3 stores parts of a model with cloudpickle, and loading one can run code from
it. Load only models you trust. `cartgym.agents.sb3.load_agent` reads the JSON sidecar
written by `save_agent` and warns (`WorldMismatchWarning`) when the model was trained on
another world than the environment's, by comparing world fingerprints; that checks
provenance, not safety. Benchmark results are parquet files (no code), configs JSON."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--soak-json", help="the JSON written by benchmarks/soak.py --json")
    parser.add_argument("--output", default=str(ROOT / "docs" / "reliability.md"))
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0
    started = time.perf_counter()
    rows = []

    loader = fuzz_loader(int(3000 * scale), hypothesis_seed=11)
    mutations = {k.split(": ")[1]: v for k, v in loader.items() if k.startswith("mutation")}
    rows.append(
        (
            "loader fuzzing",
            f"{loader['cases']:,} malformed tables ({len(mutations)} "
            "mutation kinds, strict and lenient, file and DataFrame)",
            f"{loader['loaded']:,} loaded with exact drop accounting, "
            f"{loader['data error']:,} refused with DataError (naming row and column: "
            f"{loader['data error naming row and column']:,}, column: "
            f"{loader['data error naming column']:,}, row: {loader['data error naming row']:,}, "
            f"the file only (empty, no data rows): {loader['data error naming the file only']:,}"
            "); 0 other exceptions",
            "pytest tests/data/test_loader_fuzz.py",
        )
    )

    env_steps = env_sequences = refused = masks = 0
    for env_id in sorted(ENV_IDS):
        tally = fuzz_env(env_id, int(150 * scale), hypothesis_seed=12)
        env_steps += tally["steps"]
        env_sequences += tally["sequences"]
        refused += tally["invalid actions refused"] + tally["refused after termination"]
        masks += tally["masks checked against the cart"]
    rows.append(
        (
            "environment fuzzing",
            f"{env_sequences:,} action sequences, {env_steps:,} "
            f"steps on {len(ENV_IDS)} ids, single and vector",
            f"no NaN/inf, every observation in its space, {masks:,} action masks equal to "
            "the cart read off the observation, "
            f"episodes within 100 steps; {refused:,} invalid or late actions refused",
            "pytest tests/envs/test_fuzz.py",
        )
    )

    faults = world_faults(int(200 * scale) or 10)
    rows.append(
        (
            "world-file faults",
            f"{faults['cases']} damaged files (truncations, schema "
            "versions, extra or missing members, tampered dtypes, shapes, values, pickles)",
            f"{faults['refused']} of {faults['cases']} refused with WorldFileError",
            "pytest tests/calibrate/test_world.py",
        )
    )

    misuse = cli_misuse()
    held = misuse["cases"] - len(misuse["failures"])  # type: ignore[operator]
    rows.append(
        (
            "CLI misuse",
            f"{misuse['cases']} bad invocations of fit, info, demo, bench, report, train, validate",
            f"{held} of {misuse['cases']} exit 2 with one line, no traceback",
            "pytest tests/test_cli.py",
        )
    )

    crashes = crash_injection(3 if args.quick else 9)
    rows.append(
        (
            "crash injection",
            f"{crashes['kills']} SIGKILLs of benchmark sweeps "
            f"({crashes['sweeps']} sweeps), then resumed",
            f"{crashes['rows_lost']} rows lost, {crashes['rows_duplicated']} duplicated, "
            f"{crashes['partials_left']} partial files left",
            "pytest tests/agents/test_bench.py -k sigkill",
        )
    )

    if args.soak_json:
        soak = json.loads(Path(args.soak_json).read_text())
        rows.append(
            (
                "soak",
                f"{soak['vector_steps']:,} vector-env shopper-steps; "
                f"{soak['episodes']:,} single-env episodes",
                f"memory {soak['vector_growth']:+.2%} (vector) and "
                f"{soak['single_growth']:+.2%} (single) from first to last sample",
                f"python benchmarks/soak.py --json {args.soak_json}",
            )
        )

    lines = [
        "# Reliability",
        "",
        "<!-- generated by benchmarks/reliability.py; do not edit -->",
        "",
        f"Generated by `python benchmarks/reliability.py{' --quick' if args.quick else ''}"
        f"{' --soak-json ' + args.soak_json if args.soak_json else ''}` in "
        f"{time.perf_counter() - started:.0f} s (cartgym {cartgym.__version__}, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs).",
        "",
        "| what | tried | what held | test |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | `{d}` |" for a, b, c, d in rows],
    ]
    if misuse["failures"]:
        lines += ["", "CLI invocations that did not hold:", ""]
        lines += [f"- `{f}`" for f in misuse["failures"]]  # type: ignore[union-attr]
    lines += [
        "",
        "Mutation kinds of the loader fuzzing: "
        + ", ".join(f"{k} ({v})" for k, v in sorted(mutations.items()))
        + ".",
        "",
        "## Trust boundary",
        "",
        TRUST,
    ]
    text = "\n".join(lines) + "\n"
    Path(args.output).write_text(text)
    print(text)
    ok = (
        not misuse["failures"]
        and faults["refused"] == faults["cases"]
        and not crashes["rows_lost"]
        and not crashes["rows_duplicated"]
        and not crashes["partials_left"]
        and (not args.soak_json or soak["ok"])
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
