"""The sentiment artifact through the workbook's one service and one batch job, started from the command line:
the API and the batch job answer what the model answers in process, and the prediction log fills the feedback
table."""

import httpx
import pytest

from lifecycle_lab.evaluation import metrics
from lifecycle_lab.projects.p07_reviews import feedback, serving, world
from lifecycle_lab.projects.p07_reviews import model as m


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    out = tmp_path_factory.mktemp("reviews")
    df = world.generate(seed=7, n_reviews=800)
    train, val, _ = world.stratified_split(df, 7)
    clf = m.build_classifier(7).fit(train["text"], train["label"])
    threshold = metrics.review_threshold(val["label"], clf.predict(val["text"]),
                                         clf.predict_proba(val["text"]).max(axis=1), 0.9).threshold
    m.save_classifier(clf, out / "art", train=train, seed=7, version="3", metrics={}, review_threshold=threshold)
    reviews = world.served_reviews(7, 60)
    with serving.Service(out / "art", out / "predictions.jsonl") as service:
        answers = serving.send_requests(service.url, reviews)
        info = httpx.get(service.url + "/model").json()
        refused = httpx.post(service.url + "/predict", json={"text": ""})
    return out, clf, reviews, answers, info, refused, threshold


def test_the_shared_api_serves_the_sentiment_artifact(served):
    _, clf, reviews, answers, info, refused, threshold = served
    assert info["name"] == "review-sentiment" and info["classes"] == ["negative", "positive"]
    assert info["version"] == "3" and info["review_threshold"] == pytest.approx(threshold)
    assert list(answers["review_id"]) == list(reviews["review_id"])
    assert list(answers["predicted_label"]) == list(clf.predict(reviews["text"]))
    confidence = clf.predict_proba(reviews["text"]).max(axis=1)
    assert answers["confidence"].to_numpy() == pytest.approx(confidence, abs=1e-5)
    assert (answers["needs_review"] == (confidence < threshold)).all()
    assert refused.status_code == 422  # the service's own schema check, unchanged
    assert answers["request_id"].is_unique


def test_the_shared_batch_job_scores_the_same_reviews_the_same_way(served):
    out, clf, reviews, answers, *_ = served
    db = f"sqlite:///{out / 'batch.db'}"
    report = serving.run_batch(serving.write_batch_input(reviews, out / "in.csv"), db, out / "art",
                               ledger=out / "ledger.jsonl")
    assert report["status"] == "succeeded" and report["rows_in"] == report["rows_written"] == len(reviews)
    scored = serving.read_predictions(db)
    assert len(scored) == len(reviews) and set(scored["model_version"]) == {"3"}
    by_id = scored.set_index("review_id").loc[reviews["review_id"]]
    assert list(by_id["predicted_label"]) == list(answers["predicted_label"])
    with pytest.raises(serving.ServingError, match="is not a model artifact"):
        serving.run_batch(out / "in.csv", db, out / "missing-artifact", ledger=out / "ledger.jsonl")


def test_the_prediction_log_lands_in_the_feedback_table_once(served, tmp_path):
    out, _, reviews, answers, *_ = served
    records = feedback.read_log(out / "predictions.jsonl")
    engine = feedback.connect(f"sqlite:///{tmp_path / 'feedback.db'}")
    assert feedback.ingest_predictions(engine, records) == len(reviews)
    assert feedback.ingest_predictions(engine, records) == 0  # the same log shipped twice
    table = feedback.read_feedback(engine)
    assert sorted(table["request_id"]) == sorted(answers["request_id"])
    merged = table.merge(answers, on="request_id", suffixes=("", "_client"))
    assert (merged["predicted_label"] == merged["predicted_label_client"]).all()
    assert (merged["review_id"] == merged["review_id_client"]).all()
    assert table["corrected_label"].isna().all()


def test_the_service_refuses_to_talk_off_the_machine():
    with pytest.raises(serving.ServingError, match="this machine only"):
        serving.send_requests("http://example.com", world.served_reviews(1, 2))
