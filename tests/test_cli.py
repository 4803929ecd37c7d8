"""The command line: happy paths on small inputs, and user errors exit 2 in one line."""

import subprocess
import sys

import pytest

from cartgym.calibrate import ShopperWorld
from cartgym.cli import main
from cartgym.data import load_online_retail


@pytest.fixture(scope="module")
def transactions_csv(tmp_path_factory):
    table = load_online_retail().table
    table = table[table["basket_id"].isin(table["basket_id"].unique()[:1500])]
    path = tmp_path_factory.mktemp("cli") / "tx.csv"
    table.rename(
        columns={
            "user_id": "CustomerID",
            "basket_id": "InvoiceNo",
            "item_id": "StockCode",
            "price": "UnitPrice",
            "quantity": "Quantity",
            "timestamp": "InvoiceDate",
        }
    ).to_csv(path, index=False)
    return path


def test_fit_then_make_env(transactions_csv, tmp_path, capsys):
    out = tmp_path / "world.npz"
    code = main(
        [
            "fit",
            str(transactions_csv),
            "--user-col",
            "CustomerID",
            "--basket-col",
            "InvoiceNo",
            "--item-col",
            "StockCode",
            "--price-col",
            "UnitPrice",
            "--quantity-col",
            "Quantity",
            "--timestamp-col",
            "InvoiceDate",
            "--n-items",
            "80",
            "-o",
            str(out),
        ]
    )
    assert code == 0 and out.exists()
    assert "rows in" in capsys.readouterr().out
    import gymnasium as gym

    env = gym.make("CartRec-v1", world=str(out))
    obs, _ = env.reset(seed=0)
    assert obs.shape == (2 * 80 + 6,)
    assert main(["info", str(out)]) == 0
    assert ShopperWorld.load(out).n_items == 80


@pytest.mark.parametrize(
    "argv, message",
    [
        (["fit", "missing.csv", "-o", "w.npz"], "needs --user-col"),
        (
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
            "not found",
        ),
        (["fit", "online_retail", "-o", "/no/such/folder/w.npz"], "does not exist"),
        (["info", "nowhere.npz"], "no such world file"),
        (["demo", "--env", "Nope-v0"], "unknown environment id"),
    ],
)
def test_user_errors_exit_2_with_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err


def test_bad_column_names_point_at_the_column(transactions_csv, tmp_path, capsys):
    code = main(
        [
            "fit",
            str(transactions_csv),
            "--user-col",
            "Customer",
            "--basket-col",
            "InvoiceNo",
            "--item-col",
            "StockCode",
            "-o",
            str(tmp_path / "w.npz"),
        ]
    )
    assert code == 2
    assert "Customer" in capsys.readouterr().err


def test_argparse_errors_exit_2():
    for argv in (["fit"], ["demo", "--sessions", "0"], ["nonsense"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2


def test_console_script_demo_runs():
    result = subprocess.run(
        [sys.executable, "-m", "cartgym.cli", "demo", "--sessions", "20"],
        capture_output=True,
        text=True,
        check=True,
    )
    out = result.stdout
    assert "CartRec-v1" in out and "incremental_basket_value" in out and "cooccurrence" in out
    shown_nothing = next(line for line in out.splitlines() if line.startswith("no_recommendation"))
    assert "0.00 [0.00, 0.00]" in shown_nothing  # showing nothing is its own twin


def test_debug_flag_shows_the_traceback():
    with pytest.raises(ValueError):
        main(["--debug", "info", "nowhere.npz"])


def test_validate_a_world_against_held_out_logs(tmp_path, capsys):
    from cartgym.calibrate import FitConfig, fit
    from cartgym.data import temporal_split

    train, test = temporal_split(load_online_retail())
    table = train.table
    small = table[table["basket_id"].isin(table["basket_id"].unique()[-2500:])]
    fit(small, FitConfig(n_items=150)).save(tmp_path / "w.npz")
    test.table.head(4000).to_csv(tmp_path / "heldout.csv", index=False)
    code = main(
        [
            "validate",
            str(tmp_path / "w.npz"),
            str(tmp_path / "heldout.csv"),
            "--user-col",
            "user_id",
            "--basket-col",
            "basket_id",
            "--item-col",
            "item_id",
            "--price-col",
            "price",
            "--quantity-col",
            "quantity",
            "--timestamp-col",
            "timestamp",
            "--replicas",
            "1",
            "--out",
            str(tmp_path / "report"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "item popularity, Spearman" in out
    assert (tmp_path / "report" / "report.md").exists()
    assert main(["validate", str(tmp_path / "w.npz"), str(tmp_path / "heldout.csv")]) == 2
    assert "needs --user-col" in capsys.readouterr().err


def test_every_command_misused_exits_2_with_one_line():
    """The reliability report's CLI matrix: bad arguments, missing files, unwritable outputs."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "reliability.py"
    spec = importlib.util.spec_from_file_location("reliability", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.cli_misuse()
    assert result["cases"] >= 25 and result["failures"] == []
