"""The batch job against SQLite and (when LIFECYCLE_LAB_PG_URL is set) a real PostgreSQL server.

Checked: predictions equal the model's own (oracle: predict_proba), rows_in = written + rejected, re-runs
are idempotent, a job killed with SIGKILL half-way and re-run loses nothing and duplicates nothing, and a
broken setup gives a clear error, a non-zero exit and a failed run record.
"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from lifecycle_lab import registry
from lifecycle_lab.scenarios import tickets
from lifecycle_lab.serve import batch

PG_URL = os.environ.get("LIFECYCLE_LAB_PG_URL")


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    folder = tmp_path_factory.mktemp("artifact") / "v1"
    data = tickets.generate(seed=5, n_tickets=400)
    model = tickets.build_pipeline(5).fit(data["text"], data["label"])
    registry.save_artifact(model, folder, name="tickets", version="1", training_data_sha256=tickets.data_hash(data),
                           seed=5)
    return folder


def _fresh_postgres():
    from sqlalchemy import create_engine

    engine = create_engine(PG_URL)
    batch._tables()[0].drop_all(engine)
    engine.dispose()
    return PG_URL


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'batch.db'}"
    if not PG_URL:
        pytest.skip("PostgreSQL test skipped: set LIFECYCLE_LAB_PG_URL, e.g. "
                    "postgresql+psycopg://postgres:pw@127.0.0.1:5432/lifecycle_lab_test (.ci/run does)")
    return _fresh_postgres()


def _ticket_file(tmp_path, n=700, seed=9, name="in.csv"):
    frame = tickets.unlabelled(tickets.generate(seed=seed, n_tickets=n))
    frame.loc[4, "text"] = ""
    frame.loc[40, "text"] = "y" * 2001
    frame.loc[41, "ticket_id"] = ""
    frame.loc[77, "created_at"] = "last tuesday"
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path, frame


def test_scores_every_valid_row_like_the_model_does(tmp_path, artifact, db_url):
    path, frame = _ticket_file(tmp_path)
    report = batch.run_batch(path, db_url, artifact, chunk_size=128, review_threshold=0.6)
    assert report.status == "succeeded" and report.chunks == 6
    assert (report.rows_in, report.rows_written, report.rows_rejected) == (700, 696, 4)
    preds = batch.read_table(db_url, "predictions").set_index("ticket_id")
    valid = frame.drop(index=[4, 40, 41, 77])
    assert sorted(preds.index) == sorted(valid["ticket_id"])
    model, _ = registry.load_artifact(artifact)
    proba = model.predict_proba(valid["text"].tolist())
    want_class = model.classes_[proba.argmax(axis=1)]
    got = preds.loc[valid["ticket_id"]]
    assert (got["predicted_class"].to_numpy() == want_class).all()
    assert np.allclose(got["confidence"].to_numpy(), proba.max(axis=1))
    assert (got["needs_review"].to_numpy() == (proba.max(axis=1) < 0.6)).all()
    rejects = batch.read_table(db_url, "rejects").sort_values("row_number")
    assert rejects["row_number"].tolist() == [5, 41, 42, 78]  # data rows counted from 1
    assert rejects["reason"].tolist() == ["text is empty", "text has 2001 characters, more than the limit of 2000",
                                          "ticket_id is empty",
                                          "created_at 'last tuesday' is not a date-time (use ISO format)"]
    runs = batch.read_table(db_url, "runs")
    row = runs.iloc[0]
    assert (row.status, row.rows_in, row.rows_written, row.rows_rejected) == ("succeeded", 700, 696, 4)
    assert row.finished >= row.started


def test_rerun_is_idempotent(tmp_path, artifact, db_url):
    path, _ = _ticket_file(tmp_path, n=300)
    batch.run_batch(path, db_url, artifact, chunk_size=100)
    first = batch.read_table(db_url, "predictions").sort_values("ticket_id").reset_index(drop=True)
    batch.run_batch(path, db_url, artifact, chunk_size=77)
    again = batch.read_table(db_url, "predictions").sort_values("ticket_id").reset_index(drop=True)
    assert len(again) == len(first) == 296
    pd.testing.assert_frame_equal(first.drop(columns="run_id"), again.drop(columns="run_id"))
    assert len(batch.read_table(db_url, "rejects")) == 4  # rejects are keyed too
    runs = batch.read_table(db_url, "runs")
    assert runs["status"].tolist() == ["succeeded", "succeeded"]
    assert (runs["rows_in"] == runs["rows_written"] + runs["rows_rejected"]).all()


def test_duplicate_ids_in_one_file_are_upserted_not_duplicated(tmp_path, artifact, db_url):
    frame = tickets.unlabelled(tickets.generate(seed=2, n_tickets=50))
    frame = pd.concat([frame, frame.head(5)], ignore_index=True)
    frame.to_csv(tmp_path / "dups.csv", index=False)
    report = batch.run_batch(tmp_path / "dups.csv", db_url, artifact, chunk_size=1000)
    assert report.rows_in == 55 and report.rows_written + report.rows_rejected == 55
    assert len(batch.read_table(db_url, "predictions")) == 50


def _cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "lifecycle_lab", "batch", *map(str, args)], capture_output=True,
                          text=True, **kw)


def test_killed_mid_run_then_rerun_loses_nothing_and_duplicates_nothing(tmp_path, artifact, db_url):
    path, frame = _ticket_file(tmp_path, n=1000)
    proc = subprocess.Popen([sys.executable, "-m", "lifecycle_lab", "batch", str(path), "--db", db_url,
                             "--model", str(artifact), "--chunk-size", "100", "--pause-after-chunk", "0.25"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    written = 0
    while time.monotonic() < deadline and written < 300:
        time.sleep(0.2)
        try:
            runs = batch.read_table(db_url, "runs")
            written = int(runs["rows_in"].max()) if len(runs) else 0
        except Exception:
            written = 0
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    runs = batch.read_table(db_url, "runs")
    partial = len(batch.read_table(db_url, "predictions"))
    assert runs["status"].tolist() == ["running"] and 300 <= runs["rows_in"].iloc[0] < 1000
    assert 0 < partial < 996  # committed chunks are in, the rest is not
    done = _cli(path, "--db", db_url, "--model", artifact, "--chunk-size", "100")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["rows_in"], report["rows_written"], report["rows_rejected"]) == (1000, 996, 4)
    preds = batch.read_table(db_url, "predictions")
    assert len(preds) == 996 and preds["ticket_id"].is_unique
    assert set(preds["ticket_id"]) == set(frame.drop(index=[4, 40, 41, 77])["ticket_id"])
    runs = batch.read_table(db_url, "runs")
    assert runs["status"].tolist() == ["interrupted", "succeeded"]
    assert "stopped before finishing" in runs["error"].iloc[0]


def test_missing_input_gives_a_failed_run_record(tmp_path, artifact, db_url):
    with pytest.raises(batch.BatchError, match="input file .* does not exist"):
        batch.run_batch(tmp_path / "nope.csv", db_url, artifact)
    runs = batch.read_table(db_url, "runs")
    assert runs["status"].tolist() == ["failed"] and "does not exist" in runs["error"].iloc[0]
    assert runs["finished"].notna().all()


def test_cli_failure_is_a_clear_message_and_exit_code_1(tmp_path, artifact):
    done = _cli(tmp_path / "nope.csv", "--db", f"sqlite:///{tmp_path / 'b.db'}", "--model", artifact)
    assert done.returncode == 1
    assert "input file" in done.stderr and "does not exist" in done.stderr and "Traceback" not in done.stderr


def test_tampered_artifact_fails_the_run(tmp_path, artifact, db_url):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(artifact, bad)
    with open(bad / registry.MODEL_FILE, "ab") as fh:
        fh.write(b"\x00")
    path, _ = _ticket_file(tmp_path, n=50)
    with pytest.raises(batch.BatchError, match="refusing to serve"):
        batch.run_batch(path, db_url, bad)
    runs = batch.read_table(db_url, "runs")
    assert runs["status"].tolist() == ["failed"] and "sha256" in runs["error"].iloc[0]
    assert len(batch.read_table(db_url, "predictions")) == 0


def test_file_without_the_text_column_fails_with_the_column_named(tmp_path, artifact, db_url):
    pd.DataFrame({"ticket_id": ["a"], "body": ["hello"]}).to_csv(tmp_path / "x.csv", index=False)
    with pytest.raises(batch.BatchError, match=r"lacks column\(s\) \['text'\]"):
        batch.run_batch(tmp_path / "x.csv", db_url, artifact)
    assert batch.read_table(db_url, "runs")["status"].tolist() == ["failed"]


def test_unreachable_database_is_a_clear_error_and_exit_code(tmp_path, artifact):
    path, _ = _ticket_file(tmp_path, n=20)
    done = _cli(path, "--db", "postgresql+psycopg://u:secret@127.0.0.1:9/nothing", "--model", artifact)
    assert done.returncode == 1 and "cannot reach the database" in done.stderr
    assert "secret" not in done.stderr and "***" in done.stderr  # the password is never printed
    done = _cli(path, "--db", f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}", "--model", artifact)
    assert done.returncode == 1 and "does not exist" in done.stderr
    with pytest.raises(batch.BatchError, match="not a database URL"):
        batch.run_batch(path, "not a url", artifact)
    with pytest.raises(batch.BatchError, match="chunk_size"):
        batch.run_batch(path, f"sqlite:///{tmp_path / 'ok.db'}", artifact, chunk_size=0)
