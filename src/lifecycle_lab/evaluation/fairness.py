"""Fairness audits by group: the table, bootstrap intervals, parity gaps and the four-fifths screen.

Why a module of its own: every practice project that decides about people or segments (the recommender's
segment audit, the credit model's fairness review) needs the same three things: the metric per group with
its gaps, an interval that says whether a gap is more than noise, and the headline parity numbers. The
headline numbers are computed here from the per-group rates and tested against `fairlearn.metrics`, so a
learner can see the formula and the library agree.

fairlearn and scikit-learn are imported inside the functions (import cost ~3 s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

from lifecycle_lab.base.errors import LifecycleLabError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

SUMMARY_ROWS = ("difference", "ratio")
DEFAULT_METRICS = ("selection_rate", "true_positive_rate", "false_positive_rate", "accuracy", "precision")

FOUR_FIFTHS_NOTE = (
    "Screening heuristic only: the four-fifths rule (29 CFR 1607.4(D)) comes from US employment selection "
    "and flags a group whose selection rate is below 80% of the highest group's. It is not a legal test of "
    "fairness and fairlearn's documentation warns it is often misapplied outside that context; for US credit, "
    "ECOA / Regulation B governs. A flag means 'look closer', a pass proves nothing.")


class FairnessInputError(LifecycleLabError, ValueError):
    """The labels, predictions or groups given to a fairness audit cannot be audited as they are."""


def _arrays(y_true, y_pred, sensitive):
    import numpy as np

    yt = np.asarray(y_true)
    yp = np.asarray(y_pred)
    s = np.asarray(sensitive)
    if yt.ndim != 1 or yp.ndim != 1 or s.ndim != 1:
        raise FairnessInputError("y_true, y_pred and sensitive must be one-dimensional (one value per decision)")
    if not (len(yt) == len(yp) == len(s)):
        raise FairnessInputError(f"y_true, y_pred and sensitive must have the same length; got {len(yt)}, "
                                 f"{len(yp)} and {len(s)}")
    if len(yt) == 0:
        raise FairnessInputError("nothing to audit: the arrays are empty")
    import pandas as pd

    if pd.isna(pd.Series(s)).any():
        raise FairnessInputError("sensitive has missing values; fill them with an explicit group such as "
                                 "'unknown' so they are audited rather than dropped")
    return yt, yp, s


def _metric_registry() -> dict[str, Callable]:
    """Named metrics of a group audit; precision counts 0 when a group has no positive predictions."""
    from functools import partial

    from fairlearn.metrics import false_positive_rate, selection_rate, true_positive_rate
    from sklearn.metrics import accuracy_score, precision_score, recall_score

    return {
        "selection_rate": selection_rate,
        "true_positive_rate": true_positive_rate,
        "false_positive_rate": false_positive_rate,
        "accuracy": accuracy_score,
        "precision": partial(precision_score, zero_division=0),
        "recall": partial(recall_score, zero_division=0),
    }


def _resolve_metrics(metrics) -> dict[str, Callable]:
    registry = _metric_registry()
    if metrics is None:
        metrics = DEFAULT_METRICS
    if isinstance(metrics, str):
        metrics = [metrics]
    if callable(metrics):
        metrics = {getattr(metrics, "__name__", "metric"): metrics}
    resolved: dict[str, Callable] = {}
    if isinstance(metrics, Mapping):
        items = metrics.items()
    else:
        items = [(m, m) if isinstance(m, str) else (getattr(m, "__name__", f"metric_{i}"), m)
                 for i, m in enumerate(metrics)]
    for name, fn in items:
        if isinstance(fn, str):
            if fn not in registry:
                raise FairnessInputError(f"unknown metric {fn!r}; use one of {sorted(registry)} or pass a "
                                         f"function metric(y_true, y_pred)")
            fn = registry[fn]
        if not callable(fn):
            raise FairnessInputError(f"metric {name!r} must be a name or a function metric(y_true, y_pred)")
        resolved[str(name)] = fn
    if not resolved:
        raise FairnessInputError("no metrics given; pass None for the defaults")
    return resolved


def group_table(y_true, y_pred, sensitive, metrics=None) -> "pd.DataFrame":
    """Each metric per group, then a `difference` (max - min) and a `ratio` (min / max) row.

    Why: one table shows both the rates and the gaps a reviewer reads first. Built on fairlearn's
    `MetricFrame` (by_group, difference(), ratio()). `metrics` is None (selection rate, TPR, FPR, accuracy,
    precision), a list of names from those plus 'recall', or a dict {column: function(y_true, y_pred)},
    e.g. {"ctr": lambda clicks, _: clicks.mean()} for a segment audit. A `count` column gives each group's
    size (blank in the summary rows). A ratio whose largest group value is 0 is NaN, as in fairlearn.
    """
    import warnings

    import pandas as pd
    from fairlearn.metrics import MetricFrame

    yt, yp, s = _arrays(y_true, y_pred, sensitive)
    fns = _resolve_metrics(metrics)
    clash = set(map(str, pd.unique(s))) & set(SUMMARY_ROWS)
    if clash:
        raise FairnessInputError(f"a group is named {sorted(clash)}, which collides with the summary rows; "
                                 f"rename the group")
    if "count" in fns:
        raise FairnessInputError("'count' is added automatically; name your metric differently")
    name = getattr(sensitive, "name", None) or "group"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 0/0 ratios: reported as NaN, documented above
        frame = MetricFrame(metrics=fns, y_true=yt, y_pred=yp, sensitive_features=pd.Series(s, name=name))
        by_group = frame.by_group.astype(float)
        diff = frame.difference(method="between_groups")
        ratio = frame.ratio(method="between_groups")
    table = by_group.copy()
    table["count"] = pd.Series(s).value_counts().reindex(by_group.index).astype(float).to_numpy()
    summary = pd.DataFrame([diff.astype(float), ratio.astype(float)], index=list(SUMMARY_ROWS))
    summary["count"] = float("nan")
    out = pd.concat([table, summary])
    out.index.name = name
    return out


def bootstrap_ci(metric_fn, y_true, y_pred, sensitive, n_boot: int = 200, seed: int = 0,
                 level: float = 0.95) -> "pd.DataFrame":
    """Percentile bootstrap interval of one metric per group, and of the between-group difference.

    Why: a gap between two small groups is often noise; the interval says how much. Each replicate
    resamples every group with replacement within itself (group sizes stay fixed), so the per-group
    intervals and the `difference` (max - min over groups) row come from the same replicates.
    `metric_fn` is a function metric(y_true, y_pred) or a metric name known to `group_table`.
    Returns columns estimate, lower, upper, n, indexed by group plus a final `difference` row.
    """
    import numpy as np
    import pandas as pd

    yt, yp, s = _arrays(y_true, y_pred, sensitive)
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 20:
        raise FairnessInputError(f"n_boot={n_boot!r}: use a whole number of at least 20 replicates")
    if not 0 < level < 1:
        raise FairnessInputError(f"level={level!r} must be between 0 and 1, e.g. 0.95")
    fn = next(iter(_resolve_metrics({"metric": metric_fn}).values()))
    groups = sorted(pd.unique(s).tolist(), key=str)  # the same order as group_table's rows
    if "difference" in map(str, groups):
        raise FairnessInputError("a group is named 'difference'; rename it")
    rng = np.random.default_rng(seed)
    index = {g: np.flatnonzero(s == g) for g in groups}
    estimates = {g: float(fn(yt[idx], yp[idx])) for g, idx in index.items()}
    reps = np.empty((n_boot, len(groups)))
    for b in range(n_boot):
        for j, g in enumerate(groups):
            pick = rng.choice(index[g], size=len(index[g]), replace=True)
            reps[b, j] = fn(yt[pick], yp[pick])
    alpha = (1 - level) / 2
    rows = []
    for j, g in enumerate(groups):
        lo, hi = np.nanquantile(reps[:, j], [alpha, 1 - alpha])
        rows.append((g, estimates[g], float(lo), float(hi), len(index[g])))
    diffs = np.nanmax(reps, axis=1) - np.nanmin(reps, axis=1)
    est_diff = max(estimates.values()) - min(estimates.values())
    lo, hi = np.nanquantile(diffs, [alpha, 1 - alpha])
    rows.append(("difference", float(est_diff), float(lo), float(hi), len(yt)))
    name = getattr(sensitive, "name", None) or "group"
    out = pd.DataFrame(rows, columns=[name, "estimate", "lower", "upper", "n"]).set_index(name)
    out.attrs["level"] = level
    out.attrs["n_boot"] = n_boot
    return out


def _rates(yt, yp, s) -> dict[str, dict[Any, float]]:
    """Selection rate, TPR and FPR per group from counts (the formulas behind the parity metrics)."""

    yt = (yt == 1).astype(int) if yt.dtype != bool else yt.astype(int)
    yp = (yp == 1).astype(int) if yp.dtype != bool else yp.astype(int)
    sel, tpr, fpr = {}, {}, {}
    for g in sorted(set(s.tolist()), key=str):
        m = s == g
        pos, neg = m & (yt == 1), m & (yt == 0)
        if pos.sum() == 0 or neg.sum() == 0:
            which = "positive" if pos.sum() == 0 else "negative"
            raise FairnessInputError(f"group {g!r} has no {which} labels, so its "
                                     f"{'TPR' if which == 'positive' else 'FPR'} is undefined; merge small "
                                     f"groups or audit on a larger sample")
        sel[g] = float(yp[m].mean())
        tpr[g] = float(yp[pos].mean())
        fpr[g] = float(yp[neg].mean())
    return {"selection_rate": sel, "true_positive_rate": tpr, "false_positive_rate": fpr}


def _diff(values: dict) -> float:
    return max(values.values()) - min(values.values())


def _ratio(values: dict) -> float:
    hi = max(values.values())
    return float("nan") if hi == 0 else min(values.values()) / hi


def parity_summary(y_true, y_pred, sensitive) -> dict:
    """Demographic parity and equalized odds, as differences and ratios, computed from per-group rates.

    Why: these four numbers are what a fairness review quotes. Demographic parity compares selection
    rates P(Yhat=1 | group); equalized odds compares both TPR and FPR and reports the worse of the two
    (largest difference, smallest ratio), the same definitions as fairlearn.metrics. Labels and predictions
    must be 0/1. Also returns the per-group rates so the numbers can be traced.
    """
    import numpy as np

    yt, yp, s = _arrays(y_true, y_pred, sensitive)
    for label, arr in (("y_true", yt), ("y_pred", yp)):
        values = set(np.unique(arr).tolist())
        if not values <= {0, 1, True, False}:
            raise FairnessInputError(f"{label} must hold 0/1 decisions, got values {sorted(values)[:5]}; "
                                     f"threshold scores first")
    if len(set(s.tolist())) < 2:
        raise FairnessInputError("only one group present: parity needs at least two groups")
    rates = _rates(yt, yp, s)
    sel, tpr, fpr = rates["selection_rate"], rates["true_positive_rate"], rates["false_positive_rate"]
    tpr_ratio, fpr_ratio = _ratio(tpr), _ratio(fpr)
    ratios = [r for r in (tpr_ratio, fpr_ratio) if not math.isnan(r)]
    return {
        "demographic_parity_difference": _diff(sel),
        "demographic_parity_ratio": _ratio(sel),
        "equalized_odds_difference": max(_diff(tpr), _diff(fpr)),
        "equalized_odds_ratio": min(ratios) if ratios else float("nan"),
        "true_positive_rate_difference": _diff(tpr),
        "false_positive_rate_difference": _diff(fpr),
        "by_group": rates,
    }


@dataclass
class FourFifthsScreen:
    """The outcome of the four-fifths screen: per-group rates, impact ratios, flagged groups, the caveat."""

    table: "pd.DataFrame"
    flagged: list = field(default_factory=list)
    threshold: float = 0.8
    favourable: Any = 1
    note: str = FOUR_FIFTHS_NOTE

    @property
    def flags_any(self) -> bool:
        return bool(self.flagged)

    def render(self) -> str:
        lines = [f"Four-fifths SCREEN (heuristic; favourable outcome = {self.favourable!r}, "
                 f"threshold {self.threshold:.0%} of the highest group's rate):"]
        for g, row in self.table.iterrows():
            mark = "FLAG" if row["flagged"] else "ok"
            lines.append(f"  {g}: favourable rate {row['favourable_rate']:.3f}, impact ratio "
                         f"{row['impact_ratio']:.3f} [{mark}]")
        lines.append(self.note)
        return "\n".join(lines)


def four_fifths_screen(y_pred, sensitive, *, favourable=1, threshold: float = 0.8) -> FourFifthsScreen:
    """Screening heuristic (not a test of fairness): flag groups whose favourable-outcome rate is below
    `threshold` (0.8) times the highest group's rate, per 29 CFR 1607.4(D).

    Why it exists: reviewers ask for it, and showing it next to its caveat teaches what it is. Set
    `favourable` to the outcome that benefits the person: approval (1) for credit; for a fraud flag the
    favourable outcome is *not* being flagged (0). fairlearn's documentation warns the rule is often
    misapplied; see FOUR_FIFTHS_NOTE.
    """
    import numpy as np
    import pandas as pd

    yp = np.asarray(y_pred)
    s = np.asarray(sensitive)
    _arrays(yp, yp, s)
    if not 0 < threshold <= 1:
        raise FairnessInputError(f"threshold={threshold!r} must be in (0, 1]; the rule uses 0.8")
    groups = sorted(set(s.tolist()), key=str)
    if len(groups) < 2:
        raise FairnessInputError("only one group present: the screen compares at least two groups")
    rate = {g: float((yp[s == g] == favourable).mean()) for g in groups}
    top = max(rate.values())
    if top == 0:
        raise FairnessInputError(f"no group ever receives the favourable outcome {favourable!r}; check "
                                 f"`favourable` (approval=1 for credit, not-flagged=0 for fraud)")
    table = pd.DataFrame({"favourable_rate": rate, "impact_ratio": {g: r / top for g, r in rate.items()}})
    table["flagged"] = table["impact_ratio"] < threshold
    table.index.name = getattr(sensitive, "name", None) or "group"
    return FourFifthsScreen(table, [g for g in groups if table.loc[g, "flagged"]], threshold, favourable)


def reweighing_weights(y_true, sensitive):
    """Sample weights that make the label independent of the group in the training data (Kamiran & Calders 2012).

    w(g, y) = P(g) P(y) / P(g, y): rows of a (group, label) cell that is rarer than independence predicts
    weigh more. Why: a mitigation that uses the protected attribute only while *fitting*; the fitted model
    takes no group input, so decisions do not depend on the attribute directly (unlike per-group
    thresholds). Proxies can still carry it: audit the result.
    """
    import numpy as np
    import pandas as pd

    yt, _, s = _arrays(y_true, y_true, sensitive)
    frame = pd.DataFrame({"g": s, "y": yt})
    n = len(frame)
    p_g = frame.groupby("g")["y"].transform("size") / n
    p_y = frame.groupby("y")["g"].transform("size") / n
    p_gy = frame.groupby(["g", "y"])["y"].transform("size") / n
    return np.asarray(p_g * p_y / p_gy, dtype=float)


def threshold_optimizer_flags(estimator, X_fit, y_fit, sensitive_fit, X, sensitive, *,
                              constraints: str = "equalized_odds", seed: int = 0):
    """Flags from fairlearn's ThresholdOptimizer on a fitted scoring model: per-group (randomised) thresholds.

    Why it is shown and why it is rarely usable: it equalises the chosen rates exactly, but it needs the
    protected attribute *at decision time* and randomises some decisions; for credit that is treating
    applicants differently by age. Returns 0/1 flags for X.
    """
    import numpy as np
    from fairlearn.postprocessing import ThresholdOptimizer

    mitigator = ThresholdOptimizer(estimator=estimator, constraints=constraints, objective="balanced_accuracy_score",
                                   prefit=True, predict_method="predict_proba")
    mitigator.fit(X_fit, y_fit, sensitive_features=sensitive_fit)
    return np.asarray(mitigator.predict(X, sensitive_features=sensitive, random_state=seed)).astype(int)


def _fpr(y_true, y_pred) -> float:
    """False-positive rate by counting (fast inside a bootstrap). NaN without negatives, so the interval skips
    such a resample (fairlearn's false_positive_rate returns 0 there)."""
    import numpy as np

    neg = np.asarray(y_true) == 0
    return float((np.asarray(y_pred)[neg] == 1).mean()) if neg.any() else float("nan")


def compare_mitigations(y_true, flags: Mapping[str, Any], sensitive, *, cost: Callable | None = None,
                        favourable=1, attribute_at_decision: Mapping[str, bool] | None = None,
                        n_boot: int = 200, seed: int = 0) -> "pd.DataFrame":
    """One row per way of deciding (before and after each mitigation): parity, the four-fifths screen, the
    false-positive-rate gap with its bootstrap interval, and the cost.

    Why one table: a mitigation is judged on all of it at once: does the gap close beyond noise, does the
    screen still flag a group, what does it cost, and does it need the protected attribute when deciding
    (`attribute_at_decision`, by name). `cost(y, flags)` returns the expected cost per decision; the
    table shows it per 1,000 decisions. `favourable` is the outcome that benefits the person (0 = not
    flagged / approved when a flag is adverse).
    """
    import pandas as pd

    if not flags:
        raise FairnessInputError("no flags to compare: give {name: 0/1 decisions}")
    rows = {}
    for name, flag in flags.items():
        s = parity_summary(y_true, flag, sensitive)
        ci = bootstrap_ci(_fpr, y_true, flag, sensitive, n_boot=n_boot, seed=seed)
        screen = four_fifths_screen(flag, sensitive, favourable=favourable)
        row = {"dp_difference": s["demographic_parity_difference"], "dp_ratio": s["demographic_parity_ratio"],
               "eo_difference": s["equalized_odds_difference"], "eo_ratio": s["equalized_odds_ratio"],
               "fpr_difference": float(ci.loc["difference", "estimate"]),
               "fpr_difference_lower": float(ci.loc["difference", "lower"]),
               "fpr_difference_upper": float(ci.loc["difference", "upper"]),
               "four_fifths_flagged": ", ".join(map(str, screen.flagged)) or "none"}
        if cost is not None:
            row["cost_per_1k"] = 1000 * float(cost(y_true, flag))
        if attribute_at_decision is not None:
            row["attribute_at_decision"] = bool(attribute_at_decision.get(name, False))
        rows[name] = row
    out = pd.DataFrame(rows).T
    numeric = [c for c in out.columns if c not in ("four_fifths_flagged", "attribute_at_decision")]
    out[numeric] = out[numeric].astype(float)
    return out
