"""Packaging: what a user installs is complete, light, and never pulls in the agents."""

import configparser
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_cartgym_never_imports_the_agents_or_heavy_frameworks():
    code = (
        "import sys, gymnasium as gym, cartgym\n"
        "env = gym.make('CartRec-v0'); env.reset(seed=0); env.step(0)\n"
        "bad = [m for m in ('cartgym.agents', 'torch', 'stable_baselines3') if m in sys.modules]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_package_folder_is_listed_in_setup_cfg():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    listed = set(config["options"]["packages"].split())
    found = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "cartgym").rglob("__init__.py")
    }
    found |= {
        "cartgym.agents"
        + "".join("." + part for part in p.parent.relative_to(ROOT / "agents").parts)
        for p in (ROOT / "agents").rglob("__init__.py")
    }
    assert found <= listed, f"add to setup.cfg packages: {sorted(found - listed)}"


def test_each_setting_lives_in_one_file():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "project" not in pyproject  # metadata lives in setup.cfg
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    tools = {section.split(":")[-1] for section in config.sections() if ":" in section}
    assert not tools & set(pyproject.get("tool", {})), "a tool configured in both files"


@pytest.mark.slow
def test_wheel_ships_the_data_and_the_default_world(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
    )
    wheel = next(tmp_path.glob("cartgym-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "cartgym/data/bundled/online_retail.parquet",
        "cartgym/data/bundled/ONLINE_RETAIL.md",
        "cartgym/world/data/online_retail.npz",
        "cartgym/agents/__init__.py",
    ):
        assert needed in names


def test_every_numpy_load_refuses_pickles():
    """A world or log file must never run code: each np.load says allow_pickle=False."""
    calls = []
    for folder in ("cartgym", "agents", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            text = path.read_text()
            for match in re.finditer(r"np\.load\(([^)]*)\)", text):
                line = text.count("\n", 0, match.start()) + 1
                calls.append((f"{path.relative_to(ROOT)}:{line}", match.group(1)))
    assert calls, "no np.load call found: the scan is broken"
    unsafe = [where for where, args in calls if "allow_pickle=False" not in args]
    assert not unsafe, f"np.load without allow_pickle=False at {unsafe}"
