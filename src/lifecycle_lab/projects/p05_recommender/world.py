"""A seeded video-service world whose true preferences are known: users, a catalogue, position bias, and
switchable changes (a UI change on a given day, a taste shift in one segment).

Why: a feedback loop is learnt on a system where what the logs say can be compared with what is true. The
recommender shows a slate of `slate_size` videos; a user clicks a video at position k with probability

    P(click) = P(examined | k) x P(relevant | user, video)       (the examination hypothesis)

with P(examined | k) = k^(-eta) (eta = `position_eta`, k = 1, 2, ...). Relevance is
sigmoid(base + quality_i + u . v_i): u is the user's taste (their segment's centre plus their own part), v_i
the video's genre vector, quality_i a per-video appeal. Videos belong to providers, grouped as "studio"
(large catalogues, pushed by the legacy popularity ranking that produced the history logs) and
"independent"; true quality is drawn identically for both groups, so any exposure gap is made by the system.

Feedback: clicks are the implicit signal; watch time (minutes) is long when the video is relevant and short
when the click was a mistake; explicit ratings (1-5 stars) come from a small share of clicks, more often when
the user loved or hated the video (a biased, sparse sample), and `rating_delay_days` late.

Changes (each has a day and a size; `truth()` lists them for the tests and exercises):
- `ui_change`: on `ui_change_day` a redesign (bigger thumbnails, fewer rows above the fold) makes lower
  positions less examined: eta rises from `position_eta` to `ui_eta`. No user feature and no preference
  changes; the CTR of what is shown at the top stays the same.
- `taste_shift`: from `shift_day` the users of segment `shift_segment` turn away from their segment's old
  taste (they move 2 x `shift_strength` units away from its centre): concept drift for that segment only.

Operations metrics (`ops`: p95 latency, error rate of the serving layer) come from one stable process in
every scenario: the seed-001 story of a CTR decline while latency and errors stay flat.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lifecycle_lab.base.errors import LifecycleLabError

SEGMENTS = ("new", "casual", "binge")
"""User segments (their share of users: 20 %, 55 %, 25 %)."""
SEGMENT_SHARES = (0.20, 0.55, 0.25)
GROUPS = ("studio", "independent")
"""Provider groups: the fairness view of the supply side."""
USER_FEATURES = ("tenure_days", "sessions_per_week", "mobile_share", "age")
"""What the recommender's feature store knows about a user (the inputs a drift check compares)."""
CHANGES = ("ui_change", "taste_shift")


class WorldError(LifecycleLabError, ValueError):
    """The world's settings are out of range or inconsistent (a change after the last day, ...)."""


@dataclass(frozen=True)
class Change:
    """One change of the world: its kind, its first day, and what it does."""
    kind: str
    day: int
    detail: str


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class RecWorld:
    """The world. Arrays are built once in `__post_init__`; `relevance(day)` and `examination(day)` are the
    truth the simulation draws from."""
    seed: int = 0
    n_users: int = 2000
    n_items: int = 300
    n_days: int = 90
    slate_size: int = 10
    n_providers: int = 12
    independent_share: float = 0.4   # share of the catalogue from independent providers
    late_share: float = 0.15         # share of the catalogue released during the simulated days (cold start)
    position_eta: float = 0.8
    ui_change: bool = True
    ui_change_day: int = 45
    ui_eta: float = 1.0
    taste_shift: bool = False
    shift_day: int = 60
    shift_segment: str = "binge"
    shift_strength: float = 0.8
    rating_share: float = 0.05
    rating_delay_days: int = 3
    dim: int = 6
    rel_matrix: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        if self.ui_change and not 1 <= self.ui_change_day < self.n_days:
            raise WorldError(f"ui_change_day={self.ui_change_day} must lie inside the {self.n_days} days "
                             f"(1 to {self.n_days - 1})")
        if self.taste_shift and not 1 <= self.shift_day < self.n_days:
            raise WorldError(f"shift_day={self.shift_day} must lie inside the {self.n_days} days "
                             f"(1 to {self.n_days - 1})")
        if self.shift_segment not in SEGMENTS:
            raise WorldError(f"shift_segment={self.shift_segment!r}: choose one of {list(SEGMENTS)}")
        if self.slate_size >= self.n_items:
            raise WorldError(f"slate_size={self.slate_size} must be smaller than n_items={self.n_items}")
        rng = np.random.default_rng(self.seed)
        d = self.dim
        self.user_segment = rng.choice(len(SEGMENTS), size=self.n_users, p=SEGMENT_SHARES)
        centres = rng.normal(0, 1.0, size=(len(SEGMENTS), d))
        self.user_vec = centres[self.user_segment] * 0.7 + rng.normal(0, 0.5, size=(self.n_users, d))
        self.item_vec = rng.normal(0, 1.0, size=(self.n_items, d)) / np.sqrt(d)
        self.item_quality = rng.normal(0, 0.6, size=self.n_items)
        n_ind = max(1, int(round(self.n_providers * self.independent_share)))
        self.provider_group = np.array([0] * (self.n_providers - n_ind) + [1] * n_ind)
        # studios own more of the catalogue per provider; the share of independent videos is independent_share
        is_ind = rng.random(self.n_items) < self.independent_share
        studios = np.flatnonzero(self.provider_group == 0)
        indies = np.flatnonzero(self.provider_group == 1)
        self.item_provider = np.where(is_ind, rng.choice(indies, self.n_items), rng.choice(studios, self.n_items))
        self.item_group = self.provider_group[self.item_provider]
        # release day: most of the catalogue exists at day 0, the rest arrives during the period (cold start)
        late = rng.random(self.n_items) < self.late_share
        self.release_day = np.where(late, rng.integers(1, max(2, self.n_days - 10), self.n_items), 0)
        # the legacy ranking that produced the history: marketing push, favouring studios, loosely tied to quality
        push = 0.5 * self.item_quality + rng.normal(0, 1.0, self.n_items) + 0.8 * (self.item_group == 0)
        self.history_weight = np.where(self.release_day == 0, np.exp(1.2 * push), 0.0)
        # the shifted segment's users move away from their old centre (a fixed distance x strength): their old
        # favourites lose their appeal
        old = centres[SEGMENTS.index(self.shift_segment)]
        self.shift_vec = -2.0 * self.shift_strength * old / np.linalg.norm(old)
        self.base = -3.2
        self.rel_matrix = self._relevance(shifted=False)
        self._rel_shifted = self._relevance(shifted=True) if self.taste_shift else self.rel_matrix
        self.features = self._user_features(rng)

    def _relevance(self, shifted: bool) -> np.ndarray:
        u = self.user_vec.copy()
        if shifted:
            seg = SEGMENTS.index(self.shift_segment)
            u[self.user_segment == seg] += self.shift_vec
        return _sigmoid(self.base + self.item_quality[None, :] + u @ self.item_vec.T * 1.6)

    def _user_features(self, rng) -> np.ndarray:
        seg = self.user_segment
        tenure = np.where(seg == 0, rng.exponential(20, self.n_users), rng.exponential(400, self.n_users) + 30)
        sessions = rng.gamma(np.where(seg == 2, 6.0, 2.0), 1.5)
        mobile = rng.beta(3, 2, self.n_users)
        age = rng.normal(34, 11, self.n_users).clip(16, 90)
        return np.column_stack([tenure, sessions, mobile, age])

    # -- the truth ---------------------------------------------------------------------------------------

    def relevance(self, day: int) -> np.ndarray:
        """P(relevant | user, video) on `day` (users x videos): what a perfect model would know."""
        return self._rel_shifted if self.taste_shift and day >= self.shift_day else self.rel_matrix

    def eta(self, day: int) -> float:
        return self.ui_eta if self.ui_change and day >= self.ui_change_day else self.position_eta

    def examination(self, day: int) -> np.ndarray:
        """P(examined | position) for positions 1..slate_size on `day`."""
        return np.arange(1, self.slate_size + 1, dtype=float) ** (-self.eta(day))

    def available(self, day: int) -> np.ndarray:
        """Boolean mask of the videos released by `day`."""
        return self.release_day <= day

    def truth(self) -> list[Change]:
        out = []
        if self.ui_change:
            out.append(Change("ui_change", self.ui_change_day, f"position bias eta {self.position_eta} -> "
                                                               f"{self.ui_eta}: lower positions examined less"))
        if self.taste_shift:
            out.append(Change("taste_shift", self.shift_day, f"segment {self.shift_segment!r} moves its tastes"))
        return sorted(out, key=lambda c: c.day)

    def best_slates(self, day: int, k: int | None = None) -> np.ndarray:
        """Each user's k truly most relevant available videos (the oracle's slates)."""
        k = k or self.slate_size
        rel = np.where(self.available(day)[None, :], self.relevance(day), -1.0)
        return np.argsort(-rel, axis=1)[:, :k]

    # -- what is observed ---------------------------------------------------------------------------------

    def feedback(self, users: np.ndarray, slates: np.ndarray, day: int, rng: np.random.Generator) -> dict:
        """Draw the implicit and explicit feedback of sessions: clicks, watch minutes, ratings (NaN when the
        user gave none) and the true click probabilities (for the tests and the true CTR)."""
        rel = self.relevance(day)[users[:, None], slates]
        p_click = self.examination(day)[None, :] * rel
        clicks = rng.random(p_click.shape) < p_click
        # given a click: relevant (watched long) with probability rel/(rel + mistake rate)
        satisfied = clicks & (rng.random(p_click.shape) < rel / (rel + 0.15))
        minutes = np.where(clicks, np.where(satisfied, rng.gamma(4.0, 8.0, p_click.shape),
                                            rng.exponential(1.5, p_click.shape)), 0.0)
        stars = np.clip(np.round(1 + 4 * rel + rng.normal(0, 0.7, p_click.shape)), 1, 5)
        # people rate what they loved or hated: the rating sample is biased toward the extremes
        rate_p = self.rating_share * np.where((stars >= 5) | (stars <= 1), 2.5, 0.6)
        rated = clicks & (rng.random(p_click.shape) < rate_p)
        ratings = np.where(rated, stars, np.nan)
        return {"users": users, "clicks": clicks, "minutes": minutes, "ratings": ratings, "p_click": p_click, "relevance": rel}

    def user_features(self, users: np.ndarray) -> np.ndarray:
        return self.features[users]

    def ops(self, seed: int | None = None) -> dict:
        """Daily p95 latency (ms) and error rate of the serving layer: one stable process in every scenario."""
        rng = np.random.default_rng(self.seed + 7 if seed is None else seed)
        return {"day": np.arange(self.n_days), "latency_p95_ms": rng.normal(42, 2.0, self.n_days).round(1),
                "error_rate": rng.beta(2, 2000, self.n_days)}
