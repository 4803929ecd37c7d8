"""The benchmark harness: configs, reproducibility, resume after a crash, Ray, the report."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from cartgym.harness import BenchConfig, ConfigError, sweep
from cartgym.harness.report import normalised_scores, write_report
from cartgym.harness.storage import RowStore

TINY = {
    "name": "tiny",
    "agents": ["random", "oracle_myopic", "popularity", "ucb1", "no_recommendation"],
    "envs": [{"id": "CartRec-v0", "kwargs": {"n_items": 40}}],
    "seeds": [0, 1],
    "budget": 300,
    "eval_sessions": 40,
    "eval_lanes": 10,
    "curve_points": 2,
    "curve_sessions": 20,
}
TIMING = ["train_seconds", "eval_seconds", "seconds_per_1000_sessions"]


def _quiet(_):
    pass


@pytest.fixture(scope="module")
def tiny_results(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    table = sweep(BenchConfig.from_dict(TINY), out, log=_quiet)
    return out, table


def _stable(table):
    return table.drop(columns=TIMING).sort_values(["agent", "seed"]).reset_index(drop=True)


def test_one_row_per_run_with_every_metric(tiny_results):
    out, table = tiny_results
    assert len(table) == 5 * 2
    assert not table.duplicated(["agent", "env", "seed"]).any()
    for column in ("revenue_per_session", "ctr", "conversion", "basket_size", "coverage"):
        assert table[column].notna().all()
    assert (table["sessions"] == 40).all()
    learners = table[table["agent"] == "ucb1"]
    assert (learners["interactions"] == 300).all()
    assert all(len(json.loads(c)) == 2 for c in learners["curve"])
    assert (table.loc[table["agent"] != "ucb1", "interactions"] == 0).all()
    assert pd.read_parquet(out / "results.parquet").shape == table.shape


def test_identical_config_and_seeds_give_identical_results(tiny_results, tmp_path):
    _, first = tiny_results
    again = sweep(BenchConfig.from_dict(TINY), tmp_path, log=_quiet)
    pd.testing.assert_frame_equal(_stable(first), _stable(again))


def test_resume_after_a_crash_runs_only_what_is_missing(tiny_results, tmp_path):
    out, first = tiny_results
    resumed = tmp_path / "resumed"
    (resumed / "rows").mkdir(parents=True)
    for row in sorted((out / "rows").glob("*.parquet"))[:5]:
        (resumed / "rows" / row.name).write_bytes(row.read_bytes())
    (resumed / "rows" / ".ucb1__x.parquet.123.partial").write_bytes(b"half a file")
    # a kill can land while the table or the config is being rewritten, too
    (resumed / ".results.parquet.124.partial").write_bytes(b"half a table")
    (resumed / ".config.json.125.partial").write_bytes(b"{")
    logs = []
    table = sweep(BenchConfig.from_dict(TINY), resumed, log=logs.append)
    assert "5 run(s) to do, 5 already done" in logs[0]
    assert not list(resumed.rglob("*.partial"))
    pd.testing.assert_frame_equal(_stable(first), _stable(table))


def test_a_different_config_in_the_same_folder_is_refused(tiny_results):
    out, _ = tiny_results
    with pytest.raises(ConfigError, match="different config"):
        sweep(BenchConfig.from_dict({**TINY, "budget": 301}), out, log=_quiet)


@pytest.mark.parametrize(
    "change, key",
    [
        ({"agents": ["random", "nope"]}, "agents"),
        ({"budget": 0}, "budget"),
        ({"budget": "many"}, "budget"),
        ({"seeds": [0, "one"]}, "seeds"),
        ({"envs": [{"id": "Nope-v0"}]}, "envs"),
        ({"envs": [{"name": "CartRec-v0"}]}, "envs[0]"),
        ({"eval_sessions": -5}, "eval_sessions"),
        ({"budgte": 10}, "budgte"),
        ({"agent_kwargs": {"dqn": {}}}, "agent_kwargs"),
    ],
)
def test_malformed_configs_name_the_key(change, key):
    with pytest.raises(ConfigError, match=key.replace("[", r"\[")):
        BenchConfig.from_dict({**TINY, **change})


def test_missing_keys_are_named():
    with pytest.raises(ConfigError, match=r"missing key.*budget"):
        BenchConfig.from_dict({k: v for k, v in TINY.items() if k != "budget"})


def test_report_tables_scores_and_plots(tiny_results, tmp_path):
    out, table = tiny_results
    scores = normalised_scores(table)
    assert np.allclose(scores[table["agent"] == "random"], 0.0)
    assert np.allclose(scores[table["agent"] == "oracle_myopic"], 1.0)
    path = write_report(out / "results.parquet", tmp_path / "report")
    text = path.read_text()
    assert "| agent |" in text and "normalised_score" in text and "best baseline" in text
    assert "incremental_basket_value" in text
    control = table[table["agent"] == "no_recommendation"]
    assert (control["ctr"] == 0).all() and (control["conversion"] == 1).all()
    assert len(list((tmp_path / "report").glob("*.png"))) == 2
    assert "All 10 runs of the config are in the table." in text
    assert "stable-baselines3 " in text and "gymnasium " in text


def test_report_of_an_unfinished_sweep_says_it_is_interim(tiny_results, tmp_path):
    out, table = tiny_results
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "config.json").write_text((out / "config.json").read_text())
    table[table["seed"] == 0].to_parquet(partial / "results.parquet")
    text = write_report(partial / "results.parquet", tmp_path / "report").read_text()
    assert "Interim: 5 of 10 runs of the config are in the table" in text


def test_report_without_a_command_names_the_one_that_rewrites_it_in_place(tiny_results, tmp_path):
    out, _ = tiny_results
    results, report = out / "results.parquet", tmp_path / "report"
    text = write_report(results, report).read_text()
    assert f"Command: `cartgym report {results} --out {report}`" in text


def test_sigkill_mid_sweep_then_resume_loses_and_duplicates_nothing(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({**TINY, "seeds": [0, 1, 2], "curve_points": 0}))
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "cartgym.cli",
        "bench",
        "--config",
        str(config),
        "--out",
        str(out),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(RowStore(out).done()) < 3:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    before = RowStore(out).done()
    assert 3 <= len(before) < 15, "the kill should land mid-sweep"
    finished = subprocess.run(command, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    table = pd.read_parquet(out / "results.parquet")
    assert len(table) == 15 and not table.duplicated(["agent", "env", "seed"]).any()
    assert before <= RowStore(out).done()
    assert not list(out.rglob("*.partial"))


def test_ray_backend_runs_a_tiny_sweep(tmp_path):
    pytest.importorskip("ray")
    config = BenchConfig.from_dict({**TINY, "agents": ["random", "popularity"], "curve_points": 0})
    table = sweep(config, tmp_path, backend="ray", workers=2, log=_quiet)
    assert len(table) == 4 and not table.duplicated(["agent", "seed"]).any()
    local = sweep(config, tmp_path / "local", log=_quiet)
    pd.testing.assert_frame_equal(_stable(table), _stable(local))


# ----------------------------------------------------------------------------- combinations
COMBINATIONS = {
    "name": "tiny-combinations",
    "agents": ["random", "oracle_myopic", "cooccurrence", "no_recommendation", "ppo"],
    "envs": [
        {
            "id": "CartRecBundle-v0",
            "kwargs": {"n_items": 60},
            "agents": [
                "bundle_random",
                "bundle_oracle_myopic",
                "bundle_items_cooccurrence",
                "no_recommendation",
                "dqn",
            ],
        },
        {"id": "CartRecMultiSlate-v0", "kwargs": {"n_items": 40}},
    ],
    "seeds": [0, 1],
    "budget": 300,
    "eval_sessions": 40,
    "eval_lanes": 10,
    "agent_kwargs": {"dqn": {"learning_starts": 100}, "ppo": {"n_steps": 32, "batch_size": 64}},
}


@pytest.mark.parametrize(
    "change, key",
    [
        ({"envs": [{"id": "CartRecBundle-v0"}]}, "agents"),
        ({"agents": ["dqn"], "envs": [{"id": "CartRecSlate-v0"}]}, "agents"),
        (
            {"agents": ["random"], "envs": [{"id": "CartRecMultiSlate-v0", "agents": ["qrdqn"]}]},
            "envs[0].agents",
        ),
        ({"envs": [{"id": "CartRec-v0", "agents": ["bundle_rules"]}]}, "envs[0].agents"),
        ({"envs": [{"id": "CartRec-v0", "kwargs": {"bundle_candidates": 5}}]}, "agents"),
        ({"envs": [{"id": "CartRec-v0", "agents": ["nope"]}]}, "envs[0].agents"),
        ({"envs": [{"id": "CartRec-v0", "agents": "random"}]}, "envs[0].agents"),
    ],
)
def test_agents_that_cannot_act_on_an_env_are_refused_by_key(change, key):
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace(".", r"\.")) as error:
        BenchConfig.from_dict({**TINY, "agent_kwargs": {}, **change})
    assert "cannot act" in str(error.value) or "agents" in str(error.value)


def test_presets_only_pair_agents_with_envs_they_can_act_on():
    from cartgym.harness import PRESETS

    for preset in PRESETS.values():
        BenchConfig.from_dict(preset)  # raises ConfigError otherwise
    config = BenchConfig.from_dict(PRESETS["combinations"])
    ids = {run.env.id for run in config.runs()}
    assert ids == {"CartRecSlate-v1", "CartRecBundle-v1", "CartRecMultiSlate-v1"}
    # the published sweeps read test shoppers and hold the show-nothing control
    for name in ("quick", "cartrec_v1", "combinations"):
        preset = BenchConfig.from_dict(PRESETS[name])
        assert preset.eval_population == "test"
        assert all("no_recommendation" in preset.agents_of(env) for env in preset.envs)


def test_combination_metrics_and_report(tmp_path):
    out = tmp_path / "out"
    table = sweep(BenchConfig.from_dict(COMBINATIONS), out, log=_quiet)
    assert len(table) == (5 + 5) * 2
    bundle = table[table["env_id"] == "CartRecBundle-v0"].set_index(["agent", "seed"])
    multi = table[table["env_id"] == "CartRecMultiSlate-v0"].set_index(["agent", "seed"])
    shown = bundle.drop(index="no_recommendation", level="agent")
    # a taken bundle is 2 or 3 items; the control is shown and takes nothing
    assert (shown["items_per_recommendation"] >= 2 * shown["ctr"] - 1e-12).all()
    assert (shown["items_per_recommendation"] <= 3 * shown["ctr"] + 1e-12).all()
    assert (shown["items_per_recommendation"] > 0).all()
    for frame in (bundle, multi):
        control = frame.xs("no_recommendation", level="agent")
        shown = ["ctr", "items_per_recommendation", "discount_cost", "coverage"]
        assert (control[shown] == 0).all().all()
    assert (multi["items_per_recommendation"] >= multi["ctr"]).all()
    assert (multi["discount_cost"] == 0).all() and (bundle["discount_cost"] >= 0).all()
    oracle = bundle.xs("bundle_oracle_myopic", level="agent")
    assert (
        oracle["revenue_per_session"]
        > bundle.xs("bundle_random", level="agent")["revenue_per_session"]
    ).all()
    scores = normalised_scores(table)
    for agent, level in (("bundle_random", 0.0), ("bundle_oracle_myopic", 1.0)):
        assert np.allclose(scores[table["agent"] == agent], level)
    assert np.allclose(scores[table["agent"] == "oracle_myopic"], 1.0)
    text = write_report(out / "results.parquet", tmp_path / "report").read_text()
    bundle_section = text.split("## CartRecBundle-v0")[1].split("## ")[0]
    for column in ("items_per_recommendation", "incremental_basket_value", "normalised_score"):
        assert column in bundle_section
    assert "bundle_items_cooccurrence" in bundle_section


def test_todays_config_files_still_load():
    from pathlib import Path

    path = Path(__file__).parents[2] / "benchmarks" / "configs" / "full_cartrec.json"
    config = BenchConfig.from_file(path)
    assert config.name == "full-cartrec" and len(list(config.runs())) == 150
