"""Every parameter value notebook 07 accepts runs (as issue 15 asks of every notebook), checked through the cheap
parts of the notebook's scenario, not whole runs: the declaration's feasibility check either refuses a combination
up front (naming the parameter and the fix) or every exercise factory builds on that combination's data and
accepts its own reference answer."""

import pytest

from lifecycle_lab.base.params import ParameterError
from lifecycle_lab.evaluation import metrics
from lifecycle_lab.projects import p07_reviews as project
from lifecycle_lab.projects.p07_reviews import exercises, world
from lifecycle_lab.projects.p07_reviews import model as m
from lifecycle_lab.projects.p07_reviews.parameters import PARAMETERS

SEEDS = range(10)


def test_the_project_exports_its_declarations():
    assert project.NOTEBOOK == PARAMETERS.notebook == project.EXERCISES.notebook == "07_beginner_review_sentiment"
    assert project.PARAMETERS is PARAMETERS and project.exercises.EXERCISES is project.EXERCISES
    assert [a.file for a in project.ARTEFACTS] == ["rules_or_model.md"]


def _outcome(**overrides):
    """The ParameterError refusing the combination, or None once every factory built and passed its reference
    on the data the notebook would make (the served predictions come from the model in process here; the
    serving tests show the API answers the same)."""
    try:
        P = PARAMETERS.check_overrides(overrides)
    except ParameterError as error:
        return error
    data = world.generate(seed=P.seed, n_reviews=P.n_reviews, label_noise=P.label_noise)
    train, val, test = world.stratified_split(data, P.seed)
    train_scores = m.vader_scores(train["text"])
    cutoff, _ = m.best_vader_threshold(train_scores, train["label"])
    rule_test = m.vader_predict(m.vader_scores(test["text"]), cutoff)
    clf = m.build_classifier(P.seed).fit(train["text"], train["label"])
    metrics.review_threshold(val["label"], clf.predict(val["text"]), clf.predict_proba(val["text"]).max(axis=1),
                             P.review_precision)
    served = world.served_reviews(P.seed, P.n_requests, P.new_product_share)
    answers = served[["review_id", "product"]].assign(predicted_label=clf.predict(served["text"]))
    arrived = world.corrections(served, P.seed, P.correction_share)
    labelled = answers.merge(arrived, on="review_id")
    built = [exercises.vader_cutoff(train_scores, train["label"]), exercises.where_rules_fail(test, rule_test),
             exercises.feedback_accuracy(answers, arrived), exercises.error_rates_by_product(labelled),
             exercises.rules_or_model(m.scores(test["sentiment"], rule_test)["accuracy"],
                                      m.scores(test["sentiment"], clf.predict(test["text"]))["accuracy"], P.min_gain)]
    for exercise in built:
        assert exercise.evaluate(exercise.reference).passed, (overrides, exercise.name)
    return None


@pytest.mark.parametrize("seed", SEEDS)
def test_every_seed_runs_at_default_sizes(seed):
    assert _outcome(seed=seed) is None


@pytest.mark.parametrize("seed", range(5))
def test_every_seed_runs_fast(seed):
    assert _outcome(seed=seed, fast=True) is None


@pytest.mark.parametrize("overrides", [
    dict(n_reviews=400), dict(label_noise=0.0), dict(label_noise=0.3), dict(min_gain=0.0), dict(min_gain=0.5),
    dict(review_precision=0.5), dict(review_precision=0.99), dict(n_requests=50, new_product_share=0.5),
    dict(n_requests=5000, new_product_share=0.8), dict(n_requests=5000, new_product_share=0.05),
    dict(new_product_share=0.05), dict(correction_share=0.1)])
def test_the_bounds_run_or_are_refused_up_front_naming_the_fix(overrides):
    refused = []
    for seed in (0, 1):
        error = _outcome(seed=seed, **overrides)
        if error is not None:
            assert "raise n_requests or correction_share" in str(error) or "raise n_reviews" in str(error), str(error)
            refused.append(seed)
    assert len(refused) <= 1, f"{overrides} refused for seeds {refused}: the bound is not a usable value"


def test_a_large_world_runs():
    assert _outcome(seed=0, n_reviews=20_000) is None


def test_too_few_corrections_of_a_product_group_are_refused():
    for overrides in (dict(n_requests=50, new_product_share=0.05), dict(n_requests=50, correction_share=0.1)):
        with pytest.raises(ParameterError, match="the feedback section needs 5 of each"):
            PARAMETERS.check_overrides(overrides)


def test_fast_caps_and_bounds():
    P = PARAMETERS.check_overrides({"fast": True})
    assert (P.n_reviews, P.n_requests) == (1200, 200)
    for bad, name in ((dict(n_reviews=399), "n_reviews=399"), (dict(label_noise=0.4), "label_noise=0.4"),
                      (dict(correction_share=0), "correction_share=0"), (dict(seed=-1), "seed=-1")):
        with pytest.raises(ParameterError, match=name):
            PARAMETERS.check_overrides(bad)
