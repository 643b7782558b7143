"""Notebook 00's exercise checks reject wrong or unusable answers (issue 15, item 4), and pass right ones."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, roc_auc_score

from lifecycle_lab.exercises.core import CORRECT, INCORRECT
from lifecycle_lab.projects.p00_start_here import exercises
from lifecycle_lab.projects.p00_start_here.world import urgent_ticket_scores


@pytest.fixture(scope="module")
def data():
    tickets = urgent_ticket_scores(1000, 7, 0.2)
    return tickets.urgent.to_numpy(), tickets.score.to_numpy()


def test_ex2_rejects_the_formula_that_divides_by_zero_when_nothing_is_counted():
    ex2 = exercises.f1_from_counts()
    feedback = ex2.evaluate(lambda tp, fp, fn: 2 * tp / (2 * tp + fp + fn))
    assert feedback.status == INCORRECT
    assert any("f(0, 0, 0) raised ZeroDivisionError" in p for p in feedback.problems), feedback.problems


def test_ex2_accepts_a_safe_f1_and_its_cases_agree_with_sklearn():
    ex2 = exercises.f1_from_counts()

    def f1(tp, fp, fn):
        return 0.0 if 2 * tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)

    assert ex2.evaluate(f1).status == CORRECT
    for case in ex2.cases:  # the oracle, rebuilt here from label arrays with those counts
        tp, fp, fn = case.args
        y_true, y_pred = [1] * tp + [0] * fp + [1] * fn, [1] * tp + [1] * fp + [0] * fn
        want = f1_score(y_true, y_pred, zero_division=0) if y_true else 0.0
        assert case.expected == pytest.approx(want, abs=1e-12)


def test_ex2_rejects_an_f1_that_returns_text():
    ex2 = exercises.f1_from_counts()
    safe = lambda tp, fp, fn: 0.0 if 2 * tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)  # noqa: E731
    assert ex2.evaluate(lambda tp, fp, fn: str(safe(tp, fp, fn))).status == INCORRECT


def test_ex3_rejects_a_numeric_string_with_advice_and_returns_a_usable_float(data, capsys):
    truth, scores = data
    ex3 = exercises.roc_auc(truth, scores)
    auc = roc_auc_score(truth, scores)
    got = ex3.check(f"{auc:.6f}")
    out = capsys.readouterr().out
    assert "not yet" in out and "give the number itself" in out
    assert isinstance(got, float) and f"{got:.4f}" == f"{auc:.4f}"  # the next cell formats it


def test_ex3_rejects_a_one_element_series_with_advice_and_returns_a_usable_float(data, capsys):
    truth, scores = data
    ex3 = exercises.roc_auc(truth, scores)
    got = ex3.check(pd.Series([roc_auc_score(truth, scores)]))
    out = capsys.readouterr().out
    assert "not yet" in out and "float(x)" in out
    assert isinstance(got, float) and math.isfinite(got)


def test_ex3_passes_a_numpy_number_and_returns_a_plain_float(data):
    truth, scores = data
    ex3 = exercises.roc_auc(truth, scores)
    got = ex3.check(np.float64(roc_auc_score(truth, scores)))
    assert type(got) is float


def test_ex1_rejects_text_values(data):
    truth, scores = data
    predicted = (scores >= 0.5).astype(int)
    ex1 = exercises.confusion_metrics(truth, predicted)
    right = {k: float(v) for k, v in ex1.reference.items()}
    assert ex1.evaluate(right).status == CORRECT
    assert ex1.evaluate({k: f"{v}" for k, v in right.items()}).status == INCORRECT


def test_ex4_rejects_a_threshold_given_as_text(data):
    truth, scores = data
    ex4 = exercises.threshold_memo(truth, scores, 0.75)
    right = dict(ex4.reference)
    assert ex4.evaluate(right).status == CORRECT
    feedback = ex4.evaluate({**right, "threshold": str(right["threshold"])})
    assert feedback.status == INCORRECT and any("threshold" in p and "number itself" in p for p in feedback.problems)
