"""The bias audit of an A/B test: each group's lift with an interval, the fairness ratio's interval, exposure.

Why a module of its own: an average lift can hide a group that loses. These steps read only the A/B frame
(one row per user: model, click, item and the user's attributes), so they work on any such test, not only
the recommender review (`review.RecsysReview.audit` calls `segment_audit`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lifecycle_lab.evaluation import experiment, fairness

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

AUDIT_ATTRIBUTES = ("segment", "region", "device", ("segment", "device"))


def _group_key(ab: "pd.DataFrame", by) -> "pd.Series":
    if isinstance(by, str):
        return ab[by].astype(str)
    key = ab[by[0]].astype(str)
    for col in by[1:]:
        key = key + " x " + ab[col].astype(str)
    return key


def lift_table(ab: "pd.DataFrame", by="segment") -> "pd.DataFrame":
    """Per group (a column, or a tuple of columns for intersections): each arm's CTR and the challenger's
    relative lift with a delta-method 95% interval (groups without champion clicks are left out)."""
    import pandas as pd

    counts = ab.groupby([_group_key(ab, by).rename("group"), "model"]).click.agg(["sum", "count"])
    rows = []
    for g in sorted(counts.index.get_level_values("group").unique()):
        part = counts.loc[g]
        if not {"champion", "challenger"} <= set(part.index) or part.loc["champion", "sum"] == 0:
            continue
        a, b = part.loc["champion"], part.loc["challenger"]
        r = experiment.two_proportion_test(int(a["sum"]), int(a["count"]), int(b["sum"]), int(b["count"]))
        rows.append({"group": g, "champion_ctr": r.rate_a, "challenger_ctr": r.rate_b,
                     "relative_lift": r.relative_lift, "lower": r.relative_ci[0], "upper": r.relative_ci[1],
                     "n_challenger": int(b["count"])})
    name = by if isinstance(by, str) else " x ".join(by)
    return pd.DataFrame(rows).set_index("group").rename_axis(name)


def ratio_interval(clicks: "pd.Series", groups: "pd.Series", n_boot: int = 200, seed: int = 0,
                   level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of min/max of the per-group click rates (fairlearn's ratio()).

    Resampling the users of each group with replacement gives that group's click count as a binomial
    draw with its observed rate, so the bootstrap is drawn exactly that way: n_boot binomials per group.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    stats = clicks.groupby(groups).agg(["sum", "count"])
    draws = np.stack([rng.binomial(int(n), s / n, n_boot) / n for s, n in zip(stats["sum"], stats["count"])])
    ratio = draws.min(axis=0) / np.maximum(draws.max(axis=0), 1e-12)
    a = (1 - level) / 2
    lo, hi = np.quantile(ratio, [a, 1 - a])
    return float(lo), float(hi)


def segment_audit(ab: "pd.DataFrame", n_boot: int = 200, seed: int = 0) -> dict:
    """The bias audit of the A/B data.

    - `tables`: per-segment CTR in each arm with fairlearn's MetricFrame (`fairness.group_table`:
      by_group, difference, ratio);
    - `lifts`: each segment's lift with an interval; `by_attribute`: the same per region, device and
      segment x device; `worst`: the worst group of each attribute;
    - `bootstrap`: bootstrap intervals of the challenger's per-segment CTR (`fairness.bootstrap_ci`);
    - `ratio_ci`: an interval for the challenger's min/max CTR ratio across segments;
    - `exposure`: per segment and arm, the share of users, the share of clicks and the catalogue coverage
      (distinct items shown / items shown to anyone in the A/B).
    """
    import pandas as pd

    def ctr(y_true, y_pred):
        return float(y_true.mean())

    tables = {}
    for model in ("champion", "challenger"):
        part = ab[ab.model == model]
        tables[model] = fairness.group_table(part.click.to_numpy(), part.click.to_numpy(),
                                             part.segment.rename("segment"), metrics={"ctr": ctr})
    by_attribute = {(a if isinstance(a, str) else " x ".join(a)): lift_table(ab, a) for a in AUDIT_ATTRIBUTES}
    worst = pd.DataFrame([{"attribute": name, "group": t.relative_lift.idxmin(),
                           **t.loc[t.relative_lift.idxmin(), ["relative_lift", "lower", "upper", "n_challenger"]]}
                          for name, t in by_attribute.items()]).set_index("attribute")
    chall = ab[ab.model == "challenger"]
    boot = fairness.bootstrap_ci(ctr, chall.click.to_numpy(), chall.click.to_numpy(),
                                 chall.segment.rename("segment"), n_boot=n_boot, seed=seed)
    shown_anywhere = ab.item.nunique()
    exposure = []
    for (model, seg), part in ab.groupby(["model", "segment"]):
        arm = ab[ab.model == model]
        exposure.append({"model": model, "segment": seg, "user_share": len(part) / len(arm),
                         "click_share": part.click.sum() / max(arm.click.sum(), 1),
                         "coverage": part.item.nunique() / shown_anywhere})
    exposure = pd.DataFrame(exposure).pivot(index="segment", columns="model")
    return {"tables": tables, "lifts": by_attribute["segment"], "by_attribute": by_attribute, "worst": worst,
            "bootstrap": boot, "ratio_ci": ratio_interval(chall.click, chall.segment, n_boot, seed),
            "exposure": exposure}
