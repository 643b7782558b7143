"""Rollout: staged exposure (shadow -> dogfood -> canary -> ramp -> full) with automated rollback triggers.

Why a module of its own: a launch is not a switch. Exposure grows in stages, each watched over windows of
traffic, and a rule agreed before deployment rolls back when the challenger's business metric falls too far
below the champion's. The rule needs a minimum sample and several failing windows in a row, or it fires on
noise; `RollbackTrigger.naive()` shows that.

Pure Python and numpy; no heavy imports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from lifecycle_lab.base.errors import LifecycleLabError


class RolloutError(LifecycleLabError, ValueError):
    """A rollout plan, a trigger or its windows are not usable as given."""


# Canary-analysis values from the documentation examples of two common tools, for comparison with the notebook's
# own thresholds. They are examples, not defaults: a team states its own (and an Argo Rollouts metric that states
# no failureLimit gets 0: its first failed measurement fails the analysis).
FLAGGER_EXAMPLE = {"request_success_rate_min_pct": 99.0, "request_duration_p99_max_ms": 500,
                   "interval": "1m", "threshold_failed_checks": 5, "step_weight_pct": 5, "max_weight_pct": 50}
ARGO_ROLLOUTS_EXAMPLE = {"success_condition": "result >= 0.95", "failure_limit": 3, "interval": "5m"}
ARGO_ROLLOUTS_DEFAULT_FAILURE_LIMIT = 0  # what an analysis metric gets when it states no failureLimit


def time_to_promote(interval_min: float, max_weight: float, step_weight: float) -> float:
    """Minutes from first canary step to full weight: interval x maxWeight / stepWeight (Flagger's arithmetic)."""
    if interval_min <= 0 or step_weight <= 0 or max_weight <= 0 or step_weight > max_weight:
        raise RolloutError("need interval > 0 and 0 < step_weight <= max_weight")
    return interval_min * max_weight / step_weight


def time_to_rollback(interval_min: float, failure_limit: int) -> float:
    """Minutes from the first failing check to the rollback: interval x failure threshold."""
    if interval_min <= 0 or failure_limit < 1:
        raise RolloutError("need interval > 0 and failure_limit >= 1")
    return interval_min * failure_limit


@dataclass
class WindowCheck:
    """One analysis window as the trigger saw it."""

    window: int
    champion: float
    challenger: float
    n: int
    relative_drop: float
    counted: bool
    failing: bool
    streak: int


@dataclass
class RollbackResult:
    """Whether the trigger fired, in which window (0-based) and why, with every window's check."""

    fired: bool
    window: int | None
    reason: str
    checks: list[WindowCheck] = field(default_factory=list)

    def table(self):
        """The checks as a pandas DataFrame (one row per window) for display."""
        import pandas as pd

        return pd.DataFrame([c.__dict__ for c in self.checks]).set_index("window")


def _window_values(w: Any, i: int) -> tuple[float, float, int]:
    if not isinstance(w, Mapping):
        if hasattr(w, "_asdict"):
            w = w._asdict()
        elif hasattr(w, "to_dict"):
            w = w.to_dict()
        else:
            raise RolloutError(f"window {i} must be a mapping with champion, challenger and n; got {type(w).__name__}")
    try:
        champ, chall = float(w["champion"]), float(w["challenger"])
    except KeyError as exc:
        raise RolloutError(f"window {i} lacks {exc.args[0]!r}; give champion and challenger metric values") from None
    if "n" in w:
        n = w["n"]
    elif "n_challenger" in w:
        n = min(w["n_challenger"], w.get("n_champion", w["n_challenger"]))
    else:
        raise RolloutError(f"window {i} lacks a sample size: give 'n' (or 'n_challenger' / 'n_champion')")
    if not (math.isfinite(champ) and math.isfinite(chall)):
        raise RolloutError(f"window {i} has a non-finite metric value")
    if n < 0:
        raise RolloutError(f"window {i} has a negative sample size {n}")
    return champ, chall, int(n)


@dataclass
class RollbackTrigger:
    """Roll back when (M_champion - M_challenger) / M_champion > max_relative_drop.

    Why each knob: `min_sample` ignores windows too small to tell a drop from noise (they neither fail nor
    break a streak); `consecutive` requires that many counted failing windows in a row, so one unlucky
    window does not kill a good model. Thresholds are agreed before deployment. `naive()` is the trigger
    without either guard, to show that it fires on noise.
    """

    max_relative_drop: float = 0.05
    min_sample: int = 1000
    consecutive: int = 3
    name: str = "guarded"

    def __post_init__(self):
        if not (isinstance(self.max_relative_drop, (int, float)) and 0 < self.max_relative_drop < 1):
            raise RolloutError(f"max_relative_drop={self.max_relative_drop!r} must be a share between 0 and 1, "
                               f"e.g. 0.05 for a 5% drop")
        if isinstance(self.min_sample, bool) or not isinstance(self.min_sample, int) or self.min_sample < 0:
            raise RolloutError(f"min_sample={self.min_sample!r} must be a whole number >= 0")
        if isinstance(self.consecutive, bool) or not isinstance(self.consecutive, int) or self.consecutive < 1:
            raise RolloutError(f"consecutive={self.consecutive!r} must be a whole number >= 1")

    @classmethod
    def naive(cls, max_relative_drop: float = 0.05) -> "RollbackTrigger":
        """Fires on the first window below the threshold, whatever its size: the anti-pattern."""
        return cls(max_relative_drop=max_relative_drop, min_sample=0, consecutive=1, name="naive")

    def evaluate(self, windows: Sequence[Any]) -> RollbackResult:
        """Walk the windows in order; fire at the window that completes `consecutive` failures in a row.

        `windows`: a sequence of mappings (or a DataFrame) with champion, challenger (metric values, higher
        is better) and n (the challenger's sample in that window); an optional `window` key labels it
        (default: its position).
        """
        if hasattr(windows, "to_dict") and hasattr(windows, "columns"):
            windows = windows.to_dict("records")
        checks: list[WindowCheck] = []
        streak = 0
        for i, w in enumerate(windows):
            champ, chall, n = _window_values(w, i)
            label = int(w["window"]) if isinstance(w, Mapping) and "window" in w else i
            if champ <= 0:
                raise RolloutError(f"window {i}: champion metric {champ} must be positive to compute a relative drop")
            drop = (champ - chall) / champ
            counted = n >= self.min_sample
            failing = counted and drop > self.max_relative_drop + 1e-12  # a drop of exactly the threshold passes
            if counted:
                streak = streak + 1 if failing else 0
            checks.append(WindowCheck(label, champ, chall, n, drop, counted, failing, streak))
            if streak >= self.consecutive:
                reason = (f"{self.name} trigger fired at window {label}: challenger {drop:.1%} below champion "
                          f"(threshold {self.max_relative_drop:.0%}) in {streak} consecutive window(s) "
                          f"with n >= {self.min_sample}")
                return RollbackResult(True, label, reason, checks)
        skipped = sum(not c.counted for c in checks)
        reason = (f"{self.name} trigger did not fire over {len(checks)} windows "
                  f"({skipped} below the minimum sample of {self.min_sample})")
        return RollbackResult(False, None, reason, checks)


@dataclass
class Stage:
    """One rollout stage: its name, the share of users on the challenger, and how many windows it lasts.

    `guarded` says whether the rollback trigger watches it (shadow serves no one, so there is nothing to
    roll back; its check is latency/errors, not the business metric).
    """

    name: str
    weight: float
    windows: int
    guarded: bool = True


DEFAULT_PLAN = (
    Stage("shadow", 0.0, 2, guarded=False),
    Stage("dogfood", 0.002, 2),
    Stage("canary 1%", 0.01, 4),
    Stage("ramp 20%", 0.2, 2), Stage("ramp 40%", 0.4, 2), Stage("ramp 60%", 0.6, 2), Stage("ramp 80%", 0.8, 2),
    Stage("full", 1.0, 1),
)


@dataclass
class RolloutLog:
    """What happened: the windows observed, and where the rollout ended (completed or rolled back)."""

    windows: list[dict]
    completed: bool
    rolled_back: bool
    stopped_stage: str | None
    trigger: RollbackResult | None
    reason: str
    paused: bool = False
    """Stopped without a rollback for a human to decide: a stage stayed inconclusive, or a health check
    (e.g. shadow latency) failed before any user was exposed."""

    @property
    def outcome(self) -> str:
        return "rolled back" if self.rolled_back else "paused" if self.paused else \
            "completed" if self.completed else "stopped"

    def counted_windows(self, stage: str) -> int:
        """Windows of `stage` the trigger counted (n >= its minimum sample)."""
        if self.trigger is None:
            return 0
        counted = {c.window for c in self.trigger.checks if c.counted}
        return sum(1 for w in self.windows if w["stage"] == stage and w["window"] in counted)

    def table(self):
        import pandas as pd

        return pd.DataFrame(self.windows)


def run_rollout(plan: Sequence[Stage], observe: Callable[[Stage, int], Mapping[str, float]],
                trigger: RollbackTrigger, *, extend_inconclusive: int = 0,
                health_check: Callable[[Stage, Mapping[str, Any]], str | None] | None = None) -> RolloutLog:
    """Walk the plan window by window; after each guarded window re-evaluate the trigger and stop if it fires.

    Why: this is what Flagger / Argo Rollouts automate. `observe(stage, window_index)` returns the window's
    champion, challenger metric values and n (the challenger's sample). The trigger sees all guarded windows
    so far (its streak carries across stage boundaries); on firing, the weight goes back to 0.

    `extend_inconclusive` > 0: an inconclusive stage pauses instead of being promoted. A guarded stage
    whose windows the trigger never counted (all below its minimum sample) is extended by one window at a
    time, at most that many times; still nothing counted -> the rollout stops, paused for a human decision.
    `health_check(stage, observation)` returns a problem text or None; a problem stops the rollout, paused
    (e.g. the shadow stage's latency under mirrored load is above the budget: nobody was exposed yet).
    """
    if not plan:
        raise RolloutError("the rollout plan is empty")
    weights = [s.weight for s in plan]
    if any(not 0 <= w <= 1 for w in weights) or weights != sorted(weights):
        raise RolloutError(f"stage weights must be in [0, 1] and non-decreasing, got {weights}")
    if isinstance(extend_inconclusive, bool) or not isinstance(extend_inconclusive, int) or extend_inconclusive < 0:
        raise RolloutError(f"extend_inconclusive={extend_inconclusive!r} must be a whole number >= 0")
    log: list[dict] = []
    guarded: list[dict] = []
    k = 0
    result: RollbackResult | None = None
    for stage in plan:
        j, counted = 0, 0
        while j < stage.windows or (stage.guarded and extend_inconclusive and counted == 0
                                    and j < stage.windows + extend_inconclusive):
            obs = dict(observe(stage, k))
            row = {"window": k, "stage": stage.name, "weight": stage.weight, **obs}
            log.append(row)
            k += 1
            j += 1
            problem = health_check(stage, obs) if health_check else None
            if problem:
                final = trigger.evaluate(guarded) if guarded else None
                return RolloutLog(log, False, False, stage.name, final,
                                  f"paused in '{stage.name}': {problem}; fix it before exposing users", True)
            if not stage.guarded:
                continue
            guarded.append({**obs, "window": row["window"]})
            result = trigger.evaluate(guarded)
            counted += result.checks[-1].counted
            if result.fired:
                reason = (f"rolled back during '{stage.name}': {result.reason}; "
                          f"challenger weight set to 0")
                return RolloutLog(log, False, True, stage.name, result, reason)
        if stage.guarded and extend_inconclusive and counted == 0:
            return RolloutLog(log, False, False, stage.name, result,
                              f"paused in '{stage.name}': inconclusive, no window reached the minimum sample of "
                              f"{trigger.min_sample} in {j} windows; needs a human decision (more traffic or "
                              f"longer windows)", True)
    final = trigger.evaluate(guarded) if guarded else None
    return RolloutLog(log, True, False, None, final, f"completed all {len(plan)} stages to full traffic")


def window_split(weight: float, window_users: int, cap: int) -> tuple[int, int]:
    """(champion users, challenger users) read in one analysis window at a stage's `weight`.

    The challenger gets `weight` of the window's users, the champion the rest but at least 1% (a holdback
    keeps a champion baseline at full rollout), each side capped at `cap` users read. One rule for the
    simulated rollout (`RecsysWorld.rollout_observer`) and the trigger simulations below."""
    na = min(cap, max(int(round((1 - weight) * window_users)), int(0.01 * window_users)))
    nb = min(cap, int(round(weight * window_users)))
    return na, nb


def window_sizes(plan: Sequence[Stage], window_users: int, cap: int) -> list[tuple[str, int, int]]:
    """(stage, champion users, challenger users) of every guarded window with challenger traffic
    (`window_split` per window)."""
    sizes = []
    for stage in plan:
        if not stage.guarded:
            continue
        for _ in range(stage.windows):
            na, nb = window_split(stage.weight, window_users, cap)
            if nb > 0:
                sizes.append((stage.name, na, nb))
    return sizes


def false_alarm_rate(champion_ctr: float, challenger_ctr: float, trigger: RollbackTrigger,
                     plan: Sequence[Stage] = DEFAULT_PLAN, window_users: int = 200_000, cap: int = 20_000,
                     n_sims: int = 500, seed: int = 0) -> float:
    """Share of simulated rollouts of a healthy challenger (true CTRs given) in which the trigger fires.

    Why: a rollback rule is only useful if it stays quiet when nothing is wrong; clicks per window are
    drawn as binomials with the same sample sizes as `RecsysWorld.rollout_observer`.
    """
    import numpy as np

    if not (0 < champion_ctr < 1 and 0 < challenger_ctr < 1):
        raise RolloutError("CTRs must be between 0 and 1")
    rng = np.random.default_rng(seed)
    sizes = window_sizes(plan, window_users, cap)
    fired = 0
    for _ in range(n_sims):
        windows = [{"champion": max(rng.binomial(na, champion_ctr), 1) / na,
                    "challenger": rng.binomial(nb, challenger_ctr) / nb, "n": nb} for _, na, nb in sizes]
        fired += trigger.evaluate(windows).fired
    return fired / n_sims


def trigger_operating_table(champion_ctr: float, relative_drops: Sequence[float], trigger: RollbackTrigger,
                            plan: Sequence[Stage] = DEFAULT_PLAN, window_users: int = 200_000, cap: int = 20_000,
                            n_sims: int = 300, seed: int = 0, by_stage: str | None = None):
    """For each true relative drop of the challenger's CTR: how often the trigger fires, and how soon.

    Why: a rollback rule has two error rates. At a drop of 0 firing is a false alarm; at a real drop not
    firing is a miss. Windows are drawn as binomials with the sample sizes of
    `RecsysWorld.rollout_observer`. Returns a DataFrame indexed by the drop with `fire_rate` (over the whole
    plan), `fire_rate_by_stage` (fired by the end of `by_stage`, default the first guarded stage with
    challenger traffic; its name is in `.attrs["by_stage"]`) and `median_window` (the guarded window with
    challenger traffic it fired in, 0-based; NaN if it never fired).
    """
    import numpy as np
    import pandas as pd

    if not 0 < champion_ctr < 1:
        raise RolloutError("champion_ctr must be between 0 and 1")
    if any(not 0 <= d < 1 for d in relative_drops):
        raise RolloutError("relative drops must be shares from 0 (no drop) to below 1")
    named = window_sizes(plan, window_users, cap)
    sizes = [(na, nb) for _, na, nb in named]
    stage_end: dict[str, int] = {}
    for i, (name, _, _) in enumerate(named):
        stage_end[name] = i + 1  # windows counted by the end of that stage
    if not sizes:
        raise RolloutError("the plan has no guarded stage with challenger traffic: add a stage with weight > 0 "
                           "and guarded=True (the trigger only judges those)")
    by_stage = by_stage or next(iter(stage_end))
    if by_stage not in stage_end:
        raise RolloutError(f"by_stage={by_stage!r} is not a guarded stage with traffic: {list(stage_end)}")
    na, nb = np.array(sizes).T
    rng = np.random.default_rng(seed)
    rows = []
    for drop in relative_drops:
        fired_at = []
        for _ in range(n_sims):
            champ = np.maximum(rng.binomial(na, champion_ctr), 1) / na
            chall = rng.binomial(nb, champion_ctr * (1 - drop)) / nb
            res = trigger.evaluate([{"champion": a, "challenger": b, "n": n} for a, b, n in zip(champ, chall, nb)])
            if res.fired:
                fired_at.append(res.window)
        rows.append({"relative_drop": drop, "fire_rate": len(fired_at) / n_sims,
                     "fire_rate_by_stage": sum(w < stage_end[by_stage] for w in fired_at) / n_sims,
                     "median_window": float(np.median(fired_at)) if fired_at else float("nan")})
    out = pd.DataFrame(rows).set_index("relative_drop")
    out.attrs["by_stage"] = by_stage
    return out
