"""Notebook 07's exercises accept their reference answers and refuse wrong ones with a reason."""

import numpy as np
import pandas as pd
import pytest

from lifecycle_lab.projects.p07_reviews import exercises, world
from lifecycle_lab.projects.p07_reviews import model as m


@pytest.fixture(scope="module")
def data():
    df = world.generate(seed=9, n_reviews=1200)
    train, _, test = world.stratified_split(df, 9)
    return train, test, m.vader_scores(train["text"]), m.vader_scores(test["text"])


def _passes(ex, answer):
    return ex.evaluate(answer).passed


def test_ex1_the_cutoff(data):
    train, _, scores, _ = data
    ex = exercises.vader_cutoff(scores, train["label"])
    assert _passes(ex, ex.reference)
    best = ex.reference["threshold"]
    assert _passes(ex, {"threshold": best, "accuracy": m.accuracy_at(scores, train["label"], best)})
    far = -0.9  # almost everything positive
    fb = ex.evaluate({"threshold": far, "accuracy": m.accuracy_at(scores, train["label"], far)})
    assert not fb.passed and "another cut-off reaches" in fb.render()
    assert not _passes(ex, {"threshold": best, "accuracy": ex.reference["accuracy"] - 0.05})
    assert not _passes(ex, {"threshold": "0.3", "accuracy": 0.8}) and not _passes(ex, {"threshold": 3, "accuracy": 0.8})
    assert ex.evaluate(None).status == "not attempted"


def test_ex2_where_rules_fail(data):
    _, test, _, test_scores = data
    rule = m.vader_predict(test_scores, 0.25)
    ex = exercises.where_rules_fail(test, rule)
    assert ex.reference["worst_kind"] == "sarcasm" and _passes(ex, ex.reference)
    truth = test.assign(ok=rule == test["sentiment"]).groupby("kind")["ok"].mean()  # the oracle, by hand
    assert ex.reference["accuracy"] == pytest.approx(truth.min())
    assert not _passes(ex, {**ex.reference, "worst_kind": "negation"})
    assert not _passes(ex, {**ex.reference, "accuracy": truth.min() + 0.1})
    assert not _passes(ex, {**ex.reference, "why": "because it is hard"})


def test_ex4_accuracy_from_the_feedback_table():
    answers = pd.DataFrame({"review_id": list("abcde"), "predicted_label": ["positive"] * 5})
    truth = pd.DataFrame({"review_id": list("abc"), "corrected_label": ["positive", "negative", "positive"]})
    ex = exercises.feedback_accuracy(answers, truth)
    assert ex.reference == {"accuracy": pytest.approx(2 / 3), "labelled": 3}
    assert _passes(ex, {"accuracy": 2 / 3, "labelled": 3})
    assert not _passes(ex, {"accuracy": 4 / 5, "labelled": 5})  # unlabelled rows counted as right
    assert not _passes(ex, {"accuracy": 2 / 5, "labelled": 5})  # unlabelled rows counted as wrong


def test_ex5_what_the_corrections_reveal():
    labelled = pd.DataFrame({"product": ["smart ring", "smart ring", "kettle", "kettle", "kettle", "kettle"],
                             "predicted_label": ["positive", "negative", "positive", "positive", "negative", "negative"],
                             "corrected_label": ["negative", "negative", "positive", "positive", "negative", "positive"]})
    ex = exercises.error_rates_by_product(labelled)
    assert ex.reference == {"error_new": pytest.approx(0.5), "error_existing": pytest.approx(0.25)}
    assert _passes(ex, {"error_new": 0.5, "error_existing": 0.25})
    assert not _passes(ex, {"error_new": 0.25, "error_existing": 0.5})
    with pytest.raises(ValueError, match="both new and existing"):
        exercises.error_rates_by_product(labelled[labelled["product"] == "kettle"])


@pytest.mark.parametrize("rule_acc, model_acc, decision", [(0.80, 0.95, "classifier"), (0.93, 0.95, "rules")])
def test_ex3_rules_or_model_follows_the_criterion(rule_acc, model_acc, decision):
    ex = exercises.rules_or_model(rule_acc, model_acc, 0.05)
    assert ex.reference["decision"] == decision and _passes(ex, ex.reference)
    other = "rules" if decision == "classifier" else "classifier"
    assert not _passes(ex, {**ex.reference, "decision": other})
    assert not _passes(ex, {**ex.reference, "gap": model_acc - rule_acc + 0.05})
    wrong_text = {**ex.reference, "reason": f"ship the {other}, not the {decision}: the accuracy gap says so clearly"}
    assert not _passes(ex, wrong_text)


def test_every_declared_exercise_has_hints_and_a_solution(data):
    train, test, scores, test_scores = data
    built = [exercises.vader_cutoff(scores, train["label"]),
             exercises.where_rules_fail(test, m.vader_predict(test_scores, 0.25)), exercises.rules_or_model(0.8, 0.9, 0.05),
             exercises.feedback_accuracy(pd.DataFrame({"review_id": ["a"], "predicted_label": ["positive"]}),
                                         pd.DataFrame({"review_id": ["a"], "corrected_label": ["positive"]})),
             exercises.error_rates_by_product(pd.DataFrame({"product": ["smart ring", "kettle"],
                                                            "predicted_label": ["positive"] * 2,
                                                            "corrected_label": ["positive"] * 2}))]
    assert [ex.var for ex in built] == exercises.EXERCISES.ids == ["ex1", "ex2", "ex3", "ex4", "ex5"]
    assert all(ex.hints and ex.solution_text for ex in built)
    assert np.isfinite(built[0].reference["threshold"])
