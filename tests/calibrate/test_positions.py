"""Position effects: recovered from synthetic logs, bad inputs refused, the OBD sample's counts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cartgym.calibrate.positions import (
    COLUMNS,
    DEFAULT_POSITION_EFFECT,
    fit_positions,
    fit_positions_within_items,
    ipw_weights,
    read_obd_log,
    shrink,
    wilson_interval,
)

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
OBD = Path(os.environ.get("CARTGYM_SHARED_DATA", SHARED)) / "open_bandit_dataset"
TRUE = np.array([0.0, -0.3, -0.7])


def synthetic_log(n: int, seed: int, n_items: int = 20, tilt: float = 0.0) -> pd.DataFrame:
    """Clicks with item log-odds around logit(0.05) plus TRUE[slot]; items are drawn per slot
    with probability proportional to exp(tilt_k * item log-odds), tilt_k = tilt, 0, -tilt (so
    tilt > 0 puts the better items in slot 1: position and item are confounded)."""
    rng = np.random.default_rng(seed)
    quality = np.log(0.05 / 0.95) + rng.normal(0.0, 0.8, n_items)
    position = rng.integers(1, 4, n)
    tilts = np.array([tilt, 0.0, -tilt])
    policy = np.exp(np.outer(tilts, quality - quality.mean()))
    policy /= policy.sum(1, keepdims=True)
    cdf = policy.cumsum(1)[position - 1]
    item = np.minimum((rng.random(n)[:, None] > cdf).sum(1), n_items - 1)
    logit = quality[item] + TRUE[position - 1]
    click = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "item_id": item,
            "position": position,
            "click": click,
            "propensity_score": policy[position - 1, item],
        }
    )


def test_recovers_a_known_position_effect_from_a_randomised_log():
    fit = fit_positions(synthetic_log(60_000, seed=1))
    assert fit.impressions == 60_000 and fit.items == 20 and fit.slots[0].log_odds == 0.0
    for slot, truth in zip(fit.slots[1:], TRUE[1:], strict=True):
        assert 0 < slot.se < 0.1
        assert abs(slot.log_odds - truth) < 4 * slot.se
        assert slot.ci[0] < slot.log_odds < slot.ci[1]
        # with thousands of clicks the profile and exact intervals agree with the Wald one
        for check in (slot.profile_ci, slot.exact_ci):
            assert check is not None and np.allclose(check, slot.ci, atol=0.03)
    assert sum(s.clicks for s in fit.slots) == fit.clicks
    assert all(s.ctr_ci[0] < s.ctr < s.ctr_ci[1] for s in fit.slots)


def test_inverse_propensity_weights_undo_confounding_by_the_policy():
    log = synthetic_log(60_000, seed=2, tilt=2.0)
    naive = fit_positions(log)
    weighted = fit_positions(log, weights=ipw_weights(log, n_items=20))
    assert abs(naive.slots[2].log_odds - TRUE[2]) > 8 * naive.slots[2].se  # badly biased
    for slot, truth in zip(weighted.slots[1:], TRUE[1:], strict=True):
        assert abs(slot.log_odds - truth) < 4 * slot.se
        assert slot.profile_ci is None and slot.effective_n <= slot.impressions
    assert weighted.slots[2].effective_n < 0.9 * weighted.slots[2].impressions
    assert np.isclose(ipw_weights(log, 20).mean(), 1.0)


def test_pooling_with_a_log_intercept_and_item_fixed_effects():
    a, b = synthetic_log(30_000, seed=3), synthetic_log(30_000, seed=4)
    b["click"] = np.where(np.random.default_rng(5).random(len(b)) < 0.5, 0, b["click"])
    pooled = fit_positions(pd.concat([a.assign(log="a"), b.assign(log="b")]), strata="log")
    assert "log intercepts" in pooled.method
    for slot, truth in zip(pooled.slots[1:], TRUE[1:], strict=True):
        assert abs(slot.log_odds - truth) < 4 * slot.se
    # conditional logit: items as strata (statsmodels recurses per stratum: keep them small)
    items = synthetic_log(5_000, seed=6, n_items=60)
    rows, kept = fit_positions_within_items(items)
    assert kept == items.loc[items["click"] == 1, "item_id"].nunique() > 50 and len(rows) == 2
    for (beta, se, ci), truth in zip(rows, TRUE[1:], strict=True):
        assert abs(beta - truth) < 4 * se and ci[0] < beta < ci[1]


def test_wilson_interval_and_shrinkage():
    low, high = wilson_interval(13, 3322)
    assert low == pytest.approx(0.0022884, abs=1e-6) and high == pytest.approx(0.0066842, abs=1e-6)
    assert wilson_interval(0, 100)[0] == pytest.approx(0.0, abs=1e-12)
    strong = fit_positions(synthetic_log(60_000, seed=1))
    shrunk = shrink(strong)
    assert shrunk[0] == 0.0
    for value, slot in zip(shrunk[1:], strong.slots[1:], strict=True):
        assert abs(value) <= abs(slot.log_odds) and value * slot.log_odds > 0
    # CTRs 5.0%, 5.1%, 4.9%: differences far below their noise shrink to exactly 0
    clicks = np.concatenate([np.arange(1000) < c for c in (50, 51, 49)]).astype(int)
    noise = pd.DataFrame({"item_id": 0, "position": np.repeat([1, 2, 3], 1000), "click": clicks})
    assert shrink(fit_positions(noise)) == (0.0, 0.0, 0.0)


def write(tmp_path: Path, frame: pd.DataFrame, name: str = "log.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path)  # with the unnamed index column first, as in the OBD files
    return path


def test_bad_inputs_name_the_file_and_the_column(tmp_path):
    log = synthetic_log(200, seed=0)
    path = write(tmp_path, log.drop(columns="click"), "no_click.csv")
    with pytest.raises(ValueError, match=r"no_click\.csv.*'click'"):
        read_obd_log(path)
    bad = log.copy()
    bad.loc[5, "position"] = 4
    with pytest.raises(ValueError, match=r"pos4\.csv: column 'position'.*first 4.*expected 1\.\.3"):
        read_obd_log(write(tmp_path, bad, "pos4.csv"), n_slots=3)
    assert read_obd_log(write(tmp_path, bad, "pos4_ok.csv"), n_slots=4)["position"].max() == 4
    for column, value in [("click", "yes"), ("click", 2), ("propensity_score", 0.0)]:
        bad = log.astype({column: object})
        bad.loc[0, column] = value
        with pytest.raises(ValueError, match=rf"column '{column}'.*expected"):
            read_obd_log(write(tmp_path, bad))
    with pytest.raises(ValueError, match="no rows"):
        read_obd_log(write(tmp_path, log.iloc[:0]))
    with pytest.raises(ValueError, match="slot 3 has 0 clicks"):
        fit_positions(log.assign(click=np.where(log["position"] == 3, 0, log["click"])))


def test_statsmodels_is_imported_only_to_fit(monkeypatch):
    code = "import sys, cartgym.calibrate.positions; print('statsmodels' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    monkeypatch.setitem(sys.modules, "statsmodels.api", None)  # as if it were not installed
    with pytest.raises(ImportError, match="pip install statsmodels"):
        fit_positions(synthetic_log(300, seed=0))


def test_the_open_bandit_sample_matches_its_source_note():
    if not OBD.is_dir():
        pytest.skip(f"no Open Bandit Dataset sample at {OBD}")
    random = read_obd_log(OBD / "random_all.csv.gz")
    bts = read_obd_log(OBD / "bts_all.csv.gz")
    assert list(random.columns) == list(COLUMNS)
    for log, clicks in [(random, 38), (bts, 42)]:
        assert len(log) == 10_000 and log["item_id"].nunique() == 80
        assert log["item_id"].between(0, 79).all() and log["click"].sum() == clicks
    assert np.allclose(random["propensity_score"], 1 / 80)
    fit = fit_positions(random)
    assert [round(s.ctr, 5) for s in fit.slots] == [0.00391, 0.0041, 0.00337]
    assert [round(s.ctr, 5) for s in fit_positions(bts).slots] == [0.00327, 0.00452, 0.00482]
    assert shrink(fit) == DEFAULT_POSITION_EFFECT
