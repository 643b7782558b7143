"""Bias detection and mitigation: a fairness audit of a policy's impressions across user segments and
provider groups (fairlearn's MetricFrame through `evaluation.fairness.group_table`), an exposure-floor
re-ranking as the mitigation, and the data flywheel quantified.

Provider groups: exposure share against catalogue share and against merit share (the group's share of the
slots of the world's oracle slates: what a recommender that knew the truth would give it).
"""

from __future__ import annotations

import numpy as np

from lifecycle_lab.evaluation.fairness import group_table
from lifecycle_lab.evaluation.ranking import ndcg_at_k
from lifecycle_lab.projects.p05_recommender.loop import oracle_slates, rank, segment_relevance, simulate
from lifecycle_lab.projects.p05_recommender.world import SEGMENTS, RecWorld


def segment_audit(frame):
    """Per user segment: logged CTR, true CTR (the world's click probability) and impressions, with the
    between-group difference and ratio rows (fairlearn MetricFrame)."""
    return group_table(frame["click"].to_numpy(), frame["p_click"].to_numpy(), frame["segment"].rename("segment"),
                       metrics={"logged_ctr": lambda y, p: float(np.mean(y)),
                                "true_ctr": lambda y, p: float(np.mean(p))})


def provider_audit(frame, world: RecWorld, day: int):
    """Per provider group: share of impressions, share of the catalogue, merit share, CTR."""
    import pandas as pd

    best = oracle_slates(world, day)
    weights = np.bincount(world.user_segment, minlength=len(SEGMENTS)) / world.n_users
    rows = []
    for g, name in enumerate(("studio", "independent")):
        in_group = world.item_group == g
        merit = float(sum(weights[s] * in_group[best[s]].mean() for s in range(len(SEGMENTS))))
        sel = frame["provider_group"] == name
        rows.append({"provider_group": name, "exposure_share": float(sel.mean()),
                     "catalogue_share": float(in_group[world.available(day)].mean()), "merit_share": merit,
                     "ctr": float(frame.loc[sel, "click"].mean()) if sel.any() else float("nan")})
    return pd.DataFrame(rows).set_index("provider_group")


def exposure_floor(world: RecWorld, floor: float):
    """A re-ranking hook for `simulate`: each segment's top slate holds at least ceil(floor x k) videos from
    independent providers (their best-scored ones replace the lowest-ranked studio videos of the slate)."""
    k = world.slate_size
    need = int(np.ceil(floor * k))
    indie = world.item_group == 1

    def rerank(ranking: np.ndarray, day: int) -> np.ndarray:
        out = ranking.copy()
        avail = world.available(day)
        for s in range(out.shape[0]):
            top, rest = out[s, :k].copy(), out[s, k:]
            missing = need - int(indie[top].sum())
            if missing <= 0:
                continue
            extra = rest[indie[rest] & avail[rest]][:missing]             # the best-scored independents
            swap = np.flatnonzero(~indie[top])[::-1][:len(extra)][::-1]   # the lowest-ranked studio slots
            dropped = top[swap].copy()
            top[swap] = extra[:len(swap)]
            rest = rest[~np.isin(rest, extra)]
            out[s] = np.concatenate([top, dropped, rest])
        return out

    return rerank


def flywheel(world_kwargs: dict, traffic=(250, 1000, 4000), policies=("clicks_only", "ips"), days: int = 30,
             epsilon: float = 0.1, seed: int = 0):
    """The flywheel quantified: for each traffic level (sessions a day) and policy, the final model's NDCG@10
    against the world's truth (segment level), the true CTR of its last week and the share of impressions on
    videos released during the period (cold start). More users should mean more data and a better model;
    a loop that only learns from what it showed gains nothing from more traffic."""
    import pandas as pd

    rows = []
    for sessions in traffic:
        world = RecWorld(**{**world_kwargs, "ui_change": False, "taste_shift": False})
        truth = segment_relevance(world, days - 1)
        for policy in policies:
            run = simulate(world, policy, epsilon=epsilon, sessions_per_day=sessions, n_days=days, seed=seed)
            ranking = rank(run.scores, world.available(days - 1))[:, :world.slate_size]
            ndcg = float(ndcg_at_k(ranking, truth, k=world.slate_size).mean())
            last = run.days.tail(7)
            rows.append({"sessions_per_day": sessions, "policy": policy, "events": int(sessions * days * world.slate_size),
                         "ndcg_vs_truth": ndcg, "true_ctr_last_week": float(last.true_ctr.mean()),
                         "new_video_share": float(last.new_share.mean()), "coverage": float(last.coverage.mean())})
    return pd.DataFrame(rows)
