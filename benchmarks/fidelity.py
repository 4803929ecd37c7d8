"""Fidelity of fitted shopper worlds: simulated against held-out baskets; next-basket scores.

    python benchmarks/fidelity.py                     # Online Retail (+ Ta-Feng if at hand)
    python benchmarks/fidelity.py --complete-journey  # also Complete Journey 2.0
    python benchmarks/fidelity.py --complete-journey \
        --save-world cartgym/world/data/complete_journey.npz  # and save the grocery world

Runs, each written to ``--out`` (default docs/results/fidelity/):

- ``online_retail/``: the bundled UCI Online Retail log, temporal split (the last month held
  out), world fitted on the rest with the default FitConfig, then ``validate`` (the targets);
- ``online_retail_user_split/``: the same log, 20% of the users held out (no drift over
  time; every held-out shopper is new to the world);
- ``complete_journey/`` (``--complete-journey``): 84.51° Complete Journey 2.0, temporal
  split, FitConfig(n_items=1000); ``--save-world`` also fits the full log and saves it;
- ``tafeng.md`` (``--tafeng DIR``, default ../shared/data/tafeng_nbr when present): the
  next-basket baselines on the common Ta-Feng files (keysets 0-4, mean over folds) beside
  the reference figures, and the shopper model fitted on the history baskets;
- ``summary.csv`` and ``README.md``: the headline numbers against the targets.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from dataclasses import dataclass, fields, replace
from pathlib import Path

import pandas as pd

from cartgym.calibrate import FitConfig, fit
from cartgym.data import Transactions, load_complete_journey, load_online_retail
from cartgym.fidelity import (
    FidelityConfig,
    FidelityReport,
    evaluate_next_basket,
    fit_and_validate,
    read_keyset,
    read_sequences,
    sequences_to_transactions,
    task_from_sequences,
)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TAFENG = ROOT.parent / "shared" / "data" / "tafeng_nbr"
# Ta-Feng figures of the data copy's SOURCE.md: the upstream definitions (Li et al. 2023,
# github.com/liming-7/A-Next-Basket-Recommendation-Reality-Check) on keysets 0-4, mean over
# folds; computed by the curators of the copy, not published figures.
TAFENG_REFERENCE = {
    "G-TopFreq": [0.0813, 0.0861, 0.2504, 0.1071, 0.0954, 0.3287],
    "P-TopFreq": [0.1072, 0.0957, 0.3575, 0.1384, 0.1093, 0.4360],
    "GP-TopFreq": [0.1212, 0.1014, 0.3794, 0.1685, 0.1204, 0.4872],
}
METRICS = ["Recall@10", "NDCG@10", "PHR@10", "Recall@20", "NDCG@20", "PHR@20"]


@dataclass(frozen=True)
class Args:
    out: str = str(ROOT / "docs" / "results" / "fidelity")
    complete_journey: bool = False
    save_world: str | None = None
    tafeng: str | None = str(DEFAULT_TAFENG) if DEFAULT_TAFENG.is_dir() else None
    tafeng_items: int = 3000
    user_split: bool = True
    seed: int = 0
    replicas: int = 3

    @classmethod
    def parse(cls, argv: list[str] | None = None) -> Args:
        parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
        defaults = cls()
        for f in fields(cls):
            flag = f"--{f.name.replace('_', '-')}"
            value = getattr(defaults, f.name)
            if isinstance(value, bool):
                parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=value)
            else:
                kind = int if isinstance(value, int) else str
                parser.add_argument(flag, type=kind, default=value)
        return cls(**vars(parser.parse_args(argv)))


def main(argv: list[str] | None = None) -> int:
    args = Args.parse(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/fidelity.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    command = command.strip()
    config = FidelityConfig(seed=args.seed, replicas=args.replicas)
    rows: list[dict[str, object]] = []

    retail = load_online_retail()
    rows.append(_run("online_retail", retail, out, config, command, split="temporal"))
    if args.user_split:
        rows.append(_run("online_retail_user_split", retail, out, config, command, split="user"))
    if args.complete_journey:
        grocery = with_categories(load_complete_journey())
        fit_config = FitConfig(n_items=1000, seed=args.seed)
        rows.append(_run("complete_journey", grocery, out, config, command, "temporal", fit_config))
        if args.save_world:
            started = time.perf_counter()
            world = fit(grocery, fit_config)
            path = world.save(args.save_world)
            size = path.stat().st_size / 2**20
            print(
                f"\nsaved the full Complete Journey world to {path} ({size:.2f} MiB, "
                f"{time.perf_counter() - started:.0f} s)\n{world.summary()}"
            )
    if args.tafeng and Path(args.tafeng).is_dir():
        tafeng(Path(args.tafeng), out, args.tafeng_items, args.seed, command)

    table = pd.DataFrame(rows).set_index("run")
    table.to_csv(out / "summary.csv", float_format="%.4f")
    (out / "README.md").write_text(_summary_page(table, command, out), encoding="utf-8")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print("\n" + table.round(4).to_string())
    print(f"\nreports in {out}; command: {command}")
    return 0


def with_categories(transactions: Transactions) -> Transactions:
    """Products missing from the products table get the category "(no category)".

    ``fit`` picks each item's most frequent category and fails on an item whose category is
    always missing (2 of the 1,000 most-bought Complete Journey products).
    """
    table = transactions.table
    return replace(
        transactions, table=table.assign(category=table["category"].fillna("(no category)"))
    )


def _run(
    name: str,
    transactions: Transactions,
    out: Path,
    config: FidelityConfig,
    command: str,
    split: str,
    fit_config: FitConfig | None = None,
) -> dict[str, object]:
    started = time.perf_counter()
    title = f"Fidelity: {name.replace('_', ' ')} ({split} split)"
    _, report = fit_and_validate(
        transactions,
        out / name,
        split=split,
        fit_config=fit_config,
        config=config,
        title=title,
        command=command,
    )
    seconds = time.perf_counter() - started
    print(f"\n== {title}: {seconds:.0f} s")
    for t in report.targets:
        verdict = "met" if t.met else f"MISSED by {t.miss:.4g}"
        print(f"  {t.name}: {t.value:.4f} (target {t.op} {t.threshold:.4f}) {verdict}")
    return {"run": name, **_headline(report), "seconds": round(seconds, 1)}


def _headline(report: FidelityReport) -> dict[str, object]:
    row: dict[str, object] = {
        "size_rel_w1": report.basket_size.relative_w1,
        "size_ks": report.basket_size.ks,
        "popularity_spearman": report.popularity_spearman,
        "pair_lift_spearman": report.pair_lift_spearman,
        "repeat_real": report.repeat_rate_real,
        "repeat_sim": report.repeat_rate_sim,
        "spend_rel_w1": report.spend.relative_w1,
        "category_tv": report.category_tv,
    }
    nbr = report.next_basket
    if nbr is not None:
        row["recall10_shopper"] = nbr.scores["shopper model"]["Recall@10"]
        row["recall10_gp_topfreq"] = nbr.scores["GP-TopFreq"]["Recall@10"]
    row["targets_met"] = f"{sum(t.met for t in report.targets)}/{len(report.targets)}"
    return row


def tafeng(folder: Path, out: Path, n_items: int, seed: int, command: str) -> pd.DataFrame:
    """Baselines and the shopper model on Ta-Feng, keysets 0-4, mean over folds."""
    started = time.perf_counter()
    sequences = read_sequences(folder / "tafeng_history.json.gz", folder / "tafeng_future.json.gz")
    history = read_sequences(folder / "tafeng_history.json.gz")
    world = fit(
        sequences_to_transactions(history, "Ta-Feng history baskets"),
        FitConfig(n_items=n_items, seed=seed),
    )
    folds = []
    for fold in range(5):
        test = read_keyset(folder / f"tafeng_keyset_{fold}.json.gz")["test"]
        result = evaluate_next_basket(task_from_sequences(sequences, test), world)
        folds.append(pd.DataFrame(result.scores).T[METRICS])
    mean = sum(folds) / len(folds)
    reference = pd.DataFrame(TAFENG_REFERENCE, index=METRICS).T
    lines = [
        "# Next-basket evaluation on Ta-Feng (common NBR files)",
        "",
        f"Regenerate: `{command}`. Files: the Reality-Check Ta-Feng json (history and future "
        "baskets) and keysets 0-4 (test users); mean over the five folds. Protocol: each "
        "user's last (future) basket is the target; binary gains, NDCG's ideal over all "
        "target items; P-TopFreq ties: the item bought first first (as upstream).",
        "",
        "## Measured",
        "",
        _markdown(mean),
        "",
        "## Reference figures (data copy's SOURCE.md; same definitions; not published)",
        "",
        _markdown(reference),
        "",
        f"Largest absolute difference on the baselines: "
        f"{(mean.loc[reference.index] - reference).abs().to_numpy().max():.4f}.",
        "",
        f"The shopper model: a world fitted on the history baskets of all users "
        f"(`FitConfig(n_items={n_items})`: the {n_items} most-bought items of "
        f"{len(sequences_to_items(history)):,}), items ranked by the static utility (taste, "
        "history, popularity; no prices in these files). Items outside its catalogue are "
        "never recommended.",
        "",
        f"World: {world.summary().splitlines()[0]}; {world.summary().splitlines()[2].strip()}.",
    ]
    (out / "tafeng.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"\n== Ta-Feng next-basket evaluation: {time.perf_counter() - started:.0f} s")
    print(mean.round(4).to_string())
    return mean


def sequences_to_items(sequences: dict[str, list[list[str]]]) -> set[str]:
    return {item for baskets in sequences.values() for basket in baskets for item in basket}


def _markdown(frame: pd.DataFrame) -> str:
    lines = ["| method | " + " | ".join(frame.columns) + " |"]
    lines.append("|---" * (len(frame.columns) + 1) + "|")
    for name, row in frame.iterrows():
        lines.append(f"| {name} | " + " | ".join(f"{v:.4f}" for v in row) + " |")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


REFERENCE_MEASURES = (
    "basket size, relative W1",
    "item popularity, Spearman",
    "top-pair lift, Spearman",
)


def _references(table: pd.DataFrame, out: Path) -> list[str]:
    """The noise limits of every run: the measures between resampled held-out baskets,
    between the held-out halves, and of the training logs against the held-out ones."""
    lines = [
        "",
        "The same measures where no simulator is involved (each run's `report.json`): "
        "resampled held-out baskets (the noise limit), the two halves of the held-out "
        "logs, and the training logs against the held-out ones (drift):",
        "",
        "| run | "
        + " | ".join(f"{m}: resampled / halves / training logs" for m in REFERENCE_MEASURES)
        + " |",
        "|---" * (len(REFERENCE_MEASURES) + 1) + "|",
    ]
    for name in table.index:
        report = json.loads((out / name / "report.json").read_text())
        refs = report.get("references") or {}
        kinds = ("resampled held-out", "held-out halves", "training logs")
        cells = [
            " / ".join(_cell(refs.get(kind, {}).get(measure)) for kind in kinds)
            for measure in REFERENCE_MEASURES
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _summary_page(table: pd.DataFrame, command: str, out: Path) -> str:
    lines = [
        "# Fidelity results",
        "",
        f"Regenerate: `{command}` (see `benchmarks/fidelity.py`; the user page is "
        "`docs/fidelity.md`). One folder per run, each with `report.md`, `report.json` "
        "and figures.",
        "",
        "Targets (issue 7): size relative W1 <= 0.05; popularity Spearman >= 0.9; top-pair "
        "lift Spearman >= 0.6; shopper-model Recall@10 above GP-TopFreq.",
        "",
        "| run | " + " | ".join(table.columns) + " |",
        "|---" * (len(table.columns) + 1) + "|",
    ]
    for name, row in table.iterrows():
        cells = [_cell(v) for v in row]
        lines.append(f"| [{name}]({name}/report.md) | " + " | ".join(cells) + " |")
    return "\n".join(lines + _references(table, out)) + "\n"


if __name__ == "__main__":
    sys.exit(main())
