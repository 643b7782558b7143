"""The feedback table: idempotent on request id (predictions) and review id (corrections); accuracy from it agrees
with the world's truth joined independently."""

import json

import pandas as pd
import pytest

from lifecycle_lab.projects.p07_reviews import feedback, world


def _log(tmp_path, served, predicted):
    path = tmp_path / "predictions.jsonl"
    with open(path, "w") as fh:
        for i, (rid, label) in enumerate(zip(served["review_id"], predicted)):
            fh.write(json.dumps({"request_id": f"q{i}", "ticket_id": rid, "model_version": "1",
                                 "predicted_class": label, "confidence": 0.8, "ts": 1.0 + i}) + "\n")
    return path


@pytest.fixture
def table(tmp_path):
    served = world.served_reviews(5, 200)
    flip = {"positive": "negative", "negative": "positive"}
    predicted = [flip[s] if i % 5 == 0 else s for i, s in enumerate(served["sentiment"])]  # every 5th is wrong
    engine = feedback.connect(f"sqlite:///{tmp_path / 'fb.db'}")
    feedback.ingest_predictions(engine, feedback.read_log(_log(tmp_path, served, predicted)))
    return engine, served, predicted


def test_corrections_attach_once_and_accuracy_matches_the_truth(table):
    engine, served, predicted = table
    corr = world.corrections(served, 5, share=0.5)
    early = corr[corr["arrives_day"] <= 7]
    first = feedback.ingest_corrections(engine, early)
    assert first == {"changed": len(early), "unmatched": 0}
    assert feedback.ingest_corrections(engine, early) == {"changed": 0, "unmatched": 0}
    assert feedback.ingest_corrections(engine, corr)["changed"] == len(corr) - len(early)
    frame = feedback.read_feedback(engine)
    accuracy, n = feedback.labelled_accuracy(frame)
    oracle = pd.DataFrame({"review_id": served["review_id"], "predicted": predicted}).merge(corr, on="review_id")
    assert n == len(corr) == frame["corrected_label"].notna().sum()
    assert accuracy == pytest.approx((oracle["predicted"] == oracle["corrected_label"]).mean())
    assert 0.7 < accuracy < 0.9  # every fifth prediction was wrong
    by_day = feedback.accuracy_as_labels_arrive(frame)
    assert list(by_day["day"]) == list(range(1, corr["arrives_day"].max() + 1))
    assert by_day["labelled"].is_monotonic_increasing and by_day["labelled"].iloc[-1] == n
    assert by_day["accuracy"].iloc[-1] == pytest.approx(accuracy)
    day3 = oracle[oracle["arrives_day"] <= 3]
    assert by_day.set_index("day").loc[3, "accuracy"] == pytest.approx((day3["predicted"] == day3["corrected_label"]).mean())


def test_a_correction_for_a_review_never_served_is_counted_not_stored(table):
    engine, *_ = table
    stray = pd.DataFrame({"review_id": ["nope"], "corrected_label": ["positive"], "arrives_day": [2]})
    assert feedback.ingest_corrections(engine, stray) == {"changed": 0, "unmatched": 1}
    bad = stray.assign(review_id=["s000001"], corrected_label=["neutral"])
    with pytest.raises(feedback.FeedbackError, match="'neutral' is not one of"):
        feedback.ingest_corrections(engine, bad)


def test_a_later_correction_replaces_an_earlier_one(table):
    engine, served, _ = table
    rid = served["review_id"].iloc[0]
    one = pd.DataFrame({"review_id": [rid], "corrected_label": ["positive"], "arrives_day": [1]})
    assert feedback.ingest_corrections(engine, one)["changed"] == 1
    assert feedback.ingest_corrections(engine, one.assign(corrected_label=["negative"], arrives_day=[9]))["changed"] == 1
    row = feedback.read_feedback(engine).set_index("review_id").loc[rid]
    assert row["corrected_label"] == "negative" and row["corrected_day"] == 9


def test_logs_without_what_the_table_needs_are_refused_by_line(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text(json.dumps({"request_id": "a", "ticket_id": "r1", "model_version": "1", "predicted_class": "x",
                                "confidence": 0.5}) + "\n" + json.dumps({"request_id": "b"}) + "\n")
    with pytest.raises(feedback.FeedbackError, match="line 2 lacks"):
        feedback.read_log(path)
    path.write_text("not json\n")
    with pytest.raises(feedback.FeedbackError, match="line 1 is not JSON"):
        feedback.read_log(path)
    with pytest.raises(feedback.FeedbackError, match="no prediction log"):
        feedback.read_log(tmp_path / "missing.jsonl")
    empty = feedback.connect(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(feedback.FeedbackError, match="no corrected labels"):
        feedback.labelled_accuracy(feedback.read_feedback(empty))
