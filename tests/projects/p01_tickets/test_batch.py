"""The batch job against SQLite and (when LIFECYCLE_LAB_PG_URL is set) a real PostgreSQL server.

Checked: predictions equal the model's own (oracle: predict_proba), rows_in = written + rejected, re-runs
are idempotent, a job killed with SIGKILL half-way and re-run loses nothing and duplicates nothing, stale
'running' runs are marked interrupted while live ones are left alone, the review threshold comes from the
artifact, the rows rejected are exactly those `csvload.check_row` refuses after the CSV round trip
(hypothesis), and a broken setup (missing database, missing file, tampered model) gives a clear error, a
non-zero exit and a failed run record: in the runs table, or in the ledger when the database is the problem.

With LIFECYCLE_LAB_REQUIRE_POSTGRES=1 (CI sets it) a missing PostgreSQL fails the run instead of skipping.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle_lab.deployment import registry
from lifecycle_lab.projects.p01_tickets import world as tickets
from lifecycle_lab.projects.p01_tickets import batch

PG_URL = os.environ.get("LIFECYCLE_LAB_PG_URL")
REQUIRE_PG = os.environ.get("LIFECYCLE_LAB_REQUIRE_POSTGRES") == "1"
THRESHOLD = 0.6  # recorded in the test artifact


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    folder = tmp_path_factory.mktemp("artifact") / "v1"
    data = tickets.generate(seed=5, n_tickets=400)
    model = tickets.build_pipeline(5).fit(data["text"], data["label"])
    registry.save_artifact(model, folder, name="tickets", version="1", training_data_sha256=tickets.data_hash(data),
                           seed=5, review_threshold=THRESHOLD)
    return folder


def _fresh_postgres():
    from sqlalchemy import create_engine

    engine = create_engine(PG_URL)
    batch._tables()[0].drop_all(engine)
    engine.dispose()
    batch.connect(PG_URL).dispose()  # empty tables, as after a first run
    return PG_URL


def postgres_url() -> str:
    """The PostgreSQL URL, or a skip; with LIFECYCLE_LAB_REQUIRE_POSTGRES=1 a failure instead of a skip."""
    if not PG_URL:
        why = ("set LIFECYCLE_LAB_PG_URL, e.g. postgresql+psycopg://postgres:pw@127.0.0.1:5432/lifecycle_lab_test "
               "(.ci/run does)")
        if REQUIRE_PG:
            pytest.fail(f"LIFECYCLE_LAB_REQUIRE_POSTGRES=1 but no PostgreSQL to test against: {why}")
        pytest.skip(f"PostgreSQL test skipped: {why}")
    return PG_URL


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    if request.param == "sqlite":  # the database exists before the job runs, as a server database would
        url = f"sqlite:///{tmp_path / 'batch.db'}"
        batch.connect(url, create=True).dispose()
        return url
    postgres_url()
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
    report = batch.run_batch(path, db_url, artifact, chunk_size=128)  # the artifact's threshold, 0.6
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
                                          "created_at 'last tuesday' is not a date-time (use ISO format, e.g. "
                                          "2026-01-05T09:30:00)"]
    runs = batch.read_table(db_url, "runs")
    row = runs.iloc[0]
    assert (row.status, row.rows_in, row.rows_written, row.rows_rejected) == ("succeeded", 700, 696, 4)
    assert row.finished >= row.started and row.review_threshold == THRESHOLD
    assert report.review_threshold == THRESHOLD


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
    done = _cli(tmp_path / "nope.csv", "--db", f"sqlite:///{tmp_path / 'b.db'}", "--create-db", "--model", artifact)
    assert done.returncode == 1
    assert "input file" in done.stderr and "does not exist" in done.stderr and "Traceback" not in done.stderr
    failed = json.loads(done.stdout)  # the failed run's report is still the one JSON line on stdout
    assert failed["status"] == "failed" and failed["recorded_in"] == "database"
    assert batch.read_table(f"sqlite:///{tmp_path / 'b.db'}", "runs")["status"].tolist() == ["failed"]


def test_cli_logs_progress_per_chunk_to_stderr(tmp_path, artifact):
    path, _ = _ticket_file(tmp_path, n=250)
    done = _cli(path, "--db", f"sqlite:///{tmp_path / 'b.db'}", "--create-db", "--model", artifact,
                "--chunk-size", "100")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "lifecycle_lab.projects.p01_tickets.batch" in line]
    assert sum("chunk" in line and "committed" in line for line in lines) == 3
    assert "INFO" in lines[-1] and "succeeded: 250 rows in, 246 written, 4 rejected" in lines[-1]
    assert json.loads(done.stdout)["rows_in"] == 250


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


def test_unreachable_database_is_a_clear_error_an_exit_code_and_a_ledger_record(tmp_path, artifact):
    path, _ = _ticket_file(tmp_path, n=20)
    ledger = tmp_path / "ledger" / "runs_failed.jsonl"
    done = _cli(path, "--db", "postgresql+psycopg://u:secret@127.0.0.1:9/nothing", "--model", artifact,
                "--runs-ledger", ledger)
    assert done.returncode == 1 and "cannot reach the database" in done.stderr and "Traceback" not in done.stderr
    assert "secret" not in done.stderr and "***" in done.stderr  # the password is never printed
    report = json.loads(done.stdout)
    assert report["status"] == "failed" and report["recorded_in"] == str(ledger)
    (record,) = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert record["run_id"] == report["run_id"] and record["status"] == "failed"
    assert "cannot reach the database" in record["error"] and record["input"] == str(path)
    assert "secret" not in ledger.read_text() and record["db"].startswith("postgresql+psycopg://u:***@")
    assert record["finished"] >= record["started"]
    frame = batch.read_ledger(ledger)
    assert frame["run_id"].tolist() == [report["run_id"]]


def test_missing_sqlite_file_is_refused_unless_create_db(tmp_path, artifact):
    path, _ = _ticket_file(tmp_path, n=20)
    typo = tmp_path / "predictons.db"
    ledger = tmp_path / "runs_failed.jsonl"
    done = _cli(path, "--db", f"sqlite:///{typo}", "--model", artifact, "--runs-ledger", ledger)
    assert done.returncode == 1 and "does not exist" in done.stderr and "--create-db" in done.stderr
    assert not typo.exists()  # a typo never becomes a new, empty database
    assert json.loads(ledger.read_text())["error"].startswith("the SQLite database")
    done = _cli(path, "--db", f"sqlite:///{typo}", "--create-db", "--model", artifact, "--runs-ledger", ledger)
    assert done.returncode == 0, done.stderr
    assert batch.read_table(f"sqlite:///{typo}", "runs")["status"].tolist() == ["succeeded"]
    assert len(ledger.read_text().splitlines()) == 1  # only the failed run is in the ledger
    with pytest.raises(batch.BatchError, match="does not exist"):
        batch.read_table(f"sqlite:///{tmp_path / 'other.db'}", "runs")  # reading never creates one either
    assert not (tmp_path / "other.db").exists()


def test_other_setup_errors_are_clear(tmp_path, artifact):
    path, _ = _ticket_file(tmp_path, n=20)
    done = _cli(path, "--db", f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}", "--create-db", "--model", artifact)
    assert done.returncode == 1 and "folder" in done.stderr and "does not exist" in done.stderr
    with pytest.raises(batch.BatchError, match="not a database URL"):
        batch.run_batch(path, "not a url", artifact)
    with pytest.raises(batch.BatchError, match="chunk_size"):
        batch.run_batch(path, f"sqlite:///{tmp_path / 'ok.db'}", artifact, chunk_size=0, create_db=True)


def test_database_lost_mid_run_goes_to_the_ledger(tmp_path, artifact, monkeypatch):
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path / 'b.db'}"
    path, _ = _ticket_file(tmp_path, n=20)

    def lose_the_database(engine, *args, **kwargs):
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE runs"))
        raise RuntimeError("disk detached")

    monkeypatch.setattr(batch, "_score_file", lose_the_database)
    ledger = tmp_path / "runs_failed.jsonl"
    with pytest.raises(batch.BatchError, match="disk detached .*the database then failed too") as err:
        batch.run_batch(path, url, artifact, create_db=True, ledger=ledger)
    assert err.value.report.recorded_in == str(ledger)
    record = json.loads(ledger.read_text())
    assert record["status"] == "failed" and "disk detached" in record["error"] and record["model_version"] == "1"


def test_threshold_from_the_artifact_or_given_or_refused(tmp_path, artifact, db_url):
    path, frame = _ticket_file(tmp_path, n=60)
    batch.run_batch(path, db_url, artifact, review_threshold=0.9)
    preds = batch.read_table(db_url, "predictions")
    assert (preds["needs_review"] == (preds["confidence"] < 0.9)).all()
    assert batch.read_table(db_url, "runs")["review_threshold"].tolist() == [0.9]
    model, _ = registry.load_artifact(artifact)
    registry.save_artifact(model, tmp_path / "bare", name="t", version="2", training_data_sha256="x", seed=1)
    with pytest.raises(batch.BatchError, match="records no review threshold"):
        batch.run_batch(path, db_url, tmp_path / "bare")
    assert batch.read_table(db_url, "runs")["status"].tolist() == ["succeeded", "failed"]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_running_runs_are_marked_interrupted_live_ones_are_not(tmp_path, artifact, db_url):
    from sqlalchemy import create_engine

    runs_table = batch._tables()[1]
    now = datetime.now(timezone.utc)
    here = socket.gethostname()
    fake = [("killed-here", here, _dead_pid(), now),  # this host, process gone
            ("silent-elsewhere", "other-host", 1, now - timedelta(hours=2)),  # no heartbeat for 2 hours
            ("alive-here", here, os.getpid(), now),  # a concurrent run on this host, alive
            ("alive-elsewhere", "other-host", 1, now - timedelta(minutes=5))]  # recent heartbeat
    engine = create_engine(db_url)
    with engine.begin() as conn:
        for run_id, host, pid, beat in fake:
            conn.execute(runs_table.insert().values(run_id=run_id, started=beat, heartbeat=beat, status="running",
                                                    rows_in=0, rows_written=0, rows_rejected=0, host=host, pid=pid))
    engine.dispose()
    path, _ = _ticket_file(tmp_path, n=30)
    report = batch.run_batch(path, db_url, artifact)
    runs = batch.read_table(db_url, "runs").set_index("run_id")
    assert runs.loc["killed-here", "status"] == "interrupted" and "process is gone" in runs.loc["killed-here", "error"]
    assert runs.loc["silent-elsewhere", "status"] == "interrupted"
    assert "no heartbeat since" in runs.loc["silent-elsewhere", "error"]
    assert report.run_id in runs.loc["silent-elsewhere", "error"]
    assert runs.loc["alive-here", "status"] == "running" and runs.loc["alive-elsewhere", "status"] == "running"
    assert runs.loc[report.run_id, "status"] == "succeeded"


# -- one rule for a valid row: what the batch job rejects is exactly what csvload.check_row refuses ---------

cell_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\x00"), max_size=12) | \
    st.sampled_from(["", " ", "2026-01-05T09:30:00", "2026-01-05", "now", "today", "last tuesday", "x" * 2001,
                     "2026-13-01", "  T-1  ", "0042"])


@settings(max_examples=60, deadline=None, database=None)
@given(rows=st.lists(st.fixed_dictionaries({"ticket_id": cell_text, "created_at": cell_text, "text": cell_text}),
                     min_size=1, max_size=8))
def test_batch_rejects_exactly_what_check_row_refuses_after_the_csv_round_trip(rows):
    import io

    from lifecycle_lab.projects.p01_tickets import schema as csvload

    frame = pd.DataFrame(rows)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    buffer.seek(0)
    chunk = pd.read_csv(buffer, dtype=str, keep_default_na=False)  # as the batch job reads its input
    chunk = chunk.assign(_row=np.arange(1, len(chunk) + 1))
    good, bad = batch.validate_chunk(chunk)
    schema = csvload.ticket_schema(labelled=False)
    expected = {i + 1: csvload.check_row(schema, row) for i, row in enumerate(rows)}
    assert {n: reason for n, _, reason in bad} == {n: r for n, r in expected.items() if r is not None}
    assert len(good) + len(bad) == len(rows)
    assert sorted(good["_row"]) == [n for n, r in expected.items() if r is None]
