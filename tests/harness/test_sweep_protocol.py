"""The protocol is enforced, not only documented: a run trains on train shoppers and the
training users' logs, and evaluates only on its ``eval_population``; the paired verdict."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cartgym.data import user_groups
from cartgym.harness import BenchConfig, ConfigError, sweep
from cartgym.harness.comparisons import compare

SMALL = {
    "name": "protocol",
    "agents": ["popularity", "ucb1", "no_recommendation", "ppo"],
    "envs": [{"id": "CartRec-v1", "kwargs": {"n_items": 40}}],
    "seeds": [0],
    "budget": 200,
    "eval_sessions": 30,
    "eval_lanes": 10,
}


@pytest.mark.parametrize("population", ["validation", "test"])
def test_runs_read_train_then_only_their_eval_population(population, monkeypatch, tmp_path):
    from cartgym.harness import runner, sb3_runs

    seen: list[str] = []
    real_make_env, real_vec = runner.make_env, sb3_runs.make_sb3_vec_env

    def make_env(env, chosen, lanes=None, **extra):
        seen.append(chosen)
        return real_make_env(env, chosen, lanes, **extra)

    def make_sb3_vec_env(env_id, *, population, **kwargs):
        seen.append(population)
        return real_vec(env_id, population=population, **kwargs)

    fitted = []
    real_logs = runner.training_logs
    monkeypatch.setattr(runner, "make_env", make_env)
    monkeypatch.setattr(sb3_runs, "make_sb3_vec_env", make_sb3_vec_env)
    monkeypatch.setattr(
        runner, "training_logs", lambda c: fitted.append(real_logs(c)) or fitted[-1]
    )
    config = BenchConfig.from_dict({**SMALL, "eval_population": population})
    table = sweep(config, tmp_path / "out", log=lambda _: None, progress=False)
    assert set(seen) == {"train", population}
    assert fitted and all(
        set(user_groups(logs.table["user_id"].unique())) == {"train"} for logs in fitted
    )
    assert (table["eval_population"] == population).all()


def test_eval_population_never_train():
    with pytest.raises(ConfigError, match="eval_population"):
        BenchConfig.from_dict({**SMALL, "eval_population": "train"})


def test_a_second_sweep_on_the_same_folder_is_refused(tmp_path):
    from cartgym.harness.storage import SweepLock

    with SweepLock(tmp_path), pytest.raises(ConfigError, match="in use by another sweep"):
        sweep(BenchConfig.from_dict(SMALL), tmp_path, log=lambda _: None, progress=False)
    assert not (tmp_path / ".lock").exists()
    (tmp_path / ".lock").write_text("nowhere-host 123")  # another machine's: kept out
    with pytest.raises(ConfigError, match="nowhere-host 123"):
        sweep(BenchConfig.from_dict(SMALL), tmp_path, log=lambda _: None, progress=False)


def _rows(seed_values: dict[int, np.ndarray], users: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "seed": seed,
                "revenue_per_session": values.mean(),
                "session_revenue": values,
                "session_user": users,
            }
            for seed, values in seed_values.items()
        ]
    )


def test_the_verdict_needs_significance():
    rng = np.random.default_rng(0)
    users = np.arange(400.0)
    base = {s: rng.normal(100, 30, 400) for s in range(5)}
    # the same shoppers, +1 per session with little noise: significant, paired by sessions
    better = {s: v + 1 + rng.normal(0, 0.1, 400) for s, v in base.items()}
    result = compare(_rows(better, users), _rows(base, users))
    assert result.verdict == "beats" and result.paired_by == "sessions and seeds"
    assert result.low < 1 < result.high
    # noise only: a tie, whatever the sign of the mean
    noise = {s: v + rng.normal(0, 5, 400) for s, v in base.items()}
    assert compare(_rows(noise, users), _rows(base, users)).verdict in ("ties",)
    worse = {s: v - 2 for s, v in base.items()}
    assert compare(_rows(worse, users), _rows(base, users)).verdict == "is beaten by"
    # one seed: the t-test is over the paired sessions
    one = compare(_rows({0: better[0]}, users), _rows({0: base[0]}, users))
    assert one.paired_by == "sessions" and one.verdict == "beats"
    # other shoppers (v0: sessions do not pair): seed means only
    other = _rows(better, users[::-1])
    assert compare(other, _rows(base, users)).paired_by == "seeds"
