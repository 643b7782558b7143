"""The beginner notebook's exercises: right answers pass, wrong ones fail with a reason, stubs are 'not attempted'."""

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, f1_score

from lifecycle_lab import mltestscore
from lifecycle_lab.exercises import CORRECT, INCORRECT, NOT_ATTEMPTED
from lifecycle_lab.exercises import tickets as ex
from lifecycle_lab.scenarios import tickets

CLASSES = list(tickets.CLASSES)


@pytest.fixture(scope="module")
def preds():
    rng = np.random.default_rng(4)
    y = rng.choice(CLASSES, size=300, p=[0.45, 0.35, 0.2])
    pred = np.where(rng.random(300) < 0.8, y, rng.choice(CLASSES, size=300))
    conf = np.round(np.where(pred == y, rng.uniform(0.5, 1, 300), rng.uniform(0.34, 0.9, 300)), 3)
    return y, pred, conf


def test_macro_f1_exercise(preds):
    y, pred, _ = preds
    e = ex.macro_f1(y, pred, CLASSES)
    cm = confusion_matrix(y, pred, labels=CLASSES)
    tp = np.diag(cm)
    right = float(np.mean(2 * tp / (2 * tp + cm.sum(0) - tp + cm.sum(1) - tp)))
    assert e.evaluate(right).status == CORRECT
    assert e.evaluate(float(np.mean(y == pred))).status == INCORRECT  # accuracy is not macro-F1
    assert e.evaluate(f1_score(y, pred, average="micro")).status == INCORRECT
    assert e.evaluate(None).status == NOT_ATTEMPTED


def test_keyword_exercise():
    e = ex.keyword_baseline(tickets.KEYWORDS)
    assert e.evaluate(tickets.keyword_rule).status == CORRECT
    case_sensitive = lambda t: "Billing" if "invoice" in t or "refund" in t or "charge" in t else (  # noqa: E731
        "Technical Issue" if "error" in t or "broken" in t else "General Inquiry")
    wrong = e.evaluate(case_sensitive)
    assert wrong.status == INCORRECT and any("INVOICE" in p for p in wrong.problems)

    def stub(text):
        raise NotImplementedError

    assert e.evaluate(stub).status == NOT_ATTEMPTED


def test_review_threshold_exercise(preds):
    from lifecycle_lab import evaluate

    y, pred, conf = preds
    best = evaluate.review_threshold(y, pred, conf, 0.9)
    ref = {"threshold": best.threshold, "automated_share": best.coverage}
    e = ex.review_threshold(y, pred, conf, 0.9, reference=ref)
    assert e.evaluate(ref).status == CORRECT
    too_low = e.evaluate({"threshold": 0.4, "automated_share": float((conf >= 0.4).mean())})
    assert too_low.status == INCORRECT and "below the target" in too_low.problems[0]
    too_high = e.evaluate({"threshold": 0.999, "automated_share": float((conf >= 0.999).mean())})
    assert too_high.status == INCORRECT and "automates only" in too_high.problems[0]
    bad_share = e.evaluate({"threshold": best.threshold, "automated_share": 0.01})
    assert bad_share.status == INCORRECT and "recompute" in bad_share.problems[0]
    assert e.evaluate({"threshold": None, "automated_share": None}).status == NOT_ATTEMPTED


def test_schema_exercise():
    from lifecycle_lab.scenarios.csvload import check_row, ticket_schema

    e = ex.schema_check()
    schema = ticket_schema()
    assert e.evaluate(lambda row: check_row(schema, row)).status == CORRECT
    lenient = e.evaluate(lambda row: None if row.get("text") else "text is empty")
    assert lenient.status == INCORRECT and len(lenient.problems) >= 3  # misses length, type, label, id


def test_p99_exercise():
    lat = np.random.default_rng(2).gamma(2, 3, size=500)
    e = ex.p99(lat)
    assert e.evaluate(float(np.percentile(lat, 99))).status == CORRECT
    assert e.evaluate(float(np.percentile(lat, 95))).status == INCORRECT
    assert e.evaluate(float(np.sort(lat)[int(0.99 * len(lat))])).status == INCORRECT  # nearest rank differs


def test_ml_test_score_exercise():
    evidence = mltestscore.BEGINNER_SYSTEM
    e = ex.ml_test_score_section("infrastructure", evidence)
    assert e.evaluate(e.reference).status == CORRECT
    ids = mltestscore.section_tests("infrastructure")
    generous = {**e.reference, "scores": {t: 1 for t in ids}, "section_sum": 7}
    fb = e.evaluate(generous)
    assert fb.status == INCORRECT and any("infrastructure_6" in p for p in fb.problems)
    done = e.evaluate({**e.reference, "next_tests": ["infrastructure_1", "model_2", "model_3"]})
    assert done.status == INCORRECT and any("already automated" in p for p in done.problems)
    assert e.evaluate({"scores": {t: None for t in ids}, "section_sum": None, "next_tests": [], "why": ""}).status \
        == NOT_ATTEMPTED
