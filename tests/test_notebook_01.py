"""The beginner notebook: the learner copy runs unattempted under another seed (fast) and its conclusions
hold; a learner's own CSV with a bad column stops at once with the column named."""

import json
from pathlib import Path

import pytest
from sklearn.dummy import DummyClassifier
from sklearn.metrics import f1_score

from conftest import outputs_text

pytestmark = pytest.mark.notebook

NAME = "01_beginner_ticket_classifier"


@pytest.fixture(scope="module")
def run7(run_notebook):
    return run_notebook(NAME, {"seed": 7, "fast": True}, tag="nb01-seed7")


def test_learner_copy_runs_unattempted(run7):
    assert outputs_text(run7).count("not attempted yet") == 6


def test_model_beats_both_baselines_and_the_baselines_are_right(run7):
    from lifecycle_lab.scenarios import tickets

    facts = run7.summary
    assert facts["macro_f1_val"] > facts["rules_f1_val"] > facts["dummy_f1_val"]
    # oracle: the baselines recomputed here from the same seed with scikit-learn
    data = tickets.generate(seed=7, n_tickets=1000, label_noise=0.05)
    train, val, _ = tickets.stratified_split(data, 7)
    dummy = DummyClassifier(strategy="most_frequent").fit(train["text"], train["label"]).predict(val["text"])
    assert facts["dummy_f1_val"] == pytest.approx(f1_score(val["label"], dummy, average="macro"), abs=1e-4)
    rules = [tickets.keyword_rule(t) for t in val["text"]]
    assert facts["rules_f1_val"] == pytest.approx(f1_score(val["label"], rules, average="macro"), abs=1e-4)
    assert facts["same_predictions"] is True
    assert facts["test_auto_precision"] >= 0.85 and 0 < facts["review_threshold"] <= 1


def test_batch_runs_are_balanced_idempotent_and_monitored(run7):
    facts = run7.summary
    assert facts["batch_balanced"] and facts["batch_no_duplicates"]
    assert facts["batch_runs"] == 7 and facts["batch_failed"] == 1  # 5 nights + a retry + a missing file
    assert facts["volume_alert_runs"] == ["night_5.csv"]  # the truncated export is flagged
    from sqlalchemy import create_engine, text

    out = Path(run7.parameters["output_dir"])
    with create_engine(f"sqlite:///{out / 'batch.db'}").connect() as conn:
        rows = conn.execute(text("SELECT status, rows_in, rows_written, rows_rejected FROM runs")).fetchall()
        stored = conn.execute(text("SELECT COUNT(*), COUNT(DISTINCT ticket_id || model_version) FROM predictions")).one()
    assert all(r[1] == r[2] + r[3] for r in rows) and len(rows) == facts["batch_runs"] + 1  # + the drifted batch
    assert stored[0] == stored[1] == facts["predictions_stored"] + 600


def test_api_latency_and_logging(run7):
    facts = run7.summary
    assert facts["requests"] == 300 and facts["p99_reported"] is True
    assert facts["logged"] == 300 + 50 + 1 + 5  # measured + warm-up + one + a batch of five
    out = Path(run7.parameters["output_dir"])
    lines = (out / "predictions.jsonl").read_text().splitlines()
    assert len(lines) == facts["logged"]
    assert {"request_id", "model_version", "predicted_class", "confidence", "latency_ms"} <= set(json.loads(lines[0]))


def test_drift_and_ml_test_score(run7):
    facts = run7.summary
    assert facts["drift_stattest"].startswith("chi-square")  # reference (150 rows) <= 1,000
    assert facts["class_drift"] is True
    assert facts["mlts_final"] == min(facts["mlts_sections"].values())
    out = Path(run7.parameters["output_dir"])
    assert (out / "class_drift_report.html").stat().st_size > 10_000


def test_own_csv_with_a_bad_column_stops_with_the_column_named(notebook_out, tmp_path):
    from lifecycle_lab import paths
    from lifecycle_lab.course.runner import run_notebook
    from lifecycle_lab.scenarios import tickets

    bad = tmp_path / "mine.csv"
    tickets.generate(seed=1, n_tickets=200).rename(columns={"label": "topic"}).to_csv(bad, index=False)
    result = run_notebook(paths.NOTEBOOKS / f"{NAME}.ipynb", notebook_out / "nb01-badcsv",
                          {"tickets_csv": str(bad), "fast": True}, progress=False)
    assert result.status == "failed"
    assert "SchemaError" in result.error and "lacks column(s) ['label']" in result.error
