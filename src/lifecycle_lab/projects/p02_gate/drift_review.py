"""Drift evidence for the review: training data vs current traffic, and data drift told from concept drift.

Why a module of its own: the inputs moving (PSI, KS, Jensen-Shannon, chi-square, an Evidently report) needs
no labels; whether P(click | features) moved needs labels from both periods, re-weighted to the training
period's mix. `review.RecsysReview.drift` calls `drift_evidence`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from lifecycle_lab.evaluation import experiment
from lifecycle_lab.monitoring import drift as monitor
from lifecycle_lab.projects.p02_gate.settings import ReviewSettings

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


NUMERIC_FEATURES = ("tenure_days", "sessions_per_week", "history_clicks")
CATEGORICAL_FEATURES = ("segment", "device", "region")


def drift_evidence(world, current: "pd.DataFrame", settings: ReviewSettings, html_path=None, seed: int = 0) -> dict:
    """Training data vs current traffic: PSI per feature (deciles for numbers, categories for the rest), KS,
    Jensen-Shannon and chi-square, an Evidently report, and the label-based check that tells data drift
    from concept drift.

    With labels (clicks) from both periods, the challenger's lift is measured per segment and re-weighted
    to the training period's segment mix: if that mix-adjusted lift holds, the inputs moved but
    P(click | x) did not (data drift); if it drops by more than `settings.concept_drift_se` standard errors,
    the relation itself moved (concept drift). `settings.label_users` users per period.
    """
    from statistics import NormalDist

    import pandas as pd

    z95 = NormalDist().inv_cdf(0.975)  # two_proportion_test's 95% interval is lift +- z95 x se
    ref = world.users(settings.drift_rows, "train", seed=30_000 + seed).frame()
    cur = current.sample(min(settings.drift_rows, len(current)), random_state=seed)
    table = monitor.drift_table(ref, cur, list(NUMERIC_FEATURES), categorical=list(CATEGORICAL_FEATURES))
    report = monitor.evidently_drift(ref, cur, numerical=list(NUMERIC_FEATURES),
                                     categorical=list(CATEGORICAL_FEATURES), html_path=html_path)
    n = settings.label_users
    rows = []
    for period in ("train", "current"):
        users = world.users(n, period, seed=40_000 + seed)
        a, b = world.serve(users, "champion", seed), world.serve(users, "challenger", seed)
        for seg in sorted(a.segment.unique()):
            ma, mb = a.segment == seg, b.segment == seg
            r = experiment.two_proportion_test(int(a.click[ma].sum()), int(ma.sum()), int(b.click[mb].sum()),
                                               int(mb.sum()))
            rows.append({"period": period, "segment": seg, "share": float(ma.mean()), "lift": r.relative_lift,
                         "se": (r.relative_ci[1] - r.relative_ci[0]) / (2 * z95)})
    by_segment = pd.DataFrame(rows).set_index(["period", "segment"])
    weights = by_segment.loc["train", "share"]

    def adjusted(period):  # the lift each period would show with the training period's segment mix
        part = by_segment.loc[period]
        return float((part.lift * weights).sum()), float(math.sqrt(((part.se * weights) ** 2).sum()))

    (lt, st), (lc, sc) = adjusted("train"), adjusted("current")
    se = math.sqrt(st ** 2 + sc ** 2)
    dropped = (lt - lc) > settings.concept_drift_se * se
    inputs_drifted = bool(report["dataset_drift"]) or bool((table["psi"] >= 0.1).any())
    return {"table": table, "evidently": report, "by_segment": by_segment, "reference": ref, "current": cur,
            "mix_adjusted_lift": {"train": lt, "current": lc, "se": se},
            "inputs_drifted": inputs_drifted, "concept_drift": bool(dropped),
            "kind": monitor.drift_kind(inputs_drifted, dropped, mix_adjusted=True)}
