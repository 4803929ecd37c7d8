"""Fuzzers shared by the tests (few examples) and benchmarks/reliability.py (many).

Each ``fuzz_*`` function runs ``n`` generated cases with a fixed hypothesis seed, checks
every case and returns a tally of outcomes; a case that breaks a rule raises
AssertionError naming the case.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections import Counter
from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
from gymnasium.error import ResetNeeded
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

import cartgym  # noqa: F401
from cartgym.data import DataError, load_transactions, validate
from cartgym.envs.observation import CANDIDATE_FEATURES

COLUMNS = ["user", "basket", "item", "qty", "price", "time"]
MAPPING = {
    "user_col": "user",
    "basket_col": "basket",
    "item_col": "item",
    "quantity_col": "qty",
    "price_col": "price",
    "timestamp_col": "time",
}
IDS = st.sampled_from(
    [
        "a",
        "b",
        "00123",
        "17850.0",
        "17850",
        " z ",
        "é",
        "日本",
        "",
        "NA",
        "nan",
        "1e3",
        "None",
        "'x'",
        '"q"',
        "a,b",
        "\t",
    ]
)
# Good values are listed many times: most rows are well formed, so that both outcomes
# (a table that loads with counted drops, and a DataError) are exercised.
NUMBERS = st.sampled_from(
    ["1", "2", "3.0", " 2 "] * 25
    + [
        "0",
        "-1",
        "",
        "NaN",
        "1.5",
        "abc",
        "inf",
        "-inf",
        "1e308",
        "1e400",
        "99999999999999999999",
        "0x10",
        "1,5",
        "true",
    ]
)
TIMES = st.sampled_from(
    ["2020-01-01", "2020-01-01 10:00:00", "2020-01-02"] * 20
    + ["", "soon", "2020-13-45", "0", "1e10", "2020-01-02T03:04:05Z"]
)


@st.composite
def messy_table(draw: st.DrawFn) -> tuple[bytes, dict[str, str], str]:
    """(file bytes, column mapping, kind of mutation) of a small malformed transactions CSV."""
    n = draw(st.integers(0, 14))
    rows = [
        [draw(IDS), draw(IDS), draw(IDS), draw(NUMBERS), draw(NUMBERS), draw(TIMES)]
        for _ in range(n)
    ]
    if rows and draw(st.booleans()):  # mostly one user per basket, so that some tables load
        for r in rows:
            r[0] = "u" + r[1]
    header = list(COLUMNS)
    mapping = dict(MAPPING)
    mutation = draw(
        st.sampled_from(
            [
                "none",
                "missing column",
                "renamed column",
                "duplicated column",
                "duplicated rows",
                "unsorted",
                "undecodable bytes",
                "header only",
                "empty file",
                "one row",
                "blank lines",
            ]
        )
    )
    if mutation == "missing column":
        drop = draw(st.integers(0, len(header) - 1))
        header.pop(drop)
        rows = [r[:drop] + r[drop + 1 :] for r in rows]
    elif mutation == "renamed column":
        header[draw(st.integers(0, len(header) - 1))] += "_x"
    elif mutation == "duplicated column":
        k = draw(st.integers(0, len(header) - 1))
        header.append(header[k])
        rows = [[*r, r[k]] for r in rows]
    elif mutation == "duplicated rows" and rows:
        rows = rows + rows[: draw(st.integers(1, len(rows)))]
    elif mutation == "unsorted":
        rows = rows[::-1]
    elif mutation == "one row":
        rows = rows[:1]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if mutation != "empty file":
        writer.writerow(header)
        if mutation != "header only":
            writer.writerows(rows)
    data = out.getvalue().encode()
    if mutation == "undecodable bytes":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + b"\xff\xfe\x80" + data[at:]
    if mutation == "blank lines":
        data = data.replace(b"\n", b"\n\n")
    return data, mapping, mutation


COLUMN_MUTATIONS = ("missing column", "renamed column", "duplicated column")
# found before any column is looked up: a header-only table is refused as such
FILE_LEVEL = ("file is empty", "no data rows")


def check_loader_case(
    data: bytes, mapping: dict[str, str], strict: bool, as_frame: bool, mutation: str = "none"
) -> str:
    """Load one case; returns "loaded" or "data error naming " + where the error points
    ("row and column", "column", "row" or "the file only"); raises AssertionError otherwise.

    An error must name the file; one it blames on a column must name a column of the
    mapping, and on a row a line of the file (or a label of the DataFrame); a table with
    data rows whose columns were mangled must be refused naming the column."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.csv"
        path.write_bytes(data)
        source: Path | pd.DataFrame = path
        if as_frame:
            try:
                source = pd.read_csv(path, dtype=str, keep_default_na=False)
            except Exception:  # not a table pandas can read: the file path is fuzzed instead
                source = path
        try:
            result = load_transactions(source, strict=strict, **mapping)
        except DataError as error:
            message = str(error)
            assert message.startswith(("fuzz.csv", "<DataFrame>")), message
            if error.column is not None:
                assert error.column in mapping.values(), message
            if error.row is not None and isinstance(source, pd.DataFrame):
                assert error.row in source.index, message
            elif error.row is not None:
                assert 1 <= int(error.row) <= data.count(b"\n") + 1, message
            if mutation in COLUMN_MUTATIONS and error.detail not in FILE_LEVEL:
                assert error.column is not None, f"{mutation}: {message}"
            parts = (("row", error.row), ("column", error.column))
            named = [name for name, part in parts if part is not None]
            return "data error naming " + (" and ".join(named) or "the file only")
        except Exception as error:  # anything else is a bug: name the case
            raise AssertionError(f"{type(error).__name__}: {error} on {data[:200]!r}") from error
    report = result.report
    assert report.rows_in == report.rows_out + sum(report.drops.values()) + report.merged
    assert report.rows_out == len(result.table)
    validate(result.table)
    return "loaded"


def fuzz_loader(n: int, hypothesis_seed: int = 0) -> Counter:
    tally: Counter = Counter()

    @seed(hypothesis_seed)
    @settings(max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=messy_table(), strict=st.booleans(), as_frame=st.booleans())
    def run(case, strict, as_frame):
        data, mapping, mutation = case
        outcome = check_loader_case(data, mapping, strict, as_frame, mutation)
        tally["loaded" if outcome == "loaded" else "data error"] += 1
        if outcome != "loaded":
            tally[outcome] += 1
        tally[f"mutation: {mutation}"] += 1

    run()
    tally["cases"] = tally["loaded"] + tally["data error"]
    return tally


def fuzz_env(env_id: str, n: int, hypothesis_seed: int = 0, n_items: int = 30) -> Counter:
    """Random and adversarial action sequences on one id, single and vector; invalid actions
    must raise ValueError (or ResetNeeded) and valid ones keep every invariant."""
    tally: Counter = Counter()
    single = gym.make(env_id, n_items=n_items)
    vector = gym.make_vec(
        env_id, num_envs=3, vectorization_mode="vector_entry_point", n_items=n_items
    )
    bad = [-1, 10**9, 2.5, "1", None, True, [], [[1]], np.array([1.0]), float("nan"), {"a": 1}]

    @seed(hypothesis_seed)
    @settings(max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(
        episode_seed=st.integers(0, 2**31 - 1),
        picks=st.lists(st.integers(0, 10**6), min_size=1, max_size=80),
        masked_share=st.floats(0, 1),
        bad_index=st.integers(0, 10),
    )
    def run(episode_seed, picks, masked_share, bad_index):
        for env, batched in ((single, False), (vector, True)):
            core = env.unwrapped
            obs, _ = env.reset(seed=episode_seed)
            for pick in picks:
                action = _action(env, core, pick, masked_share, batched)
                obs, reward, terminated, truncated, info = env.step(action)
                tally["steps"] += 1
                batch = np.atleast_2d(obs)
                space = getattr(env, "single_observation_space", env.observation_space)
                assert np.isfinite(batch).all() and np.isfinite(reward).all()
                assert all(space.contains(row) for row in batch)
                cart = np.atleast_2d(core.sessions.in_cart())  # not CartRec-v1's twins
                assert np.array_equal(batch[:, : core.layout.n_items] > 0.5, cart)
                assert np.array_equal(np.atleast_1d(info["cart_size"]), cart.sum(axis=1))
                masks = np.atleast_2d(core.action_masks())
                assert np.array_equal(masks, _masks_from_observation(core, batch))
                tally["masks checked against the cart"] += len(masks)
                assert np.all(core.sim.steps <= 100)
                if not batched and (terminated or truncated):
                    tally["episodes"] += 1
                    if terminated:
                        try:
                            core.step(action)
                            raise AssertionError("stepping a finished episode did not raise")
                        except ResetNeeded:
                            tally["refused after termination"] += 1
                    env.reset()
            try:
                env.step(bad[bad_index])
                raise AssertionError(f"invalid action {bad[bad_index]!r} was accepted")
            except ValueError:
                tally["invalid actions refused"] += 1
        tally["sequences"] += 1

    run()
    return tally


def _masks_from_observation(core, batch: np.ndarray) -> np.ndarray:
    """What the masks must be, read off the observation alone: items outside the cart
    (per slate position), or, for bundles, the candidates none of whose items (decoded
    from the candidate block) is in the cart."""
    n_items = core.layout.n_items
    cart = batch[:, :n_items] > 0.5
    nothing = np.ones((len(batch), core.sessions.nothing), dtype=bool)  # v1: show nothing
    block = getattr(core.sessions, "candidate_block", None)
    if block is None:
        space = getattr(core, "single_action_space", core.action_space)
        per_slot = np.concatenate([~cart, nothing], axis=1)
        return np.tile(per_slot, (1, len(getattr(space, "nvec", [0]))))
    candidates = batch[:, block].reshape(len(batch), -1, len(CANDIDATE_FEATURES))
    columns = [CANDIDATE_FEATURES.index(f"item_{k}") for k in (1, 2, 3)]
    items = np.rint(candidates[..., columns] * n_items).astype(int) - 1  # -1: no item
    rows = np.arange(len(batch))[:, None, None]
    taken = (items >= 0) & cart[rows, np.maximum(items, 0)]
    return np.concatenate([~taken.any(axis=2), nothing], axis=1)


def _action(env, core, pick: int, masked_share: float, batched: bool):
    space = getattr(env, "single_action_space", env.action_space)
    masks = np.atleast_2d(core.action_masks())
    if hasattr(space, "nvec"):
        k, m = len(space.nvec), int(space.nvec[0])
        slate = np.array([(pick * (j + 7) + j) % m for j in range(k)])
        return np.tile(slate, (len(masks), 1)) if batched else slate
    actions = []
    for mask in masks:
        pool = np.flatnonzero(~mask if (pick % 100) < masked_share * 100 else mask)
        pool = pool if len(pool) else np.arange(space.n)
        actions.append(int(pool[pick % len(pool)]))
    return np.array(actions) if batched else actions[0]
