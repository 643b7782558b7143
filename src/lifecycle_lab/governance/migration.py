"""Migration from the legacy model to its replacement, and the sunset of the legacy model.

Why: replacing a model that decides about money or people is itself a risk. The replacement runs in
shadow, then a canary, then ramps, with the legacy model kept warm so a rollback is instant; an automated
trigger (`lifecycle_lab.rollout.RollbackTrigger`, agreed before deployment) rolls back on a > 5% drop of
the business metric over a minimum sample and consecutive windows. Then the legacy model is
decommissioned on a plan (NIST AI RMF GOVERN 1.7, MANAGE 2.4) with its records retained.

The canary is simulated by replaying recent labelled decisions (labels arrive late, so a live canary
reads a proxy; a replay shows what the trigger would have done).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from . import GovernanceError, check_variant
from .business import Costs

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
    nothing = y.sum() * costs.fn
    model = ((flag == 1) & (y == 0)).sum() * costs.fp + ((flag == 0) & (y == 1)).sum() * costs.fn \
        + flag.sum() * costs.review
    return float(nothing - model) / len(y)


def _value_from_counts(tp, fp, fn, n, costs: Costs) -> float:
    return float((tp + fn) * costs.fn - (fp * costs.fp + fn * costs.fn + (tp + fp) * costs.review)) / n


def required_sample(y, flag, costs: Costs, *, drop: float = 0.05, z: float = 2.5) -> int:
    """Decisions a window needs before a `drop` of the business metric stands out from noise.

    n = (z * sd / (drop * mean))^2 with the per-decision value's mean and standard deviation. Why: fraud
    value comes from rare, expensive cases, so its noise is large; a trigger that judges smaller windows
    judges noise. (Treat it as a rule of thumb: it ignores the champion's own noise.)
    """
    import numpy as np

    y = np.asarray(y).astype(int)
    flag = np.asarray(flag).astype(int)
    value = y * costs.fn - ((flag == 1) & (y == 0)) * costs.fp - ((flag == 0) & (y == 1)) * costs.fn \
        - flag * costs.review
    mean, sd = float(value.mean()), float(value.std())
    if mean <= 0:
        raise GovernanceError("the champion avoids no cost on average (metric <= 0): a relative-drop trigger "
                              "is meaningless; pick another business metric")
    return int(np.ceil((z * sd / (drop * mean)) ** 2))


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
    from .. import rollout

    fired = 0
    for r in range(runs):
        obs = replay_observer(y, flag, flag, costs, traffic_per_window=traffic_per_window, seed=seed + r)
        fired += rollout.run_rollout(plan, obs, trigger).rolled_back
    return fired / runs


def sunset_plan(variant: str, *, start_week: int = 0, keep_warm_weeks: int = 8) -> "pd.DataFrame":
    """Milestones of migration and decommissioning with owners and exit criteria.

    Why each line: shadow and canary find problems before customers do; the legacy model stays warm
    (deployed, fed, not serving) for `keep_warm_weeks` after full traffic so rollback stays instant;
    decommissioning removes access but keeps records (NIST AI RMF GOVERN 1.7: decommission safely;
    MANAGE 2.4: mechanisms to supersede or deactivate a system).
    """
    import pandas as pd

    check_variant(variant)
    if keep_warm_weeks < 4:
        raise GovernanceError("keep the legacy model warm for at least 4 weeks after full traffic")
    w = start_week
    rows = [
        (w, "freeze changes to the legacy model; revalidation opened", "model risk", "freeze announced"),
        (w + 1, "replacement validated independently (effective challenge)", "validation", "validation report signed"),
        (w + 2, "shadow: replacement scores mirrored traffic, answers discarded", "ML engineering",
         "2 weeks, no errors, score agreement analysed"),
        (w + 4, "canary 1% with the automated rollback trigger armed", "ML engineering",
         "4 windows, trigger silent"),
        (w + 6, "ramp 20-40-60-80% with pauses", "product + ML engineering", "trigger silent at every step"),
        (w + 8, "full traffic; legacy kept warm as the fallback", "platform", "rollback rehearsed"),
        (w + 8 + keep_warm_weeks, "legacy stops receiving data; serving endpoint removed", "platform",
         "no traffic for 2 weeks"),
        (w + 9 + keep_warm_weeks, "inventory entry marked 'recently retired'; artefacts archived read-only",
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
    """What is kept after retirement and for how long (legal minimums named where they exist)."""
    import pandas as pd

    check_variant(variant)
    high = variant == "credit"
    rows = [
        ("decision logs (inputs, score, version, outcome)", "at least 6 months (AI Act Art 19 / 26(6))"
         if high else "firm policy (>= 6 months recommended)"),
        ("technical documentation, model card, validation reports", "10 years after last use (AI Act Art 18)"
         if high else "firm policy (e.g. 5 years)"),
        ("training and evaluation data snapshots with hashes", "as long as the documentation, access-controlled"),
        ("adverse-action notices and reason codes", "25 months (Reg B 1002.12)" if high else "not applicable"),
        ("incident reports and rollback records", "with the documentation"),
    ]
    return pd.DataFrame(rows, columns=["record", "retention"])
