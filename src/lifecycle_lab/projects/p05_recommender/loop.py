"""The recommender in the loop: each day it shows slates, the world answers with clicks, and tomorrow's
model is trained on today's logs. Vectorised numpy: one day of a few thousand sessions is a handful of
array operations.

Policies (`POLICIES`), all scoring videos per user segment (a stated simplification: a segment-level model):
- `clicks_only`: daily batch retrain ranking by logged click counts, no exploration: the degenerate loop
  (what was shown gets clicked, what gets clicked is shown).
- `epsilon_greedy`: daily retrain on the logged CTR (clicks / impressions); each slot is replaced with
  probability epsilon by a random video from outside the greedy slate.
- `ips`: like epsilon_greedy, but each click is weighted by 1 / P(examined | position) (Joachims et al.
  2017), with the examination curve estimated from the explored slots (`estimate_examination`).
- `online`: the same exploration, a logistic model updated by `SGDClassifier.partial_fit` after every
  quarter of a day (position as a feature, dropped at serving), instead of a daily batch retrain.

Every day records the true CTR (from the world's click probabilities, no sampling noise), the logged CTR,
coverage, Gini of exposure, per-segment true CTR, the independent providers' exposure share, the share of
impressions on videos released during the period, and the regret against a segment-level oracle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lifecycle_lab.base.errors import LifecycleLabError
from lifecycle_lab.evaluation.offpolicy import coverage, gini
from lifecycle_lab.projects.p05_recommender.world import SEGMENTS, RecWorld

POLICIES = ("clicks_only", "epsilon_greedy", "ips", "online")
EXPLORING = ("epsilon_greedy", "ips", "online")
PRIOR_STRENGTH = 20.0  # pseudo-impressions pulling a cell's estimate toward the catalogue mean


class LoopError(LifecycleLabError, ValueError):
    """A loop setting is out of range (policy name, epsilon, window)."""


def check_policy(policy: str, epsilon: float) -> None:
    if policy not in POLICIES:
        raise LoopError(f"policy={policy!r} is not known: choose one of {list(POLICIES)}")
    if not 0.0 <= epsilon <= 0.5:
        raise LoopError(f"epsilon={epsilon} must lie in [0, 0.5]: the share of slots given to exploration")


@dataclass
class Logs:
    """Daily aggregates of what was logged: the training data of the next day's model."""
    n_seg: int
    n_items: int
    slate: int
    imps: list = field(default_factory=list)      # per day: impressions per (segment, item)
    clicks: list = field(default_factory=list)    # per day: clicks per (segment, item)
    wclicks: list = field(default_factory=list)   # per day: clicks per (position, segment, item)
    pos_imps: list = field(default_factory=list)  # per day: explored impressions per position
    pos_clicks: list = field(default_factory=list)
    pos_cell_imps: list = field(default_factory=list)  # per day: impressions per (position, segment, item)

    def window(self, name: str, days: int) -> np.ndarray:
        rows = getattr(self, name)[-days:]
        return np.sum(rows, axis=0) if rows else np.zeros((self.n_seg, self.n_items))


def _cells(segs, items, n_items, values, n_seg):
    return np.bincount((segs * n_items + items).ravel(), weights=np.asarray(values, float).ravel(),
                       minlength=n_seg * n_items).reshape(n_seg, n_items)


def estimate_examination(pos_clicks, pos_imps) -> np.ndarray:
    """P(examined | position) relative to position 1, from the explored slots: a random video has the same
    expected relevance at every position, so its click rate by position is the examination curve."""
    c, n = np.asarray(pos_clicks, float), np.asarray(pos_imps, float)
    rate = (c + 1.0) / (n + 10.0)
    curve = np.minimum.accumulate(rate / rate[0])  # examination does not rise further down the slate
    return np.clip(curve, 0.02, 1.0)


class OnlineModel:
    """A logistic model of P(click) on one-hot (segment, video) plus one-hot position, updated with
    `SGDClassifier.partial_fit` chunk by chunk; served without the position part."""

    def __init__(self, n_seg: int, n_items: int, slate: int, seed: int):
        from sklearn.linear_model import SGDClassifier

        self.n_cells, self.slate = n_seg * n_items, slate
        self.shape = (n_seg, n_items)
        self.sgd = SGDClassifier(loss="log_loss", alpha=1e-6, learning_rate="constant", eta0=0.05,
                                 random_state=seed)
        self.started = False

    def _x(self, cells, positions):
        from scipy.sparse import csr_matrix

        n = cells.size
        cols = np.column_stack([cells, self.n_cells + positions]).ravel()
        return csr_matrix((np.ones(2 * n), cols, np.arange(0, 2 * n + 1, 2)),
                          shape=(n, self.n_cells + self.slate))

    def partial_fit(self, cells, positions, clicks) -> None:
        self.sgd.partial_fit(self._x(cells, positions), clicks.astype(int), classes=[0, 1])
        self.started = True

    def scores(self) -> np.ndarray:
        if not self.started:
            return np.zeros(self.shape)
        return (self.sgd.coef_[0, :self.n_cells] + self.sgd.intercept_[0]).reshape(self.shape)


def scores_from_logs(policy: str, logs: Logs, window: int, examination=None) -> np.ndarray:
    """The daily batch model: a score per (segment, video) trained on the last `window` days of logs."""
    imps, clicks = logs.window("imps", window), logs.window("clicks", window)
    if policy == "clicks_only":
        return clicks + 1e-3 * imps  # ranks by logged clicks (ties by impressions)
    if policy == "ips":  # each click re-weighted by 1 / the current estimate of P(examined | position)
        clicks = _reweighted(logs, window, examination)
        prior = clicks.sum() / max(imps.sum(), 1.0)
        return (clicks + PRIOR_STRENGTH * prior) / (imps + PRIOR_STRENGTH)
    prior = clicks.sum() / max(imps.sum(), 1.0)
    return (clicks + PRIOR_STRENGTH * prior) / (imps + PRIOR_STRENGTH)


def _reweighted(logs: Logs, window: int, examination) -> np.ndarray:
    per_pos = np.sum(logs.wclicks[-window:], axis=0)  # (positions, n_seg, n_items)
    return np.tensordot(1.0 / np.asarray(examination), per_pos, axes=(0, 0))


@dataclass
class LoopRun:
    """One policy over the days: the daily table, exposure per (day, video), the slot-1 logs for off-policy
    evaluation, impression-level logs of the kept days and the final scores."""
    policy: str
    epsilon: float
    days: "object"                      # pandas DataFrame, one row per day
    exposure: np.ndarray                # days x items impressions
    slot1: dict                         # arrays: day, segment, item, click, propensity, greedy
    kept: dict                          # day -> impression-level DataFrame
    scores: np.ndarray                  # the final model's scores (segments x items)
    examination_estimate: np.ndarray
    rankings: dict = field(default_factory=dict)  # day -> segment rankings used that day
    monitor: dict = field(default_factory=dict)   # per day: explored clicks/impressions per position,
                                                  # top-slot clicks/impressions per segment, session users


def rank(scores: np.ndarray, available: np.ndarray) -> np.ndarray:
    """Each segment's videos, best score first; unreleased videos last."""
    s = np.where(available[None, :], scores, -np.inf)
    return np.argsort(-s, axis=1, kind="stable")


def slates_for(ranking, segs, n_avail, k, epsilon, rng):
    """Greedy slates with each slot replaced, with probability epsilon, by a random video from outside the
    greedy slate (so no slate repeats a video). Returns slates and the explored-slot mask."""
    slates = ranking[segs, :k].copy()
    explore = rng.random(slates.shape) < epsilon
    if epsilon > 0 and explore.any() and n_avail > k:
        # distinct random ranks beyond the slate for the explored slots of one session
        draws = k + rng.integers(0, n_avail - k, size=slates.shape)
        slates = np.where(explore, ranking[segs[:, None], draws], slates)
        # a duplicate draw within one session: fall back to the greedy video there
        srt = np.sort(slates, axis=1)
        dup_rows = np.flatnonzero((np.diff(srt, axis=1) == 0).any(axis=1))
        for r in dup_rows:
            _, first = np.unique(slates[r], return_index=True)
            keep = np.zeros(k, bool)
            keep[first] = True
            explore[r] &= keep
            slates[r] = np.where(explore[r], slates[r], ranking[segs[r], :k])
    else:
        explore[:] = False
    return slates, explore


def simulate(world: RecWorld, policy: str, *, epsilon: float = 0.1, sessions_per_day: int = 2000,
             window: int = 21, seed: int = 0, keep_days=(), history_days: int = 7,
             chunks: int = 4, rerank=None, n_days: int | None = None, scores0=None) -> LoopRun:
    """Run `policy` for the world's days (or `n_days`). `rerank(ranking, day)` may rewrite each segment's
    ranking before the slates are drawn (the fairness mitigation). `scores0` starts from given scores instead of the history."""
    import pandas as pd

    check_policy(policy, epsilon)
    if policy == "clicks_only":
        epsilon = 0.0
    rng = np.random.default_rng([world.seed, seed, POLICIES.index(policy), int(epsilon * 1000)])
    n_seg, n_items, k = len(SEGMENTS), world.n_items, world.slate_size
    n_days = n_days or world.n_days
    logs = Logs(n_seg, n_items, k)
    online = OnlineModel(n_seg, n_items, k, seed) if policy == "online" else None
    exam_est = world.examination(0) / world.examination(0)[0]
    # history: the legacy popularity ranking's logs (Gumbel top-k on its push weights)
    for _ in range(history_days):
        users = rng.integers(0, world.n_users, sessions_per_day)
        g = np.log(world.history_weight + 1e-300)[None, :] - np.log(-np.log(rng.random((sessions_per_day, n_items))))
        slates = np.argsort(-g, axis=1)[:, :k]
        fb = world.feedback(users, slates, 0, rng)
        _log_day(logs, world, users, slates, fb, np.zeros_like(slates, bool), exam_est, online, chunks)
    rows, exposure = [], np.zeros((n_days, n_items))
    slot1 = {key: [] for key in ("day", "segment", "item", "click", "propensity", "greedy", "n_avail")}
    kept, rankings = {}, {}
    monitor = {key: [] for key in ("explored_clicks", "explored_imps", "top_clicks", "top_imps", "seg_clicks",
                                   "seg_imps", "users", "cell_clicks", "cell_imps")}
    oracle_cache = {}
    for day in range(n_days):
        avail = world.available(day)
        n_avail = int(avail.sum())
        if scores0 is not None and day == 0:
            scores = scores0
        elif policy == "online":
            scores = online.scores()
        else:
            scores = scores_from_logs(policy, logs, window, exam_est if policy == "ips" else None)
        # a video released today has no logs: it starts at the prior (exploration can find it)
        ranking = rank(scores, avail)
        if rerank is not None:
            ranking = rerank(ranking, day)
        rankings[day] = ranking
        users = rng.integers(0, world.n_users, sessions_per_day)
        segs = world.user_segment[users]
        slates, explored = slates_for(ranking, segs, n_avail, k, epsilon, rng)
        fb = world.feedback(users, slates, day, rng)
        _log_day(logs, world, users, slates, fb, explored, exam_est, online, chunks)
        if epsilon > 0:  # the examination curve, re-estimated from the explored slots of the last 14 days
            exam_est = estimate_examination(*recent_positions(logs, 14))
        imp = np.bincount(slates.ravel(), minlength=n_items)
        exposure[day] = imp
        rows.append(_day_row(world, day, segs, slates, fb, imp, avail, oracle_cache, ranking))
        greedy1 = ranking[segs, 0]
        prop = np.where(slates[:, 0] == greedy1, 1 - epsilon, epsilon / max(n_avail - k, 1))
        for key, val in (("day", np.full(len(users), day)), ("segment", segs), ("item", slates[:, 0]),
                         ("click", fb["clicks"][:, 0]), ("propensity", prop), ("greedy", greedy1),
                         ("n_avail", np.full(len(users), n_avail))):
            slot1[key].append(val)
        for key, val in (("explored_clicks", (fb["clicks"] & explored).sum(axis=0)),
                         ("explored_imps", explored.sum(axis=0)),
                         ("top_clicks", np.bincount(segs, weights=fb["clicks"][:, 0], minlength=n_seg)),
                         ("top_imps", np.bincount(segs, minlength=n_seg)),
                         ("seg_clicks", np.bincount(segs, weights=fb["clicks"].sum(axis=1), minlength=n_seg)),
                         ("seg_imps", k * np.bincount(segs, minlength=n_seg)), ("users", users),
                         ("cell_clicks", logs.wclicks[-1].astype(np.float32)),
                         ("cell_imps", logs.pos_cell_imps[-1].astype(np.float32))):
            monitor[key].append(val)
        if day in keep_days:
            kept[day] = impression_frame(world, day, users, slates, fb, explored)
    slot1 = {key: np.concatenate(v) for key, v in slot1.items()}
    final = online.scores() if policy == "online" else scores_from_logs(policy, logs, window,
                                                                       exam_est if policy == "ips" else None)
    monitor = {key: np.array(v) for key, v in monitor.items()}
    return LoopRun(policy, epsilon, pd.DataFrame(rows), exposure, slot1, kept, final, exam_est, rankings, monitor)


def recent_positions(logs: Logs, days: int):
    """Clicks and impressions per position of the explored slots over the last `days` days."""
    return np.sum(logs.pos_clicks[-days:], axis=0), np.sum(logs.pos_imps[-days:], axis=0)


def _log_day(logs, world, users, slates, fb, explored, exam_est, online, chunks):
    n_seg, n_items, k = logs.n_seg, logs.n_items, logs.slate
    segs = np.repeat(world.user_segment[users][:, None], k, axis=1)
    clicks = fb["clicks"]
    logs.imps.append(_cells(segs, slates, n_items, np.ones_like(slates, float), n_seg))
    logs.clicks.append(_cells(segs, slates, n_items, clicks, n_seg))
    per_pos = np.stack([_cells(segs[:, p], slates[:, p], n_items, clicks[:, p], n_seg) for p in range(k)])
    logs.wclicks.append(per_pos)
    logs.pos_cell_imps.append(np.stack([_cells(segs[:, p], slates[:, p], n_items, np.ones(len(users)), n_seg)
                                        for p in range(k)]))
    logs.pos_imps.append(explored.sum(axis=0).astype(float))
    logs.pos_clicks.append((clicks & explored).sum(axis=0).astype(float))
    if online is not None:
        cells = (segs * n_items + slates).ravel()
        positions = np.tile(np.arange(k), len(users))
        y = clicks.ravel()
        for part in np.array_split(np.arange(cells.size), chunks):
            online.partial_fit(cells[part], positions[part], y[part])


def _day_row(world, day, segs, slates, fb, imp, avail, oracle_cache, ranking):
    p = fb["p_click"]
    row = {"day": day, "true_ctr": float(p.mean()), "logged_ctr": float(fb["clicks"].mean()),
           "ctr_top": float(fb["clicks"][:, 0].mean()), "ctr_lower": float(fb["clicks"][:, 1:].mean()),
           "coverage": coverage(imp[avail]), "gini": gini(imp[avail]),
           "indie_share": float(imp[world.item_group == 1].sum() / imp.sum()),
           "new_share": float(imp[world.release_day > 0].sum() / imp.sum()),
           "relevance_shown": float(fb["relevance"].mean())}
    for s, name in enumerate(SEGMENTS):
        mask = segs == s
        row[f"ctr_{name}"] = float(p[mask].mean()) if mask.any() else float("nan")
    key = (bool(world.taste_shift and day >= world.shift_day), int(avail.sum()))
    if key not in oracle_cache:
        oracle_cache[key] = oracle_slates(world, day)
    best = oracle_cache[key][segs]
    # the oracle's value on the same sessions: a segment-level model that knew the truth
    oracle_rel = world.relevance(day)[fb["users"][:, None], best]
    row["oracle_ctr"] = float((world.examination(day)[None, :] * oracle_rel).mean())
    row["regret"] = row["oracle_ctr"] - row["true_ctr"]
    return row


def oracle_slates(world: RecWorld, day: int) -> np.ndarray:
    """Per segment, the slate of the videos with the highest mean true relevance among its users."""
    rel = world.relevance(day)
    seg_rel = np.stack([rel[world.user_segment == s].mean(axis=0) for s in range(len(SEGMENTS))])
    return rank(seg_rel, world.available(day))[:, :world.slate_size]


def segment_relevance(world: RecWorld, day: int) -> np.ndarray:
    """Mean true relevance per (segment, video): the truth a segment-level model tries to learn."""
    rel = world.relevance(day)
    return np.stack([rel[world.user_segment == s].mean(axis=0) for s in range(len(SEGMENTS))])


def impression_frame(world, day, users, slates, fb, explored):
    """One row per impression: the logged feedback of one day (what the clickstream delivers)."""
    import pandas as pd

    n, k = slates.shape
    ratings = fb["ratings"].ravel()
    return pd.DataFrame({
        "day": day, "user": np.repeat(users, k), "segment": np.repeat(np.array(SEGMENTS)[world.user_segment[users]], k),
        "position": np.tile(np.arange(1, k + 1), n), "item": slates.ravel(),
        "provider_group": np.where(world.item_group[slates.ravel()] == 1, "independent", "studio"),
        "explored": explored.ravel(), "click": fb["clicks"].ravel(), "watch_min": fb["minutes"].ravel().round(1),
        "rating": ratings, "rating_day": np.where(np.isnan(ratings), np.nan, day + world.rating_delay_days),
        "p_click": fb["p_click"].ravel(), "relevance": fb["relevance"].ravel()})
