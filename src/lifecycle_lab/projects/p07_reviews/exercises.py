"""Exercises of notebook 07 (review sentiment: could rules do it, one service for two models, the feedback table).

Each factory takes the notebook's own data and computes the expected answer independently: VADER's accuracy by
scanning cut-offs, per-kind accuracy from the world's `kind` and truth, the feedback accuracy from the world's
truth and the client's own record of the answers (not from the table the learner queries).
"""

from __future__ import annotations

import numpy as np

from lifecycle_lab.exercises.core import (DecisionExercise, ExerciseError, ExerciseSet, Field, ValueExercise, as_number,
                                          not_a_number)
from lifecycle_lab.projects.p07_reviews.model import accuracy_at, best_vader_threshold, by_kind
from lifecycle_lab.projects.p07_reviews.world import KINDS, NEW_PRODUCTS

EXERCISES = ExerciseSet("07_beginner_review_sentiment")
"""The exercises of notebook 07_beginner_review_sentiment, in order."""


@EXERCISES.exercise("ex1", "the cut-off VADER needs")
def vader_cutoff(scores, labels) -> DecisionExercise:
    """Exercise 1: the compound-score cut-off with the best accuracy on the training reviews, and that accuracy."""
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels)
    best, best_acc = best_vader_threshold(scores, labels)

    def good_cutoff(value, answer) -> str | None:
        if as_number(value) is None:
            return not_a_number("the cut-off", value)
        if not -1 <= float(value) <= 1:
            return f"{float(value)} is outside VADER's compound range [-1, 1]."
        acc = accuracy_at(scores, labels, float(value))
        if acc < best_acc - 0.005:
            return (f"at {float(value):.3f} the rule is right on {acc:.3f} of the training reviews; another cut-off "
                    f"reaches {best_acc:.3f}. Try the values between neighbouring observed scores.")
        return None

    def its_accuracy(value, answer) -> str | None:
        if as_number(value) is None:
            return not_a_number("the accuracy", value)
        if as_number(answer.get("threshold")) is None:
            return None  # the cut-off's own problem is reported there
        actual = accuracy_at(scores, labels, float(answer["threshold"]))
        if abs(float(value) - actual) > 0.002:
            return f"at your cut-off the rule's accuracy on the training reviews is {actual:.3f}, not {float(value):.3f}."
        return None

    return DecisionExercise(
        {"threshold": Field("the compound score at or above which a review counts as positive", validate=good_cutoff),
         "accuracy": Field("the rule's accuracy on the training reviews at that cut-off", validate=its_accuracy)},
        reference={"threshold": best, "accuracy": best_acc},
        hints=["The rule is `positive if compound >= t`. Only cut-offs between two observed scores change anything.",
               "Sort the unique scores, take the midpoints between neighbours, and compute the accuracy at each.",
               "np.unique(scores) -> midpoints -> [(predict(scores, t) == labels).mean() for t in midpoints] -> argmax."],
        solution="s = np.unique(train_scores)\ncuts = (s[1:] + s[:-1]) / 2\n"
                 "acc = [(np.where(train_scores >= t, 'positive', 'negative') == train_labels).mean() for t in cuts]\n"
                 "answer = {'threshold': float(cuts[np.argmax(acc)]), 'accuracy': float(max(acc))}")


@EXERCISES.exercise("ex2", "where the rules fail")
def where_rules_fail(frame, predicted) -> DecisionExercise:
    """Exercise 2: the kind of review on which the rule is worst (against the truth), and its accuracy there."""
    table = by_kind(frame, predicted)
    worst = str(table.index[0])
    worst_acc = float(table["accuracy"].iloc[0])
    return DecisionExercise(
        {"worst_kind": Field("the kind of review with the lowest accuracy", choices=list(KINDS), expected=worst,
                             why="group the test reviews by `kind` and compare the share the rule gets right"),
         "accuracy": Field("the rule's accuracy on that kind", expected=worst_acc, tol=0.005,
                           why="the share of that kind's reviews whose rule prediction equals the true sentiment"),
         "why": Field("one sentence on why a lexicon fails there", min_words=6,
                      mention=["word", "words", "lexicon", "meaning", "praise", "context"])},
        reference={"worst_kind": worst, "accuracy": worst_acc,
                   "why": "a lexicon scores the words, and these reviews use praise words to mean the opposite"},
        hints=["Compare `rule == test['sentiment']` within each value of test['kind'].",
               "pandas: (test.assign(ok=rule == test['sentiment']).groupby('kind')['ok'].mean()).sort_values()",
               "The first row of the sorted table is the answer; read what its reviews look like before you explain."],
        solution="acc = test.assign(ok=rule_test == test['sentiment']).groupby('kind')['ok'].mean().sort_values()\n"
                 "answer = {'worst_kind': acc.index[0], 'accuracy': float(acc.iloc[0]),\n"
                 "          'why': 'the lexicon scores words, and sarcastic reviews use praise words to complain'}")


@EXERCISES.exercise("ex4", "accuracy from the feedback table")
def feedback_accuracy(answers, truth) -> ValueExercise:
    """Exercise 4: accuracy of the served predictions whose true label has arrived, and how many those are.

    `answers`: the request script's own record (review_id, predicted_label); `truth`: the corrections that
    arrived (review_id, corrected_label). Joined here, independently of the feedback table."""
    joined = answers.merge(truth, on="review_id", how="inner")
    expected = {"accuracy": float((joined["predicted_label"] == joined["corrected_label"]).mean()),
                "labelled": float(len(joined))}
    return ValueExercise(
        expected, rtol=1e-6, atol=1e-9,
        advice={"labelled": "count only the rows whose corrected_label is not empty",
                "accuracy": "compare predicted_label with corrected_label on the labelled rows only"},
        hints=["Rows whose label has not arrived yet have corrected_label = None: leave them out.",
               "labelled = table.dropna(subset=['corrected_label'])",
               "accuracy = (labelled.predicted_label == labelled.corrected_label).mean()"],
        solution="labelled = table.dropna(subset=['corrected_label'])\n"
                 "answer = {'accuracy': float((labelled.predicted_label == labelled.corrected_label).mean()),\n"
                 "          'labelled': len(labelled)}")


@EXERCISES.exercise("ex5", "what the corrections reveal")
def error_rates_by_product(labelled) -> ValueExercise:
    """Exercise 5: error rates of the labelled feedback rows, on products launched after training and on the rest."""
    wrong = labelled["predicted_label"] != labelled["corrected_label"]
    new = labelled["product"].isin(NEW_PRODUCTS)
    if not new.any() or new.all():
        raise ExerciseError("the labelled rows need reviews of both new and existing products; raise n_requests or "
                         "new_product_share")
    expected = {"error_new": float(wrong[new].mean()), "error_existing": float(wrong[~new].mean())}
    return ValueExercise(
        expected, rtol=1e-6, atol=1e-9,
        hints=[f"The products launched after training are {NEW_PRODUCTS}.",
               "new = labelled['product'].isin(NEW_PRODUCTS); wrong = labelled.predicted_label != labelled.corrected_label",
               "error_new = wrong[new].mean(); error_existing = wrong[~new].mean()"],
        solution="new = labelled['product'].isin(NEW_PRODUCTS)\n"
                 "wrong = labelled['predicted_label'] != labelled['corrected_label']\n"
                 "answer = {'error_new': float(wrong[new].mean()), 'error_existing': float(wrong[~new].mean())}")


@EXERCISES.exercise("ex3", "would rules do?")
def rules_or_model(rule_accuracy: float, model_accuracy: float, min_gain: float) -> DecisionExercise:
    """Exercise 3: ship the rules or the classifier, by the criterion stated before the comparison."""
    gap = float(model_accuracy) - float(rule_accuracy)
    decision = "classifier" if gap >= min_gain else "rules"
    return DecisionExercise(
        {"gap": Field("the classifier's test accuracy minus the rule's (truth, not the annotators' labels)",
                      expected=gap, tol=0.002, why="subtract the two accuracies on the test reviews' true sentiment"),
         "decision": Field("what to ship", choices=["rules", "classifier"], expected=decision,
                           why=f"the criterion: the classifier must beat the rules by at least {min_gain} accuracy"),
         "reason": Field("two sentences: the evidence and what the loser would cost", min_words=12,
                         mention=["accuracy", "sarcasm", "factual", "errors", "gap"], justifies="decision")},
        basis="the stated criterion",
        reference={"gap": gap, "decision": decision,
                   "reason": (f"ship the classifier rather than the rules: on the true test labels it gains "
                              f"{gap:+.3f} accuracy and the criterion asks for {min_gain}; a lexicon misses sarcasm "
                              f"and factual complaints, errors a product team would act on." if decision == "classifier"
                              else f"ship the rules, not the classifier: its accuracy gap of {gap:+.3f} is below "
                                   f"the criterion of {min_gain}, and the rules are cheaper to run and explain.")},
        hints=["Use the accuracies against `sentiment` (the truth), not against the noisy `label`.",
               f"gap = model accuracy - rule accuracy; the criterion was fixed before: gap >= {min_gain}.",
               "Name the option you choose, and write 'not X' or 'rather than X' for the one you reject."],
        solution="gap = results.loc['classifier', 'accuracy'] - results.loc['VADER rule', 'accuracy']\n"
                 "answer = {'gap': gap, 'decision': 'classifier' if gap >= P.min_gain else 'rules',\n"
                 "          'reason': 'ship the classifier rather than the rules: ...'}")
