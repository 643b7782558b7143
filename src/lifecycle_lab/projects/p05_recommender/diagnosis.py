"""The CTR decline, diagnosed with the monitoring toolkit: when did it start, did the inputs move (PSI / KS on
user features), did the examination curve move (explored slots by position), did one segment's taste move
(the CTR of the same videos per segment against the other segments), and could latency or errors have shown it?

Causes named (`CAUSES`): `position_bias` (a presentation change: lower positions examined less; what is at
the top is clicked as before), `taste_shift` (concept drift in one segment: its CTR drops at the top slot
too), `data_drift` (the user population moved: a feature's PSI is major), `none`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lifecycle_lab.evaluation.experiment import two_proportion_test
from lifecycle_lab.monitoring.drift import drift_table
from lifecycle_lab.projects.p05_recommender.loop import LoopRun, estimate_examination
from lifecycle_lab.projects.p05_recommender.world import SEGMENTS, USER_FEATURES, RecWorld

CAUSES = ("position_bias", "taste_shift", "data_drift", "none")
EXAM_DROP = 0.10      # relative drop of mean examination (positions 2..k) that counts as a presentation change
SEGMENT_DROP = 0.10   # a segment whose CTR falls this much more than the others' has shifted tastes
PSI_MAJOR = 0.25
MIN_DROP = 0.05       # a relative CTR decline smaller than this is not an incident


@dataclass
class Diagnosis:
    change_day: int
    ctr_before: float
    ctr_after: float
    causes: list
    drift: "object"          # the drift_table of user features, before vs after
    examination: "object"    # the examination curve before and after (explored slots)
    segments: "object"       # CTR per segment before and after, with the relative change
    ops: dict
    segment: str | None = None       # the segment whose tastes moved, when that is a cause
    lower_change: float = 0.0           # same-video CTR change at positions 2..k
    explored_lower_change: float = 0.0  # relative change of the explored slots' CTR at positions 2..k

    @property
    def cause(self) -> str:
        return self.causes[0] if self.causes else "none"

    @property
    def relative_drop(self) -> float:
        return 1 - self.ctr_after / self.ctr_before


def change_day(daily_ctr, window: int = 14) -> int:
    """The first day of the steepest decline: the day t where the mean of the `window` days before t exceeds
    the mean of the `window` days from t by the most (a local step detector that ignores rises)."""
    y = np.asarray(daily_ctr, float)
    if len(y) < 2 * window:
        window = max(1, len(y) // 2)
    c = np.concatenate([[0.0], np.cumsum(y)])
    t = np.arange(window, len(y) - window + 1)
    drop = (c[t] - c[t - window]) / window - (c[t + window] - c[t]) / window
    return int(t[np.argmax(drop)])


def diagnose(run: LoopRun, world: RecWorld, window: int = 14) -> Diagnosis:
    """Find the step in the logged CTR, compare `window` days either side, and name the causes.

    Evidence: (1) the decline itself (two-proportion test on logged CTR; a drop under MIN_DROP is "none");
    (2) PSI / KS of the sessions' user features (data drift); (3) the CTR of the same videos in the same
    positions after vs before: a drop at positions 2..k while position 1 holds is the examination curve
    moving (the explored slots, random videos, show the same more noisily); (4) per segment, the CTR of the same videos after vs
    before (P(click | video) moved: concept drift), against the other segments' change. A segment whose
    slate merely changed keeps the same per-video CTR: the model moved, not the users."""
    import pandas as pd

    days, m = run.days, run.monitor
    # the most significant decline of the total CTR or of any segment's CTR (a segment's incident can be small
    # in the total): for every day t, a two-proportion z of the window after t against the window before it
    clicks = np.column_stack([m["seg_clicks"].sum(1), m["seg_clicks"]])
    imps = np.column_stack([m["seg_imps"].sum(1), m["seg_imps"]]).astype(float)
    w = window if len(days) >= 2 * window else max(1, len(days) // 2)
    cc_, ci = np.vstack([np.zeros(clicks.shape[1]), np.cumsum(clicks, 0)]), np.vstack([np.zeros(imps.shape[1]), np.cumsum(imps, 0)])
    ts = np.arange(w, len(days) - w + 1)
    cb, nb = cc_[ts] - cc_[ts - w], ci[ts] - ci[ts - w]
    ca, na = cc_[ts + w] - cc_[ts], ci[ts + w] - ci[ts]
    pooled = (cb + ca) / (nb + na)
    z = (cb / nb - ca / na) / np.sqrt(np.maximum(pooled * (1 - pooled) * (1 / nb + 1 / na), 1e-18))
    t = int(ts[np.unravel_index(np.argmax(z), z.shape)[0]])
    before = slice(max(0, t - window), t)
    after = slice(t, min(len(days), t + window))
    users_b, users_a = np.concatenate(m["users"][before]), np.concatenate(m["users"][after])
    ref = pd.DataFrame(world.user_features(users_b), columns=USER_FEATURES)
    cur = pd.DataFrame(world.user_features(users_a), columns=USER_FEATURES)
    drift = drift_table(ref, cur, list(USER_FEATURES))
    eb, nb = m["explored_clicks"][before].sum(0), m["explored_imps"][before].sum(0)
    ea, na = m["explored_clicks"][after].sum(0), m["explored_imps"][after].sum(0)
    exam = pd.DataFrame({"position": np.arange(1, len(eb) + 1), "explored_ctr_before": eb / np.maximum(nb, 1),
                         "explored_ctr_after": ea / np.maximum(na, 1),
                         "examination_before": estimate_examination(eb, nb),
                         "examination_after": estimate_examination(ea, na)})
    lower = two_proportion_test(int(eb[1:].sum()), int(nb[1:].sum()), int(ea[1:].sum()), int(na[1:].sum()))
    total = two_proportion_test(int(m["seg_clicks"][before].sum()), int(m["seg_imps"][before].sum()),
                                int(m["seg_clicks"][after].sum()), int(m["seg_imps"][after].sum()))
    seg_rows = []
    for s, name in enumerate(SEGMENTS):
        test = two_proportion_test(int(m["seg_clicks"][before, s].sum()), int(m["seg_imps"][before, s].sum()),
                                   int(m["seg_clicks"][after, s].sum()), int(m["seg_imps"][after, s].sum()))
        seg_rows.append({"segment": name, "ctr_before": test.rate_a, "ctr_after": test.rate_b,
                         "relative_change": test.relative_lift, "pvalue": test.pvalue})
    segments = pd.DataFrame(seg_rows).set_index("segment")
    # the same (position, segment, video) cells after vs before: their CTR moves only if the users' response
    # to the same video in the same place moved (the mix of what is shown is held at the after-window's)
    cb, nb_ = m["cell_clicks"][before].sum(0, dtype=float), m["cell_imps"][before].sum(0, dtype=float)
    ca, na_ = m["cell_clicks"][after].sum(0, dtype=float), m["cell_imps"][after].sum(0, dtype=float)
    both = (nb_ >= 20) & (na_ >= 20)
    got = np.where(both, ca, 0.0)                                   # position x segment x video
    expected = np.where(both, na_ * cb / np.maximum(nb_, 1), 0.0)
    segments["same_video_ctr_change"] = got.sum((0, 2)) / np.maximum(expected.sum((0, 2)), 1e-9) - 1
    exam["same_video_ctr_change"] = got.sum((1, 2)) / np.maximum(expected.sum((1, 2)), 1e-9) - 1
    # per segment: positions 2..k against position 1; the median segment decides (a taste shift moves one)
    seg_top = got[0].sum(1) / np.maximum(expected[0].sum(1), 1e-9) - 1
    seg_lower = got[1:].sum((0, 2)) / np.maximum(expected[1:].sum((0, 2)), 1e-9) - 1
    lower_change = float(np.median(seg_lower))
    top_change = float(np.median(seg_top))
    causes = []
    declined = bool((segments["relative_change"] < -MIN_DROP).any() and (segments["pvalue"] < 0.01).any()) \
        or (total.relative_lift < -MIN_DROP and total.pvalue < 0.01)
    if declined and (drift["psi"] > PSI_MAJOR).any():
        causes.append("data_drift")
    if declined and lower_change < -EXAM_DROP and lower_change < top_change - EXAM_DROP:
        causes.append("position_bias")
    change = segments["same_video_ctr_change"]
    worst = change.idxmin()
    if declined and change[worst] < -SEGMENT_DROP and change[worst] < change.drop(worst).median() - SEGMENT_DROP:
        causes.append("taste_shift")
    ops = world.ops()
    ops_change = {name: (float(ops[name][before].mean()), float(ops[name][after].mean()))
                  for name in ("latency_p95_ms", "error_rate")}
    return Diagnosis(int(t), total.rate_a, total.rate_b, causes or ["none"], drift, exam, segments, ops_change,
                     worst if "taste_shift" in causes else None, lower_change, lower.relative_lift)


def memo(found: Diagnosis, truth: list) -> str:
    """The diagnosis as a short markdown memo: the step, each piece of evidence, the cause, the world's truth."""
    (lb, la), (eb, ea) = found.ops["latency_p95_ms"], found.ops["error_rate"]
    lines = [f"# Diagnosis of the CTR decline", "",
             f"- Step found on day {found.change_day}: CTR {found.ctr_before:.4f} -> {found.ctr_after:.4f} "
             f"({-found.relative_drop:+.1%}).",
             f"- Operations: p95 latency {lb:.1f} -> {la:.1f} ms, error rate {eb:.4f} -> {ea:.4f} (flat).",
             f"- Inputs: largest PSI of a user feature {found.drift['psi'].max():.3f} (stable below 0.1).",
             f"- Same videos, same positions: CTR change at positions 2..k {found.lower_change:+.1%}, "
             f"at position 1 {found.examination['same_video_ctr_change'].iloc[0]:+.1%}.",
             "- Same videos per segment: " + ", ".join(f"{s} {v:+.1%}" for s, v in
                                                    found.segments["same_video_ctr_change"].items()) + ".",
             f"- Cause named: **{', '.join(found.causes)}**" + (f" (segment {found.segment})" if found.segment else ""),
             f"- The world's truth: {', '.join(f'{c.kind} on day {c.day}' for c in truth) or 'no change'}.", "",
             "Remedy: " + REMEDY.get(found.cause, "no action")]
    return "\n".join(lines) + "\n"


REMEDY = {
    "position_bias": "re-estimate the examination curve from the explored slots and retrain the IPS model with it; "
                     "re-baseline the CTR target (relevance did not fall, attention below the fold did); ask the "
                     "product team whether the redesign's loss of attention is worth it.",
    "taste_shift": "retrain on recent data (a shorter window or the online learner) for the shifted segment; "
                   "raise exploration there until its CTR recovers.",
    "data_drift": "check the new population's segment mix and retrain on data that represents it.",
}
