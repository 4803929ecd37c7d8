"""Position (slot) effects on clicks, estimated from Open Bandit Dataset (OBD) logs.

The position effect of slot ``k`` is the log-odds of a click in slot ``k`` minus that in slot 1
(the reference, 0), from a logistic regression of click on slot dummies. In a log whose
behaviour policy places items in slots uniformly at random, slot is randomised, so the
coefficients are causal. In any other log, weight each row by ``ipw_weights`` (the uniform
policy's probability of the item at that slot over the logged one). Needs ``statsmodels``
(``pip install statsmodels``), imported only when a model is fitted.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, stats

COLUMNS = ("item_id", "position", "click", "propensity_score")
# The named default per slot (slot 1 first), in log-odds; chosen from the OBD small sample in
# docs/results/calibration/position_effects.md (no effect is detectable there, so 0).
DEFAULT_POSITION_EFFECT: tuple[float, ...] = (0.0, 0.0, 0.0)


def read_obd_log(path: str | Path, n_slots: int = 3) -> pd.DataFrame:
    """The ``COLUMNS`` of an OBD-format CSV (may be gzipped), validated.

    Raises ValueError naming the file, the column and what was expected when a column is
    missing, non-numeric or empty, item_id is not a non-negative integer, position is not an
    integer in 1..n_slots, click is not 0/1, or propensity_score is not in (0, 1].
    """
    header = pd.read_csv(path, nrows=0).columns
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; expected all of {list(COLUMNS)}")
    raw = pd.read_csv(path, usecols=list(COLUMNS))
    if raw.empty:
        raise ValueError(f"{path}: no rows; expected at least one impression")
    rules = {
        "item_id": (lambda v: (v >= 0) & (v == np.floor(v)), "integers >= 0"),
        "position": (lambda v: (v >= 1) & (v <= n_slots) & (v == np.floor(v)), f"1..{n_slots}"),
        "click": (lambda v: (v == 0) | (v == 1), "0 or 1"),
        "propensity_score": (lambda v: (v > 0) & (v <= 1), "numbers in (0, 1]"),
    }
    log = pd.DataFrame(index=raw.index)
    for column, (valid, expected) in rules.items():
        values = pd.to_numeric(raw[column], errors="coerce").to_numpy(float)
        bad = np.flatnonzero(~(np.isfinite(values) & valid(values)))
        if bad.size:
            first = raw[column].iloc[[bad[0]]].tolist()[0]
            raise ValueError(
                f"{path}: column {column!r} has {bad.size} bad value(s) (first {first!r} in data"
                f" row {bad[0] + 1}); expected {expected}"
            )
        log[column] = values.astype(float if column == "propensity_score" else np.int64)
    return log


def wilson_interval(clicks: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (``clicks`` of ``n``; may be fractional)."""
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = clicks / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(centre - half, 0.0)), float(min(centre + half, 1.0))


def ipw_weights(log: pd.DataFrame, n_items: int) -> np.ndarray:
    """Weights that turn ``log`` into the uniform-random policy: (1/n_items)/propensity, mean 1."""
    w = (1.0 / n_items) / log["propensity_score"].to_numpy(float)
    return w / w.mean()


@dataclass(frozen=True)
class SlotEffect:
    """One slot: counts, CTR (Wilson CI) and its log-odds vs slot 1 (0 for slot 1 itself).

    ``ci`` is the Wald interval from ``se``; ``profile_ci`` (profile likelihood) and
    ``exact_ci`` (conditional exact, Fisher) are given only for unweighted fits without strata.
    With weights, ``effective_n`` is Kish's (sum w)^2/sum w^2 and the CTR interval uses it.
    """

    slot: int
    impressions: int
    clicks: int
    effective_n: float
    ctr: float
    ctr_ci: tuple[float, float]
    log_odds: float
    se: float
    ci: tuple[float, float]
    profile_ci: tuple[float, float] | None = None
    exact_ci: tuple[float, float] | None = None


@dataclass(frozen=True)
class PositionFit:
    """A fitted position model: what was fitted and one ``SlotEffect`` per slot (slot 1 first)."""

    method: str
    n_slots: int
    impressions: int
    clicks: int
    items: int
    level: float
    slots: tuple[SlotEffect, ...]

    @property
    def log_odds(self) -> tuple[float, ...]:
        return tuple(s.log_odds for s in self.slots)


def _statsmodels():
    try:
        import statsmodels.api as sm
    except ImportError as error:
        raise ImportError("position effects need statsmodels: pip install statsmodels") from error
    return sm


def _profile_ci(c1, n1, cj, nj, est: float, z: float) -> tuple[float, float]:
    """Profile-likelihood CI of slot j vs slot 1 from their binomial counts (slot dummies are
    saturated, so no other slot enters the profile of this coefficient)."""

    def loglik(b: float) -> float:
        def neg(a: float) -> float:
            return nj * np.logaddexp(0, a + b) + n1 * np.logaddexp(0, a) - c1 * a - cj * (a + b)

        return -optimize.minimize_scalar(neg, bounds=(-30, 30), method="bounded").fun

    cut = loglik(est) - z * z / 2
    lo = optimize.brentq(lambda b: loglik(b) - cut, est - 20, est, xtol=1e-7)
    return float(lo), float(optimize.brentq(lambda b: loglik(b) - cut, est, est + 20, xtol=1e-7))


def fit_positions(
    log: pd.DataFrame,
    n_slots: int = 3,
    weights: np.ndarray | None = None,
    strata: str | None = None,
    level: float = 0.95,
    cov_type: str = "HC1",
) -> PositionFit:
    """Logistic regression of click on slot dummies (slot 1 the reference), robust SEs.

    Unweighted it is statsmodels ``Logit``; ``weights`` (e.g. ``ipw_weights``) fit a binomial
    GLM with those ``var_weights`` and a sandwich covariance. ``strata`` names a column whose
    levels get their own intercept (e.g. the source log when pooling); slot effects are shared.
    Raises ValueError if a slot has no clicks or only clicks (its log-odds is not estimable).
    """
    sm = _statsmodels()
    pos, y = log["position"].to_numpy(), log["click"].to_numpy(float)
    counts = [(y[pos == k].sum(), (pos == k).sum()) for k in range(1, n_slots + 1)]
    for k, (c, n) in enumerate(counts, 1):
        if not 0 < c < n:
            raise ValueError(f"slot {k} has {c:g} clicks in {n} impressions; need 0 < clicks < n")
    X = np.column_stack([np.ones(len(y))] + [pos == k for k in range(2, n_slots + 1)])
    if strata is not None:
        levels = pd.get_dummies(log[strata], drop_first=True, dtype=float).to_numpy()
        X = np.column_stack([X, levels])
    if weights is None:
        w, result = np.ones(len(y)), sm.Logit(y, X.astype(float)).fit(disp=0, cov_type=cov_type)
    else:
        w = np.asarray(weights, float)
        glm = sm.GLM(y, X.astype(float), family=sm.families.Binomial(), var_weights=w)
        result = glm.fit(cov_type=cov_type)
    z = float(stats.norm.ppf(0.5 + level / 2))
    params, bse = np.asarray(result.params), np.asarray(result.bse)
    slots = []
    for k, (c, n) in enumerate(counts, 1):
        wk, yk = w[pos == k], y[pos == k]
        ess, ctr = float(wk.sum() ** 2 / (wk**2).sum()), float((wk * yk).sum() / wk.sum())
        beta, se = (float(params[k - 1]), float(bse[k - 1])) if k > 1 else (0.0, 0.0)
        prof = exact = None
        if k > 1 and weights is None and strata is None:
            (c1, n1) = counts[0]
            prof = _profile_ci(c1, n1, c, n, beta, z)
            table = np.array([[c, n - c], [c1, n1 - c1]], dtype=int)
            odds = stats.contingency.odds_ratio(table, kind="conditional")
            low, high = odds.confidence_interval(level)
            exact = (float(np.log(low)), float(np.log(high)))
        ci, ctr_ci = (beta - z * se, beta + z * se), wilson_interval(ctr * ess, ess, level)
        slots.append(SlotEffect(k, int(n), int(c), ess, ctr, ctr_ci, beta, se, ci, prof, exact))
    kind = "Logit" if weights is None else "weighted binomial GLM"
    method = f"{kind}, click ~ slot dummies{f' + {strata} intercepts' if strata else ''}"
    items = int(log["item_id"].nunique())
    return PositionFit(
        f"{method}, {cov_type} SEs", n_slots, len(y), int(y.sum()), items, level, tuple(slots)
    )


def fit_positions_within_items(log: pd.DataFrame, n_slots: int = 3, level: float = 0.95):
    """Slot effects with item fixed effects, by conditional logit (items as strata).

    Items never clicked carry no within-item information and drop out; statsmodels recurses
    over each item's rows, so items need at most a few hundred rows each. Returns a list of
    ``(log_odds, se, ci)`` for slots 2..K (model-based SEs) and the number of items kept.
    """
    _statsmodels()
    from statsmodels.discrete.conditional_models import ConditionalLogit

    pos, items = log["position"].to_numpy(), log["item_id"].to_numpy()
    X = np.column_stack([pos == k for k in range(2, n_slots + 1)]).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "dropped groups with no within-group variance"
        result = ConditionalLogit(log["click"].to_numpy(float), X, groups=items).fit(disp=0)
    z = float(stats.norm.ppf(0.5 + level / 2))
    rows = [
        (float(b), float(s), (float(b - z * s), float(b + z * s)))
        for b, s in zip(result.params, result.bse, strict=True)
    ]
    return rows, int(log.loc[log["click"] > 0, "item_id"].nunique())


def shrink(fit: PositionFit) -> tuple[float, ...]:
    """Empirical-Bayes normal shrinkage of the slot effects toward 0 (slot 1 stays 0).

    Prior N(0, tau^2) with tau^2 = max(0, mean(beta^2 - se^2)) over slots 2..K (method of
    moments); each effect becomes beta * tau^2 / (tau^2 + se^2). When the effects are no bigger
    than their noise, tau^2 = 0 and every slot shrinks to exactly 0.
    """
    rest = fit.slots[1:]
    tau2 = max(0.0, float(np.mean([s.log_odds**2 - s.se**2 for s in rest])))
    return (0.0, *(float(s.log_odds * tau2 / (tau2 + s.se**2)) for s in rest))
