"""Feedback collection: implicit (clicks, watch time) and explicit (ratings) feedback aggregated into training
labels, and how good each label is against the world's truth.

Why: a click is a weak label (fast, plentiful, biased by position: what is shown first gets clicked), a long
watch is a better one, a rating is the most explicit but sparse, late and given mostly by people who loved or
hated the video. Each label source is aggregated per (segment, video) and compared with the true mean
relevance by rank correlation: which label would a model trained on it learn the truth from?
"""

from __future__ import annotations

import numpy as np

from lifecycle_lab.projects.p05_recommender.loop import segment_relevance
from lifecycle_lab.projects.p05_recommender.world import SEGMENTS, RecWorld

LONG_WATCH_MIN = 10.0
"""A click followed by at least this many minutes of watching is a confirmed positive."""


def labels(frame, long_watch_min: float = LONG_WATCH_MIN, as_of_day: int | None = None):
    """Per impression: the weak label (click), the confirmed label (a click watched >= long_watch_min) and
    the rating known by `as_of_day` (ratings arrive rating_delay_days late; NaN while unknown)."""
    out = frame.copy()
    out["weak"] = out["click"].astype(int)
    out["confirmed"] = (out["click"] & (out["watch_min"] >= long_watch_min)).astype(int)
    if as_of_day is not None:
        out["rating_known"] = out["rating"].where(out["rating_day"] <= as_of_day)
    return out


def label_quality(frame, world: RecWorld, day: int, min_impressions: int = 20):
    """Spearman correlation, per label source, between the label rate per (segment, video) and the true mean
    relevance of that cell; plus how many cells each source says anything about. Position-debiased clicks
    divide each click by the examination probability of its position (the world's curve on `day`)."""
    import pandas as pd
    from scipy.stats import spearmanr

    f = labels(frame)
    exam = world.examination(day)
    f["debiased"] = f["weak"] / exam[f["position"].to_numpy() - 1]
    f["seg"] = f["segment"].map({name: i for i, name in enumerate(SEGMENTS)})
    truth = segment_relevance(world, day)
    grouped = f.groupby(["seg", "item"])
    cells = grouped.agg(n=("weak", "size"), weak=("weak", "mean"), debiased=("debiased", "mean"),
                        confirmed=("confirmed", "mean"), rating=("rating", "mean"),
                        n_rated=("rating", "count"), top=("position", lambda p: float((p <= 3).mean())))
    cells["truth"] = truth[cells.index.get_level_values(0), cells.index.get_level_values(1)]
    enough = cells[cells["n"] >= min_impressions]
    rows = []
    for source, label in (("weak", "clicks (weak)"), ("debiased", "clicks / P(examined)"),
                          ("confirmed", "long watches (confirmed)"), ("rating", "ratings (explicit)")):
        use = enough.dropna(subset=[source]) if source != "rating" else enough[enough["n_rated"] >= 3]
        rho = spearmanr(use[source], use["truth"]).statistic if len(use) > 5 else float("nan")
        rows.append({"label": label, "cells": int(len(use)), "spearman_vs_truth": float(rho)})
    return pd.DataFrame(rows)


def rating_bias(frame):
    """How sparse and how skewed the explicit feedback is: the share of clicks that got a rating, and the share
    of 1- or 5-star ratings among them (the world rates extremes 2.5x more often than the middle)."""
    rated = frame["rating"].notna()
    return {"share_of_clicks_rated": float(rated.sum() / max(frame["click"].sum(), 1)),
            "extreme_share": float(frame.loc[rated, "rating"].isin([1, 5]).mean()) if rated.any() else float("nan")}


def position_ctr(frame):
    """Logged CTR by position, all slots and explored slots only (the explored ones are the examination curve)."""
    import pandas as pd

    all_slots = frame.groupby("position")["click"].mean()
    explored = frame[frame["explored"]].groupby("position")["click"].mean()
    return pd.DataFrame({"ctr_all": all_slots, "ctr_explored": explored})
