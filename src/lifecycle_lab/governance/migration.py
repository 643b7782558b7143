"""Migration from the legacy model to its replacement, and the sunset of the legacy model.

Why: replacing a model that decides about money or people is itself a risk. The replacement runs in
shadow, then a canary, then ramps, with the legacy model kept warm so a rollback is instant. Two kinds of
automated guard watch it, agreed before deployment:

- a **label-free guard** on mirrored traffic (the replacement scores every request from the shadow on,
  whatever share it serves): agreement with the legacy model's decisions, the ratio of their flag rates and
  the PSI of the replacement's scores against its validation scores. It needs no labels, so it can act
  within days, in shadow and canary (`guard.LabelFreeGuard`, importable from here too);
- the **> 5% business-metric trigger** (`lifecycle_lab.deployment.rollout.RollbackTrigger`) on outcomes: it needs
  labels, which arrive 40-90 days late, and a minimum sample per window that at this firm's volume takes
  months of full traffic. `label_trigger_reach` says in calendar time what it can and cannot see.

Then the legacy model is decommissioned on a plan (NIST AI RMF GOVERN 1.7, MANAGE 2.4) with its records
retained. The rollout is simulated by replaying recent labelled decisions.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from lifecycle_lab.deployment import rollout

# the plan's label-free guard has its own module; callers keep using migration.LabelFreeGuard and the rest
from lifecycle_lab.deployment.guard import (  # noqa: F401
    GuardCheck,
    LabelFreeGuard,
    guard_false_alarm_rate,
    mirrored_observer,
    rollback_time,
)
from lifecycle_lab.evaluation.costs import Costs
from lifecycle_lab.governance import GovernanceError, check_variant

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def net_value_per_decision(y, flag, costs: Costs) -> float:
    """The business metric: cost avoided per decision against flagging nothing (higher is better).

    Flagging nothing costs c_FN per positive; the model costs FP c_FP + FN c_FN + flags c_review.
    """
    import numpy as np

    y = np.asarray(y).astype(int)
    flag = np.asarray(flag).astype(int)
    if len(y) == 0:
        raise GovernanceError("no decisions in the window")
    if len(flag) != len(y):
        raise GovernanceError(f"{len(y)} labels but {len(flag)} flags: give one flag per labelled decision")
    tp = int(((flag == 1) & (y == 1)).sum())
    fp = int(((flag == 1) & (y == 0)).sum())
    fn = int(((flag == 0) & (y == 1)).sum())
    return _value_from_counts(tp, fp, fn, len(y), costs)


def _value_from_counts(tp, fp, fn, n, costs: Costs) -> float:
    """The metric from a window's confusion counts (the replay draws counts, not rows)."""
    return float((tp + fn) * costs.fn - costs.total(fp, fn, tp + fp)) / n


def value_per_decision(y, flag, costs: Costs):
    """Each decision's contribution to the business metric: EUR of cost avoided against flagging nothing."""
    import numpy as np

    y = np.asarray(y).astype(int)
    flag = np.asarray(flag).astype(int)
    if len(y) != len(flag) or len(y) == 0:
        raise GovernanceError(f"{len(y)} labels and {len(flag)} flags: give one flag per labelled decision, "
                              f"at least one")
    return y * costs.fn - costs.total((flag == 1) & (y == 0), (flag == 0) & (y == 1), flag)


def _mean_sd(y, flag, costs: Costs) -> tuple[float, float]:
    value = value_per_decision(y, flag, costs)
    mean, sd = float(value.mean()), float(value.std())
    if mean <= 0:
        raise GovernanceError("the champion avoids no cost on average (metric <= 0): a relative-drop trigger "
                              "is meaningless; pick another business metric")
    return mean, sd


def required_sample(y, flag, costs: Costs, *, drop: float = 0.05, z: float = 2.5) -> int:
    """Decisions a window needs before a `drop` of the business metric stands out from noise.

    n = (z * sd / (drop * mean))^2 with the per-decision value's mean and standard deviation. Why: fraud
    value comes from rare, expensive cases, so its noise is large; a trigger that judges smaller windows
    judges noise. (Treat it as a rule of thumb: it ignores the champion's own noise.)
    """
    import numpy as np

    mean, sd = _mean_sd(y, flag, costs)
    return int(np.ceil((z * sd / (drop * mean)) ** 2))


def minimum_detectable_drop(y, flag, costs: Costs, n: float, *, z: float = 2.5) -> float:
    """The smallest relative drop a window of `n` decisions tells from noise: z * sd / (mean * sqrt(n)).

    The same rule of thumb as `required_sample`, solved for the drop; `inf` for an empty window.
    """
    mean, sd = _mean_sd(y, flag, costs)
    return math.inf if n <= 0 else z * sd / (mean * math.sqrt(n))


# The migration in calendar days: (stage, challenger weight, days). The shadow is watched by the label-free
# guard; the stages after it also serve customers.
STAGE_DAYS = (("shadow", 0.0, 14), ("canary 1%", 0.01, 14), ("ramp 20%", 0.2, 7), ("ramp 40%", 0.4, 7),
              ("ramp 60%", 0.6, 7), ("ramp 80%", 0.8, 7), ("full", 1.0, 14))
DAYS_PER_YEAR = 365


def _ramps(stages):
    """The ramp stages of a plan: partial traffic of at least 10% (the 1% canary before them is not a ramp)."""
    return [s for s in stages if 0.1 <= s[1] < 1]


def daily_volume(volume_per_year: float) -> float:
    """Decisions a day at a yearly volume (the business case's volume, so every document uses one volume)."""
    if isinstance(volume_per_year, bool) or not isinstance(volume_per_year, (int, float)) or volume_per_year <= 0:
        raise GovernanceError(f"volume_per_year={volume_per_year!r} must be a positive number of decisions")
    return volume_per_year / DAYS_PER_YEAR


def calendar_plan(window_days: int, *, guard_shadow: bool = True, stages=STAGE_DAYS) -> tuple:
    """The rollout plan as `rollout.Stage`s whose windows last `window_days` each (a stage of d days gets
    ceil(d / window_days) windows). `guard_shadow`: the label-free guard watches the shadow too (the
    outcome trigger does not: the shadow serves no one, and declined cases have no outcome)."""
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 1:
        raise GovernanceError(f"window_days={window_days!r} must be a whole number of days >= 1")
    return tuple(rollout.Stage(name, weight, max(1, math.ceil(days / window_days)),
                               guarded=guard_shadow or weight > 0) for name, weight, days in stages)


def stage_start(plan, name: str) -> int:
    """The index of the first window of stage `name` in a plan (windows are numbered across stages)."""
    k = 0
    for stage in plan:
        if stage.name == name:
            return k
        k += stage.windows
    raise GovernanceError(f"stage {name!r} is not in the plan: {[s.name for s in plan]}")


def label_trigger_reach(y, flag, costs: Costs, *, volume_per_year: float, label_delay_days: float,
                        drop: float = 0.05, z: float = 2.5, window_days: int = 7, stages=STAGE_DAYS) -> "pd.DataFrame":
    """What a label-based `drop` trigger can see at each stage, in calendar time.

    Per stage: the challenger's decisions per window (weight x the business case's daily volume x
    window_days), the minimum sample (`required_sample`), the windows of this weight needed to reach it,
    the minimum detectable drop in one window, and whether one window can see `drop` at all. Outcomes are
    read only once labels arrive (`label_delay_days` later); `attrs` hold the minimum sample, the weeks of
    full traffic it takes, and the daily volume at which one window of the first ramp would suffice.
    """
    import pandas as pd

    need = required_sample(y, flag, costs, drop=drop, z=z)
    per_day = daily_volume(volume_per_year)
    rows = []
    for name, weight, days in stages:
        if weight == 0:
            continue
        n = weight * per_day * window_days
        rows.append({"stage": name, "weight": weight, "days": days, "challenger decisions per window": round(n),
                     "windows needed": math.ceil(need / n), "detectable drop in one window":
                     minimum_detectable_drop(y, flag, costs, n, z=z), f"sees a {drop:.0%} drop": n >= need,
                     "mean label delay (days)": label_delay_days})
    table = pd.DataFrame(rows).set_index("stage")
    first_ramp = next((w for _, w, _ in _ramps(stages)), 1.0)
    table.attrs.update({"min_sample": need, "window_days": window_days,
                        "days_at_full_traffic": need / per_day, "daily_volume": per_day,
                        "daily_volume_needed": need / (first_ramp * window_days), "first_ramp_weight": first_ramp})
    return table


def paired_value_ci(y, champion_flag, challenger_flag, costs: Costs, *, n_boot: int = 1000, seed: int = 0,
                    level: float = 0.95) -> dict:
    """Champion vs challenger on the same labelled decisions: each one's business metric, the difference
    (challenger - champion) and its percentile-bootstrap interval (decisions resampled in pairs).

    Why: the promote decision before any traffic moves. Paired on the same rows, the comparison is far
    less noisy than two separate samples; promote to shadow only if the interval is above zero.
    """
    import numpy as np

    a = value_per_decision(y, champion_flag, costs)
    b = value_per_decision(y, challenger_flag, costs)  # both checked against y: the same decisions
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 100:
        raise GovernanceError(f"n_boot={n_boot!r}: use a whole number of at least 100 replicates")
    d = b - a
    idx = np.random.default_rng(seed).integers(0, len(d), size=(n_boot, len(d)))
    reps = d[idx].mean(axis=1)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(reps, [alpha, 1 - alpha])
    return {"champion": float(a.mean()), "challenger": float(b.mean()), "difference": float(d.mean()),
            "lower": float(lo), "upper": float(hi), "level": level, "n": int(len(d)),
            "promote": bool(lo > 0)}


def good_pass_rate(y, flag) -> float:
    """Share of good cases not flagged: for credit, the approval rate of applicants who repaid (the 'approval
    rate for qualified applicants' a lender watches); for fraud, genuine payments let through.

    Why: it is the metric a business names first for a rollback trigger, yet the cost-optimal model may
    flag more good cases; a trigger on it can then roll back the better model."""
    import numpy as np

    y = np.asarray(y).astype(int)
    flag = np.asarray(flag).astype(int)
    if (y == 0).sum() == 0:
        raise GovernanceError("no good cases (label 0) to compute a pass rate on")
    return float((flag[y == 0] == 0).mean())


def replay_observer(y, champion_flag, challenger_flag, costs: Costs, *, traffic_per_window: int, seed: int = 0):
    """An `observe(stage, k)` for `rollout.run_rollout` that replays labelled decisions.

    Each window has `traffic_per_window` decisions: the challenger gets its stage weight of them (in
    shadow it scores all of them, mirrored, and its answers are discarded), the champion the rest. The
    outcomes are drawn from the replayed rows' joint frequencies of (label, champion flag, challenger
    flag) with a multinomial draw, so windows of millions of decisions cost nothing extra.
    """
    import numpy as np

    y = np.asarray(y).astype(int)
    a = np.asarray(champion_flag).astype(int)
    b = np.asarray(challenger_flag).astype(int)
    if not len(y) == len(a) == len(b) or len(y) == 0:
        raise GovernanceError("y and both models' flags must be non-empty and of equal length")
    if traffic_per_window < 10:
        raise GovernanceError("traffic_per_window must be at least 10 decisions")
    cell = 4 * y + 2 * a + b  # 8 cells: label, champion flag, challenger flag
    probs = np.bincount(cell, minlength=8) / len(cell)
    rng = np.random.default_rng(seed)

    def metric(counts, which, n):
        c = counts.reshape(2, 2, 2)  # [y, a, b]
        per = c.sum(axis=2) if which == "a" else c.sum(axis=1)  # [y, flag]
        return _value_from_counts(per[1, 1], per[0, 1], per[1, 0], n, costs)

    def observe(stage, k):
        if stage.weight == 0:  # shadow: both score the same mirrored traffic
            counts = rng.multinomial(traffic_per_window, probs)
            return {"champion": metric(counts, "a", traffic_per_window),
                    "challenger": metric(counts, "b", traffic_per_window), "n": int(traffic_per_window)}
        n_cl = max(1, int(round(stage.weight * traffic_per_window)))
        # at full traffic the legacy model is kept warm: it still scores mirrored traffic for comparison
        n_ch = traffic_per_window - n_cl if n_cl < traffic_per_window else traffic_per_window
        champ = rng.multinomial(n_ch, probs)
        chall = rng.multinomial(n_cl, probs)
        return {"champion": metric(champ, "a", n_ch), "challenger": metric(chall, "b", n_cl), "n": n_cl}

    return observe


def false_alarm_rate(trigger, y, flag, costs: Costs, *, plan, traffic_per_window: int, runs: int = 100,
                     seed: int = 0) -> float:
    """Share of A/A replays (challenger = champion, so any 'drop' is noise) in which the trigger fires.

    Why: the proof that a naive trigger fires on noise is a rate, not one unlucky run.
    """
    fired = 0
    for r in range(runs):
        obs = replay_observer(y, flag, flag, costs, traffic_per_window=traffic_per_window, seed=seed + r)
        fired += rollout.run_rollout(plan, obs, trigger).rolled_back
    return fired / runs


def sunset_plan(variant: str, *, start_week: int = 0, keep_warm_weeks: int = 8, stages=STAGE_DAYS) -> "pd.DataFrame":
    """Milestones of migration and decommissioning with owners and exit criteria, dated from `stages`.

    Why each line: shadow and canary find problems before customers do (the label-free guard watches
    both); the legacy model stays warm (deployed, fed, not serving) for `keep_warm_weeks` after full
    traffic so rollback stays instant; decommissioning removes access but keeps records (NIST AI RMF
    GOVERN 1.7: decommission safely; MANAGE 2.4: mechanisms to supersede or deactivate a system).
    """
    import pandas as pd

    check_variant(variant)
    if keep_warm_weeks < 4:
        raise GovernanceError("keep the legacy model warm for at least 4 weeks after full traffic")
    w = start_week
    day = 7 * (w + 2)  # shadow starts two weeks after the freeze: one week to validate, one to wire mirroring
    starts = {}
    for name, _, days in stages:
        starts[name] = day
        day += days
    ramps = [n for n, _, _ in _ramps(stages)]
    ramp_days = sum(d for _, _, d in _ramps(stages))
    full_week = starts[stages[-1][0]] // 7
    rows = [
        (w, "freeze changes to the legacy model; revalidation opened", "model risk", "freeze announced"),
        (w + 1, "replacement validated independently (effective challenge); guard thresholds agreed",
         "validation", "validation report signed; paired value difference above zero"),
        (starts["shadow"] // 7, "shadow: replacement scores mirrored traffic, answers discarded", "ML engineering",
         f"{stages[0][2]} days, label-free guard silent (agreement, flag-rate ratio, score PSI)"),
        (starts[stages[1][0]] // 7, f"{stages[1][0]} with the label-free guard armed", "ML engineering",
         f"{stages[1][2]} days, guard silent"),
        (starts[ramps[0]] // 7, "ramp " + "-".join(n.split()[-1].rstrip("%") for n in ramps) + "% with pauses",
         "product + ML engineering", f"{ramp_days} days, guard silent; outcomes read as their labels arrive"),
        (full_week, "full traffic; legacy kept warm as the fallback", "platform", "rollback rehearsed"),
        (full_week + keep_warm_weeks, "legacy stops receiving data; serving endpoint removed", "platform",
         "no traffic for 2 weeks; first outcome windows of the replacement read"),
        (full_week + keep_warm_weeks + 1, "inventory entry marked 'recently retired'; artefacts archived read-only",
         "model risk", "inventory updated"),
    ]
    if variant == "credit":
        rows.insert(2, (w + 1, "FRIA updated and reason-code templates approved", "compliance", "FRIA on file"))
    return pd.DataFrame(rows, columns=["week", "milestone", "owner", "exit criterion"])


def data_fallback(variant: str) -> list[str]:
    """What serves decisions when something fails during and after the migration, in order."""
    check_variant(variant)
    people = "underwriters" if variant == "credit" else "fraud analysts"
    return ["1. replacement model (primary)",
            "2. legacy model, kept warm until the keep-warm period ends (automatic on rollback)",
            f"3. conservative rules plus manual review by {people} (if both models or their features are "
            f"unavailable); stale features older than 24 h are never scored"]


def record_retention(variant: str) -> "pd.DataFrame":
    """What is kept after retirement and for how long (legal minimums named where they exist).

    `months` is the period and `from` its start: 'service' = when the system was put into service
    (AI Act Art 18 counts from there), 'retirement' = when it is retired, 'notice' = when the applicant was
    told (Reg B). Fraud has no legal minimum here: the firm's policy applies.
    """
    import pandas as pd

    check_variant(variant)
    high = variant == "credit"
    rows = [
        ("decision logs (inputs, score, version, outcome)",
         "at least 6 months (AI Act Art 19 / 26(6))" if high else "firm policy (>= 6 months recommended)",
         6, "retirement"),
        ("technical documentation, model card, validation reports",
         "10 years after being put into service (AI Act Art 18)" if high else "firm policy: 5 years after retirement",
         120 if high else 60, "service" if high else "retirement"),
        ("training and evaluation data snapshots with hashes", "as long as the documentation, access-controlled",
         120 if high else 60, "service" if high else "retirement"),
        ("adverse-action notices and reason codes", "25 months (Reg B 1002.12)" if high else "not applicable",
         25 if high else 0, "notice"),
        ("incident reports and rollback records", "with the documentation", 120 if high else 60,
         "service" if high else "retirement"),
    ]
    return pd.DataFrame(rows, columns=["record", "retention", "months", "from"])


def retain_until(variant: str, *, service_month: int, retired_month: int) -> str:
    """The date (in months of the case) until which the last record must be kept, and which record sets it."""
    table = record_retention(variant)
    if retired_month < service_month:
        raise GovernanceError(f"retired_month={retired_month} is before service_month={service_month}: a model "
                              f"cannot be retired before it was put into service; check the two months")
    start = {"service": service_month, "retirement": retired_month, "notice": retired_month}
    ends = [(start[r["from"]] + r["months"], r["record"], r["retention"]) for r in table.to_dict("records")]
    end, record, rule = max(ends, key=lambda e: e[0])
    return f"month {end} ({record}: {rule})"
