"""Exercises of the orientation notebook (00_start_here): the evaluation-metrics warm-up.

Each factory takes the notebook's own data and computes the expected answer with scikit-learn, so a
different seed gives different numbers and the checks still hold.
"""

from __future__ import annotations

from lifecycle_lab.exercises.core import (Case, DecisionExercise, ExerciseSet, Field, FunctionExercise, ValueExercise,
                                          as_number, not_a_number)

EXERCISES = ExerciseSet("00_start_here")
"""The exercises of notebook 00_start_here, in order (tests and the grader count from this)."""


@EXERCISES.exercise("ex1", "precision, recall, F1")
def confusion_metrics(y_true, y_pred) -> ValueExercise:
    """Exercise 1: precision, recall and F1 of the positive class from a confusion matrix."""
    from sklearn.metrics import f1_score, precision_score, recall_score

    expected = {
        "precision": float(precision_score(y_true, y_pred, zero_division=0)),
        "recall": float(recall_score(y_true, y_pred, zero_division=0)),
        "f1": float(f1_score(y_true, y_pred, zero_division=0)),
    }
    return ValueExercise(
        expected, rtol=1e-3,
        hints=["Read tp, fp, fn off the confusion matrix: rows are the truth, columns the prediction, "
               "and sklearn puts the positive class (1) second.",
               "precision = tp / (tp + fp); recall = tp / (tp + fn).",
               "F1 is the harmonic mean: 2 * precision * recall / (precision + recall)."],
        solution="tn, fp, fn, tp = cm.ravel()\nprecision = tp / (tp + fp)\nrecall = tp / (tp + fn)\n"
                 "answer = {'precision': precision, 'recall': recall,\n"
                 "          'f1': 2 * precision * recall / (precision + recall)}")


def _f1_oracle(tp: int, fp: int, fn: int) -> float:
    """F1 from counts via scikit-learn on label arrays built to have exactly those counts."""
    from sklearn.metrics import f1_score

    y_true = [1] * tp + [0] * fp + [1] * fn + [0]
    y_pred = [1] * tp + [1] * fp + [0] * fn + [0]
    return float(f1_score(y_true, y_pred, zero_division=0))


@EXERCISES.exercise("ex2", "f1 from counts")
def f1_from_counts() -> FunctionExercise:
    """Exercise 2: write f1(tp, fp, fn), including the cases where a denominator is zero."""
    import math

    counts = [(40, 10, 10), (90, 30, 5), (5, 0, 45), (0, 0, 7), (0, 3, 0), (1, 0, 0), (0, 0, 0)]
    whys = ["balanced errors", "many false positives", "high precision, low recall",
            "no positive predictions: precision is undefined, count it as 0",
            "no true positives at all: F1 is 0", "one perfect prediction",
            "nothing to count at all (no urgent ticket, none flagged): every denominator is 0, F1 is 0"]
    cases = [Case((tp, fp, fn), _f1_oracle(tp, fp, fn), why) for (tp, fp, fn), why in zip(counts, whys)]
    return FunctionExercise(
        cases,
        # a plain number only: a numeric string or a one-element array is not a usable F1
        compare=lambda got, want: as_number(got) is not None and math.isclose(as_number(got), want, abs_tol=1e-9),
        reference=lambda tp, fp, fn: _f1_oracle(tp, fp, fn),
        hints=["F1 = 2 tp / (2 tp + fp + fn) is the same as the harmonic mean and never divides by zero "
               "unless tp, fp and fn are all zero.",
               "Return 0.0 when 2 tp + fp + fn is 0, as scikit-learn does with zero_division=0."],
        solution="def f1(tp, fp, fn):\n    denominator = 2 * tp + fp + fn\n"
                 "    return 0.0 if denominator == 0 else 2 * tp / denominator")


@EXERCISES.exercise("ex3", "ROC-AUC by counting pairs")
def roc_auc(y_true, y_score) -> ValueExercise:
    """Exercise 3: ROC-AUC as the probability that a random positive outranks a random negative."""
    from sklearn.metrics import roc_auc_score

    return ValueExercise(
        float(roc_auc_score(y_true, y_score)), rtol=1e-6,
        hints=["Take every (positive, negative) pair of tickets and ask: did the positive get the higher score?",
               "With numpy: pos[:, None] > neg[None, :] gives a matrix of wins; ties count one half.",
               "AUC = (wins + 0.5 * ties) / (number of positives * number of negatives)."],
        solution="pos = scores[truth == 1]; neg = scores[truth == 0]\n"
                 "wins = (pos[:, None] > neg[None, :]).sum(); ties = (pos[:, None] == neg[None, :]).sum()\n"
                 "answer = (wins + 0.5 * ties) / (len(pos) * len(neg))")


def best_threshold(y_true, y_score, min_precision: float):
    """The threshold with the highest recall among those whose precision reaches min_precision."""
    import numpy as np
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(y_true, y_score)
    ok = np.flatnonzero(precision[:-1] >= min_precision)
    if ok.size == 0:
        raise ValueError(f"no threshold reaches precision {min_precision}: the best is {precision[:-1].max():.3f}; "
                         f"lower the target")
    best = ok[np.argmax(recall[:-1][ok])]
    return float(thresholds[best]), float(precision[best]), float(recall[best])


@EXERCISES.exercise("ex4", "choose the alert threshold")
def threshold_memo(y_true, y_score, min_precision: float) -> DecisionExercise:
    """Exercise 4: choose the alert threshold that meets a precision target, and say what it costs."""
    import numpy as np

    y_true = np.asarray(y_true)
    y_score = np.asarray(y_score)
    threshold, _, best_recall = best_threshold(y_true, y_score, min_precision)

    def meets_target(value, answer) -> str | None:
        if as_number(value) is None:  # "0.5" or a one-row Series would break the next cell's formatting
            return not_a_number("the threshold", value)
        flagged = y_score >= float(value)
        if not flagged.any():
            return "no ticket would be flagged at this threshold; lower it."
        precision = float(y_true[flagged].mean())
        recall = float(y_true[flagged].sum() / y_true.sum())
        if precision < min_precision:
            return (f"at {float(value):.3f} precision is {precision:.3f}, below the target {min_precision}; "
                    f"raise the threshold.")
        if recall < best_recall - 0.02:
            return (f"precision is met but recall is {recall:.3f}; a lower threshold keeps the precision "
                    f"and catches more urgent tickets (best recall {best_recall:.3f}).")
        return None

    return DecisionExercise({"threshold": Field("the score above which a ticket is flagged urgent", validate=meets_target),
         "recall": Field("the recall you get at that threshold", expected=best_recall, tol=0.02,
                         why="read it off the precision/recall table at your threshold"),
         "reason": Field("one or two sentences on the trade-off you made", min_words=8,
                         mention=["precision", "recall", "false"])},
        reference={"threshold": threshold, "recall": best_recall,
                   "reason": "the lowest threshold whose precision meets the target keeps recall as high as possible"},
        hints=["Look at the table of thresholds: keep only rows whose precision is at least the target.",
               "Among those rows take the one with the highest recall; that is the lowest such threshold.",
               "Your reason should name what you gave up: the urgent tickets you will miss (recall)."],
        solution="ok = table[table.precision >= min_precision]\nrow = ok.loc[ok.recall.idxmax()]\n"
                 "answer = {'threshold': row.threshold, 'recall': row.recall,\n"
                 "          'reason': 'lowest threshold meeting the precision target, so recall stays as high as possible'}")
