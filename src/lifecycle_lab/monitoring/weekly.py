"""Weekly monitoring of a model in production: drift per feature and week, performance once labels land,
an alert rule over consecutive windows, and the rule's false-alarm rate.

Why: a batch model is watched week by week. Inputs can be compared the day they are scored (PSI and KS
against the training data, and against last week: an abrupt step is the mark of a pipeline change);
quality only when labels arrive, `label_delay` weeks later. An alert rule turns these series into pages
for a human, so it needs a minimum sample, consecutive windows and a false-alarm rate measured on weeks
when nothing changed (alert fatigue is how real incidents get ignored).

The statistics come from `lifecycle_lab.monitoring.drift` (one implementation of PSI and KS).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from lifecycle_lab.monitoring import drift as monitor
from lifecycle_lab.monitoring.drift import MonitorInputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def weekly_drift(reference: "pd.DataFrame", log: "pd.DataFrame", numeric: Sequence[str],
                 categorical: Sequence[str] = (), *, week_col: str = "week", bins: int = 10) -> "pd.DataFrame":
    """One row per (week, feature): PSI against the reference, PSI against the previous week (`step_psi`),
    KS D and p-value against the reference (numeric features), and the number of rows.

    Why both PSIs: drift that builds up slowly (seasons, a changing customer mix) has small steps and a
    growing PSI against the reference; a unit change or a broken join arrives as one large step.
    The KS p-value is here to show its large-sample trap: with thousands of rows a week, trivial shifts are
    "significant"; read D (the size of the shift) and the PSI, not p.
    """
    import pandas as pd

    missing = [c for c in [week_col, *numeric, *categorical] if c not in log.columns]
    missing += [c for c in [*numeric, *categorical] if c not in reference.columns and c not in missing]
    if missing:
        raise MonitorInputError(f"columns {missing} are missing from the log or the reference")
    if not list(numeric) and not list(categorical):
        raise MonitorInputError("name at least one feature to monitor: numeric=[...] or categorical=[...]")
    rows, previous = [], None
    profiles = {col: monitor.psi_profile(reference[col], bins) for col in numeric}
    for week, cur in log.groupby(week_col, sort=True):
        for col in numeric:
            d, p = monitor.ks(reference[col], cur[col])
            step = math.nan if previous is None else monitor.psi_from_profile(
                monitor.psi_profile(previous[col], bins), cur[col])
            rows.append({"week": int(week), "feature": col, "kind": "numeric", "n": len(cur),
                         "psi": monitor.psi_from_profile(profiles[col], cur[col]), "step_psi": step,
                         "ks_d": d, "ks_pvalue": p})
        for col in categorical:
            step = math.nan if previous is None else monitor.categorical_psi(previous[col], cur[col])
            rows.append({"week": int(week), "feature": col, "kind": "categorical", "n": len(cur),
                         "psi": monitor.categorical_psi(reference[col], cur[col]), "step_psi": step,
                         "ks_d": math.nan, "ks_pvalue": math.nan})
        previous = cur
    return pd.DataFrame(rows)


def ks_large_sample_demo(shift: float = 0.03, sizes: Iterable[int] = (200, 2000, 20_000, 200_000),
                         seed: int = 0) -> "pd.DataFrame":
    """KS on two normal samples whose means differ by `shift` standard deviations, at growing sizes.

    Why: the same harmless shift is "not significant" at 200 rows and "highly significant" at 200,000,
    while D (and the PSI) stay about the same: significance measures the sample size, not the harm.
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    rows = []
    for n in sizes:
        a, b = rng.normal(0, 1, n), rng.normal(shift, 1, n)
        d, p = monitor.ks(a, b)
        rows.append({"n": int(n), "ks_d": d, "ks_pvalue": p, "psi": monitor.psi(a, b)})
    return pd.DataFrame(rows)


def weekly_performance(log: "pd.DataFrame", *, as_of: int | None = None, week_col: str = "week",
                       score_col: str = "score", label_col: str = "churned", known_col: str = "label_week",
                       threshold: float = 0.5) -> "pd.DataFrame":
    """Per scored week, on the labels known by week `as_of` (all labels when None): rows, labelled rows,
    flags among them, precision, recall, base rate, mean score, and the flag rate of all scored rows.

    Why `as_of`: a week's churn is known only `label_delay` weeks later; a dashboard that uses labels it
    could not have had shows problems earlier than anyone could have seen them.
    """
    import pandas as pd

    if not 0 < threshold < 1:
        raise MonitorInputError(f"threshold={threshold!r} must be strictly between 0 and 1")
    for c in (week_col, score_col, label_col, known_col):
        if c not in log.columns:
            raise MonitorInputError(f"the log lacks column {c!r}")
    rows = []
    for week, g in log.groupby(week_col, sort=True):
        flag = g[score_col].to_numpy(float) >= threshold
        known = np.ones(len(g), bool) if as_of is None else g[known_col].to_numpy() <= as_of
        y = g[label_col].to_numpy(int)
        fk, yk = flag[known], y[known]
        tp = int((fk & (yk == 1)).sum())
        rows.append({"week": int(week), "rows": len(g), "labelled": int(known.sum()), "flagged_labelled": int(fk.sum()),
                     "true_positives": tp, "positives": int(yk.sum()),
                     "precision": tp / fk.sum() if fk.sum() else math.nan,
                     "recall": tp / yk.sum() if yk.sum() else math.nan,
                     "base_rate": float(yk.mean()) if known.any() else math.nan,
                     "mean_score": float(g[score_col].mean()), "flag_rate": float(flag.mean())})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class AlertRule:
    """Alert when any feature's PSI exceeds `psi_limit`, or precision falls more than `precision_drop`
    (relative) below the baseline on at least `min_labels` labelled flags, in `consecutive` weeks in a row.

    `base_rate_change` (relative, None to switch off) adds a third signal: the labelled churn rate moved
    that far from the baseline. Why: a market change that raises churn raises precision, so a rule that
    only watches for drops never sees label shift.
    """

    psi_limit: float = 0.1
    precision_drop: float = 0.1
    min_labels: int = 300
    consecutive: int = 2
    base_rate_change: float | None = 0.25
    window: int = 3
    """Scored weeks pooled for precision and the churn rate (one week's ~500 labelled flags are noisy)."""

    def __post_init__(self):
        if not (isinstance(self.psi_limit, (int, float)) and self.psi_limit > 0):
            raise MonitorInputError(f"psi_limit={self.psi_limit!r} must be positive (0.1 is the folklore line)")
        if not (isinstance(self.precision_drop, (int, float)) and 0 < self.precision_drop < 1):
            raise MonitorInputError(f"precision_drop={self.precision_drop!r} must be a relative drop in (0, 1)")
        for name in ("min_labels", "consecutive", "window"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise MonitorInputError(f"{name}={v!r} must be a whole number of at least 1")
        if self.base_rate_change is not None and not (isinstance(self.base_rate_change, (int, float))
                                                      and self.base_rate_change > 0):
            raise MonitorInputError(f"base_rate_change={self.base_rate_change!r} must be a positive relative "
                                    f"change (0.25 = 25%) or None")


def _runs(flags: np.ndarray, k: int) -> np.ndarray:
    """True where the flag has held for the last k entries (this one included)."""
    out, run = np.zeros(len(flags), bool), 0
    for i, f in enumerate(flags):
        run = run + 1 if f else 0
        out[i] = run >= k
    return out


def alert_timeline(drift: "pd.DataFrame", performance: "pd.DataFrame", rule: AlertRule, *,
                   baseline_precision: float, label_delay: int,
                   baseline_base_rate: float | None = None) -> "pd.DataFrame":
    """Per calendar week: the largest PSI and its feature, the precision known that week (of the week
    scored `label_delay` weeks earlier), each signal's breach, the rule's alerts and the reason.

    `drift` comes from `weekly_drift`, `performance` from `weekly_performance` (with all labels: this
    function shifts each scored week's precision to the week its labels are complete). Precision and the
    churn rate are pooled over the `rule.window` scored weeks ending at that week.
    """
    import pandas as pd

    if not 0 < baseline_precision <= 1:
        raise MonitorInputError(f"baseline_precision={baseline_precision!r} must be in (0, 1]")
    if isinstance(label_delay, bool) or not isinstance(label_delay, (int, np.integer)) or label_delay < 0:
        raise MonitorInputError(f"label_delay={label_delay!r} must be a whole number of weeks >= 0")
    top = drift.sort_values("psi", ascending=False).groupby("week").head(1).set_index("week").sort_index()
    perf = performance.set_index("week").sort_index()
    pooled = perf[["flagged_labelled", "true_positives", "labelled", "positives"]].rolling(rule.window,
                                                                                          min_periods=1).sum()
    perf = perf.assign(precision=pooled["true_positives"] / pooled["flagged_labelled"].where(pooled["flagged_labelled"] > 0),
                       flagged_labelled=pooled["flagged_labelled"], labelled=pooled["labelled"],
                       base_rate=pooled["positives"] / pooled["labelled"].where(pooled["labelled"] > 0))
    weeks = top.index.to_numpy()
    out = pd.DataFrame({"week": weeks, "max_psi": top["psi"].to_numpy(), "psi_feature": top["feature"].to_numpy()})
    scored = weeks - label_delay
    out["precision_known"] = [perf["precision"].get(s, math.nan) for s in scored]
    out["labels_known"] = [int(perf["flagged_labelled"].get(s, 0)) for s in scored]
    out["psi_breach"] = out["max_psi"] > rule.psi_limit
    floor = baseline_precision * (1 - rule.precision_drop)
    out["perf_breach"] = (out["labels_known"] >= rule.min_labels) & (out["precision_known"] < floor)
    out["psi_alert"] = _runs(out["psi_breach"].to_numpy(), rule.consecutive)
    out["perf_alert"] = _runs(out["perf_breach"].to_numpy(), rule.consecutive)
    out["base_rate_known"] = [perf["base_rate"].get(s, math.nan) for s in scored]
    labelled = np.array([int(perf["labelled"].get(s, 0)) for s in scored])
    if rule.base_rate_change is not None and baseline_base_rate is not None:
        if not 0 < baseline_base_rate < 1:
            raise MonitorInputError(f"baseline_base_rate={baseline_base_rate!r} must be in (0, 1)")
        moved = (out["base_rate_known"] / baseline_base_rate - 1).abs() > rule.base_rate_change
        out["rate_breach"] = (labelled >= rule.min_labels) & moved.fillna(False).to_numpy(bool)
    else:
        out["rate_breach"] = False
    out["rate_alert"] = _runs(out["rate_breach"].to_numpy(), rule.consecutive)
    out["alert"] = out["psi_alert"] | out["perf_alert"] | out["rate_alert"]
    reasons = []
    for r in out.itertuples():
        parts = []
        if r.psi_alert:
            parts.append(f"PSI {r.max_psi:.2f} on {r.psi_feature} > {rule.psi_limit:g} for {rule.consecutive} weeks")
        if r.perf_alert:
            parts.append(f"precision {r.precision_known:.3f} < {floor:.3f} (baseline {baseline_precision:.3f} "
                         f"-{rule.precision_drop:.0%}) on {r.labels_known} labels")
        if r.rate_alert:
            parts.append(f"churn rate {r.base_rate_known:.3f} vs baseline {baseline_base_rate:.3f} "
                         f"(> {rule.base_rate_change:.0%} change)")
        reasons.append("; ".join(parts))
    out["reason"] = reasons
    return out


def new_alerts(timeline: "pd.DataFrame") -> "pd.DataFrame":
    """The alerts to send: weeks where a signal starts alerting (deduplicated: a signal that keeps
    alerting is one incident, not a page a week). Columns: week, signal ('drift' / 'performance'), reason."""
    import pandas as pd

    rows = []
    for signal, col in (("drift", "psi_alert"), ("performance", "perf_alert"), ("base_rate", "rate_alert")):
        on = timeline[col].to_numpy(bool)
        starts = np.flatnonzero(on & ~np.concatenate([[False], on[:-1]]))
        for i in starts:
            rows.append({"week": int(timeline["week"].iloc[i]), "signal": signal,
                         "reason": timeline["reason"].iloc[i]})
    return pd.DataFrame(rows, columns=["week", "signal", "reason"]).sort_values(["week", "signal"],
                                                                                 ignore_index=True)


def false_alarm_rate(timeline: "pd.DataFrame", quiet_weeks: Iterable[int]) -> float:
    """Share of the quiet weeks (weeks when nothing changed, from the world's truth) with an alert."""
    quiet = set(int(w) for w in quiet_weeks)
    sel = timeline["week"].isin(quiet)
    if not sel.any():
        raise MonitorInputError("no quiet week is in the timeline: pass the weeks in which nothing changed")
    return float(timeline.loc[sel, "alert"].mean())
