"""The v1 defaults in the code are what the calibration scripts wrote (they cannot drift)."""

import json
from pathlib import Path

import pytest

from cartgym.sim.config import V1_DEFAULTS, VARIANTS

RESULTS = Path(__file__).parents[2] / "docs" / "results" / "calibration"


def _json(name):
    return json.loads((RESULTS / f"{name}.json").read_text())


@pytest.mark.parametrize(
    ("point", "config"),
    [("default", V1_DEFAULTS), ("items5", VARIANTS["items5"]), ("items35", VARIANTS["items35"])],
)
def test_response_parameters_are_the_calibrated_ones(point, config):
    calibrated = _json("response")["points"][point]
    for name in ("salience", "impulse"):
        assert config[name] == pytest.approx(calibrated[name], abs=1e-4), name
    lam = calibrated["shown_inclusive_value"]
    assert config["shown_inclusive_value"] == (
        "fitted" if lam is None else pytest.approx(lam, abs=1e-4)
    )


def test_the_default_meets_both_moments():
    calibrated = _json("response")["points"]["default"]
    assert calibrated["m1_met"] and calibrated["m2_met"]


def test_exit_hazard_variant_is_the_baymard_calibration():
    assert VARIANTS["abandon"]["exit_hazard"] == pytest.approx(_json("exits")["exit_hazard"])
    assert V1_DEFAULTS["exit_hazard"] == 0.0


def test_position_effects_are_the_open_bandit_recommendation():
    recommended = _json("position_effects")
    defaults = recommended.get("recommended_default") or recommended.get("default")
    assert tuple(V1_DEFAULTS["position_effects"]) == tuple(defaults)
