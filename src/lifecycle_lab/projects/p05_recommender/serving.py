"""Cost at scale: a ranking model (teacher) and its distilled student, a TTL cache in the serving path, and
fleet sizing from "billions of requests a day".

- Teacher: a gradient-boosted model (HistGradientBoostingClassifier) of P(click) on user features, segment,
  video genre vector and video appeal, trained on logged impressions (position as a feature, fixed to 1 at
  serving). Student: a linear model on the same inputs plus segment x genre products, fitted to the
  teacher's logits (distillation: Hinton et al. 2015); scoring is one matrix product.
- A request is one user: score the catalogue, return the top k. `Server.serve` looks the user up in a
  `cachetools.TTLCache` first (keyed by user, the entry records the model version that filled it).
- Capacity: mean requests/s = requests per day / 86,400; peak = mean x peak factor; cores =
  ceil(peak x (1 - hit rate) / (per-core throughput x target utilisation)); cost/day = cores x 24 x price.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from lifecycle_lab.base.errors import LifecycleLabError
from lifecycle_lab.evaluation.ranking import ndcg_at_k
from lifecycle_lab.projects.p05_recommender.world import SEGMENTS, RecWorld

SECONDS_PER_DAY = 86_400


class ServingError(LifecycleLabError, ValueError):
    """A serving or capacity figure is out of range."""


def _item_table(world: RecWorld, frame) -> np.ndarray:
    """Per video: genre vector and its logged appeal (CTR at position 1-3 in the training logs)."""
    top = frame[frame["position"] <= 3]
    ctr = np.bincount(top["item"], weights=top["click"], minlength=world.n_items) / \
        np.maximum(np.bincount(top["item"], minlength=world.n_items), 1)
    return np.column_stack([world.item_vec, ctr])


def _rows(world: RecWorld, users: np.ndarray, items_tab: np.ndarray, position=None) -> np.ndarray:
    """Feature rows for every (user, video) pair: users x n_items rows."""
    n_items = items_tab.shape[0]
    uf = world.user_features(users)
    seg = np.eye(len(SEGMENTS))[world.user_segment[users]]
    u = np.repeat(np.column_stack([uf, seg]), n_items, axis=0)
    it = np.tile(items_tab, (len(users), 1))
    pos = np.ones((len(u), 1)) if position is None else position.reshape(-1, 1)
    return np.column_stack([u, it, pos])


def _student_x(world: RecWorld, users: np.ndarray, items_tab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The student's factorised inputs: a user part and a video part whose product gives every score."""
    seg = np.eye(len(SEGMENTS))[world.user_segment[users]]
    uf = world.user_features(users) / np.array([400.0, 10.0, 1.0, 50.0])
    user_part = np.column_stack([np.ones(len(users)), seg, uf,
                                 np.einsum("us,d->usd", seg, np.ones(items_tab.shape[1])).reshape(len(users), -1)])
    return user_part, items_tab


@dataclass
class Ranker:
    """A trained model that scores users x catalogue."""
    name: str
    model: object
    items_tab: np.ndarray
    world: RecWorld
    kind: str

    def scores(self, users: np.ndarray) -> np.ndarray:
        if self.kind == "teacher":
            x = _rows(self.world, users, self.items_tab)
            return self.model.decision_function(x).reshape(len(users), -1)
        user_part, item_part = _student_x(self.world, users, self.items_tab)
        return student_scores(self.model, user_part, item_part)


def student_scores(weights: dict, user_part: np.ndarray, item_part: np.ndarray) -> np.ndarray:
    """score(u, i) = a(u) + b . item_i + sum over (segment, genre) of W[s, d] seg_u,s item_i,d  (one matmul)."""
    n_seg = len(SEGMENTS)
    base = user_part[:, :1 + n_seg + 4] @ weights["user"]
    seg = user_part[:, 1:1 + n_seg]
    inter = seg @ weights["inter"]                         # users x item dims
    return base[:, None] + item_part @ weights["item"] + inter @ item_part.T


def train_teacher(world: RecWorld, frame, seed: int = 0) -> Ranker:
    from sklearn.ensemble import HistGradientBoostingClassifier

    items_tab = _item_table(world, frame)
    users, items = frame["user"].to_numpy(), frame["item"].to_numpy()
    uf = world.user_features(users)
    seg = np.eye(len(SEGMENTS))[world.user_segment[users]]
    x = np.column_stack([uf, seg, items_tab[items], frame["position"].to_numpy()])
    model = HistGradientBoostingClassifier(max_iter=60, learning_rate=0.15, max_leaf_nodes=15, max_bins=64,
                                           early_stopping=False, random_state=seed)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # OpenMP threads on a busy machine spin; one thread is faster and repeatable
        model.fit(x, frame["click"].to_numpy().astype(int))
    return Ranker("teacher (gradient boosting)", model, items_tab, world, "teacher")


def distil(teacher: Ranker, users: np.ndarray, ridge: float = 1e-3) -> Ranker:
    """Fit the student's weights to the teacher's logits on `users` x the catalogue (least squares)."""
    world, items_tab = teacher.world, teacher.items_tab
    target = teacher.scores(users)                          # users x items
    user_part, item_part = _student_x(world, users, items_tab)
    n_seg, d = len(SEGMENTS), items_tab.shape[1]
    n_u, n_i = target.shape
    # design: [user base (1+n_seg+4), item part (d), seg x item (n_seg*d)] for each (user, item) pair
    ub = np.repeat(user_part[:, :1 + n_seg + 4], n_i, axis=0)
    ip = np.tile(item_part, (n_u, 1))
    seg = np.repeat(user_part[:, 1:1 + n_seg], n_i, axis=0)
    inter = (seg[:, :, None] * ip[:, None, :]).reshape(len(ip), -1)
    x = np.column_stack([ub, ip, inter])
    w = np.linalg.solve(x.T @ x + ridge * np.eye(x.shape[1]), x.T @ target.ravel())
    a, b = 1 + n_seg + 4, d
    weights = {"user": w[:a], "item": w[a:a + b], "inter": w[a + b:].reshape(n_seg, d)}
    return Ranker("student (distilled linear)", weights, items_tab, world, "student")


def ndcg(ranker: Ranker, users: np.ndarray, day: int, k: int = 10) -> float:
    """Mean NDCG@k of the ranker's top k against the world's true relevance for `users`."""
    s = np.where(ranker.world.available(day)[None, :], ranker.scores(users), -np.inf)
    top = np.argsort(-s, axis=1)[:, :k]
    return float(ndcg_at_k(top, ranker.world.relevance(day)[users], k=k).mean())


def latency_per_1000(ranker: Ranker, users: np.ndarray, repeats: int = 3) -> list[float]:
    """Measured seconds per 1,000 single-user requests (each scores the whole catalogue), on one thread: the
    time for len(users) requests scaled to 1,000; one value per repeat (the evidence; report the median)."""
    from threadpoolctl import threadpool_limits

    out = []
    with threadpool_limits(1):
        for _ in range(repeats):
            t = time.perf_counter()
            for u in users:
                np.argpartition(-ranker.scores(np.array([u]))[0], 10)[:10]
            out.append((time.perf_counter() - t) * 1000 / len(users))
    return out


# -- the cache in the serving path -------------------------------------------------------------------------

class Server:
    """The serving path: cache lookup, else score and fill. The clock is simulated (seconds), so a TTL of an
    hour can be exercised in a fraction of a second."""

    def __init__(self, ranker: Ranker, ttl_s: float, maxsize: int, k: int = 10):
        from cachetools import TTLCache

        self.ranker, self.k = ranker, k
        self.now = 0.0
        self.version = 0
        self.cache = TTLCache(maxsize=maxsize, ttl=ttl_s, timer=lambda: self.now) if ttl_s > 0 else None
        self.hits = self.misses = self.stale_hits = 0

    def serve(self, user: int) -> np.ndarray:
        if self.cache is not None:
            entry = self.cache.get(user)
            if entry is not None:
                self.hits += 1
                self.stale_hits += entry[0] != self.version
                return entry[1]
        self.misses += 1
        top = np.argpartition(-self.ranker.scores(np.array([user]))[0], self.k)[:self.k]
        if self.cache is not None:
            self.cache[user] = (self.version, top)
        return top

    @property
    def hit_rate(self) -> float:
        return self.hits / max(self.hits + self.misses, 1)

    @property
    def stale_share(self) -> float:
        return self.stale_hits / max(self.hits + self.misses, 1)


def request_stream(world: RecWorld, n: int, seconds: float, zipf_a: float = 1.1, seed: int = 0):
    """`n` requests over `seconds`: users drawn with Zipf-like popularity (a few heavy users request often),
    arrival times uniform. Returns (times, users)."""
    rng = np.random.default_rng([world.seed, seed, 11])
    weights = 1.0 / np.arange(1, world.n_users + 1) ** zipf_a
    order = rng.permutation(world.n_users)
    users = order[rng.choice(world.n_users, size=n, p=weights / weights.sum())]
    return np.sort(rng.uniform(0, seconds, n)), users


def replay(server: Server, times, users, refresh_s: float) -> Server:
    """Send the stream through the server; the model version moves every `refresh_s` simulated seconds."""
    for t, u in zip(times, users):
        server.now = float(t)
        server.version = int(t // refresh_s) if refresh_s > 0 else 0
        server.serve(int(u))
    return server


# -- capacity -----------------------------------------------------------------------------------------------

def fleet(requests_per_day: float, per_core_rps: float, *, peak_factor: float = 3.0, utilisation: float = 0.6,
          hit_rate: float = 0.0, price_core_hour: float = 0.04) -> dict:
    """Cores and cost per day to serve the peak with the misses computed, at a target utilisation."""
    for name, value, low, high in (("requests_per_day", requests_per_day, 1, 1e13), ("per_core_rps", per_core_rps, 1e-9, 1e9),
                                   ("peak_factor", peak_factor, 1, 20), ("utilisation", utilisation, 0.05, 1),
                                   ("hit_rate", hit_rate, 0, 0.999), ("price_core_hour", price_core_hour, 0, 100)):
        if not low <= value <= high:
            raise ServingError(f"{name}={value} is out of range: give a value from {low} to {high}")
    mean = requests_per_day / SECONDS_PER_DAY
    peak = mean * peak_factor
    cores = max(1, math.ceil(peak * (1 - hit_rate) / (per_core_rps * utilisation)))
    return {"mean_rps": mean, "peak_rps": peak, "scoring_rps": peak * (1 - hit_rate), "cores": cores,
            "cost_per_day": cores * 24 * price_core_hour}
