"""The numbers of a fidelity check (a frozen dataclass) and their markdown report."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from cartgym.fidelity.measures import Gap
from cartgym.fidelity.nextbasket import SHOPPER_MODEL, NextBasketResult


@dataclass(frozen=True)
class FidelityConfig:
    """Settings of :func:`~cartgym.fidelity.validate`.

    seed: the one seed of the rollouts and of any subsample.
    replicas: simulated sessions per held-out basket (more lowers the simulation noise).
    top_pairs: the real logs' most frequent item pairs whose lift is compared.
    ks: cut-offs of the next-basket metrics.
    max_baskets: compare at most this many held-out baskets (a uniform subsample).
    plots: write PNG figures beside the report (needs matplotlib).
    """

    seed: int = 0
    replicas: int = 3
    top_pairs: int = 100
    ks: tuple[int, ...] = (10, 20)
    max_baskets: int | None = None
    plots: bool = True

    def __post_init__(self) -> None:
        if self.replicas < 1:
            raise ValueError(f"replicas must be >= 1, got {self.replicas}")
        if self.top_pairs < 3:
            raise ValueError(f"top_pairs must be >= 3, got {self.top_pairs}")
        if not self.ks or min(self.ks) < 1:
            raise ValueError(f"ks must be positive cut-offs, got {self.ks}")
        if self.max_baskets is not None and self.max_baskets < 1:
            raise ValueError(f"max_baskets must be >= 1 or None, got {self.max_baskets}")


@dataclass(frozen=True)
class InputCounts:
    """What the held-out logs held, and what could be compared."""

    lines: int
    baskets: int
    users: int
    lines_outside_catalogue: int
    items_outside_catalogue: int  # distinct item ids
    baskets_without_catalogue_items: int
    baskets_below_min_size: int  # catalogue items fewer than the world's session minimum
    baskets_compared: int
    baskets_of_unknown_users: int  # among those compared; simulated as new shoppers
    unknown_users: int  # distinct held-out users absent from the world
    min_size: int


RESAMPLED = "resampled held-out"
HALVES = "held-out halves"
NULL_DRAWS = 20
TRAINING = "training logs"
SIZE, POPULARITY, PAIR_LIFT = (
    "basket size, relative W1",
    "item popularity, Spearman",
    ("top-pair lift, Spearman"),
)
SPEND = "spend, relative W1"


@dataclass(frozen=True)
class TargetCheck:
    """One target: ``value op threshold``; ``miss`` is how far it falls short (0 if met)."""

    name: str
    value: float
    op: str  # "<=", ">=" or ">"
    threshold: float

    @property
    def met(self) -> bool:
        if math.isnan(self.value) or math.isnan(self.threshold):
            return False
        if self.op == "<=":
            return self.value <= self.threshold
        if self.op == ">=":
            return self.value >= self.threshold
        return self.value > self.threshold

    @property
    def miss(self) -> float:
        return 0.0 if self.met else abs(self.value - self.threshold)


@dataclass(frozen=True, eq=False)
class FidelityReport:
    """Simulated against held-out baskets: every number of the report.

    basket_size: the simulator's own sessions (sizes from the world) against the held-out
        baskets, in catalogue items.
    spend, spend_free: basket value of the replayed sessions (each held-out basket's user and
        size) and of the simulator's own sessions, against the held-out baskets' value.
    popularity_spearman, pair_lift_spearman, repeat_rate_*, category_tv: replayed sessions
        against held-out baskets (category_tv is None for a single-category catalogue).
    targets: the checks of :func:`default_targets`.
    references: the same measures for baskets that are not simulated, by reference name:
        ``RESAMPLED`` (a perfect simulator at these sample sizes: both sides drawn with
        replacement from the held-out baskets; the sampling-noise limit of each measure),
        ``HALVES`` (two disjoint random halves of the held-out baskets against each other:
        independent samples, at half the size) and ``TRAINING`` (the training baskets in
        place of simulated ones: what a perfect copy of the training period scores; only
        with training logs).
    """

    world: str
    heldout: str
    counts: InputCounts
    basket_size: Gap
    spend: Gap
    spend_free: Gap
    popularity_spearman: float
    pair_lift_spearman: float
    pairs_compared: int
    repeat_rate_real: float
    repeat_rate_sim: float
    category_tv: float | None
    next_basket: NextBasketResult | None
    config: FidelityConfig
    targets: tuple[TargetCheck, ...] = field(default=())
    references: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe numbers (NaN as None)."""
        out = asdict(self)
        out["targets"] = [{**asdict(t), "met": t.met, "miss": t.miss} for t in self.targets]
        if self.next_basket is not None:
            out["next_basket"] = {
                "scores": self.next_basket.scores,
                "users": self.next_basket.users,
                "skipped": self.next_basket.skipped,
                "ties": self.next_basket.ties,
            }
        return _json_safe(out)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=True)


def default_targets(report: FidelityReport) -> tuple[TargetCheck, ...]:
    """The targets of issue 7 (see docs/fidelity.md)."""
    targets = [
        TargetCheck(SIZE, report.basket_size.relative_w1, "<=", 0.05),
        TargetCheck(POPULARITY, report.popularity_spearman, ">=", 0.9),
        TargetCheck(PAIR_LIFT, report.pair_lift_spearman, ">=", 0.6),
    ]
    nbr = report.next_basket
    if nbr is not None and SHOPPER_MODEL in nbr.scores:
        targets.append(
            TargetCheck(
                "shopper model Recall@10 vs GP-TopFreq",
                nbr.scores[SHOPPER_MODEL].get("Recall@10", math.nan),
                ">",
                nbr.scores["GP-TopFreq"].get("Recall@10", math.nan),
            )
        )
    return tuple(targets)


def to_markdown(
    report: FidelityReport,
    *,
    title: str = "Fidelity report",
    figures: dict[str, str] | None = None,
    command: str | None = None,
) -> str:
    """The report as markdown; ``figures`` maps a section key to a PNG file name."""
    figures = figures or {}
    c, cfg = report.counts, report.config
    lines = [f"# {title}", ""]
    lines += [f"- world: `{report.world}`", f"- held-out logs: `{report.heldout}`"]
    lines += [f"- seed {cfg.seed}, {cfg.replicas} simulated session(s) per held-out basket"]
    if command:
        lines += [f"- regenerate: `{command}`"]
    refs = report.references
    lines += ["", "## Targets", ""]
    lines += ["| check | simulated | target | result | " + " | ".join(refs) + " |"]
    lines += ["|---" * (4 + len(refs)) + "|"]
    for t in report.targets:
        verdict = "met" if t.met else f"**missed by {t.miss:.3g}**"
        cells = [t.name, _fmt(t.value), f"{t.op} {_fmt(t.threshold)}", verdict]
        cells += [_fmt(ref.get(t.name)) for ref in refs.values()]
        lines.append("| " + " | ".join(cells) + " |")
    nbr = report.next_basket
    if nbr is not None and SHOPPER_MODEL in nbr.per_user:
        mean, low, high = nbr.difference(SHOPPER_MODEL, "GP-TopFreq", "Recall@10")
        lines += [
            "",
            f"Shopper model minus GP-TopFreq, Recall@10: {mean:+.4f} (paired 95% CI "
            f"[{low:+.4f}, {high:+.4f}], {nbr.users:,} users).",
        ]
    if refs:
        lines += [
            "",
            "References (not simulated), each scored by the same measure: *"
            + RESAMPLED
            + "* is a perfect simulator at these sample sizes (held-out and simulated sides "
            f"both drawn with replacement from the held-out baskets; median of {NULL_DRAWS} "
            "draws), the sampling-noise limit (optimistic for rare items, absent from both "
            "sides alike); *"
            + HALVES
            + "* compares two disjoint random halves of the held-out baskets, independent "
            "samples at half the size (pessimistic); *"
            + TRAINING
            + "* puts the training baskets in place of the simulated ones, what a perfect "
            "copy of the training period would score (it measures drift over time).",
        ]
        spend = [f"{name} {_fmt(ref.get(SPEND))}" for name, ref in refs.items() if SPEND in ref]
        if spend:
            lines += ["", "Spend, relative W1, of the references: " + ", ".join(spend) + "."]
    lines += ["", "## Held-out data", "", "| count | value |", "|---|---|"]
    for name, value in asdict(c).items():
        lines.append(f"| {name.replace('_', ' ')} | {value:,} |")
    lines += [
        "",
        "Baskets compared hold at least the world's minimum session size of catalogue items "
        f"({c.min_size}); lines outside the catalogue are left out of every comparison.",
        "Held-out users absent from the world are simulated as new shoppers (taste drawn "
        "from the fitted population, no history).",
    ]
    lines += _gap_section(
        "Basket size (catalogue items)",
        report.basket_size,
        "Simulator's own sessions (sizes drawn from the world's logged sessions, as the "
        "environments draw them) against the held-out baskets. The replayed sessions have "
        "the held-out sizes by construction, so they are not compared here.",
        figures.get("basket_size"),
    )
    lines += _gap_section(
        "Spend per basket",
        report.spend,
        "Replayed sessions (each held-out basket's user and size): value = sum of unit "
        "price x median quantity of the items chosen; held-out value = sum of price x "
        "quantity over catalogue lines. With the simulator's own sessions (sizes from the "
        f"world): relative W1 {_fmt(report.spend_free.relative_w1)}, KS "
        f"{_fmt(report.spend_free.ks)}, mean {_fmt(report.spend_free.sim_mean)}.",
        figures.get("spend"),
    )
    lines += [
        "",
        "## Item popularity",
        "",
        f"Spearman correlation of the number of baskets holding each catalogue item, held-out "
        f"against replayed: **{_fmt(report.popularity_spearman)}**.",
    ]
    lines += _figure(figures.get("popularity"))
    lines += [
        "",
        "## Co-purchase lift",
        "",
        f"Over the held-out logs' {report.pairs_compared} most frequent item pairs, lift = "
        "n_ij B / (n_i n_j) in the held-out and in the replayed baskets; Spearman "
        f"correlation **{_fmt(report.pair_lift_spearman)}**.",
    ]
    lines += _figure(figures.get("pair_lift"))
    lines += [
        "",
        "## Repeat purchases",
        "",
        "Share of basket items the user had bought in the world's logs (their history): "
        f"held-out {_fmt(report.repeat_rate_real)}, replayed {_fmt(report.repeat_rate_sim)}.",
        "",
        "## Category mix",
        "",
    ]
    if report.category_tv is None:
        lines.append("N/A: the catalogue has a single category.")
    else:
        lines.append(
            "Total variation distance between the category shares of basket items, held-out "
            f"against replayed: **{_fmt(report.category_tv)}**."
        )
        lines += _figure(figures.get("category_mix"))
    lines += ["", "## Next-basket evaluation", ""]
    if nbr is None:
        lines.append("N/A: no held-out user has a history in the world (e.g. a split by user).")
    else:
        lines += [
            f"{nbr.users:,} held-out users known to the world; target = their first held-out "
            "basket (catalogue items), history = their baskets in the world's logs. "
            f"P-TopFreq ties: {nbr.ties}. Skipped: {nbr.skipped or 'none'}.",
            "",
            nbr.table(),
        ]
        lines += _figure(figures.get("next_basket"))
    return "\n".join(lines) + "\n"


def _gap_section(name: str, gap: Gap, text: str, figure: str | None) -> list[str]:
    lines = ["", f"## {name}", "", text, ""]
    lines += ["| | held-out | simulated |", "|---|---|---|"]
    lines += [f"| mean | {_fmt(gap.real_mean)} | {_fmt(gap.sim_mean)} |"]
    lines += ["", f"Relative W1 **{_fmt(gap.relative_w1)}**, KS statistic **{_fmt(gap.ks)}**."]
    return lines + _figure(figure)


def _figure(name: str | None) -> list[str]:
    return ["", f"![{name}]({name})"] if name else []


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.3f}" if abs(value) < 1000 else f"{value:,.0f}"


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return _json_safe(value.item())
    return value
