"""Evaluation helpers shared by the practice projects: per-class and per-slice metrics, a confidence
threshold for a target precision, and latency percentiles.

Why a module: the same few numbers decide every release (is it good on each class and each slice, where
do we route to a human, is it fast enough), and each is easy to get subtly wrong (macro vs micro
averages, the threshold direction, the percentile method). Written once here and tested against
scikit-learn and numpy. numpy at module level; pandas and scikit-learn inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from lifecycle_lab.base.errors import LifecycleLabError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


class EvaluationInputError(LifecycleLabError, ValueError):
    """The inputs to a metric cannot be compared as they are."""


def _pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.ndim != 1 or p.ndim != 1 or len(t) != len(p):
        raise EvaluationInputError(f"y_true and y_pred must be 1-D and of equal length, got shapes "
                                   f"{t.shape} and {p.shape}")
    if len(t) == 0:
        raise EvaluationInputError("no rows to evaluate: y_true is empty")
    return t, p


def per_class_report(y_true, y_pred, labels: Sequence[str]) -> "pd.DataFrame":
    """Precision, recall, F1 and support per class plus a macro row: a class that fails cannot hide in an average."""
    import pandas as pd
    from sklearn.metrics import precision_recall_fscore_support

    t, p = _pair(y_true, y_pred)
    prec, rec, f1, sup = precision_recall_fscore_support(t, p, labels=list(labels), zero_division=0)
    table = pd.DataFrame({"precision": prec, "recall": rec, "f1": f1, "support": sup}, index=list(labels))
    table.loc["macro avg"] = [prec.mean(), rec.mean(), f1.mean(), sup.sum()]
    table["support"] = table["support"].astype(int)
    return table


def macro_f1_from_confusion(cm) -> float:
    """Macro-F1 from a confusion matrix (rows = truth, columns = prediction): F1_k = 2 tp / (2 tp + fp + fn)."""
    cm = np.asarray(cm, dtype=float)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] == 0:
        raise EvaluationInputError(f"a confusion matrix is square, got shape {cm.shape}")
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    denom = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    return float(f1.mean())


def slice_report(y_true, y_pred, slices, *, min_rows: int = 1) -> "pd.DataFrame":
    """Accuracy and macro-F1 per slice (ML Test Score Model 6: quality on important data slices)."""
    import pandas as pd
    from sklearn.metrics import f1_score

    t, p = _pair(y_true, y_pred)
    s = np.asarray(slices)
    if len(s) != len(t):
        raise EvaluationInputError(f"slices has {len(s)} values for {len(t)} rows; give one slice name per row")
    rows = []
    for name in sorted(set(s.tolist()), key=str):
        mask = s == name
        if mask.sum() < min_rows:
            continue
        rows.append({"slice": name, "rows": int(mask.sum()), "accuracy": float(np.mean(t[mask] == p[mask])),
                     "macro_f1": float(f1_score(t[mask], p[mask], average="macro", zero_division=0))})
    return pd.DataFrame(rows).set_index("slice")


def ovr_roc_auc(y_true, proba, classes: Sequence[str]) -> dict[str, float]:
    """One-vs-rest ROC-AUC per class and their macro mean: how well each class's score ranks, threshold-free."""
    from sklearn.metrics import roc_auc_score

    t = np.asarray(y_true)
    proba = np.asarray(proba, dtype=float)
    if proba.shape != (len(t), len(classes)):
        raise EvaluationInputError(f"proba must have shape (rows, classes) = ({len(t)}, {len(classes)}), "
                                   f"got {proba.shape}")
    out = {}
    for k, cls in enumerate(classes):
        positives = t == cls
        if positives.all() or not positives.any():
            raise EvaluationInputError(f"class {cls!r} needs both positives and negatives for ROC-AUC")
        out[cls] = float(roc_auc_score(positives.astype(int), proba[:, k]))
    out["macro"] = float(np.mean([out[c] for c in classes]))
    return out


@dataclass
class ReviewThreshold:
    """Where to route to a human: predictions with confidence below `threshold` go to review."""

    threshold: float
    precision: float      # precision of the automatically routed predictions
    coverage: float       # share of tickets routed automatically
    target: float
    feasible: bool


def auto_precision(y_true, y_pred, confidence, threshold: float) -> tuple[float, float]:
    """(precision, coverage) of the predictions kept automatic at `threshold` (confidence >= threshold)."""
    t, p = _pair(y_true, y_pred)
    c = np.asarray(confidence, dtype=float)
    keep = c >= threshold
    if not keep.any():
        return float("nan"), 0.0
    return float(np.mean(t[keep] == p[keep])), float(keep.mean())


def review_threshold(y_true, y_pred, confidence, target_precision: float) -> ReviewThreshold:
    """The lowest confidence threshold whose automatic predictions reach the target precision.

    Why the lowest: every ticket below the threshold costs a human minute, so among thresholds that meet
    the precision target we keep the one that automates the most. Candidates are the observed confidences.
    When no threshold reaches the target, everything goes to review (threshold above 1, feasible=False).
    """
    t, p = _pair(y_true, y_pred)
    c = np.asarray(confidence, dtype=float)
    if len(c) != len(t):
        raise EvaluationInputError("confidence needs one value per row")
    if not 0 < target_precision <= 1:
        raise EvaluationInputError(f"target_precision={target_precision} must be in (0, 1]")
    order = np.argsort(-c, kind="stable")
    correct = (t[order] == p[order]).astype(float)
    cum_prec = np.cumsum(correct) / np.arange(1, len(c) + 1)
    sorted_c = c[order]
    # a threshold equal to sorted_c[i] keeps every row with confidence >= it: the last index of that value
    last = np.r_[sorted_c[1:] != sorted_c[:-1], True]
    ok = np.where(last & (cum_prec >= target_precision - 1e-12))[0]
    if len(ok) == 0:
        return ReviewThreshold(float(np.nextafter(1.0, 2.0)), float("nan"), 0.0, target_precision, False)
    i = ok.max()
    return ReviewThreshold(float(sorted_c[i]), float(cum_prec[i]), float((i + 1) / len(c)), target_precision, True)


def latency_percentiles(latencies_ms, percentiles=(50, 95, 99)) -> dict[str, float]:
    """p50/p95/p99 (numpy's linear interpolation) of latencies in milliseconds, plus the count and mean."""
    arr = np.asarray(latencies_ms, dtype=float).ravel()
    if arr.size == 0:
        raise EvaluationInputError("no latencies to summarise: send some requests first")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise EvaluationInputError("latencies must be finite, non-negative milliseconds")
    out = {f"p{int(q) if float(q).is_integer() else q}": float(np.percentile(arr, q)) for q in percentiles}
    out["mean"] = float(arr.mean())
    out["count"] = int(arr.size)
    return out


def beats(model_score: float, baseline_scores: dict[str, float], margin: float = 0.0) -> dict[str, bool]:
    """Does the model beat each baseline by at least `margin`? (ML Test Score Model 5: a simpler model is not better.)"""
    return {name: bool(model_score > score + margin) for name, score in baseline_scores.items()}
