"""Offline ranking metrics for recommenders, per user, with bootstrap confidence intervals.

Why a module of its own: a recommender's offline claim ("+15% accuracy") is a mean over users of a ranking
metric; it needs an interval (users differ a lot) and a clear definition before it can be compared with an
online result. Relevance is given as a users x items matrix (graded or 0/1), rankings as the items each
model puts in its top k.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from lifecycle_lab.base.errors import LifecycleLabError


class RankingInputError(LifecycleLabError, ValueError):
    """Rankings and relevance do not fit together (shapes, k, item ids)."""


def _check(ranked, relevance, k):
    ranked = np.asarray(ranked)
    rel = np.asarray(relevance, dtype=float)
    if ranked.ndim != 2 or rel.ndim != 2 or ranked.shape[0] != rel.shape[0]:
        raise RankingInputError(f"ranked must be users x positions and relevance users x items with the same "
                                f"number of users; got {ranked.shape} and {rel.shape}")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= ranked.shape[1]:
        raise RankingInputError(f"k={k!r} must be a whole number from 1 to {ranked.shape[1]} (the list length)")
    if ranked.size and (ranked.min() < 0 or ranked.max() >= rel.shape[1]):
        raise RankingInputError("ranked holds item ids outside 0..n_items-1")
    return ranked[:, :k].astype(int), rel


def precision_at_k(ranked, relevance, k: int = 10) -> np.ndarray:
    """Per user: share of the top k that is relevant (relevance > 0)."""
    top, rel = _check(ranked, relevance, k)
    return (np.take_along_axis(rel, top, axis=1) > 0).mean(axis=1)


def recall_at_k(ranked, relevance, k: int = 10) -> np.ndarray:
    """Per user: share of the user's relevant items found in the top k (NaN for users with none)."""
    top, rel = _check(ranked, relevance, k)
    hits = (np.take_along_axis(rel, top, axis=1) > 0).sum(axis=1)
    total = (rel > 0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, hits / np.maximum(total, 1), np.nan)


def hit_rate_at_k(ranked, relevance, k: int = 10) -> np.ndarray:
    """Per user: 1 if any of the top k is relevant."""
    top, rel = _check(ranked, relevance, k)
    return (np.take_along_axis(rel, top, axis=1) > 0).any(axis=1).astype(float)


def ndcg_at_k(ranked, relevance, k: int = 10) -> np.ndarray:
    """Per user: DCG@k / ideal DCG@k with gains = relevance and discount 1/log2(rank + 1), as scikit-learn.

    Why NDCG: it rewards putting the most relevant items first, not only having them in the list.
    Users with no relevant item get 0 (scikit-learn's convention).
    """
    top, rel = _check(ranked, relevance, k)
    disc = 1 / np.log2(np.arange(2, k + 2))
    dcg = (np.take_along_axis(rel, top, axis=1) * disc).sum(axis=1)
    ideal = (-np.sort(-rel, axis=1)[:, :k] * disc).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ideal > 0, dcg / np.where(ideal > 0, ideal, 1), 0.0)


def top_k(scores, k: int = 10) -> np.ndarray:
    """Item ids of each user's k highest scores, best first (ties broken by the lower item id)."""
    s = np.asarray(scores, dtype=float)
    if s.ndim != 2 or not 1 <= k <= s.shape[1]:
        raise RankingInputError(f"scores must be users x items and 1 <= k <= n_items; got {s.shape}, k={k}")
    part = np.argpartition(-s, k - 1, axis=1)[:, :k]
    order = np.lexsort((part, -np.take_along_axis(s, part, axis=1)), axis=1)
    return np.take_along_axis(part, order, axis=1)


def bootstrap_mean_ci(values, n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """(mean, lower, upper): percentile bootstrap over users. NaNs (users without a defined value) are dropped."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if v.size < 2:
        raise RankingInputError("need at least two users with a value to bootstrap")
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, size=(n_boot, v.size))].mean(axis=1)
    a = (1 - level) / 2
    lo, hi = np.quantile(means, [a, 1 - a])
    return float(v.mean()), float(lo), float(hi)


def paired_lift_ci(champion, challenger, n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> dict:
    """Relative lift of the challenger's mean metric over the champion's, bootstrapping the same users.

    Why paired: both models are scored on the same users, so resampling users jointly removes the
    between-user variance from the comparison and gives a much tighter interval than two separate ones.
    """
    a, b = np.asarray(champion, dtype=float), np.asarray(challenger, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or a.size < 2:
        raise RankingInputError("champion and challenger need one value per user, for the same users")
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    if a.mean() == 0:
        raise RankingInputError("the champion's mean is 0: a relative lift is undefined")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, a.size, size=(n_boot, a.size))
    lifts = b[idx].mean(axis=1) / a[idx].mean(axis=1) - 1
    q = (1 - level) / 2
    lo, hi = np.quantile(lifts, [q, 1 - q])
    return {"champion": float(a.mean()), "challenger": float(b.mean()), "lift": float(b.mean() / a.mean() - 1),
            "lower": float(lo), "upper": float(hi)}


METRICS: dict[str, Callable] = {"precision@k": precision_at_k, "recall@k": recall_at_k,
                                "hit_rate@k": hit_rate_at_k, "ndcg@k": ndcg_at_k}


def metric_table(rankings: dict, relevance, k: int = 10, n_boot: int = 500, seed: int = 0):
    """One row per (model, metric): mean over users with a bootstrap interval. For the offline report."""
    import pandas as pd

    rows = []
    for model, ranked in rankings.items():
        for name, fn in METRICS.items():
            mean, lo, hi = bootstrap_mean_ci(fn(ranked, relevance, k), n_boot=n_boot, seed=seed)
            rows.append({"model": model, "metric": name.replace("@k", f"@{k}"), "mean": mean, "lower": lo,
                         "upper": hi})
    return pd.DataFrame(rows)
