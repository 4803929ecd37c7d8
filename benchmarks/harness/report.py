"""The benchmark report: tables with confidence intervals, significance, plots; generated.

    cartgym report runs/quick/results.parquet --out docs/results/quick

Per environment, one row per agent: the mean over seeds of each metric with a 95%
Student-t interval over seeds (every agent ran on the same seeds), the normalised score
(agent - random) / (oracle-myopic - random) computed seed by seed, the incremental basket
value against each session's twin (CartRec-v1), and a paired comparison against the best
baseline (the non-oracle, non-RL agent with the highest mean revenue), session by session
and seed by seed (:mod:`~cartgym.harness.comparisons`): "beats" only when significant at
0.05. Writes ``index.md`` and PNG plots into the output folder.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from cartgym import __version__
from cartgym.agents.registry import RL_ALGORITHMS
from cartgym.harness.comparisons import compare
from cartgym.harness.config import BenchConfig
from cartgym.harness.runner import METRICS
from cartgym.stats import mean_ci

REFERENCES = ("random", "oracle_myopic")
# (floor, ceiling) of the normalised score: item and slate envs, then bundle envs
REFERENCE_PAIRS = (REFERENCES, ("bundle_random", "bundle_oracle_myopic"))
ORACLES = tuple(ceiling for _, ceiling in REFERENCE_PAIRS)
CONTROL = "no_recommendation"


def references_of(agents: set[str]) -> tuple[str, str] | None:
    """The (random, oracle) pair of an environment's agents, if both ran on it."""
    return next((pair for pair in REFERENCE_PAIRS if set(pair) <= agents), None)


def normalised_scores(table: pd.DataFrame) -> pd.Series:
    """Per row: (revenue - random's) / (oracle's - random's), same env and seed; the
    references of each env are its :data:`REFERENCE_PAIRS` (NaN without them)."""
    key = ["env", "seed"]
    revenue = table.set_index([*key, "agent"])["revenue_per_session"]
    out = pd.Series(np.nan, index=table.index)
    for _, rows in table.groupby("env"):
        pair = references_of(set(rows["agent"]))
        if pair is None:
            continue
        random = revenue.xs(pair[0], level="agent")
        oracle = revenue.xs(pair[1], level="agent")
        index = pd.MultiIndex.from_frame(rows[key])
        low, high = random.reindex(index).to_numpy(), oracle.reindex(index).to_numpy()
        out[rows.index] = (rows["revenue_per_session"].to_numpy() - low) / (high - low)
    return out


def mean_half(values: np.ndarray) -> tuple[float, float]:
    """Mean and half-width of the 95% t interval (:func:`cartgym.stats.mean_ci`), over the
    values that are not NaN (the share bought anyway is NaN for a run that took none)."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return float("nan"), float("nan")
    interval = mean_ci(values)
    return interval.mean, interval.half_width


def summary_table(table: pd.DataFrame, env: str) -> pd.DataFrame:
    rows = table[table["env"] == env].copy()
    columns = list(METRICS)
    if (rows["discount_cost"] == 0).all():
        columns.remove("discount_cost")  # no discounts offered in this environment
    if np.allclose(rows["items_per_recommendation"], rows["ctr"]):
        columns.remove("items_per_recommendation")  # one item at most per recommendation
    if references_of(set(rows["agent"])) is not None:
        rows["normalised_score"] = normalised_scores(rows)
        columns.append("normalised_score")
    twins = "incremental_basket_value" in rows and rows["incremental_basket_value"].notna().all()
    if twins:  # CartRec-v1: every session against its own twin
        columns += ["incremental_basket_value", "incremental_items", "bought_anyway_share"]
    elif CONTROL in set(rows["agent"]):  # v0: against the control on the same seeds
        control = rows[rows["agent"] == CONTROL].set_index("seed")["basket_value"]
        rows["incremental_basket_value"] = rows["basket_value"] - rows["seed"].map(control)
        columns.append("incremental_basket_value")
    best = best_baseline(rows)
    reference = rows[rows["agent"] == best]
    out = []
    for agent, group in rows.groupby("agent"):
        entry: dict[str, object] = {"agent": agent, "seeds": len(group)}
        for column in columns:
            entry[column] = mean_half(group[column].to_numpy())
        if twins and len(group) == 1:  # one seed: the interval over its sessions
            low, high = group[
                ["incremental_basket_value_low", "incremental_basket_value_high"]
            ].iloc[0]
            mean = mean_half(group["incremental_basket_value"].to_numpy())[0]
            entry["incremental_basket_value"] = (mean, (high - low) / 2)
        entry["train_s"] = group["train_seconds"].median()
        entry["s_per_1000_sessions"] = group["seconds_per_1000_sessions"].median()
        if best is None or agent == best:
            entry["vs_best_baseline"] = "best baseline" if agent == best else "n/a"
        else:
            entry["vs_best_baseline"] = compare(group, reference).cell()
        out.append(entry)
    frame = pd.DataFrame(out)
    order = frame["revenue_per_session"].map(lambda mc: mc[0])
    return frame.assign(_order=order).sort_values("_order", ascending=False).drop(columns="_order")


def best_baseline(rows: pd.DataFrame) -> str | None:
    """The non-oracle, non-RL, non-control agent with the highest mean revenue per session."""
    baselines = rows[~rows["agent"].isin([*ORACLES, CONTROL, *RL_ALGORITHMS])]
    by_revenue = baselines.groupby("agent")["revenue_per_session"].mean()
    return str(by_revenue.idxmax()) if len(by_revenue) else None


def _fmt(cell: object) -> str:
    if isinstance(cell, tuple):
        mean, half = cell
        return f"{mean:.3f} ± {half:.3f}" if np.isfinite(half) else f"{mean:.3f}"
    if isinstance(cell, float):
        return f"{cell:.2f}"
    return str(cell)


def markdown(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def plots(table: pd.DataFrame, env: str, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = table[table["env"] == env]
    safe = env.replace("/", "_")
    names = []
    summary = rows.groupby("agent")["revenue_per_session"].agg(["mean", "std", "count"])
    summary = summary.sort_values("mean")
    half = stats.t.ppf(0.975, np.maximum(summary["count"] - 1, 1)) * summary["std"].fillna(0)
    half /= np.sqrt(summary["count"])
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(summary) + 1.2))
    ax.barh(summary.index, summary["mean"], xerr=half, color="#4c72b0")
    ax.set_xlabel("revenue per session (mean over seeds, 95% CI)")
    ax.set_title(env)
    fig.tight_layout()
    names.append(f"{safe}_revenue.png")
    fig.savefig(out / names[-1], dpi=110)
    plt.close(fig)

    curves = rows[rows["curve"].map(lambda c: len(json.loads(c)) > 0)]
    if len(curves):
        fig, ax = plt.subplots(figsize=(7, 4))
        for agent, group in curves.groupby("agent"):
            points = pd.DataFrame(
                [p for c in group["curve"] for p in json.loads(c)], columns=["steps", "revenue"]
            )
            mean = points.groupby("steps")["revenue"].mean()
            ax.plot(mean.index, mean.to_numpy(), marker="o", label=agent)
        pair = references_of(set(rows["agent"])) or REFERENCES
        for ref, style in zip(pair, (":", "--"), strict=True):
            level = rows.loc[rows["agent"] == ref, "revenue_per_session"]
            if len(level):
                ax.axhline(level.mean(), linestyle=style, color="grey", label=f"{ref} (final)")
        ax.set_xlabel("training environment steps")
        ax.set_ylabel("revenue per evaluation session")
        ax.set_title(f"{env}: learning curves (mean over seeds)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        names.append(f"{safe}_curves.png")
        fig.savefig(out / names[-1], dpi=110)
        plt.close(fig)
    return names


COMPACT = (
    "agent",
    "incremental_basket_value",
    "basket_value",
    "revenue_per_session",
    "ctr",
    "conversion",
    "basket_size",
    "normalised_score",
    "vs_best_baseline",
)


def compact(table: pd.DataFrame) -> str:
    """A terminal-sized text table per environment: the main metrics, mean ± CI."""
    out = []
    for env in sorted(table["env"].unique()):
        frame = summary_table(table, env)
        frame = frame[[c for c in COMPACT if c in frame.columns]]
        text = frame.map(_fmt).to_string(index=False)
        out += [f"{env} (mean over {table['seed'].nunique()} seeds ± 95% CI)", text, ""]
    return "\n".join(out)


def write_report(results: str | Path, out: str | Path, command: str | None = None) -> Path:
    """Write ``index.md`` and plots for a results table; returns the markdown path."""
    results, out = Path(results), Path(out)
    if not results.exists():
        raise FileNotFoundError(f"{results}: no results table (run `cartgym bench` first)")
    table = pd.read_parquet(results)
    if table.empty:
        raise ValueError(f"{results}: the results table is empty")
    out.mkdir(parents=True, exist_ok=True)
    config = results.parent / "config.json"
    # the command that rewrites this report in place: `cartgym bench --report` passes none
    made_by = command or f"cartgym report {results} --out {out}"
    lines = [
        f"# Benchmark results: {table['config'].iloc[0]}",
        "",
        "<!-- generated by cartgym report; do not edit -->",
        "",
        f"Command: `{made_by}`",
        "",
        f"cartgym {__version__}, Python {platform.python_version()}, "
        f"{platform.machine()} with {os.cpu_count()} CPUs; torch with one thread per worker. "
        f"Packages when the report was written: {_versions()}.",
        "",
        "Each cell: mean over seeds ± half-width of the 95% t interval. Normalised score = "
        "(agent - random) / (oracle-myopic - random), seed by seed (on bundle environments "
        "bundle_random and bundle_oracle_myopic). `vs_best_baseline`: difference in revenue "
        "per session against the best non-oracle baseline [95% interval], paired session by "
        "session on CartRec-v1 (the same shoppers) and t over seeds; 'beats' only when "
        "p < 0.05, else 'ties'. `incremental_basket_value`: on CartRec-v1, basket value minus "
        "that of each session's twin (the same shopper shown nothing); on CartRec-v0, minus "
        "the no-recommendation control's on the same seeds. `items_per_recommendation` (items "
        "taken per step) and `discount_cost` (revenue given up per session) are shown where "
        "they differ from `ctr` and 0.",
    ]
    if config.exists():
        lines += ["", _completeness(table, config)]
        lines += ["", "Config:", "", "```json", config.read_text().strip(), "```"]
    for env in sorted(table["env"].unique()):
        frame = summary_table(table, env)
        lines += ["", f"## {env}", "", markdown(frame), ""]
        for name in plots(table, env, out):
            lines.append(f"![{name}]({name})")
        verdict = _verdict(table, env, frame)
        lines += ["", verdict]
        # the table alone, for other pages to include (docs/gen_pages.py)
        alone = [f"# {env}", "", "<!-- generated by cartgym report; do not edit -->", ""]
        alone += [f"Command: `{made_by}` (the whole report: index.md beside this file).", ""]
        alone += [markdown(frame), "", verdict]
        (out / f"{env.replace('/', '_')}_table.md").write_text("\n".join(alone) + "\n")
    path = out / "index.md"
    path.write_text("\n".join(lines) + "\n")
    return path


VERSIONED = ("gymnasium", "numpy", "torch", "stable-baselines3", "sb3-contrib")


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    def one(name: str) -> str:
        try:
            return f"{name} {version(name)}"
        except PackageNotFoundError:
            return f"{name} not installed"

    return ", ".join(one(name) for name in VERSIONED)


def _completeness(table: pd.DataFrame, config: Path) -> str:
    """How many of the sweep's runs the table holds; an unfinished sweep says so."""
    runs = BenchConfig.from_dict(json.loads(config.read_text())).runs()
    planned = {(run.agent, run.env.label, run.seed) for run in runs}
    held = {(a, e, int(s)) for a, e, s in table[["agent", "env", "seed"]].itertuples(index=False)}
    done = len(planned & held)
    if done == len(planned):
        return f"All {done} runs of the config are in the table."
    return (
        f"**Interim: {done} of {len(planned)} runs of the config are in the table** (the "
        "sweep is unfinished; `cartgym bench` with the same config and `--out` resumes it). "
        "Intervals are over the seeds each agent has so far."
    )


def _verdict(table: pd.DataFrame, env: str, frame: pd.DataFrame) -> str:
    """The three questions answered in words, from the paired comparisons."""
    rows = table[table["env"] == env]
    by_agent = frame.set_index("agent")
    lines = []
    if "incremental_basket_value" in by_agent and rows["incremental_basket_value"].notna().all():
        raise_value = [
            a
            for a, (m, h) in by_agent["incremental_basket_value"].items()
            if np.isfinite(h) and m - h > 0
        ]
        lower = [
            a
            for a, (m, h) in by_agent["incremental_basket_value"].items()
            if np.isfinite(h) and m + h < 0
        ]
        above, below = ", ".join(sorted(raise_value)), ", ".join(sorted(lower))
        lines.append(
            "Against each session's twin (the same shopper shown nothing), the 95% interval of "
            f"the incremental basket value is above 0 for: {above or 'none'}; below 0 for: "
            f"{below or 'none'}; the others include 0."
        )
    revenue = rows.groupby("agent")["revenue_per_session"].mean()
    rl = revenue[revenue.index.isin(RL_ALGORITHMS)]
    best_base = best_baseline(rows)
    if rl.empty or best_base is None:
        return "\n\n".join([*lines, "No RL agent in this sweep."])
    best_rl = str(rl.idxmax())
    versus = compare(rows[rows["agent"] == best_rl], rows[rows["agent"] == best_base])
    lines.append(
        f"Best RL agent: **{best_rl}** ({rl.max():.2f} revenue/session) **{versus.verdict}** "
        f"the best baseline **{best_base}** ({revenue[best_base]:.2f}): difference "
        f"{versus.difference:+.2f} [{versus.low:+.2f}, {versus.high:+.2f}], p={versus.p:.2g}, "
        f"paired by {versus.paired_by}."
    )
    oracle = next((o for o in ORACLES if o in revenue.index), None)
    if oracle is not None:
        gap = compare(rows[rows["agent"] == best_rl], rows[rows["agent"] == oracle])
        score = (
            by_agent["normalised_score"][best_rl]
            if "normalised_score" in by_agent
            else (np.nan, np.nan)
        )
        lines.append(
            f"Against the oracle-myopic reference **{oracle}** ({revenue[oracle]:.2f}), "
            f"{best_rl} {gap.verdict} it: difference {gap.difference:+.2f} "
            f"[{gap.low:+.2f}, {gap.high:+.2f}]; normalised score {_fmt(score)}."
        )
    return "\n\n".join(lines)
