"""`cartgym train` on the bundle env: mlp features, bundle reference levels."""

import json

import pytest

pytest.importorskip("stable_baselines3")

from cartgym.cli.train import main


def test_train_runs_on_the_bundle_env(tmp_path):
    out = tmp_path / "run"
    code = main(
        [
            "--algo",
            "ppo",
            "--env",
            "CartRecBundle-v0",
            "--env-kwargs",
            '{"n_items": 60}',
            "--steps",
            "256",
            "--eval-freq",
            "100000",
            "--eval-episodes",
            "40",
            "-o",
            str(out),
            "--no-progress",
            "--no-tensorboard",
        ]
    )
    assert code == 0 and (out / "model.zip").exists()
    levels = json.loads((out / "references.json").read_text())
    assert levels["oracle_myopic"] > levels["random"] > 0
