"""Next-basket recommendation (NBR) evaluation of rankers, the shopper model among them.

Protocol (Li et al., "A Next Basket Recommendation Reality Check", TOIS 2023): a user's
last basket is the target, the earlier ones are the history. Each ranker returns, per
user, up to ``k`` distinct items; with binary gains,

* Recall@k = |top-k ∩ target| / |target|;
* NDCG@k = sum over hits at rank r (from 1) of 1 / log2(r + 1), divided by the ideal
  sum over all |target| ranks (not capped at k);
* PHR@k = 1 if top-k holds at least one target item (personal hit ratio);

each averaged over users. Baselines: G-TopFreq (items by the number of history baskets,
over all users, holding them), P-TopFreq (the user's history items by count, not padded;
ties as in the upstream code: the item bought first comes first, or by global count when
the order of purchases is unknown) and GP-TopFreq (P-TopFreq padded with G-TopFreq).
The shopper model ranks items by its static utility (taste, history, popularity and
price; empty cart), see :func:`shopper_ranker`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from cartgym.calibrate.fit import BasketLog
from cartgym.sim.choice import ChoiceModel
from cartgym.stats import mean_ci
from cartgym.world import ShopperWorld

Ranker = Callable[["NextBasketTask", int], np.ndarray]
BASELINES = ("G-TopFreq", "P-TopFreq", "GP-TopFreq")
SHOPPER_MODEL = "shopper model"
CHUNK = 1024


@dataclass(frozen=True)
class NextBasketTask:
    """Evaluated users' histories and targets over items ``0 .. M-1``.

    history: (U, M) number of the user's history baskets holding the item.
    target: (U, M) 1 for the items of the target basket.
    popularity: (M,) history baskets holding the item, over *all* users of the data
        (also those not evaluated), as G-TopFreq counts them.
    first_seen: (U, M) order (from 1) in which the user first bought each history item,
        or None when unknown; breaks P-TopFreq's ties as the upstream code does.
    """

    item_ids: np.ndarray
    user_ids: np.ndarray
    history: sp.csr_matrix
    target: sp.csr_matrix
    popularity: np.ndarray
    first_seen: sp.csr_matrix | None = None
    skipped: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        u, m = len(self.user_ids), len(self.item_ids)
        for name in ("history", "target", "first_seen"):
            matrix = getattr(self, name)
            if matrix is not None and matrix.shape != (u, m):
                raise ValueError(f"{name} has shape {getattr(self, name).shape}, expected {(u, m)}")
        if self.popularity.shape != (m,):
            raise ValueError(f"popularity has shape {self.popularity.shape}, expected {(m,)}")
        if u and (np.diff(self.target.indptr) == 0).any():
            raise ValueError("every evaluated user needs a nonempty target basket")

    @property
    def n_users(self) -> int:
        return len(self.user_ids)


def task_from_sequences(
    sequences: Mapping[str, Sequence[Sequence[object]]],
    users: Sequence[str] | None = None,
) -> NextBasketTask:
    """Each user's last basket is the target, the earlier ones the history.

    ``sequences`` maps a user id to baskets in time order, each a list of item ids (empty
    baskets are ignored). G-TopFreq counts the history baskets of every user in
    ``sequences`` (a user with one basket has none); only ``users`` (default: all) are
    evaluated. Evaluated users with fewer
    than two baskets, and ``users`` absent from ``sequences``, are skipped and counted.
    """
    items: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    firsts: list[int] = []
    targets: list[list[int]] = []
    owners: list[str] = []
    short: set[str] = set()
    for user, baskets in sequences.items():
        coded = [
            list(dict.fromkeys(items.setdefault(str(i), len(items)) for i in b)) for b in baskets
        ]
        coded = [b for b in coded if b]
        if len(coded) < 2:
            short.add(str(user))
            continue
        seen: dict[int, int] = {}
        for basket in coded[:-1]:
            rows.extend([len(targets)] * len(basket))
            cols.extend(basket)
            for item in basket:
                seen.setdefault(item, len(seen) + 1)
        firsts.extend(seen[c] for c in cols[len(firsts) :])
        targets.append(sorted(coded[-1]))
        owners.append(str(user))
    m = len(items)
    where = (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64))
    counts = sp.csr_matrix((np.ones(len(rows)), where), shape=(len(targets), m))
    counts.sum_duplicates()
    first = sp.csr_matrix((np.asarray(firsts, dtype=np.float64), where), shape=(len(targets), m))
    first.sum_duplicates()  # each (user, item) entry holds its first order once per basket
    first.data = first.data / counts.data  # every duplicate carried the same first order
    popularity = np.asarray(counts.sum(axis=0), dtype=np.float64).ravel()
    wanted = [str(u) for u in (sequences if users is None else users)]
    at = {u: i for i, u in enumerate(owners)}
    keep = np.array([at[u] for u in wanted if u in at], dtype=np.int64)
    skipped = {
        "users with fewer than 2 baskets": sum(u in short for u in wanted),
        "users not in the data": sum(u not in at and u not in short for u in wanted),
    }
    return NextBasketTask(
        item_ids=np.array(list(items), dtype=str),
        user_ids=np.array(owners, dtype=str)[keep],
        history=counts[keep],
        target=_binary_rows(targets, m)[keep],
        popularity=popularity,
        first_seen=first[keep],
        skipped={reason: n for reason, n in skipped.items() if n},
    )


def g_topfreq(task: NextBasketTask, k: int) -> np.ndarray:
    """Every user gets the ``k`` items held by the most history baskets."""
    top = _global_order(task)[:k]
    return np.broadcast_to(_pad(top, k), (task.n_users, k)).copy()


def p_topfreq(task: NextBasketTask, k: int) -> np.ndarray:
    """The user's own history items by count, not padded (-1 fills the list).

    Ties: the item bought first comes first (the upstream code's order) if the task knows
    the order of purchases, else the item with the higher global count, then item order.
    """
    return _rank_chunks(task, k, lambda rows: _personal_scores(task, rows), keep_positive=True)


def gp_topfreq(task: NextBasketTask, k: int) -> np.ndarray:
    """P-TopFreq filled up with G-TopFreq items not already in the list."""
    m = len(task.item_ids)
    fill = np.empty(m)
    fill[_global_order(task)] = np.arange(m, 0, -1)  # 1..M, higher = more popular

    def scores(rows: slice) -> np.ndarray:
        personal = _personal_scores(task, rows)
        return np.where(personal > 0, personal + m + 1, fill[None, :])

    return _rank_chunks(task, k, scores, keep_positive=True)


def shopper_ranker(world: ShopperWorld) -> Ranker:
    """Rank the world's catalogue by the fitted choice model's static utility.

    For each user: taste from the world (the population's mean taste for a user the world
    does not know), history feature log1p(count) from the task's history baskets, plus
    popularity and price, with an empty cart (no complement term), through the
    simulator's own :meth:`ChoiceModel.static_utilities`. Items outside the catalogue are
    never ranked.
    """
    model = ChoiceModel(world)
    catalogue = {item: i for i, item in enumerate(world.item_ids.tolist())}
    known = {user: i for i, user in enumerate(world.user_ids.tolist())}

    def rank(task: NextBasketTask, k: int) -> np.ndarray:
        task_col = np.array([catalogue.get(str(i), -1) for i in task.item_ids], dtype=np.int64)
        in_cat = np.flatnonzero(task_col >= 0)
        to_task = np.full(world.n_items, -1, dtype=np.int64)
        to_task[task_col[in_cat]] = in_cat
        users = np.array([known.get(str(u), -1) for u in task.user_ids], dtype=np.int64)
        out = np.full((task.n_users, k), -1, dtype=np.int64)
        for start in range(0, task.n_users, CHUNK):
            rows = slice(start, start + CHUNK)
            u = users[rows]
            tastes = np.where(
                (u >= 0)[:, None], world.user_factors[np.maximum(u, 0)], world.taste_mean
            )
            history = np.zeros((len(u), world.n_items), dtype=np.float32)
            part = task.history[rows][:, in_cat].toarray()
            history[:, task_col[in_cat]] = np.log1p(part)
            static = model.static_utilities(tastes.astype(np.float32), history)
            top = _top_k(static.astype(np.float64), min(k, world.n_items))
            out[rows, : top.shape[1]] = to_task[top]
        return out

    return rank


def next_basket_scores(
    rankings: np.ndarray, target: sp.csr_matrix, ks: Sequence[int] = (10, 20)
) -> dict[str, float]:
    """Recall@k, NDCG@k and PHR@k (means over users) of (U, K) rankings, -1 = no item."""
    return {name: float(v.mean()) for name, v in per_user_scores(rankings, target, ks).items()}


def per_user_scores(
    rankings: np.ndarray, target: sp.csr_matrix, ks: Sequence[int] = (10, 20)
) -> dict[str, np.ndarray]:
    """Recall@k, NDCG@k and PHR@k of each user (arrays of length U)."""
    rankings = np.asarray(rankings, dtype=np.int64)
    target = sp.csr_matrix(target)
    if rankings.shape[0] != target.shape[0]:
        raise ValueError(f"{rankings.shape[0]} rankings for {target.shape[0]} targets")
    if rankings.shape[0] == 0:
        raise ValueError("no users to evaluate")
    if max(ks) > rankings.shape[1]:
        raise ValueError(f"k = {max(ks)} needs rankings of length >= {max(ks)}")
    for row in rankings:
        listed = row[row >= 0]
        if len(np.unique(listed)) != len(listed):
            raise ValueError("a ranking lists an item twice")
    sizes = np.diff(target.indptr)
    m = target.shape[1]
    keys = np.repeat(np.arange(target.shape[0]), sizes) * m + target.indices
    keys.sort()
    query = np.arange(rankings.shape[0])[:, None] * m + rankings
    at = np.minimum(np.searchsorted(keys, query), max(len(keys) - 1, 0))
    hits = (rankings >= 0) & (keys[at] == query) if len(keys) else np.zeros(rankings.shape, bool)
    discount = 1.0 / np.log2(np.arange(2, rankings.shape[1] + 2))
    ideal_cum = np.cumsum(1.0 / np.log2(np.arange(2, sizes.max() + 2)))
    ideal = ideal_cum[sizes - 1]
    scores = {}
    for k in ks:
        top = hits[:, :k]
        scores[f"Recall@{k}"] = top.sum(axis=1) / sizes
        scores[f"NDCG@{k}"] = (top * discount[:k]).sum(axis=1) / ideal
        scores[f"PHR@{k}"] = top.any(axis=1).astype(np.float64)
    return scores


@dataclass(frozen=True, eq=False)
class NextBasketResult:
    """Scores per method (method -> metric -> mean over users), the users counted, the
    users skipped (reason -> count) and the tie-break of P-TopFreq."""

    scores: dict[str, dict[str, float]]
    users: int
    skipped: dict[str, int]
    ties: str = "global count"
    per_user: dict[str, dict[str, np.ndarray]] = field(default_factory=dict, repr=False)

    def difference(self, a: str, b: str, metric: str) -> tuple[float, float, float]:
        """Mean of ``a - b`` over users for ``metric`` and its paired 95% t interval."""
        diff = self.per_user[a][metric] - self.per_user[b][metric]
        return mean_ci(diff)

    def table(self) -> str:
        """A markdown table, one row per method."""
        metrics = list(next(iter(self.scores.values())))
        lines = ["| method | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
        for method, row in self.scores.items():
            lines.append(f"| {method} | " + " | ".join(f"{row[m]:.4f}" for m in metrics) + " |")
        return "\n".join(lines)


def evaluate_next_basket(
    task: NextBasketTask,
    world: ShopperWorld | None = None,
    *,
    ks: Sequence[int] = (10, 20),
    rankers: Mapping[str, Ranker] | None = None,
) -> NextBasketResult:
    """Score the three baselines, the shopper model of ``world`` (if given) and ``rankers``."""
    if task.n_users == 0:
        raise ValueError(f"no user to evaluate (skipped: {task.skipped})")
    methods: dict[str, Ranker] = {"G-TopFreq": g_topfreq, "P-TopFreq": p_topfreq}
    methods["GP-TopFreq"] = gp_topfreq
    if world is not None:
        methods[SHOPPER_MODEL] = shopper_ranker(world)
    methods.update(rankers or {})
    k = max(ks)
    per_user = {
        name: per_user_scores(rank(task, k), task.target, ks) for name, rank in methods.items()
    }
    scores = {name: {m: float(v.mean()) for m, v in s.items()} for name, s in per_user.items()}
    ties = "first purchase" if task.first_seen is not None else "global count"
    return NextBasketResult(scores, task.n_users, dict(task.skipped), ties, per_user)


def _global_order(task: NextBasketTask) -> np.ndarray:
    return np.lexsort((np.arange(len(task.item_ids)), -task.popularity))


def _personal_scores(task: NextBasketTask, rows: slice) -> np.ndarray:
    """count + a tie-break in (0, 1) for history items (see :func:`p_topfreq`); 0 elsewhere."""
    m = len(task.item_ids)
    counts = task.history[rows].toarray()
    if task.first_seen is not None:
        order = task.first_seen[rows].toarray()
        tie = 1.0 - order / (order.max(initial=0.0) + 1.0)
    else:
        tie = np.empty((1, m))
        tie[0, _global_order(task)] = np.arange(m, 0, -1) / (m + 1)
    return np.where(counts > 0, counts + tie, 0.0)


def _rank_chunks(
    task: NextBasketTask, k: int, scores: Callable[[slice], np.ndarray], keep_positive: bool
) -> np.ndarray:
    out = np.full((task.n_users, k), -1, dtype=np.int64)
    for start in range(0, task.n_users, CHUNK):
        rows = slice(start, start + CHUNK)
        s = scores(rows)
        top = _top_k(s, min(k, s.shape[1]))
        if keep_positive:
            top = np.where(np.take_along_axis(s, top, axis=1) > 0, top, -1)
        out[rows, : top.shape[1]] = top
    return out


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """(rows, k) column indices of the largest scores, ties to the lower index."""
    if k <= 0:
        return np.zeros((scores.shape[0], 0), dtype=np.int64)
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k] if k < scores.shape[1] else None
    if part is None:
        return np.argsort(-scores, axis=1, kind="stable")[:, :k]
    # argpartition may cut inside a tie; re-rank the k-th value's ties by index.
    kth = np.take_along_axis(scores, part, axis=1).min(axis=1, keepdims=True)
    above = scores > kth
    tied = scores == kth
    n_above = above.sum(axis=1, keepdims=True)
    pick = above | (tied & (np.cumsum(tied, axis=1) <= k - n_above))
    cols = np.flatnonzero(pick.ravel()) % scores.shape[1]
    cols = cols.reshape(scores.shape[0], k)
    order = np.lexsort((cols, -np.take_along_axis(scores, cols, axis=1)), axis=1)
    return np.take_along_axis(cols, order, axis=1)


def _pad(items: np.ndarray, k: int) -> np.ndarray:
    return np.concatenate([items, np.full(k - len(items), -1, dtype=np.int64)])


def _binary_rows(rows: list[list[int]], m: int) -> sp.csr_matrix:
    indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
    indices = np.concatenate([np.asarray(r, dtype=np.int64) for r in rows] or [np.zeros(0, int)])
    return sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(rows), m))


def task_from_world(world: ShopperWorld, log: BasketLog, unknown_users: int = 0) -> NextBasketTask:
    """Held-out users known to ``world``: target = their first basket in ``log``, history =
    their baskets in the world's logs (counts recovered from ``world.history``).

    This is the last-basket protocol applied to each user's sequence cut after the first
    basket the world has not seen. ``log`` is a :class:`BasketLog` over the world's items
    and users (see :func:`cartgym.calibrate.fit.BasketLog.build`). G-TopFreq ranks by the
    world's popularity. The order of past purchases is unknown, so P-TopFreq's ties go to
    the globally more popular item. ``unknown_users`` (users with no history, so not
    evaluated) is recorded among the skipped.
    """
    rows = np.flatnonzero((log.ranks == 0) & (log.users >= 0))
    users = log.users[rows]
    counts = world.history[users].tocsr().astype(np.float64)
    counts.data = np.rint(np.expm1(counts.data))
    return NextBasketTask(
        item_ids=world.item_ids,
        user_ids=world.user_ids[users],
        history=counts,
        target=sp.csr_matrix(log.items[rows], dtype=np.float64),
        popularity=np.exp(world.popularity.astype(np.float64)),  # ~ baskets holding it + 1
        skipped={"held-out users unknown to the world": unknown_users} if unknown_users else {},
    )
