"""``cartgym train``: a short run writes its files and resumes; bad arguments exit 2."""

import csv
import json

import pytest
import torch

pytest.importorskip("stable_baselines3")
from cartgym.cli.train import build_parser, main

torch.set_num_threads(1)

SMALL = ["--env-kwargs", '{"n_items": 20, "reward": "click"}', "--no-progress"]


def test_short_run_writes_logs_checkpoints_and_resumes(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["--algo", "dqn", *SMALL, "--steps", "1600", "--eval-freq", "800"]
    args += ["--eval-episodes", "40", "--checkpoint-freq", "800", "-o", str(out)]
    args += ["--hyperparams", '{"learning_starts": 200}']
    assert main(args) == 0
    assert "trained dqn" in capsys.readouterr().out
    for name in ("config.json", "references.json", "eval.csv", "evaluations.npz", "model.zip"):
        assert (out / name).exists(), name
    for name in ("model", "best_model", "checkpoint"):
        meta = json.loads((out / f"{name}.json").read_text())
        assert meta["algorithm"] == "dqn" and len(meta["world_fingerprint"]) == 64
    assert (out / "checkpoint_replay_buffer.pkl").exists()
    assert list((out / "tb").glob("dqn_*/events.out.tfevents.*"))
    rows = list(csv.DictReader((out / "eval.csv").open()))
    assert [int(r["timesteps"]) for r in rows] == [800, 1600]
    assert {"reward", "ctr", "conversion", "basket_size", "normalised"} <= set(rows[0])
    levels = json.loads((out / "references.json").read_text())
    assert levels["oracle_myopic"] > levels["random"]

    assert main(args) == 2  # the folder holds a run
    assert "already holds a run" in capsys.readouterr().err
    resumed = [a if a != "1600" else "2400" for a in args] + ["--resume", str(out)]
    assert main(resumed) == 0
    assert json.loads((out / "model.json").read_text())["num_timesteps"] >= 2400
    rows = list(csv.DictReader((out / "eval.csv").open()))
    assert [int(r["timesteps"]) for r in rows] == [800, 1600, 2400]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--algo", "nope"], "unknown algorithm 'nope'"),
        (["--algo", "nomodule:factory"], "cannot import algorithm factory"),
        (["--env-kwargs", "{bad"], "invalid JSON"),
        (["--env-kwargs", "[1, 2]"], "expected a JSON object"),
        (["--env-kwargs", '{"n_itemz": 20}'], "bad --env-kwargs"),
        (["--env-kwargs", '{"population": "all"}'], "population is set by train"),
        (["--env-kwargs", '{"reward": "smiles"}'], "reward must be one of"),
        (["--hyperparams", '{"lr": 1}'], "bad --hyperparams for ppo"),
        (["--env", "Nope-v0"], "unknown environment id"),
        (["--steps", "0"], "expected a positive integer"),
        (["--features", "pixels"], "invalid choice"),
        (["--reward-scale", "-1"], "expected 'auto', 'none' or a number"),
        (["--algo", "dqn", "--env", "CartRecSlate-v0"], "needs a Discrete action space"),
        (["--resume", "nowhere.zip"], "no checkpoint at"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(tmp_path, capsys, args, message):
    status = _run([*args, "--no-progress", "--steps", "64", "-o", str(tmp_path / "x")])
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("cartgym train: error:")
    assert message in err[-1]
    assert all(line.startswith(("usage:", " ")) for line in err[:-1])  # argparse's usage


def test_unwritable_output(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["--no-progress", "-o", str(blocker / "run")]) == 2
    assert "cannot create output folder" in capsys.readouterr().err


def test_parser_defaults():
    args = build_parser().parse_args([])
    # features None: make_model picks DEFAULT_FEATURES on item envs, mlp on bundle envs
    assert (args.algorithm, args.env_id, args.features, args.device) == (
        "ppo",
        "CartRec-v1",
        None,
        "auto",
    )


def _run(args: list[str]) -> int:
    try:
        return main(args)
    except SystemExit as exit:  # argparse's errors
        return int(exit.code or 0)
