"""Notebook 07: the learner copy runs unattempted under another seed with fast=True, and its SUMMARY agrees with
the world's truth and with the same steps recomputed here independently (no server: the serving tests show the
API and the batch job answer what the model answers in process)."""

import pytest

from helpers import outputs_text
from lifecycle_lab.projects.p07_reviews import EXERCISES, world
from lifecycle_lab.projects.p07_reviews import model as m

pytestmark = pytest.mark.notebook

NAME = "07_beginner_review_sentiment"
SEED = 3
N_REVIEWS, N_REQUESTS = 1200, 200  # the fast caps of parameters.py


@pytest.fixture(scope="module")
def run(run_notebook):
    return run_notebook(NAME, {"seed": SEED, "fast": True}, tag="nb07-seed3")


@pytest.fixture(scope="module")
def recomputed():
    data = world.generate(seed=SEED, n_reviews=N_REVIEWS, label_noise=0.05)
    train, _, test = world.stratified_split(data, SEED)
    cutoff, _ = m.best_vader_threshold(m.vader_scores(train["text"]), train["label"])
    rule = m.vader_predict(m.vader_scores(test["text"]), cutoff)
    clf = m.build_classifier(SEED).fit(train["text"], train["label"])
    served = world.served_reviews(SEED, N_REQUESTS, 0.2)
    return cutoff, m.scores(test["sentiment"], rule), m.scores(test["sentiment"], clf.predict(test["text"])), \
        served, clf.predict(served["text"])


def test_the_learner_copy_runs_unattempted(run):
    assert outputs_text(run).count("not attempted yet") == len(EXERCISES)


def test_the_comparison_agrees_with_the_truth_recomputed(run, recomputed):
    cutoff, rule, model, *_ = recomputed
    facts = run.summary
    assert facts["vader_cutoff"] == pytest.approx(cutoff, abs=1e-4)
    assert facts["vader_accuracy"] == pytest.approx(rule["accuracy"], abs=1e-4)
    assert facts["model_accuracy"] == pytest.approx(model["accuracy"], abs=1e-4)
    assert facts["model_macro_f1"] == pytest.approx(model["macro_f1"], abs=1e-4)
    assert facts["worst_kind_for_rules"] == "sarcasm"
    assert facts["decision"] == ("classifier" if model["accuracy"] - rule["accuracy"] >= 0.05 else "rules")


def test_the_served_predictions_and_the_feedback_table_agree_with_the_truth(run, recomputed):
    *_, served, predicted = recomputed
    facts = run.summary
    assert facts["served"] == facts["feedback_rows"] == facts["batch_rows_written"] == N_REQUESTS
    assert facts["batch_agrees"] is True
    truth = served["sentiment"].to_numpy()
    assert facts["true_served_accuracy"] == pytest.approx((predicted == truth).mean(), abs=1e-4)
    arrived = world.corrections(served, SEED, 0.7)
    assert facts["corrected"] == len(arrived)
    right = dict(zip(served["review_id"], predicted == truth))
    assert facts["feedback_accuracy"] == pytest.approx(sum(right[r] for r in arrived["review_id"]) / len(arrived),
                                                       abs=1e-4)
    assert facts["error_new"] > facts["error_existing"]  # the corrections point at the new products
    folder = run.output.parent / run.output.stem
    assert "Decision: ship the" in (folder / "rules_or_model.md").read_text()
