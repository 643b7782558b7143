"""Champion/challenger as a standing framework, and off-policy estimates of a candidate before it goes live.

Every retrain is a challenger. It gets half of the live traffic; each day the always-valid sequential test
of the experiment toolkit (mSPRT, `evaluation.experiment.msprt_lambda`) reads the CTR difference, and the
test stops as soon as the mixture likelihood ratio reaches 1/alpha (however often it is read, the false
positive rate stays <= alpha). A CTR win is then checked by guardrails that can veto it:
- segment harm: no user segment may lose more than `max_segment_drop` of its CTR (relative, significant);
- exposure concentration: the Gini of impressions per video may not rise by more than `max_gini_increase`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lifecycle_lab.base.errors import LifecycleLabError
from lifecycle_lab.evaluation.experiment import msprt_lambda, two_proportion_test
from lifecycle_lab.evaluation.offpolicy import gini, ips, snips
from lifecycle_lab.projects.p05_recommender.loop import estimate_examination, rank, slates_for
from lifecycle_lab.projects.p05_recommender.world import SEGMENTS, RecWorld


class ExperimentSetupError(LifecycleLabError, ValueError):
    """A champion/challenger setting is out of range."""


@dataclass(frozen=True)
class Arm:
    """A policy frozen for the experiment: segment scores and its exploration rate."""
    name: str
    scores: np.ndarray
    epsilon: float = 0.0


@dataclass(frozen=True)
class Guardrails:
    max_segment_drop: float = 0.05
    max_gini_increase: float = 0.03


@dataclass
class Outcome:
    champion: str
    challenger: str
    days: int
    stopped: bool               # the sequential test reached its boundary
    ctr_champion: float
    ctr_challenger: float
    relative_lift: float
    lift_ci: tuple
    segment_change: dict        # segment -> relative CTR change (challenger vs champion)
    harmed: list                # segments harmed beyond the guardrail
    gini_champion: float
    gini_challenger: float
    vetoes: list                # the guardrails that fired
    decision: str               # "promote", "veto", "keep champion"
    trace: "object"             # per day: cumulative CTRs and the test statistic
    true_lift: float = 0.0      # the world's truth on the same sessions: relative change of expected CTR
    true_segment_change: dict = None  # segment -> relative change of expected CTR (the truth)

    @property
    def ctr_win(self) -> bool:
        return self.stopped and self.relative_lift > 0


def guardrail_vetoes(segment_tests: dict, gini_champion: float, gini_challenger: float,
                     rails: Guardrails) -> tuple[list, list]:
    """Which guardrails fire: (vetoes, harmed segments). A segment is harmed when its relative CTR change is
    below -max_segment_drop and its two-proportion p-value is under 0.05."""
    harmed = [s for s, t in segment_tests.items() if t.relative_lift < -rails.max_segment_drop and t.pvalue < 0.05]
    vetoes = []
    if harmed:
        vetoes.append("segment harm")
    if gini_challenger - gini_champion > rails.max_gini_increase:
        vetoes.append("exposure concentration")
    return vetoes, harmed


def decide(ctr_win: bool, vetoes: list) -> str:
    """The promotion rule: promote only a challenger that won on CTR (the sequential test stopped with a
    positive lift) and fired no guardrail; a win with a veto is a veto; anything else (a loss, or no
    evidence either way by the last day) keeps the champion."""
    if ctr_win:
        return "veto" if vetoes else "promote"
    return "keep champion"


def run_experiment(world: RecWorld, champion: Arm, challenger: Arm, *, start_day: int, max_days: int = 14,
                   min_days: int = 7, sessions_per_day: int = 2000, alpha: float = 0.05,
                   rails: Guardrails = Guardrails(), seed: int = 0) -> Outcome:
    """A/B test of two frozen policies on live traffic (sessions split 50/50), read daily by the mSPRT. It
    runs at least `min_days` even when the test crosses its boundary sooner: the guardrails need the sample
    (a segment's harm is a smaller effect in a smaller group than the overall CTR win)."""
    import pandas as pd

    if not 0 < alpha < 0.5 or not 1 <= min_days <= max_days:
        raise ExperimentSetupError(f"alpha={alpha} must lie in (0, 0.5) and 1 <= min_days={min_days} <= "
                                   f"max_days={max_days}")
    if start_day + max_days > world.n_days:
        raise ExperimentSetupError(f"start_day={start_day} + max_days={max_days} runs past the world's "
                                   f"{world.n_days} days: start earlier or test for fewer days")
    rng = np.random.default_rng([world.seed, seed, start_day, 77])
    k, n_seg = world.slate_size, len(SEGMENTS)
    clicks, imps = np.zeros(2), np.zeros(2)
    seg_c, seg_n = np.zeros((2, n_seg)), np.zeros((2, n_seg))
    seg_p = np.zeros((2, n_seg))  # expected clicks (the world's click probabilities): the truth
    exposure = np.zeros((2, world.n_items))
    rows, stopped = [], False
    for d in range(max_days):
        day = start_day + d
        avail = world.available(day)
        users = rng.integers(0, world.n_users, sessions_per_day)
        arm_of = rng.random(sessions_per_day) < 0.5
        for a, arm in enumerate((champion, challenger)):
            u = users[arm_of == bool(a)]
            segs = world.user_segment[u]
            slates, _ = slates_for(rank(arm.scores, avail), segs, int(avail.sum()), k, arm.epsilon, rng)
            fb = world.feedback(u, slates, day, rng)
            clicks[a] += fb["clicks"].sum()
            imps[a] += fb["clicks"].size
            seg_c[a] += np.bincount(segs, weights=fb["clicks"].sum(1), minlength=n_seg)
            seg_n[a] += k * np.bincount(segs, minlength=n_seg)
            seg_p[a] += np.bincount(segs, weights=fb["p_click"].sum(1), minlength=n_seg)
            exposure[a] += np.bincount(slates.ravel(), minlength=world.n_items)
        rate = clicks / imps
        var = float((rate * (1 - rate) / imps).sum())
        lam = float(msprt_lambda(np.array(rate[1] - rate[0]), np.array(var), (0.1 * rate[0]) ** 2))
        rows.append({"day": day, "ctr_champion": rate[0], "ctr_challenger": rate[1], "msprt": lam,
                     "boundary": 1 / alpha})
        stopped = stopped or lam >= 1 / alpha
        if stopped and d + 1 >= min_days:
            break
    test = two_proportion_test(int(clicks[0]), int(imps[0]), int(clicks[1]), int(imps[1]))
    seg_tests = {SEGMENTS[s]: two_proportion_test(int(seg_c[0, s]), int(seg_n[0, s]), int(seg_c[1, s]),
                                                  int(seg_n[1, s])) for s in range(n_seg)}
    avail = world.available(start_day + len(rows) - 1)
    g0, g1 = gini(exposure[0][avail]), gini(exposure[1][avail])
    vetoes, harmed = guardrail_vetoes(seg_tests, g0, g1, rails)
    win = stopped and test.relative_lift > 0
    return Outcome(champion.name, challenger.name, len(rows), stopped, test.rate_a, test.rate_b, test.relative_lift,
                   test.relative_ci, {s: t.relative_lift for s, t in seg_tests.items()}, harmed, g0, g1, vetoes,
                   decide(win, vetoes), pd.DataFrame(rows),
                   float((seg_p[1].sum() / seg_n[1].sum()) / (seg_p[0].sum() / seg_n[0].sum()) - 1),
                   {SEGMENTS[s]: float((seg_p[1, s] / seg_n[1, s]) / (seg_p[0, s] / seg_n[0, s]) - 1)
                    for s in range(n_seg)})


# -- off-policy estimates of a candidate from the slot-1 logs of an exploring policy ----------------------

def replay_estimates(run, candidates: dict, world: RecWorld, days) -> "object":
    """For each candidate (name -> segment scores), estimate its position-1 CTR from the logging policy's
    slot-1 logs over `days`: the naive logged CTR (what the logs say, whatever the candidate), IPS, SNIPS;
    and the truth (the candidate's expected position-1 click rate on the same sessions, from the world).

    The logging policy explores with probability epsilon over the n - k videos outside its slate, so an
    explored video's propensity is epsilon / (n - k): weights in the thousands. IPS is unbiased but noisy
    here; SNIPS trades a little bias for much less variance."""
    import pandas as pd

    log = run.slot1
    keep = np.isin(log["day"], list(days))
    day, seg, item, click, mu = (log[key][keep] for key in ("day", "segment", "item", "click", "propensity"))
    rows = []
    for name, scores in candidates.items():
        target = np.empty_like(item)
        truth = np.empty(len(item))
        for d in sorted(set(days)):
            m = day == d
            top = rank(scores, world.available(d))[:, 0]
            target[m] = top[seg[m]]
            truth[m] = world.examination(d)[0] * world.relevance(d)[run.monitor["users"][d], target[m]]
        pi = (item == target).astype(float)
        rows.append({"candidate": name, "naive_logged_ctr": float(click.mean()),
                     "matched_ctr": float(click[pi > 0].mean()) if (pi > 0).any() else float("nan"),
                     "ips": ips(click, pi, mu), "snips": snips(click, pi, mu), "true_ctr": float(truth.mean()),
                     "matched_share": float(pi.mean())})
    return pd.DataFrame(rows).set_index("candidate")


def slate_estimates(run, candidates: dict, world: RecWorld, days) -> "object":
    """For each candidate (name -> segment scores), estimate the CTR of its slates from all logged impressions
    over `days`, per (segment, video): naive = the video's logged CTR (biased by the positions the logging
    policy happened to show it at); IPS = clicks re-weighted by 1 / P(examined | logged position), which
    estimates the video's appeal, times the examination of the position the candidate puts it at. The
    examination curve is estimated from the explored slots of the same days. Truth: the world's
    expected CTR of the candidate's slates for the same sessions."""
    import pandas as pd

    days = sorted(set(days))
    m = run.monitor
    clicks = m["cell_clicks"][days].sum(0, dtype=float)     # position x segment x video
    imps = m["cell_imps"][days].sum(0, dtype=float)
    exam_hat = estimate_examination(m["explored_clicks"][days].sum(0), m["explored_imps"][days].sum(0))
    n = imps.sum(0)
    prior = clicks.sum() / max(n.sum(), 1)
    naive = np.where(n > 0, clicks.sum(0) / np.maximum(n, 1), prior)
    appeal = np.where(n > 0, np.tensordot(1 / exam_hat, clicks, axes=(0, 0)) / np.maximum(n, 1), prior / exam_hat.mean())
    k = world.slate_size
    rows = []
    for name, scores in candidates.items():
        truth, est_naive, est_ips, weight = 0.0, 0.0, 0.0, 0
        for d in days:
            users = m["users"][d]
            segs = world.user_segment[users]
            slates = rank(scores, world.available(d))[:, :k][segs]
            truth += float((world.examination(d)[None, :] * world.relevance(d)[users[:, None], slates]).sum())
            est_naive += float(naive[segs[:, None], slates].sum())
            est_ips += float((exam_hat[None, :] * appeal[segs[:, None], slates]).sum())
            weight += slates.size
        rows.append({"candidate": name, "naive_logged_ctr": est_naive / weight, "ips": est_ips / weight,
                     "true_ctr": truth / weight})
    return pd.DataFrame(rows).set_index("candidate")


def variants(scores: np.ndarray, k: int) -> dict:
    """Candidates that show what the naive estimate misses, built from a model's segment scores: the same
    slate in reverse order (same videos, the best one last), and the next k videos moved to the top."""
    order = np.argsort(-scores, axis=1, kind="stable")
    n = scores.shape[1]
    reverse = np.zeros_like(scores, dtype=float)
    tail = np.zeros_like(scores, dtype=float)
    rows = np.arange(scores.shape[0])[:, None]
    ranks = np.arange(n, 0, -1, dtype=float)[None, :]               # n for the best ... 1 for the worst
    reverse[rows, order] = ranks
    reverse[rows, order[:, :k]] = n + np.arange(1, k + 1)[None, :]  # the top k, the k-th best first
    tail[rows, order] = ranks
    tail[rows, order[:, k:2 * k]] += n                              # ranks k+1..2k lifted above the top k
    return {"same slate, reversed": reverse, "next 10 moved up": tail}
