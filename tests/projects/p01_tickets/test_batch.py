"""The batch job against SQLite and (when LIFECYCLE_LAB_PG_URL is set) a real PostgreSQL server.

Checked: predictions equal the model's own (oracle: predict_proba), rows_in = written + rejected + duplicate
(a NUL byte, a ragged row, a repeated id each accounted for with its reason or count), two runs on one file
never both write (the lease; on PostgreSQL also the advisory lock), re-runs
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

from helpers import ticket_artifact
from lifecycle_lab.deployment import registry
from lifecycle_lab.projects.p01_tickets import world as tickets
from lifecycle_lab.projects.p01_tickets import batch

PG_URL = os.environ.get("LIFECYCLE_LAB_PG_URL")
REQUIRE_PG = os.environ.get("LIFECYCLE_LAB_REQUIRE_POSTGRES") == "1"
THRESHOLD = 0.6  # recorded in the test artifact


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    return ticket_artifact(tmp_path_factory.mktemp("artifact") / "v1", seed=5, n_tickets=400,
                           review_threshold=THRESHOLD)[0]


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


def test_duplicate_ids_in_one_file_are_counted_logged_and_the_last_copy_kept(tmp_path, artifact, db_url, caplog):
    frame = tickets.unlabelled(tickets.generate(seed=2, n_tickets=50))
    later = frame.head(5).assign(text=frame["text"].iloc[10:15].to_numpy())  # same ids, other texts, later
    frame = pd.concat([frame, later, later.head(1)], ignore_index=True)
    frame.to_csv(tmp_path / "dups.csv", index=False)
    with caplog.at_level("WARNING", logger="lifecycle_lab.projects.p01_tickets.batch"):
        report = batch.run_batch(tmp_path / "dups.csv", db_url, artifact, chunk_size=20)  # repeats across chunks
    assert (report.rows_in, report.rows_written, report.rows_rejected, report.rows_duplicate) == (56, 50, 0, 6)
    preds = batch.read_table(db_url, "predictions").set_index("ticket_id")
    assert len(preds) == 50
    model, _ = registry.load_artifact(artifact)
    last = frame.drop_duplicates("ticket_id", keep="last").set_index("ticket_id")
    want = model.predict_proba(last.loc[preds.index, "text"].tolist()).max(axis=1)
    assert np.allclose(preds["confidence"].to_numpy(), want)  # the last copy of each id was scored
    run = batch.read_table(db_url, "runs").iloc[0]
    assert run.rows_duplicate == 6 and run.rows_in == run.rows_written + run.rows_rejected + run.rows_duplicate
    (warning,) = [r.getMessage() for r in caplog.records if "repeat a ticket id" in r.getMessage()]
    assert "6 row(s) repeat a ticket id" in warning and "5 id(s)" in warning and f"{frame.ticket_id[0]!r} x3" in warning


def test_the_repeat_check_is_kept_per_run_in_the_database_and_emptied_when_runs_end(tmp_path, artifact, db_url):
    """The ids a run has seen live in `seen_ids` (not in the job's memory): another running run's ids never count
    as this run's repeats, a killed run's are removed by the next run, and a run leaves none of its own."""
    from sqlalchemy import create_engine, select

    frame = tickets.unlabelled(tickets.generate(seed=2, n_tickets=40))
    frame = pd.concat([frame, frame.head(3)], ignore_index=True)  # 3 repeats, in a later chunk
    frame.to_csv(tmp_path / "f.csv", index=False)
    runs, seen, now = batch._tables()[1], batch._seen_ids(), datetime.now(timezone.utc)
    engine = create_engine(db_url)
    with engine.begin() as conn:
        for run_id, status in (("alive-elsewhere", "running"), ("killed", "interrupted")):
            conn.execute(runs.insert().values(run_id=run_id, started=now, heartbeat=now, status=status, rows_in=0,
                                              rows_written=0, rows_rejected=0, host="other-host", pid=1))
            conn.execute(seen.insert(), [{"run_id": run_id, "ticket_id": t, "copies": 1} for t in frame.ticket_id[:40]])
    report = batch.run_batch(tmp_path / "f.csv", db_url, artifact, chunk_size=16)
    assert (report.rows_in, report.rows_written, report.rows_duplicate) == (43, 40, 3)
    with engine.connect() as conn:
        left = conn.execute(select(seen.c.run_id).distinct()).scalars().all()
    engine.dispose()
    assert left == ["alive-elsewhere"]  # the killed run's and this run's are gone, the live run's kept


@settings(max_examples=25, deadline=None)
@given(chunks=st.lists(st.lists(st.sampled_from([f"T-{i}" for i in range(12)]), max_size=15), max_size=6))
def test_repeats_counted_in_one_statement_equal_the_lookup_path_and_a_counter(tmp_path_factory, chunks):
    """Chunks of ids with repeats inside and across chunks: the one-statement count (INSERT ... ON CONFLICT ...
    RETURNING, SQLite here; PostgreSQL runs it in the file tests) and the portable lookup-then-upsert path give
    the oracle's repeats per chunk (every copy of an id after its first in the file) and the same stored copies.
    SEEN_BATCH is 4 here, so a chunk's ids span several statements."""
    from collections import Counter
    from unittest import mock

    from sqlalchemy import select

    url = f"sqlite:///{tmp_path_factory.mktemp('seen') / 'seen.db'}"
    engine = batch.connect(url, create=True)
    seen, so_far, want = batch._seen_ids(), Counter(), []
    for chunk in chunks:
        in_chunk = Counter(chunk)
        want.append(sum(n - (0 if so_far[i] else 1) for i, n in in_chunk.items()))
        so_far.update(in_chunk)
    got = {"statement": [], "lookup": []}
    with engine.begin() as conn, mock.patch.object(batch, "SEEN_BATCH", 4):
        for chunk in chunks:
            counted = Counter(chunk)
            rows, copies = [{"ticket_id": i} for i in counted], list(counted.values())
            got["statement"].append(batch._count_repeats(conn, "one", rows, copies))
            entries = [{"run_id": "two", "ticket_id": i, "copies": n} for i, n in counted.items()]
            got["lookup"].append(batch._count_repeats_by_lookup(conn, "two", entries) if entries else 0)
        stored = {run: dict(conn.execute(select(seen.c.ticket_id, seen.c.copies).where(seen.c.run_id == run)).all())
                  for run in ("one", "two")}
    engine.dispose()
    assert got["statement"] == got["lookup"] == want
    assert stored["one"] == stored["two"] == dict(so_far)


def _raw_file(tmp_path, body: bytes, name="raw.csv"):
    path = tmp_path / name
    path.write_bytes(body)
    return path


def test_a_nul_byte_in_an_id_or_a_text_is_rejected_not_cut(tmp_path, artifact, db_url):
    body = (b"ticket_id,created_at,text\n"
            b"A-1,,my invoice is wrong\n"
            b"Z\x00id,,my invoice is wrong\n"
            b"B-2,,the app crashes\x00 on start\n"
            b"Z,,the app crashes on start\n")
    report = batch.run_batch(_raw_file(tmp_path, body), db_url, artifact)
    assert (report.rows_in, report.rows_written, report.rows_rejected, report.rows_duplicate) == (4, 2, 2, 0)
    assert sorted(batch.read_table(db_url, "predictions")["ticket_id"]) == ["A-1", "Z"]
    rejects = batch.read_table(db_url, "rejects").sort_values("row_number")
    assert rejects["row_number"].tolist() == [2, 3] and rejects["ticket_id"].tolist() == ["Z\\x00id", "B-2"]
    assert rejects["reason"].str.contains("NUL character").all()
    assert rejects["reason"].iloc[0].startswith("ticket_id") and rejects["reason"].iloc[1].startswith("text")


def test_a_ragged_row_is_a_reject_naming_its_field_count_and_line(tmp_path, artifact, db_url):
    body = (b"ticket_id,created_at,text\n"
            b'A-1,,"a text over\ntwo lines"\n'        # lines 2-3
            b"A-2,,my invoice, it is wrong\n"         # line 4: an unquoted comma, 4 fields
            b"A-3,the app crashes\n"                  # line 5: 2 fields
            b"\n"
            b"A-4,,the app crashes on start\n")       # line 7 (a blank line is skipped)
    report = batch.run_batch(_raw_file(tmp_path, body), db_url, artifact)
    assert report.status == "succeeded"
    assert (report.rows_in, report.rows_written, report.rows_rejected) == (4, 2, 2)
    rejects = batch.read_table(db_url, "rejects").sort_values("row_number")
    assert rejects["row_number"].tolist() == [2, 3] and rejects["ticket_id"].tolist() == ["A-2", "A-3"]
    assert rejects["reason"].iloc[0].startswith("line 4 has 4 field(s) but the header has 3")
    assert rejects["reason"].iloc[1].startswith("line 5 has 2 field(s) but the header has 3")
    assert "UTF-8" not in " ".join(rejects["reason"])
    assert sorted(batch.read_table(db_url, "predictions")["ticket_id"]) == ["A-1", "A-4"]


def test_a_file_that_is_not_utf8_or_not_csv_says_which(tmp_path, artifact):
    url = f"sqlite:///{tmp_path / 'b.db'}"
    latin = _raw_file(tmp_path, "ticket_id,text\nA-1,caf\u00e9\n".encode("latin-1"), "latin.csv")
    with pytest.raises(batch.BatchError, match=r"latin.csv is not UTF-8 text: byte b'\\xe9' on line 2"):
        batch.run_batch(latin, url, artifact, create_db=True)
    empty = _raw_file(tmp_path, b"", "empty.csv")
    with pytest.raises(batch.BatchError, match="empty.csv is empty"):
        batch.run_batch(empty, url, artifact)


def _wait_running(db_url, deadline=300.0):  # generous: a loaded CI machine starts Python slowly
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        time.sleep(0.2)
        try:
            runs = batch.read_table(db_url, "runs")
        except Exception:
            continue
        live = runs[(runs["status"] == "running") & (runs["rows_in"] > 0)]
        if len(live):
            return live.iloc[0]
    raise AssertionError("the first run never started scoring")


def test_a_second_run_on_the_same_file_and_database_exits_while_the_first_writes(tmp_path, artifact, db_url):
    path, frame = _ticket_file(tmp_path, n=600)
    first = subprocess.Popen([sys.executable, "-m", "lifecycle_lab", "batch", str(path), "--db", db_url,
                              "--model", str(artifact), "--chunk-size", "100", "--pause-after-chunk", "0.5"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        holder = _wait_running(db_url)
        with pytest.raises(batch.RunLeaseError, match=f"{holder.run_id}|advisory lock") as refused:
            batch.run_batch(path, db_url, artifact, chunk_size=100)
        assert "this run wrote nothing" in str(refused.value)
        out, err = first.communicate(timeout=600)
    finally:
        first.kill()
    assert first.returncode == 0, err
    runs = batch.read_table(db_url, "runs").set_index("run_id")
    second = refused.value.report
    assert runs.loc[second.run_id, "status"] == "failed" and runs.loc[second.run_id, "rows_in"] == 0
    assert runs.loc[holder.run_id, "status"] == "succeeded" and runs.loc[holder.run_id, "rows_written"] == 596
    preds = batch.read_table(db_url, "predictions")
    assert len(preds) == 596 and set(preds["run_id"]) == {holder.run_id}  # only the first run wrote
    again = batch.run_batch(path, db_url, artifact)  # the lease is free once the first run is done
    assert again.status == "succeeded" and again.rows_written == 596


def test_a_live_lease_on_another_host_refuses_the_run_on_sqlite(tmp_path, artifact):
    from sqlalchemy import create_engine

    url = f"sqlite:///{tmp_path / 'b.db'}"
    batch.connect(url, create=True).dispose()
    path, _ = _ticket_file(tmp_path, n=30)
    now = datetime.now(timezone.utc)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(batch._tables()[1].insert().values(run_id="elsewhere", started=now, heartbeat=now,
                                                        status="running", rows_in=0, rows_written=0, rows_rejected=0,
                                                        host="other-host", pid=1, lease_key=batch.file_sha256(path)))
    engine.dispose()
    with pytest.raises(batch.RunLeaseError, match="run elsewhere .host other-host, pid 1"):
        batch.run_batch(path, url, artifact)
    other, _ = _ticket_file(tmp_path, n=31, name="other.csv")  # another file is not held
    assert batch.run_batch(other, url, artifact).status == "succeeded"


@pytest.mark.postgres
def test_postgres_advisory_lock_refuses_and_frees_a_dead_runs_lease(tmp_path, artifact):
    from sqlalchemy import create_engine, text

    url = postgres_url()
    _fresh_postgres()
    path, _ = _ticket_file(tmp_path, n=30)
    digest = batch.file_sha256(path)
    engine = create_engine(url)
    with engine.connect() as holder:  # another job's session holds the lock on this file
        holder.execute(text("SELECT pg_advisory_lock(:a, :b)"), {"a": batch.ADVISORY_LOCK_CLASS,
                                                                  "b": batch._lock_key(digest)})
        with pytest.raises(batch.RunLeaseError, match="advisory lock"):
            batch.run_batch(path, url, artifact)
        holder.execute(text("SELECT pg_advisory_unlock_all()"))
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:  # a run that died on another host a minute ago: lease row, but no lock
        conn.execute(batch._tables()[1].insert().values(run_id="dead-elsewhere", started=now, heartbeat=now,
                                                        status="running", rows_in=0, rows_written=0, rows_rejected=0,
                                                        host="other-host", pid=1, lease_key=digest))
    engine.dispose()
    report = batch.run_batch(path, url, artifact)
    runs = batch.read_table(url, "runs").set_index("run_id")
    assert report.status == "succeeded" and runs.loc["dead-elsewhere", "status"] == "interrupted"
    assert "advisory lock was free" in runs.loc["dead-elsewhere", "error"]
    with create_engine(url).connect() as conn:  # the run gave its lock back
        assert conn.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")).scalar() == 0


def test_a_database_from_before_the_lease_gets_the_new_columns(tmp_path, artifact):
    from sqlalchemy import create_engine, text

    url = f"sqlite:///{tmp_path / 'old.db'}"
    batch.connect(url, create=True).dispose()
    engine = create_engine(url)
    with engine.begin() as conn:  # the runs table as the job wrote it before
        conn.execute(text("DROP INDEX uq_runs_lease"))
        conn.execute(text("ALTER TABLE runs DROP COLUMN lease_key"))
        conn.execute(text("ALTER TABLE runs DROP COLUMN rows_duplicate"))
    engine.dispose()
    path, _ = _ticket_file(tmp_path, n=30)
    assert batch.run_batch(path, url, artifact).status == "succeeded"
    assert {"lease_key", "rows_duplicate"} <= set(batch.read_table(url, "runs").columns)


def _cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "lifecycle_lab", "batch", *map(str, args)], capture_output=True,
                          text=True, **kw)


@pytest.mark.parametrize("workers", [1, 2])
def test_killed_mid_run_then_rerun_loses_nothing_and_duplicates_nothing(tmp_path, artifact, db_url, workers):
    import psutil

    if workers > 1 and db_url.startswith("postgresql"):  # CI time: the writes are the same code on both databases
        pytest.skip("the parallel engine's kill and re-run is checked on SQLite")
    path, frame = _ticket_file(tmp_path, n=1000)
    proc = subprocess.Popen([sys.executable, "-m", "lifecycle_lab", "batch", str(path), "--db", db_url,
                             "--model", str(artifact), "--chunk-size", "100", "--pause-after-chunk", "0.25",
                             "--workers", str(workers)],
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
    scorers = psutil.Process(proc.pid).children(recursive=True)  # the scoring processes (none with 1 worker)
    assert len(scorers) == (workers if workers > 1 else 0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    gone, alive = psutil.wait_procs(scorers, timeout=10)  # they notice their parent died and exit: no orphans
    assert alive == []
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

cell_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r"), max_size=12) | \
    st.sampled_from(["", " ", "2026-01-05T09:30:00", "2026-01-05", "now", "today", "last tuesday", "x" * 2001,
                     "2026-13-01", "  T-1  ", "0042"])


@settings(max_examples=60, deadline=None, database=None)
@given(rows=st.lists(st.fixed_dictionaries({"ticket_id": cell_text, "created_at": cell_text, "text": cell_text}),
                     min_size=1, max_size=8))
def test_batch_rejects_exactly_what_check_row_refuses_after_the_csv_round_trip(rows):
    from lifecycle_lab.projects.p01_tickets import schema as csvload

    import tempfile
    from pathlib import Path

    frame = pd.DataFrame(rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.csv"
        frame.to_csv(path, index=False)
        ((chunk, ragged),) = batch.read_csv_chunks(path, chunk_size=100)  # as the batch job reads its input
    assert ragged == []
    good, bad = batch.validate_chunk(chunk.drop(columns="_line"))
    schema = csvload.ticket_schema(labelled=False)
    expected = {i + 1: csvload.check_row(schema, row) for i, row in enumerate(rows)}
    assert {n: reason for n, _, reason in bad} == {n: r for n, r in expected.items() if r is not None}
    assert len(good) + len(bad) == len(rows)
    assert sorted(good["_row"]) == [n for n, r in expected.items() if r is None]


def test_training_loads_refuse_the_same_files_with_the_real_problem_named(tmp_path):
    """schema.load_csv (notebook 01's own-data path) reads with pandas: it names a NUL, a ragged row and a
    non-UTF-8 byte instead of cutting the value or blaming the encoding."""
    from lifecycle_lab.projects.p01_tickets import schema as csvload

    labelled = csvload.ticket_schema()
    cases = {b"ticket_id,text,label\nA,ok,Billing\nZ\x00id,ok,Billing\n": r"NUL character .* on line 3",
             b"ticket_id,text,label\nA,ok,Billing\nB,my invoice, wrong,Billing\n":
                 r"not a well-formed CSV: .*Expected 3 fields in line 3, saw 4",
             "ticket_id,text,label\nA,caf\u00e9,Billing\n".encode("latin-1"): r"is not UTF-8 text \(byte b'\\xe9'",
             b"": "is empty"}
    for i, (body, says) in enumerate(cases.items()):
        path = _raw_file(tmp_path, body, f"case{i}.csv")
        with pytest.raises(csvload.SchemaError, match=says):
            csvload.load_csv(path, labelled)


def test_two_runs_taking_the_lease_at_the_same_instant_one_wins(db_url):
    """Both runs' rows exist and both try at once (a barrier): the database grants the lease to one."""
    import threading

    from sqlalchemy import create_engine

    engine = create_engine(db_url, connect_args={"timeout": 30} if db_url.startswith("sqlite") else {})
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        for run_id in ("a", "b"):
            conn.execute(batch._tables()[1].insert().values(run_id=run_id, started=now, heartbeat=now,
                                                            status="running", rows_in=0, rows_written=0,
                                                            rows_rejected=0, host=socket.gethostname(),
                                                            pid=os.getpid()))
    barrier, outcome = threading.Barrier(2), {}

    def take(run_id):
        barrier.wait()
        try:
            outcome[run_id] = batch._take_lease(engine, run_id, "f" * 64, "in.csv")
        except batch.RunLeaseError as err:
            outcome[run_id] = err

    threads = [threading.Thread(target=take, args=(r,)) for r in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    refused = [r for r, v in outcome.items() if isinstance(v, batch.RunLeaseError)]
    assert len(outcome) == 2 and len(refused) == 1, outcome
    winner = ({"a", "b"} - set(refused)).pop()
    message = str(outcome[refused[0]])
    # the loser is told who holds the file (on PostgreSQL the lock can refuse before the winner's lease is set)
    assert f"run {winner} " in message or message.startswith("another batch run holds the PostgreSQL advisory")
    batch._release(outcome[winner])
    engine.dispose()


def test_parallel_workers_write_exactly_what_one_process_writes(tmp_path, artifact, db_url):
    path, frame = _ticket_file(tmp_path, n=900)
    with open(path, "a", encoding="utf-8") as fh:  # a repeated id (in a later chunk) and a ragged row
        fh.write(f"{frame.ticket_id[3]},2026-01-05T09:30:00,the same ticket sent again\nR1,only two\n")
    oracle_db = f"sqlite:///{tmp_path / 'oracle.db'}"
    oracle = batch.run_batch(path, oracle_db, artifact, chunk_size=64, create_db=True, workers=1)
    report = batch.run_batch(path, db_url, artifact, chunk_size=64, workers=2)
    assert (report.engine, report.workers, report.status) == ("processes", 2, "succeeded")
    counts = ("rows_in", "rows_written", "rows_rejected", "rows_duplicate", "chunks")
    assert [getattr(report, c) for c in counts] == [getattr(oracle, c) for c in counts] == [902, 896, 5, 1, 15]
    for table, key in (("predictions", ["ticket_id"]), ("rejects", ["row_number"])):
        want = batch.read_table(oracle_db, table).drop(columns="run_id").sort_values(key).reset_index(drop=True)
        got = batch.read_table(db_url, table).drop(columns="run_id").sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-9)
    preds = batch.read_table(db_url, "predictions").set_index("ticket_id")
    assert preds.loc[frame.ticket_id[3], "created_at"] == "2026-01-05T09:30:00"  # the last copy won
    runs = batch.read_table(db_url, "runs")
    assert runs["rows_in"].iloc[0] == runs["rows_written"].iloc[0] + 5 + 1


def test_a_failing_worker_fails_the_run_with_its_reason_and_keeps_the_chunks_before_it(tmp_path, artifact,
                                                                                      monkeypatch):
    parent, real = os.getpid(), batch.score_chunk

    def score(model, chunk, ragged, **kw):  # forked workers inherit this: chunk 4 (rows 301-400) fails
        if os.getpid() != parent and int(chunk["_row"].iloc[0]) == 301:
            raise MemoryError("simulated: the worker ran out of memory")
        return real(model, chunk, ragged, **kw)

    monkeypatch.setattr(batch, "score_chunk", score)
    path, _ = _ticket_file(tmp_path, n=800)
    url = f"sqlite:///{tmp_path / 'w.db'}"
    with pytest.raises(batch.BatchError, match="MemoryError: simulated"):
        batch.run_batch(path, url, artifact, chunk_size=100, create_db=True, workers=2)
    runs = batch.read_table(url, "runs")
    assert runs["status"].tolist() == ["failed"] and runs["rows_in"].tolist() == [300]  # chunks 1-3, in order
    assert len(batch.read_table(url, "predictions")) == 300 - 4  # rows 5, 41, 42 and 78 are rejects
    monkeypatch.setattr(batch, "score_chunk", real)
    assert batch.run_batch(path, url, artifact, chunk_size=100, workers=2).rows_written == 796


def test_a_write_failing_mid_run_stops_the_workers_and_keeps_the_committed_chunks(tmp_path, artifact, monkeypatch):
    import psutil

    real, calls = batch._upsert, []

    def upsert(conn, table, rows, keys):  # the third chunk's write fails (disk full, lost connection...)
        calls.append(table.name)
        if calls.count("predictions") == 3:
            raise OSError("simulated: no space left on device")
        return real(conn, table, rows, keys)

    monkeypatch.setattr(batch, "_upsert", upsert)
    path, _ = _ticket_file(tmp_path, n=1000)
    url = f"sqlite:///{tmp_path / 'w.db'}"
    with pytest.raises(batch.BatchError, match="OSError: simulated: no space left"):
        batch.run_batch(path, url, artifact, chunk_size=100, create_db=True, workers=2)
    assert psutil.Process().children(recursive=True) == []  # the pool was shut down with the run
    runs = batch.read_table(url, "runs")
    assert runs["status"].tolist() == ["failed"] and runs["rows_in"].tolist() == [200]
    assert len(batch.read_table(url, "predictions")) == runs["rows_written"].iloc[0] == 200 - 4  # chunk 3 rolled back


def test_spawned_workers_load_the_artifact_themselves_and_refuse_a_swapped_one(tmp_path, artifact, monkeypatch):
    monkeypatch.setattr(batch, "START_METHOD", "spawn")  # the portable way, as on macOS and Windows
    path, _ = _ticket_file(tmp_path, n=300)
    urls = [f"sqlite:///{tmp_path / name}" for name in ("spawn.db", "oracle.db")]
    assert batch.run_batch(path, urls[0], artifact, chunk_size=100, create_db=True, workers=2).rows_written == 296
    assert batch.run_batch(path, urls[1], artifact, chunk_size=100, create_db=True, workers=1).rows_written == 296
    pd.testing.assert_frame_equal(*(batch.read_table(u, "predictions").drop(columns="run_id").sort_values("ticket_id")
                                    .reset_index(drop=True) for u in urls))
    # what a spawned worker does when the artifact it loads is not the one the run started with
    meta = registry.verify_artifact(artifact)
    monkeypatch.setattr(batch, "_watch_parent", lambda pid: None)
    monkeypatch.setattr(batch, "_WORKER", {})
    batch._init_worker(str(artifact), meta.version, "0" * 64, os.getpid())
    with pytest.raises(batch.BatchError, match="a scoring worker could not load the model: .*changed while the run"):
        batch._score_in_worker(None, [], {})
    batch._init_worker(str(artifact), "9", meta.sha256, os.getpid())
    with pytest.raises(batch.BatchError, match="could not load the model: .*version"):
        batch._score_in_worker(None, [], {})


def test_workers_and_engine_arguments_are_checked(tmp_path, artifact, capsys):
    from lifecycle_lab import cli

    path, _ = _ticket_file(tmp_path, n=50)
    url = f"sqlite:///{tmp_path / 'a.db'}"
    for bad in (0, -1, 1.5, True):
        with pytest.raises(batch.BatchError, match="workers=.* must be a whole number >= 1"):
            batch.run_batch(path, url, artifact, workers=bad, create_db=True)
    with pytest.raises(batch.BatchError, match="engine='spark'"):
        batch.run_batch(path, url, artifact, engine="spark", create_db=True)
    assert batch.usable_cores() == len(os.sched_getaffinity(0))
    code = cli.main(["batch", str(path), "--db", url, "--model", str(artifact), "--scheduler", "tcp://h:8786"])
    assert code == 2 and "add --engine dask" in capsys.readouterr().err
    report = batch.run_batch(path, url, artifact, workers=None, create_db=True)  # one chunk: scored in process
    assert report.status == "succeeded" and report.workers == batch.usable_cores()
