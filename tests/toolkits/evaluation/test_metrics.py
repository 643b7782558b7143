"""Evaluation helpers against scikit-learn, pandas and brute force."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import classification_report, confusion_matrix, f1_score, roc_auc_score

from lifecycle_lab.evaluation import metrics as evaluate

CLASSES = ["a", "b", "c"]


@pytest.fixture
def labels():
    rng = np.random.default_rng(0)
    y = rng.choice(CLASSES, size=400, p=[0.5, 0.3, 0.2])
    pred = np.where(rng.random(400) < 0.75, y, rng.choice(CLASSES, size=400))
    proba = rng.dirichlet([1, 1, 1], size=400)
    proba[np.arange(400), [CLASSES.index(v) for v in y]] += 0.6
    proba /= proba.sum(axis=1, keepdims=True)
    return y, pred, proba


def test_per_class_report_matches_sklearn(labels):
    y, pred, _ = labels
    table = evaluate.per_class_report(y, pred, CLASSES)
    ref = classification_report(y, pred, labels=CLASSES, output_dict=True, zero_division=0)
    for cls in CLASSES:
        for metric in ("precision", "recall"):
            assert table.loc[cls, metric] == pytest.approx(ref[cls][metric])
        assert table.loc[cls, "f1"] == pytest.approx(ref[cls]["f1-score"])
        assert table.loc[cls, "support"] == ref[cls]["support"]
    assert table.loc["macro avg", "f1"] == pytest.approx(ref["macro avg"]["f1-score"])


def test_macro_f1_from_confusion_matches_sklearn(labels):
    y, pred, _ = labels
    cm = confusion_matrix(y, pred, labels=CLASSES)
    assert evaluate.macro_f1_from_confusion(cm) == pytest.approx(f1_score(y, pred, average="macro"))
    # a class never predicted nor present counts as F1 = 0 (sklearn's zero_division=0)
    cm0 = np.array([[5, 1, 0], [2, 7, 0], [0, 0, 0]])
    y0 = ["a"] * 6 + ["b"] * 9
    p0 = ["a"] * 5 + ["b"] + ["a"] * 2 + ["b"] * 7
    assert evaluate.macro_f1_from_confusion(cm0) == pytest.approx(
        f1_score(y0, p0, labels=CLASSES, average="macro", zero_division=0))
    with pytest.raises(evaluate.EvaluationInputError, match="square"):
        evaluate.macro_f1_from_confusion([[1, 2, 3]])


def test_ovr_roc_auc_matches_sklearn(labels):
    y, _, proba = labels
    auc = evaluate.ovr_roc_auc(y, proba, CLASSES)
    assert auc["macro"] == pytest.approx(roc_auc_score(y, proba, multi_class="ovr", labels=CLASSES))
    assert auc["b"] == pytest.approx(roc_auc_score(y == "b", proba[:, 1]))
    with pytest.raises(evaluate.EvaluationInputError, match="shape"):
        evaluate.ovr_roc_auc(y, proba[:, :2], CLASSES)


def test_slice_report_matches_per_slice_sklearn(labels):
    y, pred, _ = labels
    slices = np.where(np.arange(len(y)) % 3 == 0, "mobile", "web")
    table = evaluate.slice_report(y, pred, slices)
    mask = slices == "mobile"
    assert table.loc["mobile", "rows"] == mask.sum()
    assert table.loc["mobile", "macro_f1"] == pytest.approx(f1_score(y[mask], pred[mask], average="macro"))
    assert table.loc["web", "accuracy"] == pytest.approx(np.mean(y[~mask] == pred[~mask]))


def _brute_force(y, pred, conf, target):
    best = None
    for t in sorted(set(conf)):
        keep = conf >= t
        if np.mean(y[keep] == pred[keep]) >= target:
            best = t
            break
    return best


@pytest.mark.parametrize("target", [0.7, 0.8, 0.9, 0.97])
def test_review_threshold_is_the_lowest_that_meets_the_target(labels, target):
    y, pred, proba = labels
    conf = np.round(proba.max(axis=1), 2)  # rounding creates ties: the threshold keeps a whole tie group
    got = evaluate.review_threshold(y, pred, conf, target)
    want = _brute_force(y, pred, conf, target)
    if want is None:
        assert not got.feasible and got.coverage == 0.0
    else:
        assert got.feasible and got.threshold == pytest.approx(want)
        prec, cov = evaluate.auto_precision(y, pred, conf, got.threshold)
        assert got.precision == pytest.approx(prec) and got.coverage == pytest.approx(cov) and prec >= target


def test_review_threshold_infeasible_sends_everything_to_review():
    y = np.array(["a", "b", "a", "b"])
    pred = np.array(["b", "a", "b", "a"])
    got = evaluate.review_threshold(y, pred, [0.9, 0.8, 0.7, 0.6], 0.5)
    assert not got.feasible and got.threshold > 1 and got.coverage == 0.0
    with pytest.raises(evaluate.EvaluationInputError):
        evaluate.review_threshold(y, pred, [0.9, 0.8, 0.7, 0.6], 1.5)


def test_latency_percentiles_match_pandas_quantiles():
    lat = np.random.default_rng(1).lognormal(1.5, 0.6, size=1000)
    got = evaluate.latency_percentiles(lat)
    series = pd.Series(lat)
    for q in (50, 95, 99):
        assert got[f"p{q}"] == pytest.approx(series.quantile(q / 100))
    assert got["count"] == 1000 and got["mean"] == pytest.approx(series.mean())
    with pytest.raises(evaluate.EvaluationInputError, match="no latencies"):
        evaluate.latency_percentiles([])
    with pytest.raises(evaluate.EvaluationInputError, match="non-negative"):
        evaluate.latency_percentiles([1.0, -2.0])


def test_beats_needs_a_strict_margin():
    assert evaluate.beats(0.9, {"dummy": 0.2, "rules": 0.9}) == {"dummy": True, "rules": False}
    assert evaluate.beats(0.9, {"rules": 0.85}, margin=0.1) == {"rules": False}


def test_mismatched_lengths_are_refused():
    with pytest.raises(evaluate.EvaluationInputError, match="equal length"):
        evaluate.per_class_report(["a"], ["a", "b"], CLASSES)
