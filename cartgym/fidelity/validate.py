"""Validate a fitted world against held-out baskets; fit-then-validate on one log.

:func:`validate` is what ``cartgym validate WORLD HELDOUT`` runs: it simulates the held-out
baskets with the world's own dynamics (organic rollouts, see :mod:`.rollout`), compares
them with the real ones, scores the shopper model as a next-basket recommender and, given
``out_dir``, writes ``report.md``, ``report.json`` and PNG figures there.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from cartgym.calibrate.fit import BasketLog, FitConfig, fit
from cartgym.data import Transactions, temporal_split, user_split
from cartgym.data.split import Holdout
from cartgym.fidelity import measures
from cartgym.fidelity.nextbasket import evaluate_next_basket, task_from_world
from cartgym.fidelity.plots import Samples, write_figures
from cartgym.fidelity.report import (
    HALVES,
    NULL_DRAWS,
    PAIR_LIFT,
    POPULARITY,
    RESAMPLED,
    SIZE,
    SPEND,
    TRAINING,
    FidelityConfig,
    FidelityReport,
    InputCounts,
    default_targets,
    to_markdown,
)
from cartgym.fidelity.rollout import population_rollout, replay_rollout
from cartgym.world import ShopperWorld

SPLITS = ("temporal", "user")


def validate(
    world: ShopperWorld | str | Path,
    heldout: Transactions | pd.DataFrame,
    out_dir: str | Path | None = None,
    *,
    config: FidelityConfig | None = None,
    training: Transactions | pd.DataFrame | None = None,
    title: str | None = None,
    command: str | None = None,
) -> FidelityReport:
    """Compare the world's simulated shoppers with held-out baskets.

    Args:
        world: a ShopperWorld, a world file, or a bundled world's name.
        heldout: canonical transactions the world was not fitted on.
        out_dir: if given, write ``report.md``, ``report.json`` and the figures there.
        config: seed, replicas, pairs, cut-offs, subsample, plots (:class:`FidelityConfig`).
        training: the logs the world was fitted on, if at hand: adds the "training logs"
            reference (training baskets scored in place of simulated ones).
        title: the report's heading.
        command: the command line that regenerates the report.

    Raises:
        ValueError: the held-out set is empty, or no held-out basket holds enough catalogue
            items to compare. Unknown users and items outside the catalogue are counted.
    """
    config = config or FidelityConfig()
    world = _resolve(world)
    table = heldout.table if isinstance(heldout, Transactions) else heldout
    name = heldout.report.source if isinstance(heldout, Transactions) else "<DataFrame>"
    if len(table) == 0:
        raise ValueError("the held-out set is empty: there is nothing to compare")
    log, _ = BasketLog.build(table, world.item_ids, user_ids=world.user_ids)
    sizes = np.diff(log.items.indptr)
    min_size = int(world.meta.get("report", {}).get("config", {}).get("min_session_size", 2))
    rows = np.flatnonzero(sizes >= min_size)
    rng = np.random.default_rng(config.seed)
    if config.max_baskets is not None and len(rows) > config.max_baskets:
        rows = np.sort(rng.choice(rows, config.max_baskets, replace=False))
    known_users = pd.Index(world.user_ids)
    unknown = ~table["user_id"].isin(known_users)
    outside = ~table["item_id"].isin(pd.Index(world.item_ids))
    counts = InputCounts(
        lines=len(table),
        baskets=int(table["basket_id"].nunique()),
        users=int(table["user_id"].nunique()),
        lines_outside_catalogue=int(outside.sum()),
        items_outside_catalogue=int(table.loc[outside, "item_id"].nunique()),
        baskets_without_catalogue_items=int(table["basket_id"].nunique() - len(sizes)),
        baskets_below_min_size=int((sizes < min_size).sum()),
        baskets_compared=len(rows),
        baskets_of_unknown_users=int((log.users[rows] < 0).sum()),
        unknown_users=int(table.loc[unknown, "user_id"].nunique()),
        min_size=min_size,
    )
    if len(rows) == 0:
        raise ValueError(
            f"no held-out basket holds {min_size} or more catalogue items; counts: {counts}"
        )

    real = log.items[rows]
    users, real_sizes = log.users[rows], sizes[rows]
    replay = replay_rollout(
        world, np.repeat(users, config.replicas), np.repeat(real_sizes, config.replicas), rng
    )
    free = population_rollout(world, len(rows) * config.replicas, rng)

    pair_rho, pairs = measures.pair_lift_spearman(real, replay.baskets, config.top_pairs)
    before = _bought_before(world, users)
    sim_before = _bought_before(world, replay.users)
    real_cat = sim_cat = None
    category_tv = None
    n_cat = len(world.category_names)
    if n_cat > 1:
        real_cat = measures.category_shares(real, world.categories, n_cat)
        sim_cat = measures.category_shares(replay.baskets, world.categories, n_cat)
        category_tv = measures.total_variation(real_cat, sim_cat)
    nbr = None
    task = task_from_world(world, log, unknown_users=counts.unknown_users)
    if task.n_users:
        nbr = evaluate_next_basket(task, world, ks=config.ks)

    report = FidelityReport(
        world=f"{world.fingerprint[:12]} ({world.meta.get('source', '?')})",
        heldout=name,
        counts=counts,
        basket_size=measures.Gap.between(real_sizes, free.sizes),
        spend=measures.Gap.between(log.values[rows], replay.values),
        spend_free=measures.Gap.between(log.values[rows], free.values),
        popularity_spearman=measures.popularity_spearman(real, replay.baskets),
        pair_lift_spearman=pair_rho,
        pairs_compared=len(pairs),
        repeat_rate_real=measures.repeat_rate(real, before),
        repeat_rate_sim=measures.repeat_rate(replay.baskets, sim_before),
        category_tv=category_tv,
        next_basket=nbr,
        config=config,
    )
    values = log.values[rows]
    references = {
        RESAMPLED: _resampled(real, real_sizes, values, config, rng),
        HALVES: _halves(real, real_sizes, values, config, rng),
    }
    if training is not None:
        references[TRAINING] = _training(
            world, training, real, real_sizes, log.values[rows], config
        )
    report = replace(report, targets=default_targets(report), references=references)
    if out_dir is not None:
        samples = Samples(
            real_sizes=real_sizes,
            sim_sizes=free.sizes,
            real_spend=log.values[rows],
            sim_spend=replay.values,
            real_item_counts=measures.item_counts(real),
            sim_item_counts=measures.item_counts(replay.baskets) / config.replicas,
            real_lifts=measures.pair_lifts(real, pairs),
            sim_lifts=measures.pair_lifts(replay.baskets, pairs),
            category_names=world.category_names,
            real_categories=real_cat,
            sim_categories=sim_cat,
            next_basket=nbr.scores if nbr else None,
        )
        write_report(report, samples, out_dir, title=title, command=command)
    return report


def fit_and_validate(
    transactions: Transactions,
    out_dir: str | Path | None = None,
    *,
    split: str = "temporal",
    holdout: Holdout = "1M",
    fit_config: FitConfig | None = None,
    config: FidelityConfig | None = None,
    title: str | None = None,
    command: str | None = None,
) -> tuple[ShopperWorld, FidelityReport]:
    """Split the log, fit a world on the training side and validate it on the held-out side.

    ``split="temporal"`` holds out the baskets from ``holdout`` before the last one on
    (default one month, see :func:`cartgym.data.temporal_split`); ``split="user"`` holds
    out the test users of :func:`cartgym.data.user_groups` (1 in 5 by a hash of the id;
    their shoppers are then new to the world).
    """
    if split == "temporal":
        train, test = temporal_split(transactions, holdout)
    elif split == "user":
        train, test = user_split(transactions)
    else:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    world = fit(train, fit_config)
    report = validate(
        world, test, out_dir, config=config, training=train, title=title, command=command
    )
    return world, report


def write_report(
    report: FidelityReport,
    samples: Samples | None,
    out_dir: str | Path,
    *,
    title: str | None = None,
    command: str | None = None,
) -> Path:
    """Write ``report.md``, ``report.json`` and (if ``report.config.plots``) the figures."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figures = write_figures(samples, out) if samples is not None and report.config.plots else {}
    text = to_markdown(report, title=title or "Fidelity report", figures=figures, command=command)
    (out / "report.md").write_text(text, encoding="utf-8")
    (out / "report.json").write_text(report.to_json() + "\n", encoding="utf-8")
    return out / "report.md"


def _resampled(
    real: sp.csr_matrix,
    sizes: np.ndarray,
    values: np.ndarray,
    config: FidelityConfig,
    rng: np.random.Generator,
) -> dict[str, float]:
    """The measures for a perfect simulator: the held-out side (n baskets) and the simulated
    side (replicas x n) both drawn with replacement from the held-out baskets; medians."""
    n = real.shape[0]
    draws = []
    for _ in range(NULL_DRAWS):
        a, b = rng.integers(0, n, n), rng.integers(0, n, n * config.replicas)
        draws.append(_scores(real[a], sizes[a], values[a], real[b], sizes[b], values[b], config))
    return {name: float(np.nanmedian([d[name] for d in draws])) for name in draws[0]}


def _halves(
    real: sp.csr_matrix,
    sizes: np.ndarray,
    values: np.ndarray,
    config: FidelityConfig,
    rng: np.random.Generator,
) -> dict[str, float]:
    """The measures between two disjoint random halves of the held-out baskets."""
    order = rng.permutation(real.shape[0])
    a, b = order[: len(order) // 2], order[len(order) // 2 :]
    if len(a) == 0:
        return {}
    return _scores(real[a], sizes[a], values[a], real[b], sizes[b], values[b], config)


def _training(
    world: ShopperWorld,
    training: Transactions | pd.DataFrame,
    real: sp.csr_matrix,
    sizes: np.ndarray,
    values: np.ndarray,
    config: FidelityConfig,
) -> dict[str, float]:
    """The measures with the training baskets in place of the simulated ones."""
    table = training.table if isinstance(training, Transactions) else training
    log, _ = BasketLog.build(table, world.item_ids, user_ids=world.user_ids)
    train_sizes = np.diff(log.items.indptr)
    keep = train_sizes >= int(sizes.min())
    if not keep.any():
        return {}
    return _scores(
        real, sizes, values, log.items[keep], train_sizes[keep], log.values[keep], config
    )


def _scores(
    real: sp.csr_matrix,
    sizes: np.ndarray,
    values: np.ndarray,
    other: sp.csr_matrix,
    other_sizes: np.ndarray,
    other_values: np.ndarray,
    config: FidelityConfig,
) -> dict[str, float]:
    return {
        SIZE: measures.relative_wasserstein(sizes, other_sizes),
        POPULARITY: measures.popularity_spearman(real, other),
        PAIR_LIFT: measures.pair_lift_spearman(real, other, config.top_pairs)[0],
        SPEND: measures.relative_wasserstein(values, other_values),
    }


def _bought_before(world: ShopperWorld, users: np.ndarray) -> sp.csr_matrix:
    """(len(users), M): the world's history rows (empty for users it does not know)."""
    history = world.history[np.maximum(users, 0)].tocsr()
    keep = sp.diags((users >= 0).astype(np.float64))
    return (keep @ history).tocsr()


def _resolve(world: ShopperWorld | str | Path) -> ShopperWorld:
    if isinstance(world, ShopperWorld):
        return world
    from cartgym.world import resolve_world

    return resolve_world(world)
