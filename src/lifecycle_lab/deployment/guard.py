"""The label-free rollback guard: it watches a replacement on mirrored traffic, without waiting for labels.

Why: outcome labels arrive 40-90 days late, and a label-based trigger needs a minimum sample per window
that can take months of traffic (`migration.label_trigger_reach`); the decisions themselves are known the
same day. From the shadow on, the replacement scores every request whatever share it serves, so the guard
compares its decisions and scores with what validation showed: agreement with the legacy model, the ratio
of their flag rates, the PSI of its scores. It plugs into `rollout.run_rollout` like the outcome trigger,
and a replay measures its false alarms and how long a fault lasts before the rollback.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from lifecycle_lab.deployment import rollout
from lifecycle_lab.deployment.rollout import RolloutError
from lifecycle_lab.monitoring import drift as monitor


@dataclass
class GuardCheck:
    """One window as the label-free guard saw it."""

    window: int
    n: int
    agreement: float
    flag_ratio: float
    psi: float
    counted: bool
    failing: bool
    streak: int
    why: str


@dataclass
class LabelFreeGuard:
    """Roll back when the challenger's decisions on mirrored traffic stop looking like they did in validation.

    Three checks per window, with thresholds agreed before deployment from the validation comparison:
    agreement with the champion's decisions falls more than `agreement_tolerance` below the validated
    agreement (a wrong join, a stale feature); the challenger / champion flag-rate ratio moves by more than
    `flag_ratio_factor` either way (a unit or threshold error); the PSI of the challenger's scores against
    its validation scores exceeds `psi_limit` (skew between training and serving). Windows below
    `min_sample` mirrored decisions are not counted; `consecutive` failing windows in a row fire. It
    judges *faithfulness to the validated model*, not business value: a change that keeps decisions alike
    but costs more is for the outcome trigger and the offline validation to find.
    """

    reference_agreement: float
    reference_flag_ratio: float
    reference_scores: object = field(repr=False)
    agreement_tolerance: float = 0.05
    flag_ratio_factor: float = 1.25
    psi_limit: float = 0.25
    min_sample: int = 500
    consecutive: int = 2
    name: str = "label-free guard"

    def __post_init__(self):
        import numpy as np

        if not 0 < self.reference_agreement <= 1:
            raise RolloutError(f"reference_agreement={self.reference_agreement!r} must be a share in (0, 1]")
        if not self.reference_flag_ratio > 0:
            raise RolloutError("reference_flag_ratio must be positive: in validation both models flag something")
        if not 0 < self.agreement_tolerance < 1 or not self.flag_ratio_factor > 1 or not self.psi_limit > 0:
            raise RolloutError(f"agreement_tolerance={self.agreement_tolerance!r}, flag_ratio_factor="
                                  f"{self.flag_ratio_factor!r}, psi_limit={self.psi_limit!r}: need 0 < "
                                  f"agreement_tolerance < 1 (e.g. 0.05), flag_ratio_factor > 1 (e.g. 1.25) and "
                                  f"psi_limit > 0 (e.g. 0.25)")
        for name in ("min_sample", "consecutive"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise RolloutError(f"{name}={value!r} must be a whole number >= 1")
        ref = np.asarray(self.reference_scores, dtype=float)
        self._edges = monitor.psi_edges(ref)
        k = len(self._edges) - 1
        self._epsilon = monitor.PSI_EPSILON
        self._expected = np.maximum(np.bincount(np.searchsorted(self._edges[1:-1], ref, side="left"),
                                                minlength=k) / ref.size, self._epsilon)

    @classmethod
    def from_validation(cls, champion_flag, challenger_flag, challenger_scores, *, agreement_tolerance: float = 0.05,
                        z: float = 3.0, **kw) -> "LabelFreeGuard":
        """Set the references from the validation comparison, and the minimum sample so that the agreement
        tolerance is `z` standard errors: n >= z^2 a (1 - a) / tolerance^2."""
        import numpy as np

        a = np.asarray(champion_flag).astype(int)
        b = np.asarray(challenger_flag).astype(int)
        if len(a) != len(b) or len(a) == 0:
            raise RolloutError("both models' validation flags must be non-empty and of equal length")
        if a.sum() == 0 or b.sum() == 0:
            raise RolloutError("a model flags nothing in validation: the flag-rate ratio is undefined")
        agree = float((a == b).mean())
        need = max(1, math.ceil(z ** 2 * agree * (1 - agree) / agreement_tolerance ** 2))
        return cls(agree, float(b.mean() / a.mean()), np.asarray(challenger_scores, dtype=float),
                   agreement_tolerance=agreement_tolerance, min_sample=kw.pop("min_sample", need), **kw)

    def psi(self, scores) -> float:
        """PSI of scores against the validation scores (the same bins and floor as `monitor.psi`)."""
        import numpy as np

        scores = np.asarray(scores, dtype=float)
        if scores.size == 0:
            raise RolloutError("no scores in the window")
        actual = np.bincount(np.searchsorted(self._edges[1:-1], scores, side="left"),
                             minlength=len(self._expected)) / scores.size
        actual = np.maximum(actual, self._epsilon)
        return float(np.sum((actual - self._expected) * np.log(actual / self._expected)))

    def window_stats(self, champion_flag, challenger_flag, challenger_scores) -> dict:
        """The guard's three numbers for one window of mirrored decisions."""
        import numpy as np

        a = np.asarray(champion_flag).astype(int)
        b = np.asarray(challenger_flag).astype(int)
        ratio = float(b.mean() / a.mean()) if a.sum() else math.inf
        return {"n": int(len(a)), "agreement": float((a == b).mean()), "flag_ratio": ratio,
                "psi": self.psi(challenger_scores)}

    def _why(self, w) -> str:
        reasons = []
        if self.reference_agreement - w["agreement"] > self.agreement_tolerance:
            reasons.append(f"agreement {w['agreement']:.3f} vs {self.reference_agreement:.3f} validated")
        ratio = w["flag_ratio"] / self.reference_flag_ratio
        if not 1 / self.flag_ratio_factor <= ratio <= self.flag_ratio_factor:
            reasons.append(f"flag-rate ratio {w['flag_ratio']:.2f} vs {self.reference_flag_ratio:.2f} validated")
        if w["psi"] > self.psi_limit:
            reasons.append(f"score PSI {w['psi']:.2f} > {self.psi_limit}")
        return "; ".join(reasons)

    def evaluate(self, windows) -> "rollout.RollbackResult":
        """Walk the windows (mappings with n, agreement, flag_ratio, psi and an optional window label);
        fire at the window that completes `consecutive` counted failures in a row."""
        checks, streak = [], 0
        for i, w in enumerate(windows):
            try:
                n = int(w["n"])
                stats = {k: float(w[k]) for k in ("agreement", "flag_ratio", "psi")}
            except KeyError as exc:
                raise RolloutError(f"window {i} lacks {exc.args[0]!r}; give n, agreement, flag_ratio, psi") from None
            except (TypeError, ValueError):
                raise RolloutError(f"window {i} is {w!r}: give a mapping of numbers n, agreement, flag_ratio, psi "
                                      f"(what `window_stats` returns)") from None
            label = int(w.get("window", i))
            counted = n >= self.min_sample
            why = self._why(stats) if counted else ""
            failing = bool(why)
            if counted:
                streak = streak + 1 if failing else 0
            checks.append(GuardCheck(label, n, stats["agreement"], stats["flag_ratio"], stats["psi"], counted,
                                     failing, streak, why))
            if streak >= self.consecutive:
                return rollout.RollbackResult(True, label, f"{self.name} fired at window {label}: {why} in {streak} "
                                                           f"consecutive window(s) of >= {self.min_sample} decisions",
                                              checks)
        skipped = sum(not c.counted for c in checks)
        return rollout.RollbackResult(False, None, f"{self.name} stayed silent over {len(checks)} windows "
                                                   f"({skipped} below the minimum sample of {self.min_sample})", checks)


def mirrored_observer(champion_score, challenger_score, champion_threshold: float, challenger_threshold: float,
                      guard: LabelFreeGuard, *, traffic_per_window: int, seed: int = 0, broken_score=None,
                      broken_from: int | None = None):
    """An `observe(stage, k)` for `rollout.run_rollout` that feeds the label-free guard.

    Each window resamples `traffic_per_window` of the replayed requests; both models score all of them
    (mirrored traffic), the challenger serves its stage weight of them (`served`). From window
    `broken_from` on, the challenger's scores are `broken_score` (a fault introduced with the canary's
    serving path, say). No labels are read: this is what can be known the same day.
    """
    import numpy as np

    a_score = np.asarray(champion_score, dtype=float)
    b_score = np.asarray(challenger_score, dtype=float)
    if len(a_score) != len(b_score) or len(a_score) == 0:
        raise RolloutError("both models' scores must be non-empty and of equal length")
    if (broken_score is None) != (broken_from is None):
        raise RolloutError("give both broken_score and broken_from, or neither")
    bad = None if broken_score is None else np.asarray(broken_score, dtype=float)
    if bad is not None and len(bad) != len(b_score):
        raise RolloutError("broken_score must score the same requests")
    if isinstance(traffic_per_window, bool) or not isinstance(traffic_per_window, int) or traffic_per_window < 10:
        raise RolloutError("traffic_per_window must be a whole number of at least 10 decisions")
    rng = np.random.default_rng(seed)

    def observe(stage, k):
        idx = rng.integers(0, len(a_score), traffic_per_window)
        scores = (bad if bad is not None and k >= broken_from else b_score)[idx]
        stats = guard.window_stats(a_score[idx] >= champion_threshold, scores >= challenger_threshold, scores)
        return {**stats, "served": int(round(stage.weight * traffic_per_window)),
                "broken": bool(bad is not None and k >= broken_from)}

    return observe


def guard_false_alarm_rate(guard: LabelFreeGuard, champion_score, challenger_score, champion_threshold: float,
                           challenger_threshold: float, *, plan, traffic_per_window: int, runs: int = 50,
                           seed: int = 0) -> float:
    """Share of replays of the healthy challenger (nothing broken) in which the label-free guard fires."""
    fired = 0
    for r in range(runs):
        obs = mirrored_observer(champion_score, challenger_score, champion_threshold, challenger_threshold, guard,
                                traffic_per_window=traffic_per_window, seed=seed + r)
        fired += rollout.run_rollout(plan, obs, guard).rolled_back
    return fired / runs


def rollback_time(log, *, window_days: int, broken_from: int) -> dict:
    """From a replayed rollout with a fault from window `broken_from`: days and windows until the rollback,
    and the decisions the faulty challenger served meanwhile (0 when it was caught before serving)."""
    if not log.rolled_back:
        return {"rolled_back": False, "windows": None, "days": None, "served_while_broken": None, "stage": None}
    fired = log.trigger.window
    windows = fired - broken_from + 1
    served = sum(w.get("served", 0) for w in log.windows if broken_from <= w["window"] <= fired)
    return {"rolled_back": True, "windows": windows, "days": windows * window_days, "served_while_broken": served,
            "stage": log.stopped_stage}
